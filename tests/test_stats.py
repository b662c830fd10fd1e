"""The confidence-interval helpers agree with scipy.stats on fixed inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from modelcollapse.stats import (
    bootstrap_interval,
    holm,
    min_detectable_difference,
    paired_against_baseline,
    paired_differences,
    paired_summary,
    parse_conditions,
    select_rows,
    summarize,
    summarize_bootstrap,
    t_interval,
    tost_p,
    wilcoxon_p,
)

VALUES = np.array([0.81, 0.84, 0.79, 0.86, 0.83])
TEN = np.array([0.81, 0.84, 0.79, 0.86, 0.83, 0.80, 0.85, 0.82, 0.78, 0.87])


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


# --- bootstrap, paired tests against a baseline, Holm, TOST, minimum detectable effect -----


def test_bootstrap_interval_matches_scipy() -> None:
    for seed in (0, 7):
        for confidence in (0.95, 0.9):
            expected = stats.bootstrap(
                (TEN,),
                np.mean,
                method="percentile",
                confidence_level=confidence,
                n_resamples=2000,
                rng=np.random.default_rng(seed),
            ).confidence_interval
            got = bootstrap_interval(TEN, confidence, n_resamples=2000, seed=seed)
            assert got == pytest.approx((expected.low, expected.high), abs=1e-12)
    # Below 10 repeats the percentile bootstrap covers far less than it says: not given.
    assert all(np.isnan(bootstrap_interval(VALUES)))
    assert all(np.isnan(bootstrap_interval([*TEN[:9], np.nan])))


def test_summarize_bootstrap_is_per_group_and_order_free() -> None:
    df = pd.DataFrame(
        {
            "rate": [0.0] * 5 + [0.5] * 3 + [1.0],
            "accuracy": [*VALUES, 0.6, 0.65, 0.55, 0.5],
        }
    )
    out = summarize_bootstrap(df, ["rate"], seed=3).set_index("rate")
    pd.testing.assert_frame_equal(
        out.drop(columns=["ci_low_boot", "ci_high_boot"]), summarize(df, ["rate"]).set_index("rate")
    )
    for rate, values in df.groupby("rate")["accuracy"]:
        expected = bootstrap_interval(values.to_numpy(), seed=3)
        got = (out.loc[rate, "ci_low_boot"], out.loc[rate, "ci_high_boot"])
        assert got == pytest.approx(expected, abs=1e-12, nan_ok=True)
    shuffled = summarize_bootstrap(df.sample(frac=1, random_state=1), ["rate"], seed=3)
    pd.testing.assert_frame_equal(shuffled.set_index("rate"), out)


def test_holm_hand_computed() -> None:
    # Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → raised to 0.06.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    out = holm([np.nan, 0.02, 0.5])  # NaN is not a hypothesis of the family
    assert np.isnan(out[0]) and out[1:] == pytest.approx([0.04, 0.5])
    assert holm([]).size == 0


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=12))
def test_holm_never_lowers_and_keeps_the_order(p: list[float]) -> None:
    adjusted = holm(p)
    assert np.all(adjusted >= np.asarray(p) - 1e-15) and np.all(adjusted <= 1)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= -1e-15)


def test_wilcoxon_p_matches_scipy_and_handles_edge_cases() -> None:
    d = np.array([-0.012, -0.004, -0.009, 0.002, -0.015, -0.007, -0.011, -0.001])
    assert wilcoxon_p(d) == (pytest.approx(stats.wilcoxon(d).pvalue), "")
    with_zero = np.append(d, 0.0)
    assert wilcoxon_p(with_zero)[0] == pytest.approx(stats.wilcoxon(with_zero).pvalue)
    assert wilcoxon_p(np.zeros(5)) == (1.0, "all differences zero")
    p, note = wilcoxon_p([0.01])
    assert np.isnan(p) and "fewer than 2" in note


def test_tost_is_two_one_sided_t_tests() -> None:
    d = np.array([0.001, -0.002, 0.0005, 0.0015, -0.001, 0.002])
    lower = stats.ttest_1samp(d, -0.005, alternative="greater").pvalue
    upper = stats.ttest_1samp(d, 0.005, alternative="less").pvalue
    assert tost_p(d, 0.005) == pytest.approx(max(lower, upper))
    # Duality: p_tost < 0.05 exactly when the 90 % t interval lies inside the margins.
    for margin in (0.001, 0.002, 0.003, 0.005):
        low, high = t_interval(d, confidence=0.90)
        assert (tost_p(d, margin) < 0.05) == (-margin < low and high < margin)
    assert np.isnan(tost_p([0.001], 0.005))
    with pytest.raises(ValueError, match="margin"):
        tost_p(d, -0.1)


def test_min_detectable_difference() -> None:
    sd = np.array([0.01, 0.02, 0.01, 0.01])
    n = np.array([5, 5, 30, 1])
    mde = min_detectable_difference(sd, n)
    for m, s, k in zip(mde[:3], sd, n, strict=False):
        nc = m / (s / np.sqrt(k))
        critical = stats.t.ppf(0.975, k - 1)
        power = stats.nct.sf(critical, k - 1, nc)  # a verdict needs the effect's direction
        assert power == pytest.approx(0.8, abs=1e-8)
    assert mde[1] == pytest.approx(2 * mde[0])  # proportional to the spread
    approx = (stats.t.ppf(0.975, 29) + stats.t.ppf(0.8, 29)) * 0.01 / np.sqrt(30)
    assert mde[2] == pytest.approx(approx, rel=0.01)  # the textbook shortcut, for large n
    assert np.isnan(mde[3])


def test_parse_conditions_types_values_by_column() -> None:
    df = pd.DataFrame(
        {
            "rate": [0.0, 0.1],
            "window": [-1, 200],
            "arms": [True, False],
            "regime": ["accumulate", "replace"],
        }
    )
    parsed = parse_conditions("rate=0, window=200,arms=false ,regime=replace", df)
    assert parsed == {"rate": 0.0, "window": 200, "arms": False, "regime": "replace"}
    assert type(parsed["rate"]) is float and type(parsed["window"]) is int
    assert select_rows(df, {"rate": 0.1 + 1e-12}).tolist() == [False, True]
    assert select_rows(df, {"regime": "replace", "arms": False}).tolist() == [False, True]
    for bad, message in [
        ("rate=x", "expected a number"),
        ("window=1.5", "whole number"),
        ("arms=maybe", "true or false"),
        ("speed=1", "unknown column 'speed'"),
        ("rate", "not column=value"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_conditions(bad, df)
    with pytest.raises(ValueError, match="expected one of: rate"):
        parse_conditions("window=1", df, columns=["rate"])


def test_paired_against_baseline_and_summary_match_scipy() -> None:
    rng = np.random.default_rng(5)
    base = 0.8 + rng.normal(0, 0.03, 6)
    treated = base - 0.02 + rng.normal(0, 0.004, 6)
    df = pd.DataFrame(
        {
            "repeat": np.tile(np.arange(6), 2),
            "train_size": 500,
            "regime": np.repeat(["accumulate", "replace"], 6),
            "accuracy": np.concatenate([base, treated]),
        }
    )
    pairs = paired_against_baseline(df, "regime=accumulate")
    assert (pairs["regime"] == "replace").all() and len(pairs) == 6
    np.testing.assert_allclose(pairs.sort_values("repeat")["difference"], treated - base)
    row = paired_summary(pairs, ["regime", "train_size"], margin=0.005).iloc[0]
    d = treated - base
    ci = stats.ttest_rel(treated, base).confidence_interval(0.95)
    assert (row["ci_low_t"], row["ci_high_t"]) == pytest.approx((ci.low, ci.high))
    assert row["p_t"] == pytest.approx(stats.ttest_rel(treated, base).pvalue)
    assert row["p_wilcoxon"] == pytest.approx(stats.wilcoxon(treated, base).pvalue)
    assert np.isnan(row["ci_low_boot"]) and np.isnan(row["ci_high_boot"])  # 6 repeats
    assert row["p_tost"] == pytest.approx(tost_p(d, 0.005))
    assert row["note"] == "bootstrap interval needs 10 repeats (too few resamples)"
    with pytest.raises(ValueError, match="matches no rows"):
        paired_against_baseline(df, "regime=fresh")


def test_paired_summary_averages_within_a_repeat() -> None:
    # Two rows per repeat (e.g. two rates grouped together) count as one pair.
    pairs = pd.DataFrame(
        {"group": "g", "repeat": [0, 0, 1, 1, 2, 2], "difference": [-1, -3, -2, -2, 0, -4.0]}
    )
    row = paired_summary(pairs, ["group"]).iloc[0]
    assert row["n_pairs"] == 3 and row["mean_diff"] == pytest.approx(-2.0)
    assert row["sd_diff"] == 0
