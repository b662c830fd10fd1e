"""docs/extending.md's executor, registered from outside the package, runs a study end to end."""

from __future__ import annotations

import pandas as pd
import pytest
from extending_docs import EXTENDING, section_code
from failing_model import failing_model

from modelcollapse.errors import UserError
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.run import EXECUTORS
from modelcollapse.run.executors import describe_backends
from modelcollapse.runner import check_backend, run_experiment

TIMING = ["fit_seconds", "predict_seconds"]


@pytest.fixture
def threads_executor():
    namespace: dict = {}
    exec(compile(section_code("An executor"), str(EXTENDING), "exec"), namespace)
    try:
        yield namespace["ThreadExecutor"]
    finally:
        EXECUTORS.unregister("threads")


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=TIMING).sort_values(["trajectory", "step"], ignore_index=True)


def test_the_documented_executor_runs_a_study(tmp_path, threads_executor, small_config,
                                              small_reviews):  # fmt: skip
    assert EXECUTORS.get("threads") is threads_executor
    assert "threads: --jobs threads of this process" in describe_backends()
    config = apply_overrides(load_config(str(small_config)), data=str(small_reviews))

    threaded = run_experiment(config, tmp_path / "threads", backend="threads", jobs=2)
    local = run_experiment(config, tmp_path / "local").results
    assert threaded.complete and threaded.n_trajectories == 12
    pd.testing.assert_frame_equal(comparable(local), comparable(threaded.results))

    # Failures are recorded through it like through the built-in executors.
    failed = run_experiment(config, tmp_path / "fails", backend="threads", jobs=2,
                            model=failing_model(rows=500))  # fmt: skip
    assert failed.n_failed == 6 and set(failed.results["trajectory"]) <= set(local["trajectory"])

    # Its own options are checked once, by it; options it does not take are refused.
    with pytest.raises(UserError, match=r"^--jobs: must be at least 1, got 0$"):
        check_backend("threads", jobs=0)
    with pytest.raises(
        UserError, match=r"^--scheduler: only used with --backend dask, not threads"
    ):
        check_backend("threads", scheduler="tcp://127.0.0.1:8786")


def test_an_unknown_backend_names_the_registered_ones():
    expected = r"^--backend: unknown executor 'spark' \(expected one of: local, dask"
    with pytest.raises(UserError, match=expected):
        check_backend("spark")
