"""Figures drawn from stored results: one function per panel, reused by the standalone figures and
the dashboard, so a curve looks the same wherever it appears.

Every figure is a :class:`matplotlib.figure.Figure` built directly (no pyplot), so building
a report leaves no global figure state behind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, NullLocator

from modelcollapse.report.style import (
    ACCURACY_LABEL,
    BAND_ALPHA,
    OKABE_ITO,
    RATE_LABEL,
    REFERENCE_COLOUR,
    category_colour,
    format_rate,
    format_size,
    ordered_colours,
    rate_colours,
    size_axis,
)
from modelcollapse.stats import paired_differences, summarize

# The original study's order; other experiments follow alphabetically.
CANONICAL_ORDER = (
    "learning-curve",
    "total-collapse",
    "collapse-rates",
    "lower-rates",
    "lower-rates-detail",
)
SINGLE_COLOUR = OKABE_ITO[4]  # blue, for figures with a single curve
STANDALONE_SIZE = (7.0, 4.3)  # inches: fits a printed page width with margins


@dataclass(frozen=True)
class Study:
    """The trajectories one figure compares: one experiment, one model, tokenizer (and, for rate
    studies, one initial size), so every curve differs in a single factor."""

    name: str
    slug: str
    kind: str
    data: pd.DataFrame

    @property
    def n_repeats(self) -> int:
        return int(self.data["repeat"].nunique())

    @property
    def rates(self) -> list[float]:
        return sorted(self.data["rate"].unique().tolist())

    @property
    def n_test(self) -> int:
        median = self.data["n_test"].median() if "n_test" in self.data else float("nan")
        return int(median) if pd.notna(median) else 0

    @property
    def is_rates(self) -> bool:
        # Unknown kinds are plotted like rate studies: curves by rate is the generic view.
        return self.kind not in ("learning-curve", "total-collapse")

    def pair_keys(self) -> list[str]:
        """Columns that match a trajectory with its rate-0 partner."""
        # Total collapse starts curves at different sizes, so steps do not line up; sizes do.
        return ["repeat", "train_size"] if self.kind == "total-collapse" else ["repeat", "step"]


@dataclass
class Plot:
    """A figure ready to save, with the words the report puts around it."""

    stem: str
    title: str
    caption: str
    section: str
    figure: Figure


def split_studies(results: pd.DataFrame) -> list[Study]:
    """One study per experiment, split further only by what varies that a figure cannot show."""
    studies: list[Study] = []
    slugs: set[str] = set()
    for (experiment, kind), frame in results.groupby(["experiment", "kind"], sort=False):
        extra = ["model", "tokenizer"]
        if kind not in ("learning-curve", "total-collapse"):
            extra.append("initial_size")
        varying = [c for c in extra if frame[c].nunique() > 1]
        several_kinds = results.loc[results["experiment"] == experiment, "kind"].nunique() > 1
        groups = frame.groupby(varying, sort=True) if varying else [((), frame)]
        for values, part in groups:
            values = values if isinstance(values, tuple) else (values,)
            details = [f"{c.replace('_', ' ')} {v}" for c, v in zip(varying, values, strict=True)]
            if several_kinds:
                details.insert(0, str(kind))
            name = f"{experiment} ({', '.join(details)})" if details else str(experiment)
            slug = _unique(_slugify(name), slugs)
            studies.append(Study(name, slug, str(kind), part.reset_index(drop=True)))
    return sorted(studies, key=_study_order)


def curves(data: pd.DataFrame, series: Sequence[str], value: str = "accuracy") -> pd.DataFrame:
    """``value`` summarised across repeats per series and step; ``x`` is the step's train size."""
    keys = [*series, "step"]
    summary = summarize(data, keys, value)
    sizes = data.groupby(keys, sort=True, dropna=False)["train_size"].median().rename("x")
    return summary.merge(sizes.reset_index(), on=keys, how="left").sort_values(keys)


def last_rows(data: pd.DataFrame) -> pd.DataFrame:
    """Each trajectory's final step (trajectories may differ in length)."""
    return data.loc[data.groupby("trajectory", sort=False)["step"].idxmax()]


def first_rows(data: pd.DataFrame) -> pd.DataFrame:
    return data.loc[data.groupby("trajectory", sort=False)["step"].idxmin()]


# --- panels -------------------------------------------------------------------------------


def draw_learning_curve(ax: Axes, study: Study) -> list[Line2D | Patch]:
    """Mean accuracy with CI band, plus each step's worst and best repeat."""
    series = ["initial_size", "rate"]
    table = curves(study.data, series)
    for i, (_key, c) in enumerate(table.groupby(series, sort=True)):
        colour = SINGLE_COLOUR if i == 0 else category_colour(i)
        _line_band(ax, c, colour)
        ax.scatter(c["x"], c["min"] * 100, marker="v", s=14, color=colour, alpha=0.6, lw=0)
        ax.scatter(c["x"], c["max"] * 100, marker="^", s=14, color=colour, alpha=0.6, lw=0)
    colour = SINGLE_COLOUR
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=colour, marker="o", label=f"mean of {study.n_repeats} repeats"),
        Patch(color=colour, alpha=BAND_ALPHA + 0.1, lw=0, label="95 % CI of the mean"),
        Line2D([], [], color=colour, marker="^", ls="", alpha=0.6, label="best repeat"),
        Line2D([], [], color=colour, marker="v", ls="", alpha=0.6, label="worst repeat"),
    ]
    _accuracy_axes(ax)
    return handles


def draw_total_collapse(ax: Axes, study: Study) -> list[Line2D | Patch]:
    """No-collapse reference in black; one colour per collapse start, marked where it starts."""
    data = study.data
    table = curves(data, ["initial_size", "rate"])
    is_base = np.isclose(table["rate"], 0.0)
    handles: list[Line2D | Patch] = []
    base = table.loc[is_base]
    if not base.empty:
        for _size, c in base.groupby("initial_size", sort=True):
            _line_band(ax, c, REFERENCE_COLOUR, ls="--", marker=None)
        handles.append(Line2D([], [], color=REFERENCE_COLOUR, ls="--", label="no collapse"))
    collapse = table.loc[~is_base]
    several_rates = collapse["rate"].nunique() > 1
    groups = list(collapse.groupby(["initial_size", "rate"], sort=True))
    colours = ordered_colours([key for key, _c in groups])
    for (size, rate), c in groups:
        colour = colours[(size, rate)]
        _line_band(ax, c, colour)
        start = c.iloc[0]
        ax.plot(start["x"], start["mean"] * 100, marker="D", ms=6, color=colour, mec="white")
        label = f"from {format_size(size)}" + (f" at {format_rate(rate)}" if several_rates else "")
        handles.append(Line2D([], [], color=colour, marker="D", mec="white", label=label))
    _accuracy_axes(ax)
    return handles


def draw_rates(ax: Axes, study: Study, value: str = "accuracy") -> dict[float, str]:
    """One mean curve with CI band per rate; returns the colours for the colour bar."""
    colours = rate_colours(study.rates)
    data = study.data
    if value == "difference":
        data = paired_differences(data, on=study.pair_keys())
    table = curves(data, ["rate"], value)
    alpha = BAND_ALPHA if len(colours) <= 6 else BAND_ALPHA / 2  # many bands turn to mud
    for rate, c in table.groupby("rate", sort=True):
        marker = "o" if len(c) <= 25 else None
        _line_band(ax, c, colours[float(rate)], marker=marker, alpha=alpha)
    size_axis(ax)
    if value == "difference":
        ax.axhline(0.0, color=REFERENCE_COLOUR, lw=0.9, ls="--")
        ax.set_ylabel("Accuracy − rate-0 accuracy (percentage points)")
    else:
        _accuracy_axes(ax)
    return colours


def draw_positive_rate(ax: Axes, study: Study) -> list[Line2D | Patch]:
    """Share of test reviews predicted positive, one thin line per trajectory.

    Not averaged: repeats drift towards either class, so a mean across repeats would sit near
    the true share and hide the very drift this figure is for.
    """
    data = study.data
    handles: list[Line2D | Patch] = []
    if study.is_rates:
        colour_of: dict[object, str] = dict(rate_colours(study.rates))
        key = ["rate"]
    else:
        key = ["initial_size", "rate"]
        series = sorted(data.groupby(key).groups)
        base = [k for k in series if study.kind == "total-collapse" and np.isclose(k[1], 0.0)]
        others = [k for k in series if k not in base]
        colour_of = {k: REFERENCE_COLOUR for k in base}
        if base:
            handles.append(Line2D([], [], color=REFERENCE_COLOUR, label="no collapse"))
        if study.kind == "total-collapse":
            colour_of |= ordered_colours(others)
            handles += [
                Line2D([], [], color=colour_of[k], label=f"from {format_size(k[0])}")
                for k in others
            ]
        else:
            colour_of |= {k: SINGLE_COLOUR for k in others}
            handles.append(Line2D([], [], color=SINGLE_COLOUR, label="one line per repeat"))
    segments, colours = [], []
    for trajectory_key, t in data.sort_values([*key, "repeat", "step"]).groupby(
        [*key, "trajectory"], sort=False
    ):
        series_key = trajectory_key[0] if len(key) == 1 else tuple(trajectory_key[:2])
        segments.append(np.column_stack([t["train_size"], t["predicted_positive_rate"] * 100]))
        colours.append(colour_of[series_key])
    ax.add_collection(
        LineCollection(segments, colors=colours, linewidths=1.0, alpha=0.8), autolim=True
    )
    ax.autoscale_view()
    truth = float(data["test_positive_rate"].mean()) * 100
    ax.axhline(truth, color="#666666", lw=1.4, ls=":", zorder=1)
    handles.append(
        Line2D([], [], color="#666666", ls=":", label=f"true share in test set ({truth:.1f} %)")
    )
    size_axis(ax)
    ax.set_ylabel("Test reviews predicted positive (%)")
    ax.set_ylim(0, 100)
    return handles


def draw_final_accuracy(ax: Axes, studies: Sequence[Study]) -> list[Line2D | Patch]:
    """Accuracy after the last step against rate, one colour per rate study."""
    handles: list[Line2D | Patch] = []
    nonzero: list[float] = []
    for i, study in enumerate(studies):
        last = last_rows(study.data)
        table = summarize(last, ["rate"]).sort_values("rate")
        x = table["rate"].to_numpy(float) * 100
        mean = table["mean"].to_numpy(float) * 100
        err = np.nan_to_num(
            np.vstack([mean - table["ci_low"] * 100, table["ci_high"] * 100 - mean]), nan=0.0
        )
        colour = category_colour(i)
        ax.errorbar(x, mean, yerr=err, color=colour, marker="o", capsize=3, elinewidth=1.0)
        size = format_size(last["train_size"].median())
        handles.append(Line2D([], [], color=colour, marker="o", label=f"{study.name} ({size})"))
        nonzero += [r * 100 for r in study.rates if r > 0]
    if nonzero and max(nonzero) / min(nonzero) > 20:
        # Rates span decades (lower rates next to 100 %): linear near 0, logarithmic above.
        ax.set_xscale("symlog", linthresh=min(nonzero), linscale=0.5)
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xlabel(RATE_LABEL.replace("(%)", "(%, log scale above " + f"{min(nonzero):g} %)"))
    else:
        ax.set_xlabel(RATE_LABEL)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.set_ylabel("Final test accuracy (%)")
    return handles


# --- figures ------------------------------------------------------------------------------


def build_plots(studies: Sequence[Study]) -> Iterator[Plot]:
    """Every figure the studies support, overview first; generated lazily to bound memory."""
    rate_studies = [s for s in studies if s.is_rates]
    panels = _dashboard_panels(studies)
    if len(panels) >= 2:
        yield dashboard(panels, rate_studies)
    if rate_studies:
        yield final_accuracy_plot(rate_studies)
    for study in studies:
        yield accuracy_plot(study)
        if study.is_rates and _has_pairs(study):
            yield difference_plot(study)
        yield positive_rate_plot(study)


def accuracy_plot(study: Study) -> Plot:
    fig, ax = _standalone()
    reps = _repeats_phrase(study)
    test = (
        f" on {format_size(study.n_test)} held-out human-labelled reviews" if study.n_test else ""
    )
    if study.kind == "learning-curve":
        handles = draw_learning_curve(ax, study)
        ax.legend(handles=handles, loc="lower right")
        title = _heading(study, "learning curve")
        caption = (
            f"Test accuracy{test} against training-set size when every label is human. "
            f"Line: mean of {reps}; band: 95 % t-interval of the mean; triangles: the best and "
            "worst repeat at each size. The ceiling the self-labelling curves are compared with."
        )
    elif study.kind == "total-collapse":
        handles = draw_total_collapse(ax, study)
        _legend(ax, handles, title="Collapse start")
        title = _heading(study, "total collapse")
        caption = (
            f"Test accuracy{test} against training-set size. Dashed black: the no-collapse curve "
            "(all labels human). Each coloured curve starts (diamond) from a model trained on "
            "human labels at that size; from then on every added review gets the model's "
            f"predicted label. Lines: mean of {reps}; bands: 95 % t-intervals."
        )
    else:
        colours = draw_rates(ax, study)
        _rate_colorbar(ax, colours)
        title = f"{study.name}: accuracy by model-labelled rate"
        caption = (
            f"Test accuracy{test} against training-set size, one curve per rate: the share of "
            "each added batch labelled by the model instead of by humans (colour bar; 0 % is the "
            f"all-human baseline). Lines: mean of {reps}; bands: 95 % t-intervals of the mean."
        )
    ax.set_title(title, loc="left")
    return Plot(f"accuracy-{study.slug}", title, caption, study.name, fig)


def difference_plot(study: Study) -> Plot:
    fig, ax = _standalone()
    colours = draw_rates(ax, study, value="difference")
    _rate_colorbar(ax, {r: c for r, c in colours.items() if r != 0.0})
    title = f"{study.name}: accuracy lost to model labels"
    ax.set_title(title, loc="left")
    caption = (
        "Paired difference in test accuracy between each rate and the all-human rate 0 %, "
        "computed within each repeat (same test set, same initial sample, same order of added "
        "reviews), so repeat-to-repeat noise cancels. Below the dashed zero line the model's own "
        f"labels cost accuracy. Lines: mean over {_repeats_phrase(study)}; bands: 95 % "
        "t-intervals of the mean difference."
    )
    return Plot(f"difference-{study.slug}", title, caption, study.name, fig)


def positive_rate_plot(study: Study) -> Plot:
    fig, ax = _standalone()
    handles = draw_positive_rate(ax, study)
    if study.is_rates:
        _rate_colorbar(ax, rate_colours(study.rates))
        handles = handles[-1:]
    # Below the axes: drifting lines fill both the top and the bottom of the plot.
    fig.legend(handles=handles, loc="outside lower center", ncol=min(4, len(handles)))
    title = f"{study.name}: class-balance drift"
    ax.set_title(title, loc="left")
    truth = study.data["test_positive_rate"].mean() * 100
    caption = (
        "Share of test reviews the model predicts positive, against training-set size, one line "
        f"per trajectory ({_repeats_phrase(study)} per curve; not averaged, because repeats can "
        "drift towards either class). Dotted: the true share of positives in the test set. "
    )
    if study.kind == "learning-curve":
        caption += (
            "With human labels only, the predicted share stays close to the true share: the "
            "reference for the drift in the self-labelling studies."
        )
    else:
        caption += (
            "Model-labelled batches repeat and amplify the model's lean towards one class; once "
            "it predicts almost every review as that class, accuracy falls to that class's share "
            f"of the test set ({min(truth, 100 - truth):.0f}–{max(truth, 100 - truth):.0f} % here)."
        )
    return Plot(f"positive-rate-{study.slug}", title, caption, study.name, fig)


def final_accuracy_plot(studies: Sequence[Study]) -> Plot:
    fig, ax = _standalone()
    handles = draw_final_accuracy(ax, studies)
    ax.legend(handles=handles, loc="best", title="Study (final training size)")
    title = "Final accuracy by model-labelled rate"
    ax.set_title(title, loc="left")
    caption = (
        "Test accuracy after each trajectory's last step against the share of every added batch "
        "that the model labelled, one colour per study. Points: mean across repeats; error bars: "
        "95 % t-intervals of the mean (none when a study has a single repeat). Studies end at "
        "different training sizes (legend), so compare rates within a colour."
    )
    return Plot("final-accuracy", title, caption, "Overview", fig)


def dashboard(panels: Sequence[tuple[str, Study | None]], rate_studies: Sequence[Study]) -> Plot:
    """The original study's grid: learning curve, total collapse, rate studies, final accuracy."""
    cols = 2 if len(panels) == 4 else min(3, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig = Figure(figsize=(5.0 * cols, 3.9 * rows), layout="constrained")
    fig.get_layout_engine().set(
        w_pad=0.08, wspace=0.06
    )  # room between a colour bar and the next panel
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    names = []
    for ax, (role, study), letter in zip(axes, panels, "abcdef", strict=False):
        if role == "learning-curve" and study is not None:
            ax.legend(handles=draw_learning_curve(ax, study)[:2], loc="lower right")
            label = _heading(study, "learning curve")
        elif role == "total-collapse" and study is not None:
            _legend(ax, draw_total_collapse(ax, study), fontsize=7.5)
            label = _heading(study, "total collapse")
        elif role == "rates" and study is not None:
            _rate_colorbar(ax, draw_rates(ax, study), compact=True)
            label = study.name
        else:
            ax.legend(handles=draw_final_accuracy(ax, rate_studies), loc="best", fontsize=7.5)
            label = "final accuracy by rate"
        ax.set_title(f"({letter}) {label}", loc="left")
        names.append(f"({letter}) {label}")
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    title = "Overview dashboard"
    caption = (
        "The study at a glance, one panel per study in this run: "
        + "; ".join(names)
        + ". Lines are means across repeats with 95 % t-interval bands; colour bars give the "
        "share of each added batch labelled by the model. Each panel is also shown larger below."
    )
    return Plot("dashboard", title, caption, "Overview", fig)


# --- helpers ------------------------------------------------------------------------------


def _dashboard_panels(studies: Sequence[Study]) -> list[tuple[str, Study | None]]:
    """At most six panels: first learning curve, first total collapse, rate studies, final."""
    panels: list[tuple[str, Study | None]] = []
    for kind in ("learning-curve", "total-collapse"):
        study = next((s for s in studies if s.kind == kind), None)
        if study is not None:
            panels.append((kind, study))
    rate_studies = [s for s in studies if s.is_rates]
    room = 6 - len(panels) - (1 if rate_studies else 0)
    panels += [("rates", s) for s in rate_studies[:room]]
    if rate_studies:
        panels.append(("final", None))
    return panels


def _legend(ax: Axes, handles: list[Line2D | Patch], **kwargs: object) -> None:
    """Inside while it is short; outside on the right once it would cover curves."""
    if len(handles) <= 5:
        ax.legend(handles=handles, loc="best", **kwargs)
    else:
        ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), **kwargs)


def _has_pairs(study: Study) -> bool:
    rates = np.asarray(study.rates)
    return bool(np.isclose(rates, 0.0).any() and (~np.isclose(rates, 0.0)).any())


def _standalone() -> tuple[Figure, Axes]:
    fig = Figure(figsize=STANDALONE_SIZE, layout="constrained")
    return fig, fig.add_subplot()


def _line_band(
    ax: Axes,
    c: pd.DataFrame,
    colour: str,
    ls: str = "-",
    marker: str | None = "o",
    alpha: float = BAND_ALPHA,
) -> None:
    x = c["x"].to_numpy(float)
    ax.fill_between(
        x, c["ci_low"] * 100, c["ci_high"] * 100, color=colour, alpha=alpha, lw=0, zorder=2
    )
    ax.plot(x, c["mean"] * 100, color=colour, ls=ls, marker=marker, zorder=3)


def _accuracy_axes(ax: Axes) -> None:
    size_axis(ax)
    ax.set_ylabel(ACCURACY_LABEL)


def _rate_colorbar(ax: Axes, colours: dict[float, str], compact: bool = False) -> None:
    """Discrete colour bar: one swatch per rate, evenly spaced like the colours themselves."""
    if not colours:
        return
    rates = list(colours)
    n = len(rates)
    cmap = ListedColormap(list(colours.values()))
    norm = BoundaryNorm(np.arange(n + 1), cmap.N)
    fig = ax.get_figure()
    bar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap),
        ax=ax,
        ticks=np.arange(n) + 0.5,
        fraction=0.05,
        pad=0.02,
        aspect=25,
    )
    every = max(1, math.ceil(n / (8 if compact else 14)))
    bar.ax.set_yticklabels([format_rate(r) if i % every == 0 else "" for i, r in enumerate(rates)])
    bar.ax.tick_params(length=0, labelsize=7.5 if compact else 8.5)
    bar.outline.set_visible(False)
    bar.set_label("Model-labelled share" if compact else "Model-labelled share per batch")


def _heading(study: Study, what: str) -> str:
    """'total collapse', or 'my-study: total collapse' when the name says something new."""
    return what if study.name == study.kind else f"{study.name}: {what}"


def _repeats_phrase(study: Study) -> str:
    n = study.n_repeats
    return f"{n} repeat" if n == 1 else f"{n} repeats"


def _slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "study"


def _unique(slug: str, taken: set[str]) -> str:
    candidate, i = slug, 2
    while candidate in taken:
        candidate, i = f"{slug}-{i}", i + 1
    taken.add(candidate)
    return candidate


def _study_order(study: Study) -> tuple[int, str]:
    experiment = str(study.data["experiment"].iloc[0])
    rank = (
        CANONICAL_ORDER.index(experiment) if experiment in CANONICAL_ORDER else len(CANONICAL_ORDER)
    )
    return (rank, study.name)
