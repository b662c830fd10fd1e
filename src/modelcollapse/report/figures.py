"""Figures drawn from stored results: one function per panel, reused by the standalone figures and
the dashboard, so a curve looks the same wherever it appears.

Every figure is a :class:`matplotlib.figure.Figure` built directly (no pyplot), so building
a report leaves no global figure state behind.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

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

from modelcollapse.compare import (
    design_columns,
    experiment_order,
    expression,
)
from modelcollapse.engines import ENGINES, Engine, engine_of
from modelcollapse.formatting import format_percent as format_rate
from modelcollapse.pairing import GROUP, pair_with_baseline, with_seed_groups
from modelcollapse.registry import Registry
from modelcollapse.report.style import (
    ACCURACY_LABEL,
    BAND_ALPHA,
    OKABE_ITO,
    RATE_LABEL,
    REFERENCE_COLOUR,
    category_colour,
    format_size,
    ordered_colours,
    rate_colours,
    size_axis,
)
from modelcollapse.results import Classes, classes_of, last_rows
from modelcollapse.stats import summarize

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
    classes: Classes = field(default_factory=Classes)  # the run's classes, from its manifest

    @property
    def multiclass(self) -> bool:
        """More than two classes: no "positive" columns; the class distribution stands in."""
        return self.classes.k > 2 or not has_values(self.data, "predicted_positive_rate")

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
    def engine(self) -> Engine:
        """The kind's engine, which says what the report draws (a kind no longer registered
        reads as the default: curves by rate, the generic view)."""
        return engine_of(self.kind)

    @property
    def is_rates(self) -> bool:
        return self.engine.compares_rates

    @property
    def is_generational(self) -> bool:
        """Generations instead of a size grid: their figures run over the generation."""
        return self.engine.generational

    def pair_keys(self) -> list[str]:
        """Columns that match a trajectory with its rate-0 partner."""
        return list(self.engine.pair_on)


@dataclass
class Plot:
    """A figure ready to save, with the words the report puts around it."""

    stem: str
    title: str
    caption: str
    section: str
    figure: Figure


def split_studies(results: pd.DataFrame, order: Sequence[str] = ()) -> list[Study]:
    """One study per experiment, split further only by what varies that a figure cannot show.

    Studies follow ``order`` (experiment names: the config's study order); the others follow
    by kind, in the kinds' registration order (the original study's: learning curve, total
    collapse, rates, …), then by name.
    """
    studies: list[Study] = []
    slugs: set[str] = set()
    classes = classes_of(results)
    for (experiment, kind), frame in results.groupby(["experiment", "kind"], sort=False):
        extra = ["model", "tokenizer"]
        if engine_of(str(kind)).splits_by_start:
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
            studies.append(Study(name, slug, str(kind), part.reset_index(drop=True), classes))
    kinds = list(ENGINES)
    rank = {name: i for i, name in enumerate(order)}

    def position(study: Study) -> tuple[int, int, str]:
        experiment = str(study.data["experiment"].iloc[0])
        kind = kinds.index(study.kind) if study.kind in kinds else len(kinds)
        return (rank.get(experiment, len(rank)), kind, study.name)

    return sorted(studies, key=position)


def curves(data: pd.DataFrame, series: Sequence[str], value: str = "accuracy") -> pd.DataFrame:
    """``value`` summarised across repeats per series and step; ``x`` is the step's train size."""
    keys = [*series, "step"]
    summary = summarize(data, keys, value)
    sizes = data.groupby(keys, sort=True, dropna=False)["train_size"].median().rename("x")
    return summary.merge(sizes.reset_index(), on=keys, how="left").sort_values(keys)


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
        data = pair_with_baseline(data, np.isclose(data["rate"], 0.0), on=study.pair_keys())
    _rate_bands(ax, curves(data, ["rate"], value), colours)
    size_axis(ax)
    if value == "difference":
        ax.axhline(0.0, color=REFERENCE_COLOUR, lw=0.9, ls="--")
        ax.set_ylabel("Accuracy − rate-0 accuracy (percentage points)")
    else:
        _accuracy_axes(ax)
    return colours


def draw_positive_rate(ax: Axes, study: Study) -> list[Line2D | Patch]:
    """Share of test reviews predicted positive (k > 2 classes: the total-variation distance
    of the predicted class shares from the test set's), one thin line per trajectory.

    Not averaged: repeats drift towards either class, so a mean across repeats would sit near
    the true share and hide the very drift this figure is for.
    """
    data = study.data
    value = "pred_tv_distance" if study.multiclass else "predicted_positive_rate"
    handles: list[Line2D | Patch] = []
    if study.is_rates:
        colour_of: dict[object, str] = dict(rate_colours(study.rates))
        key = ["rate"]
    else:
        key = ["initial_size", "rate"]
        series = sorted(data.groupby(key).groups)
        by_start = study.engine.start_in_series
        base = [k for k in series if by_start and np.isclose(k[1], 0.0)]
        others = [k for k in series if k not in base]
        colour_of = {k: REFERENCE_COLOUR for k in base}
        if base:
            handles.append(Line2D([], [], color=REFERENCE_COLOUR, label="no collapse"))
        if by_start:
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
        segments.append(np.column_stack([t["train_size"], t[value] * 100]))
        colours.append(colour_of[series_key])
    ax.add_collection(
        LineCollection(segments, colors=colours, linewidths=1.0, alpha=0.8), autolim=True
    )
    ax.autoscale_view()
    if study.multiclass:
        label = "no drift: predicted shares = test shares"
        ylabel = "Predicted vs test class shares, TV (%)"
        truth = 0.0
    else:
        truth = float(data["test_positive_rate"].mean()) * 100
        label = f"true share in test set ({truth:.1f} %)"
        ylabel = f"Test reviews predicted {study.classes.predicted_phrase()} (%)"
    ax.axhline(truth, color="#666666", lw=1.4, ls=":", zorder=1)
    handles.append(Line2D([], [], color="#666666", ls=":", label=label))
    size_axis(ax)
    ax.set_ylabel(ylabel)
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


def build_plots(
    studies: Sequence[Study], seed_groups: Mapping[str, str] | None = None
) -> Iterator[Plot]:
    """Every figure the studies support, overview first; generated lazily to bound memory.

    ``seed_groups`` (study name → seed group, in the config's order) decides which studies'
    loop designs are compared in one figure.
    """
    rate_studies = [s for s in studies if s.is_rates]
    panels = _dashboard_panels(studies)
    if len(panels) >= 2:
        yield dashboard(panels, rate_studies)
    if rate_studies:
        yield final_accuracy_plot(rate_studies)
    for study in studies:
        for name in study.engine.figures:
            plot = FIGURES.get(name)(study)
            if plot is not None:
                yield plot
    yield from design_plots(studies, seed_groups)


def _test_phrase(study: Study) -> str:
    return (
        f" on {format_size(study.n_test)} held-out human-labelled reviews" if study.n_test else ""
    )


def repeat_spread_plot(study: Study) -> Plot:
    """Accuracy with true labels only: the mean, its band and each size's best and worst repeat."""
    fig, ax = _standalone()
    handles = draw_learning_curve(ax, study)
    ax.legend(handles=handles, loc="lower right")
    title = _heading(study, "learning curve")
    caption = (
        f"Test accuracy{_test_phrase(study)} against training-set size when every label is "
        f"human. Line: mean of {_repeats_phrase(study)}; band: 95 % t-interval of the mean; "
        "triangles: the best and worst repeat at each size. The ceiling the self-labelling "
        "curves are compared with."
    )
    ax.set_title(title, loc="left")
    return Plot(f"accuracy-{study.slug}", title, caption, study.name, fig)


def start_curves_plot(study: Study) -> Plot:
    """Accuracy of the no-collapse reference and of one curve per collapse start."""
    fig, ax = _standalone()
    handles = draw_total_collapse(ax, study)
    _legend(ax, handles, title="Collapse start")
    title = _heading(study, "total collapse")
    caption = (
        f"Test accuracy{_test_phrase(study)} against training-set size. Dashed black: the "
        "no-collapse curve (all labels human). Each coloured curve starts (diamond) from a model "
        "trained on human labels at that size; from then on every added review gets the model's "
        f"predicted label. Lines: mean of {_repeats_phrase(study)}; bands: 95 % t-intervals."
    )
    ax.set_title(title, loc="left")
    return Plot(f"accuracy-{study.slug}", title, caption, study.name, fig)


def rate_curves_plot(study: Study) -> Plot:
    """Accuracy against training-set size, one curve per rate."""
    fig, ax = _standalone()
    colours = draw_rates(ax, study)
    _rate_colorbar(ax, colours)
    title = f"{study.name}: accuracy by model-labelled rate"
    caption = (
        f"Test accuracy{_test_phrase(study)} against training-set size, one curve per rate: the "
        "share of each added batch labelled by the model instead of by humans (colour bar; 0 % "
        f"is the all-human baseline). Lines: mean of {_repeats_phrase(study)}; bands: 95 % "
        "t-intervals of the mean."
    )
    ax.set_title(title, loc="left")
    return Plot(f"accuracy-{study.slug}", title, caption, study.name, fig)


def difference_plot(study: Study) -> Plot | None:
    """Paired difference to rate 0; none without both rate 0 and another rate."""
    if not _has_pairs(study):
        return None
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
    if study.multiclass:
        return _class_drift_plot(study, fig, ax, title)
    truth = study.data["test_positive_rate"].mean() * 100
    predicted = study.classes.predicted_phrase()
    which = (
        ""
        if study.classes.polarity
        else f" (of the classes {', '.join(study.classes.names)}, {predicted} is class 1)"
    )
    caption = (
        f"Share of test reviews the model predicts {predicted}{which}, against training-set "
        f"size, one line per trajectory ({_repeats_phrase(study)} per curve; not averaged, "
        "because repeats can drift towards either class). Dotted: the true share of "
        f"{predicted if not study.classes.polarity else 'positives'} in the test set. "
    )
    if not study.engine.has_rates:
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


def _class_drift_plot(study: Study, fig: Figure, ax: Axes, title: str) -> Plot:
    names = ", ".join(study.classes.names)
    caption = (
        f"Class-balance drift over the {study.classes.k} classes ({names}): the total-variation "
        "distance between the class shares the model predicts on the test reviews and the "
        "test set's true class shares (half the summed absolute differences; 0 %: each class "
        "predicted as often as it occurs, 100 %: every review predicted as classes it does not "
        "hold), against training-set size, one line per trajectory "
        f"({_repeats_phrase(study)} per curve; not averaged, because repeats can drift towards "
        "different classes). "
    )
    if not study.engine.has_rates:
        caption += (
            "With human labels only, the predicted shares stay close to the true ones: the "
            "reference for the drift in the self-labelling studies."
        )
    else:
        caption += (
            "Model-labelled batches repeat and amplify the model's lean towards some classes; "
            "the distance grows as it predicts fewer classes for more reviews."
        )
    return Plot(f"class-drift-{study.slug}", title, caption, study.name, fig)


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
    for ax, (panel, study), letter in zip(axes, panels, "abcdef", strict=False):
        if study is not None:
            label = PANELS.get(panel)(ax, study)
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


# --- generational kinds: curves over generations, not training sizes ----------------------


def generation_curves(data: pd.DataFrame, series: str, value: str) -> pd.DataFrame:
    """``value`` summarised across repeats per ``series`` value and generation (``x``)."""
    table = summarize(data.dropna(subset=[value]), [series, "step"], value)
    return table.assign(x=table["step"].astype(float)).sort_values([series, "step"])


def _generation_axis(ax: Axes, label: str) -> None:
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel(label)


def _clip_percent(ax: Axes) -> None:
    """Keep a percentage axis within 0–100: bands of two repeats can reach far beyond."""
    low, high = ax.get_ylim()
    ax.set_ylim(max(low, 0.0), min(high, 100.0))


GENERATIVE_X = "Generation (0 = trained on the real reviews)"
DIVERSITY_PANELS = (
    ("distinct_1", "Distinct words (distinct-1, %)", 100.0),
    ("distinct_2", "Distinct word pairs (distinct-2, %)", 100.0),
    ("vocabulary_size", "Vocabulary written (words)", 1.0),
    ("perplexity", "Perplexity of real test reviews", 1.0),
)


def regime_curves_plot(study: Study) -> Plot:
    """Test accuracy per generation, one curve per regime."""
    fig, ax = _standalone()
    regimes = sorted(study.data["regime"].dropna().astype(str).unique())
    colours = ordered_colours(regimes)
    table = generation_curves(study.data.assign(regime=study.data["regime"].astype(str)),
                              "regime", "accuracy")  # fmt: skip
    for regime, c in table.groupby("regime", sort=True):
        _line_band(ax, c, colours[regime])
    _generation_axis(ax, GENERATIVE_X)
    ax.set_ylabel(ACCURACY_LABEL)
    _clip_percent(ax)
    handles = [Line2D([], [], color=colours[r], marker="o", label=r) for r in regimes]
    ax.legend(handles=handles, loc="best", title="Regime")
    title = f"{study.name}: accuracy by generation"
    ax.set_title(title, loc="left")
    fitted = " or ".join(REGIME_CORPORA.get(r, r) for r in regimes)
    caption = (
        "Test accuracy on real held-out reviews of a classifier trained on each generation's "
        "reviews. Generation 0 is trained on real reviews; every later generation's reviews are "
        "written by the study's generator (trigram models unless it names another) fitted "
        f"{fitted}. The regimes share each repeat's real reviews and test set, so they pair "
        f"generation by generation. Lines: mean of {_repeats_phrase(study)}; bands: 95 % "
        "t-intervals of the mean."
    )
    return Plot(f"accuracy-{study.slug}", title, caption, study.name, fig)


#: What each generative design fits the next generation's generator on, for the captions.
REGIME_CORPORA = {
    "accumulate": "on every generation so far (accumulate)",
    "keep-real": "on the written reviews plus a fresh draw of real ones (keep-real)",
    "mixture": "on all the real reviews plus λ times as many written ones (mixture)",
    "replace": "on the previous generation alone (replace)",
}


def diversity_plot(study: Study) -> Plot | None:
    """Diversity of the written reviews per generation: a panel per metric, a curve per regime."""
    present = [p for p in DIVERSITY_PANELS if has_values(study.data, p[0])]
    if not present:
        return None
    fig = regime_panels(study, present, cols=2 if len(present) > 1 else 1, row_height=2.8,
                        title_size=9.5)  # fmt: skip
    title = f"{study.name}: diversity of the written reviews"
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    caption = (
        "How varied each generation's reviews are. Distinct-1 and distinct-2: distinct words "
        "and word pairs as a share of all written; vocabulary: distinct words written; "
        "perplexity: how improbable the real test reviews are under that generation's "
        "generator (higher: the generator has forgotten real text). Generation 0 is the real "
        "reviews. Collapse shows as falling diversity and rising perplexity. Lines: mean of "
        f"{_repeats_phrase(study)}; bands: 95 % t-intervals of the mean."
    )
    return Plot(f"diversity-{study.slug}", title, caption, study.name, fig)


def regime_panels(
    study: Study,
    present: list[tuple[str, str, float | None]],
    *,
    cols: int,
    row_height: float,
    title_size: float,
) -> Figure:
    """A panel per (column, title, scale) of ``present``, a mean curve with its band per regime,
    by generation (x shared only: the panels' units differ)."""
    data = study.data.assign(regime=study.data["regime"].astype(str))
    regimes = sorted(data["regime"].unique())
    colours = ordered_colours(regimes)
    rows = math.ceil(len(present) / cols)
    fig = Figure(figsize=(3.6 * cols + 0.4, row_height * rows + 1.0), layout="constrained")
    axes = list(fig.subplots(rows, cols, sharex=True, squeeze=False).ravel())
    for ax in axes[len(present) :]:
        ax.set_visible(False)
    for ax, (value, label, scale) in zip(axes, present, strict=False):
        for regime, c in generation_curves(data, "regime", value).groupby("regime", sort=True):
            _line_band(ax, c, colours[regime], scale=scale)
        _generation_axis(ax, "Generation")
        ax.set_title(label, loc="left", fontsize=title_size)
        if scale == 100.0:
            _clip_percent(ax)
    handles = [Line2D([], [], color=colours[r], marker="o", label=r) for r in regimes]
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), title="Regime")
    return fig


def generations_plot(study: Study) -> Plot:
    """Per rate: test accuracy of each generation's best model (by validation accuracy)."""
    fig, ax = _standalone()
    best = study.engine.generation_rows(study.data)
    colours = rate_colours(study.rates)
    _rate_bands(ax, generation_curves(best, "rate", "accuracy"), colours)
    _generation_axis(ax, "Generation (0 = trained on human labels only)")
    ax.set_ylabel(ACCURACY_LABEL)
    _clip_percent(ax)
    _rate_colorbar(ax, colours)
    title = f"{study.name}: best accuracy by generation"
    ax.set_title(title, loc="left")
    caption = (
        "Test accuracy of each generation's best model, chosen by validation accuracy as the "
        "search chooses parents, one curve per rate: the share of each generation's fresh "
        "sample that its parents label instead of humans (colour bar). Each search stops once "
        "no child beats its parent, so later generations average fewer repeats. Lines: mean "
        "over the repeats that reached the generation; bands: 95 % t-intervals of the mean."
    )
    return Plot(f"generations-{study.slug}", title, caption, study.name, fig)


def _generation_series(study: Study) -> tuple[str, pd.DataFrame, dict]:
    """The column that names a generational study's curves (the last of its engine's
    ``series``), the rows its per-generation figures show, and a colour per curve."""
    column = study.engine.series[-1]
    data = study.engine.generation_rows(study.data)
    if column == "rate":
        return column, data, rate_colours(sorted(data["rate"].dropna().unique().tolist()))
    data = data.assign(**{column: data[column].astype(str)})
    return column, data, ordered_colours(sorted(data[column].unique()))


def _series_key(fig: Figure, axes: Sequence[Axes], column: str, colours: dict) -> None:
    """A colour bar for rates; else a legend titled by the column (below several panels)."""
    if column == "rate":
        _rate_colorbar(axes[0] if len(axes) == 1 else list(axes), colours)
        return
    handles = [Line2D([], [], color=c, marker="o", label=str(v)) for v, c in colours.items()]
    title = column.replace("_", " ").capitalize()
    if len(axes) == 1:
        axes[0].legend(handles=handles, loc="best", title=title)
    else:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), title=title)


def generation_curves_plot(study: Study) -> Plot:
    """Test accuracy per generation, one curve per series: any generational kind's view."""
    fig, ax = _standalone()
    column, data, colours = _generation_series(study)
    for key, c in generation_curves(data, column, "accuracy").groupby(column, sort=True):
        _line_band(ax, c, colours[key])
    _generation_axis(ax, "Generation (0 = the first model)")
    ax.set_ylabel(ACCURACY_LABEL)
    _clip_percent(ax)
    _series_key(fig, [ax], column, colours)
    title = f"{study.name}: accuracy by generation"
    ax.set_title(title, loc="left")
    caption = (
        f"Test accuracy of each generation's model, one curve per {column.replace('_', ' ')}. "
        f"Lines: mean of the {_repeats_phrase(study)} that reached the generation; bands: 95 % "
        "t-intervals of the mean."
    )
    return Plot(f"accuracy-{study.slug}", title, caption, study.name, fig)


def generation_calibration_plot(study: Study) -> Plot | None:
    """ECE and Brier score per generation, one curve per series; None without their values."""
    present = [p for p in CALIBRATION_PANELS if has_values(study.data, p[0])]
    if not present:
        return None
    column, data, colours = _generation_series(study)
    fig = Figure(figsize=(STANDALONE_SIZE[0], 3.0 * len(present) + 0.6), layout="constrained")
    axes = list(fig.subplots(len(present), 1, sharex=True, squeeze=False)[:, 0])
    for ax, (value, ylabel, scale) in zip(axes, present, strict=True):
        for key, c in generation_curves(data, column, value).groupby(column, sort=True):
            _line_band(ax, c, colours[key], scale=scale)
        _generation_axis(ax, "Generation")
        ax.set_ylabel(ylabel)
        low, high = ax.get_ylim()
        # Both scores lie in [0, 1]; the bands of a few repeats reach far beyond.
        ax.set_ylim(max(low, 0.0), min(high, scale))
    for ax in axes[:-1]:
        ax.set_xlabel("")
    _series_key(fig, axes, column, colours)
    title = f"{study.name}: calibration by generation"
    axes[0].set_title(title, loc="left")
    caption = (
        "How well the confidence of each generation's model matches its accuracy on the "
        f"held-out test reviews, one curve per {column.replace('_', ' ')}, for the models of the "
        f"accuracy-by-generation figure. {_calibration_words(study)} Lower is better for both; "
        "a model trained on its predecessors' output "
        "tends to grow overconfident. Lines: mean of the repeats that reached the generation; "
        "bands: 95 % t-intervals."
    )
    return Plot(f"calibration-{study.slug}", title, caption, study.name, fig)


# --- new metrics and loop designs ---------------------------------------------------------
# Runs from before the loop designs lack these columns (or hold only NaN): their figures are
# skipped, so the report of an old run is exactly what it was.

ARM_COLOURS = {"accuracy_gold": REFERENCE_COLOUR, "accuracy_real_only": OKABE_ITO[1]}
MAX_PANELS = 6


def has_values(data: pd.DataFrame, *columns: str) -> bool:
    """Every column is present with at least one number."""
    return all(c in data.columns and bool(data[c].notna().any()) for c in columns)


def draw_rate_metric(
    ax: Axes, study: Study, value: str, ylabel: str, scale: float = 100.0, zero: bool = True
) -> dict[float, str]:
    """Mean of ``value`` with CI band per rate (rate 0 left out unless ``zero``)."""
    colours = rate_colours(study.rates)
    data = study.data.dropna(subset=[value])
    if not zero:
        data = data.loc[~np.isclose(data["rate"], 0.0)]
        colours = {r: c for r, c in colours.items() if r != 0.0}
    _rate_bands(ax, curves(data, ["rate"], value), colours, scale)
    size_axis(ax)
    ax.set_ylabel(ylabel)
    return colours


CALIBRATION_PANELS = (
    ("ece", "Expected calibration error (%)", 100.0),
    ("brier", "Brier score", 1.0),
)


def _calibration_words(study: Study) -> str:
    """ECE and Brier as the run's classes make them."""
    if study.multiclass:
        return (
            "ECE: the gap between confidence (the probability of the predicted class) and "
            "accuracy, averaged over 20 confidence bins; Brier score: the squared error of the "
            f"predicted probabilities summed over the {study.classes.k} classes "
            f"({', '.join(study.classes.names)}; range 0–2)."
        )
    positive = study.classes.predicted_phrase()
    of = "positive class" if study.classes.polarity else f"class {positive}"
    return (
        "ECE: the gap between confidence and accuracy, averaged over 10 confidence bins; Brier "
        f"score: mean squared error of the predicted probability of the {of}."
    )


def calibration_plot(study: Study) -> Plot | None:
    panels = CALIBRATION_PANELS
    caption = (
        "How well the model's confidence matches its accuracy on the test reviews, one curve "
        f"per rate. {_calibration_words(study)} Lower is better for both. Self-labelling trains "
        "the model on its own confident "
        f"guesses, which tends to make it overconfident. Lines: mean of {_repeats_phrase(study)}; "
        "bands: 95 % t-intervals."
    )
    return _metric_panels(study, "calibration", "calibration", panels, caption)


def balance_plot(study: Study) -> Plot | None:
    panels = [
        ("balanced_accuracy", "Balanced accuracy (%)", 100.0),
        ("macro_f1", "Macro-F1 (%)", 100.0),
    ]
    k, names = study.classes.k, ", ".join(study.classes.names)
    if study.multiclass:
        each = f"the recall on each of the {k} classes: {names}"
        f1 = f"the {k} classes' F1"
    elif study.classes.polarity:
        each, f1 = "the accuracy on positive and on negative reviews", "the two classes' F1"
    else:
        each, f1 = f"the accuracy on each class ({names})", "the two classes' F1"
    caption = (
        f"Balanced accuracy (mean of {each}) and macro-F1 (mean of {f1}) on the test reviews, "
        "one curve per rate. Unlike accuracy they fall to "
        f"{100 / k:.0f} % (or below) when the model predicts one class for everything, "
        "so they separate a drift towards one class from a loss of skill. Lines: mean of "
        f"{_repeats_phrase(study)}; bands: 95 % t-intervals."
    )
    return _metric_panels(study, "balance", "class-balanced scores", panels, caption)


def model_labels_plot(study: Study) -> Plot | None:
    """Quality and quantity of model labels; needs ``model_labelled_share`` (newer runs)."""
    if not has_values(study.data, "model_label_accuracy", "model_labelled_share"):
        return None
    if not (~np.isclose(study.data["rate"], 0.0)).any():
        return None
    panels = [
        ("model_label_accuracy", "Model labels that are correct (%)", 100.0),
        ("model_labelled_share", "Training rows with a model label (%)", 100.0),
    ]
    caption = (
        "Top: accuracy of the labels the model gave each step's added reviews (checked against "
        "their true labels), one curve per rate above 0 %. Bottom: share of the rows the model "
        "was fitted on that carry a model's label, which grows with every batch (and stays "
        "bounded under the replace regimes). Their product is the share of wrong labels the "
        f"next model learns from. Lines: mean of {_repeats_phrase(study)}; bands: 95 % "
        "t-intervals."
    )
    return _metric_panels(study, "model-labels", "model labels", panels, caption, zero=False)


def arms_plot(study: Study) -> Plot | None:
    """Per rate: the loop's accuracy against the same rows with true labels and human rows only."""
    data = study.data
    if not (has_values(data, "accuracy_gold", "accuracy_real_only") and "arms" in data):
        return None
    data = data.loc[data["arms"].fillna(False).astype(bool)]
    rates = _pick(sorted(r for r in data["rate"].dropna().unique() if not np.isclose(r, 0.0)))
    if not rates:
        return None
    fig, axes = _grid(len(rates))
    arms = [
        ("accuracy", SINGLE_COLOUR, "-", "as trained (model labels included)"),
        ("accuracy_gold", ARM_COLOURS["accuracy_gold"], "--", "gold: same rows, true labels"),
        ("accuracy_real_only", ARM_COLOURS["accuracy_real_only"], "-", "real only: human rows"),
    ]
    for ax, rate in zip(axes, rates, strict=False):
        part = data.loc[np.isclose(data["rate"], rate)]
        for value, colour, ls, _label in arms:
            c = curves(part.dropna(subset=[value]), [], value)
            _line_band(ax, c, colour, ls=ls, marker=None)
        size_axis(ax)
        ax.set_title(f"rate {format_rate(rate)}", loc="left")
    _label_grid(axes, ACCURACY_LABEL)
    handles = [Line2D([], [], color=c, ls=ls, label=label) for _v, c, ls, label in arms]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    title = f"{study.name}: what the model labels cost"
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    caption = (
        "Test accuracy of three models fitted at every step, one panel per rate above 0 % "
        f"({_shown_rates(rates, study)}). Blue: the loop's model, trained with the model labels; "
        "dashed black: the same rows with their true labels (the gold arm: what the labels "
        "cost); orange: only the human-labelled rows (the real-only arm: whether the model "
        "labels help at all, compared with leaving those rows out). Lines: mean of "
        f"{_repeats_phrase(study)}; bands: 95 % t-intervals."
    )
    return Plot(f"arms-{study.slug}", title, caption, study.name, fig)


def design_plots(
    studies: Sequence[Study], seed_groups: Mapping[str, str] | None = None
) -> Iterator[Plot]:
    """One figure per seed group whose rate studies differ in loop design; when designs only
    differ between seed groups, one figure for all rate studies (curves not paired)."""
    frames = [s.data for s in studies if s.is_rates]
    if not frames:
        return
    data = with_seed_groups(pd.concat(frames, ignore_index=True), seed_groups)
    data = data.loc[data["rate"].notna()]  # kinds without a rate have no panel to go in
    if data.empty or not design_columns(data):
        return
    blocks = [(name, block) for name, block in data.groupby(GROUP, sort=False)]
    several = [(name, block) for name, block in blocks if design_columns(block)]
    if several:
        for name, block in several:
            yield design_plot(str(name), block, seed_groups, paired=True)
    else:
        yield design_plot("rate studies", data, seed_groups, paired=False)


def design_plot(
    name: str, data: pd.DataFrame, seed_groups: Mapping[str, str] | None, paired: bool
) -> Plot:
    """Accuracy per loop design, one panel per rate the designs share."""
    columns = design_columns(data)
    order = experiment_order(data, seed_groups)
    firsts = data.drop_duplicates("experiment").set_index("experiment").loc[order, columns]
    designs = list(dict.fromkeys(tuple(row) for row in firsts.itertuples(index=False)))
    # Named by their studies, with only the options that differ from the reference design:
    # the full option list would not fit a legend.
    studies_of = {d: [e for e in order if tuple(firsts.loc[e]) == d] for d in designs}
    reference = dict(zip(columns, designs[0], strict=True))

    def label(design: tuple) -> str:
        names = "/".join(str(e) for e in studies_of[design])
        if design == designs[0]:
            return f"{names} (reference)"
        diff = {
            k: v for k, v in zip(columns, design, strict=True) if not _same((v,), (reference[k],))
        }
        return f"{names}: {expression(diff)}" if diff else names

    labels = {d: label(d) for d in designs}
    colours = {designs[0]: REFERENCE_COLOUR} | ordered_colours(designs[1:])
    per_rate = data.groupby("rate")[columns].apply(lambda f: len(f.drop_duplicates()))
    rates = _pick(sorted(per_rate.index[per_rate > 1])) or _pick(sorted(data["rate"].unique()))
    fig, axes = _grid(len(rates))
    n_repeats = int(data["repeat"].nunique())
    for ax, rate in zip(axes, rates, strict=False):
        part = data.loc[np.isclose(data["rate"], rate)]
        table = curves(part, columns)
        for key, c in table.groupby(columns, sort=False, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            design = next(d for d in designs if _same(d, key))
            ls = "--" if design == designs[0] else "-"
            _line_band(ax, c, colours[design], ls=ls, marker=None)
        size_axis(ax)
        ax.set_title(f"rate {format_rate(rate)}", loc="left")
    _label_grid(axes, ACCURACY_LABEL)
    handles = [
        Line2D([], [], color=colours[d], ls="--" if i == 0 else "-", label=labels[d])
        for i, d in enumerate(designs)
    ]
    # Side by side only while the labels fit the figure's width; else one design per line.
    wide = sum(0.07 * len(h.get_label()) + 0.6 for h in handles) > fig.get_figwidth()  # inches
    fig.legend(handles=handles, loc="outside lower center", ncol=1 if wide else len(handles))
    title = f"{name}: loop designs at matched rate"
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    pairing = (
        "The designs share each repeat's test set, initial sample and order of additions, so "
        "the Statistics section tests their differences pair by pair."
        if paired
        else "The designs are in different seed groups, so their curves are not paired."
    )
    window = " (window=-1: the first training size)" if "window" in columns else ""
    caption = (
        f"Test accuracy against training-set size for each loop design ({', '.join(columns)} "
        f"differ), one panel per model-labelled rate shared by the designs. Dashed black: the "
        f"first listed design, {labels[designs[0]]}{window}. "
        f"Lines: mean of {n_repeats} repeats; bands: "
        f"95 % t-intervals. {pairing}"
    )
    return Plot(f"designs-{_slugify(name)}", title, caption, "Loop designs", fig)


def _metric_panels(
    study: Study,
    stem: str,
    what: str,
    panels: Sequence[tuple[str, str, float]],
    caption: str,
    zero: bool = True,
) -> Plot | None:
    """Stacked panels sharing the size axis, one per metric present, one colour bar."""
    present = [p for p in panels if has_values(study.data, p[0])]
    if not present:
        return None
    height = STANDALONE_SIZE[1] if len(present) == 1 else 3.0 * len(present)
    fig = Figure(figsize=(STANDALONE_SIZE[0], height), layout="constrained")
    axes = fig.subplots(len(present), 1, sharex=True, squeeze=False)[:, 0]
    colours: dict[float, str] = {}
    for ax, (value, ylabel, scale) in zip(axes, present, strict=True):
        colours = draw_rate_metric(ax, study, value, ylabel, scale, zero=zero)
    for ax in axes[:-1]:
        ax.set_xlabel("")
    _rate_colorbar(list(axes), colours)
    title = f"{study.name}: {what}"
    axes[0].set_title(title, loc="left")
    return Plot(f"{stem}-{study.slug}", title, caption, study.name, fig)


def _grid(n: int) -> tuple[Figure, list[Axes]]:
    """Small multiples sharing both axes, up to 3 columns; labels go on the outer panels."""
    cols = _grid_columns(n)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(3.4 * cols + 0.4, 2.7 * rows + 1.0), layout="constrained")
    axes = list(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _grid_columns(n: int) -> int:
    return n if n <= 3 else 2 if n == 4 else 3


def _label_grid(axes: Sequence[Axes], ylabel: str) -> None:
    """Call after plotting: the y label once per row, the x label once per column."""
    cols = _grid_columns(len(axes))
    for i, ax in enumerate(axes):
        ax.set_ylabel(ylabel if i % cols == 0 else "")
        if i < len(axes) - cols:
            ax.set_xlabel("")
        else:  # the bottom panel of its column, though perhaps not in the bottom row
            ax.tick_params(labelbottom=True)


def _pick(rates: Sequence[float], most: int = MAX_PANELS) -> list[float]:
    """At most ``most`` rates, evenly spread, the smallest and the largest kept."""
    rates = list(rates)
    if len(rates) <= most:
        return rates
    return [rates[i] for i in np.unique(np.round(np.linspace(0, len(rates) - 1, most)).astype(int))]


def _shown_rates(rates: Sequence[float], study: Study) -> str:
    shown = ", ".join(format_rate(r) for r in rates)
    n_all = sum(1 for r in study.rates if r > 0)
    return shown if len(rates) == n_all else f"{shown}; {len(rates)} of {n_all} rates shown"


def _same(design: tuple[object, ...], key: tuple[object, ...]) -> bool:
    return all(a == b or (pd.isna(a) and pd.isna(b)) for a, b in zip(design, key, strict=True))


# --- helpers ------------------------------------------------------------------------------


def _dashboard_panels(studies: Sequence[Study]) -> list[tuple[str, Study | None]]:
    """At most six (panel, study) pairs: the first study of each kind that is not compared by
    rate (in the kinds' registration order), the rate studies, then final accuracy (None)."""
    panels: list[tuple[str, Study | None]] = []
    for kind, engine in ENGINES.items():
        if engine.compares_rates or not engine.overview_panel:
            continue
        study = next((s for s in studies if s.kind == kind), None)
        if study is not None:
            panels.append((engine.overview_panel, study))
    rate_studies = [s for s in studies if s.is_rates]
    room = 6 - len(panels) - (1 if rate_studies else 0)
    panels += [(s.engine.overview_panel, s) for s in rate_studies if s.engine.overview_panel][:room]
    if rate_studies:
        panels.append(("final", None))
    return panels


def _repeat_spread_panel(ax: Axes, study: Study) -> str:
    ax.legend(handles=draw_learning_curve(ax, study)[:2], loc="lower right")
    return _heading(study, "learning curve")


def _start_curves_panel(ax: Axes, study: Study) -> str:
    _legend(ax, draw_total_collapse(ax, study), fontsize=7.5)
    return _heading(study, "total collapse")


def _rate_curves_panel(ax: Axes, study: Study) -> str:
    _rate_colorbar(ax, draw_rates(ax, study), compact=True)
    return study.name


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
    scale: float = 100.0,
) -> None:
    x = c["x"].to_numpy(float)
    ax.fill_between(
        x, c["ci_low"] * scale, c["ci_high"] * scale, color=colour, alpha=alpha, lw=0, zorder=2
    )
    ax.plot(x, c["mean"] * scale, color=colour, ls=ls, marker=marker, zorder=3)


def _rate_bands(
    ax: Axes, table: pd.DataFrame, colours: dict[float, str], scale: float = 100.0
) -> None:
    """One mean line with CI band per rate of a :func:`curves` table."""
    alpha = BAND_ALPHA if len(colours) <= 6 else BAND_ALPHA / 2  # many bands turn to mud
    for rate, c in table.groupby("rate", sort=True):
        marker = "o" if len(c) <= 25 else None
        _line_band(ax, c, colours[float(rate)], marker=marker, alpha=alpha, scale=scale)


def _accuracy_axes(ax: Axes) -> None:
    size_axis(ax)
    ax.set_ylabel(ACCURACY_LABEL)


def _rate_colorbar(
    ax: Axes | Sequence[Axes], colours: dict[float, str], compact: bool = False
) -> None:
    """Discrete colour bar: one swatch per rate, evenly spaced like the colours themselves.

    Given several axes (stacked panels), one bar spans them all.
    """
    if not colours:
        return
    rates = list(colours)
    n = len(rates)
    cmap = ListedColormap(list(colours.values()))
    norm = BoundaryNorm(np.arange(n + 1), cmap.N)
    fig = (ax if isinstance(ax, Axes) else ax[0]).get_figure()
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


# --- what an engine's ``figures`` and ``overview_panel`` name ------------------------------

#: One study's figures by name: a function of the study that returns the figure, or None
#: when the study lacks what it needs. A kind lists the names of its own in ``Engine.figures``;
#: a figure of your own is one function registered here (docs/extending.md, "A study kind").
FIGURES: Registry[Callable[[Study], Plot | None]] = Registry("figures", "report figure", "figures")
#: Overview dashboard panels by name: draw the study on the axes, return the panel's label.
PANELS: Registry[Callable[[Axes, Study], str]] = Registry(
    "panels", "dashboard panel", "overview_panel"
)

for _name, _figure in (
    ("rate-curves", rate_curves_plot),
    ("repeat-spread", repeat_spread_plot),
    ("start-curves", start_curves_plot),
    ("difference", difference_plot),
    ("positive-rate", positive_rate_plot),
    ("calibration", calibration_plot),
    ("balance", balance_plot),
    ("model-labels", model_labels_plot),
    ("arms", arms_plot),
    ("generation-curves", generation_curves_plot),
    ("best-by-generation", generations_plot),
    ("regime-curves", regime_curves_plot),
    ("diversity", diversity_plot),
    ("generation-calibration", generation_calibration_plot),
):
    FIGURES.register(_name, _figure)
for _name, _panel in (
    ("rate-curves", _rate_curves_panel),
    ("repeat-spread", _repeat_spread_panel),
    ("start-curves", _start_curves_panel),
):
    PANELS.register(_name, _panel)

# The generative study's text figures register themselves on import (after FIGURES exists).
import modelcollapse.report.generative_figures  # noqa: E402, F401
from modelcollapse.report import label_figures  # noqa: E402, F401  (registers "label-errors")
