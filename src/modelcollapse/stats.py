"""Summaries across repeats: means with t-based confidence intervals and paired differences.

Repeats are few (3 to 10), so intervals use Student's t, not the normal
approximation, and a group with one repeat gets a mean but no interval (NaN)
rather than a misleadingly narrow one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
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


def _half_width(sd: np.ndarray | float, n: np.ndarray | int, confidence: float) -> np.ndarray:
    """t quantile × standard error; NaN where n < 2."""
    n = np.asarray(n, dtype=float)
    dof = np.where(n >= 2, n - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = _st.t.ppf(0.5 + confidence / 2, dof)
        return q * np.asarray(sd, dtype=float) / np.sqrt(n)
