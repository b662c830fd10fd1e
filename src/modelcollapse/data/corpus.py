"""The in-memory corpus every reader returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

# Binary label spellings whose class 1 means "positive" (readers code them negative = 0).
POLARITY_NAMES = frozenset({
    ("negative", "positive"), ("neg", "pos"), ("__label__1", "__label__2"), ("false", "true"),
    ("0", "1"), ("1", "2"), ("-1", "1"),
})  # fmt: skip


@dataclass(frozen=True, eq=False)
class Corpus:
    """Texts with labels of k classes, coded 0..k-1.

    ``label_names`` has the k classes as the source spelled them, in class order
    (``__label__1``/``__label__2`` for Kaggle's fastText, ``1``/``2`` for the original CSV,
    ``ham``/``spam``, ``1``..``5`` for star ratings). Binary results' "positive" columns
    count class 1, :attr:`positive_class`.
    """

    texts: list[str]
    labels: np.ndarray  # int8 class codes 0..k-1
    source: str
    label_names: tuple[str, ...] = ("negative", "positive")
    meta: dict[str, object] = field(default_factory=dict)
    # Rows of a fixed test split (a corpus's own train/test files); None: split per repeat.
    test_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError("texts and labels differ in length")
        if self.test_mask is not None and len(self.test_mask) != len(self.labels):
            raise ValueError("test_mask and labels differ in length")
        if len(self.label_names) < 2:
            raise ValueError("a corpus needs at least 2 class names")
        labels = np.asarray(self.labels)
        if len(labels) and (labels.min() < 0 or labels.max() >= len(self.label_names)):
            raise ValueError(f"labels must be class codes 0..{len(self.label_names) - 1}")

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def n_classes(self) -> int:
        return len(self.label_names)

    def class_counts(self) -> np.ndarray:
        """Rows of each class, in class order."""
        return np.bincount(np.asarray(self.labels, dtype=np.int64), minlength=self.n_classes)

    @property
    def positive_class(self) -> str | None:
        """The class that binary results' "positive" columns (predicted-positive rate, human
        positive share) count: class 1. None unless there are exactly 2 classes."""
        return self.label_names[1] if self.n_classes == 2 else None

    @property
    def is_polarity(self) -> bool:
        """Whether the two classes are spelled as negative/positive sentiment is (0/1, 1/2,
        neg/pos, ...), so "positive" means what it says."""
        return tuple(n.lower() for n in self.label_names) in POLARITY_NAMES

    def with_label_order(self, labels: tuple[str, ...], where: str = "--labels") -> Corpus:
        """This corpus with its classes coded in the order of ``labels`` (every class must be
        named, and every name a class)."""
        from modelcollapse.errors import UserError

        if tuple(labels) == self.label_names:
            return self
        missing = [n for n in self.label_names if n not in labels]
        unknown = [n for n in labels if n not in self.label_names]
        if missing or unknown:
            problem = (
                f"leaves out class {', '.join(map(repr, missing))}"
                if missing
                else f"names {', '.join(map(repr, unknown))}, not a class"
            )
            raise UserError(
                f"{problem} of {self.source} (its classes: {', '.join(self.label_names)})", where
            )
        codes = np.array([labels.index(n) for n in self.label_names], dtype=np.int8)
        meta = {k: v for k, v in self.meta.items() if k != "_fingerprint"}
        return Corpus(
            self.texts, codes[self.labels], self.source, tuple(labels), meta, self.test_mask
        )

    @property
    def fingerprint(self) -> str:
        """sha256 over class codes and texts: the identity of the data, used as a cache key.

        The class names are not hashed (binary corpora keep the fingerprints they had);
        they differ only in presentation when the codes and texts are the same.
        """
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
