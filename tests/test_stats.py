"""The confidence-interval helpers agree with scipy.stats on fixed inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from modelcollapse.stats import paired_differences, summarize, t_interval

VALUES = np.array([0.81, 0.84, 0.79, 0.86, 0.83])


def test_t_interval_matches_scipy() -> None:
    expected = stats.t.interval(0.95, df=4, loc=VALUES.mean(), scale=stats.sem(VALUES))
    assert t_interval(VALUES) == pytest.approx(expected, rel=1e-12)
    expected_90 = stats.t.interval(0.9, df=4, loc=VALUES.mean(), scale=stats.sem(VALUES))
    assert t_interval(VALUES, confidence=0.9) == pytest.approx(expected_90, rel=1e-12)


def test_t_interval_ignores_nan_and_needs_two_values() -> None:
    with_nan = np.append(VALUES, np.nan)
    assert t_interval(with_nan) == pytest.approx(t_interval(VALUES))
    assert all(np.isnan(t_interval([0.8])))
    assert all(np.isnan(t_interval([])))


def test_summarize_matches_scipy_per_group() -> None:
    df = pd.DataFrame(
        {
            "rate": [0.0] * 5 + [0.5] * 3 + [1.0],
            "accuracy": [*VALUES, 0.6, 0.65, 0.55, 0.5],
        }
    )
    out = summarize(df, ["rate"]).set_index("rate")
    assert out["n"].tolist() == [5, 3, 1]
    assert out.loc[0.0, "mean"] == pytest.approx(VALUES.mean())
    lo, hi = stats.t.interval(0.95, df=4, loc=VALUES.mean(), scale=stats.sem(VALUES))
    assert (out.loc[0.0, "ci_low"], out.loc[0.0, "ci_high"]) == pytest.approx((lo, hi))
    half = stats.sem([0.6, 0.65, 0.55]) * stats.t.ppf(0.975, 2)
    assert out.loc[0.5, "ci_high"] - out.loc[0.5, "mean"] == pytest.approx(half)
    assert (out.loc[0.5, "min"], out.loc[0.5, "max"]) == (0.55, 0.65)
    assert np.isnan(out.loc[1.0, "ci_low"]) and out.loc[1.0, "mean"] == 0.5


def test_paired_differences_match_scipy_ttest_rel() -> None:
    rng = np.random.default_rng(3)
    base = 0.8 + rng.normal(0, 0.03, 6)  # large repeat-to-repeat spread ...
    treated = base - 0.05 + rng.normal(0, 0.005, 6)  # ... that pairing removes
    df = pd.DataFrame(
        {
            "experiment": "lower-rates",
            "repeat": np.tile(np.arange(6), 2),
            "step": 3,
            "rate": np.repeat([0.0, 0.1], 6),
            "accuracy": np.concatenate([base, treated]),
        }
    )
    paired = paired_differences(df, on=["experiment", "repeat", "step"])
    assert len(paired) == 6 and (paired["rate"] == 0.1).all()
    np.testing.assert_allclose(paired.sort_values("repeat")["difference"], treated - base)
    row = summarize(paired, ["rate"], "difference").iloc[0]
    ci = stats.ttest_rel(treated, base).confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    # The paired interval is far narrower than the unpaired one on the same data.
    unpaired = stats.ttest_ind(treated, base).confidence_interval(0.95)
    assert row["ci_high"] - row["ci_low"] < (unpaired.high - unpaired.low) / 3


def test_paired_differences_drop_rows_without_a_partner() -> None:
    df = pd.DataFrame(
        {
            "repeat": [0, 0, 1],
            "step": [1, 1, 1],
            "rate": [0.0, 0.5, 0.5],
            "accuracy": [0.8, 0.7, 0.6],
        }
    )
    paired = paired_differences(df, on=["repeat", "step"])
    assert paired["repeat"].tolist() == [0]
    assert paired["difference"].iloc[0] == pytest.approx(-0.1)
