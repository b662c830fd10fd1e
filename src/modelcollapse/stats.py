"""Summaries across repeats: means with confidence intervals, paired differences and tests.

Repeats are few (3 to 20), so intervals use Student's t, not the normal
approximation, and a group with one repeat gets a mean but no interval (NaN)
rather than a misleadingly narrow one.

The resampling unit of every bootstrap here is the repeat: the paired design
makes repeats independent, while the steps of one trajectory (and the test
reviews behind one accuracy) are not, so resampling them would understate the
spread. With 3 to 5 repeats a percentile bootstrap is narrower than it should be
(it only knows the values it saw), which is why the t interval is always given
next to it.

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


def paired_differences(
    df: pd.DataFrame,
    on: Sequence[str],
    value: str = "accuracy",
    baseline_rate: float = 0.0,
) -> pd.DataFrame:
    """The rows with ``rate != baseline_rate``, each with ``difference`` = value − baseline's value.

    ``on`` names the columns that make a pair (e.g. experiment, repeat, step):
    within a repeat all trajectories share test set and draw order, so the
    difference removes the repeat-to-repeat noise that dominates raw accuracy.
    Rows without a baseline partner are dropped.
    """
    keys = list(on)
    is_base = np.isclose(df["rate"].to_numpy(float), baseline_rate)
    return _subtract_baseline(df, is_base, keys, value)


def _subtract_baseline(
    df: pd.DataFrame, is_base: np.ndarray, keys: list[str], value: str
) -> pd.DataFrame:
    """The rows outside ``is_base`` with their partner's ``baseline`` (the mean of the baseline
    rows sharing ``keys``) and ``difference``; rows without a partner are dropped."""
    base = (
        df.loc[is_base]
        .groupby(keys, sort=False, dropna=False, observed=True)[value]
        .mean()
        .rename("baseline")
        .reset_index()
    )
    paired = df.loc[~is_base].merge(base, on=keys, how="inner")
    paired["difference"] = paired[value] - paired["baseline"]
    return paired


PAIRED_COLUMNS = (
    "n_pairs",
    "mean_diff",
    "sd_diff",
    "ci_low_t",
    "ci_high_t",
    "ci_low_boot",
    "ci_high_boot",
    "p_wilcoxon",
    "p_t",
    "p_tost",
    "mde",
    "note",
)
N_RESAMPLES = 9999  # scipy.stats.bootstrap's default
_CHUNK = 4_000_000  # bootstrap means computed per this many values: bounded memory
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def bootstrap_interval(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean of ``values`` (NaNs dropped); NaN below 2.

    Draws exactly as ``scipy.stats.bootstrap((values,), np.mean, method="percentile",
    rng=np.random.default_rng(seed))`` does, so the two agree.
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if x.size < 2:
        return (float("nan"), float("nan"))
    low, high = _bootstrap_bounds(x[None, :], confidence, n_resamples, seed)
    return (float(low[0]), float(high[0]))


def summarize_bootstrap(
    df: pd.DataFrame,
    by: Sequence[str],
    value: str = "accuracy",
    confidence: float = 0.95,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`summarize` plus ``ci_low_boot``/``ci_high_boot``: percentile bootstrap bounds.

    Each row of ``df`` is one repeat's value (e.g. one step of one trajectory), so the
    bootstrap resamples repeats. Groups of equal size share their resampling indices
    (drawn from ``default_rng(seed)``), which makes one group's interval independent of
    the other groups in the frame, and lets one array operation serve them all.
    """
    out = summarize(df, by, value, confidence)
    boot = _grouped_bootstrap(df, list(by), value, confidence, n_resamples, seed)
    return out.merge(boot, on=list(by), how="left")


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


def paired_against_baseline(
    df: pd.DataFrame,
    baseline: str | Mapping[str, object],
    on: Sequence[str] = ("repeat", "train_size"),
    value: str = "accuracy",
    match: Sequence[str] = (),
) -> pd.DataFrame:
    """The rows outside the baseline, each with ``baseline`` (its partner's value) and
    ``difference`` = value − baseline.

    A partner has the same ``on`` values (the pair: repeat and training size, within one
    seed group) and the same ``match`` values (e.g. ``rate`` when the baseline is a loop
    design: designs are compared at matched rate). Several baseline rows for one pair are
    averaged; rows without a partner are dropped. Raises ValueError when the baseline
    matches no rows or every row.
    """
    conditions = parse_conditions(baseline, df) if isinstance(baseline, str) else baseline
    is_base = select_rows(df, conditions)
    text = baseline if isinstance(baseline, str) else _expression(conditions)
    if not is_base.any():
        raise ValueError(f"{text!r} matches no rows")
    if is_base.all():
        raise ValueError(f"{text!r} matches every row: nothing to compare with it")
    keys = [*on, *match]
    return _subtract_baseline(df, is_base, keys, value)


def paired_summary(
    pairs: pd.DataFrame,
    by: Sequence[str],
    unit: Sequence[str] = ("repeat",),
    value: str = "difference",
    margin: float = 0.005,
    confidence: float = 0.95,
    alpha: float = 0.05,
    power: float = 0.8,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """Per group of ``by``: the paired differences summarised and tested.

    Differences are first averaged within each ``unit`` (a repeat), so a group holds one
    independent value per repeat. Columns: ``n_pairs``, ``mean_diff``, ``sd_diff``,
    t interval ``ci_low_t``/``ci_high_t``, percentile bootstrap interval
    ``ci_low_boot``/``ci_high_boot``, ``p_wilcoxon`` (two-sided signed-rank), ``p_t``
    (two-sided paired t-test), ``p_tost`` (equivalence within ±``margin``), ``mde``
    (smallest difference a paired t-test detects with ``power`` at ``alpha``) and ``note``
    (why a number is missing or weak). p-values are not adjusted: see :func:`holm`.
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
    tests = [
        _tests(group[value].to_numpy(float), margin, alpha)
        for _key, group in per_unit.groupby(keys, sort=True, dropna=False, observed=True)
    ]
    out["p_wilcoxon"] = [t[0] for t in tests]
    out["p_t"] = [t[1] for t in tests]
    out["p_tost"] = [t[2] for t in tests]
    out["mde"] = min_detectable_difference(out["sd_diff"], out["n_pairs"], alpha, power)
    out["note"] = [t[3] for t in tests]
    return out[[*keys, *PAIRED_COLUMNS]]


def wilcoxon_p(differences: Sequence[float] | np.ndarray) -> tuple[float, str]:
    """Two-sided Wilcoxon signed-rank p-value (scipy's defaults) and a note when it is not.

    All differences zero gives p = 1 (nothing differs); fewer than 2 pairs gives NaN.
    """
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if d.size < 2:
        return float("nan"), "fewer than 2 pairs: no test"
    if not np.any(d != 0):
        return 1.0, "all differences zero"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(_st.wilcoxon(d).pvalue), ""


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


def min_detectable_difference(
    sd: Sequence[float] | np.ndarray | pd.Series,
    n: Sequence[int] | np.ndarray | pd.Series,
    alpha: float = 0.05,
    power: float = 0.8,
) -> np.ndarray:
    """Smallest true mean difference a two-sided paired t-test on ``n`` pairs with spread
    ``sd`` detects with probability ``power`` at level ``alpha``; NaN below 2 pairs.

    Exact: the noncentrality λ that gives the t-test that power under the noncentral t
    (``scipy.stats.nct``), so MDE = λ·sd/√n. The usual (t₁₋α/₂ + t_power)·sd/√n
    approximation is within 1 % of it from 5 pairs on, but 5 % too small for 3 pairs and
    14 % for 2.
    """
    sd = np.asarray(sd, dtype=float)
    n = np.asarray(n, dtype=float)
    factor = np.full(np.broadcast(sd, n).shape, np.nan)
    n_b = np.broadcast_to(n, factor.shape)
    for size in np.unique(n_b[n_b >= 2]):
        factor[n_b == size] = _noncentrality(int(size) - 1, alpha, power) / np.sqrt(size)
    return factor * sd


def _half_width(sd: np.ndarray | float, n: np.ndarray | int, confidence: float) -> np.ndarray:
    """t quantile × standard error; NaN where n < 2."""
    n = np.asarray(n, dtype=float)
    dof = np.where(n >= 2, n - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = _st.t.ppf(0.5 + confidence / 2, dof)
        return q * np.asarray(sd, dtype=float) / np.sqrt(n)


def _tests(d: np.ndarray, margin: float, alpha: float) -> tuple[float, float, float, str]:
    """Wilcoxon p, paired t p, TOST p and a note for one group's differences."""
    p_w, note = wilcoxon_p(d)
    nonzero = int(np.count_nonzero(d[~np.isnan(d)]))
    if not note and 2.0 ** (1 - nonzero) > alpha:
        # The exact test's smallest two-sided p is 2 / 2**n: five repeats can never reach 0.05.
        note = f"{nonzero} non-zero pairs: the Wilcoxon test cannot reach p < {alpha:g}"
    p_t = float("nan")
    if d.size >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p_t = 1.0 if not np.any(d != 0) else float(_st.ttest_1samp(d, 0.0).pvalue)
    return p_w, p_t, tost_p(d, margin), note


@lru_cache(maxsize=256)
def _noncentrality(dof: int, alpha: float, power: float) -> float:
    critical = _st.t.ppf(1 - alpha / 2, dof)

    def shortfall(nc: float) -> float:
        # The wrong-sign tail is below 1e-15 here, and scipy returns NaN for some such tails.
        wrong_sign = np.nan_to_num(_st.nct.cdf(-critical, dof, nc), nan=0.0)
        return float(_st.nct.sf(critical, dof, nc) + wrong_sign - power)

    high = critical + _st.t.ppf(power, dof)  # the approximation: a good starting bracket
    while shortfall(high) < 0:
        high *= 2
    return float(_opt.brentq(shortfall, 0.0, high, xtol=1e-10))


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
    for n in np.unique(sizes[sizes >= 2]):
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


def _expression(conditions: Mapping[str, object]) -> str:
    return ",".join(f"{k}={v}" for k, v in conditions.items())
