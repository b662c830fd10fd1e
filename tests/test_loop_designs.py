"""Loop designs from the literature reproduce their known outcomes on a purpose-built problem."""

import itertools

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

from modelcollapse.core.seeds import model_seed
from modelcollapse.features.vectorize import restrict_to_vocabulary
from modelcollapse.loop import HUMAN, MODEL, LoopOptions, SelfLabellingLoop
from modelcollapse.models import get_model

SIZES = list(range(200, 3001, 200))
SEEDS = (0, 1, 2)
LABELLERS = ("current", "previous", "generation0")


def make_problem(seed: int, positive_share: float = 0.5, n: int = 5000, n_features: int = 200):
    """Counts where half the terms lean positive and half negative, weakly (~90% accuracy)."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < positive_share).astype(np.int8)
    lam = np.full((n, n_features), 0.2)
    lam[y == 1, : n_features // 2] += 0.12
    lam[y == 0, n_features // 2 :] += 0.12
    X = sp.csr_matrix(rng.poisson(lam).astype(np.int32))
    return X[:3000], y[:3000], X[3000:], y[3000:]


def histories(options: LoopOptions, rate: float = 1.0, positive_share: float = 0.5):
    runs = []
    for seed in SEEDS:
        Xp, yp, Xt, yt = make_problem(seed, positive_share)
        runs.append(SelfLabellingLoop("logreg", SIZES, rate, seed, options).fit(Xp, yp, Xt, yt))
    return runs


def final_accuracy(runs) -> float:
    return float(np.mean([r.history_[-1].accuracy for r in runs]))


def first_accuracy(runs) -> float:
    return float(np.mean([r.history_[0].accuracy for r in runs]))


def label_accuracy(runs) -> float:
    return float(np.nanmean([s.model_label_accuracy for r in runs for s in r.history_[1:]]))


def test_replace_degrades_faster_than_accumulate():
    accumulate = histories(LoopOptions(regime="accumulate"))
    replace = histories(LoopOptions(regime="replace"))
    assert final_accuracy(replace) < final_accuracy(accumulate) - 0.1
    assert final_accuracy(replace) < first_accuracy(replace) - 0.1
    # replace trains on a window of the first size; accumulate on everything drawn.
    assert replace[0].history_[-1].n_train == SIZES[0]
    assert accumulate[0].history_[-1].n_train == SIZES[-1]


def test_fixed_budget_sits_between_replace_and_accumulate():
    accumulate = final_accuracy(histories(LoopOptions()))
    budget = histories(LoopOptions(regime="accumulate-subsample", window=400))
    replace = final_accuracy(histories(LoopOptions(regime="replace", window=400)))
    assert replace <= final_accuracy(budget) <= accumulate
    assert {s.n_train for s in budget[0].history_[1:]} == {400}


def kept_label_accuracy(runs) -> list[float]:
    """Share of the model labels a verifier kept that equal the hidden true labels, per run."""
    out = []
    for seed, run in zip(SEEDS, runs, strict=True):
        kept = run.row_state_ == MODEL
        true = make_problem(seed)[1][: SIZES[-1]]
        out.append(float(np.mean(run.training_labels_[kept] == true[kept])))
    return out


def test_perfect_verifier_prevents_collapse():
    perfect = histories(LoopOptions(keep_correct=1.0, keep_wrong=0.0))
    assert kept_label_accuracy(perfect) == [1.0] * len(SEEDS)
    # The recorded column says the same, step by step, beside the labels' own accuracy.
    steps = [s for run in perfect for s in run.history_[1:]]
    assert {s.kept_label_accuracy for s in steps} == {1.0}
    assert min(s.model_label_accuracy for s in steps) < 1.0
    assert all((run.row_state_ == MODEL).sum() > 0 for run in perfect)
    assert final_accuracy(perfect) >= first_accuracy(perfect)


def test_verifier_breakdown_point():
    """Feng et al.: a labeller wrong with probability e survives a verifier keeping correct
    labels with probability phi and wrong ones with psi while e < p* = 1/(1 + psi/phi), i.e.
    while psi/phi < (1 - e)/e. A frozen generation-0 labeller keeps e fixed, as in the paper."""
    frozen = LoopOptions(labeller="generation0")
    p = float(np.mean([r.history_[1].model_label_accuracy for r in histories(frozen)]))
    breakdown = p / (1 - p)  # the largest psi/phi the labeller survives; ~13 here
    below = histories(LoopOptions(labeller="generation0", keep_correct=3 / breakdown))
    above = histories(LoopOptions(labeller="generation0", keep_correct=1 / (3 * breakdown)))
    # Kept labels are right with probability p*phi / (p*phi + (1 - p)*psi): 0.75 and 0.25 here.
    assert min(kept_label_accuracy(below)) > 0.6
    assert max(kept_label_accuracy(above)) < 0.4
    assert final_accuracy(above) < first_accuracy(above) - 0.05
    assert final_accuracy(above) < final_accuracy(below) - 0.05
    assert above[0].history_[-1].n_dropped > 0
    # kept_label_accuracy records it per step: weighted by the rows kept, the pooled share.
    for runs in (below, above):
        pooled = []
        for run in runs:
            kept = np.diff([s.n_model_labelled for s in run.history_])
            acc = np.array([s.kept_label_accuracy for s in run.history_[1:]])
            pooled.append(float(np.sum(kept[kept > 0] * acc[kept > 0]) / kept.sum()))
        assert pooled == pytest.approx(kept_label_accuracy(runs))


def test_thresholded_labels_are_more_accurate():
    argmax = histories(LoopOptions())
    thresholded = histories(LoopOptions(label_policy="threshold", threshold=0.7))
    assert label_accuracy(thresholded) > label_accuracy(argmax) + 0.02
    run = thresholded[0]
    assert run.history_[-1].n_dropped > 0
    kept_human = histories(
        LoopOptions(label_policy="threshold", threshold=0.7, below_threshold="human")
    )[0]
    assert kept_human.history_[-1].n_dropped == 0
    assert (kept_human.row_state_ == HUMAN).sum() > SIZES[0]


def test_sampled_labels_keep_the_class_balance_argmax_amplifies():
    true_share = 0.7
    argmax = histories(LoopOptions(), positive_share=true_share)
    sampled = histories(LoopOptions(label_policy="sample"), positive_share=true_share)

    def drift(runs) -> float:
        return float(
            np.mean([abs(r.history_[-1].predicted_positive_rate - true_share) for r in runs])
        )

    assert drift(sampled) < drift(argmax)
    assert np.mean([r.history_[-1].predicted_positive_rate for r in argmax]) > 0.9


def test_balanced_labels_follow_the_human_class_shares():
    run = histories(LoopOptions(label_policy="balanced"), positive_share=0.7)[0]
    model_rows = run.row_state_ == MODEL
    share = run.training_labels_[model_rows].mean()
    human_share = run.training_labels_[: SIZES[0]].mean()
    assert abs(share - human_share) < 0.02


def test_verified_share_keeps_human_labels_and_weights_apply():
    full = histories(LoopOptions(), rate=1.0)[0]
    half = histories(LoopOptions(verified_share=0.5), rate=1.0)[0]
    # Each row is checked with probability 0.5: about half (2,800 rows, sd 26) stay human.
    assert abs(half.history_[-1].n_model_labelled - full.history_[-1].n_model_labelled / 2) < 100
    muted = histories(LoopOptions(model_weight=0.0), rate=1.0)
    # Model labels with weight 0 change nothing: accuracy stays where true labels put it.
    assert abs(final_accuracy(muted) - first_accuracy(muted)) < 0.03


def test_each_labeller_labels_with_its_own_model():
    runs = {name: one_run(LoopOptions(labeller=name), 1.0) for name in LABELLERS}
    batch = [slice(a, b) for a, b in itertools.pairwise(SIZES)]

    def labels(name: str, k: int) -> np.ndarray:
        return runs[name].training_labels_[batch[k]]

    # Batch 0 (step 1): the first model is the only one, so every labeller is that model.
    for name in LABELLERS:
        assert runs[name].history_[1].accuracy == runs["current"].history_[1].accuracy, name
        assert np.array_equal(labels(name, 0), labels("current", 0)), name
    # Batch 1: "previous" and "generation0" both label with the first model, "current" with
    # the second, fitted on batch 0's labels as well.
    assert np.array_equal(labels("previous", 1), labels("generation0", 1))
    assert not np.array_equal(labels("previous", 1), labels("current", 1))
    # From batch 2 on, "previous" labels with the model before the current one (fitted on its
    # own earlier labels), "generation0" still with the first: their labels part.
    assert not np.array_equal(labels("previous", 2), labels("generation0", 2))
    # The first model, refitted, makes every label "generation0" gives, batch after batch.
    first = runs["generation0"]
    Xp, yp, _, _ = make_problem(0)
    rows = np.arange(SIZES[0])
    _, (X_first, X_rest) = restrict_to_vocabulary(Xp[rows], Xp[SIZES[0] : SIZES[-1]])
    model = get_model("logreg").make(model_seed(0, SIZES[0])).fit(X_first, yp[rows])
    model_rows = first.row_state_[SIZES[0] :] == MODEL
    made = model.predict(X_rest)
    assert model_rows.sum() == SIZES[-1] - SIZES[0]
    assert np.array_equal(first.training_labels_[SIZES[0] :], made)


def test_three_arms_and_metrics():
    run = one_run(LoopOptions(arms=True), 1.0)
    last = run.history_[-1]
    assert last.accuracy_gold > last.accuracy  # gold: same rows, true labels
    assert 0.5 < last.accuracy_real_only < 1.0  # the human rows alone
    assert last.model_labelled_share == pytest.approx(1 - SIZES[0] / SIZES[-1])
    # The last step's metrics are scikit-learn's for the last model on the test set (nothing
    # dropped: it was fitted on the vocabulary of every row drawn).
    Xp, _, Xt, yt = make_problem(0)
    _, (_, X_test) = restrict_to_vocabulary(Xp[: SIZES[-1]], Xt)
    p = run.estimator_.predict_proba(X_test)[:, 1]
    predicted = run.estimator_.predict(X_test)
    assert last.accuracy == accuracy_score(yt, predicted)
    assert last.balanced_accuracy == pytest.approx(balanced_accuracy_score(yt, predicted))
    assert last.macro_f1 == pytest.approx(f1_score(yt, predicted, average="macro"))
    assert last.log_loss == pytest.approx(log_loss(yt, p), rel=1e-9)
    assert last.brier == pytest.approx(brier_score_loss(yt, p), rel=1e-9)
    # ECE by hand: 10 bins of width 0.05 over the confidence max(p, 1 − p).
    confidence = np.maximum(p, 1 - p)
    bins = np.minimum(np.floor((confidence - 0.5) * 20), 9)
    ece = sum(
        np.mean(bins == b) * abs(np.mean(predicted[bins == b] == yt[bins == b])
                                 - np.mean(confidence[bins == b]))
        for b in np.unique(bins)
    )  # fmt: skip
    assert last.ece == pytest.approx(ece, rel=1e-9)
    assert 0.005 < last.ece < 0.5 and last.log_loss > 0.1  # not a degenerate case


def test_options_are_validated():
    with pytest.raises(ValueError, match="keep_wrong"):
        LoopOptions(keep_wrong=1.5)
    with pytest.raises(ValueError, match="fresh"):
        LoopOptions(fresh_share=0.5)
    with pytest.raises(ValueError, match="less than 1"):
        LoopOptions(regime="fresh", fresh_share=1.0)
    with pytest.raises(ValueError, match="accumulate"):
        LoopOptions(regime="replace", mixture="fixed")


def one_run(options: LoopOptions, rate: float, model: str = "logreg", seed: int = 0, rare: int = 0):
    """One trajectory; ``rare`` adds that many rare terms, most unseen by the first rows."""
    Xp, yp, Xt, yt = make_problem(seed)
    if rare:
        rng = np.random.default_rng([seed, 1])
        Xp = sp.hstack([Xp, sp.random(3000, rare, 0.001, "csr", rng=rng, data_rvs=np.ones)])
        Xt = sp.hstack([Xt, sp.random(2000, rare, 0.001, "csr", rng=rng, data_rvs=np.ones)])
        Xp, Xt = sp.csr_matrix(Xp, dtype=np.int32), sp.csr_matrix(Xt, dtype=np.int32)
    return SelfLabellingLoop(model, SIZES, rate, seed, options).fit(Xp, yp, Xt, yt)


def test_fresh_is_a_fixed_real_set_beside_a_refreshed_model_labelled_set():
    # Issue #10: fresh at rate 1 with fresh_share 0.5 was bit-identical to replace at rate 0.5.
    fresh = one_run(LoopOptions(regime="fresh", fresh_share=0.5), rate=1.0)
    replace = one_run(LoopOptions(regime="replace"), rate=0.5)
    assert [s.accuracy for s in fresh.history_] != [s.accuracy for s in replace.history_]
    assert [s.n_train for s in fresh.history_[1:]] != [s.n_train for s in replace.history_[1:]]
    # λ = 0.25 beside the 200-row real set: m = round(200 × 0.25 / 0.75) = 67 refreshed rows.
    for rate, n_model in ((1.0, 67), (0.5, 34), (0.0, 0)):
        run = one_run(LoopOptions(regime="fresh", fresh_share=0.25), rate=rate)
        assert run.history_[0].n_train == SIZES[0] and run.history_[0].n_model_labelled == 0
        for s in run.history_[1:]:
            assert s.n_train == SIZES[0] + 67  # the real set plus the refreshed set
            assert s.n_model_labelled == n_model  # earlier model labels are discarded
            assert s.model_labelled_share == pytest.approx(n_model / (SIZES[0] + 67))
        model_rows = np.flatnonzero(run.row_state_ == MODEL)
        assert (model_rows >= SIZES[-1] - 67).all()  # the newest rows only
        human = run.row_state_ == HUMAN
        _, y_pool, _, _ = make_problem(0)
        assert np.array_equal(run.training_labels_[human], y_pool[: SIZES[-1]][human])
    at_half = one_run(LoopOptions(regime="fresh", fresh_share=0.5), rate=1.0)
    assert {s.model_labelled_share for s in at_half.history_[1:]} == {0.5}  # λ, once drawn


@pytest.mark.parametrize("options", [LoopOptions(), LoopOptions(mixture="fixed")])
def test_verified_rows_keep_a_higher_rate_a_superset(options):
    # Issue #11: with verified_share 0.5, rates 0.5 and 1 verified rows that did not overlap.
    verified = LoopOptions(**{**options.record(), "window": None, "verified_share": 0.5})
    runs = {rate: one_run(verified, rate) for rate in (0.2, 0.5, 1.0)}
    for low, high in ((0.2, 0.5), (0.5, 1.0)):
        low_rows, high_rows = runs[low].model_labelled_, runs[high].model_labelled_
        assert low_rows.any() and (high_rows.sum() > low_rows.sum())
        assert not (low_rows & ~high_rows).any()
    # The checked rows keep their human label: about half of rate 1's batches (sd ~ 26).
    share = runs[1.0].history_[-1].n_model_labelled / (SIZES[-1] - SIZES[0])
    if options.mixture == "batch":
        assert abs(share - 0.5) < 0.05


@pytest.mark.parametrize("model", ["logreg", "nb"])
def test_model_weight_zero_equals_dropping_the_model_labels(model):
    # Issue #12: weight-0 rows still set the vocabulary (and logreg's IDF).
    # Rare terms that only later rows use: a vocabulary that the model rows would widen.
    muted = one_run(LoopOptions(model_weight=0.0), 1.0, model, rare=2000)
    rejected = LoopOptions(keep_correct=0.0, keep_wrong=0.0)  # a verifier that drops them all
    dropped = one_run(rejected, 1.0, model, rare=2000)
    assert muted.history_[-1].n_model_labelled > 0 and dropped.history_[-1].n_dropped > 0
    for name in ("accuracy", "log_loss", "brier", "predicted_positive_rate"):
        assert [getattr(s, name) for s in muted.history_] == [
            getattr(s, name) for s in dropped.history_
        ], name


def test_fixed_mixture_holds_the_share_at_every_size():
    runs = {pi: one_run(LoopOptions(mixture="fixed"), pi) for pi in (0.1, 0.3, 0.5)}
    for pi, run in runs.items():
        assert run.history_[0].model_labelled_share == 0.0  # no model before the first fit
        for s in run.history_[1:]:
            expected = np.floor(pi * s.train_size + 0.5)  # round(π × size), halves up
            assert s.n_model_labelled == expected
            assert s.model_labelled_share == pytest.approx(pi, abs=0.5 / s.train_size)
        human = run.row_state_ == HUMAN
        _, y_pool, _, _ = make_problem(0)
        assert np.array_equal(run.training_labels_[human], y_pool[: SIZES[-1]][human])
    # Paired across π: a larger share model-labels a superset of a smaller one's rows.
    assert not (runs[0.1].model_labelled_ & ~runs[0.3].model_labelled_).any()
    assert not (runs[0.3].model_labelled_ & ~runs[0.5].model_labelled_).any()
    # Unlike the per-batch rate, whose share drifts with the size.
    batch = one_run(LoopOptions(), 0.3)
    shares = [s.model_labelled_share for s in batch.history_[1:]]
    assert shares[-1] - shares[0] > 0.1
