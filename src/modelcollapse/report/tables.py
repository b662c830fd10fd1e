"""The summary table: per study and rate, accuracy at the first and last step and the paired
difference to rate 0 at the last step, each with a 95 % t-interval across repeats; and the
statistics tables: tests of those differences (and of loop designs) from :mod:`compare`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from modelcollapse.compare import (
    compare_results,
    design_baseline,
    experiment_order,
    loop_columns,
)
from modelcollapse.errors import UserError
from modelcollapse.pairing import GROUP, pair_with_baseline, with_seed_groups
from modelcollapse.report.figures import Study
from modelcollapse.results import trajectory_endpoints
from modelcollapse.stats import summarize

SERIES = ["initial_size", "rate"]


def summary_table(study: Study) -> pd.DataFrame:
    """One row per (initial_size, rate); accuracy columns are fractions, not percentages.

    Columns: initial_size, rate, n, first_size, last_size, first_mean/_low/_high,
    last_mean/_low/_high, diff_n, diff_mean/_low/_high (NaN for the baseline itself), then
    ``<metric>_last_mean/_low/_high`` for each of :func:`summary_metrics` at the last step.
    Generational studies get :func:`generational_summary_table` instead.
    """
    if study.is_generational:
        return generational_summary_table(study)
    data = study.data
    ends, metrics = _with_last_metrics(study, trajectory_endpoints(data))
    out = summarize(ends, SERIES, "last_accuracy")[[*SERIES, "n"]]
    out = out.merge(_sizes(ends, "first_size"), on=SERIES).merge(
        _sizes(ends, "last_size"), on=SERIES
    )
    out = out.merge(_ci(ends, "first_accuracy", "first"), on=SERIES)
    out = out.merge(_ci(ends, "last_accuracy", "last"), on=SERIES)

    # Pair only the final step itself: an earlier step standing in would blur "final".
    paired = pair_with_baseline(data, np.isclose(data["rate"], 0.0), on=study.pair_keys())
    final_step = data.groupby("trajectory")["step"].max()
    paired = paired.loc[
        paired["step"].to_numpy() == paired["trajectory"].map(final_step).to_numpy()
    ]
    diff = _ci(paired, "difference", "diff", with_n=True)
    out = out.merge(diff, on=SERIES, how="left")
    for metric in metrics:
        out = out.merge(_ci(ends, metric, f"{metric}_last"), on=SERIES, how="left")
    return out.sort_values(SERIES).reset_index(drop=True)


def summary_metrics(study: Study) -> list[str]:
    """The metrics of the study engine's ``summary_metrics`` that its results hold (results
    written before a metric existed lack it, or have it NaN throughout)."""
    data = study.data
    return [m for m in study.engine.summary_metrics if m in data and data[m].notna().any()]


def _with_last_metrics(study: Study, ends: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """``ends`` with each summary metric of the trajectory's last model (the row the kind's
    ``endpoint_rows`` picks, as for the last accuracy), and those metrics' names."""
    metrics = summary_metrics(study)
    if not metrics:
        return ends, []
    _, last = study.engine.endpoint_rows(study.data)
    values = last.drop_duplicates("trajectory").set_index("trajectory")[metrics]
    return ends.join(values, on="trajectory"), metrics


def generational_summary_table(study: Study) -> pd.DataFrame:
    """One row per value of the study's series column (the last of its engine's ``series``:
    regime for generative, rate for generations); accuracy as fractions.

    First and last: the rows its engine's ``endpoint_rows`` picks (generative: generation 0,
    trained on the real reviews, and the last generation; generations: generation 0's best
    model by validation accuracy and the model each search ends with). ``change_*``: last −
    first within each trajectory, then across repeats. Columns: series, label, n, first_step,
    last_step (mean), first_size, last_size, first/last/change _mean/_low/_high,
    vocabulary_first/_last (NaN for a kind that writes no text), then
    ``<metric>_last_mean/_low/_high`` for each of :func:`summary_metrics` at the last model.
    """
    series = study.engine.series[-1]
    ends, metrics = _with_last_metrics(study, trajectory_endpoints(study.data))
    if series != "rate":  # rates stay numbers, to be shown as percentages
        ends[series] = ends[series].astype(str)
    joined = ends.rename(
        columns={
            "first_step": "step",
            "first_size": "train_size",
            "first_accuracy": "accuracy",
            "last_step": "step_last",
            "last_size": "train_size_last",
            "last_accuracy": "accuracy_last",
        }
    )
    joined["change"] = joined["accuracy_last"] - joined["accuracy"]
    out = summarize(joined, [series], "accuracy")[[series, "n"]]
    grouped = joined.groupby(series, sort=True)
    out = out.merge(
        pd.DataFrame(
            {
                "first_step": grouped["step"].mean(),
                "last_step": grouped["step_last"].mean(),
                "first_size": grouped["train_size"].median(),
                "last_size": grouped["train_size_last"].median(),
            }
        ).reset_index(),
        on=series,
    )
    for value, prefix in (("accuracy", "first"), ("accuracy_last", "last"), ("change", "change")):
        out = out.merge(_ci(joined, value, prefix, series=[series]), on=series)
    for metric in metrics:
        out = out.merge(_ci(joined, metric, f"{metric}_last", series=[series]), on=series)
    vocabulary = joined.groupby(series)[["first_vocabulary", "last_vocabulary"]].mean()
    for column in ("first", "last"):
        out[f"vocabulary_{column}"] = out[series].map(vocabulary[f"{column}_vocabulary"])
    out.insert(0, "series", series)
    out = out.rename(columns={series: "label"})
    return out.sort_values("label").reset_index(drop=True)


def _sizes(ends: pd.DataFrame, name: str) -> pd.DataFrame:
    return ends.groupby(SERIES)[name].median().reset_index()


def _ci(
    rows: pd.DataFrame, value: str, prefix: str, with_n: bool = False, series: list[str] = SERIES
) -> pd.DataFrame:
    s = summarize(rows, series, value)
    s = s.rename(
        columns={"mean": f"{prefix}_mean", "ci_low": f"{prefix}_low", "ci_high": f"{prefix}_high"}
    )
    keep = [*series, f"{prefix}_mean", f"{prefix}_low", f"{prefix}_high"]
    if with_n:
        s = s.rename(columns={"n": f"{prefix}_n"})
        keep.insert(len(series), f"{prefix}_n")
    return s[keep]


@dataclass(frozen=True)
class StatisticsTable:
    """The comparison of one seed group's trajectories with one baseline, at the last step."""

    group: str
    baseline: str  # the filter expression, e.g. "rate=0" or "regime=accumulate"
    columns: list[str]  # the group columns worth showing (those that vary in ``frame``)
    frame: pd.DataFrame  # rows of compare_results()


def statistics_tables(
    results: pd.DataFrame,
    seed_groups: Mapping[str, str] | None = None,
    margin: float = 0.005,
) -> list[StatisticsTable]:
    """Per seed group: every rate against rate 0, and, when the group holds several loop
    designs, every design against the first listed one at matched rate."""
    data = with_seed_groups(results, seed_groups)
    try:
        by_rate = compare_results(data, "rate=0", margin)
    except UserError:  # no rate-0 trajectories, or none that pair: nothing to test
        by_rate = None
    group_of = data.drop_duplicates("experiment").set_index("experiment")[GROUP]
    order = list(dict.fromkeys(group_of[e] for e in experiment_order(data, seed_groups)))
    tables = []
    for group in order:
        block = data.loc[data[GROUP] == group]
        if by_rate is not None:
            part = by_rate.loc[by_rate[GROUP] == group]
            if len(part):
                tables.append(_statistics_table(group, "rate=0", part))
        baseline = design_baseline(block, seed_groups)
        if baseline is not None:
            try:
                part = compare_results(block, baseline, margin)
            except UserError:
                continue
            tables.append(_statistics_table(group, baseline, part))
    return tables


def _statistics_table(group: str, baseline: str, frame: pd.DataFrame) -> StatisticsTable:
    groups = list(frame.columns[1 : frame.columns.get_loc("train_size")])
    has_rate = "rate" in frame and bool(frame["rate"].notna().any())  # generative: no rates
    shown = [c for c in groups if (c == "rate" and has_rate) or frame[c].nunique(dropna=False) > 1]
    if any(c in loop_columns() for c in shown) and "experiment" in shown:
        shown.remove("experiment")  # the loop options say what the study name stands for
    return StatisticsTable(group, baseline, shown, frame.reset_index(drop=True))
