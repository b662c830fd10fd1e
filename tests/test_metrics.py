"""The loop's test-set metrics agree with scikit-learn, and the ECE bins with exact arithmetic."""

import warnings
from decimal import Decimal

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
)

from modelcollapse.loop import _metrics, ece_bins


def decimal_bin(confidence: float) -> int:
    """The bin of the number as printed (shortest repr), in exact decimal arithmetic."""
    return min(int((Decimal(repr(float(confidence))) - Decimal("0.5")) * 20), 9)


def cases():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = np.clip(np.where(y == 1, 0.7, 0.3) + rng.normal(0, 0.2, 500), 0.01, 0.99)
    yield "mixed", y, p
    yield "one class, all right", np.ones(50, int), np.full(50, 0.8)
    yield "one class, some wrong", np.zeros(50, int), np.r_[np.full(40, 0.2), np.full(10, 0.7)]
    yield "predicts one class", y, np.full(500, 0.9)
    yield "perfect", y, np.where(y == 1, 0.95, 0.05)
    # Forest-like probabilities k/n_trees, many on bin edges.
    yield "forest", y, rng.integers(0, 301, 500) / 300


@pytest.mark.parametrize(("name", "y", "p"), list(cases()), ids=[c[0] for c in cases()])
def test_metrics_agree_with_scikit_learn(name, y, p):
    predicted = (p >= 0.5).astype(int)
    got = _metrics(p, predicted, y)
    assert got["accuracy"] == pytest.approx(accuracy_score(y, predicted))
    assert got["macro_f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    with warnings.catch_warnings():  # one class: "y_pred contains classes not in y_true"
        warnings.simplefilter("ignore")
        balanced = balanced_accuracy_score(y, predicted)
    assert got["balanced_accuracy"] == pytest.approx(balanced)
    clipped = np.clip(p, 1e-15, 1 - 1e-15)
    assert got["log_loss"] == pytest.approx(log_loss(y, clipped, labels=[0, 1]))
    assert got["brier"] == pytest.approx(brier_score_loss(y, p, pos_label=1))
    assert got["predicted_positive_rate"] == pytest.approx(predicted.mean())
    # ECE against a plain loop over the bins of the exact decimal confidences.
    confidence = np.maximum(p, 1 - p)
    bins = [decimal_bin(c) for c in confidence]
    ece = 0.0
    for b in range(10):
        members = [i for i in range(len(y)) if bins[i] == b]
        if members:
            hits = np.mean(predicted[members] == y[members])
            ece += len(members) / len(y) * abs(hits - np.mean(confidence[members]))
    assert got["ece"] == pytest.approx(ece)


def test_one_class_test_set_macro_f1_is_one():
    # Issue #10, defect 8: 0.5 here, where scikit-learn gives 1.0.
    y = np.ones(20, int)
    assert _metrics(np.full(20, 0.9), y, y)["macro_f1"] == 1.0


def test_ece_bins_are_closed_on_the_left_at_every_edge():
    # Issue #10, defect 8: 0.6 fell in bin 1 and 0.7 in bin 3 (both belong to bins 2 and 4).
    edges = np.array([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0])
    assert ece_bins(edges).tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9]
    # Probabilities of forests (k/n_trees) and their complements, against exact arithmetic.
    for n_trees in (3, 7, 10, 20, 100, 300, 1000):
        p = np.arange(n_trees + 1) / n_trees
        confidence = np.maximum(p, 1 - p)
        expected = [min(20 * max(k, n_trees - k) // n_trees - 10, 9) for k in range(n_trees + 1)]
        assert ece_bins(confidence).tolist() == expected, n_trees
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.5, 1.0, 10_000)
    assert ece_bins(confidence).tolist() == [decimal_bin(c) for c in confidence]
