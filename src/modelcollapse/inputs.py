"""What a model reads (``ModelSpec.input``), handed to the loop in the shape it expects.

A ``"counts"`` model gets rows of the cached term-count matrix, restricted to each fit's
vocabulary (:mod:`modelcollapse.scoring`). A ``"documents"`` model gets the token text of the
same rows: :class:`DocumentRows` stands in for the matrices with the same three calls, so the
loop selects, labels, fits and scores rows the same way for both, and no count matrix is built
(:func:`~modelcollapse.features.vectorize.featurize` with ``counts=False``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from modelcollapse.core.metrics import predictions
from modelcollapse.models import ModelSpec
from modelcollapse.scoring import LoopMatrices, loop_matrices

if TYPE_CHECKING:
    from modelcollapse.features.vectorize import Features


class AllText:
    """The "vocabulary" of a documents model: it reads whole documents, so nothing to restrict."""

    def restrict(self, X: np.ndarray) -> np.ndarray:
        return X


class DocumentRows:
    """The loop's matrices for a model that reads documents: rows of a NumPy array of strings."""

    sklearn_config: ClassVar[dict[str, bool]] = {}

    def __init__(self, docs_pool: np.ndarray, docs_test: np.ndarray, n_classes: int = 2) -> None:
        self.n_classes = n_classes
        self.pool = document_array(docs_pool)
        self.test = document_array(docs_test)
        self._all = AllText()

    def training_matrix(self, rows: np.ndarray, size: int) -> tuple[np.ndarray, AllText]:
        return self.pool[rows], self._all

    def predictions(self, est: BaseEstimator, vocabulary: AllText) -> tuple[np.ndarray, np.ndarray]:
        return predictions(est, self.test, self.n_classes)


def document_array(docs) -> np.ndarray:
    """Documents as a 1-D NumPy array of strings (what a documents model's ``fit`` takes)."""
    if isinstance(docs, np.ndarray) and docs.ndim == 1:
        return docs
    if sp.issparse(docs):
        raise TypeError("a documents model reads token text, not a count matrix")
    out = np.empty(len(docs), dtype=object)
    out[:] = list(docs)
    return out


def loop_inputs(
    spec: ModelSpec,
    X_pool,
    X_test,
    n_rows: int,
    fast: bool = True,
    n_classes: int = 2,
    consume: bool = False,
) -> LoopMatrices | DocumentRows:
    """The first ``n_rows`` of the pool and the test set as ``spec`` reads them: count
    matrices (fast or plain, :func:`~modelcollapse.scoring.loop_matrices`) or documents
    (:class:`DocumentRows`). ``consume``: the caller gives ``X_pool`` up (see
    :func:`~modelcollapse.scoring.loop_matrices`)."""
    if spec.input == "documents":
        return DocumentRows(document_array(X_pool)[:n_rows], X_test, n_classes)
    if isinstance(X_pool, list) or (isinstance(X_pool, np.ndarray) and X_pool.dtype.kind in "OUS"):
        raise TypeError(f"model {spec.name!r} reads a count matrix, not documents")
    X_pool = sp.csr_matrix(X_pool)
    if n_rows < X_pool.shape[0]:
        X_pool = X_pool[:n_rows]  # a copy, the loop's own
        consume = True
    return loop_matrices(X_pool, X_test, fast, n_classes, consume=consume)


def model_input(features: Features, spec: ModelSpec):
    """All rows of ``features`` as ``spec`` reads them: the count matrix, or the documents."""
    if spec.input == "documents":
        return features.document_array
    if features.X is None:
        raise ValueError("these features hold documents only; featurize with counts=True")
    return features.X


__all__ = ["AllText", "DocumentRows", "loop_inputs", "model_input"]
