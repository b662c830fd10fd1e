"""Resuming trusts no file name: a stored trajectory proves it belongs, or is set aside (#14).

Each case of issue #14 item 1 damages one finished run directory the way the issue did and
resumes it: the damaged file is moved to ``set-aside/`` (never deleted), one warning names
it, and the table equals the uninterrupted run's.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import warnings

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import SMALL_CONFIG

from modelcollapse.cli import main
from modelcollapse.errors import ModelCollapseWarning
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.runner import run_experiment
from modelcollapse.store import PROVENANCE_KEY, RunStore

TIMING = ["fit_seconds", "predict_seconds"]


def config_for(small_config, small_reviews, **overrides):
    overrides.setdefault("repeats", 1)
    return apply_overrides(load_config(str(small_config)), data=str(small_reviews), **overrides)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=TIMING).sort_values(["trajectory", "step"], ignore_index=True)


def provenance(path) -> dict:
    return json.loads(pq.read_schema(path).metadata[PROVENANCE_KEY])


@pytest.fixture(scope="module")
def _finished_once(tmp_path_factory, small_reviews):
    config_path = tmp_path_factory.mktemp("config") / "small.toml"
    config_path.write_text(SMALL_CONFIG)
    config = config_for(config_path, small_reviews)
    result = run_experiment(config, tmp_path_factory.mktemp("runs") / "finished")
    assert result.n_trajectories == 6 and result.complete
    return config, result


@pytest.fixture
def finished(_finished_once, tmp_path):
    """A finished 6-trajectory run (nb, seed 0), copied for this test, and its config."""
    config, result = _finished_once
    run_dir = tmp_path / "finished"
    shutil.copytree(result.run_dir, run_dir)
    return config, dataclasses.replace(result, run_dir=run_dir)


def resume(config, run_dir, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_experiment(config, run_dir, **kwargs)
    lines = [str(w.message) for w in caught if issubclass(w.category, ModelCollapseWarning)]
    return result, lines


def test_each_file_carries_its_provenance(finished):
    _, result = finished
    store = RunStore(result.run_dir)
    manifest = store.read_manifest()
    for path in store.result_files():
        meta = provenance(path)
        frame = pd.read_parquet(path)
        assert meta["key"] == frame["trajectory"].iloc[0] == path.stem.replace("~", "/")
        assert meta["data_fingerprint"] == manifest["data"]["fingerprint"]
        assert meta["model"] == manifest["model"]["estimator"] == "MultinomialNB()"
        assert meta["rows"] == len(frame) and meta["steps"] == frame["step"].nunique()
        assert len(meta["config_hash"]) == 64
    assert len({provenance(p)["config_hash"] for p in store.result_files()}) == 1
    assert manifest["n_trajectories"] == 6 and manifest["planned"] == {"rates": 3, "collapse": 3}


def _copy_over(store: RunStore) -> str:
    source, target = store.result_files()[:2]
    shutil.copyfile(source, target)
    return target.name


def _foreign(store: RunStore) -> str:
    target = store.result_files()[0]
    pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}).to_parquet(target)
    return target.name


def _foreign_with_our_columns(store: RunStore) -> str:
    # Another run's rows (another seed) under this name: content, not the name, decides.
    target = store.result_files()[0]
    frame = pd.read_parquet(target)
    frame["seed"] += 1
    frame.to_parquet(target)  # pandas writes no provenance
    return target.name


def _sliced(store: RunStore) -> str:
    # Cut to 2 of its steps, provenance kept (pyarrow keeps the schema metadata).
    target = next(p for p in store.result_files() if pq.read_metadata(p).num_rows > 3)
    pq.write_table(pq.read_table(target).slice(0, 2), target)
    assert PROVENANCE_KEY in pq.read_schema(target).metadata
    return target.name


def _cut_by_pandas(store: RunStore) -> str:
    target = next(p for p in store.result_files() if pq.read_metadata(p).num_rows > 3)
    pd.read_parquet(target).iloc[:2].to_parquet(target)
    return target.name


def _garbage(store: RunStore) -> str:
    target = store.result_files()[0]
    target.write_bytes(target.read_bytes()[:300])
    return target.name


def _unplanned(store: RunStore) -> str:
    extra = store.results / "rates~rate=0.25~repeat=9.parquet"
    shutil.copyfile(store.result_files()[0], extra)
    return extra.name


def _provenance_edit(field, value):
    def damage(store: RunStore) -> str:
        target = store.result_files()[0]
        table = pq.read_table(target)
        meta = dict(table.schema.metadata)
        record = json.loads(meta[PROVENANCE_KEY])
        record[field] = value
        meta[PROVENANCE_KEY] = json.dumps(record).encode()
        pq.write_table(table.replace_schema_metadata(meta), target)
        return target.name

    return damage


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_copy_over, "its rows are trajectory "),
        (_foreign, "no trajectory column"),
        (_foreign_with_our_columns, "no provenance, and its seed is not this trajectory's"),
        (_sliced, "incomplete: 2 rows and 2 steps of the "),
        (_cut_by_pandas, "no provenance, and 2 of its "),
        (_garbage, "unreadable"),
        (_unplanned, "not a trajectory of this run's plan"),
        (_provenance_edit("config_hash", "0" * 64), "written for another config"),
        (_provenance_edit("data_fingerprint", "f" * 64), "written on other data"),
        (_provenance_edit("model", "MultinomialNB(alpha=2)"), "written with another model"),
        (_provenance_edit("key", "rates/other"), "written for trajectory rates/other"),
    ],
)
def test_a_file_that_does_not_belong_is_set_aside_and_recomputed(
    tmp_path, finished, damage, reason
):
    config, reference = finished
    run_dir = tmp_path / "damaged"
    shutil.copytree(reference.run_dir, run_dir)
    store = RunStore(run_dir)
    name = damage(store)
    damaged_bytes = (store.results / name).read_bytes()

    result, lines = resume(config, run_dir)

    assert len(result.set_aside) == 1 and len(lines) == 1
    moved = result.set_aside[0]
    assert moved.path.parent.parent == run_dir / "set-aside" and moved.path.name == name
    assert moved.path.read_bytes() == damaged_bytes  # moved, never deleted nor changed
    assert reason in moved.reason
    assert lines[0].startswith(f"results/{name} set aside to set-aside/") and reason in lines[0]
    planned = name != "rates~rate=0.25~repeat=9.parquet"
    assert result.n_skipped == (5 if planned else 6)
    pd.testing.assert_frame_equal(comparable(reference.results), comparable(result.results))
    # The recomputed file proves itself: the next resume trusts everything.
    again, lines = resume(config, run_dir)
    assert again.n_skipped == 6 and not again.set_aside and not lines


def test_a_deleted_config_and_another_model_and_seed_do_not_mix(
    tmp_path, finished, small_config, small_reviews
):
    # The case: config.toml of a finished nb run deleted, then a logreg run with
    # another seed into the same directory said "resumed: 2 of 3" and mixed the two.
    _, nb = finished
    run_dir = nb.run_dir
    (run_dir / "config.toml").unlink()
    logreg = config_for(small_config, small_reviews, model="logreg", seed=7)
    result, lines = resume(logreg, run_dir)
    assert result.n_skipped == 0 and len(result.set_aside) == 6 and len(lines) == 6
    assert all(entry.reason == "written for another config" for entry in result.set_aside)
    assert set(result.results["model"]) == {"logreg"} and set(result.results["seed"]) != set(
        nb.results["seed"]
    )
    store = RunStore(run_dir)
    manifest = store.read_manifest()
    assert manifest["model"]["name"] == "logreg" and store.read_config()["seed"] == 7
    assert sorted(p.name for p in (run_dir / "set-aside").rglob("*.parquet")) == sorted(
        p.name for p in store.result_files()
    )
    reference = run_experiment(logreg, run_dir.parent / "reference").results
    pd.testing.assert_frame_equal(comparable(reference), comparable(result.results))


def test_files_of_an_earlier_version_resume_when_their_rows_prove_them(tmp_path, finished):
    # Written before provenance existed (pandas, no schema metadata): kept when the rows
    # name the trajectory, its seed and the model and hold every planned step.
    config, reference = finished
    run_dir = tmp_path / "old"
    shutil.copytree(reference.run_dir, run_dir)
    store = RunStore(run_dir)
    for path in store.result_files():
        pd.read_parquet(path).to_parquet(path)
        assert PROVENANCE_KEY not in (pq.read_schema(path).metadata or {})
    result, lines = resume(config, run_dir)
    assert result.n_skipped == 6 and not result.set_aside and not lines
    # Without a readable manifest nothing vouches for their data and model: set aside.
    store.manifest_path.write_text("{not json")
    result, lines = resume(config, run_dir)
    assert result.n_skipped == 0 and len(result.set_aside) == 6
    assert lines[0].startswith(f"{run_dir}: manifest.json was unreadable")
    assert all("no readable manifest" in line for line in lines[1:])
    pd.testing.assert_frame_equal(comparable(reference.results), comparable(result.results))


def test_the_cli_says_in_one_line_what_it_set_aside(finished, capsys):
    _, reference = finished
    run_dir = reference.run_dir
    store = RunStore(run_dir)
    name = _copy_over(store)
    config_path = run_dir / "config.toml"
    assert main(["run", str(config_path), "--out", str(run_dir)]) == 0
    err = [x for x in capsys.readouterr().err.splitlines() if x.startswith("modelcollapse:")]
    assert len(err) == 1 and err[0].startswith(f"modelcollapse: warning: results/{name} set aside")
    assert "is computed again" in err[0]


def test_a_copy_is_not_counted_twice_by_compare(finished, capsys):
    # The issue: after copying one file over another, compare used n = 1 without a word.
    config, reference = finished
    run_dir = reference.run_dir
    name = _copy_over(RunStore(run_dir))
    # Before a resume: the copy is left out, with a warning, and the count shows the gap.
    assert main(["compare", str(run_dir)]) == 0
    captured = capsys.readouterr()
    assert f"modelcollapse: warning: {run_dir}: results/{name} left out: its rows are those of" in (
        captured.err
    )
    assert "5 of 6 planned trajectories stored" in captured.out
    # After it: the copy is set aside and recomputed.
    run_experiment(config, run_dir)
    assert main(["compare", str(run_dir)]) == 0
    captured = capsys.readouterr()
    assert "6 of 6 planned trajectories stored" in captured.out and "left out" not in captured.err


def test_a_table_without_provenance_is_still_read(tmp_path, finished):
    # report/compare read any stored results, provenance or not: read_results ignores it.
    _, reference = finished
    run_dir = tmp_path / "old"
    shutil.copytree(reference.run_dir, run_dir)
    for path in RunStore(run_dir).result_files():
        table = pq.read_table(path)
        pq.write_table(table.replace_schema_metadata({}), path)
    frame = RunStore(run_dir).read_results()
    pd.testing.assert_frame_equal(comparable(reference.results), comparable(frame))
