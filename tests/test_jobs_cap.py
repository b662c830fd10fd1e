"""--jobs is capped at the work left and at the cores for the warm-up; above the cores it warns
in one line (#14 item 8)."""

from __future__ import annotations

from typing import ClassVar

import joblib
import pytest

import modelcollapse.run.executors as executors
from modelcollapse.errors import ModelCollapseWarning
from modelcollapse.run.executors import LocalExecutor, usable_cores


class Recorder:
    """Stands in for joblib.Parallel: records n_jobs, runs the calls here."""

    calls: ClassVar[list[int]] = []

    def __init__(self, n_jobs, **kwargs):
        Recorder.calls.append(n_jobs)

    def __call__(self, tasks):
        return [fn(*args, **kwargs) for fn, args, kwargs in tasks]


def double(item):
    return 2 * item


@pytest.fixture
def recorder(monkeypatch):
    Recorder.calls = []
    monkeypatch.setattr(joblib, "Parallel", Recorder)
    monkeypatch.setattr(executors, "usable_cores", lambda: 2)
    return Recorder.calls


def test_more_jobs_than_cores_warns_in_one_line(monkeypatch):
    monkeypatch.setattr(executors, "usable_cores", lambda: 2)
    with pytest.warns(ModelCollapseWarning, match=r"--jobs 16 is more than the 2 cores") as seen:
        LocalExecutor(jobs=16)
    assert len(seen) == 1 and "\n" not in str(seen[0].message)
    with executors.warnings.catch_warnings():
        executors.warnings.simplefilter("error")
        LocalExecutor(jobs=2)  # at the core count: no warning


def test_workers_are_capped_at_the_items_left(recorder):
    with pytest.warns(ModelCollapseWarning):
        executor = LocalExecutor(jobs=16)
    outcomes = dict(executor.map_unordered(double, [1, 2, 3]))
    assert outcomes == {1: 2, 2: 4, 3: 6}
    assert recorder == [3]  # not 16
    assert dict(executor.map_unordered(double, [5])) == {5: 10}
    assert dict(executor.map_unordered(double, [])) == {}
    assert recorder == [3]  # one item or none: in this process, no workers at all


def test_the_warm_up_starts_no_more_workers_than_cores(recorder):
    with pytest.warns(ModelCollapseWarning):
        executor = LocalExecutor(jobs=8)
    with executor.warm_up():
        pass
    assert recorder == [2]


def test_usable_cores_is_joblibs_count():
    assert usable_cores() == joblib.cpu_count() >= 1
