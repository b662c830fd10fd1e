"""The test-set metrics every engine records agree with scikit-learn, the ECE with hand
computation and exact arithmetic, and every engine stores every metric column."""

import warnings
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
)
from sklearn.svm import LinearSVC

from modelcollapse.compare import compare
from modelcollapse.core.metrics import METRIC_COLUMNS, ece_bins, predictions, score
from modelcollapse.core.training import fresh_model
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.models import get_model
from modelcollapse.runner import run_experiment
from modelcollapse.store import RunStore


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
    got = score(p, predicted, y)
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
    assert score(np.full(20, 0.9), y, y)["macro_f1"] == 1.0


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


def test_ece_by_hand_on_purpose_built_predictions():
    # Four confidence bins, two of them (0.55 and 0.6 = 1 − 0.4) on an edge; the bins' gaps
    # have opposite signs, so a row in the wrong bin changes the sum.
    p = np.r_[np.full(4, 0.9), np.full(4, 0.3), np.full(2, 0.55), np.full(2, 0.4)]
    y = np.r_[1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0]
    predicted = (p >= 0.5).astype(int)
    assert ece_bins(np.maximum(p, 1 - p)).tolist() == [8] * 4 + [4] * 4 + [1, 1, 2, 2]
    # ECE = Σ share × |accuracy − confidence|, bin by bin:
    #   0.9: 4/12 × |3/4 − 0.9| = 0.05;   0.7: 4/12 × |1 − 0.7| = 0.1;
    #   0.55: 2/12 × |1/2 − 0.55| = 1/120; 0.6: 2/12 × |1 − 0.6| = 1/15.
    got = score(p, predicted, y)
    assert got["ece"] == pytest.approx(0.05 + 0.1 + 1 / 120 + 1 / 15, abs=1e-12)
    assert got["ece"] == pytest.approx(0.225, abs=1e-12)
    assert got["accuracy"] == pytest.approx(10 / 12)
    assert got["log_loss"] == pytest.approx(log_loss(y, p))
    assert got["brier"] == pytest.approx(brier_score_loss(y, p))
    assert got["macro_f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, predicted))


def test_every_metric_column_is_scored_and_described():
    y = np.r_[0, 1, 1, 0]
    assert list(score(np.r_[0.2, 0.8, 0.4, 0.1], np.r_[0, 1, 0, 0], y)) == list(METRIC_COLUMNS)
    assert all(meaning for meaning in METRIC_COLUMNS.values())
    methods = (Path(__file__).parents[1] / "docs" / "methods.md").read_text(encoding="utf-8")
    for name in METRIC_COLUMNS:
        assert f"`{name}`" in methods, name


def small_problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 400)
    lam = np.where(y[:, None] == 1, np.r_[[0.5] * 10, [0.2] * 10], np.r_[[0.2] * 10, [0.5] * 10])
    X = sp.csr_matrix(rng.poisson(lam))
    return X[:300], y[:300], X[300:], y[300:]


def test_predictions_are_the_models_own():
    X, y, X_test, _ = small_problem()
    for name in ("logreg", "nb", "fast-rf"):
        est = get_model(name).make(0).fit(X, y)
        p_pos, predicted = predictions(est, X_test)
        assert np.array_equal(predicted, est.predict(X_test)), name
        assert np.allclose(p_pos, est.predict_proba(X_test)[:, 1], rtol=0, atol=1e-15), name
    # One class seen: P(positive) is 0 without class 1, 1 with only class 1.
    for cls in (0, 1):
        constant = fresh_model(get_model("logreg"), np.full(300, cls), 0).fit(X, np.full(300, cls))
        p_pos, predicted = predictions(constant, X_test)
        assert (predicted == cls).all() and (p_pos == cls).all()


def test_a_model_without_probabilities_scores_its_labels_as_certain():
    X, y, X_test, y_test = small_problem()
    est = LinearSVC().fit(X, y)
    p_pos, predicted = predictions(est, X_test)
    assert np.array_equal(p_pos, predicted.astype(float))
    got = score(p_pos, predicted, y_test)
    wrong = 1 - accuracy_score(y_test, predicted)
    assert 0 < wrong < 0.5
    # Every confidence is 1 (the last bin): the ECE and the Brier score are the error rate.
    assert got["ece"] == pytest.approx(wrong) and got["brier"] == pytest.approx(wrong)
    assert got["log_loss"] == pytest.approx(log_loss(y_test, np.clip(p_pos, 1e-15, 1 - 1e-15)))


ENGINES = """
name = "engines"
model = "logreg"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 150
increment = 150
max_size = 450
rates = [0.0, 1.0]
test_size = 300
repeats = 2

[[study]]
name = "breed"
kind = "generations"
sample_size = 150
validation_size = 150
population = 3
keep = 1
max_generations = 2
rates = [0.0, 1.0]
test_size = 150
repeats = 2

[[study]]
name = "write"
kind = "generative"
sample_size = 150
generations = 1
regimes = ["replace", "accumulate"]
test_size = 150
repeats = 2
"""


def test_every_engine_stores_every_metric_column(tmp_path, small_reviews):
    config = tmp_path / "engines.toml"
    config.write_text(ENGINES)
    out = tmp_path / "run"
    run_experiment(apply_overrides(load_config(config), data=str(small_reviews)), out)
    table = RunStore(out).read_results()
    assert set(table["kind"]) == {"rates", "generations", "generative"}
    for kind, rows in table.groupby("kind"):
        for name in METRIC_COLUMNS:
            values = rows[name].to_numpy(float)
            assert np.isfinite(values).all(), (kind, name)
        assert ((rows["ece"] >= 0) & (rows["ece"] <= 1)).all(), kind
        assert ((rows["brier"] >= 0) & (rows["brier"] <= 1)).all(), kind
        assert (rows["log_loss"] > 0).all() and (rows["balanced_accuracy"] <= 1).all(), kind
        # Balanced accuracy and macro-F1 are not accuracy under another name.
        assert (rows["balanced_accuracy"] != rows["accuracy"]).any(), kind
    # compare takes the calibration columns of the generational kinds like any other metric.
    for study, baseline, metric in (("breed", "rate=0", "log_loss"),
                                    ("write", "regime=accumulate", "ece")):  # fmt: skip
        result = compare(out, baseline=baseline, metric=metric, study=study)
        assert len(result) and np.isfinite(result["mean_diff"]).all(), (study, metric)
