"""The test-set metrics every engine records, defined once, for two classes or k.

The rates loop, the generational search and the generative loop all score a fitted
classifier on held-out human-labelled reviews through :func:`score`, so their results
share the columns of :data:`METRIC_COLUMNS`. Accuracy, balanced accuracy, macro-F1,
log-loss and the Brier score are those of ``sklearn.metrics``, computed here without its
input checks (they run at every step, on test sets of up to 400,000 reviews) and tested
against it (tests/test_metrics.py, two classes and four); scikit-learn has no ECE, so the
bins are defined here.

Labels are the codes 0 … k−1. Two classes are scored from P(label 1) and keep the columns
and values they always had; k > 2 classes are scored from the (n, k) matrix of class
probabilities, with the same names for the k-class forms (multi-class Brier, top-label
ECE) and, beside them, the predicted and the true class shares (:func:`share_columns`).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

# Column -> what it means; the order is the order of the results table.
METRIC_COLUMNS: dict[str, str] = {
    "accuracy": "share of the test reviews whose predicted label is right",
    "balanced_accuracy": "mean over the classes present in the test labels of the accuracy "
    "on that class (two classes: of the accuracy on positive and on negative reviews)",
    "macro_f1": "mean F1 of the classes present in the test labels or the predictions",
    "log_loss": "mean negative log-likelihood of the true labels, their probability clipped "
    "to [1e-15, 1 - 1e-15]",
    "brier": "two classes: mean squared error of P(positive) against the true label; k > 2: "
    "mean over reviews of the squared distance between the class probabilities and the "
    "one-hot true label (sklearn's brier_score_loss, range [0, 2])",
    "ece": "top-label expected calibration error over confidence bins of width 0.05 "
    "(ECE_EDGES; two classes use the 10 bins above 0.5)",
    "predicted_positive_rate": "share of the test reviews predicted positive (label 1); NaN "
    "for k > 2 classes (see pred_tv_distance)",
    "pred_tv_distance": "total-variation distance between the predicted class shares and the "
    "test set's class shares: half the sum of their absolute differences (two classes: "
    "|predicted_positive_rate - test_positive_rate|)",
}

# Confidence bins of the ECE: [0.5, 0.55), [0.55, 0.6), …, [0.95, 1], closed on the left (the
# last on both sides). Each edge is the double nearest k/20, the same double as the literal.
# k > 2 classes: the top-label confidence reaches down to 1/k, so the bins of width 0.05
# start at 0 (MULTICLASS_ECE_EDGES); above 0.5 they are the same bins.
ECE_EDGES = np.arange(10, 21) / 20
MULTICLASS_ECE_EDGES = np.arange(21) / 20
# Confidences are rounded to this many decimals before binning: a forest's k/n_trees or 1 − p
# lands a rounding error away from an edge, far below any model's resolution.
ECE_DECIMALS = 12
LOG_LOSS_EPS = 1e-15


def share_columns(n_classes: int) -> list[str]:
    """The class-share columns of a k-class result (none for two classes):
    ``predicted_share_<j>`` and ``test_share_<j>`` for every class code j."""
    if n_classes <= 2:
        return []
    return [f"predicted_share_{j}" for j in range(n_classes)] + [
        f"test_share_{j}" for j in range(n_classes)
    ]


def ece_bins(confidence: np.ndarray) -> np.ndarray:
    """The ECE bin (0-9) of each confidence in [0.5, 1]; see :data:`ECE_EDGES`."""
    return np.digitize(np.round(confidence, ECE_DECIMALS), ECE_EDGES[1:-1], right=False)


def score(
    proba: np.ndarray, predicted: np.ndarray, y_true: np.ndarray, n_classes: int = 2
) -> dict[str, float]:
    """Every column of :data:`METRIC_COLUMNS` (and, for k > 2 classes, of
    :func:`share_columns`) from the probabilities, the predicted and the true labels.

    ``proba`` is P(label 1) of each review for two classes, else the (n, k) matrix of class
    probabilities (:func:`class_proba`). A model without probabilities passes its labels as
    certain ones (:func:`predictions` does): its log-loss, Brier score and ECE are then those
    of a model certain of every label.
    """
    if n_classes <= 2:
        return _binary_score(proba, predicted, y_true)
    return _multiclass_score(proba, predicted, y_true, n_classes)


def _binary_score(p_pos: np.ndarray, predicted: np.ndarray, y_true: np.ndarray) -> dict[str, float]:
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
        "pred_tv_distance": float(abs(np.mean(predicted == 1) - np.mean(y))),
    }


def _multiclass_score(
    proba: np.ndarray, predicted: np.ndarray, y_true: np.ndarray, k: int
) -> dict[str, float]:
    y_true = np.asarray(y_true, dtype=np.intp)
    predicted = np.asarray(predicted)
    n = len(y_true)
    hit = predicted == y_true
    true_counts = np.bincount(y_true, minlength=k)
    pred_counts = np.bincount(predicted.astype(np.intp), minlength=k)
    hits = np.bincount(y_true, weights=hit, minlength=k)
    present = true_counts > 0
    # balanced_accuracy_score: recall averaged over the classes of the truth.
    recall = hits[present] / true_counts[present]
    # f1_score(average="macro"): the classes in the truth or the predictions.
    either = present | (pred_counts > 0)
    f1 = 2 * hits[either] / (pred_counts[either] + true_counts[either])
    rows = np.arange(n)
    p_true = np.clip(proba[rows, y_true], LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    onehot = np.zeros_like(proba, dtype=float)
    onehot[rows, y_true] = 1.0
    # Top-label ECE: the confidence is the probability of the predicted class.
    confidence = proba[rows, predicted.astype(np.intp)]
    bins = np.digitize(np.round(confidence, ECE_DECIMALS), MULTICLASS_ECE_EDGES[1:-1], right=False)
    gap = np.bincount(bins, weights=hit, minlength=20) - np.bincount(
        bins, weights=confidence, minlength=20
    )
    predicted_share = pred_counts / max(n, 1)
    test_share = true_counts / max(n, 1)
    out = {
        "accuracy": float(np.mean(hit)),
        "balanced_accuracy": float(np.mean(recall)) if present.any() else float("nan"),
        "macro_f1": float(np.mean(f1)) if either.any() else float("nan"),
        "log_loss": float(-np.mean(np.log(p_true))),
        "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1))),
        "ece": float(np.abs(gap).sum() / max(n, 1)),
        "predicted_positive_rate": float("nan"),
        "pred_tv_distance": float(np.abs(predicted_share - test_share).sum() / 2),
    }
    for j in range(k):
        out[f"predicted_share_{j}"] = float(predicted_share[j])
    for j in range(k):
        out[f"test_share_{j}"] = float(test_share[j])
    return out


def positive_column(est: BaseEstimator, proba: np.ndarray) -> np.ndarray:
    """P(label 1) from ``predict_proba``'s output: 0 for a model that never saw label 1."""
    classes = list(est.classes_)
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(proba))


def class_proba(est: BaseEstimator, proba: np.ndarray, n_classes: int) -> np.ndarray:
    """The (n, k) class probabilities from ``predict_proba``'s output, column j = label j:
    0 for a class the model never saw."""
    out = np.zeros((len(proba), n_classes))
    out[:, np.asarray(est.classes_, dtype=np.intp)] = proba
    return out


def label_scores(est: BaseEstimator, proba: np.ndarray, n_classes: int = 2) -> np.ndarray:
    """What :func:`score` takes from ``predict_proba``'s output: P(label 1) for two classes,
    else the class probabilities."""
    return positive_column(est, proba) if n_classes <= 2 else class_proba(est, proba, n_classes)


def certain_scores(predicted: np.ndarray, n_classes: int = 2) -> np.ndarray:
    """The scores of a model without probabilities: certain of every label it predicts."""
    if n_classes <= 2:
        return predicted.astype(float)
    return np.eye(n_classes)[np.asarray(predicted, dtype=np.intp)]


def predictions(est: BaseEstimator, X, n_classes: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The scores (:func:`label_scores`) and the predicted labels of ``est`` on ``X``, a
    pipeline's transforms run once.

    The labels are ``est.predict``'s. For two classes the scores are P(positive), the
    column of class 1 of ``predict_proba`` (0 when the model never saw class 1); a model
    without ``predict_proba`` gives its labels as certain probabilities.
    """
    if isinstance(est, Pipeline):  # predict() and predict_proba() would each transform X
        for _, step in est.steps[:-1]:
            if step is not None and step != "passthrough":
                X = step.transform(X)
        est = est.steps[-1][1]
    if not hasattr(est, "predict_proba"):
        predicted = est.predict(X)
        return certain_scores(predicted, n_classes), predicted
    proba = est.predict_proba(X)
    scores = label_scores(est, proba, n_classes)
    # A forest's predict() is defined as the class of highest mean probability, computed by
    # predict_proba(): take it from there rather than run every tree twice (1,000 trees).
    if type(est).predict is RandomForestClassifier.predict and est.n_outputs_ == 1:
        return scores, est.classes_.take(np.argmax(proba, axis=1), axis=0)
    return scores, est.predict(X)


def evaluate(est: BaseEstimator, X, y_true: np.ndarray, n_classes: int = 2) -> dict[str, float]:
    """:func:`score` of a fitted model on a test set."""
    return score(*predictions(est, X, n_classes), y_true, n_classes)


__all__ = [
    "ECE_DECIMALS",
    "ECE_EDGES",
    "METRIC_COLUMNS",
    "MULTICLASS_ECE_EDGES",
    "certain_scores",
    "class_proba",
    "ece_bins",
    "evaluate",
    "label_scores",
    "positive_column",
    "predictions",
    "score",
    "share_columns",
]
