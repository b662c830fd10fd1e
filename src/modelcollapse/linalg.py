"""Restricting a sparse count matrix to a set of columns (a vocabulary), in O(nnz).

One definition for the whole package: the loop (:mod:`modelcollapse.scoring`) and
:func:`~modelcollapse.features.vectorize.restrict_to_vocabulary` both restrict through
:func:`take_columns`, which equals SciPy's ``X[:, columns]`` array for array
(tests/test_scoring.py checks it against SciPy).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def used_columns(X: sp.csr_matrix) -> np.ndarray:
    """The columns any row of ``X`` uses, sorted: the vocabulary of a vectoriser fitted on it."""
    used = np.zeros(X.shape[1], dtype=bool)
    used[X.indices] = True
    return np.flatnonzero(used)


def column_rank(columns: np.ndarray, n_columns: int) -> np.ndarray:
    """Each column's position among the sorted ``columns``; -1 for the others."""
    rank = np.full(n_columns, -1, dtype=_index_dtype(len(columns)))
    rank[columns] = np.arange(len(columns), dtype=rank.dtype)
    return rank


def take_columns(
    X: sp.csr_matrix, columns: np.ndarray, rank: np.ndarray | None = None
) -> sp.csr_matrix:
    """``X[:, columns]`` for sorted, distinct ``columns``: the same arrays, in O(nnz).

    SciPy's column indexing also walks every column of ``X`` at each call. ``rank``
    (from :func:`column_rank`) maps columns to positions; without it, small matrices
    look their columns up by binary search instead.
    """
    if len(columns) == X.shape[1]:  # sorted and distinct: every column, in order
        return X  # not a copy: at the full corpus's last step, one copy is gigabytes
    if rank is not None:
        position = rank[X.indices]
    else:
        position = np.searchsorted(columns, X.indices)
        found = position < len(columns)
        found[found] = columns[position[found]] == X.indices[found]
        position = np.where(found, position, -1)
    keep = position >= 0
    dtype = _index_dtype(max(len(columns), X.nnz))
    if keep.all():
        data, indices, indptr = X.data.copy(), position, X.indptr
    else:
        data, indices = X.data[keep], position[keep]
        indptr = np.concatenate(([0], np.cumsum(_row_counts(keep, X.indptr))))
    return sp.csr_matrix(
        (data, indices.astype(dtype, copy=False), indptr.astype(dtype)),
        shape=(X.shape[0], len(columns)),
    )


def renumber_columns(X: sp.csr_matrix, rank: np.ndarray, n_columns: int) -> sp.csr_matrix:
    """``take_columns(X, columns, rank)`` when ``columns`` hold every column ``X`` uses, made
    by overwriting ``X``'s column indices: no copy of its entries, which at the full corpus's
    last step are gigabytes. ``X`` is the caller's to give up: it reads differently after.
    """
    dtype = _index_dtype(max(n_columns, X.nnz))
    if X.indices.dtype != dtype:  # cannot be overwritten with the narrower or wider type
        columns = np.flatnonzero(rank >= 0)
        return take_columns(X, columns, rank)
    indices = X.indices
    step = 1 << 22  # a few MiB of temporaries at a time, not a copy of every entry
    for start in range(0, len(indices), step):
        piece = rank[indices[start : start + step]]
        if (piece < 0).any():
            raise ValueError("rank drops a column that X uses")
        indices[start : start + step] = piece
    out = sp.csr_matrix(
        (X.data, indices, X.indptr.astype(dtype, copy=False)),
        shape=(X.shape[0], n_columns),
        copy=False,
    )
    out.has_sorted_indices = X.has_sorted_indices  # the rank keeps the columns' order
    return out


def first_rows(X: sp.csr_matrix, size: int) -> sp.csr_matrix:
    """``X[:size]`` as a view: no copy of the matrix's arrays."""
    end = X.indptr[size]
    return sp.csr_matrix(
        (X.data[:end], X.indices[:end], X.indptr[: size + 1]), shape=(size, X.shape[1]), copy=False
    )


def unique_rows(X: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)``: the first of each set of identical rows, and for every row the
    position of its copy in ``first`` (``X[first][inverse]`` equals ``X``)."""
    if not X.has_canonical_format:  # the same row stored two ways must read the same
        X = X.copy()
        X.sum_duplicates()
    indices, data, indptr = X.indices, X.data, X.indptr
    seen: dict[bytes, int] = {}
    first: list[int] = []
    inverse = np.empty(X.shape[0], dtype=np.intp)
    for i in range(X.shape[0]):
        a, b = indptr[i], indptr[i + 1]
        # Its length fixes the row's nnz, so indices and values cannot be read across.
        j = seen.setdefault(indices[a:b].tobytes() + data[a:b].tobytes(), len(first))
        if j == len(first):
            first.append(i)
        inverse[i] = j
    return np.asarray(first, dtype=np.intp), inverse


def _index_dtype(n: int) -> type:
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


def _row_counts(flags: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """True ``flags`` per row of a CSR structure, without an nnz-long temporary.

    (A cumulative sum over the entries allocates 8 bytes per entry: at 30M entries the
    fresh pages cost more than the sum.)
    """
    starts = indptr[:-1]
    filled = starts < indptr[1:]
    counts = np.zeros(len(starts), dtype=np.int64)
    # Rows with entries start at increasing offsets and end where the next one starts.
    counts[filled] = np.add.reduceat(flags, starts[filled], dtype=np.int64)
    return counts


__all__ = ["column_rank", "first_rows", "take_columns", "used_columns"]
