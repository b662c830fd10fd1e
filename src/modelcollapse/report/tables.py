"""The summary table: per study and rate, accuracy at the first and last step and the paired
difference to rate 0 at the last step, each with a 95 % t-interval across repeats."""

from __future__ import annotations

import pandas as pd

from modelcollapse.report.figures import Study, first_rows, last_rows
from modelcollapse.stats import paired_differences, summarize

SERIES = ["initial_size", "rate"]


def summary_table(study: Study) -> pd.DataFrame:
    """One row per (initial_size, rate); accuracy columns are fractions, not percentages.

    Columns: initial_size, rate, n, first_size, last_size, first_mean/_low/_high,
    last_mean/_low/_high, diff_n, diff_mean/_low/_high (NaN for the baseline itself).
    """
    data = study.data
    first, last = first_rows(data), last_rows(data)
    out = summarize(last, SERIES)[[*SERIES, "n"]]
    out = out.merge(_sizes(first, "first_size"), on=SERIES).merge(
        _sizes(last, "last_size"), on=SERIES
    )
    out = out.merge(_ci(first, "accuracy", "first"), on=SERIES)
    out = out.merge(_ci(last, "accuracy", "last"), on=SERIES)

    # Pair only the final step itself: an earlier step standing in would blur "final".
    paired = paired_differences(data, on=study.pair_keys())
    final_step = data.groupby("trajectory")["step"].max()
    paired = paired.loc[
        paired["step"].to_numpy() == paired["trajectory"].map(final_step).to_numpy()
    ]
    diff = _ci(paired, "difference", "diff", with_n=True)
    out = out.merge(diff, on=SERIES, how="left")
    return out.sort_values(SERIES).reset_index(drop=True)


def _sizes(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    return rows.groupby(SERIES)["train_size"].median().rename(name).reset_index()


def _ci(rows: pd.DataFrame, value: str, prefix: str, with_n: bool = False) -> pd.DataFrame:
    s = summarize(rows, SERIES, value)
    s = s.rename(
        columns={"mean": f"{prefix}_mean", "ci_low": f"{prefix}_low", "ci_high": f"{prefix}_high"}
    )
    keep = [*SERIES, f"{prefix}_mean", f"{prefix}_low", f"{prefix}_high"]
    if with_n:
        s = s.rename(columns={"n": f"{prefix}_n"})
        keep.insert(2, f"{prefix}_n")
    return s[keep]
