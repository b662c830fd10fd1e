"""The report asks the engines what to draw: it names no study kind, and a kind registered from
outside the package (here a generational one, declared in a few lines) gets figures, a summary
table and a calibration-by-generation figure from the defaults, drawing what its data hold."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import modelcollapse.report as report_package
from modelcollapse.engines import ENGINES, GenerationalEngine
from modelcollapse.report import build_report
from modelcollapse.report.figures import FIGURES, PANELS, split_studies


def test_the_report_names_no_study_kind() -> None:
    sources = {p.name: p.read_text(encoding="utf-8")
               for p in Path(report_package.__file__).parent.glob("*.py")}  # fmt: skip
    assert sources
    for kind in ENGINES:
        for quoted in (f'"{kind}"', f"'{kind}'"):
            hits = [name for name, text in sources.items() if quoted in text]
            assert not hits, f"{quoted} in report/{hits}: ask the engine instead"


def test_every_engine_names_registered_figures_and_panels() -> None:
    for kind, engine in ENGINES.items():
        assert engine.figures, kind
        assert all(name in FIGURES for name in engine.figures), kind
        assert engine.overview_panel == "" or engine.overview_panel in PANELS, kind
        # a generational kind's summary table needs its words
        assert (engine.generational_summary is not None) == engine.generational, kind


class _Walk(GenerationalEngine):
    """A generational kind known to the report only by what its engine declares."""

    name = "walk"
    series = ("experiment", "rate")
    position = "step"


def _walk_results() -> pd.DataFrame:
    """Two rates × three repeats × four generations; ECE and Brier move with rate and step."""
    rng = np.random.default_rng(3)
    rows = []
    for rate in (0.0, 0.5):
        for repeat in range(3):
            for step in range(4):
                rows.append(
                    {"experiment": "w", "kind": "walk", "trajectory": f"w/rate={rate}/r={repeat}",
                     "repeat": repeat, "seed": repeat, "model": "nb", "tokenizer": "fast",
                     "initial_size": 50, "rate": rate, "step": step, "train_size": 50,
                     "n_test": 300, "test_positive_rate": 0.5,
                     "accuracy": 0.8 - rate * step / 10 + rng.normal(0, 0.01),
                     "predicted_positive_rate": 0.5,
                     "ece": 0.05 + rate * step / 20 + rng.normal(0, 0.005),
                     "brier": 0.2 + rate * step / 40 + rng.normal(0, 0.005)}
                )  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture
def walk_kind():
    ENGINES.register("walk", _Walk())
    try:
        yield
    finally:
        ENGINES.unregister("walk")


def test_an_outside_generational_kind_gets_a_report_from_the_defaults(walk_kind, tmp_path):
    results = _walk_results()
    (tmp_path / "results").mkdir()
    for key, frame in results.groupby("trajectory"):
        frame.to_parquet(tmp_path / "results" / f"{re.sub(r'[^a-z0-9.=]', '_', key)}.parquet")
    html = build_report(tmp_path, "svg").read_text(encoding="utf-8")
    stems = {p.stem for p in (tmp_path / "report").glob("*.svg")}
    assert stems == {"accuracy-w", "calibration-w"}  # no dashboard: nothing compares rates
    assert '<h2 id="sec-1">w</h2>' in html
    assert "w: accuracy by generation" in html and "w: calibration by generation" in html
    # Its summary table: the rate heads the series column (the last of the engine's series).
    summary = html[html.index('<h2 id="summary">') : html.index('<h2 id="statistics">')]
    assert "<th>Rate</th><th>Repeats</th><th>Generations (mean)</th>" in summary
    last = results.loc[(results["step"] == 3) & (results["rate"] == 0.5), "accuracy"].mean()
    row = re.search(r'<tr><td class="num">50 %</td>.*?</tr>', summary).group(0)
    assert f"{last * 100:.1f} [" in row


def test_calibration_by_generation_draws_the_mean_per_generation(walk_kind):
    results = _walk_results()
    (study,) = split_studies(results)
    plot = FIGURES.get("generation-calibration")(study)
    ece_ax, brier_ax = plot.figure.axes[:2]
    for ax, column, scale in ((ece_ax, "ece", 100.0), (brier_ax, "brier", 1.0)):
        expected = results.groupby(["rate", "step"])[column].mean() * scale
        lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 4]
        assert len(lines) == 2  # one curve per rate
        drawn = sorted(tuple(np.round(line.get_ydata(), 12)) for line in lines)
        want = sorted(tuple(np.round(expected.loc[r].to_numpy(), 12)) for r in (0.0, 0.5))
        assert drawn == want
    assert plot.stem == "calibration-w" and plot.figure.axes[0].get_title(loc="left") == plot.title
    # Without ECE and Brier values there is nothing to draw.
    (bare,) = split_studies(results.assign(ece=np.nan, brier=np.nan))
    assert FIGURES.get("generation-calibration")(bare) is None
