"""A run directory's metadata (config + manifest) is one step; a damaged one heals or refuses
in one line; the resume hint resumes (#14 items 3 and 10)."""

from __future__ import annotations

import errno
import shlex
import shutil

import pandas as pd
import pytest
from conftest import SMALL_CONFIG

import modelcollapse.store as store_module
from modelcollapse.cli import main
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.runner import run_experiment
from modelcollapse.store import RunStore

TIMING = ["fit_seconds", "predict_seconds"]


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=TIMING).sort_values(["trajectory", "step"], ignore_index=True)


@pytest.fixture(scope="module")
def config_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "small.toml"
    path.write_text(SMALL_CONFIG.replace("repeats = 2", "repeats = 1"))
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory, config_path, small_reviews):
    config = apply_overrides(load_config(str(config_path)), data=str(small_reviews))
    return run_experiment(config, tmp_path_factory.mktemp("runs") / "reference")


def run_argv(config_path, small_reviews, out):
    return ["run", str(config_path), "--data", str(small_reviews), "--out", str(out)]


def messages(captured) -> list[str]:
    return [line for line in captured.err.splitlines() if line.startswith("modelcollapse:")]


@pytest.mark.parametrize(
    ("damage", "problem"),
    [("missing", "was missing"), ("{not json", "was unreadable"), ("[1, 2]", "was not a JSON")],
)
def test_a_run_without_a_readable_manifest_heals_in_one_line(
    tmp_path, capsys, reference, config_path, small_reviews, damage, problem
):
    # Every later run used to raise FileNotFoundError or JSONDecodeError.
    out = tmp_path / "run"
    shutil.copytree(reference.run_dir, out)
    store = RunStore(out)
    store.result_files()[0].unlink()
    if damage == "missing":
        store.manifest_path.unlink()
    else:
        store.manifest_path.write_text(damage)
    assert main(run_argv(config_path, small_reviews, out)) == 0
    lines = messages(capsys.readouterr())
    assert len(lines) == 1
    assert lines[0].startswith(f"modelcollapse: warning: {out}: manifest.json {problem}")
    assert "written again for this run" in lines[0]
    manifest = store.read_manifest()
    assert manifest["n_trajectories"] == 6 and manifest["model"]["name"] == "nb"
    pd.testing.assert_frame_equal(comparable(reference.results), comparable(store.read_results()))
    # Healed for good: the next run says nothing and skips everything.
    assert main(run_argv(config_path, small_reviews, out)) == 0
    captured = capsys.readouterr()
    assert messages(captured) == [] and "resumed: 6 of 6" in captured.out


def test_a_garbled_config_is_refused_in_one_line(tmp_path, capsys, config_path, small_reviews):
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.toml").write_text("name = [")
    assert main(run_argv(config_path, small_reviews, out)) == 2
    lines = messages(capsys.readouterr())
    assert len(lines) == 1 and lines[0].startswith(f"modelcollapse: error: {out}: unreadable")


@pytest.mark.parametrize("fails", ["manifest.json", "config.toml"])
def test_a_crash_while_writing_the_metadata_leaves_a_folder_the_next_run_starts(
    tmp_path, monkeypatch, reference, config_path, small_reviews, fails
):
    real = store_module.atomic_write

    def disk_full(target, content, **kwargs):
        if target.name == fails:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real(target, content, **kwargs)

    monkeypatch.setattr(store_module, "atomic_write", disk_full)
    config = apply_overrides(load_config(str(config_path)), data=str(small_reviews))
    out = tmp_path / "run"
    with pytest.raises(OSError, match="No space left"):
        run_experiment(config, out)
    store = RunStore(out)
    assert not store.exists() and not store.result_files()  # not a run directory yet
    assert store.manifest_path.exists() == (fails == "config.toml")
    monkeypatch.setattr(store_module, "atomic_write", real)
    result = run_experiment(config, out)
    assert result.complete and result.n_skipped == 0
    assert store.read_manifest()["n_trajectories"] == 6
    pd.testing.assert_frame_equal(comparable(reference.results), comparable(result.results))


def test_the_resume_hint_resumes(tmp_path, capsys, reference, config_path, small_reviews):
    # "resume it with 'modelcollapse run base/config.toml'" started a new run in runs/small.
    out = tmp_path / "base"
    shutil.copytree(reference.run_dir, out)
    RunStore(out).result_files()[0].unlink()
    argv = [*run_argv(config_path, small_reviews, out), "--rates", "0,1"]
    assert main(argv) == 2
    (line,) = messages(capsys.readouterr())
    assert "different config" in line
    hint = line.split("resume it with '", 1)[1].split("'", 1)[0]
    words = shlex.split(hint)
    assert words == ["modelcollapse", "run", str(out / "config.toml"), "--out", str(out)]
    monkeypatch_cwd = tmp_path / "elsewhere"
    monkeypatch_cwd.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(monkeypatch_cwd)  # runs/NAME here would be a new run; the hint must not go there
        assert main(words[1:]) == 0
    captured = capsys.readouterr()
    assert "resumed: 5 of 6 trajectories were already stored" in captured.out
    assert not (monkeypatch_cwd / "runs").exists()
    assert len(RunStore(out).result_files()) == 6
