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
from dataclasses import asdict, dataclass, field
from itertools import pairwise

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline

from modelcollapse.core.labellers import LABELLERS
from modelcollapse.core.metrics import score, share_columns
from modelcollapse.core.options import LoopOptions, check_rate
from modelcollapse.core.policies import LabelRequest, make_labels
from modelcollapse.core.regimes import REGIMES, RegimeStep, refreshed_rows
from modelcollapse.core.reuse import FitScope, KeptFit
from modelcollapse.core.seeds import model_seed
from modelcollapse.core.training import fresh_model, model_labelled_count
from modelcollapse.inputs import loop_inputs
from modelcollapse.models import ModelSpec, get_model
from modelcollapse.scoring import (
    LoopMatrices,
    Vocabulary,
    class_probabilities,
    positive_proba,
)

# Row states in the pool.
HUMAN, MODEL, DROPPED = 0, 1, 2


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
    predicted_positive_rate: float  # NaN for k > 2 classes
    pred_tv_distance: float
    test_positive_rate: float  # NaN for k > 2 classes
    n_test: int
    accuracy_gold: float  # same rows, true labels (arms only)
    accuracy_real_only: float  # human-labelled rows only (arms only)
    fit_seconds: float
    predict_seconds: float
    # k > 2 classes: predicted_share_<j> and test_share_<j> (core.metrics.share_columns)
    class_shares: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LabelBatch:
    """The labels a labeller made at one step (those the label policy kept, before any
    verifier: the labels ``model_label_accuracy`` scores): pool ``rows`` and their ``labels``."""

    step: int
    rows: np.ndarray
    labels: np.ndarray


class SelfLabellingLoop:
    """Grow a training set through ``sizes``; a share ``rate`` of each addition is model-labelled.

    Parameters follow scikit-learn: ``__init__`` only stores them, :meth:`fit`
    runs the loop and sets ``history_`` (one :class:`StepRecord` per size),
    ``training_labels_`` (the label each drawn row was given), ``row_state_``
    (0 human, 1 model, 2 dropped), ``model_labelled_`` (rows a model labelled),
    ``label_batches_`` (one :class:`LabelBatch` per step that made labels: where the
    labeller's errors fall, :func:`modelcollapse.core.labellers.label_errors`)
    and ``estimator_`` (the last fitted model).

    ``X_pool`` rows are in draw order: the rows drawn by size ``s`` are the first
    ``s``. Within a batch, the rows with the lowest ``priority`` get model labels,
    so a higher rate labels a superset of a lower rate's rows.

    ``fast`` (default) restricts and scores the matrices with the shortcuts of
    :class:`~modelcollapse.scoring.FastMatrices`; ``fast=False`` takes the plain
    scikit-learn path (:class:`~modelcollapse.scoring.PlainMatrices`). Both give the
    same predictions, so the same history.

    Labels are the class codes 0 … k−1; ``fit(..., n_classes=k)`` says k (default: the
    largest label seen + 1, at least 2). Two classes are scored and labelled as they always
    were; k > 2 record the k-class metrics (:mod:`modelcollapse.core.metrics`).
    """

    def __init__(
        self,
        model: str | ModelSpec | BaseEstimator,
        sizes: Sequence[int],
        rate: float,
        random_state: int = 0,
        options: LoopOptions | None = None,
        fast: bool = True,
    ) -> None:
        self.model = model
        self.sizes = sizes
        self.rate = rate
        self.random_state = random_state
        self.options = options
        self.fast = fast

    def fit(
        self,
        X_pool: sp.csr_matrix,
        y_pool: np.ndarray,
        X_test: sp.csr_matrix,
        y_test: np.ndarray,
        priority: np.ndarray | None = None,
        n_classes: int | None = None,
        labeller_scores: np.ndarray | BaseEstimator | None = None,
        fits: FitScope | None = None,
        consume_inputs: bool = False,
    ) -> SelfLabellingLoop:
        """Draw the per-row uniforms; at each size: choose the rows a model labels, check and
        label them, pick the training rows, fit, score on the test set, record.

        ``labeller_scores`` are the class probabilities of the pool's rows (an (n, k) array, a
        row of NaN: no label, the row keeps its human one) from a labeller outside the loop
        (:mod:`modelcollapse.core.labellers`), or a fitted classifier that reads ``X_pool``;
        the options' labeller must be one from outside (``given``, ``teacher``, …).

        ``fits`` lends fits that other trajectories of the repeat made on the same rows with the
        same labels and seed (:mod:`modelcollapse.core.reuse`); the history is the same with or
        without it, but for the kept fits' ``fit_seconds`` and ``predict_seconds``.

        ``consume_inputs``: ``X_pool`` was made for this call (a row selection) and the loop
        may overwrite it rather than copy it, holding one copy of the pool's entries instead of
        two (issue #15: at 3.6M training reviews each is gigabytes); the history is the same."""
        spec = get_model(self.model)
        opts = self.options or LoopOptions()
        sizes = self._checked_sizes(X_pool.shape[0])
        n = sizes[-1]
        outside = LABELLERS[opts.labeller]
        if outside.outside != (labeller_scores is not None):
            raise ValueError(
                f"labeller = '{opts.labeller}' "
                + ("needs labeller_scores" if outside.outside else "takes no labeller_scores")
            )
        u_sample, u_verify, priority, u_check = _row_uniforms(self.random_state, n, priority)
        window = opts.window or sizes[0]
        prepared = REGIMES[opts.regime].prepared(opts, window)
        y_true = np.asarray(y_pool)[:n]
        y_test = np.asarray(y_test)
        k = n_classes or count_classes(y_true, y_test)
        self.n_classes_ = k
        supplied = _supplied_scores(labeller_scores, X_pool, n, k)
        matrices = loop_inputs(  # counts or documents
            spec, X_pool, X_test, n, self.fast, k, consume=consume_inputs
        )
        X_pool = matrices.pool
        labels = y_true.copy()
        state = np.full(n, HUMAN, dtype=np.int8)
        decided = np.zeros(n, dtype=bool)  # fixed mixture: rows already given their label
        start_labels = y_true[: sizes[0]]
        if k <= 2:
            test_positive_rate = float(np.mean(y_test)) if len(y_test) else float("nan")
            human_positive_share = float(np.mean(start_labels))
            class_shares = None
        else:  # no positive class: the class shares say it (core.metrics.share_columns)
            test_positive_rate = float("nan")
            class_shares = np.bincount(start_labels, minlength=k) / len(start_labels)
            human_positive_share = float(class_shares[1])

        history: list[StepRecord] = []
        batches: list[LabelBatch] = []
        # (model, its vocabulary) of the first fit and the last two: all a labeller can be.
        fitted: list[tuple[BaseEstimator, Vocabulary]] = []
        done = 0
        with config_context(**matrices.sklearn_config):
            for step, size in enumerate(sizes):
                label_accuracy = kept_accuracy = float("nan")
                if step > 0:
                    chosen = self._choose(
                        opts, priority, labels, state, decided, y_true, done, size, window,
                        prepared,
                    )  # fmt: skip
                    # Checked by a person: a per-row draw, so the checked rows of a lower
                    # rate are checked at a higher one too (the superset property holds).
                    chosen = chosen[u_check[chosen] >= opts.verified_share]
                    if supplied is not None:  # rows it gave no label keep their human one
                        chosen = chosen[supplied.has_label[chosen]]
                    if len(chosen):
                        if supplied is not None:
                            est, X_chosen = supplied, chosen
                        else:
                            est, vocabulary = outside.pick(fitted)
                            X_chosen = vocabulary.restrict(X_pool[chosen])
                        label_accuracy, kept_accuracy, batch = self._label(
                            est, X_chosen, chosen, labels, state, y_true, u_sample,
                            u_verify, human_positive_share, opts, k, class_shares,
                        )  # fmt: skip
                        batches.append(LabelBatch(step, *batch))
                if step == len(sizes) - 1:
                    # No step labels after this one: the models kept for labellers can go before
                    # the largest fit (issue #15: two 3.6M-review models are gigabytes).
                    fitted.clear()
                    est = vocabulary = None  # the previous step's, or the labeller
                train_rows = _training_rows(
                    opts, state[:size], size, window, self.random_state, prepared
                )
                est, vocabulary, predicted, fit_seconds, predict_seconds = self._fit_and_predict(
                    spec, matrices, train_rows, labels, state, size, opts, k, fits
                )
                fitted.append((est, vocabulary))
                del fitted[1:-2]
                start = time.perf_counter()
                metrics = score(*predicted, y_test, k)
                shares = {c: metrics.pop(c) for c in share_columns(k)}
                predict_seconds += time.perf_counter() - start
                gold = real_only = float("nan")
                if opts.arms:  # the same step fitted on true labels, and on human labels alone
                    gold, real_only = self._arms(
                        spec, matrices, train_rows, state, y_true, y_test, size, window,
                        prepared, opts,
                    )  # fmt: skip
                history.append(StepRecord(
                    step=step, train_size=size, **_row_counts(state, train_rows, size),
                    model_label_accuracy=label_accuracy, kept_label_accuracy=kept_accuracy,
                    test_positive_rate=test_positive_rate, n_test=len(y_test),
                    accuracy_gold=gold, accuracy_real_only=real_only, fit_seconds=fit_seconds,
                    predict_seconds=predict_seconds, class_shares=shares, **metrics,
                ))  # fmt: skip
                done = size

        self.history_ = history
        self.label_batches_ = batches
        self.training_labels_ = labels
        self.row_state_ = state
        self.model_labelled_ = state == MODEL
        self.estimator_ = fitted[-1][0]
        return self

    def _checked_sizes(self, n_pool: int) -> list[int]:
        sizes = [int(s) for s in self.sizes]
        if not sizes or sizes[0] < 1 or any(b <= a for a, b in pairwise(sizes)):
            raise ValueError(f"sizes must be positive and increasing, got {sizes}")
        if sizes[-1] > n_pool:
            raise ValueError(f"largest size {sizes[-1]} exceeds the pool ({n_pool} rows)")
        check_rate(self.rate)
        return sizes

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
        prepared: object,
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
        step = RegimeStep(size, window, self.random_state, prepared, done, opts)
        if regime.restored_rows is not None:
            old = regime.restored_rows(step)
            labels[old], state[old] = y_true[old], HUMAN
        rows = regime.labelled_rows(step)
        chosen = rows[np.argsort(priority[rows], kind="stable")]
        return chosen[: model_labelled_count(self.rate, len(rows))]

    def _label(
        self,
        est: BaseEstimator,
        X: object,
        chosen: np.ndarray,
        labels: np.ndarray,
        state: np.ndarray,
        y_true: np.ndarray,
        u_sample: np.ndarray,
        u_verify: np.ndarray,
        human_positive_share: float,
        opts: LoopOptions,
        n_classes: int = 2,
        class_shares: np.ndarray | None = None,
    ) -> tuple[float, float, tuple[np.ndarray, np.ndarray]]:
        """Give ``chosen`` rows model labels in place; returns the accuracy of the labels made
        (above the threshold) and of those kept (by the threshold and the verifier), and those
        made labels with their rows."""
        request = LabelRequest(
            est, X, u_sample[chosen], human_positive_share, opts,
            lambda: positive_proba(est, X), n_classes, class_shares,
            lambda: class_probabilities(est, X, n_classes),
        )  # fmt: skip
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
        return accuracy, kept_accuracy, (chosen[keep], made[keep])

    def _fit_and_predict(
        self,
        spec: ModelSpec,
        matrices: LoopMatrices,
        rows: np.ndarray,
        labels: np.ndarray,
        state: np.ndarray,
        size: int,
        opts: LoopOptions,
        n_classes: int,
        fits: FitScope | None,
    ) -> tuple[BaseEstimator, Vocabulary, tuple[np.ndarray, np.ndarray], float, float]:
        """The step's model, its vocabulary, its test predictions and the seconds of each:
        fitted here, or lent by ``fits`` when another trajectory made the same fit."""
        key = None
        if fits is not None:
            seed = model_seed(self.random_state, size)
            key = fits.key(
                size, rows, labels[rows], state[rows], opts.model_weight, seed, n_classes,
                self.fast,
            )  # fmt: skip
            kept = fits.get(key)
            if kept is not None:
                return (kept.estimator, kept.vocabulary, kept.predictions, kept.fit_seconds,
                        kept.predict_seconds)  # fmt: skip
        est, vocabulary, fit_seconds = self._fit(spec, matrices, rows, labels, state, size, opts)
        start = time.perf_counter()
        predicted = matrices.predictions(est, vocabulary)
        predict_seconds = time.perf_counter() - start
        if fits is not None:
            fits.put(key, KeptFit(est, vocabulary, predicted, fit_seconds, predict_seconds))
        return est, vocabulary, predicted, fit_seconds, predict_seconds

    def _fit(
        self,
        spec: ModelSpec,
        matrices: LoopMatrices,
        rows: np.ndarray,
        labels: np.ndarray,
        state: np.ndarray,
        size: int,
        opts: LoopOptions,
    ) -> tuple[BaseEstimator, Vocabulary, float]:
        """Fit on ``rows``; returns the model, its vocabulary and the fit's seconds."""
        if opts.model_weight == 0:  # weight 0 is no row at all: no vocabulary, no IDF either
            rows = rows[state[rows] != MODEL]
        X_rows, vocabulary = matrices.training_matrix(rows, size)
        y = labels[rows]
        weight = None
        if opts.model_weight not in (0.0, 1.0):
            weight = np.where(state[rows] == MODEL, opts.model_weight, 1.0)
        est = fresh_model(spec, y, model_seed(self.random_state, size))
        start = time.perf_counter()
        _fit_weighted(est, X_rows, y, weight)
        return est, vocabulary, time.perf_counter() - start

    def _arms(
        self,
        spec: ModelSpec,
        matrices: LoopMatrices,
        train_rows: np.ndarray,
        state: np.ndarray,
        y_true: np.ndarray,
        y_test: np.ndarray,
        size: int,
        window: int,
        prepared: object,
        opts: LoopOptions,
    ) -> tuple[float, float]:
        """Test accuracy of a fit on the same rows with their true labels (every row drawn is
        human-labelled, none dropped: gold) and of one on the human-labelled rows alone."""
        everyone = np.zeros(size, dtype=np.int8)
        gold_rows = _training_rows(opts, everyone, size, window, self.random_state, prepared)
        human_rows = train_rows[state[train_rows] == HUMAN]
        gold = self._arm(spec, matrices, gold_rows, y_true, size, y_test)
        return gold, self._arm(spec, matrices, human_rows, y_true, size, y_test)

    def _arm(self, spec, matrices: LoopMatrices, rows, y_true, size, y_test) -> float:
        if not len(rows):
            return float("nan")
        X_rows, vocabulary = matrices.training_matrix(rows, size)
        est = fresh_model(spec, y_true[rows], model_seed(self.random_state, size))
        est.fit(X_rows, y_true[rows])
        return float(np.mean(matrices.predictions(est, vocabulary)[1] == y_test))

    def history_records(self) -> list[dict[str, object]]:
        """One dict per step; k > 2 classes: the class shares as columns of their own."""
        records = []
        for r in self.history_:
            record = asdict(r)
            record.update(record.pop("class_shares"))
            records.append(record)
        return records


def count_classes(*labels: np.ndarray) -> int:
    """The number of classes k the label codes 0 … k−1 imply: the largest seen + 1, at
    least 2 (a binary corpus may hold one class in a small sample)."""
    return max([2, *(int(np.max(y)) + 1 for y in labels if len(y))])


def _row_uniforms(
    seed: int, n: int, priority: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-row uniforms shared by every trajectory of the repeat: label sampling, the verifier,
    the priority that orders model labelling (unless given) and the per-row check. Drawn per
    row, so which rows are chosen, sampled and verified pairs across rates."""
    rng = np.random.default_rng([seed, 20240601])
    u_sample, u_verify = rng.random((2, n))
    if priority is None:
        priority = rng.random(n)
    # Drawn last, so that every earlier draw (and every result without verification) is
    # as it was before the per-row check existed.
    return u_sample, u_verify, priority, rng.random(n)


def _row_counts(state: np.ndarray, train_rows: np.ndarray, size: int) -> dict[str, object]:
    """The step's row bookkeeping: rows fitted, model-labelled and dropped."""
    n_model = int(np.sum(state[train_rows] == MODEL))
    return {
        "n_train": len(train_rows),
        "n_model_labelled": int(np.sum(state[:size] == MODEL)),
        "model_labelled_share": n_model / len(train_rows) if len(train_rows) else 0.0,
        "n_dropped": int(np.sum(state[:size] == DROPPED)),
    }


class _SuppliedScores:
    """A labeller from outside the loop as the label policies see an estimator: its "rows" are
    pool row numbers, its probabilities those supplied for them."""

    def __init__(self, proba: np.ndarray) -> None:
        self.proba = proba
        self.classes_ = np.arange(proba.shape[1])
        self.has_label = ~np.isnan(proba).any(axis=1)

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return self.proba[rows]

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.argmax(self.proba[rows], axis=1)  # ties: the lowest class code


def _supplied_scores(
    scores: np.ndarray | BaseEstimator | None, X_pool, n: int, k: int
) -> _SuppliedScores | None:
    if scores is None:
        return None
    if hasattr(scores, "predict"):  # a fitted classifier that reads the pool's matrix
        scores = class_probabilities(scores, X_pool[:n], k)
    proba = np.asarray(scores, dtype=float)
    if proba.ndim != 2 or proba.shape[0] < n or proba.shape[1] != k:
        raise ValueError(
            f"labeller_scores must be ({n} or more rows, {k} classes), got {proba.shape}"
        )
    return _SuppliedScores(proba[:n])


def _training_rows(
    options: LoopOptions, state: np.ndarray, size: int, window: int, seed: int, prepared: object
) -> np.ndarray:
    """Rows (of those drawn so far) the next model is fitted on, as the options' regime picks."""
    rows = np.flatnonzero(state != DROPPED)
    step = RegimeStep(size, window, seed, prepared, options=options)
    return REGIMES[options.regime].training_rows(rows, step)


def _fit_weighted(est: BaseEstimator, X, y, weight: np.ndarray | None) -> None:
    final = est.steps[-1][1] if isinstance(est, Pipeline) else est
    if weight is None:
        est.fit(X, y)
    elif isinstance(final, OneVsRestClassifier):
        # One-vs-rest (k > 2 classes) hands weights to its fits only through metadata routing.
        with config_context(enable_metadata_routing=True):
            final.estimator.set_fit_request(sample_weight=True)
            est.fit(X, y, sample_weight=weight)
    elif isinstance(est, Pipeline):
        est.fit(X, y, **{f"{est.steps[-1][0]}__sample_weight": weight})
    else:
        est.fit(X, y, sample_weight=weight)


__all__ = [
    "LoopOptions",
    "SelfLabellingLoop",
    "StepRecord",
    "count_classes",
    "refreshed_rows",
]
