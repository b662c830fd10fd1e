"""The generative study's text figures: perplexity under generation 0 (Shumailov et al. 2024,
Fig. 1), the rank–frequency tail (Dohmatob et al. 2024) and the text measures by generation.

Each is registered in :data:`modelcollapse.report.figures.FIGURES`; an engine names them in
its ``figures``. A study without the columns gets no figure (runs from before these columns).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from modelcollapse.report.figures import (
    FIGURES,
    Plot,
    Study,
    _repeats_phrase,
    has_values,
    regime_panels,
)
from modelcollapse.textmetrics import (
    FREQ_RANKS,
    LOG_PPL_EDGES,
    TAIL_RANK,
    ZIPF_RANKS,
    histogram_columns,
    rank_frequency_columns,
)

TEXT_PANELS = (
    ("ppl_gen0_q50", "Median perplexity under generation 0", 1.0),
    ("perplexity_in_vocab", "In-vocabulary perplexity of real test reviews", 1.0),
    ("js_unigram", "JS divergence to real text, words (bits)", 1.0),
    ("js_bigram", "JS divergence to real text, word pairs (bits)", 1.0),
    ("self_bleu", "Self-BLEU-4 (%)", 100.0),
    ("zipf_slope", f"Zipf slope (ranks {ZIPF_RANKS[0]}–{ZIPF_RANKS[1]})", 1.0),
    ("tail_mass", f"Tail mass (tokens beyond rank {TAIL_RANK:,}, %)", 100.0),
    ("label_consistency", "Label consistency (%)", 100.0),
)


def _by_regime(study: Study) -> tuple[pd.DataFrame, list[str]]:
    data = study.data.assign(regime=study.data["regime"].astype(str))
    return data, sorted(data["regime"].unique())


def _generation_colours(steps: list[int]) -> dict[int, tuple]:
    cmap = colormaps["viridis"]
    top = max(max(steps), 1)
    return {s: cmap(0.9 * s / top) for s in steps}


def _regime_grid(n: int, width: float = 3.6, height: float = 2.8) -> tuple[Figure, list]:
    cols = min(n, 2)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols + 0.6, height * rows + 1.0), layout="constrained")
    axes = list(fig.subplots(rows, cols, sharex=True, sharey=True, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes


def _generation_key(fig: Figure, colours: dict[int, tuple]) -> None:
    handles = [Line2D([], [], color=c, label=str(s)) for s, c in colours.items()]
    fig.legend(handles=handles, loc="outside right center", title="Generation")


def perplexity_histograms_plot(study: Study) -> Plot | None:
    """Per regime: the histogram of per-text perplexity under the generation-0 model, a line
    per generation (mean share over repeats)."""
    columns = histogram_columns()
    if not has_values(study.data, *columns):
        return None
    data, regimes = _by_regime(study)
    steps = sorted(int(s) for s in data["step"].unique())
    colours = _generation_colours(steps)
    centres = np.exp((LOG_PPL_EDGES[:-1] + LOG_PPL_EDGES[1:]) / 2)
    fig, axes = _regime_grid(len(regimes))
    for ax, regime in zip(axes, regimes, strict=False):
        rows = data[data["regime"] == regime]
        for step, group in rows.groupby("step", sort=True):
            ax.plot(centres, group[columns].mean().to_numpy() * 100, color=colours[int(step)])
        ax.set_xscale("log")
        ax.set_title(regime, loc="left", fontsize=9.5)
        ax.set_xlabel("Perplexity under generation 0")
    axes[0].set_ylabel("Texts (%)")
    _generation_key(fig, colours)
    title = f"{study.name}: perplexity of each generation's texts under generation 0"
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    edges = f"{LOG_PPL_EDGES[1] - LOG_PPL_EDGES[0]:g}-nat bins of log-perplexity from 0 to 12"
    caption = (
        "As in Shumailov et al. (2024), Fig. 1: each generation's written reviews scored by the "
        "generation-0 model (trained on the real reviews), one line per generation, the share of "
        f"texts per bin ({edges}; texts beyond are in the end bins). Generation 0 is the real "
        "held-out test reviews. Collapse shows as mass moving to low perplexity (texts the "
        "first model finds likely) and a longer high tail (errors it would never make). Lines: "
        f"mean share over {_repeats_phrase(study)}. A language model's perplexity mixes fluency "
        "with word choice: it cannot say what a reader would find wrong."
    )
    return Plot(f"perplexity-histograms-{study.slug}", title, caption, study.name, fig)


def rank_frequency_plot(study: Study) -> Plot | None:
    """Per regime: relative word frequency against rank (log–log), a line per generation."""
    columns = rank_frequency_columns()
    if not has_values(study.data, columns[0]):
        return None
    data, regimes = _by_regime(study)
    steps = sorted(int(s) for s in data["step"].unique())
    colours = _generation_colours(steps)
    fig, axes = _regime_grid(len(regimes))
    for ax, regime in zip(axes, regimes, strict=False):
        rows = data[data["regime"] == regime]
        for step, group in rows.groupby("step", sort=True):
            # skipna=False: a rank only some repeats reach would show one repeat's value.
            mean = group[columns].mean(skipna=False).to_numpy()
            ax.plot(FREQ_RANKS, mean, color=colours[int(step)], marker=".")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axvline(TAIL_RANK, color="0.6", lw=0.8, ls=":")
        ax.set_title(regime, loc="left", fontsize=9.5)
        ax.set_xlabel("Word rank")
    axes[0].set_ylabel("Relative frequency")
    _generation_key(fig, colours)
    title = f"{study.name}: rank–frequency tail of the written reviews"
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    caption = (
        "Relative frequency of the word at each rank (log–log), one line per generation; "
        "generation 0 is the real held-out test reviews. Dohmatob et al. (2024): a model "
        "trained on its own output loses the tail first, so lines end earlier or fall faster "
        f"past rank {TAIL_RANK:,} (dotted). Lines: mean over {_repeats_phrase(study)}; a line "
        "stops where a generation (in any repeat) has fewer distinct words than the rank. A "
        "word seen once has frequency 1 / tokens, so the far tail shows mostly as lines that end."
    )
    return Plot(f"rank-frequency-{study.slug}", title, caption, study.name, fig)


def text_measures_plot(study: Study) -> Plot | None:
    """The text measures by generation: a panel each, a curve per regime with intervals."""
    present = [p for p in TEXT_PANELS if has_values(study.data, p[0])]
    if not present:
        return None
    fig = regime_panels(study, present, cols=2, row_height=2.5, title_size=9)
    title = f"{study.name}: what the papers measure, by generation"
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold")
    caption = (
        "Each generation's written reviews (generation 0: the real held-out test reviews): "
        "median per-text perplexity under the generation-0 model; the in-vocabulary perplexity "
        "of the real test reviews under that generation's model (out-of-vocabulary tokens left "
        "out, their share reported apart); Jensen–Shannon divergence of word and word-pair "
        "distributions to the real training reviews (a plug-in estimate: two samples of one "
        "source are above 0, and generation 0's test set is smaller); self-BLEU-4 on a fixed "
        "sample of 200 texts; the Zipf slope and tail mass; label consistency: the share of "
        "written texts that a classifier trained on the real test reviews (which no generator "
        "sees) assigns to the class they were written for. Lines: mean of "
        f"{_repeats_phrase(study)}; bands: 95 % t-intervals of the mean."
    )
    return Plot(f"text-measures-{study.slug}", title, caption, study.name, fig)


for _name, _figure in (
    ("perplexity-histograms", perplexity_histograms_plot),
    ("rank-frequency-tail", rank_frequency_plot),
    ("text-measures", text_measures_plot),
):
    FIGURES.register(_name, _figure)
