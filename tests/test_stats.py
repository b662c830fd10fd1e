"""The confidence-interval helpers agree with scipy.stats on fixed inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from modelcollapse import stats as mcstats
from modelcollapse.pairing import pair_with_baseline
from modelcollapse.stats import (
    N_RESAMPLES,
    _bootstrap_bounds,
    detectable_effect,
    hodges_lehmann,
    holm,
    min_detectable_difference,
    paired_summary,
    parse_conditions,
    repeats_needed,
    rule_power,
    select_rows,
    signed_rank_null,
    simultaneous_band,
    summarize,
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


def test_paired_differences_to_rate_0_match_scipy_ttest_rel() -> None:
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
    paired = pair_with_baseline(df, np.isclose(df["rate"], 0), on=["repeat", "step"])
    assert len(paired) == 6 and (paired["rate"] == 0.1).all()
    np.testing.assert_allclose(paired.sort_values("repeat")["difference"], treated - base)
    row = summarize(paired, ["rate"], "difference").iloc[0]
    ci = stats.ttest_rel(treated, base).confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-10)
    # The paired interval is far narrower than the unpaired one on the same data.
    unpaired = stats.ttest_ind(treated, base).confidence_interval(0.95)
    assert row["ci_high"] - row["ci_low"] < (unpaired.high - unpaired.low) / 3


def test_pairs_drop_or_keep_rows_without_a_partner() -> None:
    df = pd.DataFrame(
        {
            "repeat": [0, 0, 1],
            "step": [1, 1, 1],
            "rate": [0.0, 0.5, 0.5],
            "accuracy": [0.8, 0.7, 0.6],
        }
    )
    paired = pair_with_baseline(df, np.isclose(df["rate"], 0), on=["repeat", "step"])
    assert paired["repeat"].tolist() == [0]
    assert paired["difference"].iloc[0] == pytest.approx(-0.1)
    kept = pair_with_baseline(df, "rate=0", on=["repeat", "step"], keep_unpaired=True)
    assert kept["repeat"].tolist() == [0, 1] and np.isnan(kept["difference"].iloc[1])


def test_pairs_stay_within_a_seed_group() -> None:
    """Two studies of one seed group share seeds and pair; a third study's rate 0 does not
    stand in for them, though its repeat and size match."""
    df = pd.DataFrame(
        {
            "experiment": ["a", "b", "c", "c"],
            "repeat": 0,
            "train_size": 100,
            "rate": [0.0, 0.5, 0.0, 0.5],
            "accuracy": [0.8, 0.7, 0.6, 0.65],
        }
    )
    pairs = pair_with_baseline(df, "rate=0", seed_groups={"a": "ab", "b": "ab"})
    assert pairs.set_index("experiment")["baseline"].to_dict() == {"b": 0.8, "c": 0.6}
    assert pairs.set_index("experiment")["seed_group"].to_dict() == {"b": "ab", "c": "c"}
    pooled = pair_with_baseline(df.drop(columns="experiment"), "rate=0")
    assert pooled["baseline"].tolist() == pytest.approx([0.7, 0.7])  # one group: averaged


# --- bootstrap, paired tests against a baseline, Holm, TOST, minimum detectable effect -----


def bootstrap_of_mean(values, confidence=0.95, n_resamples=N_RESAMPLES, seed=0):
    """``paired_summary``'s percentile bootstrap interval for one group of repeats."""
    pairs = pd.DataFrame({"g": 0, "repeat": range(len(values)), "difference": values})
    row = paired_summary(pairs, ["g"], confidence=confidence, n_resamples=n_resamples, seed=seed)
    return (row["ci_low_boot"].iloc[0], row["ci_high_boot"].iloc[0])


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
            got = bootstrap_of_mean(TEN, confidence, n_resamples=2000, seed=seed)
            assert got == pytest.approx((expected.low, expected.high), abs=1e-12)
    # Below 10 repeats the percentile bootstrap covers far less than it says: not given.
    assert all(np.isnan(bootstrap_of_mean(VALUES)))
    assert all(np.isnan(bootstrap_of_mean([*TEN[:9], np.nan])))


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


def test_pairs_against_a_design_and_summary_match_scipy() -> None:
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
    pairs = pair_with_baseline(df, "regime=accumulate")
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
        pair_with_baseline(df, "regime=fresh")


def test_paired_summary_averages_within_a_repeat() -> None:
    # Two rows per repeat (e.g. two rates grouped together) count as one pair.
    pairs = pd.DataFrame(
        {"group": "g", "repeat": [0, 0, 1, 1, 2, 2], "difference": [-1, -3, -2, -2, 0, -4.0]}
    )
    row = paired_summary(pairs, ["group"]).iloc[0]
    assert row["n_pairs"] == 3 and row["mean_diff"] == pytest.approx(-2.0)
    assert row["sd_diff"] == 0


# --- issue #10: Hodges–Lehmann, explicit Wilcoxon method, power of the rule, bootstrap
# coverage, simultaneous band ---------------------------------------------------------------


def test_signed_rank_null_is_scipys_and_brute_force() -> None:
    from scipy.stats._wilcoxon import WilcoxonDistribution

    for n in (1, 4, 9, 15):
        null = signed_rank_null(n)
        t = np.arange(null.size)
        np.testing.assert_allclose(np.cumsum(null), WilcoxonDistribution(n).cdf(t), atol=1e-12)
    signs = (np.arange(2**6)[:, None] >> np.arange(6)) & 1
    brute = np.bincount(signs @ np.arange(1, 7), minlength=22) / 2**6
    np.testing.assert_allclose(signed_rank_null(6), brute)


def test_hodges_lehmann_and_its_interval_match_an_independent_computation() -> None:
    from scipy.stats._wilcoxon import WilcoxonDistribution

    rng = np.random.default_rng(11)
    for n in (6, 8, 12, 20):
        for confidence in (0.95, 0.9):
            d = rng.normal(0.3, 1.0, n)
            walsh = sorted((d[i] + d[j]) / 2 for i in range(n) for j in range(i, n))
            cdf = WilcoxonDistribution(n).cdf(np.arange(n * (n + 1) // 2 + 1))
            c = max(t for t in range(len(cdf)) if cdf[t] <= (1 - confidence) / 2)
            estimate, low, high = hodges_lehmann(d, confidence)
            assert estimate == pytest.approx(np.median(walsh), abs=1e-12)
            assert (low, high) == pytest.approx((walsh[c], walsh[len(walsh) - 1 - c]))
            # The interval is the set of shifts the exact two-sided test does not reject.
            level = 1 - confidence
            for inside in (low + 1e-9, high - 1e-9):
                assert stats.wilcoxon(d - inside, method="exact").pvalue > level
            for outside in (low - 1e-9, high + 1e-9):
                assert stats.wilcoxon(d - outside, method="exact").pvalue <= level
    # Five pairs: the exact test cannot reject at 5 %, so no interval (the estimate remains).
    assert np.isnan(hodges_lehmann([1.0, 2, 3, 4, 5])[1]) and hodges_lehmann([1, 2, 3])[0] == 2


def test_hodges_lehmann_interval_covers_the_centre() -> None:
    rng = np.random.default_rng(12)
    samples = rng.standard_t(3, size=(2000, 8)) + 1.5  # heavy tails, centre 1.5
    covered = [low <= 1.5 <= high for _, low, high in map(hodges_lehmann, samples)]
    # Exact for symmetric continuous data: 1 − 2·P(T⁺ ≤ 3) = 0.9609 at n = 8.
    assert np.mean(covered) == pytest.approx(0.9609, abs=0.015)


def test_wilcoxon_method_is_explicit_and_respects_the_floor(monkeypatch) -> None:
    d = np.array([0, -1, -2, -3, -4, -5]) / 1000
    p, _ = wilcoxon_p(d)
    assert p >= 2.0 ** (1 - 5) == 0.0625  # the normal approximation gave 0.043 before 1.15
    assert p == pytest.approx(0.0625)
    seen: list[object] = []
    real = stats.wilcoxon

    def spy(*args: object, **kwargs: object) -> object:
        seen.append((kwargs.get("method"), kwargs.get("zero_method")))
        return real(*args, **kwargs)

    monkeypatch.setattr(mcstats._st, "wilcoxon", spy)
    wilcoxon_p(d)  # zeros: exact sign-flip enumeration
    wilcoxon_p(np.arange(1.0, 9))  # no ties: exact signed-rank distribution
    wilcoxon_p(np.r_[np.ones(20), -np.ones(5)])  # ties, 25 pairs: normal approximation
    assert [type(m).__name__ if not isinstance(m, str) else m for m, _ in seen] == [
        "PermutationMethod",
        "exact",
        "asymptotic",
    ]
    assert {z for _, z in seen} == {"wilcox"}
    # Ties: the exact sign-flip p, not the no-ties distribution on mid-ranks (0.625).
    assert wilcoxon_p([1, 1, 2, -3, 2])[0] == pytest.approx(22 / 32)


def test_power_of_the_rule_matches_a_simulation_of_the_rule() -> None:
    # One group with the effect, k − 1 null groups; the rule: two-sided test, Holm, verdict in
    # the direction of the estimate. rule_power is exact when the nulls are not rejected.
    rng = np.random.default_rng(13)
    sims = 3000
    for test, n, k in (("t", 5, 3), ("t", 8, 10), ("wilcoxon", 10, 3), ("wilcoxon", 12, 5)):
        effect = float(detectable_effect(1.0, n, test, k))
        x = rng.standard_normal((sims, k, n))
        x[:, 0] += effect
        if test == "t":
            p = stats.ttest_1samp(x, 0.0, axis=2).pvalue
        else:
            p = stats.wilcoxon(x, axis=2, method="exact").pvalue
        adjusted = np.array([holm(row) for row in p])
        sign = np.sign(x[:, 0].mean(axis=1) if test == "t" else np.median(x[:, 0], axis=1))
        detected = np.mean((adjusted[:, 0] < 0.05) & (sign > 0))
        assert detected == pytest.approx(0.8, abs=0.03), (test, n, k, detected)
        assert rule_power(effect, 1.0, n, test, k) == pytest.approx(0.8, abs=0.002)
    # Below the Wilcoxon floor no effect is detectable: 5 repeats, or 6 with 3 groups.
    assert np.isnan(detectable_effect(1.0, 5, "wilcoxon", 1))
    assert np.isnan(detectable_effect(1.0, 6, "wilcoxon", 3))
    assert rule_power(100.0, 1.0, 5, "wilcoxon") == 0.0
    # Issue #10's numbers: at 5 repeats and 10 groups the old (unadjusted t) MDE had power
    # 0.00 under the Wilcoxon rule and about 0.26 under the t rule.
    old = float(min_detectable_difference(1.0, 5))
    assert rule_power(old, 1.0, 5, "wilcoxon", 10) == 0.0
    assert rule_power(old, 1.0, 5, "t", 10) == pytest.approx(0.26, abs=0.01)
    # G*Power's one-sample two-sided t-test for d = 0.5, alpha 0.05, power 0.8: 34.
    assert repeats_needed(0.5, 1.0, "t", 1) == 34


def test_percentile_bootstrap_coverage_and_its_minimum() -> None:
    rng = np.random.default_rng(14)
    for n, low, high in ((5, 0.78, 0.88), (20, 0.91, 0.96)):
        samples = rng.normal(0.0, 1.0, (600, n))
        lo, hi = _bootstrap_bounds(samples, 0.95, 2000, 0)
        coverage = np.mean((lo <= 0) & (hi >= 0))
        assert low <= coverage <= high, (n, coverage)  # 5 repeats: ~83 %, far below 95 %
    assert all(np.isnan(bootstrap_of_mean(rng.normal(size=9))))
    assert not any(np.isnan(bootstrap_of_mean(rng.normal(size=10))))


def test_simultaneous_band_covers_every_step_at_once() -> None:
    rng = np.random.default_rng(15)
    steps, n, sims = 30, 10, 300
    truth = -0.02 * np.linspace(0, 1, steps)
    band_ok, pointwise_ok = [], []
    for _ in range(sims):
        # Correlated across steps: a repeat-level shift plus a random walk.
        noise = rng.normal(0, 0.01, (n, 1)) + np.cumsum(rng.normal(0, 0.003, (n, steps)), axis=1)
        x = truth + noise
        low, high, critical = simultaneous_band(x, seed=int(rng.integers(1 << 30)))
        band_ok.append(bool(np.all((low <= truth) & (truth <= high))))
        half = stats.t.ppf(0.975, n - 1) * x.std(axis=0, ddof=1) / np.sqrt(n)
        pointwise_ok.append(bool(np.all(np.abs(x.mean(axis=0) - truth) <= half)))
        assert critical > stats.t.ppf(0.975, n - 1)
    assert np.mean(band_ok) == pytest.approx(0.95, abs=0.035)
    assert np.mean(pointwise_ok) < 0.85  # per-step intervals do not hold jointly
    low, high, critical = simultaneous_band(np.ones((4, 3)))
    assert np.isnan(low).all() and np.isnan(critical)  # no spread: no band
