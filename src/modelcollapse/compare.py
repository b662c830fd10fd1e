"""Paired comparisons against a baseline: is a rate or a loop design worse, better, or the same?

``compare(run_dir, baseline="rate=0")`` pairs every trajectory with its baseline partner of
the same seed group, repeat and training size. Within a seed group and repeat, trajectories
share the test set, initial sample, order of additions and model seeds, so a paired
difference is the effect of the rate or design alone. Per compared group it gives the mean
difference with t and bootstrap intervals, a Wilcoxon signed-rank test Holm-adjusted across
the groups of one seed group, an equivalence test (TOST) at ±margin, the minimum detectable
effect, and a verdict:

- ``worse`` / ``better``: Holm-adjusted Wilcoxon p < alpha, by the sign of the difference and
  the metric's direction (``higher`` / ``lower`` for metrics without one); with
  ``(within ±margin)`` added when TOST also shows the effect smaller than the margin — a
  difference many repeats can detect but the user has called negligible;
- ``equivalent within ±margin``: otherwise, when TOST p < alpha;
- ``inconclusive``: neither.

The exact Wilcoxon test's smallest two-sided p is 2/2ⁿ for n pairs, and Holm multiplies the
smallest of k p-values by k: with 5 repeats no rate can be called worse, and 10 rates need
9 repeats. ``test="t"`` bases verdicts on the paired t-test instead (normal differences
assumed), which small runs can use; the ``note`` column says when the floor applies.

Generational kinds: a ``generative`` study's regimes are paired by generation (their training
sizes differ), so its rows carry a ``generation`` column; a ``generations`` study is compared
on the model each search ends with (its stop row), one per trajectory.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from rich.table import Table

from modelcollapse.errors import UserError
from modelcollapse.experiments.config import LoopConfig
from modelcollapse.stats import (
    N_RESAMPLES,
    holm,
    paired_against_baseline,
    paired_summary,
    parse_conditions,
    select_rows,
)
from modelcollapse.store import RunStore

GROUP = "seed_group"  # the experiment's name when the study has no seed group, as in the plan
LOOP_COLUMNS = tuple(LoopConfig.model_fields)
# Columns that tell trajectories apart by design (not by chance): candidates for grouping.
DESIGN_COLUMNS = ("experiment", "kind", "model", "tokenizer", "initial_size", "rate", *LOOP_COLUMNS)
HIGHER_IS_BETTER = frozenset(
    {
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "accuracy_gold",
        "accuracy_real_only",
        "model_label_accuracy",
        "validation_accuracy",
        # generative: diversity of the written reviews
        "distinct_1",
        "distinct_2",
        "vocabulary_size",
        "rare_word_share",
    }
)
LOWER_IS_BETTER = frozenset(
    {"log_loss", "brier", "ece", "fit_seconds", "predict_seconds", "perplexity"}
)
# Fractions shown as % (differences in percentage points) by format_compare_table.
PERCENT_METRICS = (HIGHER_IS_BETTER - {"vocabulary_size"}) | {
    "ece",
    "model_labelled_share",
    "predicted_positive_rate",
}
POSITION = "_position"  # what pairs steps: the training size, or a generative study's generation
OUTPUT_COLUMNS = (
    "train_size",
    "n_pairs",
    "baseline_mean",
    "mean_diff",
    "sd_diff",
    "ci_low_t",
    "ci_high_t",
    "ci_low_boot",
    "ci_high_boot",
    "p_wilcoxon",
    "p_t",
    "p_holm",
    "p_tost",
    "mde",
    "verdict",
    "note",
)


def compare(
    run_dir: str | Path,
    baseline: str = "rate=0",
    margin: float = 0.005,
    metric: str = "accuracy",
    at: Literal["last", "all"] = "last",
    by: list[str] | None = None,
    *,
    test: Literal["wilcoxon", "t"] = "wilcoxon",
    alpha: float = 0.05,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
    study: str | None = None,
) -> pd.DataFrame:
    """Compare a stored run's trajectories with ``baseline``; see :func:`compare_results`.

    Seed groups come from the run's ``config.toml`` (studies without one are their own group).
    ``study`` keeps one study (experiment) of the run. Raises :class:`UserError` for a
    directory without results, or a study the run does not hold.
    """
    run_dir = Path(run_dir)
    where = str(run_dir)
    if not run_dir.is_dir():
        raise UserError("not a directory (expected a run directory with results/)", where)
    store = RunStore(run_dir)
    try:
        results = store.read_results()
    except (OSError, ValueError, pa.ArrowException) as err:
        raise UserError(f"cannot read results/: {err}", where) from None
    if study is not None:
        names = sorted(results["experiment"].astype(str).unique())
        if study not in names:
            raise UserError(
                f"no study {study!r} in {where} (studies: {', '.join(names)})", "--study"
            )
        results = results.loc[results["experiment"].astype(str) == study]
    groups: dict[str, str] = {}
    if store.config_path.is_file():
        groups = seed_groups_from_config(store.config_path.read_text(encoding="utf-8"))
    return compare_results(
        results,
        baseline,
        margin,
        metric,
        at,
        by,
        seed_groups=groups,
        test=test,
        alpha=alpha,
        n_resamples=n_resamples,
        seed=seed,
    )


def compare_results(
    results: pd.DataFrame,
    baseline: str = "rate=0",
    margin: float = 0.005,
    metric: str = "accuracy",
    at: Literal["last", "all"] = "last",
    by: Sequence[str] | None = None,
    *,
    seed_groups: Mapping[str, str] | None = None,
    test: Literal["wilcoxon", "t"] = "wilcoxon",
    alpha: float = 0.05,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per compared group (and training size when ``at="all"``), without I/O.

    Groups: the seed group plus the design columns (rate, loop options, start size, …) that
    vary within a seed group, or ``by``. Rows matching ``baseline`` are the baseline, not a
    group. A row's partner also matches it on every design column that varies within the
    baseline (e.g. ``rate`` when the baseline is ``regime=accumulate``: designs are compared
    at matched rate; ``regime`` when it is ``rate=0`` in a seed group of several designs: each
    design against its own rate 0). ``at="last"`` keeps each group's largest paired training
    size. ``p_holm`` adjusts the ``test``'s p-values (``p_wilcoxon`` or ``p_t``) across the
    groups of one seed group (at one training size); verdicts follow it.

    Columns: seed_group, the group columns, then :data:`OUTPUT_COLUMNS` (with ``generation``
    after ``train_size`` when generative studies are paired by generation; ``train_size`` is
    then the compared rows' median size); ``attrs`` records metric, baseline, margin, at,
    test, alpha, the matched columns, ``n_pairs`` (the most pairs of any row) and
    ``wilcoxon_floor``: the largest value any row's Holm-adjusted Wilcoxon p is bound to reach
    (above alpha, the Wilcoxon test cannot call that row worse or better).
    """
    if at not in ("last", "all"):
        raise UserError(f"expected 'last' or 'all', got {at!r}", "at")
    if test not in ("wilcoxon", "t"):
        raise UserError(f"expected 'wilcoxon' or 't', got {test!r}", "--test")
    if not margin >= 0:
        raise UserError(f"must be 0 or more, got {margin}", "--margin")
    _check_metric(results, metric)
    data = comparable_rows(with_seed_groups(results, seed_groups))
    _check_metric(data, metric)
    candidates = [c for c in DESIGN_COLUMNS if c in data.columns]
    try:
        conditions = parse_conditions(baseline, data, [GROUP, *candidates])
    except ValueError as err:
        raise UserError(str(err), "--baseline") from None
    is_base = select_rows(data, conditions)
    if not is_base.any():
        raise UserError(f"{baseline!r} matches no rows", "--baseline")
    if is_base.all():
        raise UserError(f"{baseline!r} matches every row: nothing to compare with", "--baseline")
    match = [c for c in _varying(data.loc[is_base], candidates) if c not in conditions]
    pairs = paired_against_baseline(
        data, conditions, on=[GROUP, "repeat", POSITION], value=metric, match=match
    )
    pairs = pairs.dropna(subset=["difference"])
    by_generation = bool((pairs["kind"] == "generative").any()) if "kind" in pairs else False
    if pairs.empty:
        generative = "kind" in data and bool((data["kind"] == "generative").any())
        position = "generation" if generative else "training size"
        same = ", ".join(["seed group", "repeat", position, *match])
        raise UserError(f"no rows pair with {baseline!r} (same {same})", "--baseline")

    if by is None:
        varying = _varying(data, candidates)
        has_rate = "rate" in data and bool(data["rate"].notna().any())  # generative: none
        columns = [c for c in candidates if c in varying or (c == "rate" and has_rate)]
    else:
        unknown = [c for c in by if c not in data.columns]
        if unknown:
            raise UserError(f"unknown column {unknown[0]!r}", "by")
        if "repeat" in by:
            raise UserError("cannot group by repeat: repeats are what is paired", "by")
        columns = [c for c in by if c not in (GROUP, "train_size", "step", POSITION)]
    keys = [GROUP, *columns]
    if at == "last":
        last = pairs.groupby(keys, dropna=False, observed=True)[POSITION].transform("max")
        pairs = pairs.loc[pairs[POSITION] == last]

    by_size = [*keys, POSITION]
    out = paired_summary(
        pairs, by_size, ("repeat",), margin=margin, alpha=alpha, n_resamples=n_resamples, seed=seed
    )
    grouped = pairs.groupby(by_size, dropna=False, observed=True)
    per_repeat = pairs.groupby([*by_size, "repeat"], dropna=False, observed=True)["baseline"]
    base_mean = per_repeat.mean().groupby(by_size, dropna=False, observed=True).mean()
    out = out.merge(base_mean.rename("baseline_mean").reset_index(), on=by_size, how="left")
    sizes = grouped["train_size"].median().round().astype("int64").rename("train_size")
    out = out.merge(sizes.reset_index(), on=by_size, how="left")
    family = [GROUP] if at == "last" else [GROUP, POSITION]
    out["p_holm"] = np.nan
    floor = 0.0  # the largest smallest-possible Holm-adjusted Wilcoxon p of any row
    for _key, part in out.groupby(family, dropna=False, observed=True):
        index = part.index
        p = part[f"p_{test}"].to_numpy(float)
        out.loc[index, "p_holm"] = holm(p)
        k = int(part["p_wilcoxon"].notna().sum())
        floor = max([floor, *(wilcoxon_floor(int(n), k) for n in part["n_pairs"])])
        if test == "wilcoxon":
            out.loc[index, "note"] = _holm_floor_notes(out.loc[index], alpha)
    out["verdict"] = verdicts(out, metric, margin, alpha)
    out = out.sort_values(by_size, kind="stable").reset_index(drop=True)
    position = []
    if by_generation:
        out["generation"] = out[POSITION].astype("int64")
        position = ["generation"]
    out = out[[*keys, "train_size", *position, *OUTPUT_COLUMNS[1:]]]
    out.attrs.update(
        metric=metric,
        baseline=baseline,
        margin=margin,
        at=at,
        test=test,
        alpha=alpha,
        match=match,
        wilcoxon_floor=floor,
        n_pairs=int(out["n_pairs"].max()),
    )
    return out


def comparable_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The rows a comparison pairs, with the column ``_position`` that pairs steps.

    A ``generations`` study keeps its stop rows (the model each search ends with; the other
    rows are every child of every generation); a ``generative`` study pairs by generation,
    every other kind by training size.
    """
    kind = results["kind"] if "kind" in results else pd.Series("", index=results.index)
    kind = kind.astype(str).to_numpy()
    keep = np.ones(len(results), dtype=bool)
    if "stopped" in results and (kind == "generations").any():
        stopped = results["stopped"].astype("boolean").fillna(False).to_numpy(bool)
        keep = (kind != "generations") | stopped
    data = results.loc[keep].copy()
    position = np.where(kind[keep] == "generative", data["step"], data["train_size"])
    data[POSITION] = position
    return data


def best_per_generation(results: pd.DataFrame) -> pd.DataFrame:
    """A ``generations`` study's model per trajectory and generation: the child with the
    highest validation accuracy (the first such child on ties), without the stop rows."""
    data = results.loc[results["kind"].astype(str) == "generations"]
    if "stopped" in data:
        data = data.loc[~data["stopped"].astype("boolean").fillna(False).to_numpy(bool)]
    if data.empty:
        return data
    key = "generation" if "generation" in data else "step"
    best = data.groupby(["trajectory", key], sort=True)["validation_accuracy"].idxmax()
    return data.loc[best.to_numpy()].reset_index(drop=True)


def final_models(results: pd.DataFrame) -> pd.DataFrame:
    """A ``generations`` study's stop rows: the model each search ends with."""
    data = results.loc[results["kind"].astype(str) == "generations"]
    if "stopped" not in data:
        return data.iloc[:0]
    return data.loc[data["stopped"].astype("boolean").fillna(False).to_numpy(bool)]


def wilcoxon_floor(n_pairs: int, n_groups: int = 1) -> float:
    """The smallest Holm-adjusted two-sided p the exact Wilcoxon test can give with
    ``n_pairs`` pairs in a family of ``n_groups`` tests: min(1, k · 2 / 2ⁿ)."""
    if n_pairs < 1:
        return 1.0
    return min(1.0, max(n_groups, 1) * 2.0 ** (1 - n_pairs))


def verdicts(frame: pd.DataFrame, metric: str, margin: float, alpha: float = 0.05) -> list[str]:
    """worse/better when ``p_holm`` < alpha (noting when TOST puts it within the margin), else
    equivalent when ``p_tost`` < alpha."""
    sign = 1 if metric in HIGHER_IS_BETTER else -1 if metric in LOWER_IS_BETTER else 0
    up, down = (
        ("better", "worse") if sign > 0 else ("worse", "better") if sign else ("higher", "lower")
    )
    out = []
    for mean, p_holm, p_tost in frame[["mean_diff", "p_holm", "p_tost"]].itertuples(index=False):
        if p_holm < alpha and mean != 0:
            word = up if mean > 0 else down
            # Detectable yet smaller than the margin: real, but negligible at the user's margin.
            out.append(f"{word} (within ±{margin:g})" if p_tost < alpha else word)
        elif p_tost < alpha:
            out.append(equivalence_label(margin))
        else:
            out.append("inconclusive")
    return out


def equivalence_label(margin: float) -> str:
    return f"equivalent within ±{margin:g}"


def seed_groups_from_config(config: str | Mapping[str, Any] | None) -> dict[str, str]:
    """``{study name: seed group}`` in the config's study order (the name when it has none).

    An unreadable config gives ``{}``: every experiment is then its own group, which is
    right for every run without seed groups.
    """
    if config is None:
        return {}
    if isinstance(config, str):
        try:
            config = tomllib.loads(config)
        except tomllib.TOMLDecodeError:
            return {}
    groups: dict[str, str] = {}
    studies = config.get("study", [])
    for study in studies if isinstance(studies, list) else []:
        if isinstance(study, dict) and isinstance(study.get("name"), str):
            groups[study["name"]] = str(study.get("seed_group") or study["name"])
    return groups


def with_seed_groups(
    results: pd.DataFrame, seed_groups: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """``results`` with a ``seed_group`` column: stored, else from ``seed_groups``, else the
    experiment's name."""
    data = results.copy()
    experiment = data["experiment"].astype(str)
    if GROUP in data.columns:
        data[GROUP] = data[GROUP].where(data[GROUP].notna(), experiment).astype(str)
    else:
        groups = dict(seed_groups or {})
        data[GROUP] = [groups.get(name, name) for name in experiment]
    return data


def design_columns(frame: pd.DataFrame) -> list[str]:
    """The loop options (regime, label policy, …) that take more than one value in ``frame``."""
    return [c for c in LOOP_COLUMNS if c in frame.columns and frame[c].nunique(dropna=False) > 1]


def design_baseline(
    block: pd.DataFrame, seed_groups: Mapping[str, str] | None = None
) -> str | None:
    """The filter selecting the first listed study's loop design in ``block`` (one seed group),
    e.g. ``"regime=accumulate"``; None when the block holds a single design.

    "First listed" is the config's study order (``seed_groups`` keeps it), else by name.
    """
    columns = design_columns(block)
    if not columns:
        return None
    first = experiment_order(block, seed_groups)[0]
    values = block.loc[block["experiment"] == first, columns].iloc[0]
    return expression(values.to_dict())


def experiment_order(
    frame: pd.DataFrame, seed_groups: Mapping[str, str] | None = None
) -> list[str]:
    """The experiments of ``frame`` in the config's study order, unknown ones after by name."""
    present = set(frame["experiment"].astype(str))
    listed = [name for name in (seed_groups or {}) if name in present]
    return listed + sorted(present - set(listed))


def expression(values: Mapping[str, object]) -> str:
    """``{"regime": "replace", "arms": True}`` as ``"regime=replace,arms=true"``."""
    parts = []
    for name, value in values.items():
        if isinstance(value, bool | np.bool_):
            text = "true" if value else "false"
        elif isinstance(value, float | np.floating):
            text = repr(float(value))
        elif isinstance(value, int | np.integer):
            text = str(int(value))
        else:
            text = str(value)
        parts.append(f"{name}={text}")
    return ",".join(parts)


def format_compare_table(frame: pd.DataFrame) -> Table:
    """The comparison as a rich table; fractions as % and differences in percentage points."""
    attrs = frame.attrs
    metric = str(attrs.get("metric", "value"))
    margin = attrs.get("margin")
    percent = metric in PERCENT_METRICS
    unit = " (pp)" if percent else ""
    at = "every step" if attrs.get("at") == "all" else "last step"
    title = f"{metric}: paired difference to {attrs.get('baseline', 'the baseline')} ({at})"
    table = Table(title=title, title_justify="left")
    groups = [c for c in frame.columns[: frame.columns.get_loc("train_size")]]
    if GROUP in groups and frame[GROUP].nunique() == 1 and len(groups) > 1:
        groups.remove(GROUP)  # one seed group: its name belongs in the title, not every row
    for column in groups:
        table.add_column(column.replace("_", " "), justify="right" if column != GROUP else "left")
    tost = f"p TOST ±{format_number(margin, percent)}" if margin is not None else "p TOST"
    generation = "generation" in frame.columns
    numeric = ["size", *(["generation"] if generation else [])]
    numeric += ["n", "baseline", f"Δ mean{unit}", "95% CI t", "95% CI bootstrap"]
    test = "t" if attrs.get("test") == "t" else "Wilcoxon"
    numeric += ["p Wilcoxon", "p t", f"p Holm ({test})", tost, f"MDE{unit}"]
    for name in numeric:
        table.add_column(name, justify="right")
    table.add_column("verdict")
    for row in frame.itertuples(index=False):
        r = row._asdict()
        cells = [_group_cell(c, r[c]) for c in groups]
        cells += [f"{int(r['train_size']):,}"]
        cells += [str(int(r["generation"]))] if generation else []
        cells += [
            str(int(r["n_pairs"])),
            format_number(r["baseline_mean"], percent, suffix=" %" if percent else ""),
            format_number(r["mean_diff"], percent, signed=True),
            format_interval(r["ci_low_t"], r["ci_high_t"], percent),
            format_interval(r["ci_low_boot"], r["ci_high_boot"], percent),
            _p(r["p_wilcoxon"]),
            _p(r["p_t"]),
            _p(r["p_holm"]),
            _p(r["p_tost"]),
            format_number(r["mde"], percent),
        ]
        style = _VERDICT_STYLE.get(str(r["verdict"]).split(" ")[0], "")
        cells.append(f"[{style}]{r['verdict']}[/]" if style else str(r["verdict"]))
        table.add_row(*cells)
    notes = sorted({n for n in frame["note"] if n})
    caption = (
        f"Paired by seed group, repeat and {'generation' if generation else 'training size'}. "
        "Holm: across the groups of a seed "
        f"group; verdicts at alpha = {attrs.get('alpha', 0.05):g}; MDE: paired t-test, power 0.8."
    )
    table.caption = " ".join([caption, *(f"Note: {n}." for n in notes)])
    table.caption_justify = "left"
    return table


_VERDICT_STYLE = {"worse": "red", "better": "green", "equivalent": "cyan", "inconclusive": "dim"}


def _check_metric(results: pd.DataFrame, metric: str) -> None:
    if metric not in results.columns:
        raise UserError(f"no column {metric!r} in these results", "--metric")
    if not pd.api.types.is_numeric_dtype(results[metric]) or results[metric].isna().all():
        raise UserError(f"{metric!r} holds no numbers in these results", "--metric")


def _holm_floor_notes(family: pd.DataFrame, alpha: float) -> list[str]:
    """Say where Holm over k groups keeps the smallest possible Wilcoxon p above alpha."""
    k = int(family["p_wilcoxon"].notna().sum())
    notes = []
    for n, note in family[["n_pairs", "note"]].itertuples(index=False):
        floor = wilcoxon_floor(int(n), k)
        if not note and k > 1 and floor > alpha:
            note = f"Holm over {k} groups: adjusted p cannot fall below {floor:.3g} with {n} pairs"
        notes.append(note)
    return notes


def _varying(frame: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    """Those of ``columns`` that take more than one value within some seed group."""
    counts = frame.groupby(GROUP, sort=False)[list(columns)].nunique(dropna=False)
    return [c for c in columns if (counts[c] > 1).any()]


def _group_cell(column: str, value: object) -> str:
    if column == "rate" and isinstance(value, float | np.floating) and np.isnan(value):
        return "–"
    if column == "rate" and isinstance(value, float | np.floating):
        return f"{value * 100:.4g} %"
    return str(value)


def format_number(value: object, percent: bool, signed: bool = False, suffix: str = "") -> str:
    """A value for a table: fractions in % (differences in points) to 2 decimals, "–" if missing."""
    if value is None or pd.isna(value):
        return "–"
    v = float(value) * (100 if percent else 1)
    text = f"{v:+.2f}" if signed and percent else f"{v:.2f}" if percent else f"{v:.4g}"
    if signed and not percent and v > 0:
        text = "+" + text
    return text.replace("-", "−") + suffix


def format_interval(low: float, high: float, percent: bool) -> str:
    if pd.isna(low):
        return "–"
    return f"[{format_number(low, percent, True)}, {format_number(high, percent, True)}]"


def _p(value: float) -> str:
    if pd.isna(value):
        return "–"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


__all__ = [
    "DESIGN_COLUMNS",
    "GROUP",
    "best_per_generation",
    "comparable_rows",
    "compare",
    "compare_results",
    "design_baseline",
    "design_columns",
    "equivalence_label",
    "experiment_order",
    "expression",
    "final_models",
    "format_compare_table",
    "format_interval",
    "format_number",
    "seed_groups_from_config",
    "verdicts",
    "wilcoxon_floor",
    "with_seed_groups",
]
