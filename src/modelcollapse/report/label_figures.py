"""Where a labeller's errors fall (issue #16), as a figure of the report: the error rate of its
labels on negated reviews and on the others, per rate, and its confusion.

Registered in :data:`modelcollapse.report.figures.FIGURES` as ``label-errors``; the loop's
kinds name it in their ``figures``. A study gets it only where its run recorded the negation
split (runs that bring a labeller from outside the loop, :mod:`modelcollapse.labelerrors`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from modelcollapse.labelerrors import CAVEAT, has_negation_split, label_error_summary
from modelcollapse.report.figures import FIGURES, Plot, Study, _repeats_phrase


def label_errors_plot(study: Study) -> Plot | None:
    """Left: error rate on negated and other reviews per rate (mean over repeats, 95 %
    t-intervals); right: the confusion of the labels made at the highest rate, pooled."""
    if not has_negation_split(study.data):
        return None
    summary = label_error_summary(study.data)
    if summary.empty:
        return None
    fig = Figure(figsize=(8.0, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(1.6, 1.0))
    x = np.arange(len(summary))
    for offset, column, label, colour in (
        (-0.18, "error_negated", "negated reviews", "#c0392b"),
        (0.18, "error_other", "other reviews", "#7f8c8d"),
    ):
        left.bar(x + offset, 100 * summary[column], width=0.36, label=label, color=colour)
    # The interval is of the gap; drawn on the negated bar, it spans where that bar would sit
    # for the other reviews' error rate plus the gap's interval.
    low = 100 * (summary["error_other"] + summary["gap_low"])
    high = 100 * (summary["error_other"] + summary["gap_high"])
    mid = 100 * summary["error_negated"]
    ok = np.isfinite(low)
    left.errorbar(x[ok] - 0.18, mid[ok], yerr=[mid[ok] - low[ok], high[ok] - mid[ok]],
                  fmt="none", ecolor="black", capsize=3)  # fmt: skip
    left.set_xticks(x, [f"{r:g}" for r in summary["rate"]])
    left.set_xlabel("Rate")
    left.set_ylabel("Labels made that are wrong (%)")
    left.legend(frameon=False, fontsize="small")
    last = study.data.loc[np.isclose(study.data["rate"], summary["rate"].max())]
    k = study.classes.k
    matrix = np.array(
        [[last[f"label_confusion_{t}_{m}"].sum() for m in range(k)] for t in range(k)], dtype=float
    )
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    right.imshow(shares, cmap="Greys", vmin=0, vmax=1)
    right.grid(False)
    for t in range(k):
        for m in range(k):
            colour = "white" if shares[t, m] > 0.5 else "black"
            right.text(m, t, f"{100 * shares[t, m]:.0f} %", ha="center", va="center",
                       color=colour, fontsize="small")  # fmt: skip
    names = [study.classes.name(j) for j in range(k)]
    right.set_xticks(range(k), names, rotation=30, ha="right")
    right.set_yticks(range(k), names)
    right.set_xlabel("Label made")
    right.set_ylabel("Human label")
    right.set_title(f"rate {summary['rate'].max():g}", fontsize="small")
    title = f"{study.name}: where the labeller's errors fall"
    left.set_title(title, loc="left")
    row = summary.iloc[-1]
    caption = (
        f"Left: share of the labels made that disagree with the human label, on negated "
        f"reviews and on the others, per rate (all steps; mean of {_repeats_phrase(study)}); "
        f"whiskers: 95 % t-interval of the gap, placed on the negated bar. At rate "
        f"{row['rate']:g}: {100 * row['error_negated']:.1f} % wrong on negated reviews "
        f"({100 * row['negated_share']:.0f} % of the labels), {100 * row['error_other']:.1f} % "
        f"on the others. Right: the labels made at rate {row['rate']:g}, as shares of each "
        f"human class. {CAVEAT}"
    )
    return Plot(f"label-errors-{study.slug}", title, caption, study.name, fig)


FIGURES.register("label-errors", label_errors_plot)
