"""A partial run says so: read_results counts the trajectories it saw against the plan, and
the run summary, compare and the report print that sentence (#14 item 7)."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import SMALL_CONFIG

from modelcollapse.cli import main
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.report import build_report
from modelcollapse.results import coverage_note, read_results
from modelcollapse.runner import run_experiment
from modelcollapse.store import RunStore


@pytest.fixture(scope="module")
def finished(tmp_path_factory, small_reviews):
    path = tmp_path_factory.mktemp("config") / "small.toml"
    path.write_text(SMALL_CONFIG.replace("repeats = 2", "repeats = 1"))
    config = apply_overrides(load_config(str(path)), data=str(small_reviews))
    return run_experiment(config, tmp_path_factory.mktemp("runs") / "finished").run_dir


@pytest.fixture
def partial(finished, tmp_path):
    """The finished run with 3 of its 6 trajectories left: 2 of "rates", 1 of "collapse";
    one of the missing ones failed (its error record is there)."""
    out = tmp_path / "partial"
    shutil.copytree(finished, out)
    store = RunStore(out)
    files = store.result_files()
    gone = [p for p in files if p.name.startswith("collapse")][:2]
    gone += [p for p in files if p.name.startswith("rates")][:1]
    for path in gone:
        path.unlink()
    store.write_failure(gone[0].stem.replace("~", "/"), {"error_type": "ValueError"})
    return out


def test_a_complete_run_says_it_is_complete(finished):
    assert coverage_note(read_results(finished)) == "6 of 6 planned trajectories stored"


def test_a_partial_run_counts_what_is_missing_and_failed(partial):
    note = coverage_note(read_results(partial))
    command = f"modelcollapse run {partial / 'config.toml'} --out {partial}"
    assert note == (
        "3 of 6 planned trajectories stored (rates: 2 of 3, collapse: 1 of 3); 1 failed "
        f"(records in errors/), 2 not run yet; '{command}' computes them"
    )


def test_without_a_manifest_the_plan_is_unknown(partial):
    (partial / "manifest.json").unlink()
    assert coverage_note(read_results(partial)) == (
        "3 trajectories stored; how many were planned is unknown (manifest.json is missing)"
    )
    (partial / "manifest.json").write_text(json.dumps({"n_trajectories": "x"}))
    assert "how many were planned is unknown" in coverage_note(read_results(partial))


def test_compare_and_the_report_say_how_many_they_saw(partial, capsys):
    assert main(["compare", str(partial)]) == 0
    out = capsys.readouterr().out
    assert "3 of 6 planned trajectories stored (rates: 2 of 3, collapse: 1 of 3)" in out
    html = (build_report(partial)).read_text(encoding="utf-8")
    assert '<p class="note">3 of 6 planned trajectories stored (rates: 2 of 3' in html


def test_the_run_summary_says_how_many_it_stored(partial, capsys, small_reviews):
    # A resumed run stores the rest: its summary counts all of them.
    assert main(["run", str(partial / "config.toml"), "--out", str(partial)]) == 0
    out = capsys.readouterr().out
    assert "6 of 6 planned trajectories stored" in out
    assert "resumed: 3 of 6 trajectories were already stored" in out
