"""The answers a rate study exists for, read off a stored results table (no I/O here).

For every *family* — the trajectories of one seed group and loop design that differ only in the
dose (``rate``, or another numeric design column) — :func:`answers` gives:

1. **Dose–response trend** (first): per repeat, the slope through the origin of the paired
   difference (dose d minus dose 0, same repeat, at the last paired training size) on d; a
   one-sample t-test of the per-repeat slopes, Holm-adjusted across families.
2. **Tolerable dose**: the largest dose whose fitted effect β·d stays within ``margin``
   (margin / harm per unit dose), with the interval carried over from β's t-interval;
   censored at the largest dose tested when no dose tested breaks the margin.
3. **Worth of a model label** per dose and size: the size n_eff at which dose 0 reaches the
   metric dose d reaches at n (dose 0's mean curve, isotonic in log size, inverted), and
   worth = (n_eff − human rows) / model rows; out of dose 0's range it is a bound.
4. **Learning curves**: err(n) = a·(n/n₀)^(−b) + c per dose on the mean error across repeats,
   with b, c and the error extrapolated to a stated size, and tests of b and c against dose 0.

Intervals of 3 and 4 come from the jackknife over repeats (leave one repeat out, the same one
for both doses of a pair) with Student's t on n − 1 degrees of freedom: the repeat is the
unit, and for a mean it reproduces the t-interval exactly. A percentile bootstrap over 5
repeats has only 126 distinct resamples and covers about 83 % (issue #10, defect 5).
Every quantity is defined, with its reference, in docs/methods.md, section "Answers".
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as st
from scipy.optimize import isotonic_regression  # scipy >= 1.12 (pyproject asks 1.15)

from modelcollapse.compare import (
    comparable_rows,
    design_candidates,
    expression,
    metric_info,
    read_run,
)
from modelcollapse.engines import generational_kinds
from modelcollapse.errors import UserError
from modelcollapse.formatting import format_interval, format_number, format_p
from modelcollapse.pairing import GROUP, pair_with_baseline, with_seed_groups
from modelcollapse.results import classes_of
from modelcollapse.stats import holm, min_detectable_difference

ALPHA = 0.05
POWER = 0.8
EXTRAPOLATE_FACTOR = 10  # default extrapolation: ten times the largest size trained on


@dataclass
class Answers:
    """What :func:`answers` found. Each frame has a ``family`` column (see :func:`answers`).

    trend: one row per family: the dose–response test (slope, interval, p, Holm p, MDE, verdict).
    tolerable: one row per family: the tolerable dose, its interval, whether it is censored.
    effects: per family and dose: the mean paired difference at the last size, its t-interval,
        and the fitted line's value there.
    worth: per family, dose and training size: human and model rows, n_eff, worth with its
        interval, ``bound`` ("" or "≥"/"≤" when the worth is only a bound).
    curves: per family and dose: a, b, c, error at ``extrapolate``, intervals, p vs dose 0.
    notes: what the answers cannot tell.
    """

    metric: str
    dose: str
    margin: float
    alpha: float
    trend: pd.DataFrame
    tolerable: pd.DataFrame
    effects: pd.DataFrame
    worth: pd.DataFrame
    curves: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def long(self) -> pd.DataFrame:
        """Every answer as one tidy table (section, family, dose, train_size, quantity,
        estimate, low, high, bound, p): what ``modelcollapse answer --out`` saves."""
        rows: list[dict[str, object]] = []

        def add(section, r, quantity, est, low, high, bound="", p=np.nan, dose=np.nan, n=np.nan):
            rows.append(
                dict(
                    section=section,
                    family=r["family"],
                    dose=dose,
                    train_size=n,
                    quantity=quantity,
                    estimate=est,
                    low=low,
                    high=high,
                    bound=bound,
                    p=p,
                )
            )

        for r in self.trend.to_dict("records"):
            add("trend", r, "slope", r["slope"], r["low"], r["high"], p=r["p_holm"])
        for r in self.tolerable.to_dict("records"):
            add(
                "tolerable",
                r,
                f"tolerable_{self.dose}",
                r["estimate"],
                r["low"],
                r["high"],
                "≥" if r["censored"] else "",
            )
        for r in self.effects.to_dict("records"):
            add(
                "effect",
                r,
                "difference",
                r["mean_diff"],
                r["low"],
                r["high"],
                dose=r["dose"],
                n=r["train_size"],
            )
        for r in self.worth.to_dict("records"):
            add(
                "worth",
                r,
                "worth",
                r["worth"],
                r["low"],
                r["high"],
                r["bound"],
                dose=r["dose"],
                n=r["train_size"],
            )
        for r in self.curves.to_dict("records"):
            for q in ("b", "c", "err_extrapolated"):
                p = r.get(f"p_{q}_vs_0", np.nan)
                add(
                    "curve",
                    r,
                    q,
                    r[q],
                    r[f"{q}_low"],
                    r[f"{q}_high"],
                    p=p,
                    dose=r["dose"],
                    n=r["extrapolate"] if q == "err_extrapolated" else np.nan,
                )
        return pd.DataFrame(rows)


# --------------------------------------------------------------------------- building blocks


def jackknife(
    statistic, n: int, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, standard error, t-interval and leave-one-out values of ``statistic(keep)``.

    ``statistic`` takes a boolean mask of the repeats to use and returns an array. The
    standard error is the leave-one-out jackknife's (Efron & Tibshirani 1993, ch. 11); the
    interval is estimate ± t(n − 1)·se. For the mean it equals the t-interval of the mean.
    """
    full = np.asarray(statistic(np.ones(n, dtype=bool)), dtype=float)
    if n < 2:
        nan = np.full_like(full, np.nan)
        return full, nan, nan, nan, full[None]
    loo = np.array([statistic(np.arange(n) != i) for i in range(n)], dtype=float)
    se = np.sqrt((n - 1) / n * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    half = st.t.ppf(0.5 + confidence / 2, n - 1) * se
    return full, se, full - half, full + half, loo


def dose_response(
    doses: np.ndarray,
    differences: np.ndarray,
    margin: float,
    sign: int = 1,
    alpha: float = ALPHA,
    n_tests: int = 1,
) -> dict[str, float]:
    """Trend test and tolerable dose from paired differences ``differences[repeat, dose]``.

    Per repeat k the least-squares slope through the origin β_k = Σ d·Δ_k(d) / Σ d²; a
    one-sample t-test of the β_k (two-sided). ``sign`` is +1 when higher is better: harm per
    unit dose is h = −sign·β. The tolerable dose is margin / h̄ (infinite when h̄ ≤ 0) with the
    interval [margin / h_high, margin / h_low] from h's t-interval (a bound ≤ 0 maps to
    infinity). ``mde`` is the slope the test detects with 80 % power at α / ``n_tests`` (the
    Holm threshold of the smallest p), from the observed sd of the slopes.
    """
    doses = np.asarray(doses, dtype=float)
    diff = np.asarray(differences, dtype=float)
    use = doses > 0
    d, diff = doses[use], diff[:, use]
    ok = ~np.isnan(diff).any(axis=1)
    diff = diff[ok]
    n = diff.shape[0]
    slopes = diff @ d / np.sum(d**2)
    out = dict(
        n_repeats=n,
        slope=np.nan,
        sd=np.nan,
        low=np.nan,
        high=np.nan,
        p=np.nan,
        mde=np.nan,
        tolerable=np.nan,
        tolerable_low=np.nan,
        tolerable_high=np.nan,
    )
    if n == 0:
        return out
    out["slope"] = float(slopes.mean())
    if n >= 2:
        sd = float(slopes.std(ddof=1))
        half = st.t.ppf(1 - alpha / 2, n - 1) * sd / math.sqrt(n)
        out.update(sd=sd, low=out["slope"] - half, high=out["slope"] + half)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # identical slopes: scipy warns
            out["p"] = (
                float(st.ttest_1samp(slopes, 0.0).pvalue) if sd > 0 else float(out["slope"] == 0)
            )
        out["mde"] = float(min_detectable_difference(sd, n, alpha / n_tests, POWER))
    harm = -sign * out["slope"]
    harm_ci = sorted((-sign * out["low"], -sign * out["high"]))

    def rate(h: float) -> float:
        return margin / h if h > 0 else math.inf

    out["tolerable"] = rate(harm)
    if n >= 2:
        out["tolerable_low"], out["tolerable_high"] = rate(harm_ci[1]), rate(harm_ci[0])
    return out


def _inverse(x: np.ndarray, y: np.ndarray, targets: np.ndarray) -> tuple:
    """x (increasing) at which the isotonic fit of y reaches each target; -1/+1 flags a
    target below the fit's first value or above its last (the x returned is then the end).
    Also the fit's first and last points, (x, level)."""
    fit = isotonic_regression(y, increasing=True).x
    levels, block = np.unique(fit, return_inverse=True)
    # A flat stretch of the fit: take the middle of its x range.
    xs = np.bincount(block, weights=x) / np.bincount(block)
    out = np.interp(targets, levels, xs)
    flag = np.where(targets < levels[0], -1, np.where(targets > levels[-1], 1, 0))
    return out, flag, (xs[0], levels[0]), (xs[-1], levels[-1])


def _continue(
    end: tuple[float, float], targets: np.ndarray, top: float, b: float, c: float
) -> np.ndarray:
    """log size at which the power law of exponent ``b`` and plateau ``c`` (in the error
    top − y) through the isotonic fit's end point ``end`` = (log size, level) reaches each
    target: the fit's continuation past dose 0's first or last block. +inf where the target
    lies beyond the plateau, or the fit has none to go to."""
    x_end, level = end
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (top - level - c) / (top - targets - c)
        out = x_end + np.log(ratio) / b
    return np.where((ratio > 0) & np.isfinite(out), out, np.inf)


def worth_of_labels(
    base_sizes: np.ndarray,
    base: np.ndarray,
    target: np.ndarray,
    human: np.ndarray,
    model: np.ndarray,
    top: float | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Worth of a model label at each column of ``target[repeat, size]``.

    ``base[repeat, j]`` is dose 0's metric (oriented so that higher is better) at
    ``base_sizes[j]`` training rows, ``target`` the dose's metric at the sizes of the output,
    with ``human``/``model`` rows trained on there. n_eff: where dose 0's mean curve, fitted
    isotonic in log size, reaches the dose's mean; worth = (n_eff − human) / model.

    A target past the isotonic fit's first or last level is read off the power law
    err = a·(n/n₀)^(−b) + c (err = ``top`` − metric; ``top`` 1 for accuracy, 0 for a
    lower-is-better metric turned around; default: one range above dose 0's best) fitted to
    dose 0's mean curve, continued from that end of the isotonic fit: the read-off stays
    continuous, so a jackknife fit near the end moves with the data instead of sticking at
    the end. Interval: jackknife over repeats (the same repeat left out of both curves),
    estimate ± t(n − 1)·se. When the whole interval lies past dose 0's last (first) size the
    worth is a bound at that size: ``bound`` "≥" ("≤"), no interval; n_eff past the plateau
    c is a "≥" bound too. ``n_beyond``: leave-one-out fits whose n_eff is past dose 0's sizes.
    """
    sizes = np.asarray(base_sizes, dtype=float)
    log_n = np.log(sizes)
    human = np.asarray(human, dtype=float)
    model = np.asarray(model, dtype=float)
    base = np.asarray(base, dtype=float)
    target = np.asarray(target, dtype=float)
    n_repeats = base.shape[0]
    masks = [np.ones(n_repeats, dtype=bool)] + [
        np.arange(n_repeats) != i for i in range(n_repeats) if n_repeats >= 2
    ]
    base_means = np.array([base[m].mean(axis=0) for m in masks])
    reads = [
        _inverse(log_n, y, target[m].mean(axis=0)) for m, y in zip(masks, base_means, strict=True)
    ]
    if any(flag.any() for _x, flag, _first, _last in reads):
        if top is None:
            top = float(2 * base_means[0].max() - base_means[0].min())
        # Every curve the jackknife needs in one pass (cf. learning_curves).
        params = fit_power_laws(sizes, top - base_means)
    else:  # every read-off inside the isotonic fit: no continuation needed
        params = np.full((len(masks), 3), np.nan)
    by_mask: dict[bytes, np.ndarray] = {}
    for m, (x, flag, first, last), (_a, b, c) in zip(masks, reads, params, strict=True):
        if np.isfinite(b):
            t = target[m].mean(axis=0)
            x = np.where(flag > 0, _continue(last, t, top, b, c), x)
            start = _continue(first, t, top, b, c)
            x = np.where(flag < 0, np.where(np.isinf(start), -np.inf, start), x)
        else:  # no curve to continue (under 3 sizes): past an end is only a bound
            x = np.where(flag > 0, np.inf, np.where(flag < 0, -np.inf, x))
        by_mask[m.tobytes()] = x

    def stat(keep: np.ndarray) -> np.ndarray:
        x = by_mask[keep.tobytes()]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.where(model > 0, (np.exp(x) - human) / model, np.nan)

    with np.errstate(invalid="ignore"):
        est, _se, low, high, _loo = jackknife(stat, n_repeats, confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_first = (sizes[0] - human) / model
        at_last = (sizes[-1] - human) / model
    n_eff = np.where(model > 0, human + est * model, np.nan)
    x_loo = np.array([by_mask[m.tobytes()] for m in masks[1:]]) if len(masks) > 1 else None
    n_beyond = (
        ((x_loo > log_n[-1]) | (x_loo < log_n[0])).sum(axis=0)
        if x_loo is not None
        else np.zeros(est.shape, dtype=int)
    )
    # Past an end, a bound unless the interval reaches back inside; without an interval (one
    # repeat, or a leave-one-out fit past the plateau) the estimate alone decides.
    finite = np.isfinite(low) & np.isfinite(high)
    above = np.isposinf(est) | ((n_eff > sizes[-1]) & (~finite | (low > at_last)))
    below = (n_eff < sizes[0]) & (~finite | (high < at_first))
    bound = np.where(above, "≥", np.where(below, "≤", ""))
    est = np.where(above, at_last, np.where(below, at_first, est))
    low = np.where((bound != "") | ~finite, np.nan, low)
    high = np.where((bound != "") | ~finite, np.nan, high)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = human + est * model
    return pd.DataFrame(
        dict(
            human_rows=human,
            model_rows=model,
            n_eff=n_eff,
            worth=est,
            low=low,
            high=high,
            bound=bound,
            n_beyond=n_beyond,
        )
    )


def _curve(u: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    return a * u ** (-b) + c


B_RANGE = (1e-3, 5.0)  # exponents the fit may return


def _profile_sse(log_u: np.ndarray, err: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each fixed b the model is linear in (a, c): their least squares with a, c ≥ 0
    (the unconstrained solution if feasible, else the better of a = 0 and c = 0). ``err`` is
    (curves, sizes), ``b`` (curves, grid): every curve and grid point at once. Returns (sse,
    a, c), each (curves, grid)."""
    x = np.exp(-b[:, :, None] * log_u)  # (curves, grid, sizes)
    n = log_u.size
    sx, sxx = x.sum(axis=2), (x * x).sum(axis=2)
    sxe = np.einsum("kgn,kn->kg", x, err)
    se, see = err.sum(axis=1)[:, None], (err * err).sum(axis=1)[:, None]
    det = n * sxx - sx * sx
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (n * sxe - sx * se) / det
        c = (se - a * sx) / n
        a_only = np.maximum(sxe / sxx, 0.0)  # c = 0
    c_only = np.broadcast_to(np.maximum(se / n, 0.0), a.shape)  # a = 0
    zero = np.zeros_like(a)

    def sse(a: np.ndarray, c: np.ndarray) -> np.ndarray:
        return see - 2 * a * sxe - 2 * c * se + a * a * sxx + 2 * a * c * sx + n * c * c

    feasible = (a >= 0) & (c >= 0) & np.isfinite(a)
    a_in, c_in = np.where(feasible, a, 0.0), np.where(feasible, c, 0.0)
    values = np.stack(
        [np.where(feasible, sse(a_in, c_in), np.inf), sse(a_only, zero), sse(zero, c_only)]
    )
    pick = np.argmin(values, axis=0)[None]
    take = lambda v: np.take_along_axis(v, pick, axis=0)[0]  # noqa: E731
    return take(values), take(np.stack([a_in, a_only, zero])), take(np.stack([c_in, zero, c_only]))


def fit_power_laws(sizes: np.ndarray, err: np.ndarray) -> np.ndarray:
    """(a, b, c) per row of ``err`` (curves, sizes) for err(n) = a·(n/n₀)^(−b) + c, n₀ the
    smallest size, by least squares with a ≥ 0, 10⁻³ ≤ b ≤ 5, c ≥ 0 (c ≤ 1 follows for
    errors in [0, 1]); a row holding a NaN gives NaN.

    Variable projection (Golub & Pereyra 1973): a and c are linear given b, so they are solved
    exactly and only b is searched: on a log grid, then twice on a finer grid between the best
    point's neighbours. That finds the global least-squares fit, which ``scipy.optimize.curve_fit``
    (trust-region reflective, tested against it) reaches only from a good start, at a fraction
    of its time, and every curve of a jackknife is fitted in one pass.
    """
    sizes = np.asarray(sizes, dtype=float)
    err = np.atleast_2d(np.asarray(err, dtype=float))
    out = np.full((err.shape[0], 3), np.nan)
    ok = ~np.isnan(err).any(axis=1)
    if not ok.any() or sizes.size < 3:
        return out
    e = err[ok]
    log_u = np.log(sizes / sizes.min())
    grid = np.broadcast_to(np.geomspace(*B_RANGE, 40), (len(e), 40))
    best = np.zeros((len(e), 1), dtype=int)
    # Three passes, each between the previous best point's neighbours: b to ~0.1 %.
    for points in (None, 41, 21):
        if points is not None:
            lo = np.take_along_axis(grid, np.maximum(best - 1, 0), axis=1)
            hi = np.take_along_axis(grid, np.minimum(best + 1, grid.shape[1] - 1), axis=1)
            grid = lo + (hi - lo) * np.linspace(0.0, 1.0, points)
        sse, a, c = _profile_sse(log_u, e, grid)
        best = np.argmin(sse, axis=1)[:, None]
    pick = lambda v: np.take_along_axis(v, best, axis=1)[:, 0]  # noqa: E731
    out[ok] = np.column_stack([pick(a), pick(grid), pick(c)])
    return out


def fit_power_law(sizes: np.ndarray, err: np.ndarray) -> np.ndarray:
    """(a, b, c) of one curve; see :func:`fit_power_laws`."""
    return fit_power_laws(sizes, np.asarray(err, dtype=float)[None])[0]


def learning_curves(
    sizes: np.ndarray, errors: dict[float, np.ndarray], extrapolate: float
) -> pd.DataFrame:
    """Per dose: err(n) = a·(n/n₀)^(−b) + c fitted on the mean error across repeats of
    ``errors[dose][repeat, size]``, jackknife intervals for b, c and err(``extrapolate``), and
    for doses other than 0 jackknife t-tests of the paired differences b − b₀, c − c₀ and
    err − err₀ (same repeats left out of both)."""
    sizes = np.asarray(sizes, dtype=float)
    n0 = sizes.min()
    doses = sorted(errors)
    n_repeats = next(iter(errors.values())).shape[0]
    # Every curve the jackknife needs (all repeats, then each left out), fitted in one pass.
    masks = [np.ones(n_repeats, dtype=bool)] + [np.arange(n_repeats) != i for i in range(n_repeats)]
    curves = np.array([[errors[d][m].mean(axis=0) for d in doses] for m in masks])
    params = fit_power_laws(sizes, curves.reshape(-1, sizes.size)).reshape(len(masks), -1, 3)
    a, b, c = params[..., 0], params[..., 1], params[..., 2]
    stats_ = np.stack([a, b, c, _curve(extrapolate / n0, a, b, c)], axis=2).reshape(len(masks), -1)
    by_mask = {m.tobytes(): row for m, row in zip(masks, stats_, strict=True)}

    def stat(keep: np.ndarray) -> np.ndarray:
        return by_mask[keep.tobytes()]

    est, _se, low, high, loo = jackknife(stat, n_repeats)
    k = len(doses)
    est, low, high = (v.reshape(k, 4) for v in (est, low, high))
    # The parameters' ranges (b > 0, c and the error in [0, 1]) hold the truth: cut there.
    low, high = np.clip(low, 0.0, None), np.clip(high, 0.0, None)
    low[:, 2:], high[:, 2:] = np.clip(low[:, 2:], 0.0, 1.0), np.clip(high[:, 2:], 0.0, 1.0)
    loo = loo.reshape(-1, k, 4)
    rows = []
    base = doses.index(0.0) if 0.0 in doses else None
    for i, dose in enumerate(doses):
        row = dict(dose=dose, n_repeats=n_repeats, a=est[i, 0], extrapolate=extrapolate)
        for j, q in ((1, "b"), (2, "c"), (3, "err_extrapolated")):
            row.update({q: est[i, j], f"{q}_low": low[i, j], f"{q}_high": high[i, j]})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if base is not None and n_repeats >= 2:
        # Paired: the difference's jackknife uses each leave-one-out fit of both doses.
        for j, q in ((1, "b"), (2, "c"), (3, "err_extrapolated")):
            diff_loo = loo[:, :, j] - loo[:, base : base + 1, j]
            diff = est[:, j] - est[base, j]
            se_d = np.sqrt(
                (n_repeats - 1)
                / n_repeats
                * np.sum((diff_loo - diff_loo.mean(axis=0)) ** 2, axis=0)
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                t = diff / se_d
            p = 2 * st.t.sf(np.abs(t), n_repeats - 1)
            p[base] = np.nan
            frame[f"p_{q}_vs_0"] = p
    return frame


# --------------------------------------------------------------------------- the whole table


def _bounded_error(metric: str, n_classes: int = 2) -> bool:
    """Whether the metric's error lies in [0, 1]: a fraction where higher is better, ECE,
    ``pred_tv_distance``, and the Brier score of two classes (of k > 2 it reaches 2)."""
    info = metric_info(metric)
    if metric == "brier":
        return n_classes <= 2
    return (info.percent and info.direction == 1) or metric in ("ece", "pred_tv_distance")


def default_margin(metric: str) -> float:
    """The metric's default margin (``compare.METRICS``); metrics without one need a margin."""
    margin = metric_info(metric).margin
    if margin is None:
        raise UserError(f"no default margin for {metric!r}: give one in its own units", "--margin")
    return margin


def answers(
    results: pd.DataFrame,
    metric: str = "accuracy",
    margin: float | None = None,
    *,
    dose: str = "rate",
    extrapolate: float | None = None,
    seed_groups: dict[str, str] | None = None,
    alpha: float = ALPHA,
    curves: bool = True,
) -> Answers:
    """The answers for every family of ``results`` (a table as :class:`RunStore` reads it).

    A family: one seed group and one value of every design column (model, tokenizer, start
    size, loop options) except ``dose``; its dose-0 trajectories are the baseline, paired by
    repeat and training size. ``margin`` is in the metric's units (default 0.005 for
    fractions). ``extrapolate``: the size the learning curves are extrapolated to (default ten
    times the largest size). ``curves=False`` leaves the learning curves out (``compare``
    shows none). Raises :class:`UserError` for an unknown metric or dose column.
    """
    if metric not in results.columns:
        raise UserError(f"no column {metric!r} in the results", "--metric")
    if dose not in results.columns:
        raise UserError(f"no column {dose!r} in the results", "--dose")
    sign = metric_info(metric).direction
    if sign == 0:
        raise UserError(f"{metric!r} has no better direction to answer for", "--metric")
    margin = default_margin(metric) if margin is None else float(margin)
    if not margin > 0:
        raise UserError(f"must be above 0, got {margin:g}", "--margin")
    if extrapolate is not None and not extrapolate > 0:
        raise UserError(f"must be a size above 0, got {extrapolate:g}", "--extrapolate")
    k = classes_of(results).k
    data = comparable_rows(with_seed_groups(results, seed_groups))
    if "kind" in data:
        data = data.loc[~data["kind"].astype(str).isin(generational_kinds())]
    data = data.loc[data[dose].notna() & data[metric].notna()]
    if data.empty:
        raise UserError(f"no rows with both {dose!r} and {metric!r}", "--dose")
    family_cols = [GROUP] + [
        c
        for c in design_candidates()
        if c in data.columns and c not in ("experiment", "kind", dose)
    ]
    if dose != "rate" and "rate" in data.columns and "rate" not in family_cols:
        family_cols.append("rate")
    varying = [c for c in family_cols[1:] if data[c].nunique(dropna=False) > 1]
    # Identical designs in one seed group share every seed: their trajectories are the same.
    data = data.drop_duplicates([*family_cols, dose, "repeat", "train_size"])

    notes: list[str] = []
    trend, tolerable, effects, worth, fits = [], [], [], [], []
    families = list(data.groupby(family_cols, dropna=False, sort=True))
    n_tests = sum(1 for _, f in families if np.isclose(f[dose], 0).any() and (f[dose] > 0).any())
    for key, fam in families:
        values = dict(zip(family_cols, key if isinstance(key, tuple) else (key,), strict=True))
        label = str(values[GROUP])
        if varying:
            label += " · " + expression({c: values[c] for c in varying})
        doses = np.sort(fam[dose].unique())
        has_base = bool(np.isclose(doses, 0).any())
        # One value per repeat, dose and size (duplicates were dropped above).
        wide = fam.set_index(["repeat", dose, "train_size"])[metric].unstack([dose, "train_size"])
        repeats = wide.index.to_numpy()
        # Sizes every dose reached in every repeat: what pairs.
        complete = wide.notna().all(axis=0)
        sizes_by_dose = {d: set(complete[d][complete[d]].index) for d in doses}
        common = sorted(set.intersection(*sizes_by_dose.values()))
        extra = extrapolate or EXTRAPOLATE_FACTOR * float(fam["train_size"].max())
        # values[repeat, dose, size] at the paired sizes: one lookup instead of one per cell.
        columns = pd.MultiIndex.from_product([doses, common])
        values = wide.reindex(columns=columns).to_numpy(float)
        values = values.reshape(len(repeats), len(doses), len(common))

        if len(repeats) < 5:
            notes.append(
                f"{label}: {len(repeats)} repeats; intervals on so few are wide and "
                "rest on near-normal per-repeat estimates."
            )
        if has_base and len(doses) > 1:
            if not common:
                notes.append(
                    f"{label}: no training size is shared by every {dose} in every "
                    "repeat; no trend or tolerable dose."
                )
            else:
                last = common[-1]
                at_last = fam.loc[fam["train_size"] == last]
                is_base = np.isclose(at_last[dose].to_numpy(float), 0)
                pairs = pair_with_baseline(at_last, is_base, ("repeat", "train_size"), metric)
                diffs = (
                    pairs.pivot(index="repeat", columns=dose, values="difference")
                    .reindex(index=repeats, columns=doses)
                    .fillna({d: 0.0 for d in doses if np.isclose(d, 0)})
                    .to_numpy(float)
                )
                dr = dose_response(doses, diffs, margin, sign, alpha, max(n_tests, 1))
                trend.append(dict(family=label, train_size=last, **dr))
                tol = dr["tolerable"]
                top = float(doses.max())
                tolerable.append(
                    dict(
                        family=label,
                        margin=margin,
                        estimate=min(tol, top) if tol > top else tol,
                        low=dr["tolerable_low"],
                        high=dr["tolerable_high"],
                        censored=tol > top,
                        largest_tested=top,
                        n_repeats=dr["n_repeats"],
                    )
                )
                n = diffs.shape[0]
                tq = st.t.ppf(1 - alpha / 2, n - 1) if n >= 2 else np.nan
                for j, d in enumerate(doses):
                    if d == 0:
                        continue
                    m = float(np.nanmean(diffs[:, j]))
                    half = tq * np.nanstd(diffs[:, j], ddof=1) / math.sqrt(n) if n >= 2 else np.nan
                    effects.append(
                        dict(
                            family=label,
                            dose=d,
                            train_size=last,
                            n_pairs=n,
                            mean_diff=m,
                            low=m - half,
                            high=m + half,
                            fitted=dr["slope"] * d,
                        )
                    )
            worth += _family_worth(fam, values, doses, common, sign, dose, label, notes, metric)
        elif not has_base:
            notes.append(
                f"{label}: no {dose} 0 trajectories in this seed group and design; "
                "nothing to pair with (no trend, tolerable dose or worth)."
            )
        if not curves:
            pass
        elif _bounded_error(metric, k) and len(common) >= 4:
            errors = {}
            for i, d in enumerate(doses):
                errors[float(d)] = 1 - values[:, i] if sign > 0 else values[:, i]
            frame = learning_curves(np.array(common, dtype=float), errors, extra)
            frame.insert(0, "family", label)
            stuck = frame.loc[
                (frame["b"] <= 1.01e-3)
                | (frame["b"] >= 4.99)
                | (frame["c"] <= 1e-9)
                | (frame["c"] >= 1 - 1e-9),
                "dose",
            ]
            if len(stuck):
                notes.append(
                    f"{label}: the learning curve of {dose} "
                    + ", ".join(_dose_text(float(d)) for d in stuck)
                    + " has its exponent or plateau at a bound of the fit: the sizes measured "
                    "do not pin that curve down (its extrapolation is not a forecast)."
                )
            fits.append(frame)
        elif not _bounded_error(metric, k):
            notes.append(
                f"{label}: learning curves need a metric in [0, 1]; {metric!r} is not one."
            )
    trend_frame = pd.DataFrame(trend)
    if len(trend_frame):
        trend_frame["p_holm"] = holm(trend_frame["p"].to_numpy(float))
        trend_frame["verdict"] = [
            _trend_verdict(r, sign, alpha) for r in trend_frame.to_dict("records")
        ]
    tol_frame = pd.DataFrame(tolerable)
    notes.append(
        f"The tolerable {dose} assumes the effect grows in proportion to the {dose} (a line "
        "through 0); a threshold-like effect would be placed wrongly. Doses between those "
        "tested are interpolated, none beyond them are claimed."
    )
    notes.append(
        "Worth is read off dose 0's measured curve; a dose past that curve's end is read off "
        "the power law fitted to it, continued from its last point, and only an interval wholly "
        "beyond dose 0's sizes makes a bound (≥/≤), not an estimate. In simulation the 95 % "
        "interval holds the true worth in 91-95 % of seeds at every size, the last included. "
        "Learning-curve extrapolations assume the power law holds up to that size."
    )
    return Answers(
        metric=metric,
        dose=dose,
        margin=margin,
        alpha=alpha,
        trend=trend_frame,
        tolerable=tol_frame,
        effects=pd.DataFrame(effects),
        worth=pd.concat(worth, ignore_index=True) if worth else pd.DataFrame(),
        curves=pd.concat(fits, ignore_index=True) if fits else pd.DataFrame(),
        notes=notes,
    )


def _trend_verdict(row: dict, sign: int, alpha: float) -> str:
    if not row["p_holm"] < alpha:
        return "no trend detected"
    harm = -sign * row["slope"]
    return "worse with dose" if harm > 0 else "better with dose"


def _family_worth(
    fam: pd.DataFrame,
    values: np.ndarray,
    doses: np.ndarray,
    common: list,
    sign: int,
    dose: str,
    label: str,
    notes: list[str],
    metric: str,
) -> list[pd.DataFrame]:
    """Worth per dose and size of one family (see :func:`worth_of_labels`)."""
    missing = [c for c in ("n_train", "model_labelled_share") if c not in fam.columns]
    if missing:
        notes.append(f"{label}: no {' or '.join(missing)} column; worth is not defined.")
        return []

    def grid(column: str) -> np.ndarray:  # [dose, size], mean over repeats
        table = fam.groupby([dose, "train_size"])[column].mean().unstack("train_size")
        return table.reindex(index=doses, columns=common).to_numpy(float)

    n_train, share = grid("n_train"), grid("model_labelled_share")
    base_at = int(np.argmax(np.isclose(doses, 0)))
    base_sizes = n_train[base_at]
    if len(base_sizes) < 2 or not np.all(np.diff(base_sizes) > 0):
        notes.append(
            f"{label}: dose 0 trains on a fixed number of rows (a window or budget), "
            "so no size of it matches another: worth is not defined."
        )
        return []
    base = sign * values[:, base_at]
    # Every dose and size in one call: dose 0's curve is fitted once per set of repeats.
    keys, targets, humans, models = [], [], [], []
    for j, d in enumerate(doses):
        if not d > 0:
            continue
        model = share[j] * n_train[j]
        use = model > 0
        keys += [(d, size) for size in np.array(common)[use]]
        targets.append(sign * values[:, j][:, use])
        humans.append(n_train[j][use] - model[use])
        models.append(model[use])
    if not keys:
        return []
    # The error the continuation's power law is fitted to: 1 − a fraction, a loss as it is.
    info = metric_info(metric)
    top = 1.0 if sign > 0 and info.percent else 0.0 if sign < 0 else None
    frame = worth_of_labels(
        base_sizes,
        base,
        np.concatenate(targets, axis=1),
        np.concatenate(humans),
        np.concatenate(models),
        top=top,
    )
    frame.insert(0, "train_size", [k[1] for k in keys])
    frame.insert(0, "dose", [k[0] for k in keys])
    frame.insert(0, "family", label)
    out = [frame]
    return out


def answer(
    run_dir: str | Path,
    metric: str = "accuracy",
    margin: float | None = None,
    *,
    study: str | None = None,
    dose: str = "rate",
    extrapolate: float | None = None,
) -> Answers:
    """:func:`answers` for a stored run (``study``: one study of it), read as ``compare``
    reads it (:func:`modelcollapse.compare.read_run`)."""
    results, groups = read_run(run_dir, study)
    return answers(results, metric, margin, dose=dose, extrapolate=extrapolate, seed_groups=groups)


# --------------------------------------------------------------------------- text


def _num(value: float, percent: bool, signed: bool = False) -> str:
    return format_number(value, percent, signed, digits=3)


def worth_text(value: float) -> str:
    """Two decimals, a true minus, and no "−0.00" for a worth that rounds to zero."""
    return f"{round(float(value), 2) + 0.0:.2f}".replace("-", "−")


def _ci(low: float, high: float, percent: bool, signed: bool = False) -> str:
    return format_interval(low, high, percent, signed, digits=3)


def _dose_text(value: float) -> str:
    return format_number(value, percent=False, digits=3)


def curve_cells(row: dict, percent: bool) -> list[str]:
    """One learning curve's cells, as the text and the HTML tables show them: exponent b, its
    interval and p against dose 0; plateau c, likewise; the extrapolated error, likewise."""
    cells = [f"{row['b']:.3g}", _ci(row["b_low"], row["b_high"], False)]
    cells.append(format_p(row.get("p_b_vs_0", np.nan)))
    for name in ("c", "err_extrapolated"):
        cells.append(_num(row[name], percent))
        cells.append(_ci(row[f"{name}_low"], row[f"{name}_high"], percent))
        cells.append(format_p(row.get(f"p_{name}_vs_0", np.nan)))
    return cells


def format_answers(ans: Answers, all_steps: bool = False) -> list[object]:
    """The answers as rich renderables, in the order a reader needs them: trend, tolerable
    dose, worth (last size; every size with ``all_steps``), learning curves, the per-dose
    effects, then what the answers cannot tell."""
    from rich.table import Table

    percent = metric_info(ans.metric).percent
    unit = " pp" if percent else ""
    step = 0.1  # slopes are shown per +0.1 of the dose: the size of a step users think in
    out: list[object] = []
    t = Table(
        title=f"Dose–response: does {ans.metric} change with {ans.dose}? (one test per "
        "family, Holm-adjusted)",
        title_justify="left",
    )
    for col in (
        "family",
        "size",
        "repeats",
        f"Δ per +{step:g} {ans.dose}{unit}",
        "95% CI",
        "p",
        "p Holm",
        f"detectable{unit}",
        "verdict",
    ):
        t.add_column(col, justify="left" if col in ("family", "verdict") else "right")
    for r in ans.trend.to_dict("records"):
        t.add_row(
            r["family"],
            f"{int(r['train_size']):,}",
            str(r["n_repeats"]),
            _num(r["slope"] * step, percent, True),
            _ci(r["low"] * step, r["high"] * step, percent, True),
            format_p(r["p"]),
            format_p(r["p_holm"]),
            _num(r["mde"] * step, percent),
            r["verdict"],
        )
    t.caption = (
        "Slope: per repeat, least squares through 0 of the paired difference to "
        f"{ans.dose} 0 at the last size on {ans.dose}; t-test of the per-repeat "
        "slopes. Detectable: the slope this test finds with 80 % power."
    )
    t.caption_justify = "left"
    out.append(t)

    t = Table(
        title=f"Tolerable {ans.dose}: the largest whose effect stays within "
        f"±{_num(ans.margin, percent)}{unit}",
        title_justify="left",
    )
    for col in ("family", f"tolerable {ans.dose}", "95% CI", "largest tested"):
        t.add_column(col, justify="left" if col == "family" else "right")
    for r in ans.tolerable.to_dict("records"):
        est = (
            f"≥ {r['largest_tested']:.3g} (censored)"
            if r["censored"]
            else _dose_text(r["estimate"])
        )
        low, high = r["low"], r["high"]
        top = r["largest_tested"]
        ci = (
            "–"
            if pd.isna(low)
            else (
                f"[{'> ' + format(top, '.3g') if low > top else _dose_text(low)}, "
                f"{'> ' + format(top, '.3g') if high > top else _dose_text(high)}]"
            )
        )
        t.add_row(r["family"], est, ci, f"{top:.3g}")
    t.caption = (
        f"From the fitted line effect = slope × {ans.dose}: margin / harm per unit "
        f"{ans.dose}; the interval maps the slope's t-interval."
    )
    t.caption_justify = "left"
    out.append(t)

    worth = ans.worth
    if len(worth):
        if not all_steps:
            last = worth.groupby(["family", "dose"])["train_size"].transform("max")
            worth = worth.loc[worth["train_size"] == last]
        where = "every size" if all_steps else "the last size"
        t = Table(
            title=f"Worth of a model label at {where} (1 = a human label, 0 = nothing, "
            "< 0 = harmful)",
            title_justify="left",
        )
        for col in (
            "family",
            ans.dose,
            "size",
            "human rows",
            "model rows",
            "n_eff",
            "worth",
            "95% CI",
        ):
            t.add_column(col, justify="left" if col == "family" else "right")
        for r in worth.to_dict("records"):
            bound = r["bound"]
            value = worth_text(r["worth"])
            value = f"{bound} {value}" if bound else value
            n_eff = f"{bound} {r['n_eff']:,.0f}" if bound else f"{r['n_eff']:,.0f}"
            ci = _ci(r["low"], r["high"], False)
            if not bound and r["n_beyond"]:
                ci += f" ({int(r['n_beyond'])} jackknife fits past dose 0's sizes)"
            t.add_row(
                r["family"],
                f"{r['dose']:.3g}",
                f"{int(r['train_size']):,}",
                f"{r['human_rows']:,.0f}",
                f"{r['model_rows']:,.0f}",
                n_eff,
                value,
                ci,
            )
        t.caption = (
            f"n_eff: the size at which {ans.dose} 0 reaches this {ans.metric} (its "
            "mean curve, isotonic in log size); worth = (n_eff − human) / model rows. "
            f"Past {ans.dose} 0's last point it is read off {ans.dose} 0's power law "
            f"continued from there; ≥/≤: a bound, the whole interval beyond the sizes "
            f"measured at {ans.dose} 0. "
            "Interval: jackknife over repeats, t quantile."
        )
        t.caption_justify = "left"
        out.append(t)

    if len(ans.curves):
        extra = ans.curves["extrapolate"].iloc[0]
        t = Table(
            title="Learning curves: error(n) = a·(n/n₀)^(−b) + c on the mean error",
            title_justify="left",
        )
        for col in (
            "family",
            ans.dose,
            "exponent b",
            "95% CI",
            "p vs 0",
            f"plateau c{unit}",
            "95% CI ",
            "p vs 0 ",
            f"error at {extra:,.0f}{unit}",
            "95% CI  ",
            "p vs 0  ",
        ):
            t.add_column(col, justify="left" if col == "family" else "right")
        for r in ans.curves.to_dict("records"):
            t.add_row(r["family"], f"{r['dose']:.3g}", *curve_cells(r, percent))
        t.caption = (
            "Least squares with 0 < b ≤ 5, c ≥ 0; intervals and the tests "
            "against dose 0 (paired) by the jackknife over repeats. A plateau or "
            "exponent at its bound, or wide intervals, mean the sizes measured "
            "cannot pin it down."
        )
        t.caption_justify = "left"
        out.append(t)

    if len(ans.effects):
        t = Table(
            title=f"Per {ans.dose}: paired difference to {ans.dose} 0 at the last size",
            title_justify="left",
        )
        for col in (
            "family",
            ans.dose,
            "size",
            "pairs",
            f"Δ mean{unit}",
            "95% CI t",
            f"fitted line{unit}",
        ):
            t.add_column(col, justify="left" if col == "family" else "right")
        for r in ans.effects.to_dict("records"):
            t.add_row(
                r["family"],
                f"{r['dose']:.3g}",
                f"{int(r['train_size']):,}",
                str(r["n_pairs"]),
                _num(r["mean_diff"], percent, True),
                _ci(r["low"], r["high"], percent, True),
                _num(r["fitted"], percent, True),
            )
        out.append(t)
    out += ["What these answers cannot tell:", *(f"  - {n}" for n in ans.notes)]
    return out
