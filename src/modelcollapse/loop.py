"""The self-labelling loop: fit, score, let a model label part of the next batch, refit.

This module does no I/O and no parallelism: it takes matrices and returns a
history. Everything random (which rows come next, which of them a model labels,
label sampling, the verifier's coin flips, the model's own seed) is fixed by the
arguments and drawn per row, so trajectories of one repeat differ only in which
labels came from a model: the paired design.

The loop designs of the literature are options of one loop (:class:`LoopOptions`):
the data regime (accumulate, replace, a fixed budget, a fixed real set beside a refreshed
model-labelled set), a fixed model-labelled share at every size, who labels
(the current model, the previous generation, the frozen first model), how labels
are made (argmax, sampled, confidence threshold, class-balanced), verification,
and the weight of model-labelled rows. ``docs/methods.md`` maps them to the papers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from itertools import pairwise
from typing import Literal

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from modelcollapse.models import ModelSpec, get_model
from modelcollapse.scoring import LoopMatrices, Vocabulary, loop_matrices, positive_proba

Regime = Literal["accumulate", "replace", "accumulate-subsample", "fresh"]
Labeller = Literal["current", "previous", "generation0"]
LabelPolicy = Literal["argmax", "sample", "threshold", "balanced"]
Mixture = Literal["batch", "fixed"]

# Row states in the pool.
HUMAN, MODEL, DROPPED = 0, 1, 2


@dataclass(frozen=True)
class LoopOptions:
    """How the loop grows its training set and makes labels (defaults: the original study).

    - ``regime``: ``accumulate`` trains on every row so far; ``replace`` only on the
      newest ``window`` rows; ``accumulate-subsample`` on a random ``window``-row
      subsample of all rows so far (a fixed training budget); ``fresh`` on a fixed real
      set (the first ``window`` rows, human-labelled) plus the newest m rows, a refreshed
      set of which the share ``rate`` is labelled by the current labeller at every step
      (older model labels are discarded); m = round(λ/(1 − λ) × window), so that the
      refreshed set is the share λ = ``fresh_share`` of every fit once m rows have been drawn
      after the real set. ``window`` defaults to the trajectory's first size.
    - ``mixture``: ``batch`` model-labels the share ``rate`` of every batch added (the
      model-labelled share of the data drifts with the size); ``fixed`` (accumulate only)
      holds the share π = ``rate`` of the rows drawn so far model-labelled at every size
      after the first: the round(π × size) rows of lowest priority.
    - ``labeller``: the model that labels a batch: the one just fitted (``current``),
      the one before it (``previous``) or the first one, frozen (``generation0``).
    - ``label_policy``: ``argmax``; ``sample`` (a label drawn from ``predict_proba``);
      ``threshold`` (rows whose confidence is below ``threshold`` are dropped, or keep
      their human label with ``below_threshold="human"``); ``balanced`` (the batch's
      model labels follow the class shares of the human-labelled start, most confident first).
    - ``verified_share``: probability that a row chosen for a model label is checked by a
      person and keeps its human label instead, decided per row (a higher rate still
      model-labels a superset of a lower rate's rows).
    - ``keep_correct``/``keep_wrong``: a simulated verifier keeps a correct model label
      with probability ϕ and a wrong one with probability ψ; rejected rows are dropped.
    - ``model_weight``: sample weight of model-labelled rows in every fit; 0 leaves them
      out of the fit (vocabulary and term weights included), exactly as if dropped.
    - ``arms``: also fit, at every step, the same rows with their true labels (gold) and
      the human-labelled rows alone (real-only).
    """

    regime: Regime = "accumulate"
    window: int | None = None
    fresh_share: float = 0.0
    mixture: Mixture = "batch"
    labeller: Labeller = "current"
    label_policy: LabelPolicy = "argmax"
    threshold: float = 0.9
    below_threshold: Literal["drop", "human"] = "drop"
    verified_share: float = 0.0
    keep_correct: float = 1.0
    keep_wrong: float = 1.0
    model_weight: float = 1.0
    arms: bool = False

    def __post_init__(self) -> None:
        for name in ("fresh_share", "verified_share", "keep_correct", "keep_wrong"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
        if not 0.5 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be within [0.5, 1], got {self.threshold}")
        if self.model_weight < 0:
            raise ValueError(f"model_weight must be 0 or more, got {self.model_weight}")
        if self.window is not None and self.window < 1:
            raise ValueError(f"window must be at least 1, got {self.window}")
        if self.fresh_share and self.regime != "fresh":
            raise ValueError("fresh_share applies to the 'fresh' regime only")
        if self.regime == "fresh" and self.fresh_share >= 1:
            raise ValueError(f"fresh_share must be below 1, got {self.fresh_share}")
        if self.mixture == "fixed" and self.regime != "accumulate":
            raise ValueError("mixture 'fixed' applies to the 'accumulate' regime only")

    def record(self) -> dict[str, object]:
        """The options as result columns (the window as -1 when it is the first size)."""
        out = asdict(self)
        out["window"] = -1 if self.window is None else self.window
        return out


OPTION_NAMES = tuple(f.name for f in fields(LoopOptions))


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


def model_labelled_count(rate: float, batch_size: int) -> int:
    """round(rate × batch) with halves rounded up (Python's round() rounds to even)."""
    return int(np.floor(rate * batch_size + 0.5))


def model_seed(base_seed: int, *parts: int) -> int:
    """A model's random_state from a base seed and what identifies its fit: here the training
    size, so every trajectory of a repeat shares it at that size; the generational studies
    add the generation and the child."""
    return int(np.random.SeedSequence([base_seed, *parts]).generate_state(1)[0] >> 1)


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

    ``fast`` (default) restricts and scores the matrices with the shortcuts of
    :class:`~modelcollapse.scoring.FastMatrices`; ``fast=False`` takes the plain
    scikit-learn path (:class:`~modelcollapse.scoring.PlainMatrices`). Both give the
    same predictions, so the same history.
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
    ) -> SelfLabellingLoop:
        """Draw the per-row uniforms; at each size: choose the rows a model labels, check and
        label them, pick the training rows, fit, score on the test set, record."""
        spec = get_model(self.model)
        opts = self.options or LoopOptions()
        sizes = self._checked_sizes(X_pool.shape[0])
        n = sizes[-1]
        u_sample, u_verify, priority, u_check = _row_uniforms(self.random_state, n, priority)
        window = opts.window or sizes[0]
        fresh_rows = refreshed_rows(window, opts.fresh_share) if opts.regime == "fresh" else 0
        matrices = loop_matrices(sp.csr_matrix(X_pool)[:n], X_test, self.fast)
        X_pool = matrices.pool
        y_true = np.asarray(y_pool)[:n]
        labels = y_true.copy()
        state = np.full(n, HUMAN, dtype=np.int8)
        decided = np.zeros(n, dtype=bool)  # fixed mixture: rows already given their label
        y_test = np.asarray(y_test)
        test_positive_rate = float(np.mean(y_test)) if len(y_test) else float("nan")
        human_positive_share = float(np.mean(y_true[: sizes[0]]))

        history: list[StepRecord] = []
        # (model, its vocabulary) of the first fit and the last two: all a labeller can be.
        fitted: list[tuple[BaseEstimator, Vocabulary]] = []
        done = 0
        with config_context(**matrices.sklearn_config):
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
                train_rows = _training_rows(
                    opts.regime, state[:size], size, window, self.random_state, fresh_rows
                )
                est, vocabulary, fit_seconds = self._fit(
                    spec, matrices, train_rows, labels, state, size, opts
                )
                fitted.append((est, vocabulary))
                del fitted[1:-2]
                start = time.perf_counter()
                metrics = _metrics(*matrices.predictions(est, vocabulary), y_test)
                predict_seconds = time.perf_counter() - start
                gold = real_only = float("nan")
                if opts.arms:  # the same step fitted on true labels, and on human labels alone
                    gold, real_only = self._arms(
                        spec, matrices, train_rows, state, y_true, y_test, size, window,
                        fresh_rows, opts,
                    )  # fmt: skip
                history.append(StepRecord(
                    step=step, train_size=size, **_row_counts(state, train_rows, size),
                    model_label_accuracy=label_accuracy, kept_label_accuracy=kept_accuracy,
                    test_positive_rate=test_positive_rate, n_test=len(y_test),
                    accuracy_gold=gold, accuracy_real_only=real_only, fit_seconds=fit_seconds,
                    predict_seconds=predict_seconds, **metrics,
                ))  # fmt: skip
                done = size

        self.history_ = history
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
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {self.rate}")
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
        if opts.regime == "fresh":
            # The refreshed set: every model label made before this step is discarded.
            old = np.arange(window, done)
            labels[old], state[old] = y_true[old], HUMAN
            rows = np.arange(max(window, size - fresh_rows), size)
        else:
            rows = np.arange(done, size)
        chosen = rows[np.argsort(priority[rows], kind="stable")]
        return chosen[: model_labelled_count(self.rate, len(rows))]

    def _label(
        self,
        labeller: tuple[BaseEstimator, Vocabulary],
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
        est, vocabulary = labeller
        X = vocabulary.restrict(X_pool[chosen])
        if opts.label_policy == "argmax":
            made = est.predict(X)
            keep = np.ones(len(chosen), dtype=bool)
        else:
            p_pos = positive_proba(est, X)
            if opts.label_policy == "sample":
                made = (u_sample[chosen] < p_pos).astype(labels.dtype)
                keep = np.ones(len(chosen), dtype=bool)
            elif opts.label_policy == "threshold":
                made = (p_pos >= 0.5).astype(labels.dtype)
                keep = np.maximum(p_pos, 1.0 - p_pos) >= opts.threshold
            else:  # balanced: positives for the most positive share, by rank
                n_pos = model_labelled_count(human_positive_share, len(chosen))
                made = np.zeros(len(chosen), dtype=labels.dtype)
                made[np.argsort(-p_pos, kind="stable")[:n_pos]] = 1
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
        if opts.label_policy == "threshold" and opts.below_threshold == "human":
            unsure = chosen[~keep]
            state[unsure] = HUMAN  # the human label stays
            rejected = np.setdiff1d(rejected, unsure)
        state[rejected] = DROPPED
        return accuracy, kept_accuracy

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
        fresh_rows: int,
        opts: LoopOptions,
    ) -> tuple[float, float]:
        """Test accuracy of a fit on the same rows with their true labels (every row drawn is
        human-labelled, none dropped: gold) and of one on the human-labelled rows alone."""
        everyone = np.zeros(size, dtype=np.int8)
        gold_rows = _training_rows(
            opts.regime, everyone, size, window, self.random_state, fresh_rows
        )
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
        return [asdict(r) for r in self.history_]


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


def _pick_labeller(
    fitted: list[tuple[BaseEstimator, Vocabulary]], labeller: Labeller
) -> tuple[BaseEstimator, Vocabulary]:
    if labeller == "generation0":
        return fitted[0]
    if labeller == "previous" and len(fitted) > 1:
        return fitted[-2]
    return fitted[-1]


def refreshed_rows(window: int, share: float) -> int:
    """Rows in the refreshed set beside a real set of ``window`` rows: share λ of the fit."""
    return model_labelled_count(share / (1.0 - share), window)


def _training_rows(
    regime: Regime, state: np.ndarray, size: int, window: int, seed: int, fresh_rows: int = 0
) -> np.ndarray:
    """Rows (of those drawn so far) the next model is fitted on."""
    rows = np.flatnonzero(state != DROPPED)
    if regime == "replace":
        rows = rows[rows >= size - window]
    elif regime == "fresh":  # the real set, then the refreshed set of the newest rows
        rows = rows[(rows < window) | (rows >= max(window, size - fresh_rows))]
    elif regime == "accumulate-subsample" and len(rows) > window:
        rng = np.random.default_rng([seed, size, 1])  # the same budget draw for every rate
        rows = np.sort(rng.choice(rows, window, replace=False))
    return rows


def _fit_weighted(est: BaseEstimator, X, y, weight: np.ndarray | None) -> None:
    if weight is None:
        est.fit(X, y)
    elif isinstance(est, Pipeline):
        est.fit(X, y, **{f"{est.steps[-1][0]}__sample_weight": weight})
    else:
        est.fit(X, y, sample_weight=weight)


# Confidence bins of the ECE: [0.5, 0.55), [0.55, 0.6), …, [0.95, 1], closed on the left (the
# last on both sides). Each edge is the double nearest k/20, the same double as the literal.
ECE_EDGES = np.arange(10, 21) / 20
# Confidences are rounded to this many decimals before binning: a forest's k/n_trees or 1 − p
# lands a rounding error away from an edge, far below any model's resolution.
ECE_DECIMALS = 12


def ece_bins(confidence: np.ndarray) -> np.ndarray:
    """The ECE bin (0-9) of each confidence in [0.5, 1]; see :data:`ECE_EDGES`."""
    return np.digitize(np.round(confidence, ECE_DECIMALS), ECE_EDGES[1:-1], right=False)


def _metrics(p_pos: np.ndarray, predicted: np.ndarray, y_test: np.ndarray) -> dict[str, float]:
    """Accuracy, balance and calibration on the test set (as scikit-learn computes them)."""
    y = y_test.astype(bool)
    hit = predicted == y_test
    tpr = float(np.mean(hit[y])) if y.any() else float("nan")
    tnr = float(np.mean(hit[~y])) if (~y).any() else float("nan")
    # Macro-F1 over the classes present in the truth or the predictions, as f1_score does:
    # on a test set of one class predicted perfectly it is 1, not 0.5.
    f1 = []
    for cls in (0, 1):
        tp = np.sum((predicted == cls) & (y_test == cls))
        denom = np.sum(predicted == cls) + np.sum(y_test == cls)
        if denom:
            f1.append(2 * tp / denom)
    eps = 1e-15
    p = np.clip(p_pos, eps, 1 - eps)
    confidence = np.maximum(p_pos, 1 - p_pos)
    bins = ece_bins(confidence)
    # Σ_bins share × |accuracy − confidence| = Σ_bins |Σ hits − Σ confidence| / n
    gap = np.bincount(bins, weights=hit, minlength=10) - np.bincount(
        bins, weights=confidence, minlength=10
    )
    ece = np.abs(gap).sum() / max(len(hit), 1)
    return {
        "accuracy": float(np.mean(hit)),
        "balanced_accuracy": float(np.nanmean([tpr, tnr])),
        "macro_f1": float(np.mean(f1)) if f1 else float("nan"),
        "log_loss": float(-np.mean(np.where(y, np.log(p), np.log(1 - p)))),
        "brier": float(np.mean((p_pos - y) ** 2)),
        "ece": float(ece),
        "predicted_positive_rate": float(np.mean(predicted == 1)),
    }


def fresh_model(spec: ModelSpec, y_train: np.ndarray, random_state: int) -> BaseEstimator:
    # A training set with one class cannot fit most classifiers; predict that class.
    if np.unique(y_train).size < 2:
        return DummyClassifier(strategy="most_frequent")
    return spec.make(random_state)


__all__ = [
    "ECE_EDGES",
    "OPTION_NAMES",
    "LoopOptions",
    "SelfLabellingLoop",
    "StepRecord",
    "ece_bins",
    "model_labelled_count",
    "model_seed",
    "refreshed_rows",
]
