"""The loop's speed tricks are switchable: ``fast=False`` (plain scikit-learn) predicts the same."""

from unittest import mock

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import LinearSVC

from modelcollapse.features.vectorize import restrict_to_vocabulary
from modelcollapse.linalg import column_rank, take_columns
from modelcollapse.loop import LoopOptions, SelfLabellingLoop
from modelcollapse.models import ModelSpec
from modelcollapse.scoring import FastMatrices, PlainMatrices


def counts(n: int, n_features: int, seed: int = 0):
    """Counts over many rare terms that lean positive (first half) or negative."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int8)
    lam = rng.gamma(0.3, 0.1, n_features)[None, :].repeat(n, axis=0)
    lam[y == 1, : n_features // 2] *= 3
    lam[y == 0, n_features // 2 :] *= 3
    return sp.csr_matrix(rng.poisson(lam).astype(np.int32)), y


def without(M: sp.csr_matrix, cols) -> sp.csr_matrix:
    M = M.tolil()
    M[:, cols] = 0
    M = M.tocsr()
    M.eliminate_zeros()
    return M


def test_take_columns_equals_scipy_indexing():
    rng = np.random.default_rng(0)
    X = sp.random(40, 300, density=0.05, format="csr", random_state=1, dtype=np.float64)
    X.data = rng.integers(1, 5, X.nnz).astype(np.int32)
    X = X.astype(np.int32)
    shuffled = X.copy()  # indices out of order within rows: the order must survive
    for i in range(shuffled.shape[0]):
        a, b = shuffled.indptr[i], shuffled.indptr[i + 1]
        order = rng.permutation(b - a)
        shuffled.indices[a:b] = shuffled.indices[a:b][order]
        shuffled.data[a:b] = shuffled.data[a:b][order]
    for columns in (np.arange(300), np.sort(rng.choice(300, 37, replace=False)), np.array([], int)):
        for M in (X, shuffled, X[5:5]):
            expected = M[:, columns]
            for got in (
                take_columns(M, columns),
                take_columns(M, columns, column_rank(columns, 300)),
            ):
                assert got.shape == expected.shape
                for name in ("data", "indices", "indptr"):
                    assert np.array_equal(getattr(got, name), getattr(expected, name)), name
    assert take_columns(X, np.arange(300)) is X  # every column: no copy
    # The vocabulary helper of the features restricts through the same function.
    columns, (X_rows, X_other) = restrict_to_vocabulary(X[:10], shuffled)
    assert np.array_equal(columns, np.flatnonzero(X[:10].getnnz(axis=0)))
    assert (X_rows != X[:10][:, columns]).nnz == 0
    assert np.array_equal(X_other.indices, shuffled[:, columns].indices)


def fitted_on_fewer_columns():
    """A pool whose first 200 rows use 300 of the 330 columns the pool uses, and a test set
    with terms no fit can see and reviews with no known term."""
    X, y = counts(1500, 400)
    full = sp.csr_matrix(X[:300].toarray() + 1)  # every term in every pool row, then fewer
    first, rest = (
        without(full[:200], np.r_[100:120, 320:400]),
        without(full[200:], np.r_[100:120, 350:400]),
    )
    pool = sp.vstack([first, rest]).tocsr()
    X_test = without(X[300:].T, np.arange(5)).T.tocsr()  # the first 5 reviews: no term at all
    fast, plain = FastMatrices(pool, X_test), PlainMatrices(pool, X_test)
    rows = np.arange(200)
    (X_fast, v_fast), (X_plain, v_plain) = (
        fast.training_matrix(rows, 200),
        plain.training_matrix(rows, 200),
    )
    assert fast.pool.shape[1] == 330 and len(v_fast.columns) == len(v_plain.columns) == 300
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(X_fast, name), getattr(X_plain, name)), name
    return (fast, v_fast), (plain, v_plain), X_fast, y[:200]


@pytest.mark.parametrize(
    "tfidf",
    [
        {"sublinear_tf": True},
        {"sublinear_tf": False, "norm": "l1"},
        {"norm": None},
        {"use_idf": False},
    ],
    ids=["sublinear-l2", "l1", "no-norm", "no-idf"],
)
def test_tfidf_logreg_closed_form_equals_the_pipeline(tfidf):
    (fast, v_fast), (plain, v_plain), X_fit, y = fitted_on_fewer_columns()
    est = make_pipeline(TfidfTransformer(**tfidf), LogisticRegression(C=10, solver="liblinear"))
    est.fit(X_fit, y)
    # No restricted copy of the test set: the decision values come from the whole of it.
    with mock.patch("modelcollapse.scoring.take_columns", side_effect=AssertionError("a copy")):
        p_fast, fast_labels = fast.predictions(est, v_fast)
    p_plain, plain_labels = plain.predictions(est, v_plain)
    np.testing.assert_array_equal(fast_labels, plain_labels)
    np.testing.assert_allclose(p_fast, p_plain, rtol=1e-12, atol=0)
    assert 0 < plain_labels.mean() < 1


@pytest.mark.parametrize("model", ["forest", "nb", "tfidf-nb", "svm"])
def test_any_other_model_is_scored_the_same_fast_or_plain(model):
    (fast, v_fast), (plain, v_plain), X_fit, y = fitted_on_fewer_columns()
    est = {
        "forest": RandomForestClassifier(n_estimators=20, random_state=0),
        "nb": MultinomialNB(),
        "tfidf-nb": make_pipeline(TfidfTransformer(), MultinomialNB()),
        # no probabilities: the labels stand in
        "svm": make_pipeline(MaxAbsScaler(), LinearSVC(max_iter=20_000)),
    }[model].fit(X_fit, y)
    if model == "forest":  # the labels are the argmax of the probabilities: trees run once
        with mock.patch.object(RandomForestClassifier, "predict", side_effect=AssertionError):
            p_fast, fast_labels = fast.predictions(est, v_fast)
    else:
        p_fast, fast_labels = fast.predictions(est, v_fast)
    p_plain, plain_labels = plain.predictions(est, v_plain)
    np.testing.assert_array_equal(fast_labels, plain_labels)
    np.testing.assert_allclose(p_fast, p_plain, rtol=1e-12, atol=0)


def _forest(random_state: int) -> RandomForestClassifier:
    # seed-rf's settings with fewer trees, to keep the test fast
    return RandomForestClassifier(
        n_estimators=25,
        max_depth=20,
        max_features="sqrt",
        bootstrap=False,
        random_state=random_state,
    )


MODELS = {
    "logreg": "logreg",  # TF-IDF + logistic regression: the closed form
    "forest": ModelSpec("forest", _forest),  # the forest shortcut
    "nb": "nb",
    "pipeline": ModelSpec.from_estimator(make_pipeline(TfidfTransformer(), MultinomialNB())),
}
DESIGNS = {
    "threshold-drop": LoopOptions(label_policy="threshold", threshold=0.8),
    "replace": LoopOptions(regime="replace", window=200, labeller="previous"),
    "weight-0-arms": LoopOptions(model_weight=0.0, label_policy="sample", arms=True),
}


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("model", list(MODELS))
def test_fast_false_gives_the_same_loop(model, design):
    X, y = counts(1200, 400, seed=1)
    sizes, runs = [100, 200, 300, 400, 500], {}
    for fast in (True, False):
        scored = []
        cls = FastMatrices if fast else PlainMatrices

        def predictions(self, est, vocabulary, _scored=scored, _original=cls.predictions):
            out = _original(self, est, vocabulary)
            _scored.append(out)
            return out

        with mock.patch.object(cls, "predictions", predictions):
            loop = SelfLabellingLoop(MODELS[model], sizes, 0.5, 7, DESIGNS[design], fast=fast)
            loop.fit(X[:800], y[:800], X[800:], y[800:])
        runs[fast] = loop, scored
    (fast, fast_scored), (plain, plain_scored) = runs[True], runs[False]
    steps = len(sizes) * (3 if DESIGNS[design].arms else 1)
    assert len(fast_scored) == len(plain_scored) == steps  # each path scored every fit
    for (p_fast, fast_labels), (p_plain, plain_labels) in zip(
        fast_scored, plain_scored, strict=True
    ):
        np.testing.assert_array_equal(fast_labels, plain_labels)
        np.testing.assert_allclose(p_fast, p_plain, rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(fast.training_labels_, plain.training_labels_)
    np.testing.assert_array_equal(fast.row_state_, plain.row_state_)
    for a, b in zip(fast.history_records(), plain.history_records(), strict=True):
        for key in a.keys() - {"fit_seconds", "predict_seconds"}:
            if key in ("log_loss", "brier", "ece"):  # from the probabilities
                assert a[key] == pytest.approx(b[key], rel=1e-12, abs=1e-15), key
            else:  # counts, accuracies: exactly equal (NaN where no label was made)
                assert a[key] == b[key] or (np.isnan(a[key]) and np.isnan(b[key])), key
    if DESIGNS[design].model_weight == 0:  # model-labelled rows were left out of the fits
        assert fast.history_[-1].n_model_labelled > 0
    else:  # fewer rows fitted than drawn: drops, a window
        assert any(r.n_train < r.train_size for r in fast.history_)


@pytest.mark.parametrize("k", [2, 3])
def test_a_forest_scores_each_distinct_test_row_once_with_sklearns_numbers(k):
    X, y = counts(500, 300, seed=3)
    y = y if k == 2 else np.random.default_rng(3).integers(0, 3, 500)
    # A test set that repeats reviews, as the resampled benchmark corpora do, and a row stored
    # with its terms out of order (the same review).
    picks = np.random.default_rng(4).integers(300, 500, 600)
    X_test = X[picks]
    X_test.has_sorted_indices = False
    row = slice(X_test.indptr[5], X_test.indptr[6])
    X_test.indices[row], X_test.data[row] = X_test.indices[row][::-1], X_test.data[row][::-1]
    fast, plain = FastMatrices(X[:300], X_test, k), PlainMatrices(X[:300], X_test, k)
    X_fit, v_fast = fast.training_matrix(np.arange(300), 300)
    _, v_plain = plain.training_matrix(np.arange(300), 300)
    est = _forest(0).fit(X_fit, y[:300])
    tree_calls = []
    original = RandomForestClassifier.predict_proba

    def counted(self, X):
        tree_calls.append(X.shape[0])
        return original(self, X)

    with mock.patch.object(RandomForestClassifier, "predict_proba", counted):
        p_fast, fast_labels = fast.predictions(est, v_fast)
    p_plain, plain_labels = plain.predictions(est, v_plain)
    assert tree_calls == [len(np.unique(picks))] and tree_calls[0] < len(picks)
    np.testing.assert_array_equal(fast_labels, plain_labels)
    np.testing.assert_array_equal(p_fast, p_plain)  # not one bit apart
    assert p_fast.shape == ((600,) if k == 2 else (600, 3))


def test_renumber_columns_equals_take_columns_without_a_copy():
    from modelcollapse.linalg import renumber_columns, used_columns

    X, _ = counts(300, 500, seed=3)
    X = X[:, : X.shape[1] - 7]  # columns 0 … 492; some unused
    columns = used_columns(X)
    assert len(columns) < X.shape[1]
    rank = column_rank(columns, X.shape[1] + 20)  # wider than X, as the test set's may be
    expected = take_columns(X, columns, rank)
    mine = X.copy()
    got = renumber_columns(mine, rank, len(columns))
    assert got.shape == expected.shape
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
        assert getattr(got, name).dtype == getattr(expected, name).dtype
    assert np.shares_memory(got.indices, mine.indices)  # overwritten, not copied
    assert np.shares_memory(got.data, mine.data)
    with pytest.raises(ValueError, match="drops a column"):
        renumber_columns(X.copy(), column_rank(columns[1:], X.shape[1]), len(columns) - 1)


@pytest.mark.parametrize("model", ["logreg", "nb"])
def test_a_consumed_pool_gives_the_same_loop_with_one_copy(model):
    X, y = counts(900, 300, seed=2)
    sizes, runs, pools = [100, 250, 400, 600], {}, {}
    for consume in (False, True):
        X_pool = X[:600]
        loop = SelfLabellingLoop(model, sizes, 0.5, 3, LoopOptions())
        with mock.patch.object(
            FastMatrices, "__init__", autospec=True, side_effect=FastMatrices.__init__
        ) as init:
            loop.fit(X_pool, y[:600], X[600:], y[600:], consume_inputs=consume)
        matrices = init.call_args.args[0]
        pools[consume] = (X_pool, matrices.pool)
        runs[consume] = pd.DataFrame(loop.history_records()).drop(
            columns=["fit_seconds", "predict_seconds"]
        )
    pd.testing.assert_frame_equal(runs[True], runs[False], check_exact=True)  # NaN where NaN
    given, kept = pools[True]
    assert np.shares_memory(given.indices, kept.indices)  # the pool's entries, once
    given, kept = pools[False]
    assert not np.shares_memory(given.indices, kept.indices)
    np.testing.assert_array_equal(given.toarray(), X[:600].toarray())  # left as it was
