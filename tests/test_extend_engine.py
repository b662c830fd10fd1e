"""Cost of extension: a study kind from outside the package is one engine plus a preset.

The engine and the preset are the example of docs/extending.md ("A study kind"), executed here
so the docs cannot rot: registered, run end to end through the library and the CLI, read by
compare and report, then unregistered.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from extending_docs import section_blocks

from modelcollapse.cli import main
from modelcollapse.engines import ENGINES, GenerationalEngine
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import PRESETS, apply_overrides, load_config, validate_config
from modelcollapse.experiments.plan import build_plan, fitted_rows
from modelcollapse.report.figures import FIGURES, split_studies
from modelcollapse.runner import run_experiment


@pytest.fixture
def bootstrap_kind(tmp_path):
    blocks = {lang: section_blocks("A study kind", lang)[0] for lang in ("python", "toml")}
    (tmp_path / "bootstrap-demo.toml").write_text(blocks["toml"], encoding="utf-8")
    module = tmp_path / "my_engine.py"
    namespace = {"__file__": str(module), "__name__": "my_engine"}
    try:
        exec(compile(blocks["python"], str(module), "exec"), namespace)
        yield namespace["BootstrapEngine"]
    finally:
        ENGINES.unregister("bootstrap")
        PRESETS.unregister("bootstrap-demo")
        if "resamples" in FIGURES:
            FIGURES.unregister("resamples")


def test_registered_kind_validates_plans_and_runs(bootstrap_kind, tmp_path, capsys, small_reviews):
    config = load_config("bootstrap-demo")
    study = config.study[0]
    assert study.kind == "bootstrap" and study.split == 1 and study.engine.has_size_grid
    # Its settings are its own: another kind refuses them, it refuses another kind's.
    with pytest.raises(UserError, match="split does not apply to kind = 'rates'"):
        validate_config({"study": [{**study.model_dump(), "kind": "rates"}]}, "t")
    with pytest.raises(UserError, match="population does not apply to kind = 'bootstrap'"):
        validate_config({"study": [{**study.model_dump(), "population": 3}]}, "t")
    with pytest.raises(UserError, match=r"\[study\.0\.split\] Input should be greater"):
        validate_config({"study": [{**study.model_dump(), "split": -1}]}, "t")

    plan = build_plan(config, 4000)
    assert [t.key for t in plan[:2]] == ["bootstrap/start=200/rate=0/repeat=0",
                                         "bootstrap/start=200/rate=1/repeat=0"]  # fmt: skip
    assert len({t.setting("split_seed") for t in plan}) == 1  # one split for every repeat
    assert len({t.seed for t in plan}) == 3 and fitted_rows(plan[0]) == 200 + 400 + 600

    # On 1,500 reviews rather than the demo corpus: seconds, not a minute.
    result = run_experiment(apply_overrides(config, data=str(small_reviews)), tmp_path / "lib")
    results = result.results
    assert len(results) == 3 * 2 * 3 and (results["kind"] == "bootstrap").all()
    assert results["split_seed"].nunique() == 1
    # One test set for every repeat; the resamples differ, so the rate-0 curves do too.
    assert results["n_test"].nunique() == 1
    rate0 = results.loc[results["rate"] == 0]
    rate0 = rate0.pivot(index="step", columns="repeat", values="accuracy")
    assert not np.allclose(rate0[0], rate0[1]) or not np.allclose(rate0[1], rate0[2])

    # The CLI: the preset by name, its listing, then compare and report on the run.
    out = tmp_path / "cli"
    capsys.readouterr()
    assert main(["run", "bootstrap-demo", "--out", str(out), "--data", str(small_reviews)]) == 0
    stored = pd.concat(pd.read_parquet(p) for p in sorted((out / "results").glob("*.parquet")))
    assert sorted(stored["trajectory"].unique()) == sorted(results["trajectory"].unique())
    # Its run summary: a row per series (its engine's `series`), mean accuracy at the last step.
    summary = capsys.readouterr().out
    assert "bootstrap-demo: mean test accuracy" in summary
    rows = [line.split() for line in summary.splitlines() if line.split()[:1] == ["bootstrap"]]
    last = stored.loc[stored.groupby("trajectory")["step"].idxmax()]
    expected = last.groupby("rate")["accuracy"].mean()
    assert [(r[1], r[2], r[3], r[6]) for r in rows] == [("200", "0", "3", "600"),
                                                        ("200", "1", "3", "600")]  # fmt: skip
    assert [float(r[7]) for r in rows] == pytest.approx(expected.to_list(), abs=5e-5)
    assert main(["presets"]) == 0
    assert "bootstrap-demo" in capsys.readouterr().out
    assert main(["compare", str(out)]) == 0
    assert "rate" in capsys.readouterr().out
    assert main(["report", str(out), "--format", "svg"]) == 0  # svg: faster than png
    # The report from the engine's defaults (a rate study's figures) plus its own figure.
    stems = {p.stem for p in (out / "report").glob("*.svg")}
    assert {"accuracy-bootstrap", "difference-bootstrap", "positive-rate-bootstrap",
            "calibration-bootstrap", "final-accuracy", "resamples-bootstrap"} <= stems  # fmt: skip
    html = (out / "report" / "report.html").read_text(encoding="utf-8")
    assert "<h3>bootstrap <span class='muted'>(bootstrap)</span></h3>" not in html  # name = kind
    assert '<h2 id="sec-1">bootstrap</h2>' in html
    assert "bootstrap: one curve per resample" in html and "report/resamples-bootstrap.svg" in html
    # The summary table pairs each rate with rate 0 at the last step, as for a rate study.
    summary = html[html.index('<h2 id="summary">') : html.index('<h2 id="statistics">')]
    assert "<th>Δ vs 0 %, last</th>" in summary and "baseline" in summary
    # One line per resample in each rate's panel: the figure draws what the data hold.
    study = next(s for s in split_studies(stored) if s.kind == "bootstrap")
    plot = FIGURES.get("resamples")(study)
    for ax, (rate, part) in zip(plot.figure.axes, stored.groupby("rate"), strict=True):
        assert ax.get_title(loc="left") == f"rate {rate:g}"
        lines = sorted(tuple(line.get_ydata()) for line in ax.get_lines())
        curves = part.sort_values("step").groupby("repeat")["accuracy"]
        assert lines == pytest.approx(sorted(tuple(c.to_numpy() * 100) for _r, c in curves))


class _Walk(GenerationalEngine):
    """A generational kind known to the summaries only by what its engine declares."""

    name = "walk"
    series = ("experiment", "rate")
    position = "step"


def _walk_results() -> pd.DataFrame:
    rows = [
        {"experiment": "w", "kind": "walk", "trajectory": f"w/rate={rate}/repeat={repeat}",
         "repeat": repeat, "initial_size": 50, "rate": rate, "step": step,
         "train_size": 50 * (step + 1), "accuracy": 0.8 - rate * step / 10 - repeat / 100}
        for rate in (0.0, 0.5) for repeat in (0, 1) for step in range(3)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_a_new_generational_kind_gets_a_summary_and_compare_rows():
    from rich.console import Console

    from modelcollapse.cli import summary_tables
    from modelcollapse.compare import POSITION, comparable_rows
    from modelcollapse.results import series_summary

    ENGINES.register("walk", _Walk())
    try:
        results = _walk_results()
        summary = series_summary(results).set_index("series")
        assert list(summary.index) == ["rate=0", "rate=0.5"]
        assert summary.loc["rate=0.5", "last_accuracy"] == pytest.approx(0.7 - 0.005)
        assert summary.loc["rate=0.5", "last_step"] == 2 and summary.loc["rate=0", "repeats"] == 2
        tables = summary_tables(results, "walks")
        assert [t.title for t in tables] == ["walks: mean test accuracy by generation"]
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(tables[0])
        lines = [line.split() for line in console.export_text().splitlines()]
        assert ["w", "rate=0.5", "2", "0.7950", "2", "150", "0.6950"] in lines
        # compare pairs its steps by its engine's position (the step), not the training size
        paired = comparable_rows(results)
        assert (paired[POSITION] == paired["step"]).all()
    finally:
        ENGINES.unregister("walk")


def test_unregistered_kind_is_refused(bootstrap_kind):
    ENGINES.unregister("bootstrap")
    with pytest.raises(UserError, match=r"\[study\.0\.kind\] unknown study kind 'bootstrap'"):
        load_config("bootstrap-demo")


def test_unknown_kind_names_the_registered_ones():
    with pytest.raises(UserError, match="expected one of: learning-curve, total-collapse, rates"):
        validate_config({"study": [{"name": "s", "kind": "nope", "repeats": 1}]}, "t")
