"""One self-contained HTML page: inline CSS, figures as base64 PNG, no scripts, no requests.

It must open from an e-mail attachment or an air-gapped machine exactly as it did on the
machine that wrote it, so nothing is fetched and nothing depends on the files next to it.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from modelcollapse.compare import equivalence_label
from modelcollapse.engines import GenerationalEngine
from modelcollapse.formatting import (
    MISSING,
    format_interval,
    format_mean_ci,
    format_number,
    format_p,
    format_percent,
)
from modelcollapse.report.figures import Study
from modelcollapse.report.load import StoredRun
from modelcollapse.report.style import format_size
from modelcollapse.report.tables import StatisticsTable
from modelcollapse.results import classes_of

CSS = """
:root { color-scheme: light; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  color: #1a1a1a; background: #fff; margin: 0 auto; padding: 1.5rem 2rem 4rem; max-width: 1180px; }
h1 { font-size: 1.7rem; margin: 0.2rem 0 0.3rem; }
h2 { font-size: 1.3rem; margin-top: 2.6rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; }
.sub { color: #555; margin: 0 0 1rem; }
nav ul { columns: 2; padding-left: 1.2rem; margin: .3rem 0; }
figure { margin: 1.2rem 0 2rem; break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #333; max-width: 60rem; margin-top: .4rem; }
figcaption .file { color: #666; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
table { border-collapse: collapse; font-size: .86rem; margin: .4rem 0 1rem; }
th, td { border: 1px solid #d6d6d6; padding: .25rem .55rem; text-align: left; vertical-align: top; }
thead th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { background: #fafafa; font-weight: 600; white-space: nowrap; }
table.kv table.kv { margin: 0; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: .8rem 1rem; overflow-x: auto;
  font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", monospace; }
.note { background: #fff8e1; border-left: 4px solid #E69F00; padding: .4rem .8rem;
  margin: .5rem 0; }
.muted { color: #777; }
.wide { overflow-x: auto; }
@media print { body { max-width: none; padding: 0; } h2 { break-before: page; } }
"""


@dataclass(frozen=True)
class Embedded:
    """A saved figure and the PNG bytes that go into the page."""

    stem: str
    file_name: str
    title: str
    caption: str
    section: str
    png: bytes
    width_px: int  # CSS pixels at the figure's physical size


def render_html(
    run: StoredRun,
    studies: Sequence[Study],
    figures: Sequence[Embedded],
    tables: dict[str, pd.DataFrame],
    notes: Sequence[str],
    statistics: Sequence[StatisticsTable] = (),
    margin: float = 0.005,
    answers: str = "",
    theory: str = "",
) -> str:
    """The whole page as a string; ``answers`` (an HTML section) first, then ``theory`` (the
    "Theory beside the data" section), ``statistics`` (tests at ±``margin``) after the
    summaries."""
    results = run.results
    title = f"Model collapse report: {run.run_dir.name}"
    sections = ["Overview", *(s.name for s in studies)]
    sections += list(dict.fromkeys(f.section for f in figures if f.section not in sections))
    anchors = {name: f"sec-{i}" for i, name in enumerate(sections)}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">{escape(_facts(run))}</p>',
        _headline(run),
        "<nav><strong>Contents</strong><ul>",
        *(['<li><a href="#answers">Answers</a></li>'] if answers else []),
        *(['<li><a href="#theory">Theory beside the data</a></li>'] if theory else []),
        '<li><a href="#summary">Summary tables</a></li>',
        '<li><a href="#statistics">Statistics</a></li>',
        *(
            f'<li><a href="#{anchors[s]}">{escape(s)}</a></li>'
            for s in sections
            if any(f.section == s for f in figures)
        ),
        '<li><a href="#config">Resolved config</a></li>',
        '<li><a href="#manifest">Manifest</a></li>',
        "</ul></nav>",
        *(f'<p class="note">{escape(n)}</p>' for n in notes),
        answers,
        theory,
        '<h2 id="summary">Summary tables</h2>',
        "<p>Accuracy on the held-out test reviews in %, mean across repeats with the 95 % "
        "t-interval of the mean in brackets. Δ is the paired difference to rate 0 % at the last "
        "step (percentage points), computed within each repeat (in total collapse: to the "
        "no-collapse curve at the same training size). First/last: the trajectory's "
        "first fit (human labels only) and its final fit.</p>",
    ]
    for study in studies:
        kind = (
            ""
            if study.name == study.kind
            else f" <span class='muted'>({escape(study.kind)})</span>"
        )
        parts.append(f"<h3>{escape(study.name)}{kind}</h3>")
        parts.append(_summary_html(study, tables[study.slug]))
    parts.append(_statistics_html(statistics, margin))
    number = 0
    for section in sections:
        in_section = [f for f in figures if f.section == section]
        if not in_section:
            continue
        parts.append(f'<h2 id="{anchors[section]}">{escape(section)}</h2>')
        for fig in in_section:
            number += 1
            parts.append(_figure_html(fig, number))
    parts.append('<h2 id="config">Resolved config</h2>')
    if run.config_text is None:
        parts.append('<p class="muted">config.toml is missing from the run directory.</p>')
    else:
        parts.append(f"<pre>{escape(run.config_text)}</pre>")
    parts.append('<h2 id="manifest">Manifest</h2>')
    if run.manifest is None:
        parts.append('<p class="muted">manifest.json is missing or unreadable.</p>')
    else:
        parts.append(_value_html(run.manifest))
    parts.append(
        f'<p class="muted">{len(results):,} result rows from {run.n_files} files, '
        f"{results['trajectory'].nunique()} trajectories. Generated by modelcollapse from the "
        "stored results only; nothing was recomputed.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def _facts(run: StoredRun) -> str:
    m = run.manifest or {}
    bits = [str(run.run_dir)]
    if "created" in m:
        bits.append(f"created {m['created']}")
    versions = m.get("versions")
    if isinstance(versions, dict) and "modelcollapse" in versions:
        bits.append(f"modelcollapse {versions['modelcollapse']}")
    return " · ".join(bits)


def _headline(run: StoredRun) -> str:
    m = run.manifest or {}
    rows = []
    if "command" in m:
        rows.append(("Command", f"<code>{escape(str(m['command']))}</code>"))
    data = m.get("data")
    if isinstance(data, dict):
        source = ", ".join(f"{k}: {data[k]}" for k in ("source", "rows") if k in data)
        if source:
            rows.append(("Data", escape(source)))
    rows.append(("Classes", escape(classes_of(run.results).listed())))
    r = run.results
    rows.append(
        (
            "Results",
            escape(
                f"{r['experiment'].nunique()} experiments, {r['trajectory'].nunique()} "
                f"trajectories, {r['repeat'].nunique()} repeats, {len(r):,} steps"
            ),
        )
    )
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _summary_html(study: Study, table: pd.DataFrame) -> str:
    if study.is_generational:
        return _generational_summary_html(study, table)
    show_start = study.engine.start_in_series or table["initial_size"].nunique() > 1
    show_diff = not np.isclose(table["rate"], 0.0).all()  # a learning curve has nothing to pair
    head = ["Start size"] if show_start else []
    head += ["Rate", "Repeats", "Training size", "Accuracy, first", "Accuracy, last"]
    head += ["Δ vs 0 %, last"] if show_diff else []
    metrics = _metric_columns(table)
    head += [f"{SUMMARY_METRIC_HEADINGS.get(m, m)}, last" for m in metrics]
    rows = []
    for r in table.itertuples(index=False):
        cells = [format_size(r.initial_size)] if show_start else []
        cells += [
            format_percent(r.rate),
            str(int(r.n)),
            f"{format_size(r.first_size)} → {format_size(r.last_size)}",
            format_mean_ci(r.first_mean, r.first_low, r.first_high),
            format_mean_ci(r.last_mean, r.last_low, r.last_high),
        ]
        if show_diff:
            if math.isclose(r.rate, 0.0):
                cells.append("baseline")
            elif pd.isna(r.diff_mean):
                cells.append("no rate-0 partner")
            else:
                cells.append(format_mean_ci(r.diff_mean, r.diff_low, r.diff_high, signed=True))
        cells += _metric_cells(r, metrics)
        rows.append("<tr>" + "".join(f'<td class="num">{escape(c)}</td>' for c in cells) + "</tr>")
    thead = "".join(f"<th>{escape(h)}</th>" for h in head)
    table_html = f"<table><thead><tr>{thead}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return table_html + _metrics_note(metrics)


# Headings of the summary tables' metric columns (Engine.summary_metrics); any other metric an
# engine declares is headed by its column name.
SUMMARY_METRIC_HEADINGS = {
    "balanced_accuracy": "Balanced accuracy",
    "macro_f1": "Macro-F1",
    "pred_tv_distance": "Class-share TV distance",
}


def _metric_columns(table: pd.DataFrame) -> list[str]:
    """The summary metrics the table holds, in the engine's order (tables.summary_table)."""
    return [c.removesuffix("_last_mean") for c in table.columns if c.endswith("_last_mean")]


def _metric_cells(row: Any, metrics: Sequence[str]) -> list[str]:
    values = row._asdict()
    return [
        format_mean_ci(values[f"{m}_last_mean"], values[f"{m}_last_low"], values[f"{m}_last_high"])
        for m in metrics
    ]


def _metrics_note(metrics: Sequence[str]) -> str:
    if not metrics:
        return ""
    return (
        '<p class="muted">At the last model, in %: balanced accuracy (mean recall over the '
        "classes) and macro-F1 (mean F1 over the classes) fall when the model neglects some "
        "classes even where accuracy holds; the class-share TV distance (half the summed "
        "absolute differences between the predicted and the test set's class shares; lower is "
        "better) measures the drift of the predicted class distribution.</p>"
    )


def _generational_summary_html(study: Study, table: pd.DataFrame) -> str:
    """Per series value (regime, rate): accuracy at generation 0 and at the end, and the change,
    under the headings of the kind's ``generational_summary``."""
    engine = study.engine
    words = engine.generational_summary or GenerationalEngine.generational_summary
    assert words is not None
    column = engine.series[-1]
    head = [column.replace("_", " ").capitalize(), *words.headings]
    vocabulary = engine.records("vocabulary_size")
    head += ["Vocabulary written, first → last"] if vocabulary else []
    metrics = _metric_columns(table)
    head += [f"{SUMMARY_METRIC_HEADINGS.get(m, m)}, last" for m in metrics]
    intro = words.intro
    rows = []
    for r in table.itertuples(index=False):
        label = format_percent(float(r.label)) if column == "rate" else str(r.label)
        size = format_size(r.first_size)
        if r.last_size != r.first_size:
            size = f"{size} → {format_size(r.last_size)}"
        cells = [
            label,
            str(int(r.n)),
            format_number(r.last_step, percent=False, digits=3),
            size,
            format_mean_ci(r.first_mean, r.first_low, r.first_high),
            format_mean_ci(r.last_mean, r.last_low, r.last_high),
            format_mean_ci(r.change_mean, r.change_low, r.change_high, signed=True),
        ]
        if vocabulary:
            first, last = r.vocabulary_first, r.vocabulary_last
            cells.append(
                MISSING if pd.isna(first) else f"{format_size(first)} → {format_size(last)}"
            )
        cells += _metric_cells(r, metrics)
        rows.append("<tr>" + "".join(f'<td class="num">{escape(c)}</td>' for c in cells) + "</tr>")
    thead = "".join(f"<th>{escape(h)}</th>" for h in head)
    return (
        f'<p class="muted">{escape(intro)}</p>'
        f"<table><thead><tr>{thead}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + _metrics_note(metrics)
    )


def _statistics_html(statistics: Sequence[StatisticsTable], margin: float) -> str:
    pp = f"{margin * 100:g} pp"
    parts = [
        '<h2 id="statistics">Statistics</h2>',
        "<p>Paired differences in test accuracy at the last step (percentage points), within "
        "each repeat of a seed group: same test set, initial sample, order of additions and "
        "model seeds, so only the rate or loop design differs. Δ: mean over repeats, with the "
        "95 % t-interval and the 95 % percentile-bootstrap interval (repeats resampled). "
        "Wilcoxon: two-sided signed-rank p; t-test: paired t p; Holm: the Wilcoxon p adjusted "
        f"across the rows of the table; TOST: equivalence within ±{pp}; MDE: the smallest "
        "difference a paired t-test on these repeats detects with 80 % power at α = 0.05. "
        "Verdict: worse or better when Holm p &lt; 0.05, equivalent when TOST p &lt; 0.05, "
        "else inconclusive.</p>",
    ]
    if not statistics:
        parts.append(
            '<p class="muted">Nothing to test: no study has rate-0 trajectories to pair with, '
            "and no seed group holds several loop designs.</p>"
        )
    for table in statistics:
        sizes = table.frame["train_size"].unique()
        at = f", at {format_size(sizes[0])} reviews" if len(sizes) == 1 else ""
        parts.append(
            f"<h3>{escape(table.group)} <span class='muted'>against "
            f"<code>{escape(table.baseline)}</code>{escape(at)}</span></h3>"
        )
        parts.append(f'<div class="wide">{_statistics_table_html(table, margin)}</div>')
        notes = sorted({n for n in table.frame["note"] if n})
        parts += [f'<p class="muted">Note: {escape(n)}.</p>' for n in notes]
    return "\n".join(parts)


def _statistics_table_html(table: StatisticsTable, margin: float) -> str:
    one_size = table.frame["train_size"].nunique() == 1  # then the heading gives it
    generation = "generation" in table.frame.columns  # generative: paired by generation
    head = [c.replace("_", " ").capitalize() for c in table.columns]
    head += [] if one_size else ["Training size"]
    head += ["Generation"] if generation else []
    head += ["Pairs", "Baseline (%)", "Δ (pp)", "95 % CI, t", "95 % CI, bootstrap"]
    head += ["Wilcoxon p", "t-test p", "Holm p", "TOST p", "MDE (pp)", "Verdict"]
    equivalent = equivalence_label(margin)
    rows = []
    for r in table.frame.to_dict("records"):
        cells = [_design_cell(c, r[c]) for c in table.columns]
        cells += [] if one_size else [format_size(r["train_size"])]
        cells += [str(int(r["generation"]))] if generation else []
        cells += [
            str(int(r["n_pairs"])),
            format_number(r["baseline_mean"], percent=True),
            format_number(r["mean_diff"], percent=True, signed=True),
            format_interval(r["ci_low_t"], r["ci_high_t"], percent=True),
            format_interval(r["ci_low_boot"], r["ci_high_boot"], percent=True),
            format_p(r["p_wilcoxon"]),
            format_p(r["p_t"]),
            format_p(r["p_holm"]),
            format_p(r["p_tost"]),
            format_number(r["mde"], percent=True),
        ]
        body = "".join(f'<td class="num">{escape(c)}</td>' for c in cells)
        verdict = str(r["verdict"])
        if verdict == equivalent:
            verdict = f"equivalent within ±{margin * 100:g} pp"
        rows.append(f"<tr>{body}<td>{escape(verdict)}</td></tr>")
    thead = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f"<table><thead><tr>{thead}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _design_cell(column: str, value: object) -> str:
    if isinstance(value, float) and value != value:
        return MISSING  # a setting this design does not have (the mixture λ of replace)
    if column == "rate":
        return format_percent(float(value))  # type: ignore[arg-type]
    if column == "initial_size":
        return format_size(float(value))  # type: ignore[arg-type]
    return str(value)


def _figure_html(fig: Embedded, number: int) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    alt = escape(f"{fig.title}. {fig.caption}", quote=True)
    anchor = escape(fig.stem, quote=True)
    return (
        f'<figure id="fig-{anchor}"><h3>Figure {number}. {escape(fig.title)}</h3>'
        f'<img src="data:image/png;base64,{data}" alt="{alt}" style="width:{fig.width_px}px">'
        f"<figcaption>{escape(fig.caption)} "
        f'<span class="file">report/{escape(fig.file_name)}</span></figcaption></figure>'
    )


def _value_html(value: object) -> str:
    """Render any JSON value: objects as nested key/value tables, lists of scalars inline."""
    if isinstance(value, dict):
        if not value:
            return '<span class="muted">{}</span>'
        rows = "".join(
            f"<tr><th>{escape(str(k))}</th><td>{_value_html(v)}</td></tr>" for k, v in value.items()
        )
        return f'<table class="kv">{rows}</table>'
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return escape(", ".join(_scalar(v) for v in value)) or '<span class="muted">[]</span>'
        return "<ol>" + "".join(f"<li>{_value_html(v)}</li>" for v in value) + "</ol>"
    return escape(_scalar(value))


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
