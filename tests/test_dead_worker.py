"""A worker process that dies outright (a segmentation fault in a model, ``os._exit``, the
out-of-memory killer) fails the trajectory it was running, named in one line; the others are
stored (#14)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import cloudpickle
import pytest
from sklearn.naive_bayes import MultinomialNB

from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.models import ModelSpec
from modelcollapse.run.executors import Failure, LocalExecutor
from modelcollapse.runner import run_experiment
from modelcollapse.store import RunStore

# Worker processes cannot import the tests folder: send this module by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class ExitsAt(MultinomialNB):
    """MultinomialNB, except that fitting exactly ``rows`` rows ends the process at once, as
    a crash in native code would: no exception, no clean-up. It waits for a file matching
    ``after`` first (so that the other trajectory has finished and is stored)."""

    def __init__(self, rows: int = 400, after: str = "") -> None:
        super().__init__()
        self.rows = rows
        self.after = after

    def fit(self, X, y, sample_weight=None):
        if X.shape[0] == self.rows:
            folder, pattern = os.path.split(self.after)
            for _ in range(3000):
                if not self.after or list(Path(folder).glob(pattern)):
                    break
                time.sleep(0.01)
            os._exit(3)
        return super().fit(X, y, sample_weight)


def two_die_together(item: int, flags: str) -> int:
    """Item 0 kills its worker while item 1 runs beside it (loky then kills item 1's
    worker too); item 1 finishes when it runs again."""
    flags = Path(flags)
    if item == 0:
        while not (flags / "1").exists():
            time.sleep(0.01)
        os._exit(3)
    if item == 1 and not (flags / "1").exists():
        (flags / "1").touch()
        time.sleep(30)  # until its worker is killed
    return 2 * item


def test_the_item_that_kills_its_worker_fails_and_the_others_finish(tmp_path):
    outcomes = dict(
        LocalExecutor(jobs=2).map_unordered(two_die_together, [0, 1, 2, 3], flags=str(tmp_path))
    )
    assert outcomes.keys() == {0, 1, 2, 3}
    failure = outcomes.pop(0)
    assert isinstance(failure, Failure) and failure.error_type == "WorkerDied"
    assert "worker process running it died (exit code EXIT(3))" in failure.message
    assert "TerminatedWorkerError" in failure.traceback
    assert outcomes == {1: 2, 2: 4, 3: 6}  # item 1 was killed beside it, and ran again


CONFIG = """
name = "dies"
model = "nb"
tokenizer = "fast"

[[study]]
name = "small"
kind = "rates"
initial_size = 100
increment = 100
max_size = 300
rates = [1.0]
test_size = "rest"
repeats = 1

[[study]]
name = "large"
kind = "rates"
initial_size = 100
increment = 100
max_size = 400
rates = [0.0]
test_size = "rest"
repeats = 1
"""


def test_a_run_names_the_trajectory_whose_worker_died(tmp_path, small_reviews, capsys):
    from modelcollapse.cli import _report_failures

    (tmp_path / "dies.toml").write_text(CONFIG)
    config = apply_overrides(load_config(str(tmp_path / "dies.toml")), data=str(small_reviews))
    after = str(tmp_path / "run" / "results" / "small*.parquet")
    model = ModelSpec.from_estimator(ExitsAt(400, after), "exits")
    result = run_experiment(config, tmp_path / "run", jobs=2, model=model)
    (key,) = result.failures  # only "large" fits 400 rows
    assert key.startswith("large/")
    store = RunStore(tmp_path / "run")
    stored = {"small/start=100/rate=1/repeat=0"}  # finished beside it: kept
    assert store.done_keys() == set(result.results["trajectory"]) == stored
    assert store.failure_path(key).is_file()
    _report_failures(result)
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"modelcollapse: error: trajectory {key} failed: WorkerDied: the worker process running "
        "it died (exit code EXIT(3)): a crash in native code such as a segmentation fault, "
        f"os._exit, or the out-of-memory killer (traceback: {store.failure_path(key)})"
    ]


@pytest.fixture(autouse=True)
def _no_stray_marks(tmp_path, monkeypatch):
    """The in-flight marks go to a folder of the test's own."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    yield
    assert not list(tmp_path.glob("modelcollapse-running-*"))
