"""The report's "Theory beside the data" section, and reading a run for
``modelcollapse theory`` (the checks themselves are in :mod:`modelcollapse.theory`)."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape
from pathlib import Path

import pandas as pd

from modelcollapse.compare import read_run
from modelcollapse.formatting import format_interval, format_number
from modelcollapse.theory import Theory, theory

_VERDICT_CLASS = {"cannot tell": "muted", "not run": "muted"}


def theory_of_run(run_dir: str | Path, study: str | None = None) -> Theory:
    """:func:`modelcollapse.theory.theory` for a stored run (``study``: one study of it), read
    as ``compare`` reads it."""
    results, groups = read_run(run_dir, study)
    return theory(results, groups)


def report_theory(results: pd.DataFrame, seed_groups: Mapping[str, str] | None) -> Theory:
    return theory(results, dict(seed_groups or {}))


def theory_html(result: Theory) -> str:
    """One table of every check (``not run`` rows included), references, and the notes."""
    parts = [
        '<h2 id="theory">Theory beside the data</h2>',
        "<p>Three published results, each checked where the run has its design: the quantity "
        "compared, its estimate with the 95 % t-interval over repeats, the theory's "
        "prediction and a verdict (<em>holds</em>: the whole interval on the predicted side; "
        "<em>violated</em>: wholly on the other side; <em>cannot tell</em>: it straddles the "
        "prediction). Definitions, tolerances and where this loop departs from each theory's "
        "assumptions: docs/methods.md, “Theory beside the data”.</p>",
    ]
    head = ["Check", "Family", "Repeats", "Quantity", "Estimate", "95 % CI", "Prediction",
            "Verdict", "Note"]  # fmt: skip
    body = []
    for r in result.table.to_dict("records"):
        ci = format_interval(r["low"], r["high"], percent=False, signed=False)
        cells = [r["check"], r["family"], str(r["n_repeats"]), r["quantity"],
                 format_number(r["estimate"], percent=False), ci, r["prediction"]]  # fmt: skip
        word = escape(r["verdict"])
        if r["verdict"] == "violated":
            word = f"<strong>{word}</strong>"
        css = _VERDICT_CLASS.get(r["verdict"])
        verdict = f'<td class="{css}">{word}</td>' if css else f"<td>{word}</td>"
        body.append(
            "<tr>"
            + "".join(f"<td>{escape(c)}</td>" for c in cells)
            + verdict
            + f"<td>{escape(r['note'])}</td></tr>"
        )
    thead = "".join(f"<th>{escape(h)}</th>" for h in head)
    parts.append(
        f'<div class="wide"><table><thead><tr>{thead}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )
    refs = list(dict.fromkeys(result.table["reference"]))
    parts.append("<p><strong>References.</strong></p><ul>")
    parts += [f"<li>{escape(ref)}</li>" for ref in refs]
    parts.append("</ul><p><strong>What these checks cannot tell.</strong></p><ul>")
    parts += [f"<li>{escape(n)}</li>" for n in result.notes]
    parts.append("</ul>")
    return "\n".join(parts)
