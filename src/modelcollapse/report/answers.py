"""The report's first section: the answers of :mod:`modelcollapse.answers`, as HTML, and a figure
of the worth of a model label against training size per rate."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape

import pandas as pd
from matplotlib.figure import Figure

from modelcollapse.answers import (
    Answers,
    _ci,
    _dose_text,
    _num,
    answers,
    curve_cells,
    worth_text,
)
from modelcollapse.compare import metric_info
from modelcollapse.errors import UserError
from modelcollapse.formatting import format_p
from modelcollapse.report.figures import Plot
from modelcollapse.report.style import RATE_CMAP


def report_answers(
    results: pd.DataFrame, seed_groups: Mapping[str, str] | None, margin: float
) -> tuple[Answers | None, str]:
    """The answers for accuracy, or None and the reason there are none (no rate studies)."""
    if "rate" not in results.columns or not results["rate"].notna().any():
        return None, "no study of this run has rates"
    try:
        return answers(results, "accuracy", margin, seed_groups=dict(seed_groups or {})), ""
    except UserError as err:
        return None, str(err)


def worth_plot(ans: Answers | None) -> Plot | None:
    """Worth against training size, one line per family and rate, jackknife band; bounds
    (≥/≤) as open triangles. None when no worth was estimated."""
    if ans is None or ans.worth.empty:
        return None
    import matplotlib

    worth = ans.worth
    families = list(dict.fromkeys(worth["family"]))
    fig = Figure(figsize=(6.4, 3.2 * len(families)), layout="constrained")
    axes = fig.subplots(len(families), 1, squeeze=False)[:, 0]
    cmap = matplotlib.colormaps[RATE_CMAP]
    top = float(worth["dose"].max())
    for ax, family in zip(axes, families, strict=True):
        part = worth.loc[worth["family"] == family]
        for dose, rows in part.groupby("dose"):
            colour = cmap(0.85 * float(dose) / top if top else 0.0)
            inside = rows["bound"] == ""
            ax.plot(
                rows["train_size"],
                rows["worth"].where(inside),
                color=colour,
                label=f"{ans.dose} {_dose_text(float(dose))}",
            )
            ax.fill_between(
                rows["train_size"], rows["low"], rows["high"], color=colour, alpha=0.15, linewidth=0
            )
            for sign, marker in (("≥", "^"), ("≤", "v")):
                b = rows.loc[rows["bound"] == sign]
                ax.scatter(
                    b["train_size"],
                    b["worth"],
                    marker=marker,
                    facecolors="none",
                    edgecolors=colour,
                    s=22,
                )
        ax.axhline(1.0, color="#555", linewidth=0.8, linestyle="--")
        ax.axhline(0.0, color="#555", linewidth=0.8)
        # A few model rows at the first sizes make the worth swing widely: keep the scale
        # where a label's worth is read (−3 to 2), cutting those swings off.
        ax.set_ylim(-3.0, 2.0)
        ax.set_xscale("log")
        ax.set_title(family, loc="left")
        ax.set_xlabel("training size (rows drawn)")
        ax.set_ylabel("worth of a model label")
        ax.legend(loc="best", ncols=2)
    return Plot(
        stem="answers-worth",
        title="Worth of a model label against training size",
        caption="1 (dashed): as good as a human label; 0: adds nothing; below 0: harmful. "
        "Lines: estimate; bands: 95 % jackknife interval over repeats; triangles: only a bound "
        "(▲ at least, ▼ at most) because even the interval lies beyond the sizes rate 0 was "
        "measured at. "
        "The axis is cut at −3 and 2: with few model rows (the first sizes) worth swings wider.",
        section="Answers",
        figure=fig,
    )


def answers_html(
    ans: Answers | None, reason: str, figure_png: bytes | None = None, width_px: int = 0
) -> str:
    """The Answers section: trend, tolerable rate, worth, learning curves, what it cannot tell."""
    parts = ['<h2 id="answers">Answers</h2>']
    if ans is None:
        parts.append(f'<p class="muted">No answers: {escape(reason)}.</p>')
        return "\n".join(parts)
    pct = metric_info(ans.metric).percent
    margin = f"±{_num(ans.margin, pct)}{' pp' if pct else ''}"
    parts.append(
        "<p>Test accuracy against the share of model-made labels, paired within seed group "
        "and repeat with rate 0. Definitions and references: docs/methods.md, “Answers”.</p>"
    )
    parts.append("<h3>Does accuracy change with the rate?</h3>")
    rows = [
        [
            r["family"],
            f"{int(r['train_size']):,}",
            str(r["n_repeats"]),
            _num(r["slope"] * 0.1, pct, True),
            _ci(r["low"] * 0.1, r["high"] * 0.1, pct, True),
            format_p(r["p_holm"]),
            _num(r["mde"] * 0.1, pct),
            r["verdict"],
        ]
        for r in ans.trend.to_dict("records")
    ]
    parts.append(
        _table(
            [
                "Family",
                "Size",
                "Repeats",
                "Δ per +0.1 rate (pp)",
                "95 % CI",
                "Holm p",
                "Detectable (pp)",
                "Verdict",
            ],
            rows,
        )
    )
    parts.append(f"<h3>Tolerable rate (effect within {escape(margin)})</h3>")
    rows = []
    for r in ans.tolerable.to_dict("records"):
        top = r["largest_tested"]
        est = f"≥ {top:.3g} (censored)" if r["censored"] else _dose_text(r["estimate"])

        def end(v: float, top: float = top) -> str:
            return f"> {top:.3g}" if v > top else _dose_text(v)

        ci = "–" if pd.isna(r["low"]) else f"[{end(r['low'])}, {end(r['high'])}]"
        rows.append([r["family"], est, ci, f"{top:.3g}"])
    parts.append(_table(["Family", "Tolerable rate", "95 % CI", "Largest tested"], rows))
    if not ans.worth.empty:
        last = ans.worth.groupby(["family", "dose"])["train_size"].transform("max")
        rows = []
        for r in ans.worth.loc[ans.worth["train_size"] == last].to_dict("records"):
            value = worth_text(r["worth"])
            rows.append(
                [
                    r["family"],
                    _dose_text(r["dose"]),
                    f"{int(r['train_size']):,}",
                    f"{r['human_rows']:,.0f}",
                    f"{r['model_rows']:,.0f}",
                    f"{r['bound']} {value}".strip(),
                    _ci(r["low"], r["high"], False),
                ]
            )
        parts.append("<h3>Worth of a model label at the last size</h3>")
        parts.append(
            _table(["Family", "Rate", "Size", "Human rows", "Model rows", "Worth", "95 % CI"], rows)
        )
    if figure_png:
        data = base64.b64encode(figure_png).decode("ascii")
        parts.append(
            f'<figure id="fig-answers-worth"><img src="data:image/png;base64,{data}" '
            f'alt="Worth of a model label against training size" style="width:{width_px}px">'
            "<figcaption>Worth of a model label against training size, per rate: 1 (dashed) as "
            "good as a human label, 0 adds nothing; bands: 95 % jackknife interval; triangles: "
            "bounds; axis cut at −3 and 2. "
            '<span class="file">report/answers-worth.png</span></figcaption></figure>'
        )
    if not ans.curves.empty:
        extra = ans.curves["extrapolate"].iloc[0]
        rows = [
            [r["family"], _dose_text(r["dose"]), *curve_cells(r, pct)]
            for r in ans.curves.to_dict("records")
        ]
        parts.append("<h3>Learning curves: error(n) = a·(n/n₀)<sup>−b</sup> + c</h3>")
        parts.append(
            _table(
                [
                    "Family",
                    "Rate",
                    "Exponent b",
                    "95 % CI",
                    "p vs 0",
                    "Plateau c (%)",
                    "95 % CI",
                    "p vs 0",
                    f"Error at {extra:,.0f} (%)",
                    "95 % CI",
                    "p vs 0",
                ],
                rows,
            )
        )
    parts.append("<p><strong>What these answers cannot tell.</strong></p><ul>")
    parts += [f"<li>{escape(n)}</li>" for n in ans.notes]
    parts.append("</ul>")
    return "\n".join(parts)


def _table(head: list[str], rows: list[list[str]]) -> str:
    thead = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{'' if i == 0 or head[i] == 'Verdict' else ' class=num'}>{escape(str(c))}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    table = f"<table><thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="wide">{table}</div>'
