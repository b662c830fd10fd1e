"""Build ``RUN_DIR/report/``: one file per figure plus a self-contained ``report.html``."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import matplotlib
import numpy as np

from modelcollapse.atomic import atomic_path, clean_stale_temps
from modelcollapse.compare import seed_groups_from_config
from modelcollapse.errors import UserError
from modelcollapse.report.answers import answers_html, report_answers, worth_plot
from modelcollapse.report.figures import Plot, Study, build_plots, split_studies
from modelcollapse.report.html import Embedded, render_html
from modelcollapse.report.load import StoredRun, load_run
from modelcollapse.report.style import PRINT_DPI, RC
from modelcollapse.report.tables import statistics_tables, summary_table
from modelcollapse.report.theory import report_theory, theory_html
from modelcollapse.results import coverage_note, dropped_notes

Format = Literal["png", "svg", "pdf"]
MARGIN = 0.005  # equivalence margin of the Statistics section: half a percentage point
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
EMBED_DPI = 200  # for the page when the files are svg/pdf; crisp on HiDPI screens, half the bytes
# No timestamps in the files: rebuilding from the same results gives the same bytes.
_METADATA: dict[str, dict[str, str | None]] = {
    "png": {"Software": None},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None},
}


def build_report(run_dir: Path, fmt: Format = "png") -> Path:
    """Write figures (``fmt``, 300 dpi for png) and ``report.html`` into ``run_dir/report/``.

    Reads only what the run stored. The previous ``report/`` is replaced as a whole, and only
    once the new one is complete, so a failed build never leaves a half-written report.
    Returns the path of ``report.html``; raises :class:`UserError` if there are no results.
    """
    if fmt not in FORMATS:
        raise UserError(
            f"unknown figure format {fmt!r} (expected png, svg or pdf)", where="--format"
        )
    run_dir = Path(run_dir)
    clean_stale_temps(run_dir)  # what killed report builds left
    run = load_run(run_dir)
    # The old report/ is replaced only once the new one is complete.
    with atomic_path(run_dir / "report") as staging:
        try:
            staging.mkdir()
        except OSError as err:
            raise UserError(f"cannot write the report: {err.strerror}", where=str(run_dir)) from err
        seed_groups = seed_groups_from_config(run.config_text)
        studies = split_studies(run.results, list(seed_groups))
        with matplotlib.rc_context(RC):
            plots = build_plots(studies, seed_groups)
            figures = [_save(plot, staging, fmt) for plot in plots]
            answered, reason = report_answers(run.results, seed_groups, MARGIN)
            worth = worth_plot(answered)
            worth_fig = _save(worth, staging, fmt) if worth is not None else None
        answers = answers_html(
            answered, reason, worth_fig.png if worth_fig else None,
            worth_fig.width_px if worth_fig else 0,
        )  # fmt: skip
        theory = theory_html(report_theory(run.results, seed_groups))
        tables = {s.slug: summary_table(s) for s in studies}
        statistics = statistics_tables(run.results, seed_groups, MARGIN)
        notes = _notes(run, studies)
        html = render_html(
            run, studies, figures, tables, notes, statistics, MARGIN, answers=answers,
            theory=theory,
        )  # fmt: skip
        (staging / "report.html").write_text(html, encoding="utf-8")
    return run_dir / "report" / "report.html"


def _save(plot: Plot, directory: Path, fmt: str) -> Embedded:
    fig = plot.figure
    path = directory / f"{plot.stem}.{fmt}"
    fig.savefig(path, format=fmt, dpi=PRINT_DPI, metadata=_METADATA[fmt])
    if fmt == "png":
        png = path.read_bytes()
    else:
        # Layout is settled by the first save; redoing it costs as much as drawing.
        fig.set_layout_engine("none")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=EMBED_DPI, metadata=_METADATA["png"])
        png = buffer.getvalue()
    width_px = round(fig.get_figwidth() * 96)  # CSS pixels are 1/96 inch: print size on screen
    fig.clear()  # release the artists now; a report can hold dozens of figures
    return Embedded(plot.stem, path.name, plot.title, plot.caption, plot.section, png, width_px)


def _notes(run: StoredRun, studies: list[Study]) -> list[str]:
    """What a reader should know before trusting the numbers."""
    notes = [f"{s}." for s in (coverage_note(run.results), *dropped_notes(run.results)) if s]
    if run.config_error:
        notes.append(f"config.toml does not parse as TOML ({run.config_error}); shown verbatim.")
    if run.manifest_error:
        notes.append(f"manifest.json could not be read ({run.manifest_error}).")
    single = [s.name for s in studies if s.n_repeats < 2]
    if single:
        notes.append(
            "Only one repeat in " + ", ".join(single) + ": no confidence intervals can be given."
        )
    no_base = [s.name for s in studies if s.is_rates and not np.isclose(s.data["rate"], 0.0).any()]
    if no_base:
        notes.append(
            "No rate-0 trajectories in " + ", ".join(no_base) + ": paired differences are omitted."
        )
    return notes
