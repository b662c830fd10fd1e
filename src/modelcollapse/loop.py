"""The self-labelling loop: fit, score, let a model label part of the next batch, refit.

This module does no I/O and no parallelism: it takes matrices and returns a
history. Everything random (which rows come next, which of them a model labels,
label sampling, the verifier's coin flips, the model's own seed) is fixed by the
arguments and drawn per row, so trajectories of one repeat differ only in which
labels came from a model: the paired design.

The loop designs of the literature are options of one loop (:class:`LoopOptions`, whose
table is ``docs/options.md``; label policies and regimes are registered parts,
:mod:`modelcollapse.core.policies` and :mod:`modelcollapse.core.regimes`):
the data regime (accumulate, replace, a fixed budget, a fixed real set beside a refreshed
model-labelled set), a fixed model-labelled share at every size, who labels
(the current model, the previous generation, the frozen first model), how labels
are made (argmax, sampled, confidence threshold, class-balanced), verification,
and the weight of model-labelled rows. ``docs/methods.md`` maps them to the papers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from modelcollapse.core.metrics import score as _metrics
from modelcollapse.core.options import LoopOptions, option_names
from modelcollapse.core.policies import LabelRequest, make_labels
from modelcollapse.core.regimes import REGIMES, RegimeStep
from modelcollapse.core.seeds import model_seed
from modelcollapse.core.training import fresh_model, model_labelled_count
from modelcollapse.models import ModelSpec, get_model

# Row states in the pool.
HUMAN, MODEL, DROPPED = 0, 1, 2

# The result columns of the options (the table's built-in rows; a plug-in's options follow).
OPTION_NAMES = option_names()


@dataclass(frozen=True)
class StepRecord:
    """What one fit saw and scored."""

    step: int
    train_size: int  # rows drawn so far (the x axis)
    n_train: int  # rows the model was fitted on (fewer under replace, budgets or drops)
    n_model_labelled: int  # rows drawn so far that carry a model's label
    model_labelled_share: float  # of the rows fitted on
    n_dropped: int  # rows dropped so far (threshold, verifier)
    model_label_accuracy: float  # of the model labels given to this step's additions
    kept_label_accuracy: float  # of those the verifier (and the threshold) kept
    accuracy: float
    balanced_accuracy: float
    macro_f1: float
    log_loss: float
    brier: float
    ece: float
    predicted_positive_rate: float
    test_positive_rate: float
    n_test: int
    accuracy_gold: float  # same rows, true labels (arms only)
    accuracy_real_only: float  # human-labelled rows only (arms only)
    fit_seconds: float
    predict_seconds: float


class SelfLabellingLoop:
    """Grow a training set through ``sizes``; a share ``rate`` of each addition is model-labelled.

    Parameters follow scikit-learn: ``__init__`` only stores them, :meth:`fit`
    runs the loop and sets ``history_`` (one :class:`StepRecord` per size),
    ``training_labels_`` (the label each drawn row was given), ``row_state_``
    (0 human, 1 model, 2 dropped), ``model_labelled_`` (rows a model labelled)
    and ``estimator_`` (the last fitted model).

    ``X_pool`` rows are in draw order: the rows drawn by size ``s`` are the first
    ``s``. Within a batch, the rows with the lowest ``priority`` get model labels,
    so a higher rate labels a superset of a lower rate's rows.
    """

    def __init__(
        self,
        model: str | ModelSpec | BaseEstimator,
        sizes: Sequence[int],
        rate: float,
        random_state: int = 0,
        options: LoopOptions | None = None,
    ) -> None:
        self.model = model
        self.sizes = sizes
        self.rate = rate
        self.random_state = random_state
        self.options = options

    def fit(
        self,
        X_pool: sp.csr_matrix,
        y_pool: np.ndarray,
        X_test: sp.csr_matrix,
        y_test: np.ndarray,
        priority: np.ndarray | None = None,
    ) -> SelfLabellingLoop:
        spec = get_model(self.model)
        opts = self.options or LoopOptions()
        sizes = [int(s) for s in self.sizes]
        if not sizes or sizes[0] < 1 or any(b <= a for a, b in pairwise(sizes)):
            raise ValueError(f"sizes must be positive and increasing, got {sizes}")
        n = sizes[-1]
        if n > X_pool.shape[0]:
            raise ValueError(f"largest size {n} exceeds the pool ({X_pool.shape[0]} rows)")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {self.rate}")
        # Per-row uniforms shared by every trajectory of the repeat: which rows are chosen,
        # sampled labels, verification and verifier coin flips pair across rates.
        rng = np.random.default_rng([self.random_state, 20240601])
        u_sample, u_verify = rng.random((2, n))
        if priority is None:
            priority = rng.random(n)
        # Drawn last, so that every earlier draw (and every result without verification) is
        # as it was before the per-row check existed.
        u_check = rng.random(n)
        window = opts.window or sizes[0]
        fresh_rows = refreshed_rows(window, opts.fresh_share) if opts.regime == "fresh" else 0

        # Columns from here on: those the n drawn rows use at all, a superset of every step's
        # vocabulary, renumbered in order; the test set sheds the terms no fit can see.
        X_pool = sp.csr_matrix(X_pool)[:n]
        universe = _used_columns(X_pool)
        X_test = sp.csr_matrix(X_test)
        universe_rank = _rank(universe, max(X_pool.shape[1], X_test.shape[1]))
        X_pool = _take_columns(X_pool, universe, universe_rank)
        test = _TestSet(X_test, universe, universe_rank)
        y_true = np.asarray(y_pool)[:n]
        labels = y_true.copy()
        state = np.full(n, HUMAN, dtype=np.int8)
        decided = np.zeros(n, dtype=bool)  # fixed mixture: rows already given their label
        in_vocabulary = np.zeros(X_pool.shape[1], dtype=bool)
        y_test = np.asarray(y_test)
        test_positive_rate = float(np.mean(y_test)) if len(y_test) else float("nan")
        human_positive_share = float(np.mean(y_true[: sizes[0]]))

        history: list[StepRecord] = []
        # (model, its columns) of the first fit and the last two: all a labeller can be.
        fitted: list[tuple[BaseEstimator, np.ndarray]] = []
        done = 0
        # Count matrices are finite by construction: skip scikit-learn's checks at every call.
        with config_context(assume_finite=True):
            for step, size in enumerate(sizes):
                label_accuracy = kept_accuracy = float("nan")
                if step > 0:
                    chosen = self._choose(
                        opts, priority, labels, state, decided, y_true, done, size, window,
                        fresh_rows,
                    )  # fmt: skip
                    # Checked by a person: a per-row draw, so the checked rows of a lower
                    # rate are checked at a higher one too (the superset property holds).
                    chosen = chosen[u_check[chosen] >= opts.verified_share]
                    if len(chosen):
                        labeller = _pick_labeller(fitted, opts.labeller)
                        label_accuracy, kept_accuracy = self._label(
                            labeller, X_pool, chosen, labels, state, y_true, u_sample,
                            u_verify, human_positive_share, opts,
                        )  # fmt: skip
                in_vocabulary[X_pool.indices[X_pool.indptr[done] : X_pool.indptr[size]]] = True
                train_rows = _training_rows(
                    opts.regime, state[:size], size, window, self.random_state, fresh_rows
                )
                est, columns, rank, fit_seconds = self._fit(
                    spec, X_pool, train_rows, labels, state, in_vocabulary, size, opts
                )
                fitted.append((est, columns))
                if len(fitted) > 3:
                    del fitted[1]
                start = time.perf_counter()
                metrics = _metrics(*test.predictions(est, columns, rank), y_test)
                predict_seconds = time.perf_counter() - start
                gold = real_only = float("nan")
                if opts.arms:
                    everyone = np.zeros(size, dtype=np.int8)
                    gold_rows = _training_rows(
                        opts.regime, everyone, size, window, self.random_state, fresh_rows
                    )
                    gold = self._arm(spec, X_pool, gold_rows, y_true, size, test, y_test)
                    human_rows = train_rows[state[train_rows] == HUMAN]
                    real_only = self._arm(spec, X_pool, human_rows, y_true, size, test, y_test)

                n_model = int(np.sum(state[train_rows] == MODEL))
                history.append(
                    StepRecord(
                        step=step,
                        train_size=size,
                        n_train=len(train_rows),
                        n_model_labelled=int(np.sum(state[:size] == MODEL)),
                        model_labelled_share=n_model / len(train_rows) if len(train_rows) else 0.0,
                        n_dropped=int(np.sum(state[:size] == DROPPED)),
                        model_label_accuracy=label_accuracy,
                        kept_label_accuracy=kept_accuracy,
                        test_positive_rate=test_positive_rate,
                        n_test=len(y_test),
                        accuracy_gold=gold,
                        accuracy_real_only=real_only,
                        fit_seconds=fit_seconds,
                        predict_seconds=predict_seconds,
                        **metrics,
                    )
                )
                done = size

        self.history_ = history
        self.training_labels_ = labels
        self.row_state_ = state
        self.model_labelled_ = state == MODEL
        self.estimator_ = fitted[-1][0]
        return self

    def _choose(
        self,
        opts: LoopOptions,
        priority: np.ndarray,
        labels: np.ndarray,
        state: np.ndarray,
        decided: np.ndarray,
        y_true: np.ndarray,
        done: int,
        size: int,
        window: int,
        fresh_rows: int,
    ) -> np.ndarray:
        """The rows to model-label at this step, lowest priority first (before any check).

        Lowest priority first makes a higher rate choose a superset of a lower rate's rows.
        """
        if opts.mixture == "fixed":
            # round(π × size) rows of lowest priority among all drawn; a row keeps the label it
            # was given while it stays among them and gets its human label back if it leaves.
            target = np.zeros(size, dtype=bool)
            order = np.argsort(priority[:size], kind="stable")
            target[order[: model_labelled_count(self.rate, size)]] = True
            leaving = np.flatnonzero(decided[:size] & ~target)
            labels[leaving], state[leaving], decided[leaving] = y_true[leaving], HUMAN, False
            new = np.flatnonzero(target & ~decided[:size])
            decided[new] = True
            return new[np.argsort(priority[new], kind="stable")]
        regime = REGIMES[opts.regime]
        step = RegimeStep(size, window, self.random_state, fresh_rows, done, opts)
        if regime.restored_rows is not None:
            old = regime.restored_rows(step)
            labels[old], state[old] = y_true[old], HUMAN
        rows = regime.labelled_rows(step)
        chosen = rows[np.argsort(priority[rows], kind="stable")]
        return chosen[: model_labelled_count(self.rate, len(rows))]

    def _label(
        self,
        labeller: tuple[BaseEstimator, np.ndarray],
        X_pool: sp.csr_matrix,
        chosen: np.ndarray,
        labels: np.ndarray,
        state: np.ndarray,
        y_true: np.ndarray,
        u_sample: np.ndarray,
        u_verify: np.ndarray,
        human_positive_share: float,
        opts: LoopOptions,
    ) -> tuple[float, float]:
        """Give ``chosen`` rows model labels in place; returns the accuracy of the labels made
        (above the threshold) and of those kept (by the threshold and the verifier)."""
        est, columns = labeller
        X = _take_columns(X_pool[chosen], columns)
        request = LabelRequest(
            est, X, u_sample[chosen], human_positive_share, opts, lambda: _positive_proba(est, X)
        )
        made_by_policy = make_labels(opts.label_policy, request)
        made, keep = made_by_policy.made, made_by_policy.keep
        if keep is None:
            keep = np.ones(len(chosen), dtype=bool)
        made = np.asarray(made, dtype=labels.dtype)
        correct = made == y_true[chosen]
        accuracy = float(np.mean(correct[keep])) if keep.any() else float("nan")
        # A simulated verifier keeps correct labels with prob. keep_correct, wrong with keep_wrong.
        accept = np.where(correct, opts.keep_correct, opts.keep_wrong)
        verified = u_verify[chosen] < accept
        kept = keep & verified
        kept_accuracy = float(np.mean(correct[kept])) if kept.any() else float("nan")
        labelled = chosen[kept]
        labels[labelled] = made[kept]
        state[labelled] = MODEL
        rejected = chosen[~(keep & verified)]
        if made_by_policy.unsure == "human":
            unsure = chosen[~keep]
            state[unsure] = HUMAN  # the human label stays
            rejected = np.setdiff1d(rejected, unsure)
        state[rejected] = DROPPED
        return accuracy, kept_accuracy

    def _fit(
        self,
        spec: ModelSpec,
        X_pool: sp.csr_matrix,
        rows: np.ndarray,
        labels: np.ndarray,
        state: np.ndarray,
        in_vocabulary: np.ndarray,
        size: int,
        opts: LoopOptions,
    ) -> tuple[BaseEstimator, np.ndarray, np.ndarray, float]:
        """Fit on ``rows``; returns the model, its columns, their ranks and the fit's seconds."""
        if opts.model_weight == 0:  # weight 0 is no row at all: no vocabulary, no IDF either
            rows = rows[state[rows] != MODEL]
        if len(rows) == size:  # accumulate with nothing dropped: the common case
            X_rows = _first_rows(X_pool, size)
            columns = np.flatnonzero(in_vocabulary)
        else:
            X_rows = X_pool[rows]
            columns = _used_columns(X_rows)
        rank = _rank(columns, X_pool.shape[1])
        X_rows = _take_columns(X_rows, columns, rank)
        y = labels[rows]
        weight = None
        if opts.model_weight not in (0.0, 1.0):
            weight = np.where(state[rows] == MODEL, opts.model_weight, 1.0)
        est = fresh_model(spec, y, model_seed(self.random_state, size))
        start = time.perf_counter()
        _fit_weighted(est, X_rows, y, weight)
        return est, columns, rank, time.perf_counter() - start

    def _arm(self, spec, X_pool, rows, y_true, size, test: _TestSet, y_test) -> float:
        if not len(rows):
            return float("nan")
        X_rows = X_pool[rows]
        columns = _used_columns(X_rows)
        rank = _rank(columns, X_pool.shape[1])
        est = fresh_model(spec, y_true[rows], model_seed(self.random_state, size))
        est.fit(_take_columns(X_rows, columns, rank), y_true[rows])
        return float(np.mean(test.predictions(est, columns, rank)[1] == y_test))

    def history_records(self) -> list[dict[str, object]]:
        return [asdict(r) for r in self.history_]


def _pick_labeller(
    fitted: list[tuple[BaseEstimator, np.ndarray]], labeller: str
) -> tuple[BaseEstimator, np.ndarray]:
    if labeller == "generation0":
        return fitted[0]
    if labeller == "previous" and len(fitted) > 1:
        return fitted[-2]
    return fitted[-1]


def refreshed_rows(window: int, share: float) -> int:
    """Rows in the refreshed set beside a real set of ``window`` rows: share λ of the fit."""
    return model_labelled_count(share / (1.0 - share), window)


def _training_rows(
    regime: str,
    state: np.ndarray,
    size: int,
    window: int,
    seed: int,
    fresh_rows: int = 0,
    options: LoopOptions | None = None,
) -> np.ndarray:
    """Rows (of those drawn so far) the next model is fitted on; ``options`` reach the regime."""
    rows = np.flatnonzero(state != DROPPED)
    step = RegimeStep(size, window, seed, fresh_rows, options=options)
    return REGIMES[regime].training_rows(rows, step)


def _used_columns(X: sp.csr_matrix) -> np.ndarray:
    used = np.zeros(X.shape[1], dtype=bool)
    used[X.indices] = True
    return np.flatnonzero(used)


def _rank(columns: np.ndarray, n_columns: int) -> np.ndarray:
    """Each column's position among the sorted ``columns``; -1 for the others."""
    rank = np.full(n_columns, -1, dtype=_index_dtype(len(columns)))
    rank[columns] = np.arange(len(columns), dtype=rank.dtype)
    return rank


def _index_dtype(n: int) -> type:
    return np.int32 if n <= np.iinfo(np.int32).max else np.int64


def _first_rows(X: sp.csr_matrix, size: int) -> sp.csr_matrix:
    """``X[:size]`` as a view: no copy of the pool's arrays."""
    end = X.indptr[size]
    return sp.csr_matrix(
        (X.data[:end], X.indices[:end], X.indptr[: size + 1]), shape=(size, X.shape[1]), copy=False
    )


def _take_columns(
    X: sp.csr_matrix, columns: np.ndarray, rank: np.ndarray | None = None
) -> sp.csr_matrix:
    """``X[:, columns]`` for sorted, distinct ``columns``: the same arrays, in O(nnz).

    SciPy's column indexing also walks every column of ``X`` at each call. ``rank``
    (from :func:`_rank`) maps columns to positions; without it, small matrices
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


def _positive_proba(est: BaseEstimator, X: sp.csr_matrix) -> np.ndarray:
    return _predictions(est, X, labels=False)[0]


def _predictions(
    est: BaseEstimator, X: sp.csr_matrix, labels: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """P(positive) and, if ``labels``, the predicted labels, each computed once."""
    if not hasattr(est, "predict_proba"):
        predicted = est.predict(X)
        return predicted.astype(float), predicted
    proba = est.predict_proba(X)
    classes = list(est.classes_)
    p_pos = proba[:, classes.index(1)] if 1 in classes else np.zeros(X.shape[0])
    if not labels:
        return p_pos, None
    # A forest's predict() is the argmax of predict_proba(): do not run every tree twice.
    if type(est).predict is RandomForestClassifier.predict and est.n_outputs_ == 1:
        return p_pos, est.classes_.take(np.argmax(proba, axis=1), axis=0)
    return p_pos, est.predict(X)


def _fit_weighted(est: BaseEstimator, X, y, weight: np.ndarray | None) -> None:
    if weight is None:
        est.fit(X, y)
    elif isinstance(est, Pipeline):
        est.fit(X, y, **{f"{est.steps[-1][0]}__sample_weight": weight})
    else:
        est.fit(X, y, sample_weight=weight)


class _TestSet:
    """The test matrix, scored by each step's model through that model's vocabulary.

    A model fitted on ``columns`` (positions in ``universe``, the columns of the original
    matrix that the pool uses) sees the test set restricted to them. For the common
    TF-IDF + logistic-regression pipeline no restricted, re-weighted copy is built per
    step: once the test set is large (the original's 390,000 reviews) that costs more than
    the fit. With the term weights ``v = idf`` spread over the universe (zero off the
    vocabulary) and the coefficients ``w`` likewise, a review's decision value is
    ``tf(x)·(v∘w) / ‖tf(x)∘v‖ + b``: two sparse products with ``tf(x)``, computed once.
    It equals the pipeline's output up to floating-point rounding (tests/test_loop.py).
    """

    def __init__(self, X: sp.csr_matrix, universe: np.ndarray, universe_rank: np.ndarray) -> None:
        self.X = _take_columns(X, universe, universe_rank)  # sheds terms no fit can see
        self._tf: dict[bool, tuple[sp.csr_matrix, sp.csr_matrix]] = {}

    def predictions(
        self, est: BaseEstimator, columns: np.ndarray, rank: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """P(positive) and the predicted labels of every test review."""
        if _is_tfidf_logreg(est):
            decision = self._decision(est, columns)
            classes = est.steps[-1][1].classes_
            # LogisticRegression: predict() is decision > 0, predict_proba() its expit.
            p_pos = expit(decision) if classes[1] == 1 else np.zeros(len(decision))
            return p_pos, classes[(decision > 0).astype(np.intp)]
        X = _take_columns(self.X, columns, rank)
        # A pipeline's transformers run once, not once for probabilities and once for labels.
        if isinstance(est, Pipeline):
            for _, step in est.steps[:-1]:
                if step is not None and step != "passthrough":
                    X = step.transform(X)
            est = est.steps[-1][1]
        p_pos, predicted = _predictions(est, X)
        assert predicted is not None
        return p_pos, predicted

    def _term_frequencies(self, sublinear: bool) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """tf(x) as TfidfTransformer computes it, and its square (for the L2 norm)."""
        if sublinear not in self._tf:
            X = self.X
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
        tfidf, clf = est.steps[0][1], est.steps[1][1]
        tf, tf_squared = self._term_frequencies(tfidf.sublinear_tf)
        weight = np.zeros(tf.shape[1])
        weight[columns] = tfidf.idf_ if tfidf.use_idf else 1.0
        coef = np.zeros(tf.shape[1])
        coef[columns] = clf.coef_[0]
        raw = tf @ (weight * coef)
        if tfidf.norm is not None:
            # tf(x) ≥ 0, so the L1 norm is a plain product too; empty rows stay 0 (as normalize)
            norm = np.sqrt(tf_squared @ weight**2) if tfidf.norm == "l2" else tf @ weight
            raw = np.divide(raw, norm, out=np.zeros_like(raw), where=norm > 0)
        return raw + clf.intercept_[0]


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


__all__ = [
    "OPTION_NAMES",
    "LoopOptions",
    "SelfLabellingLoop",
    "StepRecord",
    "refreshed_rows",
]
