"""Theory beside the data: three published results checked on a stored results table (no I/O).

For every check whose loop design is in the run, :func:`theory` gives one row per family (a
study and rate, one loop design): the quantity compared, its estimate with a 95 % t-interval
over repeats (the repeat is the unit: one number per repeat, Student's t on n − 1 degrees of
freedom; never a percentile bootstrap, which covers about 83 % at 5 repeats), the theory's
prediction and a verdict:

- ``holds``: the whole interval is on the predicted side of the prediction (within the
  tolerance band for a predicted equality);
- ``violated``: the whole interval is on the other side;
- ``cannot tell``: the interval straddles the prediction (or a tolerance edge).

Checks whose designs are absent are listed as ``not run`` with what they need, never dropped.

1. **Feng et al. 2024**, *Beyond Model Collapse: Scaling Up with Synthesized Data Requires
   Verification*: a verifier keeping correct labels with probability ϕ and wrong ones with ψ
   leaves kept labels right with probability (1 − e)ϕ / ((1 − e)ϕ + eψ) for a labeller with
   error e; they are better than chance exactly while ψ/ϕ < (1 − e)/e (the breakdown point).
2. **Dey & Donoho 2024**, *Universality of the π²/6 Pathway in Avoiding Model Collapse*:
   accumulating sampled synthetic data keeps the test risk below π²/6 times the risk of the
   model fitted on the real data alone.
3. **Gerstgrasser et al. 2024**, *Is Model Collapse Inevitable? Breaking the Curse of Recursion
   by Accumulating Real and Synthetic Data*: replacing the data with synthetic data makes the
   error grow with the generations; accumulating keeps it bounded.

Definitions, tolerances and where our loop departs from each theory's assumptions:
docs/methods.md, "Theory beside the data".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as st

from modelcollapse import stats
from modelcollapse.engines import generational_kinds
from modelcollapse.pairing import GROUP, pair_with_baseline, with_seed_groups

ALPHA = 0.05
PI2_6 = math.pi**2 / 6
# A predicted equality "holds" when its interval lies within ± this many accuracy points of it:
# the kept labels' accuracy is a ratio of binomial counts of a few hundred rows per step.
LABEL_TOLERANCE = 0.02
# "Bounded" / "does not fall" over a finite run: a fitted change of at most one point.
CHANGE_TOLERANCE = 0.01

FENG = (
    "Feng et al. 2024, Beyond Model Collapse: Scaling Up with Synthesized Data Requires "
    "Verification"
)
DEY = "Dey & Donoho 2024, Universality of the π²/6 Pathway in Avoiding Model Collapse"
GERSTGRASSER = (
    "Gerstgrasser et al. 2024, Is Model Collapse Inevitable? Breaking the Curse of Recursion "
    "by Accumulating Real and Synthetic Data"
)

COLUMNS = [
    "check",
    "reference",
    "family",
    "n_repeats",
    "quantity",
    "estimate",
    "low",
    "high",
    "prediction",
    "verdict",
    "note",
]
# Loop options the checks read, with the defaults of a study that did not set them.
_DEFAULTS: dict[str, object] = {
    "regime": "accumulate",
    "mixture": "batch",
    "label_policy": "argmax",
    "labeller": "current",
    "keep_correct": 1.0,
    "keep_wrong": 1.0,
    "arms": False,
}
_FAMILY = (GROUP, "experiment", "model", "tokenizer", "initial_size", "rate")

NOTES = (
    "Feng et al.: their theory fixes the labeller's error e (a generator, independent label "
    "errors) and studies linear classifiers on a Gaussian mixture in high dimension. Here e is "
    "measured on each step's model labels and, with the default labeller (the current model), "
    "drifts as the model changes; a model's wrong labels sit where it is unsure, not at random, "
    "so 'better than chance' kept labels need not prevent a fall in accuracy. Set "
    'labeller = "generation0" to hold e fixed as in the paper.',
    "Dey & Donoho: proved for squared-loss regression (linear, kernel and a wider universality "
    "class) with as many fresh synthetic rows per generation as real ones, on the excess risk. "
    "Here the risk is the 0–1 test error, Bayes error included, and batches are smaller than "
    "the human-labelled start: the ratio of total errors is closer to 1 than the ratio of "
    "excess risks, so 'holds' here does not show the bound on excess risk; 'violated' does "
    "contradict it.",
    "Gerstgrasser et al.: linear regression in theory (language, diffusion and VAE models in "
    "experiments) with one generation per refit; a generation here is a step. A classifier's "
    "error cannot grow past chance (about 0.5 on a balanced test set), so growth under replace "
    "shows as a rise toward chance that then flattens; boundedness under accumulate cannot be "
    "shown by finitely many steps: it is tested as a fitted increase of at most "
    f"{CHANGE_TOLERANCE * 100:g} pp over the last half of the steps. Their synthetic data are "
    "samples from the model; argmax labels are not.",
    "Intervals are t-intervals over repeats (one number per repeat); with few repeats they rest "
    "on near-normal per-repeat values. 'cannot tell' means the interval straddles the "
    "prediction: more repeats, not a different reading, would settle it.",
)


@dataclass
class Theory:
    """The checks (one row per family and quantity, ``not run`` rows included) and what they
    cannot tell."""

    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- statistics


def t_interval(
    values: np.ndarray | list[float], alpha: float = ALPHA
) -> tuple[float, float, float]:
    """Mean and two-sided (1 − alpha) Student t-interval of per-repeat values (non-finite
    dropped; :func:`modelcollapse.stats.t_interval`). One value gives no interval (NaN ends);
    values all equal give the point as interval."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    low, high = stats.t_interval(x, 1 - alpha)
    return float(np.mean(x)), low, high


def bound_verdict(low: float, high: float, prediction: float, side: str) -> str:
    """``holds`` when the interval is wholly on ``side`` ("below" / "above") of the
    prediction, ``violated`` when wholly on the other side, else ``cannot tell``."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "cannot tell"
    below, above = high < prediction, low > prediction
    if side == "below":
        return "holds" if below else "violated" if above else "cannot tell"
    return "holds" if above else "violated" if below else "cannot tell"


def equal_verdict(low: float, high: float, prediction: float, tolerance: float) -> str:
    """A predicted equality: ``holds`` when the interval lies within ± tolerance of it,
    ``violated`` when wholly outside that band, else ``cannot tell``."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "cannot tell"
    if prediction - tolerance <= low and high <= prediction + tolerance:
        return "holds"
    if high < prediction - tolerance or low > prediction + tolerance:
        return "violated"
    return "cannot tell"


def kept_accuracy_predicted(label_accuracy, keep_correct: float, keep_wrong: float):
    """Feng et al.: accuracy of the labels a verifier (ϕ, ψ) keeps from a labeller whose
    labels are right with probability ``label_accuracy`` = 1 − e."""
    a = np.asarray(label_accuracy, dtype=float)
    kept_right = a * keep_correct
    kept = kept_right + (1 - a) * keep_wrong
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, kept_right / kept, np.nan)


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return math.nan
    return float(st.linregress(x[ok], y[ok]).slope)


# --------------------------------------------------------------------------- table


def _prepare(results: pd.DataFrame, seed_groups: Mapping[str, str] | None) -> pd.DataFrame:
    data = results
    if "kind" in data.columns:
        data = data.loc[~data["kind"].astype(str).isin(generational_kinds())]
    if "rate" not in data.columns:
        return data.iloc[0:0]
    data = with_seed_groups(data.loc[data["rate"].notna()], seed_groups)
    for column, default in _DEFAULTS.items():
        if column not in data.columns:
            data[column] = default
        else:
            data[column] = data[column].where(data[column].notna(), default)
    for column in _FAMILY:
        if column not in data.columns:
            data[column] = ""
    return data.sort_values([*_FAMILY, "repeat", "step"], kind="stable", ignore_index=True)


def _family_label(key: tuple) -> str:
    values = dict(zip(_FAMILY, key, strict=True))
    return f"{values['experiment']} · rate {float(values['rate']):g}"


def _families(data: pd.DataFrame, where: pd.Series, min_steps: int = 2):
    """(key, rows) of each family at rate > 0 matching ``where`` with at least ``min_steps``
    steps (a start of ``total-collapse`` near its largest size may have only one)."""
    part = data.loc[where & (data["rate"] > 0)]
    for key, rows in part.groupby(list(_FAMILY), sort=False, dropna=False):
        if rows["step"].nunique() >= min_steps:
            yield key, rows


def _row(check, reference, family, values, quantity, prediction, verdict_of, note) -> dict:
    est, low, high = t_interval(values)
    n = int(np.isfinite(np.asarray(values, dtype=float)).sum())
    verdict = verdict_of(low, high) if n >= 2 else "cannot tell"
    if n < 2:
        note = f"{note}; fewer than 2 repeats with a value: no interval".lstrip("; ")
    return dict(
        check=check,
        reference=reference,
        family=family,
        n_repeats=n,
        quantity=quantity,
        estimate=est,
        low=low,
        high=high,
        prediction=prediction,
        verdict=verdict,
        note=note,
    )


def _not_run(check: str, reference: str, needs: str) -> dict:
    return dict(
        check=check,
        reference=reference,
        family="",
        n_repeats=0,
        quantity="",
        estimate=math.nan,
        low=math.nan,
        high=math.nan,
        prediction="",
        verdict="not run",
        note=f"needs {needs}",
    )


def _per_repeat(rows: pd.DataFrame, fn: Callable[[pd.DataFrame], float]) -> np.ndarray:
    return np.array([fn(r) for _, r in rows.groupby("repeat", sort=True)], dtype=float)


# --------------------------------------------------------------------------- checks


def check_feng(data: pd.DataFrame) -> list[dict]:
    """Feng et al.'s kept-label accuracy, breakdown point and the accuracy trend beside it."""
    verifier = ~(np.isclose(data["keep_correct"].astype(float), 1.0)
                 & np.isclose(data["keep_wrong"].astype(float), 1.0))  # fmt: skip
    out: list[dict] = []
    for key, rows in _families(data, verifier):
        family = _family_label(key)
        phi = float(rows["keep_correct"].iloc[0])
        psi = float(rows["keep_wrong"].iloc[0])
        labelled = rows.loc[rows["model_label_accuracy"].notna()]

        def gap(r: pd.DataFrame, phi: float = phi, psi: float = psi) -> float:
            r = r.loc[r["kept_label_accuracy"].notna()]
            predicted = kept_accuracy_predicted(r["model_label_accuracy"], phi, psi)
            return float(np.nanmean(r["kept_label_accuracy"] - predicted)) if len(r) else math.nan

        gaps = _per_repeat(labelled, gap)
        predicted_mean = np.nanmean(
            kept_accuracy_predicted(labelled["model_label_accuracy"], phi, psi)
        ) if len(labelled) else math.nan  # fmt: skip
        out.append(
            _row(
                "Feng: kept-label accuracy",
                FENG,
                family,
                gaps,
                "kept_label_accuracy − (1−e)ϕ/((1−e)ϕ+eψ), e = 1 − model_label_accuracy; "
                "per step, mean over steps",
                f"0 (±{LABEL_TOLERANCE:g}); predicted kept accuracy {predicted_mean:.3f} "
                f"at ϕ = {phi:g}, ψ = {psi:g}",
                lambda lo, hi: equal_verdict(lo, hi, 0.0, LABEL_TOLERANCE),
                "ψ = 0: the prediction is 1 whatever e; only a wrong label kept would break it"
                if psi == 0
                else "",
            )
        )
        # The breakdown point, with the labeller's error of each repeat averaged over steps.
        errors = _per_repeat(labelled, lambda r: 1 - float(r["model_label_accuracy"].mean()))
        with np.errstate(divide="ignore"):
            ratios = (1 - errors) / errors
        r_est, r_low, r_high = t_interval(ratios[np.isfinite(ratios)])
        ratio = psi / phi if phi > 0 else math.inf
        if (np.isfinite(r_low) and ratio < r_low) or (not np.isfinite(r_est) and ratio < math.inf):
            side, predicted = "below", "above"
        elif np.isfinite(r_high) and ratio > r_high:
            side, predicted = "above", "below"
        else:
            side, predicted = "at", ""
        where = (
            f"ψ/ϕ = {ratio:.3g} {side} the transition (1−e)/e = {r_est:.3g} "
            f"[{r_low:.3g}, {r_high:.3g}]"
        )
        kept = _per_repeat(labelled, lambda r: float(r["kept_label_accuracy"].mean()))
        out.append(
            _row(
                "Feng: breakdown point",
                FENG,
                family,
                kept,
                "kept_label_accuracy, mean over steps",
                f"{predicted} 0.5 ({where})" if predicted else f"no side ({where})",
                _verdict_of(0.5, predicted),
                "" if predicted else "ψ/ϕ inside the transition's interval: no side predicted",
            )
        )
        change = _per_repeat(rows, _fitted_change("accuracy", whole=True))
        # Below the transition kept labels are better than chance: accuracy should not fall
        # (by more than the tolerance); above it, it should.
        trend = {
            "below": (f"> −{CHANGE_TOLERANCE:g} (below the transition: no fall)", "above"),
            "above": (f"< −{CHANGE_TOLERANCE:g} (above the transition: accuracy falls)", "below"),
            "at": ("no side (at the transition)", ""),
        }[side]
        out.append(
            _row(
                "Feng: accuracy trend",
                FENG,
                family,
                change,
                "accuracy, fitted change over the run (least-squares slope on step × steps)",
                trend[0],
                _verdict_of(-CHANGE_TOLERANCE, trend[1]),
                "",
            )
        )
    if not out:
        out.append(
            _not_run(
                "Feng: breakdown point",
                FENG,
                "a study with a simulated verifier (keep_correct ϕ / keep_wrong ψ other than 1) "
                "at rate > 0; for the transition, verifiers at several ψ/ϕ on both sides of "
                '(1 − e)/e, ideally with labeller = "generation0"',
            )
        )
    return out


def _verdict_of(prediction: float, side: str) -> Callable[[float, float], str]:
    if not side:
        return lambda low, high: "cannot tell"
    return lambda low, high: bound_verdict(low, high, prediction, side)


def _fitted_change(column: str, whole: bool) -> Callable[[pd.DataFrame], float]:
    """Per repeat: least-squares slope of ``column`` (error when "error") on step times the
    span of steps — over all steps (``whole``) or over the last half of them."""

    def change(r: pd.DataFrame) -> float:
        y = (1 - r["accuracy"] if column == "error" else r[column]).to_numpy(float)
        x = r["step"].to_numpy(float)
        if not whole:
            mid = x.min() + (x.max() - x.min()) / 2
            keep = x >= mid
            x, y = x[keep], y[keep]
        if len(x) < 2:
            return math.nan
        return _slope(x, y) * float(x.max() - x.min())

    return change


def check_dey_donoho(data: pd.DataFrame) -> list[dict]:
    """Risk ratio to the real-only risk under accumulate with sampled labels, vs π²/6."""
    design = (data["regime"] == "accumulate") & (data["label_policy"] == "sample")
    design &= data["mixture"] == "batch"
    out: list[dict] = []
    for key, rows in _families(data, design):
        family = _family_label(key)
        has_arm = "accuracy_real_only" in rows and rows["accuracy_real_only"].notna().any()
        twin_accuracy = pd.Series(np.nan, index=rows.index)
        if has_arm:
            source = "accuracy_real_only (arms) at each step"
        else:
            twin_accuracy = _twin_first_accuracy(data, rows)
            source = (
                "the rate-0 twin's error at the initial size (no arms)"
                if twin_accuracy.notna().any()
                else "this trajectory's first fit, on the human-labelled start (no arms, no "
                "rate-0 twin)"
            )
            if float(key[_FAMILY.index("rate")]) < 1:
                source += "; below rate 1 the real rows grow, so this reference is too high "
                source += "and the check lenient"

        def ratios(r: pd.DataFrame, twin: pd.Series = twin_accuracy, has_arm: bool = has_arm):
            err = 1 - r["accuracy"].to_numpy(float)
            if has_arm:
                real = 1 - r["accuracy_real_only"].to_numpy(float)
            else:
                first = twin.loc[r.index].iloc[0]  # one twin per repeat
                if np.isnan(first):  # no twin in this repeat: its own first fit
                    first = float(r.sort_values("step")["accuracy"].iloc[0])
                real = np.full(len(r), 1 - first)
            with np.errstate(divide="ignore", invalid="ignore"):
                return err / real

        last = _per_repeat(rows, lambda r: float(ratios(r)[-1]))
        peak = _per_repeat(rows, lambda r: float(np.nanmax(ratios(r))))
        prediction = f"< π²/6 = {PI2_6:.4f}"
        for name, values in (("at the last step", last), ("max over steps", peak)):
            out.append(
                _row(
                    f"Dey & Donoho: risk ratio, {name}",
                    DEY,
                    family,
                    values,
                    f"test error / real-only error, {name}; real-only: {source}",
                    prediction,
                    lambda lo, hi: bound_verdict(lo, hi, PI2_6, "below"),
                    "the interval is of the mean over repeats of the per-repeat maximum"
                    if name == "max over steps"
                    else "",
                )
            )
    if not out:
        out.append(
            _not_run(
                "Dey & Donoho: risk ratio",
                DEY,
                'a study with regime = "accumulate", label_policy = "sample" at rate > 0 '
                "(arms = true for the real-only reference at every step)",
            )
        )
    return out


def _twin_first_accuracy(data: pd.DataFrame, rows: pd.DataFrame) -> pd.Series:
    """Per row of ``rows`` (one family at rate > 0): the accuracy at the first step of its
    rate-0 twin (same family but for the rate, same repeat); NaN where there is none."""
    on = [c for c in _FAMILY if c not in (GROUP, "rate")] + ["repeat"]
    twins = data.loc[np.isclose(data["rate"].astype(float), 0.0)]
    first = twins.groupby([GROUP, *on], dropna=False)["step"].transform("min")
    twins = twins.loc[twins["step"] == first]
    both = pd.concat([rows, twins], ignore_index=True)
    is_base = np.arange(len(both)) >= len(rows)
    pairs = pair_with_baseline(both, is_base, on, "accuracy", keep_unpaired=True)
    return pd.Series(pairs["baseline"].to_numpy(float), index=rows.index)


def check_gerstgrasser(data: pd.DataFrame) -> list[dict]:
    """Replace: the error grows over the run; accumulate: its increase over the last half of
    the steps stays within the tolerance."""
    out: list[dict] = []
    replace = data["regime"] == "replace"
    rows_replace = list(_families(data, replace))
    for key, rows in rows_replace:
        out.append(
            _row(
                "Gerstgrasser: replace, error grows",
                GERSTGRASSER,
                _family_label(key),
                _per_repeat(rows, _fitted_change("error", whole=True)),
                "error (1 − accuracy), fitted change over the run (least-squares slope on "
                "step × steps)",
                "> 0",
                lambda lo, hi: bound_verdict(lo, hi, 0.0, "above"),
                "",
            )
        )
    if not rows_replace:
        out.append(
            _not_run(
                "Gerstgrasser: replace, error grows",
                GERSTGRASSER,
                'a study with regime = "replace" at rate > 0',
            )
        )
    accumulate = (data["regime"] == "accumulate") & (data["mixture"] == "batch")
    rows_accumulate = list(_families(data, accumulate, min_steps=3))  # 2 points in a half
    for key, rows in rows_accumulate:
        labels = rows["label_policy"].iloc[0]
        out.append(
            _row(
                "Gerstgrasser: accumulate, error bounded",
                GERSTGRASSER,
                _family_label(key),
                _per_repeat(rows, _fitted_change("error", whole=False)),
                "error, fitted change over the last half of the steps",
                f"≤ {CHANGE_TOLERANCE:g}",
                lambda lo, hi: bound_verdict(lo, hi, CHANGE_TOLERANCE, "below"),
                f"{labels} labels"
                + ("" if labels == "sample" else " (the theory samples from the model)"),
            )
        )
    if not rows_accumulate:
        out.append(
            _not_run(
                "Gerstgrasser: accumulate, error bounded",
                GERSTGRASSER,
                'a study with regime = "accumulate" (mixture = "batch") at rate > 0 and '
                "3 steps or more",
            )
        )
    return out


def theory(results: pd.DataFrame, seed_groups: Mapping[str, str] | None = None) -> Theory:
    """Every check on a results table as :class:`~modelcollapse.store.RunStore` reads it."""
    data = _prepare(results, seed_groups)
    if data.empty:
        rows = [
            _not_run("Feng: breakdown point", FENG, "a rate study with a simulated verifier"),
            _not_run("Dey & Donoho: risk ratio", DEY, "a rate study (accumulate, sampled labels)"),
            _not_run("Gerstgrasser: replace, error grows", GERSTGRASSER, "a rate study (replace)"),
            _not_run(
                "Gerstgrasser: accumulate, error bounded", GERSTGRASSER, "a rate study (accumulate)"
            ),
        ]
    else:
        rows = [*check_feng(data), *check_dey_donoho(data), *check_gerstgrasser(data)]
    return Theory(pd.DataFrame(rows, columns=COLUMNS), list(NOTES))


def format_theory(result: Theory) -> list[str]:
    """Plain-text lines: one block per check, then what the checks cannot tell."""
    lines = ["Theory beside the data (95 % t-intervals over repeats)"]
    for r in result.table.to_dict("records"):
        if r["verdict"] == "not run":
            lines.append(f"- {r['check']}: not run: {r['note']}")
            continue
        ci = (
            f"[{r['low']:.4g}, {r['high']:.4g}]"
            if np.isfinite(r["low"]) and np.isfinite(r["high"])
            else "[–]"
        )
        lines.append(
            f"- {r['check']} — {r['family']} ({r['n_repeats']} repeats): {r['verdict']}\n"
            f"    {r['quantity']}: {r['estimate']:.4g} {ci}; predicted {r['prediction']}"
            + (f"\n    note: {r['note']}" if r["note"] else "")
        )
    refs = dict.fromkeys(result.table["reference"])
    lines.append("References: " + "; ".join(refs))
    lines.append("What these checks cannot tell:")
    lines += [f"- {n}" for n in result.notes]
    return lines
