"""The matrices a self-labelling loop fits and scores on: plain scikit-learn, or fast.

``SelfLabellingLoop(fast=...)`` picks one of two interchangeable classes (:func:`loop_matrices`):

- :class:`PlainMatrices` (``fast=False``) is scikit-learn as documented: a fit's rows
  restricted to the columns they use with SciPy's ``X[:, columns]``, the test set restricted
  the same way at every step, ``est.predict_proba`` and ``est.predict`` on it.
- :class:`FastMatrices` (``fast=True``, the default) gives the same predictions (labels
  exactly, probabilities to floating-point rounding; tests/test_scoring.py) cheaper: the
  columns no drawn row uses are dropped once, the vocabulary of the first rows grows
  incrementally, columns are restricted in O(nnz) (:mod:`modelcollapse.linalg`), a
  pipeline's transformers run once per test set, a random forest's labels are the argmax
  of the probabilities it already computed (and it scores each distinct test review once,
  bit for bit as scikit-learn), a TF-IDF + logistic-regression pipeline is
  scored in closed form without a restricted copy of the test set, and scikit-learn's
  finiteness checks are skipped (count matrices are finite).

Both number a fit's columns by a :class:`Vocabulary`, which restricts any other matrix of
the pool (the rows a labeller labels) to them. With k > 2 classes (``n_classes``) both
return the (n, k) class probabilities instead of P(positive) (see
:func:`modelcollapse.core.metrics.label_scores`); the closed form is then that of a
one-vs-rest TF-IDF + logistic regression (:func:`modelcollapse.core.training.one_vs_rest`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

from modelcollapse.core.metrics import class_proba, positive_column, predictions
from modelcollapse.linalg import (
    column_rank,
    first_rows,
    renumber_columns,
    take_columns,
    unique_rows,
    used_columns,
)

# Models that score a row from that row alone, whatever else is in the batch (the trees of a
# forest, summed in a fixed order): their scores of a repeated row are the same numbers.
_TREES = (RandomForestClassifier, ExtraTreesClassifier, DecisionTreeClassifier, ExtraTreeClassifier)


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """The columns (of the pool matrix) one fit saw, sorted."""

    columns: np.ndarray
    fast: bool = False

    def restrict(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """``X[:, columns]``: rows of the pool as the fitted model sees them."""
        return take_columns(X, self.columns) if self.fast else X[:, self.columns]


class LoopMatrices(Protocol):
    """What the loop asks of its matrices (see :class:`PlainMatrices`)."""

    pool: sp.csr_matrix
    sklearn_config: ClassVar[dict[str, bool]]  # for sklearn.config_context around the loop

    def training_matrix(self, rows: np.ndarray, size: int) -> tuple[sp.csr_matrix, Vocabulary]: ...

    def predictions(
        self, est: BaseEstimator, vocabulary: Vocabulary
    ) -> tuple[np.ndarray, np.ndarray]: ...


def loop_matrices(
    X_pool: sp.spmatrix,
    X_test: sp.spmatrix,
    fast: bool = True,
    n_classes: int = 2,
    consume: bool = False,
) -> LoopMatrices:
    """The pool (rows in draw order) and the test set, restricted and scored fast or plainly.

    ``consume``: the fast path may overwrite ``X_pool``'s column indices instead of copying
    its entries (the caller made it for the loop and reads it no more)."""
    if fast:
        return FastMatrices(X_pool, X_test, n_classes, consume=consume)
    return PlainMatrices(X_pool, X_test, n_classes)


class PlainMatrices:
    """The plain scikit-learn path: SciPy column indexing, the estimator's own predictions."""

    sklearn_config: ClassVar[dict[str, bool]] = {}

    def __init__(self, X_pool: sp.spmatrix, X_test: sp.spmatrix, n_classes: int = 2) -> None:
        self.pool = sp.csr_matrix(X_pool)
        self.test = sp.csr_matrix(X_test)
        self.n_classes = n_classes

    def training_matrix(self, rows: np.ndarray, size: int) -> tuple[sp.csr_matrix, Vocabulary]:
        """``rows`` of the pool (all among its first ``size``) over the columns they use."""
        X = self.pool[rows]
        vocabulary = Vocabulary(used_columns(X))
        return vocabulary.restrict(X), vocabulary

    def predictions(
        self, est: BaseEstimator, vocabulary: Vocabulary
    ) -> tuple[np.ndarray, np.ndarray]:
        """P(positive) (k > 2: the class probabilities) and the predicted label of every test
        row."""
        X = vocabulary.restrict(self.test)
        if self.n_classes <= 2:
            return positive_proba(est, X), est.predict(X)
        return class_probabilities(est, X, self.n_classes), est.predict(X)


def positive_proba(est: BaseEstimator, X: sp.csr_matrix) -> np.ndarray:
    """P(label 1) of each row: 0 if the model never saw label 1; a model without probabilities
    gives its labels as 0 or 1."""
    if not hasattr(est, "predict_proba"):
        return est.predict(X).astype(float)
    return positive_column(est, est.predict_proba(X))


def class_probabilities(est: BaseEstimator, X: sp.csr_matrix, n_classes: int) -> np.ndarray:
    """The (n, k) class probabilities of each row, column j = label j (0 for a class the
    model never saw); a model without probabilities gives its labels as certain."""
    if not hasattr(est, "predict_proba"):
        return np.eye(n_classes)[np.asarray(est.predict(X), dtype=np.intp)]
    return class_proba(est, est.predict_proba(X), n_classes)


class FastMatrices:
    """The same matrices and predictions as :class:`PlainMatrices`, with the work shared.

    Columns are renumbered once: the pool and the test set keep only the columns the pool's
    rows use (a superset of every fit's vocabulary), so no step walks the others.
    """

    # Count matrices are finite by construction: skip scikit-learn's checks at every call.
    sklearn_config: ClassVar[dict[str, bool]] = {"assume_finite": True}

    def __init__(
        self, X_pool: sp.spmatrix, X_test: sp.spmatrix, n_classes: int = 2, consume: bool = False
    ) -> None:
        self.n_classes = n_classes
        # Only a csr_matrix is overwritten: converting another type may share its arrays.
        consume = consume and sp.isspmatrix_csr(X_pool)
        X_pool, X_test = sp.csr_matrix(X_pool), sp.csr_matrix(X_test)
        universe = used_columns(X_pool)
        universe_rank = column_rank(universe, max(X_pool.shape[1], X_test.shape[1]))
        if consume:
            self.pool = renumber_columns(X_pool, universe_rank, len(universe))
        else:
            self.pool = take_columns(X_pool, universe, universe_rank)
        self.test = take_columns(X_test, universe, universe_rank)  # sheds terms no fit can see
        self._in_vocabulary = np.zeros(self.pool.shape[1], dtype=bool)  # of the first rows
        self._seen = 0  # rows whose columns are in _in_vocabulary
        self._last: tuple[Vocabulary | None, np.ndarray | None] = (None, None)
        self._tf: dict[bool, tuple[sp.csr_matrix, sp.csr_matrix]] = {}
        self._distinct: tuple[sp.csr_matrix, np.ndarray] | None = None

    def training_matrix(self, rows: np.ndarray, size: int) -> tuple[sp.csr_matrix, Vocabulary]:
        pool = self.pool
        if size > self._seen:
            self._in_vocabulary[pool.indices[pool.indptr[self._seen] : pool.indptr[size]]] = True
            self._seen = size
        if len(rows) == size == self._seen:  # every row so far: accumulate, nothing dropped
            X, columns = first_rows(pool, size), np.flatnonzero(self._in_vocabulary)
        else:
            X = pool[rows]
            columns = used_columns(X)
        rank = column_rank(columns, pool.shape[1])
        vocabulary = Vocabulary(columns, fast=True)
        self._last = (vocabulary, rank)  # the test set is restricted next, with the same rank
        return take_columns(X, columns, rank), vocabulary

    def predictions(
        self, est: BaseEstimator, vocabulary: Vocabulary
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.n_classes <= 2 and _is_tfidf_logreg(est):
            decision = self._decision(est, vocabulary.columns)[:, 0]
            classes = est.steps[-1][1].classes_
            # LogisticRegression: predict() is decision > 0, predict_proba() its expit.
            p_pos = expit(decision) if classes[1] == 1 else np.zeros(len(decision))
            return p_pos, classes[(decision > 0).astype(np.intp)]
        if self.n_classes > 2 and _is_tfidf_one_vs_rest(est):
            # OneVsRestClassifier: predict() is the first class of highest decision,
            # predict_proba() the expit of each decision, normalised over the classes.
            decision = self._decision(est, vocabulary.columns)
            proba = expit(decision)
            proba /= proba.sum(axis=1, keepdims=True)
            classes = est.steps[-1][1].classes_
            return class_proba(est, proba, self.n_classes), classes[np.argmax(decision, axis=1)]
        last, rank = self._last
        if last is not vocabulary:
            rank = column_rank(vocabulary.columns, self.pool.shape[1])
        if type(est) in _TREES:
            # A tree reads each row alone: score each distinct review once (a resampled corpus
            # repeats them), the same numbers for its copies.
            distinct, inverse = self._distinct_test()
            X = take_columns(distinct, vocabulary.columns, rank)
            scores, labels = predictions(est, X, self.n_classes)
            return scores[inverse], labels[inverse]
        X = take_columns(self.test, vocabulary.columns, rank)
        # A pipeline's transformers run once; a forest's labels come from its probabilities.
        return predictions(est, X, self.n_classes)

    def _distinct_test(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """The test set's distinct rows, and which of them each test row is."""
        if self._distinct is None:
            first, inverse = unique_rows(self.test)
            self._distinct = (self.test[first], inverse)
        return self._distinct

    # TF-IDF + logistic regression in closed form. Restricting the test set to a fit's
    # vocabulary and re-weighting it costs more than the fit once the test set is large (the
    # original's 390,000 reviews). With the term weights v = idf spread over all columns (zero
    # off the vocabulary) and the coefficients w likewise, a review's decision value is
    # tf(x)·(v∘w) / ‖tf(x)∘v‖ + b: two sparse products with tf(x), computed once.

    def _term_frequencies(self, sublinear: bool) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """tf(x) as TfidfTransformer computes it, and its square (for the L2 norm)."""
        if sublinear not in self._tf:
            X = self.test
            tf = X.data.astype(np.float64)
            if sublinear:  # counts ≥ 1: count matrices store no zeros
                np.log(tf, out=tf)
                tf += 1
            shape, structure = X.shape, (X.indices, X.indptr)  # shared, not copied
            self._tf[sublinear] = (
                sp.csr_matrix((tf, *structure), shape=shape, copy=False),
                sp.csr_matrix((tf * tf, *structure), shape=shape, copy=False),
            )
        return self._tf[sublinear]

    def _decision(self, est: Pipeline, columns: np.ndarray) -> np.ndarray:
        """The decision values, one column per binary logistic regression (one, or one per
        class of a one-vs-rest model)."""
        tfidf, clf = est.steps[0][1], est.steps[1][1]
        fits = clf.estimators_ if hasattr(clf, "estimators_") else [clf]
        tf, tf_squared = self._term_frequencies(tfidf.sublinear_tf)
        weight = np.zeros(tf.shape[1])
        weight[columns] = tfidf.idf_ if tfidf.use_idf else 1.0
        if len(fits) == 1:  # a vector: the products of every binary result so far
            coef = np.zeros(tf.shape[1])
            coef[columns] = clf.coef_[0]
            raw = (tf @ (weight * coef))[:, None]
        else:
            coef = np.zeros((tf.shape[1], len(fits)))
            coef[columns] = np.column_stack([fit.coef_[0] for fit in fits])
            raw = tf @ (weight[:, None] * coef)
        if tfidf.norm is not None:
            # tf(x) ≥ 0, so the L1 norm is a plain product too; empty rows stay 0 (as normalize)
            norm = (np.sqrt(tf_squared @ weight**2) if tfidf.norm == "l2" else tf @ weight)[:, None]
            raw = np.divide(raw, norm, out=np.zeros_like(raw), where=norm > 0)
        return raw + np.array([fit.intercept_[0] for fit in fits])


def _is_tfidf_logreg(est: BaseEstimator) -> bool:
    if not (isinstance(est, Pipeline) and len(est.steps) == 2):
        return False
    tfidf, clf = est.steps[0][1], est.steps[1][1]
    return (
        type(tfidf) is TfidfTransformer
        and tfidf.norm in ("l1", "l2", None)
        and type(clf) is LogisticRegression
        and len(clf.classes_) == 2
    )


def _is_tfidf_one_vs_rest(est: BaseEstimator) -> bool:
    """TF-IDF, then one binary logistic regression per class (``core.training.one_vs_rest``)."""
    if not (isinstance(est, Pipeline) and len(est.steps) == 2):
        return False
    tfidf, clf = est.steps[0][1], est.steps[1][1]
    return (
        type(tfidf) is TfidfTransformer
        and tfidf.norm in ("l1", "l2", None)
        and type(clf) is OneVsRestClassifier
        and len(clf.classes_) > 2
        and all(type(fit) is LogisticRegression for fit in clf.estimators_)
    )


__all__ = [
    "FastMatrices",
    "LoopMatrices",
    "PlainMatrices",
    "Vocabulary",
    "class_probabilities",
    "loop_matrices",
    "positive_proba",
]
