"""Paired comparisons against a baseline: is a rate or a loop design worse, better, or the same?

``compare(run_dir, baseline="rate=0")`` pairs every trajectory with its baseline partner of
the same seed group, repeat and training size. Within a seed group and repeat, trajectories
share the test set, initial sample, order of additions and model seeds, so a paired
difference is the effect of the rate or design alone. Per compared group it gives the mean
difference with its t interval (the t-test's estimate), the Hodges–Lehmann shift with its
signed-rank interval (the Wilcoxon test's estimate), a bootstrap interval from 10 repeats on,
both tests with the chosen one Holm-adjusted across the groups of one seed group, an
equivalence test (TOST) at ±margin in the metric's units, the effect the decision rule detects
with 80 % power (MDE), and a verdict:

- ``worse`` / ``better``: Holm-adjusted p of the chosen test < alpha, by the sign of that test's
  own estimate and the metric's direction (``higher`` / ``lower`` for metrics without one); with
  ``(within ±margin)`` added when TOST also shows the effect smaller than the margin — a
  difference many repeats can detect but the user has called negligible;
- ``equivalent within ±margin``: otherwise, when TOST p < alpha;
- ``inconclusive``: neither;
- ``no baseline``: the group has no partner under the baseline (the note says why).

The exact Wilcoxon test's smallest two-sided p is 2/2ⁿ for n pairs, and Holm multiplies the
smallest of k p-values by k: with 5 repeats no rate can be called worse by it, and 10 rates need
9 repeats. The default is therefore the paired t-test (``test="t"``); ``test="wilcoxon"``
suits runs with many repeats, and the ``note`` column says when the floor applies.

Generational kinds: a ``generative`` study's regimes are paired by generation (their training
sizes differ), so its rows carry a ``generation`` column; a ``generations`` study is compared
on the model each search ends with (its stop row), one per trajectory.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from rich.table import Table

from modelcollapse.core.options import option_names
from modelcollapse.engines import ENGINES, engine_of, kinds_paired_by_step, kinds_recording
from modelcollapse.errors import UserError
from modelcollapse.formatting import (
    MISSING,
    format_interval,
    format_number,
    format_p,
    format_percent,
)
from modelcollapse.pairing import GROUP, pair_with_baseline, with_seed_groups
from modelcollapse.results import classes_of, read_results
from modelcollapse.stats import (
    N_RESAMPLES,
    detectable_effect,
    holm,
    paired_summary,
    parse_conditions,
    repeats_needed,
    rule_power,
    select_rows,
    simultaneous_band,
)


def loop_columns() -> tuple[str, ...]:
    """The loop options' columns, read from the table when asked (a plug-in's options too)."""
    return option_names()


def design_candidates() -> tuple[str, ...]:
    """Columns that tell trajectories apart by design (not by chance): candidates for grouping.

    Beside the loop options, each kind's own design settings (``generative``: the keep-real
    share and the mixture λ), so that studies of one seed group that differ only in them are
    told apart and paired generation by generation."""
    return tuple(dict.fromkeys(
        ("experiment", "kind", "model", "tokenizer", "initial_size", "rate", *loop_columns(),
         *kind_design_columns())
    ))  # fmt: skip


def kind_design_columns() -> tuple[str, ...]:
    """The study kinds' own design settings recorded per row (``Engine.design_columns``)."""
    return tuple(dict.fromkeys(c for name in ENGINES.names()
                               for c in ENGINES.get(name).design_columns))  # fmt: skip


@dataclass(frozen=True)
class Metric:
    """What a results column means for a verdict: its better direction (+1 higher, −1 lower,
    0 neither), whether it is a fraction shown in % (differences in percentage points), and
    the default equivalence margin in its own units (None: no sensible default, so TOST needs
    ``--margin``)."""

    name: str
    direction: int
    percent: bool
    margin: float | None


def _metrics(direction: int, percent: bool, margin: float | None, *names: str) -> list[Metric]:
    return [Metric(name, direction, percent, margin) for name in names]


# One definition per metric. Fractions get 0.005 (half a percentage point, the smallest
# accuracy change the studies treat as real); log loss 0.01 nats and Brier 0.0025 are about
# the same change for a classifier near 85 % accuracy; counts, perplexity and seconds have no
# scale-free default.
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        *_metrics(
            1,
            True,
            0.005,
            "accuracy",
            "balanced_accuracy",
            "macro_f1",
            "accuracy_gold",
            "accuracy_real_only",
            "model_label_accuracy",
            "kept_label_accuracy",
            "validation_accuracy",
            "distinct_1",
            "distinct_2",
            "rare_word_share",
        ),
        Metric("vocabulary_size", 1, False, None),
        Metric("log_loss", -1, False, 0.01),
        Metric("brier", -1, False, 0.0025),
        Metric("ece", -1, True, 0.005),
        Metric("pred_tv_distance", -1, True, 0.005),
        *_metrics(-1, False, None, "fit_seconds", "predict_seconds", "perplexity"),
        *_metrics(0, True, 0.005, "model_labelled_share", "predicted_positive_rate"),
    ]
}


def metric_info(name: str) -> Metric:
    """The :class:`Metric` of a results column; unknown columns have no direction or margin."""
    return METRICS.get(name, Metric(name, 0, False, None))


POSITION = "_position"  # what pairs steps: the training size, or a generative study's generation
OUTPUT_COLUMNS = (
    "train_size",
    "n_pairs",
    "baseline_mean",
    "mean_diff",
    "sd_diff",
    "ci_low_t",
    "ci_high_t",
    "hl_diff",
    "ci_low_hl",
    "ci_high_hl",
    "ci_low_boot",
    "ci_high_boot",
    "ci_low_band",
    "ci_high_band",
    "p_wilcoxon",
    "p_t",
    "p_holm",
    "p_tost",
    "margin",
    "mde",
    "verdict",
    "note",
)
NO_BASELINE = "no baseline"


def compare(
    run_dir: str | Path,
    baseline: str = "rate=0",
    margin: float | None = None,
    metric: str = "accuracy",
    at: Literal["last", "all"] = "last",
    by: list[str] | None = None,
    *,
    test: Literal["wilcoxon", "t"] = "t",
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
    results, groups = read_run(run_dir, study)
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


def read_run(run_dir: str | Path, study: str | None = None) -> tuple[pd.DataFrame, dict[str, str]]:
    """A stored run's results (``study``: one study of it) and its seed groups, as ``compare``
    and ``answer`` read them. Raises :class:`UserError` for a directory without readable
    results, or a study the run does not hold."""
    run_dir = Path(run_dir)
    where = str(run_dir)
    results = read_results(run_dir)
    if study is not None:
        names = sorted(results["experiment"].astype(str).unique())
        if study not in names:
            raise UserError(
                f"no study {study!r} in {where} (studies: {', '.join(names)})", "--study"
            )
        results = results.loc[results["experiment"].astype(str) == study]
    groups: dict[str, str] = {}
    config = run_dir / "config.toml"
    if config.is_file():
        groups = seed_groups_from_config(config.read_text(encoding="utf-8"))
    return results, groups


def compare_results(
    results: pd.DataFrame,
    baseline: str = "rate=0",
    margin: float | None = None,
    metric: str = "accuracy",
    at: Literal["last", "all"] = "last",
    by: Sequence[str] | None = None,
    *,
    seed_groups: Mapping[str, str] | None = None,
    test: Literal["wilcoxon", "t"] = "t",
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
    design against its own rate 0). A group with no partner at all is not dropped: it gets a
    row with ``n_pairs`` 0, verdict ``no baseline`` and the reason in ``note``. ``at="last"``
    keeps each group's largest paired training size. ``p_holm`` adjusts the ``test``'s
    p-values (``p_t`` or ``p_wilcoxon``) across the groups of one seed group (at one training
    size); verdicts follow it, in the direction of the estimate that belongs to the test
    (``mean_diff`` for t, ``hl_diff`` for Wilcoxon). ``margin`` (in the metric's units)
    defaults to :data:`METRICS`' margin for ``metric``. ``mde`` is the effect that decision
    rule detects with 80 % power (:func:`modelcollapse.stats.detectable_effect`).
    ``at="all"`` adds a simultaneous band ``ci_low_band``/``ci_high_band`` per group across
    all its steps (:func:`modelcollapse.stats.simultaneous_band`); its per-step p-values and
    verdicts are exploratory (Holm within a step only).

    Columns: seed_group, the group columns, then :data:`OUTPUT_COLUMNS` (with ``generation``
    after ``train_size`` when generative studies are paired by generation; ``train_size`` is
    then the compared rows' median size); ``attrs`` records metric, baseline, margin, at,
    test, alpha, the matched columns, ``n_pairs`` (the most pairs of any row),
    ``wilcoxon_floor`` (the largest value any row's Holm-adjusted Wilcoxon p is bound to
    reach) and ``detectable`` (a sentence saying what the run can detect).
    """
    if at not in ("last", "all"):
        raise UserError(f"expected 'last' or 'all', got {at!r}", "at")
    if test not in ("wilcoxon", "t"):
        raise UserError(f"expected 'wilcoxon' or 't', got {test!r}", "--test")
    if margin is None:
        margin = metric_info(metric).margin
    elif not margin >= 0:
        raise UserError(f"must be 0 or more, got {margin}", "--margin")
    _check_metric(results, metric)
    data = comparable_rows(with_seed_groups(results, seed_groups))
    _check_metric(data, metric)
    candidates = [c for c in design_candidates() if c in data.columns]
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
    pairs = pair_with_baseline(
        data, conditions, on=[GROUP, "repeat", POSITION], value=metric, match=match
    )
    pairs = pairs.dropna(subset=["difference"])
    by_generation = "kind" in pairs and bool(pairs["kind"].isin(kinds_paired_by_step()).any())
    generative = "kind" in data and bool(data["kind"].isin(kinds_paired_by_step()).any())
    position_name = "generation" if generative else "training size"
    if pairs.empty:
        same = ", ".join(["seed group", "repeat", position_name, *match])
        raise UserError(f"no rows pair with {baseline!r} (same {same})", "--baseline")

    if by is None:
        varying = _varying(data, candidates)
        has_rate = "rate" in data and bool(data["rate"].notna().any())  # generative: none
        columns = [c for c in candidates if c in varying or (c == "rate" and has_rate)]
        columns = _without_implied(data, columns)
    else:
        unknown = [c for c in by if c not in data.columns]
        if unknown:
            raise UserError(f"unknown column {unknown[0]!r}", "by")
        if "repeat" in by:
            raise UserError("cannot group by repeat: repeats are what is paired", "by")
        columns = [c for c in by if c not in (GROUP, "train_size", "step", POSITION)]
    keys = [GROUP, *columns]
    all_pairs = pairs
    if at == "last":
        last = pairs.groupby(keys, dropna=False, observed=True)[POSITION].transform("max")
        pairs = pairs.loc[pairs[POSITION] == last]

    by_size = [*keys, POSITION]
    out = paired_summary(
        pairs,
        by_size,
        ("repeat",),
        margin=margin,
        alpha=alpha,
        n_resamples=n_resamples,
        seed=seed,
        test=test,
    )
    grouped = pairs.groupby(by_size, dropna=False, observed=True)
    per_repeat = pairs.groupby([*by_size, "repeat"], dropna=False, observed=True)["baseline"]
    base_mean = per_repeat.mean().groupby(by_size, dropna=False, observed=True).mean()
    out = out.merge(base_mean.rename("baseline_mean").reset_index(), on=by_size, how="left")
    sizes = grouped["train_size"].median().round().astype("int64").rename("train_size")
    out = out.merge(sizes.reset_index(), on=by_size, how="left")
    out = _with_band(out, all_pairs, keys, metric, at, seed)
    family = [GROUP] if at == "last" else [GROUP, POSITION]
    out["p_holm"] = np.nan
    floor = 0.0  # the largest smallest-possible Holm-adjusted Wilcoxon p of any row
    for _key, part in out.groupby(family, dropna=False, observed=True):
        index = part.index
        p = part[f"p_{test}"].to_numpy(float)
        out.loc[index, "p_holm"] = holm(p)
        k = max(int(part[f"p_{test}"].notna().sum()), 1)
        out.loc[index, "mde"] = detectable_effect(part["sd_diff"], part["n_pairs"], test, k, alpha)
        out.loc[index, "_k"] = k
        floor = max([floor, *(wilcoxon_floor(int(n), k) for n in part["n_pairs"])])
        if test == "wilcoxon":
            out.loc[index, "note"] = _holm_floor_notes(out.loc[index], alpha)
    out["margin"] = np.nan if margin is None else margin
    out["verdict"] = verdicts(out, metric, margin, alpha, test)
    detectable = _detectable_sentence(out, metric, test, alpha)
    family_size = out["_k"].max()
    out = out.drop(columns="_k")
    missing = _unpaired_groups(data, is_base, pairs, keys, match, baseline, position_name)
    if len(missing):
        missing["margin"] = np.nan if margin is None else margin
        out = pd.concat([out, missing], ignore_index=True)
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
        detectable=detectable,
        unpaired=len(missing),
        groups=int(family_size),
    )
    return out


def power_questions(
    pilot: str | Path | None = None,
    *,
    effect: float | None = None,
    repeats: int | None = None,
    sd: float | None = None,
    test: str = "t",
    groups: int | None = None,
    baseline: str = "rate=0",
    metric: str = "accuracy",
    alpha: float = 0.05,
    power: float = 0.8,
) -> list[str]:
    """Power before the run, one sentence per question: with ``effect``, the repeats compare's
    decision rule (``test``, Holm over ``groups``) needs to detect it with ``power``; with
    ``repeats``, the effect those repeats detect (:func:`modelcollapse.stats.rule_power`).

    The spread is ``sd`` or, from a ``pilot`` run, the largest ``sd_diff`` of any group that
    :func:`compare` pairs with ``baseline`` (the pilot's number of groups is the default
    ``groups``). Raises :class:`UserError` on contradictory or out-of-range input.
    """
    if test not in ("t", "wilcoxon"):
        raise UserError(f"expected t or wilcoxon, got {test!r}", "--test")
    if effect is None and repeats is None:
        raise UserError("give the effect to detect (--effect) or the repeats (--repeats)", "power")
    if (pilot is None) == (sd is None):
        raise UserError("give either a pilot run directory or --sd, not both or neither", "--sd")
    if sd is not None and not sd > 0:
        raise UserError(f"must be more than 0, got {sd:g}", "--sd")
    if effect is not None and (effect == 0 or not np.isfinite(effect)):
        raise UserError(f"must be a non-zero number, got {effect:g}", "--effect")
    if repeats is not None and repeats < 2:
        raise UserError(f"must be 2 or more, got {repeats}", "--repeats")
    if groups is not None and groups < 1:
        raise UserError(f"must be 1 or more, got {groups}", "--groups")
    if not 0 < alpha < 1:
        raise UserError(f"must be between 0 and 1, got {alpha:g}", "--alpha")
    if not 0 < power < 1:
        raise UserError(f"must be between 0 and 1, got {power:g}", "--power")
    info = metric_info(metric)
    scale, unit = (100, " pp") if info.percent else (1, "")
    if pilot is not None:
        frame = compare(pilot, baseline, metric=metric, test=test)  # type: ignore[arg-type]
        spread = float(frame["sd_diff"].max())
        if not spread > 0:
            raise UserError("the pilot's paired differences have no spread", str(pilot))
        k = groups if groups is not None else int(frame.attrs["groups"])
        source = (
            f"sd {spread * scale:.3g}{unit}: the largest of {len(frame)} groups in {pilot}, "
            f"{int(frame['n_pairs'].max())} repeats"
        )
    else:
        spread = float(sd)  # type: ignore[arg-type]
        k = groups if groups is not None else 1
        source = f"sd {spread * scale:.3g}{unit}"
    name = "paired t-test" if test == "t" else "Wilcoxon signed-rank test"
    rule = f"{name}{f', Holm over {k} groups' if k > 1 else ''}, alpha {alpha:g}"
    lines = []
    if effect is not None:
        n = repeats_needed(effect, spread, test, k, alpha, power)
        if n is None:
            lines.append(
                f"To detect {effect * scale:.3g}{unit} ({source}) with {power:.0%} power "
                f"({rule}): more than 200 repeats."
            )
        else:
            reached = rule_power(effect, spread, n, test, k, alpha)
            lines.append(
                f"To detect {effect * scale:.3g}{unit} ({source}) with {power:.0%} power "
                f"({rule}): {n} repeats (power {reached:.2f})."
            )
    if repeats is not None:
        mde = float(detectable_effect(spread, repeats, test, k, alpha, power))
        if np.isfinite(mde):
            lines.append(
                f"With {repeats} repeats ({source}; {rule}) the smallest difference detected "
                f"with {power:.0%} power is {mde * scale:.3g}{unit}."
            )
        else:
            need = wilcoxon_min_repeats(k, alpha)
            lines.append(
                f"With {repeats} repeats ({source}; {rule}) nothing can be detected: the "
                f"Wilcoxon test needs at least {need} repeats to reject at all."
            )
    return lines


def _with_band(
    out: pd.DataFrame, pairs: pd.DataFrame, keys: list[str], metric: str, at: str, seed: int
) -> pd.DataFrame:
    """``ci_low_band``/``ci_high_band``: with ``at="all"``, each group's simultaneous 95 %
    band over all its paired steps (repeats with a step missing are left out); NaN otherwise."""
    out["ci_low_band"] = np.nan
    out["ci_high_band"] = np.nan
    if at != "all":
        return out
    per_unit = (
        pairs.groupby([*keys, POSITION, "repeat"], dropna=False, observed=True)["difference"]
        .mean()
        .reset_index()
    )
    bands = []
    for key, group in per_unit.groupby(keys, dropna=False, observed=True, sort=False):
        matrix = group.pivot(index="repeat", columns=POSITION, values="difference")
        matrix = matrix.dropna(axis=0, how="any")
        low, high, _critical = simultaneous_band(matrix.to_numpy(float), seed=seed)
        frame = pd.DataFrame(
            {POSITION: matrix.columns.to_numpy(), "ci_low_band": low, "ci_high_band": high}
        )
        for name, value in zip(keys, key if isinstance(key, tuple) else (key,), strict=True):
            frame[name] = value
        bands.append(frame)
    band = pd.concat(bands, ignore_index=True)
    out = out.drop(columns=["ci_low_band", "ci_high_band"])
    return out.merge(band, on=[*keys, POSITION], how="left")


def _unpaired_groups(
    data: pd.DataFrame,
    is_base: np.ndarray,
    pairs: pd.DataFrame,
    keys: list[str],
    match: list[str],
    baseline: str,
    position_name: str,
) -> pd.DataFrame:
    """A ``no baseline`` row for every group outside the baseline without a single pair."""
    rest = data.loc[~is_base]
    paired = {
        _hashable(k) for k in pairs[keys].drop_duplicates().itertuples(index=False, name=None)
    }
    base = data.loc[is_base]
    rows = []
    for key, group in rest.groupby(keys, dropna=False, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        if _hashable(key) in paired:
            continue
        seed_group = group[GROUP].iloc[0]
        base_here = base.loc[base[GROUP] == seed_group]
        reason = f"no {baseline} row in seed group {seed_group}"
        if len(base_here):
            reason = f"no {baseline} row at the same repeat and {position_name}"
            # A loop option says more than a study name (which differs between designs anyway).
            loop = loop_columns()
            for column in sorted(match, key=lambda c: c not in loop):
                values = group[column].drop_duplicates()
                absent = values[~values.isin(base_here[column])]
                if len(absent):
                    reason = f"no {baseline} row with {expression({column: absent.iloc[0]})}"
                    break
        row = dict(zip(keys, key, strict=True))
        row.update(
            {
                POSITION: group[POSITION].max(),
                "train_size": int(group["train_size"].max()),
                "n_pairs": 0,
                "verdict": NO_BASELINE,
                "note": f"{NO_BASELINE}: {reason}",
            }
        )
        rows.append(row)
    return pd.DataFrame(rows)


def _detectable_sentence(out: pd.DataFrame, metric: str, test: str, alpha: float) -> str:
    """What the run can detect, from the rows' MDEs (the rule's 80 % power)."""
    info = metric_info(metric)
    unit = " pp" if info.percent else ""
    scale = 100 if info.percent else 1
    n = int(out["n_pairs"].max())
    k = int(out["_k"].max())
    name = "paired t-test" if test == "t" else "Wilcoxon signed-rank test"
    holm_text = f", Holm over {k} groups" if k > 1 else ""
    head = f"What this run can detect ({name}{holm_text}, {n} repeats, 80 % power):"
    mde = out["mde"].to_numpy(float) * scale
    if np.isfinite(mde).any():
        low, high = np.nanmin(mde), np.nanmax(mde)
        span = f"{low:.3g}{unit}" if np.isclose(low, high) else f"{low:.3g}–{high:.3g}{unit}"
        text = f"{head} true differences of {span} (MDE per row; smaller ones may be missed)."
    else:
        text = f"{head} nothing — this rule cannot reach a verdict."
    if test == "wilcoxon":
        need = wilcoxon_min_repeats(k, alpha)
        if need > n:
            text += f" The Wilcoxon test needs at least {need} repeats to call anything."
    return text


def wilcoxon_min_repeats(groups: int = 1, alpha: float = 0.05) -> int:
    """The fewest pairs whose exact Wilcoxon test can pass Holm's first step: 2/2ⁿ < alpha/k."""
    n = 1
    while 2.0 ** (1 - n) >= alpha / max(groups, 1):
        n += 1
    return n


def comparable_rows(results: pd.DataFrame) -> pd.DataFrame:
    """The rows a comparison pairs, with the column ``_position`` that pairs steps.

    A kind that records ``stopped`` (``generations``) keeps its stop rows only (the model each
    search ends with; the other rows are every child of every generation); each kind pairs
    steps by its engine's ``position`` (``generative``: generation, the others training size).
    """
    kind = results["kind"] if "kind" in results else pd.Series("", index=results.index)
    kind = kind.astype(str).to_numpy()
    keep = np.ones(len(results), dtype=bool)
    stopping = np.isin(kind, kinds_recording("stopped"))
    if "stopped" in results and stopping.any():
        stopped = results["stopped"].astype("boolean").fillna(False).to_numpy(bool)
        keep = ~stopping | stopped
    data = results.loc[keep].copy()
    kept = kind[keep]
    position = data["train_size"].to_numpy()
    for name in np.unique(kept):
        column = engine_of(name).position
        if column != "train_size":
            position = np.where(kept == name, data[column], position)
    data[POSITION] = position
    return data


def wilcoxon_floor(n_pairs: int, n_groups: int = 1) -> float:
    """The smallest Holm-adjusted two-sided p the exact Wilcoxon test can give with
    ``n_pairs`` pairs in a family of ``n_groups`` tests: min(1, k · 2 / 2ⁿ)."""
    if n_pairs < 1:
        return 1.0
    return min(1.0, max(n_groups, 1) * 2.0 ** (1 - n_pairs))


def verdicts(
    frame: pd.DataFrame,
    metric: str,
    margin: float | None,
    alpha: float = 0.05,
    test: str = "t",
) -> list[str]:
    """worse/better when ``p_holm`` < alpha, in the direction of the test's own estimate
    (``mean_diff`` for t, the Hodges–Lehmann ``hl_diff`` for Wilcoxon), noting when TOST puts
    the mean within the margin; else equivalent when ``p_tost`` < alpha; else inconclusive."""
    sign = metric_info(metric).direction
    up, down = (
        ("better", "worse") if sign > 0 else ("worse", "better") if sign else ("higher", "lower")
    )
    estimate = "hl_diff" if test == "wilcoxon" else "mean_diff"
    out = []
    for value, p_holm, p_tost in frame[[estimate, "p_holm", "p_tost"]].itertuples(index=False):
        if p_holm < alpha and value != 0:
            word = up if value > 0 else down
            # Detectable yet smaller than the margin: real, but negligible at the user's margin.
            out.append(f"{word} (within ±{margin:g})" if p_tost < alpha else word)
        elif p_tost < alpha and margin is not None:
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


def design_columns(frame: pd.DataFrame) -> list[str]:
    """The loop options (regime, label policy, …) that take more than one value in ``frame``."""
    return [c for c in loop_columns() if c in frame.columns and frame[c].nunique(dropna=False) > 1]


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
    """The comparison as a rich table; fractions as % and differences in percentage points.

    The estimate and interval that belong to the chosen test come first (mean and t interval
    for t; Hodges–Lehmann and its signed-rank interval for Wilcoxon), then the other's."""
    attrs = frame.attrs
    metric = str(attrs.get("metric", "value"))
    margin = attrs.get("margin")
    percent = metric_info(metric).percent
    unit = " (pp)" if percent else ""
    all_steps = attrs.get("at") == "all"
    at = "every step" if all_steps else "last step"
    title = f"{metric}: paired difference to {attrs.get('baseline', 'the baseline')} ({at})"
    table = Table(title=title, title_justify="left")
    groups = [c for c in frame.columns[: frame.columns.get_loc("train_size")]]
    if GROUP in groups and frame[GROUP].nunique() == 1 and len(groups) > 1:
        groups.remove(GROUP)  # one seed group: its name belongs in the title, not every row
    for column in groups:
        table.add_column(column.replace("_", " "), justify="right" if column != GROUP else "left")
    tost = f"p TOST ±{format_number(margin, percent)}" if margin is not None else "p TOST"
    generation = "generation" in frame.columns
    is_t = attrs.get("test", "t") == "t"
    mean_cells = [f"Δ mean{unit}", "95% CI t"]
    hl_cells = [f"Δ HL{unit}", "95% CI signed-rank"]
    numeric = ["size", *(["generation"] if generation else [])]
    numeric += ["n", "baseline", *(mean_cells + hl_cells if is_t else hl_cells + mean_cells)]
    numeric += ["95% CI bootstrap", *(["95% band, all steps"] if all_steps else [])]
    test = "t" if is_t else "Wilcoxon"
    numeric += ["p Wilcoxon", "p t", f"p Holm ({test})", tost, f"MDE{unit}"]
    for name in numeric:
        table.add_column(name, justify="right")
    table.add_column("verdict")
    for row in frame.itertuples(index=False):
        r = row._asdict()
        cells = [_group_cell(c, r[c]) for c in groups]
        cells += [f"{int(r['train_size']):,}"]
        cells += [str(int(r["generation"]))] if generation else []
        mean = [
            format_number(r["mean_diff"], percent, signed=True),
            format_interval(r["ci_low_t"], r["ci_high_t"], percent),
        ]
        hl = [
            format_number(r["hl_diff"], percent, signed=True),
            format_interval(r["ci_low_hl"], r["ci_high_hl"], percent),
        ]
        cells += [
            str(int(r["n_pairs"])),
            format_number(r["baseline_mean"], percent, suffix=" %" if percent else ""),
            *(mean + hl if is_t else hl + mean),
            format_interval(r["ci_low_boot"], r["ci_high_boot"], percent),
        ]
        if all_steps:
            cells.append(format_interval(r["ci_low_band"], r["ci_high_band"], percent))
        cells += [
            format_p(r["p_wilcoxon"]),
            format_p(r["p_t"]),
            format_p(r["p_holm"]),
            format_p(r["p_tost"]),
            format_number(r["mde"], percent),
        ]
        style = _VERDICT_STYLE.get(str(r["verdict"]).split(" ")[0], "")
        cells.append(f"[{style}]{r['verdict']}[/]" if style else str(r["verdict"]))
        table.add_row(*cells)
    notes = sorted({n for n in frame["note"] if isinstance(n, str) and n})
    caption = (
        f"Paired by seed group, repeat and {'generation' if generation else 'training size'}. "
        "Holm: across the groups of a seed "
        f"group; verdicts at alpha = {attrs.get('alpha', 0.05):g} from the {test} test, in the "
        f"direction of its estimate ({'mean' if is_t else 'Hodges–Lehmann'}). MDE: the "
        "smallest true difference this rule (test, Holm, repeats) detects with 80 % power."
    )
    if all_steps:
        caption += (
            " Every step: the per-step p-values and verdicts are exploratory (Holm adjusts within"
            " one step only); the band holds at all steps of a group at once (max-t, sign-flip)."
        )
    if margin is None:
        caption += f" No TOST: {metric} has no default margin; give --margin in its units."
    table.caption = " ".join([caption, *(f"Note: {n}." for n in notes)])
    table.caption_justify = "left"
    return table


_VERDICT_STYLE = {"worse": "red", "better": "green", "equivalent": "cyan", "inconclusive": "dim"}


def _check_metric(results: pd.DataFrame, metric: str) -> None:
    if metric not in results.columns:
        raise UserError(f"no column {metric!r} in these results", "--metric")
    if not pd.api.types.is_numeric_dtype(results[metric]) or results[metric].isna().all():
        why = ""
        if metric in ("predicted_positive_rate", "test_positive_rate"):
            k = classes_of(results).k
            why = f" (a run of {k} classes has no positive class; try pred_tv_distance)"
        raise UserError(f"{metric!r} holds no numbers in these results{why}", "--metric")


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


def _without_implied(data: pd.DataFrame, columns: list[str]) -> list[str]:
    """``columns`` without the kinds' design settings (and then the study name) that the rest
    already determine within each seed group: a generative study's ``mixture_lambda`` is
    shown only when two mixtures differ in it, and then instead of the studies' names."""
    kinds = [c for c in columns if c in kind_design_columns()]
    if not kinds:
        return columns
    kept = list(columns)

    def implied(column: str) -> bool:
        others = [GROUP, *(c for c in kept if c != column)]
        counts = data.groupby(others, dropna=False, observed=True)[column].nunique(dropna=False)
        return bool((counts <= 1).all())

    for column in ["experiment", *reversed(kinds)]:
        if column in kept and implied(column):
            kept.remove(column)
    return kept


def _hashable(key: tuple) -> tuple:
    """``key`` with NaN as None: NaN equals nothing, so a key holding it is found in no set."""
    return tuple(None if isinstance(v, float) and np.isnan(v) else v for v in key)


def _group_cell(column: str, value: object) -> str:
    if isinstance(value, float | np.floating) and np.isnan(value):
        return MISSING  # a setting this design does not have (a generative study's rate)
    if column == "rate" and isinstance(value, float | np.floating):
        return format_percent(value)
    return str(value)


__all__ = [
    "METRICS",
    "Metric",
    "comparable_rows",
    "compare",
    "compare_results",
    "design_baseline",
    "design_candidates",
    "design_columns",
    "equivalence_label",
    "experiment_order",
    "expression",
    "format_compare_table",
    "loop_columns",
    "metric_info",
    "power_questions",
    "read_run",
    "seed_groups_from_config",
    "verdicts",
    "wilcoxon_floor",
    "wilcoxon_min_repeats",
]
