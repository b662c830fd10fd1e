"""Summaries across repeats: means with confidence intervals, paired differences and tests.

Repeats are few (3 to 20), so intervals use Student's t, not the normal
approximation, and a group with one repeat gets a mean but no interval (NaN)
rather than a misleadingly narrow one.

The resampling unit of every bootstrap here is the repeat: the paired design
makes repeats independent, while the steps of one trajectory (and the test
reviews behind one accuracy) are not, so resampling them would understate the
spread. With 3 to 9 repeats a percentile bootstrap is much narrower than it
should be (it only knows the values it saw: 126 distinct resamples at 5 repeats,
about 83 % coverage for a nominal 95 %), so below :data:`MIN_BOOTSTRAP_REPEATS` it
is not computed (NaN, with a note).

Paired comparisons select a baseline with a filter such as ``rate=0`` or
``regime=accumulate,label_policy=argmax`` and subtract its value within each
repeat and training size, which removes the repeat-to-repeat noise (test set,
initial sample, order of additions) that dominates raw accuracy.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize as _opt
from scipy import stats as _st

SUMMARY_COLUMNS = ("n", "mean", "sd", "ci_low", "ci_high", "min", "max")


def t_interval(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float]:
    """Two-sided t interval for the mean of ``values`` (NaNs dropped); (nan, nan) below 2 values."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return (float("nan"), float("nan"))
    half = _half_width(np.std(x, ddof=1), x.size, confidence)
    mean = float(np.mean(x))
    return (mean - float(half), mean + float(half))


def summarize(
    df: pd.DataFrame, by: Sequence[str], value: str = "accuracy", confidence: float = 0.95
) -> pd.DataFrame:
    """One row per group of ``by``: n, mean, sd, t-interval bounds, min and max of ``value``.

    Vectorised (one groupby) because a report summarises every step of every
    series; NaN values are ignored and do not count towards ``n``.
    """
    keys = list(by)
    grouped = df.groupby(keys, sort=True, dropna=False, observed=True)[value]
    out = grouped.agg(n="count", mean="mean", sd="std", min="min", max="max").reset_index()
    half = _half_width(out["sd"].to_numpy(float), out["n"].to_numpy(int), confidence)
    out["ci_low"] = out["mean"] - half
    out["ci_high"] = out["mean"] + half
    return out[[*keys, *SUMMARY_COLUMNS]]


PAIRED_COLUMNS = (
    "n_pairs",
    "mean_diff",
    "sd_diff",
    "ci_low_t",
    "ci_high_t",
    "hl_diff",
    "ci_low_hl",
    "ci_high_hl",
    "ci_low_boot",
    "ci_high_boot",
    "p_wilcoxon",
    "p_t",
    "p_tost",
    "mde",
    "note",
)
N_RESAMPLES = 9999  # scipy.stats.bootstrap's default
# Percentile bootstrap of a mean covers ~83 % at 5 repeats, ~90 % at 10, ~93 % at 20 (nominal 95 %).
MIN_BOOTSTRAP_REPEATS = 10
BOOTSTRAP_NOTE = f"bootstrap interval needs {MIN_BOOTSTRAP_REPEATS} repeats (too few resamples)"
TESTS = ("t", "wilcoxon")
POWER_SIMULATIONS = 4000  # Wilcoxon power: Monte Carlo error about ±0.006 at power 0.8
POWER_SEED = 20240229
# scipy's exact sign-flip enumeration for ties and zeros stays below its 9999 resamples to 2**13.
_PERMUTATION_MAX_N = 13
_CHUNK = 4_000_000  # bootstrap means computed per this many values: bounded memory
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def parse_conditions(
    expression: str, frame: pd.DataFrame, columns: Sequence[str] | None = None
) -> dict[str, object]:
    """``"rate=0,regime=accumulate"`` as ``{"rate": 0.0, "regime": "accumulate"}``.

    Values take the type of the column (float, int, bool or text), so ``rate=0`` and
    ``rate=0.0`` select the same rows. ``columns`` limits the columns one may name.
    Raises ValueError with a one-line message on anything else.
    """
    allowed = list(frame.columns) if columns is None else [c for c in columns if c in frame]
    conditions: dict[str, object] = {}
    parts = [p.strip() for p in str(expression).split(",")]
    if not any(parts):
        raise ValueError("empty baseline; expected column=value, e.g. rate=0")
    for part in parts:
        name, sep, text = (s.strip() for s in part.partition("="))
        if not sep or not name or not text:
            raise ValueError(f"{part!r} is not column=value (e.g. rate=0 or regime=accumulate)")
        if name not in allowed:
            raise ValueError(f"unknown column {name!r} (expected one of: {', '.join(allowed)})")
        conditions[name] = _typed(frame[name], name, text)
    return conditions


def select_rows(frame: pd.DataFrame, conditions: Mapping[str, object]) -> np.ndarray:
    """Boolean mask of the rows meeting every condition (floats compared to within 1e-9)."""
    mask = np.ones(len(frame), dtype=bool)
    for name, value in conditions.items():
        column = frame[name]
        if isinstance(value, float):
            mask &= np.isclose(column.to_numpy(float), value, rtol=0.0, atol=1e-9)
        elif isinstance(value, str) and not pd.api.types.is_string_dtype(column):
            mask &= (column.astype(str) == value).to_numpy()
        else:
            mask &= (column == value).fillna(False).to_numpy(bool)
    return mask


def paired_summary(
    pairs: pd.DataFrame,
    by: Sequence[str],
    unit: Sequence[str] = ("repeat",),
    value: str = "difference",
    margin: float | None = 0.005,
    confidence: float = 0.95,
    alpha: float = 0.05,
    power: float = 0.8,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    test: str = "t",
    groups: int = 1,
) -> pd.DataFrame:
    """Per group of ``by``: the paired differences summarised and tested.

    Differences are first averaged within each ``unit`` (a repeat), so a group holds one
    independent value per repeat. Columns: ``n_pairs``; the mean ``mean_diff`` with ``sd_diff``
    and its t interval ``ci_low_t``/``ci_high_t`` (beside the t-test); the Hodges–Lehmann
    shift ``hl_diff`` with its exact signed-rank interval ``ci_low_hl``/``ci_high_hl`` (beside
    the Wilcoxon test); the percentile bootstrap interval of the mean
    ``ci_low_boot``/``ci_high_boot`` (from :data:`MIN_BOOTSTRAP_REPEATS` repeats on);
    ``p_wilcoxon`` (two-sided signed-rank), ``p_t`` (two-sided paired t-test), ``p_tost``
    (equivalence within ±``margin``; NaN when ``margin`` is None), ``mde`` (the smallest true
    difference the decision rule — ``test``, Holm over ``groups`` — detects with ``power``, see
    :func:`detectable_effect`) and ``note`` (why a number is missing or weak). p-values are not
    adjusted: see :func:`holm`.
    """
    keys = list(by)
    clean = pairs.dropna(subset=[value])
    per_unit = (
        clean.groupby([*keys, *unit], sort=True, dropna=False, observed=True)[value]
        .mean()
        .reset_index()
    )
    out = summarize(per_unit, keys, value, confidence).drop(columns=["min", "max"])
    out = out.rename(
        columns={
            "n": "n_pairs",
            "mean": "mean_diff",
            "sd": "sd_diff",
            "ci_low": "ci_low_t",
            "ci_high": "ci_high_t",
        }
    )
    boot = _grouped_bootstrap(per_unit, keys, value, confidence, n_resamples, seed)
    out = out.merge(boot, on=keys, how="left")
    groups_n, matrices = _grouped_matrices(per_unit, keys, value)
    p_w = np.full(groups_n, np.nan)
    notes = [""] * groups_n
    hl = np.full((groups_n, 3), np.nan)
    for rows, matrix in matrices:
        p_w[rows], exact = _exact_wilcoxon_rows(matrix)
        for row, d, done in zip(rows, matrix, exact, strict=True):
            p, notes[row] = _tests(d, alpha, p_w[row] if done else None)
            p_w[row] = p
            hl[row] = hodges_lehmann(d, confidence)
    out["p_wilcoxon"], out["note"] = p_w, notes
    out["hl_diff"], out["ci_low_hl"], out["ci_high_hl"] = hl.T
    out["p_t"], out["p_tost"] = _grouped_t_tests(per_unit, keys, value, margin)
    out["mde"] = detectable_effect(out["sd_diff"], out["n_pairs"], test, groups, alpha, power)
    out["note"] = [
        "; ".join(x for x in (note, BOOTSTRAP_NOTE if 2 <= n < MIN_BOOTSTRAP_REPEATS else "") if x)
        for note, n in zip(out["note"], out["n_pairs"], strict=True)
    ]
    return out[[*keys, *PAIRED_COLUMNS]]


def wilcoxon_p(differences: Sequence[float] | np.ndarray) -> tuple[float, str]:
    """Two-sided Wilcoxon signed-rank p-value and a note when it is not computed.

    Zeros are dropped (``zero_method="wilcox"``, Wilcoxon's own rule: a zero difference says
    nothing about the direction). The method is explicit, never scipy's version-dependent
    "auto": without ties or zeros the exact signed-rank distribution (``method="exact"``, up to
    50 pairs); with ties or zeros and at most 13 pairs, the exact sign-flip distribution
    (``PermutationMethod``: all 2ⁿ sign patterns); else the normal approximation with
    continuity and tie correction. Before scipy 1.15 "auto" used the normal approximation
    whenever a difference was zero, which gave p = 0.043 for [0, −1, …, −5]/1000 — below the
    exact test's smallest possible p (0.0625 for 5 non-zero pairs). All differences zero gives
    p = 1 (nothing differs); fewer than 2 pairs gives NaN.
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if d.size < 2:
        return float("nan"), "fewer than 2 pairs: no test"
    if not np.any(d != 0):
        return 1.0, "all differences zero"
    nonzero = np.abs(d[d != 0])
    ties = np.unique(nonzero).size < nonzero.size
    zeros = nonzero.size < d.size
    if not (ties or zeros) and d.size <= 50:
        method: object = "exact"
    elif d.size <= _PERMUTATION_MAX_N:
        method = _st.PermutationMethod()
    else:
        method = "asymptotic"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = _st.wilcoxon(d, zero_method="wilcox", method=method)  # type: ignore[arg-type]
    return float(result.pvalue), ""


def signed_rank_null(n: int) -> np.ndarray:
    """Exact null distribution of the signed-rank statistic T⁺ for ``n`` pairs without ties:
    ``P(T⁺ = t)`` for t = 0 … n(n+1)/2 (each rank's sign a fair coin)."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    return counts / 2.0**n


def hodges_lehmann(
    differences: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Hodges–Lehmann estimate of the shift of paired differences (the median of the Walsh
    averages (dᵢ + dⱼ)/2, i ≤ j) and its exact rank-based confidence interval.

    The interval is the set of shifts θ the two-sided Wilcoxon test on d − θ does not reject
    at 1 − ``confidence``: [W₍c+1₎, W₍M−c₎] of the M = n(n+1)/2 sorted Walsh averages, with c
    the largest count such that P(T⁺ ≤ c) ≤ (1 − confidence)/2 under the exact null
    distribution (Hollander & Wolfe, Nonparametric Statistical Methods, §3.3). It is the
    estimate and interval that belong to the Wilcoxon test. NaN for fewer than 2 values; the
    interval is NaN when no c exists (n ≤ 5 at 95 %: the test cannot reject).
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    n = d.size
    if n < 2:
        return (float("nan"), float("nan"), float("nan"))
    i, j = np.triu_indices(n)
    walsh = np.sort((d[i] + d[j]) / 2)
    estimate = float(np.median(walsh))
    cdf = np.cumsum(signed_rank_null(n))
    c = int(np.searchsorted(cdf, (1 - confidence) / 2 * (1 + 1e-9), side="right")) - 1
    if c < 0:
        return (estimate, float("nan"), float("nan"))
    return (estimate, float(walsh[c]), float(walsh[walsh.size - 1 - c]))


def tost_p(differences: Sequence[float] | np.ndarray, margin: float) -> float:
    """Equivalence p-value: the larger of two one-sided paired t-tests against ∓``margin``.

    Below ``alpha`` the mean difference lies within (−margin, +margin) at level ``alpha``
    (Schuirmann's TOST, the same as a 1 − 2·alpha t interval inside the margins).
    """
    if margin < 0:
        raise ValueError(f"margin must be 0 or more, got {margin}")
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if d.size < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # identical values: scipy warns
        above = _st.ttest_1samp(d, -margin, alternative="greater").pvalue
        below = _st.ttest_1samp(d, margin, alternative="less").pvalue
    return float(max(above, below))


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment; NaN stays NaN and does not count towards the family.

    The i-th smallest of m p-values becomes max over j ≤ i of (m − j + 1)·p_(j), capped at 1:
    family-wise error control without assuming independence.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.size
    order = tested[np.argsort(p[tested], kind="stable")]
    out[order] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1.0)
    return out


def rule_power(
    effect: float,
    sd: float,
    n: int,
    test: str = "t",
    groups: int = 1,
    alpha: float = 0.05,
) -> float:
    """Power of compare's decision rule to call a true paired difference ``effect`` (mean or
    median shift, same sign as the verdict) worse/better with ``n`` repeats whose differences
    have spread ``sd``, when the test runs in a Holm family of ``groups`` groups.

    What is assumed: the differences are normal; the group is tested at Holm's first, most
    stringent level alpha/``groups`` — a p-value below it is rejected whatever the others do,
    so this is a lower bound on the rule's power, and exact when the other groups are not
    rejected (null or undetectable); only a rejection in the effect's direction counts. For
    ``test="t"`` the power is exact under these assumptions (noncentral t, ``scipy.stats.nct``);
    for ``"wilcoxon"`` it is simulated (:data:`POWER_SIMULATIONS` samples, fixed seed) with the
    exact signed-rank test, so it is 0 where 2/2ⁿ ≥ alpha/groups (the test's floor).
    """
    _check_rule(test, n, groups, alpha)
    if not sd > 0:
        return float("nan")
    if n < 2:
        return 0.0
    standardized = abs(effect) / sd
    if test == "t":
        critical = _st.t.ppf(1 - alpha / (2 * groups), n - 1)
        return float(_st.nct.sf(critical, n - 1, standardized * np.sqrt(n)))
    return float(_wilcoxon_power(standardized, n, groups, alpha))


def detectable_effect(
    sd: Sequence[float] | np.ndarray | pd.Series | float,
    n: Sequence[int] | np.ndarray | pd.Series | int,
    test: str = "t",
    groups: int = 1,
    alpha: float = 0.05,
    power: float = 0.8,
) -> np.ndarray:
    """Minimum detectable effect: the smallest true difference :func:`rule_power` puts at
    ``power`` (same assumptions); NaN below 2 repeats, for sd NaN, and where the rule cannot
    reach ``power`` at any effect (the Wilcoxon test with 2/2ⁿ ≥ alpha/groups, e.g. 5 repeats).

    It scales with sd, so one standardized value per (n, test, groups, alpha, power) is
    computed and cached: a run with thousands of rows costs one root search per repeat count.
    """
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    factor = np.full(np.broadcast(sd, n).shape, np.nan)
    n_b = np.broadcast_to(n, factor.shape)
    for size in np.unique(n_b[n_b >= 2]):
        factor[n_b == size] = _standardized_effect(int(size), test, int(groups), alpha, power)
    return factor * sd


def repeats_needed(
    effect: float,
    sd: float,
    test: str = "t",
    groups: int = 1,
    alpha: float = 0.05,
    power: float = 0.8,
    max_repeats: int = 200,
) -> int | None:
    """The fewest repeats with which :func:`rule_power` reaches ``power`` for ``effect``;
    None when even ``max_repeats`` do not."""
    if not sd > 0 or effect == 0:
        raise ValueError("effect must be non-zero and sd positive")
    for n in range(2, max_repeats + 1):
        if rule_power(effect, sd, n, test, groups, alpha) >= power:
            return n
    return None


def min_detectable_difference(
    sd: Sequence[float] | np.ndarray | pd.Series,
    n: Sequence[int] | np.ndarray | pd.Series,
    alpha: float = 0.05,
    power: float = 0.8,
) -> np.ndarray:
    """:func:`detectable_effect` of one paired t-test (no Holm family)."""
    return detectable_effect(sd, n, "t", 1, alpha, power)


def simultaneous_band(
    differences: np.ndarray,
    confidence: float = 0.95,
    seed: int = 0,
    n_flips: int = N_RESAMPLES,
) -> tuple[np.ndarray, np.ndarray, float]:
    """A confidence band for the mean difference at every step at once: (low, high, critical).

    ``differences`` is repeats × steps (one repeat's whole trajectory per row). Max-t with
    sign-flip resampling of repeats (Westfall & Young 1993; Nichols & Holmes 2002): each
    repeat's centred difference vector gets one random sign across all steps, which keeps the
    correlation between steps; the critical value is the ``confidence`` quantile of the
    largest |t| over steps, and the band is mean ± critical · sd/√n at every step. All 2ⁿ sign
    patterns are used when there are at most ``n_flips`` of them. Assumes each repeat's
    difference vector is symmetric about the true mean; steps with a missing repeat or zero
    spread get no band (NaN).
    """
    x = np.asarray(differences, dtype=float)
    n, steps = x.shape
    low = np.full(steps, np.nan)
    high = np.full(steps, np.nan)
    if n < 2:
        return low, high, float("nan")
    mean = x.mean(axis=0)
    sd = x.std(axis=0, ddof=1)
    usable = np.isfinite(mean) & (sd > 0)
    if not usable.any():
        return low, high, float("nan")
    centred = x[:, usable] - mean[usable]
    if 2**n <= n_flips:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
    else:
        signs = np.random.default_rng(seed).choice([-1, 1], size=(n_flips, n))
    # A sign flip keeps each step's sum of squares, so the flipped sd follows from the flipped
    # mean: all patterns' t statistics come from one matrix product.
    means = signs @ centred / n  # patterns × steps
    squares = (centred**2).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = np.sqrt(np.maximum(squares - n * means**2, 0.0) / (n - 1) / n)
        t = np.abs(means) / spread
    # A step without spread under a pattern contributes 0 (it shows no deviation).
    maxima = np.where(np.isfinite(t), t, 0.0).max(axis=1)
    critical = float(np.quantile(maxima, confidence, method="higher"))
    half = critical * sd[usable] / np.sqrt(n)
    low[usable] = mean[usable] - half
    high[usable] = mean[usable] + half
    return low, high, critical


def _check_rule(test: str, n: int, groups: int, alpha: float) -> None:
    if test not in TESTS:
        raise ValueError(f"test must be t or wilcoxon, got {test!r}")
    if groups < 1:
        raise ValueError(f"groups must be 1 or more, got {groups}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")


def _wilcoxon_critical(n: int, level: float) -> int | None:
    """The smallest T⁺ whose exact two-sided p (2·P(T⁺ ≥ t)) is below ``level``; None if none."""
    upper = np.cumsum(signed_rank_null(n)[::-1])[::-1]  # P(T⁺ ≥ t)
    below = np.flatnonzero(2 * upper < level)
    return int(below[0]) if below.size else None


@lru_cache(maxsize=256)
def _wilcoxon_thresholds(n: int, groups: int, alpha: float) -> np.ndarray:
    """Per simulated sample of n standard normals, the smallest shift e at which the exact
    two-sided Wilcoxon test rejects upwards at alpha/groups, sorted; empty when it never can.

    T⁺ of z + e is the number of Walsh averages above −e (Tukey), so the test rejects once e
    exceeds minus the critical-th largest Walsh average: power(e) is the share of thresholds
    below e, and the effect at a given power is a quantile of them (common random numbers).
    """
    critical = _wilcoxon_critical(n, alpha / groups)
    if critical is None:
        return np.empty(0)
    z = np.random.default_rng([POWER_SEED, n]).standard_normal((POWER_SIMULATIONS, n))
    i, j = np.triu_indices(n)
    walsh = (z[:, i] + z[:, j]) / 2
    kth = walsh.shape[1] - critical  # index of the critical-th largest
    return np.sort(-np.partition(walsh, kth, axis=1)[:, kth])


def _wilcoxon_power(standardized: float, n: int, groups: int, alpha: float) -> float:
    thresholds = _wilcoxon_thresholds(n, groups, alpha)
    if thresholds.size == 0:
        return 0.0
    return float(np.searchsorted(thresholds, standardized, side="left") / thresholds.size)


@lru_cache(maxsize=1024)
def _standardized_effect(n: int, test: str, groups: int, alpha: float, power: float) -> float:
    _check_rule(test, n, groups, alpha)
    if test == "wilcoxon":
        thresholds = _wilcoxon_thresholds(n, groups, alpha)
        if thresholds.size == 0:
            return float("nan")
        index = int(np.ceil(power * thresholds.size)) - 1
        return float(np.nextafter(thresholds[index], np.inf))

    def shortfall(e: float) -> float:
        return rule_power(e, 1.0, n, test, groups, alpha) - power

    high = 1.0
    while shortfall(high) < 0:
        high *= 2
    return float(_opt.brentq(shortfall, 0.0, high, xtol=1e-10))


def _half_width(sd: np.ndarray | float, n: np.ndarray | int, confidence: float) -> np.ndarray:
    """t quantile × standard error; NaN where n < 2."""
    n = np.asarray(n, dtype=float)
    dof = np.where(n >= 2, n - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = _st.t.ppf(0.5 + confidence / 2, dof)
        return q * np.asarray(sd, dtype=float) / np.sqrt(n)


def _exact_wilcoxon_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`wilcoxon_p` of the rows without ties or zeros (the exact test), in one scipy
    call; the other rows are NaN and flagged False."""
    p = np.full(matrix.shape[0], np.nan)
    n = matrix.shape[1]
    if n < 2 or n > 50:
        return p, np.zeros(matrix.shape[0], dtype=bool)
    sorted_abs = np.sort(np.abs(matrix), axis=1)
    exact = np.all(sorted_abs[:, :1] > 0, axis=1) & np.all(np.diff(sorted_abs, axis=1) > 0, axis=1)
    if exact.any():
        p[exact] = _st.wilcoxon(matrix[exact], axis=1, zero_method="wilcox", method="exact").pvalue
    return p, exact


def _tests(d: np.ndarray, alpha: float, p_exact: float | None = None) -> tuple[float, str]:
    """Wilcoxon p (``p_exact`` when already computed) and a note for one group's differences."""
    p_w, note = (p_exact, "") if p_exact is not None else wilcoxon_p(d)
    nonzero = int(np.count_nonzero(d[~np.isnan(d)]))
    if not note and 2.0 ** (1 - nonzero) >= alpha:
        # The exact test's smallest two-sided p is 2 / 2**n: five repeats can never reach 0.05.
        note = f"{nonzero} non-zero pairs: the Wilcoxon test cannot reach p < {alpha:g}"
    return p_w, note


def _grouped_t_tests(
    df: pd.DataFrame, keys: list[str], value: str, margin: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Paired t-test p and TOST p (:func:`tost_p`) per group of ``keys``, in sorted group
    order; groups of equal size in one scipy call (a run can have thousands of groups)."""
    groups, matrices = _grouped_matrices(df, keys, value)
    p_t = np.full(groups, np.nan)
    p_tost = np.full(groups, np.nan)
    for rows, matrix in matrices:
        if matrix.shape[1] < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # identical values: scipy warns
            p = _st.ttest_1samp(matrix, 0.0, axis=1).pvalue
            p_t[rows] = np.where(np.any(matrix != 0, axis=1), p, 1.0)
            if margin is not None:
                if margin < 0:
                    raise ValueError(f"margin must be 0 or more, got {margin}")
                above = _st.ttest_1samp(matrix, -margin, axis=1, alternative="greater").pvalue
                below = _st.ttest_1samp(matrix, margin, axis=1, alternative="less").pvalue
                p_tost[rows] = np.maximum(above, below)
    return p_t, p_tost


def _grouped_matrices(
    df: pd.DataFrame, keys: list[str], value: str
) -> tuple[int, list[tuple[np.ndarray, np.ndarray]]]:
    """The number of groups of ``keys`` and, per group size, (group indices in sorted order,
    groups × values matrix)."""
    data = df[[*keys, value]].dropna(subset=[value])
    grouped = data.groupby(keys, sort=True, dropna=False, observed=True)
    sizes = grouped.size().to_numpy(int)
    codes = grouped.ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    values = data[value].to_numpy(float)[order]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    parts = []
    for n in np.unique(sizes):
        rows = np.flatnonzero(sizes == n)
        parts.append((rows, values[starts[rows, None] + np.arange(n)]))
    return len(sizes), parts


def _grouped_bootstrap(
    df: pd.DataFrame,
    keys: list[str],
    value: str,
    confidence: float,
    n_resamples: int,
    seed: int,
) -> pd.DataFrame:
    """``ci_low_boot``/``ci_high_boot`` per group of ``keys``; groups of equal size in one go."""
    data = df[[*keys, value]].dropna(subset=[value])
    grouped = data.groupby(keys, sort=True, dropna=False, observed=True)
    out = grouped.size().rename("_n").reset_index()
    codes = grouped.ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    values = data[value].to_numpy(float)[order]
    sizes = out["_n"].to_numpy(int)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    low = np.full(len(out), np.nan)
    high = np.full(len(out), np.nan)
    for n in np.unique(sizes[sizes >= MIN_BOOTSTRAP_REPEATS]):
        rows = np.flatnonzero(sizes == n)
        matrix = values[starts[rows, None] + np.arange(n)]
        low[rows], high[rows] = _bootstrap_bounds(matrix, confidence, n_resamples, seed)
    out["ci_low_boot"], out["ci_high_boot"] = low, high
    return out.drop(columns="_n")


def _bootstrap_bounds(
    matrix: np.ndarray, confidence: float, n_resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bounds of the resampled means of each row of ``matrix`` (groups × repeats).

    The same indices for every row, drawn as scipy.stats.bootstrap draws them.
    """
    n = matrix.shape[1]
    index = np.random.default_rng(seed).integers(0, n, (n_resamples, n))
    tail = (1 - confidence) / 2
    per_chunk = max(1, _CHUNK // (n_resamples * n))
    bounds = [
        np.quantile(matrix[i : i + per_chunk][:, index].mean(axis=-1), [tail, 1 - tail], axis=-1)
        for i in range(0, matrix.shape[0], per_chunk)
    ]
    both = np.concatenate(bounds, axis=1)
    return both[0], both[1]


def _typed(column: pd.Series, name: str, text: str) -> object:
    """``text`` as a value of ``column``'s type; ValueError naming the column otherwise."""
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"{name}={text}: expected true or false")
    if pd.api.types.is_numeric_dtype(dtype):
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"{name}={text}: expected a number") from None
        if pd.api.types.is_integer_dtype(dtype):
            if not number.is_integer():
                raise ValueError(f"{name}={text}: expected a whole number")
            return int(number)
        return number
    return text
