"""The in-memory corpus every reader returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Corpus:
    """Texts with binary sentiment labels (0 = negative, 1 = positive).

    ``label_names`` maps 0/1 back to the labels as the source spelled them
    (``__label__1``/``__label__2`` for fastText, ``1``/``2`` for the original CSV).
    """

    texts: list[str]
    labels: np.ndarray  # int8, 0 = negative, 1 = positive
    source: str
    label_names: tuple[str, str] = ("negative", "positive")
    meta: dict[str, object] = field(default_factory=dict)
    # Rows of a fixed test split (a corpus's own train/test files); None: split per repeat.
    test_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError("texts and labels differ in length")
        if self.test_mask is not None and len(self.test_mask) != len(self.labels):
            raise ValueError("test_mask and labels differ in length")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def fingerprint(self) -> str:
        """sha256 over labels and texts: the identity of the data, used as a cache key."""
        cached = self.meta.get("_fingerprint")
        if isinstance(cached, str):
            return cached
        h = hashlib.sha256()
        h.update(np.asarray(self.labels, dtype=np.int8).tobytes())
        if self.test_mask is not None:
            h.update(b"test_mask" + np.asarray(self.test_mask, dtype=bool).tobytes())
        for text in self.texts:
            h.update(text.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        digest = h.hexdigest()
        self.meta["_fingerprint"] = digest
        return digest
