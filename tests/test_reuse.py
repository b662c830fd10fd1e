"""Fits that trajectories share are made once (modelcollapse.core.reuse), with the same results."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_CONFIG
from sklearn.naive_bayes import MultinomialNB

from modelcollapse.core.reuse import FitMemo, KeptFit, nbytes
from modelcollapse.experiments.config import load_config
from modelcollapse.models import ModelSpec
from modelcollapse.runner import execute, prepare_run

TIMING = ["fit_seconds", "predict_seconds"]


class CountingNB(MultinomialNB):
    """Multinomial naive Bayes that counts its fits (the runner's single job runs here)."""

    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, small_reviews):
    """The small config's run (12 trajectories), prepared once: data, plan, features."""
    folder = tmp_path_factory.mktemp("reuse")
    path = folder / "small.toml"
    path.write_text(SMALL_CONFIG)
    config = load_config(path).model_copy(update={"data": str(small_reviews)})
    spec = ModelSpec.from_estimator(CountingNB(), name="counting-nb")
    return prepare_run(config, folder / "run", model=spec)


def fits_and_table(prepared, plan, reuse: bool) -> tuple[int, pd.DataFrame]:
    CountingNB.fits = 0
    results = execute(plan, prepared.features, prepared.model, "fast", reuse_fits=reuse)
    frames = [frame for _, frame in results]
    table = pd.concat(frames).drop(columns=TIMING)
    return CountingNB.fits, table.sort_values(["trajectory", "step"], ignore_index=True)


def test_shared_fits_are_made_once_with_the_same_table(prepared):
    plan = [traj for traj in prepared.plan if traj.repeat == 0]
    reused, table = fits_and_table(prepared, plan, reuse=True)
    fitted, again = fits_and_table(prepared, plan, reuse=False)
    pd.testing.assert_frame_equal(table, again)
    # rates (5 sizes): the 3 rates share the first fit, 2 saved; total-collapse (sizes 200, 400,
    # 800): the curves starting at 200 and 400 take the no-collapse curve's fits there.
    assert (fitted, fitted - reused) == (3 * 5 + (3 + 3 + 2), 2 + 2)


def kept(n: int) -> KeptFit:
    return KeptFit(np.zeros(n), None, (np.zeros(1), np.zeros(1)), 1.0, 0.5)


def test_the_memo_keeps_the_most_recent_fits_within_its_bytes():
    memo = FitMemo(max_bytes=2 * nbytes(kept(1000)) + 100)
    for key in "abc":
        memo.put(key, kept(1000))
    assert memo.get("a") is None and memo.get("b") is not None and memo.get("c") is not None
    assert (memo.hits, memo.misses, len(memo)) == (2, 1, 2)
    memo.put("huge", kept(10_000))  # larger than the memo: not kept, nothing dropped for it
    assert memo.get("huge") is None and len(memo) == 2


def test_a_fit_is_looked_up_only_at_shared_sizes_and_by_all_it_depends_on():
    memo = FitMemo()
    rows, labels = np.arange(5), np.array([0, 1, 1, 0, 1])
    scope = memo.scope([5], "features", np.arange(10))
    assert scope.key(6, rows, labels, "seed") is None  # no other trajectory fits at size 6
    key = scope.key(5, rows, labels, "seed")
    assert key == memo.scope([5], "features", np.arange(10)).key(5, rows, labels, "seed")
    others = [
        scope.key(5, rows, 1 - labels, "seed"),
        scope.key(5, rows[::-1], labels, "seed"),
        scope.key(5, rows, labels, "another seed"),
        memo.scope([5], "features", np.arange(1, 11)).key(5, rows, labels, "seed"),  # other pool
    ]
    assert len({key, *others}) == 5


@pytest.mark.parametrize(("regime", "saved"), [("accumulate", 2), ("replace", 1)])
def test_a_start_reuses_only_identical_fits(prepared, regime, saved):
    # total-collapse under "replace": each curve's window is its own first size, so the start at
    # 400 fits 400 rows where the no-collapse curve fits its last 200: the content key tells.
    plan = [traj for traj in prepared.plan if traj.key.startswith("collapse/") and traj.repeat == 0]
    options = plan[0].options.replace(regime=regime)
    plan = [dataclasses.replace(traj, options=options) for traj in plan]
    reused, table = fits_and_table(prepared, plan, reuse=True)
    fitted, again = fits_and_table(prepared, plan, reuse=False)
    pd.testing.assert_frame_equal(table, again)
    assert (fitted, fitted - reused) == (8, saved)


def test_a_model_pickle_cannot_write_is_not_kept():
    memo = FitMemo()
    memo.put("a", KeptFit(lambda: None, None, (np.zeros(1), np.zeros(1)), 1.0, 0.5))
    assert len(memo) == 0 and memo.get("a") is None
