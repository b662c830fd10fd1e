"""A worker that holds more memory after a task than after its first is kept, not replaced as
leaking (loky's check), so the fits it keeps for other trajectories stay (#15)."""

from __future__ import annotations

import os
import sys
import time
import warnings

import cloudpickle
import numpy as np

from modelcollapse.run.executors import LocalExecutor

# Worker processes cannot import the tests folder: send this module by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def grows(item: int) -> tuple[int, int]:
    """This worker's pid and how many of these calls it has run, this one included. Its
    second call keeps 360 MB (more than loky's 300 MB leak threshold) and outlasts loky's
    1 s between checks, as a worker keeping a large fit does."""
    calls = getattr(sys, "_modelcollapse_test_calls", 0) + 1
    sys._modelcollapse_test_calls = calls  # sys: the same module in every call of the process
    if calls == 2:
        sys._modelcollapse_test_ballast = np.ones(45_000_000)  # written: resident
    time.sleep(1.2)
    return os.getpid(), calls


def test_a_worker_holding_memory_is_not_replaced():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outcomes = dict(LocalExecutor(jobs=2).map_unordered(grows, range(8)))
    calls = {pid: max(n for p, n in outcomes.values() if p == pid) for pid, _ in outcomes.values()}
    # Replaced workers would each run at most 2 calls (a new process for the third) and be
    # more than 2: 8 calls on 2 workers that live through the run are 3 or more on one of them.
    assert len(calls) <= 2, calls
    assert max(calls.values()) >= 3, calls
    assert sum(calls.values()) >= 8
    assert not [w for w in caught if "worker stopped" in str(w.message)]
