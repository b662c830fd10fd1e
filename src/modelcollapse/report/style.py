"""One look for every figure: fonts, palettes and axes that work in print and for colour-blind
readers."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # reports are written headless (CI, servers); never open a window

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from modelcollapse.formatting import format_count as format_size

PRINT_DPI = 300
# Okabe & Ito (2008), black first for the reference curve; yellow last as it is faint on white.
OKABE_ITO = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7", "#F0E442")
CATEGORY_COLOURS = OKABE_ITO[1:]
REFERENCE_COLOUR = OKABE_ITO[0]
RATE_CMAP = "viridis"
BAND_ALPHA = 0.18

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 9,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.which": "major",
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "lines.markersize": 3.5,
    "legend.frameon": False,
    "figure.dpi": 100,
    "savefig.dpi": PRINT_DPI,
    "pdf.fonttype": 42,  # embed TrueType so text in the PDF stays text
    "svg.fonttype": "path",
    "svg.hashsalt": "modelcollapse",  # stable SVG ids: same results, same file
}

SIZE_LABEL = "Training set size (reviews, log scale)"
ACCURACY_LABEL = "Test accuracy (%)"
RATE_LABEL = "Model-labelled share of each added batch (%)"


def rate_colours(rates: Sequence[float]) -> dict[float, str]:
    """Evenly spaced along viridis by rank, so uneven rate grids stay distinguishable.

    The pale yellow end is cut off: it vanishes on white paper.
    """
    ordered = sorted(set(float(r) for r in rates))
    cmap = matplotlib.colormaps[RATE_CMAP]
    points = np.linspace(0.0, 0.88, len(ordered)) if len(ordered) > 1 else [0.0]
    return {r: to_hex(cmap(p)) for r, p in zip(ordered, points, strict=True)}


def category_colour(i: int) -> str:
    return CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]


def ordered_colours(keys: Sequence[object]) -> dict[object, str]:
    """Okabe-Ito while it has enough colours, then cividis: colours must never repeat."""
    keys = list(keys)
    if len(keys) <= len(CATEGORY_COLOURS):
        return {k: c for k, c in zip(keys, CATEGORY_COLOURS, strict=False)}
    cmap = matplotlib.colormaps["cividis"]
    return {k: to_hex(cmap(p)) for k, p in zip(keys, np.linspace(0, 0.9, len(keys)), strict=True)}


def size_axis(ax: Axes, label: str = SIZE_LABEL) -> None:
    """Log x axis with plain-number ticks (readers do not parse 10^3); call after plotting.

    Ticks at 1-2-5 steps over up to two decades; beyond that only powers of ten fit.
    """
    ax.set_xscale("log")
    lo, hi = ax.dataLim.intervalx
    decades = np.log10(hi / lo) if lo > 0 and hi > lo else 0.0
    subs = (1.0, 2.0, 5.0) if decades <= 2.2 else (1.0,)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _size_tick(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(label)


def _size_tick(n: float) -> str:
    """'500', '2,000', '50k': short enough that neighbouring ticks never run together."""
    return f"{n / 1000:,.4g}k" if n >= 10_000 else format_size(n)
