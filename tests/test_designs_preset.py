"""The `designs` preset gives every loop design its own rate-0 twin, and `compare` pairs them."""

import pandas as pd
import pytest

from modelcollapse.compare import compare
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.runner import run_experiment
from modelcollapse.store import RunStore


def test_each_design_is_compared_with_its_own_rate_0(tmp_path, small_reviews):
    config = load_config("designs")
    assert all(study.rates == [0.0, 1.0] for study in config.study)  # issue #10: a twin each
    assert len({study.seed_group for study in config.study}) == 1
    small = apply_overrides(
        config, data=str(small_reviews), model="nb", tokenizer="fast", scale=0.1, repeats=2,
        max_size=2500,
    )  # fmt: skip
    run_experiment(small, tmp_path / "run")
    table = compare(tmp_path / "run")
    assert sorted(table["experiment"]) == sorted(s.name for s in config.study)
    assert table["rate"].eq(1.0).all()

    # Each row's difference is its own design at rate 1 minus the same design at rate 0.
    results = RunStore(tmp_path / "run").read_results()
    last = results.loc[results["train_size"] == results["train_size"].max()]
    wide = last.pivot_table(index=["experiment", "repeat"], columns="rate", values="accuracy")
    own = (wide[1.0] - wide[0.0]).groupby("experiment").mean()
    got = table.set_index("experiment")["mean_diff"]
    pd.testing.assert_series_equal(got.sort_index(), own.sort_index(), check_names=False)
    # The windowed designs' twins are not the accumulate twin: pairing with it would mislead.
    base = wide[0.0].unstack("experiment")
    assert not base["replace"].equals(base["accumulate"])
    assert not base["budget"].equals(base["accumulate"])
    assert not base["fresh"].equals(base["accumulate"])
    assert base["sampled"].equals(base["accumulate"])  # at rate 0 no label is model-made
    assert got["replace"] != pytest.approx(own["accumulate"])
