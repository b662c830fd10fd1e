"""Vocabulary pruning by document frequency, on a count matrix (the ``logreg-pruned`` model).

The loop gives a model the counts of its training rows over their own vocabulary (every term
they use). :class:`MinDocumentFrequency` keeps the terms that at least ``min_df`` training rows
use, as :class:`~sklearn.feature_extraction.text.CountVectorizer`'s ``min_df`` does when it is
fitted on those rows' text, so a pipeline starting with it sees what that vectoriser would give.
On real text most bigram types occur once (issue #15: 54 million unigram and bigram columns on
a corpus that grows like the 3.6M-review one), so this shrinks the model and its copies.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from modelcollapse.linalg import take_columns


class MinDocumentFrequency(TransformerMixin, BaseEstimator):
    """Keep the columns of a count matrix that at least ``min_df`` rows of ``fit``'s use."""

    def __init__(self, min_df: int = 2) -> None:
        self.min_df = min_df

    def fit(self, X, y=None):
        if not (isinstance(self.min_df, int | np.integer) and self.min_df >= 1):
            raise ValueError(f"min_df must be a whole number of rows, at least 1: {self.min_df!r}")
        X = self._counts(X, reset=True)
        # A row's column indices are distinct (canonical CSR): each counts the row once.
        frequency = np.bincount(X.indices, minlength=X.shape[1])
        self.columns_ = np.flatnonzero(frequency >= self.min_df)
        return self

    def transform(self, X):
        check_is_fitted(self)
        return take_columns(self._counts(X, reset=False), self.columns_)

    def _counts(self, X, reset: bool) -> sp.csr_matrix:
        X = validate_data(self, X, accept_sparse="csr", dtype=None, reset=reset)
        X = sp.csr_matrix(X)
        if not X.has_canonical_format:  # duplicates would count a row twice
            X = X.copy()
            X.sum_duplicates()
        return X
