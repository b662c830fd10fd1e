"""The core loop on purpose-built data: labels, counts, pairing and determinism."""

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from modelcollapse.core.training import model_labelled_count
from modelcollapse.features.vectorize import restrict_to_vocabulary
from modelcollapse.loop import SelfLabellingLoop
from modelcollapse.models import ModelSpec


def make_problem(n: int = 1200, n_features: int = 60, seed: int = 0):
    """Counts whose first half of features lean positive, second half negative."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int8)
    lam = np.full((n, n_features), 0.3)
    lam[y == 1, : n_features // 2] += 0.25
    lam[y == 0, n_features // 2 :] += 0.25
    X = sp.csr_matrix(rng.poisson(lam).astype(np.int32))
    return X[:800], y[:800], X[800:], y[800:]


SIZES = [100, 200, 300, 400, 500]


def test_round_half_up():
    assert model_labelled_count(0.25, 10) == 3  # 2.5 rounds up, not to even
    assert model_labelled_count(0.0, 100) == 0
    assert model_labelled_count(1.0, 100) == 100
    assert model_labelled_count(0.03, 100) == 3


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_model_labelled_counts_per_step(rate):
    Xp, yp, Xt, yt = make_problem()
    loop = SelfLabellingLoop("nb", SIZES, rate, random_state=3).fit(Xp, yp, Xt, yt)
    expected = np.cumsum(
        [0] + [model_labelled_count(rate, b - a) for a, b in itertools.pairwise(SIZES)]
    )
    assert [r.n_model_labelled for r in loop.history_] == expected.tolist()
    assert [r.train_size for r in loop.history_] == SIZES
    assert loop.model_labelled_.sum() == expected[-1]
    # Rows the model did not label keep their true label.
    untouched = ~loop.model_labelled_
    assert np.array_equal(loop.training_labels_[untouched], yp[: SIZES[-1]][untouched])
    # The initial sample is never model-labelled.
    assert not loop.model_labelled_[: SIZES[0]].any()


def test_rate_zero_trains_on_true_labels_only():
    Xp, yp, Xt, yt = make_problem()
    loop = SelfLabellingLoop("nb", SIZES, 0.0).fit(Xp, yp, Xt, yt)
    assert np.array_equal(loop.training_labels_, yp[: SIZES[-1]])
    assert all(np.isnan(r.model_label_accuracy) for r in loop.history_)


def test_higher_rate_labels_a_superset_and_first_step_is_shared():
    Xp, yp, Xt, yt = make_problem()
    priority = np.random.default_rng(9).random(SIZES[-1])
    low = SelfLabellingLoop("nb", SIZES, 0.2, random_state=5).fit(Xp, yp, Xt, yt, priority)
    high = SelfLabellingLoop("nb", SIZES, 0.6, random_state=5).fit(Xp, yp, Xt, yt, priority)
    assert np.all(high.model_labelled_[low.model_labelled_])
    assert low.history_[0].accuracy == high.history_[0].accuracy


def test_model_label_accuracy_matches_hidden_truth():
    Xp, yp, Xt, yt = make_problem()
    loop = SelfLabellingLoop("nb", SIZES, 1.0).fit(Xp, yp, Xt, yt)
    rows = loop.model_labelled_
    overall = np.mean(loop.training_labels_[rows] == yp[: SIZES[-1]][rows])
    per_step = [r.model_label_accuracy for r in loop.history_[1:]]
    assert np.isclose(np.mean(per_step), overall)  # equal batches, so the mean of means agrees
    assert 0.5 < overall < 1.0


def test_deterministic_for_a_seed():
    Xp, yp, Xt, yt = make_problem()
    a = SelfLabellingLoop("logreg", SIZES, 0.5, random_state=11).fit(Xp, yp, Xt, yt)
    b = SelfLabellingLoop("logreg", SIZES, 0.5, random_state=11).fit(Xp, yp, Xt, yt)
    first = pd.DataFrame(a.history_records()).drop(columns=["fit_seconds", "predict_seconds"])
    second = pd.DataFrame(b.history_records()).drop(columns=["fit_seconds", "predict_seconds"])
    pd.testing.assert_frame_equal(first, second)


def test_accepts_any_sklearn_estimator():
    Xp, yp, Xt, yt = make_problem()
    spec = ModelSpec.from_estimator(LogisticRegression(max_iter=200), name="my-lr")
    loop = SelfLabellingLoop(spec, SIZES, 0.5).fit(Xp, yp, Xt, yt)
    assert loop.history_[-1].accuracy > 0.7


def test_single_class_training_set_predicts_that_class():
    Xp, yp, Xt, yt = make_problem()
    order = np.argsort(yp, kind="stable")  # negatives first
    loop = SelfLabellingLoop("nb", [10, 20], 1.0).fit(Xp[order], yp[order], Xt, yt)
    assert loop.history_[0].predicted_positive_rate == 0.0
    assert loop.history_[1].n_model_labelled == 10


@pytest.mark.parametrize(
    ("sizes", "rate", "message"),
    [([100, 50], 0.1, "increasing"), ([100, 900], 0.1, "exceeds the pool"), ([100], 1.5, "rate")],
)
def test_rejects_bad_arguments(sizes, rate, message):
    Xp, yp, Xt, yt = make_problem()
    with pytest.raises(ValueError, match=message):
        SelfLabellingLoop("nb", sizes, rate).fit(Xp, yp, Xt, yt)


def test_restricted_columns_equal_a_vectoriser_fitted_on_training_rows():
    docs = [
        "good good product",
        "bad product",
        "zebra works",
        "works well",
        "bad bad bad",
        "aardvark",
    ]
    full = CountVectorizer(token_pattern=r"\S+").fit(docs)
    X = full.transform(docs).tocsr()
    train, test = [0, 1, 4], [2, 3, 5]
    _, (X_train, X_test) = restrict_to_vocabulary(X[train], X[test])
    refit = CountVectorizer(token_pattern=r"\S+").fit([docs[i] for i in train])
    assert np.array_equal(X_train.toarray(), refit.transform([docs[i] for i in train]).toarray())
    assert np.array_equal(X_test.toarray(), refit.transform([docs[i] for i in test]).toarray())


def sparse_problem(n: int = 1200, n_features: int = 400, seed: int = 0):
    """Counts over many rare terms: each step's vocabulary grows."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int8)
    lam = rng.gamma(0.3, 0.1, n_features)[None, :].repeat(n, axis=0)
    lam[y == 1, : n_features // 2] *= 3
    lam[y == 0, n_features // 2 :] *= 3
    X = sp.csr_matrix(rng.poisson(lam).astype(np.int32))
    return X[:800], y[:800], X[800:], y[800:]


@pytest.mark.parametrize("model", ["logreg", "nb", "forest"])
def test_each_step_equals_a_plain_fit_on_the_rows_vocabulary(model):
    """The loop's sliced matrices and its scoring give what a plain refit and predict give."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import brier_score_loss

    from modelcollapse.core.seeds import model_seed
    from modelcollapse.models import get_model

    if model == "forest":
        model = ModelSpec.from_estimator(RandomForestClassifier(n_estimators=15, max_depth=6))
    spec = get_model(model)
    Xp, yp, Xt, yt = sparse_problem()
    loop = SelfLabellingLoop(spec, SIZES, 0.4, random_state=2).fit(Xp, yp, Xt, yt)
    for record in loop.history_:
        size = record.train_size
        _, (X_train, X_test) = restrict_to_vocabulary(Xp[:size], Xt)
        assert X_train.shape[1] < Xp.shape[1]  # the vocabulary is a strict subset
        est = spec.make(model_seed(2, size)).fit(X_train, loop.training_labels_[:size])
        predicted = est.predict(X_test)
        assert record.accuracy == float(np.mean(predicted == yt))
        assert record.predicted_positive_rate == float(np.mean(predicted == 1))
        brier = brier_score_loss(yt, est.predict_proba(X_test)[:, 1])
        assert record.brier == pytest.approx(brier, rel=1e-12)


def test_logreg_solves_the_dual_and_logreg_primal_the_primal_problem():
    # Both minimise the same L2 logistic loss, so they agree to liblinear's tolerance.
    from modelcollapse.models import describe_model, get_model

    X, y, X_test, _ = make_problem()
    dual, primal = get_model("logreg").make(0), get_model("logreg-primal").make(0)
    assert dual[-1].dual and not primal[-1].dual
    described = describe_model(get_model("logreg"))
    assert "dual=True" in described and "\n" not in described  # it may end up in an error
    dual.fit(X, y)
    primal.fit(X, y)
    assert (dual.predict(X_test) == primal.predict(X_test)).mean() > 0.98
    np.testing.assert_allclose(dual[-1].coef_, primal[-1].coef_, atol=0.05)


@pytest.mark.parametrize("labeller", ["current", "previous", "generation0"])
def test_the_last_fit_holds_no_earlier_model(labeller):
    """Before the last (largest) fit, the models kept for labelling are let go: nothing labels
    after it, so the results are those of keeping them (issue #15: memory at 3.6M reviews)."""
    import gc
    import weakref
    from unittest import mock

    from modelcollapse.loop import LoopOptions

    X_pool, y_pool, X_test, y_test = make_problem(seed=4)
    sizes = [100, 200, 300, 400]
    alive_at_last_fit: list[int] = []
    refs: list[weakref.ref] = []
    original = SelfLabellingLoop._fit_and_predict

    def fit_and_predict(self, spec, matrices, train_rows, labels, state, size, *args):
        if size == sizes[-1]:
            gc.collect()
            alive_at_last_fit.append(sum(ref() is not None for ref in refs))
        out = original(self, spec, matrices, train_rows, labels, state, size, *args)
        refs.append(weakref.ref(out[0]))
        return out

    options = LoopOptions(labeller=labeller)
    with mock.patch.object(SelfLabellingLoop, "_fit_and_predict", fit_and_predict):
        loop = SelfLabellingLoop("logreg", sizes, 0.5, 1, options).fit(
            X_pool, y_pool, X_test, y_test
        )
    assert alive_at_last_fit == [0]  # every earlier model was freed before the last fit
    assert loop.estimator_ is refs[-1]()  # the last model is kept
    assert all(r.n_model_labelled > 0 for r in loop.history_[1:])  # it did label
