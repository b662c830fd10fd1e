"""k classes through the core: metrics against scikit-learn, label policies over k classes,
fast scoring equal to plain scikit-learn, and every study kind on a 4-class corpus of real text
(tests/kclass_corpus.py)."""

import warnings
from decimal import Decimal
from itertools import pairwise
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from kclass_corpus import kclass_corpus
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
)
from sklearn.multiclass import OneVsRestClassifier

from modelcollapse.compare import compare_results
from modelcollapse.core.metrics import (
    METRIC_COLUMNS,
    certain_scores,
    class_proba,
    score,
    share_columns,
)
from modelcollapse.core.options import LoopOptions
from modelcollapse.core.policies import (
    LabelRequest,
    class_quotas,
    fill_quotas,
    make_labels,
)
from modelcollapse.core.training import fresh_model
from modelcollapse.experiments.config import apply_overrides, load_config, validate_config
from modelcollapse.loop import HUMAN, MODEL, SelfLabellingLoop, _fit_weighted
from modelcollapse.models import get_model
from modelcollapse.runner import run_experiment
from modelcollapse.scoring import FastMatrices, PlainMatrices

K = 4


# --- metrics -------------------------------------------------------------------------------


def decimal_bin(confidence: float) -> int:
    """The 0.05-wide bin over [0, 1] of the number as printed, in exact decimal arithmetic."""
    return min(int(Decimal(repr(float(confidence))) * 20), 19)


def multiclass_cases():
    rng = np.random.default_rng(0)
    y = rng.integers(0, K, 600)
    logits = rng.normal(0, 1, (600, K)) + 2.0 * np.eye(K)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    yield "mixed", y, proba, proba.argmax(axis=1)
    no_three = np.where(y == 3, 0, y)  # class 3 absent from the truth, still predicted
    yield "class missing from the truth", no_three, proba, proba.argmax(axis=1)
    never = proba.copy()
    never[:, 2] = 0.0  # class 2 never predicted, and P(true class) = 0 for its rows
    never /= never.sum(axis=1, keepdims=True)
    yield "class never predicted", y, never, never.argmax(axis=1)
    guesses = np.where(rng.random(600) < 0.7, y, rng.integers(0, K, 600))
    yield "no probabilities", y, certain_scores(guesses, K), guesses
    # Forest-like probabilities (votes / 20 trees): many confidences on bin edges.
    votes = rng.multinomial(20, [0.25] * K, 600) + 5 * np.eye(K, dtype=int)[y]
    forest = votes / votes.sum(axis=1, keepdims=True)
    yield "forest", y, forest, forest.argmax(axis=1)


@pytest.mark.parametrize(
    ("name", "y", "proba", "predicted"), list(multiclass_cases()),
    ids=[c[0] for c in multiclass_cases()],
)  # fmt: skip
def test_multiclass_metrics_agree_with_scikit_learn(name, y, proba, predicted):
    got = score(proba, predicted, y, K)
    assert list(got) == [*METRIC_COLUMNS, *share_columns(K)]
    labels = list(range(K))
    assert got["accuracy"] == pytest.approx(accuracy_score(y, predicted))
    assert got["macro_f1"] == pytest.approx(f1_score(y, predicted, average="macro"))
    with warnings.catch_warnings():  # "y_pred contains classes not in y_true"
        warnings.simplefilter("ignore")
        assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, predicted))
    clipped = np.clip(proba, 1e-15, 1 - 1e-15)
    true_p = clipped[np.arange(len(y)), y]
    assert got["log_loss"] == pytest.approx(-np.mean(np.log(true_p)))
    if (proba[np.arange(len(y)), y] > 0).all():  # sklearn clips zeros at its eps, not 1e-15
        assert got["log_loss"] == pytest.approx(log_loss(y, proba, labels=labels))
    assert got["brier"] == pytest.approx(brier_score_loss(y, proba, labels=labels))
    assert np.isnan(got["predicted_positive_rate"])
    predicted_share = np.bincount(predicted, minlength=K) / len(y)
    test_share = np.bincount(y, minlength=K) / len(y)
    for j in range(K):
        assert got[f"predicted_share_{j}"] == pytest.approx(predicted_share[j])
        assert got[f"test_share_{j}"] == pytest.approx(test_share[j])
    assert got["pred_tv_distance"] == pytest.approx(
        0.5 * sum(abs(predicted_share[j] - test_share[j]) for j in range(K))
    )
    # Top-label ECE against a plain loop over exact decimal bins of width 0.05.
    confidence = proba[np.arange(len(y)), predicted]
    bins = [decimal_bin(c) for c in confidence]
    ece = 0.0
    for b in range(20):
        members = [i for i in range(len(y)) if bins[i] == b]
        if members:
            hits = np.mean(predicted[members] == y[members])
            ece += len(members) / len(y) * abs(hits - np.mean(confidence[members]))
    assert got["ece"] == pytest.approx(ece)


def test_two_classes_keep_their_columns_and_add_the_tv_distance():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    p = np.clip(np.where(y == 1, 0.7, 0.3) + rng.normal(0, 0.2, 300), 0.01, 0.99)
    predicted = (p >= 0.5).astype(int)
    got = score(p, predicted, y)
    assert list(got) == list(METRIC_COLUMNS)  # no class-share columns for two classes
    assert got["pred_tv_distance"] == pytest.approx(abs(predicted.mean() - y.mean()))
    # The k-class definitions agree with the binary ones on two classes (Brier: sklearn's
    # binary score is half the two-class sum, its scale_by_half="auto").
    both = score(np.column_stack([1 - p, p]), predicted, y, 3)
    for name in ("accuracy", "balanced_accuracy", "macro_f1", "log_loss", "ece",
                 "pred_tv_distance"):  # fmt: skip
        assert both[name] == pytest.approx(got[name]), name
    assert both["brier"] == pytest.approx(2 * got["brier"])


def test_class_probabilities_are_placed_by_label():
    class Seen:  # a model that saw classes 0, 2 and 3 of four
        classes_ = np.array([0, 2, 3])

    proba = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    assert class_proba(Seen(), proba, K).tolist() == [[0.2, 0, 0.5, 0.3], [0.6, 0, 0.1, 0.3]]


# --- label policies ------------------------------------------------------------------------


def request(proba, uniforms=None, shares=None, **options):
    proba = np.asarray(proba, dtype=float)
    n, k = proba.shape
    uniforms = np.random.default_rng(0).random(n) if uniforms is None else uniforms

    class Labeller:
        def predict(self, X):
            return proba.argmax(axis=1)

    shares = np.full(k, 1 / k) if shares is None else np.asarray(shares)
    return LabelRequest(
        Labeller(), None, uniforms, float(shares[1]), LoopOptions(**options),
        lambda: proba[:, 1], k, shares, lambda: proba,
    )  # fmt: skip


def test_sampled_labels_follow_the_predicted_distribution():
    # Known truth: every row has the distribution p; the labels' shares estimate it.
    p = np.array([0.1, 0.2, 0.3, 0.4])
    n = 40_000
    made = make_labels("sample", request(np.tile(p, (n, 1)), label_policy="sample")).made
    share = np.bincount(made, minlength=K) / n
    assert np.all(np.abs(share - p) < 4 * np.sqrt(p * (1 - p) / n)), share
    # The draw is the inverse CDF of the row's uniform: a lower uniform never draws a higher class.
    u = np.linspace(0, 0.999, 50)
    made = make_labels("sample", request(np.tile(p, (50, 1)), u, label_policy="sample")).made
    assert np.all(np.diff(made) >= 0)
    assert made.tolist() == np.searchsorted(np.cumsum(p), u, side="right").tolist()


def test_threshold_keeps_the_top_class_where_its_probability_reaches_the_threshold():
    proba = np.array([[0.7, 0.1, 0.1, 0.1], [0.3, 0.3, 0.4, 0.0], [0.05, 0.05, 0.05, 0.85]])
    got = make_labels("threshold", request(proba, label_policy="threshold", threshold=0.6))
    assert got.made.tolist() == [0, 2, 3]
    assert got.keep.tolist() == [True, False, True]


def test_class_quotas_round_by_largest_remainder():
    assert class_quotas(np.array([0.5, 0.25, 0.25]), 10).tolist() == [5, 3, 2]
    rng = np.random.default_rng(1)
    for _ in range(50):
        shares = rng.dirichlet(np.ones(K))
        n = int(rng.integers(1, 200))
        quota = class_quotas(shares, n)
        assert quota.sum() == n and np.all(np.abs(quota - shares * n) < 1)


def test_balanced_labels_keep_the_human_shares_most_confident_first():
    rng = np.random.default_rng(2)
    proba = rng.dirichlet(np.ones(K), 101)
    shares = np.array([0.4, 0.3, 0.2, 0.1])
    made = make_labels("balanced", request(proba, shares=shares, label_policy="balanced")).made
    assert np.bincount(made, minlength=K).tolist() == class_quotas(shares, 101).tolist()
    # Purpose-built: each row clearly of one class, quotas matching: every row gets its class.
    clear = np.eye(K)[[0, 1, 2, 3, 3, 2]] * 0.7 + 0.075
    made = fill_quotas(clear, np.array([1, 1, 2, 2]))
    assert made.tolist() == [0, 1, 2, 3, 3, 2]
    # With two classes the greedy fill is the binary rule: the top rows by P(positive).
    for seed in range(20):
        p = np.random.default_rng(seed).random(60)
        n_pos = int(seed * 3)
        binary = np.zeros(60, int)
        binary[np.argsort(-p, kind="stable")[:n_pos]] = 1
        made = fill_quotas(np.column_stack([1 - p, p]), np.array([60 - n_pos, n_pos]))
        assert made.tolist() == binary.tolist()


# --- the loop and its scoring --------------------------------------------------------------


def counts(n: int, n_features: int, seed: int = 0):
    """Counts over rare terms; each of the K classes leans on its own quarter of them."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, K, n).astype(np.int8)
    lam = rng.gamma(0.3, 0.1, n_features)[None, :].repeat(n, axis=0)
    quarter = n_features // K
    for c in range(K):
        lam[y == c, c * quarter : (c + 1) * quarter] *= 4
    return sp.csr_matrix(rng.poisson(lam).astype(np.int32)), y


DESIGNS = {
    "argmax": LoopOptions(),
    "sample-weighted": LoopOptions(label_policy="sample", model_weight=0.5, arms=True),
    "threshold": LoopOptions(label_policy="threshold", threshold=0.5, regime="replace"),
    "balanced": LoopOptions(label_policy="balanced"),
}


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("model", ["logreg", "nb"])
def test_fast_scoring_equals_plain_scikit_learn_on_four_classes(model, design):
    X, y = counts(1000, 400, seed=1)
    sizes, runs, scored = [100, 200, 300, 400], {}, {}
    for fast in (True, False):
        cls = FastMatrices if fast else PlainMatrices
        seen = scored[fast] = []

        def predictions(self, est, vocabulary, _seen=seen, _original=cls.predictions):
            out = _original(self, est, vocabulary)
            _seen.append(out)
            return out

        with mock.patch.object(cls, "predictions", predictions):
            loop = SelfLabellingLoop(model, sizes, 0.5, 7, DESIGNS[design], fast=fast)
            loop.fit(X[:400], y[:400], X[400:], y[400:], n_classes=K)
        runs[fast] = pd.DataFrame(loop.history_records()).drop(
            columns=["fit_seconds", "predict_seconds"]
        )
    for (p_fast, fast_labels), (p_plain, plain_labels) in zip(
        scored[True], scored[False], strict=True
    ):
        assert p_fast.shape == (600, K)
        np.testing.assert_array_equal(fast_labels, plain_labels)
        np.testing.assert_allclose(p_fast, p_plain, rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(runs[True], runs[False], rtol=1e-9)
    last = runs[True].iloc[-1]
    assert last.accuracy > 0.5  # four classes: chance is 0.25
    assert set(share_columns(K)) <= set(runs[True].columns)


def test_the_closed_form_scores_one_vs_rest_without_a_restricted_test_copy():
    X, y = counts(600, 300, seed=4)
    rows = np.arange(0, 300, 2)  # fewer rows than drawn: a vocabulary of fewer columns
    fast, plain = FastMatrices(X[:300], X[300:], K), PlainMatrices(X[:300], X[300:], K)
    X_fit, v_fast = fast.training_matrix(rows, 300)
    _, v_plain = plain.training_matrix(rows, 300)
    est = fresh_model(get_model("logreg"), y[rows], 0).fit(X_fit, y[rows])
    assert isinstance(est.steps[-1][1], OneVsRestClassifier)
    with mock.patch("modelcollapse.scoring.take_columns", side_effect=AssertionError("a copy")):
        proba, labels = fast.predictions(est, v_fast)
    p_plain, plain_labels = plain.predictions(est, v_plain)
    np.testing.assert_array_equal(labels, plain_labels)
    np.testing.assert_allclose(proba, p_plain, rtol=1e-12, atol=1e-15)
    assert len(np.unique(labels)) == K


def test_one_vs_rest_passes_the_model_rows_weights_to_every_class():
    X, y = counts(300, 200, seed=5)
    weight = np.where(np.arange(300) % 3 == 0, 0.25, 1.0)
    est = fresh_model(get_model("logreg"), y, 0)
    _fit_weighted(est, X, y, weight)
    tfidf = est.steps[0][1]
    Xt = tfidf.transform(X)
    for c, fit in enumerate(est.steps[-1][1].estimators_):
        alone = LogisticRegression(solver="liblinear", dual=True, random_state=0)
        alone.fit(Xt, (y == c).astype(int), sample_weight=weight)
        np.testing.assert_allclose(fit.coef_, alone.coef_)


def test_balanced_loop_labels_follow_the_human_class_shares():
    X, y = counts(1000, 400, seed=6)
    sizes = [200, 400, 600]
    loop = SelfLabellingLoop("nb", sizes, 1.0, 3, LoopOptions(label_policy="balanced"))
    loop.fit(X[:600], y[:600], X[600:], y[600:], n_classes=K)
    shares = np.bincount(y[:200], minlength=K) / 200
    for done, size in pairwise(sizes):
        made = loop.training_labels_[done:size][loop.row_state_[done:size] == MODEL]
        assert np.bincount(made, minlength=K).tolist() == class_quotas(shares, size - done).tolist()
    assert np.all(loop.row_state_[:200] == HUMAN)


# --- every study kind on a 4-class corpus of real text -------------------------------------


@pytest.fixture(scope="module")
def corpus():
    c = kclass_corpus()
    assert len(c.label_names) == K and set(np.unique(c.labels)) == set(range(K))
    return c


def check_k_class_columns(results: pd.DataFrame) -> None:
    for name in ["pred_tv_distance", *share_columns(K)]:
        assert results[name].notna().all(), name
    predicted = results[[f"predicted_share_{j}" for j in range(K)]].sum(axis=1)
    tested = results[[f"test_share_{j}" for j in range(K)]].sum(axis=1)
    np.testing.assert_allclose(predicted, 1.0)
    np.testing.assert_allclose(tested, 1.0)
    assert results["predicted_positive_rate"].isna().all()
    assert results["test_positive_rate"].isna().all()


def test_every_loop_kind_runs_on_four_classes(corpus, tmp_path):
    # The demo preset: a learning curve, total collapse and collapse rates.
    config = apply_overrides(load_config("demo"), scale=0.1, repeats=1, seed=3)
    run = run_experiment(config, tmp_path / "run", data=corpus, use_cache=False)
    assert run.complete
    results = run.results
    assert set(results["kind"]) == {"learning-curve", "total-collapse", "rates"}
    check_k_class_columns(results)
    last = results.loc[results["experiment"] == "collapse-rates"].groupby("rate").last()
    # Trained on true labels, the model learns the topics (chance: the largest class, ~0.3);
    # labelling its own training set, argmax drifts towards one class.
    assert last.loc[0.0, "accuracy"] > 0.6
    assert last.loc[1.0, "pred_tv_distance"] > last.loc[0.0, "pred_tv_distance"] + 0.2
    assert last.loc[1.0, "accuracy"] < last.loc[0.0, "accuracy"] - 0.2
    table = compare_results(results, metric="pred_tv_distance", baseline="rate=0")
    assert table.attrs["metric"] == "pred_tv_distance" and table["mean_diff"].notna().any()


def test_generational_kinds_run_on_four_classes(corpus, tmp_path):
    studies = {
        "generations": dict(sample_size=200, validation_size=200, population=3, keep=1,
                            max_generations=2, rates=[0.0, 1.0], test_size=300),
        "generative": dict(sample_size=400, generations=2, test_size=300),
    }  # fmt: skip
    for name, study in studies.items():
        raw = load_config(name).model_dump()
        raw["study"][0].update(study, repeats=1)
        raw["seed"] = 3
        run = run_experiment(
            validate_config(raw, "test"), tmp_path / name, data=corpus, use_cache=False
        )
        assert run.complete, name
        check_k_class_columns(run.results)
        assert run.results.groupby("trajectory")["step"].max().min() >= 1, name
        first = run.results.loc[run.results["step"] == 0]
        assert first["accuracy"].max() > 0.5, name
