"""``compare`` on the generative designs: replace, accumulate, keep-real and mixture (at two λ,
in two studies of one seed group) pair generation by generation. Tiny in-process runs: the
trigram generator on 60 reviews of 8 words, one generation, two repeats."""

import numpy as np
import pandas as pd
import pytest

from modelcollapse.compare import NO_BASELINE, compare_results
from modelcollapse.data.corpus import Corpus
from modelcollapse.experiments.config import validate_config
from modelcollapse.experiments.plan import build_plan, run_trajectory
from modelcollapse.features.vectorize import featurize
from modelcollapse.models import get_model

STUDY = {"kind": "generative", "seed_group": "g", "sample_size": 60, "test_size": 60,
         "generations": 1, "repeats": 2}  # fmt: skip


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    config = validate_config(
        {"model": "nb", "tokenizer": "fast", "study": [
            {**STUDY, "name": "designs", "mixture_lambda": 0.5,
             "regimes": ["replace", "accumulate", "keep-real", "mixture"]},
            {**STUDY, "name": "lambda2", "mixture_lambda": 2.0, "regimes": ["mixture"]},
        ]},
        "t",
    )  # fmt: skip
    # Each class favours its own 10 of 30 words: a classifier learns it, imperfectly.
    rng = np.random.default_rng(4)
    labels = np.tile(np.array([0, 1], dtype=np.int8), 100)
    words = [[f"w{i}" for i in range(20)], [f"w{i}" for i in range(10, 30)]]
    texts = [" ".join(rng.choice(words[label], 8)) for label in labels]
    corpus = Corpus(texts, labels, "tiny")
    features = featurize(corpus, "fast", use_cache=False)
    model = get_model("nb")
    plan = build_plan(config, len(texts))
    return pd.concat([run_trajectory(t, features, model, "fast") for t in plan], ignore_index=True)


def test_every_design_pairs_with_accumulate_at_every_generation(results):
    out = compare_results(results, "regime=accumulate", at="all", seed_groups={"designs": "g"})
    # λ tells the two mixtures apart; the studies' names and the keep-real share add nothing.
    assert list(out.columns[1:3]) == ["regime", "mixture_lambda"]
    designs = out[["regime", "mixture_lambda"]].drop_duplicates()
    assert designs.fillna(-1).values.tolist() == [
        ["keep-real", -1], ["mixture", 0.5], ["mixture", 2.0], ["replace", -1]
    ]  # fmt: skip
    assert (out["n_pairs"] == 2).all() and not (out["verdict"] == NO_BASELINE).any()
    # Generation 0 is the same real reviews, seeds and classifier in every design.
    first = out[out["generation"] == 0]
    assert (first["mean_diff"] == 0).all() and len(first) == 4
    # Generation 1: the mean over repeats of each design's accuracy minus accumulate's.
    rows = results[results["step"] == 1]
    base = rows[rows["regime"] == "accumulate"].set_index("repeat")["accuracy"]
    for r in out[out["generation"] == 1].itertuples():
        lam = r.mixture_lambda
        mine = rows[(rows["regime"] == r.regime)
                    & (rows["mixture_lambda"].isna() if np.isnan(lam)
                       else rows["mixture_lambda"] == lam)]  # fmt: skip
        expected = (mine.set_index("repeat")["accuracy"] - base).mean()
        assert r.mean_diff == pytest.approx(expected), (r.regime, lam)
        assert r.train_size == mine["train_size"].iloc[0]  # 60, 60 + λ·60, …
    sizes = out[out["generation"] == 1].set_index(["regime", "mixture_lambda"])["train_size"]
    assert sizes.loc[("mixture", 0.5)] == 90 and sizes.loc[("mixture", 2.0)] == 180


def test_one_mixture_against_another_and_a_study_on_its_own(results):
    out = compare_results(results, "mixture_lambda=0.5", seed_groups={"designs": "g"})
    lam2 = out[out["mixture_lambda"] == 2.0]
    assert len(lam2) == 1 and lam2["n_pairs"].iloc[0] == 2 and lam2["generation"].iloc[0] == 1
    assert set(out["regime"]) == {"replace", "accumulate", "keep-real", "mixture"}
    # One study: the regime alone names each design, as before the λ column existed.
    alone = compare_results(results[results["experiment"] == "designs"], "regime=replace")
    assert list(alone.columns[:3]) == ["seed_group", "regime", "train_size"]
    assert sorted(alone["regime"]) == ["accumulate", "keep-real", "mixture"]
    # The design settings are recorded where they apply, NaN elsewhere.
    share = results.groupby("regime")["keep_real_share"].first()
    assert share["keep-real"] == 0.1 and share[["replace", "mixture"]].isna().all()
