"""Summaries of a review file, so a user can check the data before spending hours on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelcollapse.data.corpus import POLARITY_NAMES
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


def class_rows(
    names: tuple[str, ...] | list[str], counts: list[int], order: object = None
) -> list[tuple[str, str]]:
    """``data info`` rows for the classes: how many, each with its rows and share, and for
    two classes which one the results' "positive" columns count (class 1)."""
    total = sum(counts) or 1
    how = f", {order} order" if isinstance(order, str) else ""
    rows = [("classes", f"{len(names)}{how}")]
    for i, (name, count) in enumerate(zip(names, counts, strict=True)):
        rows.append((f"class {i}", f"{name}: {count:,} ({count / total:.1%})"))
    if len(names) == 2:
        polarity = tuple(n.lower() for n in names) in POLARITY_NAMES
        note = "" if polarity else f"; --labels {names[1]},{names[0]} swaps them"
        what = f"class 1: what 'positive' results count{note}"
        rows.append(("positive class", f"{names[1]} ({what})"))
    return rows


@dataclass(frozen=True)
class DataInfo:
    """What ``modelcollapse data info`` shows: size, classes, lengths, problems, identity."""

    path: str
    format: str
    compression: str | None
    rows: int
    label_names: tuple[str, ...]
    class_counts: tuple[int, ...]
    chars: LengthStats
    words: LengthStats
    duplicates: int
    conflicting_duplicates: int
    skipped: dict[str, int] = field(default_factory=dict)
    first_bad_lines: list[int] = field(default_factory=list)
    fingerprint: str = ""
    columns: dict[str, str | None] | None = None
    class_order: str | None = None

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    @property
    def positive_class(self) -> str | None:
        """Class 1 of two, which binary results' "positive" columns count; else None."""
        return self.label_names[1] if self.n_classes == 2 else None

    @property
    def n_negative(self) -> int:
        return self._binary()[0]

    @property
    def n_positive(self) -> int:
        return self._binary()[1]

    @property
    def positive_share(self) -> float:
        return self.n_positive / self.rows

    def _binary(self) -> tuple[int, ...]:
        if self.n_classes != 2:
            raise ValueError(f"{self.path} has {self.n_classes} classes, not 2")
        return self.class_counts

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
            dups += f" ({self.conflicting_duplicates:,} texts carry several labels)"
        columns = []
        if self.columns:
            names = [f"{k} {v!r}" for k, v in self.columns.items() if v is not None]
            columns = [("columns", ", ".join(names))]
        return [
            ("path", self.path),
            ("format", fmt),
            *columns,
            ("rows", f"{self.rows:,}"),
            *class_rows(self.label_names, list(self.class_counts), self.class_order),
            ("length, characters", str(self.chars)),
            ("length, words", str(self.words)),
            ("duplicates", dups),
            ("skipped", skipped),
            ("sha256", self.fingerprint),
        ]


def data_info(path: str | Path, **reader_kwargs: Any) -> DataInfo:
    """Read ``path`` (skipping bad lines unless told otherwise) and summarise it.

    ``reader_kwargs`` go to :func:`read_corpus` (``text_column``, ``label_column``,
    ``labels``, ``fmt``, ...).

    Skipping is the default so one bad line does not hide the rest of the picture; the
    skipped lines are reported by reason with their first line numbers.
    """
    reader_kwargs.setdefault("on_error", "skip")
    corpus = read_corpus(path, **reader_kwargs)
    meta = corpus.meta
    n = len(corpus)
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
        label_names=corpus.label_names,
        class_counts=tuple(int(c) for c in corpus.class_counts()),
        chars=LengthStats.of(chars),
        words=LengthStats.of(words),
        duplicates=_meta_int(meta, "duplicates"),
        conflicting_duplicates=_meta_int(meta, "conflicting_duplicates"),
        skipped=dict(skipped) if isinstance(skipped, dict) else {},
        first_bad_lines=list(first_bad) if isinstance(first_bad, list) else [],
        fingerprint=corpus.fingerprint,
        columns=dict(columns) if isinstance(columns := meta.get("columns"), dict) else None,
        class_order=order if isinstance(order := meta.get("class_order"), str) else None,
    )


def _meta_int(meta: dict[str, object], key: str) -> int:
    value = meta.get(key)
    return value if isinstance(value, int) else 0
