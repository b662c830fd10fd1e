"""A trajectory that raises is recorded, the others are stored, and resuming retries only it."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from failing_model import failing_model

from modelcollapse.cli import main
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.runner import prepare_run, run_experiment
from modelcollapse.store import RunStore

TIMING = ["fit_seconds", "predict_seconds"]


def config_for(small_config, small_reviews, **overrides):
    return apply_overrides(load_config(str(small_config)), data=str(small_reviews), **overrides)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=TIMING).sort_values(["trajectory", "step"], ignore_index=True)


@pytest.mark.parametrize("jobs", [1, 2])
def test_failed_trajectories_are_recorded_and_retried(tmp_path, small_config, small_reviews, jobs):
    config = config_for(small_config, small_reviews)
    fixed = tmp_path / "fixed"  # once it exists, the model fits 500 rows like any other size
    model = failing_model(rows=500, unless=fixed)
    out = tmp_path / "run"

    plan_keys = [t.key for t in prepare_run(config, tmp_path / "unused", model=model).plan]
    result = run_experiment(config, out, jobs=jobs, model=model)

    # Every "rates" trajectory fits 500 rows at its fourth step; the "collapse" ones never do.
    failed = [k for k in plan_keys if k.startswith("rates/")]
    assert list(result.failures) == failed and result.n_failed == 6 and not result.complete
    for failure in result.failures.values():
        assert failure.error_type == "ValueError"
        assert failure.message == "cannot fit 500 rows second line"  # one line
        assert "Traceback" in failure.traceback and "in fit" in failure.traceback
    stored_keys = sorted(k for k in plan_keys if k not in failed)
    assert sorted(result.results["trajectory"].unique()) == stored_keys
    store = RunStore(out)
    assert sorted(store.failures()) == sorted(failed)
    record = json.loads(next(store.errors.glob("*.json")).read_text())
    assert set(record) == {"key", "error_type", "message", "traceback"}
    assert record["key"] in failed and "ValueError: cannot fit 500 rows" in record["traceback"]
    # Readers of the results never see the error records.
    assert pd.read_parquet(out / "results")["trajectory"].nunique() == 6

    # Resume: only the failed trajectories and a missing one run; stored files stay untouched.
    stored = {p.name: p.stat().st_mtime_ns for p in store.result_files()}
    missing = sorted(stored)[0]
    (store.results / missing).unlink()
    fixed.touch()
    resumed = run_experiment(config, out, jobs=jobs, model=model)
    assert resumed.complete and resumed.n_skipped == 5 and resumed.n_retried == 6
    assert store.failures() == {} and not list(store.errors.glob("*"))
    after = {p.name: p.stat().st_mtime_ns for p in store.result_files()}
    assert {k: v for k, v in after.items() if k in stored and k != missing} == {
        k: v for k, v in stored.items() if k != missing
    }
    reference = run_experiment(config, tmp_path / "reference", model=model).results
    pd.testing.assert_frame_equal(comparable(reference), comparable(resumed.results))


@pytest.mark.parametrize("error", ["KeyboardInterrupt", "SystemExit"])
def test_an_interrupt_stops_the_run_and_is_not_recorded(tmp_path, small_config, small_reviews,
                                                        error):  # fmt: skip
    config = config_for(small_config, small_reviews)
    out, fixed = tmp_path / "run", tmp_path / "fixed"
    model = failing_model(rows=500, unless=fixed, error=error)
    with pytest.raises({"KeyboardInterrupt": KeyboardInterrupt, "SystemExit": SystemExit}[error]):
        run_experiment(config, out, model=model)
    store = RunStore(out)
    assert store.failures() == {} and not store.errors.exists()
    assert len(store.result_files()) < 12
    # The lock was released and nothing was marked: the run resumes and completes.
    fixed.touch()
    resumed = run_experiment(config, out, model=model)
    assert resumed.complete and resumed.n_retried == 0
    assert len(store.result_files()) == 12


def test_the_cli_names_each_failed_trajectory_and_exits_1(tmp_path, capsys, monkeypatch,
                                                          small_config, small_reviews):  # fmt: skip
    import modelcollapse.runner as runner

    real = runner.run_trajectory

    def sometimes(traj, *args, **kwargs):
        if traj.repeat == 1 and traj.experiment == "collapse":
            raise RuntimeError(f"no luck for {traj.key}\n(details)")
        return real(traj, *args, **kwargs)

    monkeypatch.setattr(runner, "run_trajectory", sometimes)
    out = tmp_path / "run"
    argv = ["run", str(small_config), "--data", str(small_reviews), "--out", str(out)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("modelcollapse:")]
    failed = sorted(RunStore(out).failures())
    assert len(failed) == 3
    store = RunStore(out)
    assert errors == [
        f"modelcollapse: error: trajectory {key} failed: RuntimeError: no luck for {key} (details)"
        f" (traceback: {store.failure_path(key)})"
        for key in failed
    ]
    assert all(store.failure_path(key).is_file() for key in failed)
    assert "Traceback" not in captured.err + captured.out
    assert f"failed: 3 of 12 trajectories (tracebacks in {out / 'errors'})" in captured.out
    assert "9 of 12 planned trajectories stored (rates: 6 of 6, collapse: 3 of 6); 3 failed" in (
        captured.out
    )
    assert not (out / "report").exists()

    monkeypatch.setattr(runner, "run_trajectory", real)
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "resumed: 9 of 12 trajectories were already stored" in captured.out
    assert "retried: 3 that failed before" in captured.out
    assert RunStore(out).failures() == {}
