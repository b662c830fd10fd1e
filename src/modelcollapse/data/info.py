"""Summaries of a review file, so a user can check the data before spending hours on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelcollapse.data.readers import read_corpus


@dataclass(frozen=True)
class LengthStats:
    """Min/median/mean/max of per-review lengths (characters or whitespace words)."""

    min: int
    median: float
    mean: float
    max: int

    @classmethod
    def of(cls, lengths: np.ndarray) -> LengthStats:
        return cls(
            min=int(lengths.min()),
            median=float(np.median(lengths)),
            mean=float(lengths.mean()),
            max=int(lengths.max()),
        )

    def __str__(self) -> str:
        return (
            f"min {self.min:,}, median {self.median:,.0f}, mean {self.mean:,.1f}, max {self.max:,}"
        )


@dataclass(frozen=True)
class DataInfo:
    """What ``modelcollapse data info`` shows: size, balance, lengths, problems, identity."""

    path: str
    format: str
    compression: str | None
    rows: int
    n_negative: int
    n_positive: int
    positive_share: float
    label_names: tuple[str, str]
    chars: LengthStats
    words: LengthStats
    duplicates: int
    conflicting_duplicates: int
    skipped: dict[str, int] = field(default_factory=dict)
    first_bad_lines: list[int] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())

    def to_rows(self) -> list[tuple[str, str]]:
        """(field, value) pairs for a two-column CLI table."""
        fmt = f"{self.format} ({self.compression})" if self.compression else self.format
        if self.skipped:
            reasons = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in self.skipped.items())
            lines = ", ".join(map(str, self.first_bad_lines))
            unit = "rows" if self.format == "parquet" else "lines"
            skipped = f"{self.n_skipped:,} ({reasons}; first bad {unit}: {lines})"
        else:
            skipped = "none"
        dups = f"{self.duplicates:,}"
        if self.conflicting_duplicates:
            dups += f" ({self.conflicting_duplicates:,} texts carry both labels)"
        return [
            ("path", self.path),
            ("format", fmt),
            ("rows", f"{self.rows:,}"),
            ("negative", f"{self.n_negative:,} (label {self.label_names[0]})"),
            ("positive", f"{self.n_positive:,} (label {self.label_names[1]})"),
            ("positive share", f"{self.positive_share:.1%}"),
            ("length, characters", str(self.chars)),
            ("length, words", str(self.words)),
            ("duplicates", dups),
            ("skipped", skipped),
            ("sha256", self.fingerprint),
        ]


def data_info(path: str | Path, **reader_kwargs: Any) -> DataInfo:
    """Read ``path`` (skipping bad lines unless told otherwise) and summarise it.

    Skipping is the default so one bad line does not hide the rest of the picture; the
    skipped lines are reported by reason with their first line numbers.
    """
    reader_kwargs.setdefault("on_error", "skip")
    corpus = read_corpus(path, **reader_kwargs)
    meta = corpus.meta
    n = len(corpus)
    n_pos = int(np.count_nonzero(corpus.labels))
    chars = np.fromiter(map(len, corpus.texts), dtype=np.int64, count=n)
    words = np.fromiter((len(t.split()) for t in corpus.texts), dtype=np.int64, count=n)
    skipped = meta.get("skipped")
    first_bad = meta.get("first_bad_lines")
    compression = meta.get("compression")
    return DataInfo(
        path=str(meta.get("path", path)),
        format=str(meta.get("format", "")),
        compression=compression if isinstance(compression, str) else None,
        rows=n,
        n_negative=n - n_pos,
        n_positive=n_pos,
        positive_share=n_pos / n,
        label_names=corpus.label_names,
        chars=LengthStats.of(chars),
        words=LengthStats.of(words),
        duplicates=_meta_int(meta, "duplicates"),
        conflicting_duplicates=_meta_int(meta, "conflicting_duplicates"),
        skipped=dict(skipped) if isinstance(skipped, dict) else {},
        first_bad_lines=list(first_bad) if isinstance(first_bad, list) else [],
        fingerprint=corpus.fingerprint,
    )


def _meta_int(meta: dict[str, object], key: str) -> int:
    value = meta.get(key)
    return value if isinstance(value, int) else 0
