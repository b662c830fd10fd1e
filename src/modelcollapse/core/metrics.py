"""The test-set metrics every engine records, defined once.

The rates loop, the generational search and the generative loop all score a fitted
classifier on held-out human-labelled reviews through :func:`score`, so their results
share the columns of :data:`METRIC_COLUMNS`. Accuracy, balanced accuracy, macro-F1,
log-loss and the Brier score are those of ``sklearn.metrics``, computed here without its
input checks (they run at every step, on test sets of up to 400,000 reviews) and tested
against it (tests/test_metrics.py); scikit-learn has no ECE, so the bins are defined here.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

# Column -> what it means; the order is the order of the results table.
METRIC_COLUMNS: dict[str, str] = {
    "accuracy": "share of the test reviews whose predicted label is right",
    "balanced_accuracy": "mean of the accuracy on positive and on negative test reviews",
    "macro_f1": "mean F1 of the classes present in the test labels or the predictions",
    "log_loss": "mean negative log-likelihood of the true labels, P(positive) clipped to "
    "[1e-15, 1 - 1e-15]",
    "brier": "mean squared error of P(positive) against the true label",
    "ece": "expected calibration error over 10 confidence bins of width 0.05 (ECE_EDGES)",
    "predicted_positive_rate": "share of the test reviews predicted positive",
}

# Confidence bins of the ECE: [0.5, 0.55), [0.55, 0.6), …, [0.95, 1], closed on the left (the
# last on both sides). Each edge is the double nearest k/20, the same double as the literal.
ECE_EDGES = np.arange(10, 21) / 20
# Confidences are rounded to this many decimals before binning: a forest's k/n_trees or 1 − p
# lands a rounding error away from an edge, far below any model's resolution.
ECE_DECIMALS = 12
LOG_LOSS_EPS = 1e-15


def ece_bins(confidence: np.ndarray) -> np.ndarray:
    """The ECE bin (0-9) of each confidence in [0.5, 1]; see :data:`ECE_EDGES`."""
    return np.digitize(np.round(confidence, ECE_DECIMALS), ECE_EDGES[1:-1], right=False)


def score(p_pos: np.ndarray, predicted: np.ndarray, y_true: np.ndarray) -> dict[str, float]:
    """Every column of :data:`METRIC_COLUMNS` from P(positive), the predicted and the true labels.

    A model without probabilities passes its labels as P(positive) (0 or 1): its log-loss,
    Brier score and ECE are then those of a model certain of every label.
    """
    y_true = np.asarray(y_true)
    y = y_true.astype(bool)
    hit = predicted == y_true
    tpr = float(np.mean(hit[y])) if y.any() else float("nan")
    tnr = float(np.mean(hit[~y])) if (~y).any() else float("nan")
    # Macro-F1 over the classes present in the truth or the predictions, as f1_score does:
    # on a test set of one class predicted perfectly it is 1, not 0.5.
    f1 = []
    for cls in (0, 1):
        tp = np.sum((predicted == cls) & (y_true == cls))
        denom = np.sum(predicted == cls) + np.sum(y_true == cls)
        if denom:
            f1.append(2 * tp / denom)
    p = np.clip(p_pos, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
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


def positive_column(est: BaseEstimator, proba: np.ndarray) -> np.ndarray:
    """P(label 1) from ``predict_proba``'s output: 0 for a model that never saw label 1."""
    classes = list(est.classes_)
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(proba))


def predictions(est: BaseEstimator, X) -> tuple[np.ndarray, np.ndarray]:
    """P(positive) and the predicted labels of ``est`` on ``X``, a pipeline's transforms run once.

    The labels are ``est.predict``'s. P(positive) is the column of class 1 of
    ``predict_proba`` (0 when the model never saw class 1); a model without
    ``predict_proba`` gives its labels as probabilities.
    """
    if isinstance(est, Pipeline):  # predict() and predict_proba() would each transform X
        for _, step in est.steps[:-1]:
            if step is not None and step != "passthrough":
                X = step.transform(X)
        est = est.steps[-1][1]
    if not hasattr(est, "predict_proba"):
        predicted = est.predict(X)
        return predicted.astype(float), predicted
    proba = est.predict_proba(X)
    p_pos = positive_column(est, proba)
    # A forest's predict() is defined as the class of highest mean probability, computed by
    # predict_proba(): take it from there rather than run every tree twice (1,000 trees).
    if type(est).predict is RandomForestClassifier.predict and est.n_outputs_ == 1:
        return p_pos, est.classes_.take(np.argmax(proba, axis=1), axis=0)
    return p_pos, est.predict(X)


def evaluate(est: BaseEstimator, X, y_true: np.ndarray) -> dict[str, float]:
    """:func:`score` of a fitted model on a test set."""
    return score(*predictions(est, X), y_true)


__all__ = [
    "ECE_DECIMALS",
    "ECE_EDGES",
    "METRIC_COLUMNS",
    "ece_bins",
    "evaluate",
    "positive_column",
    "predictions",
    "score",
]
