"""Running a plan: executors (where trajectories run) and the run directory's manifest.

Importing the package registers the built-in executors in :data:`EXECUTORS`.
"""

from modelcollapse.run import dask, executors  # noqa: F401 - they register themselves
from modelcollapse.run.executors import (
    EXECUTORS,
    BaseExecutor,
    Executor,
    Failure,
    make_executor,
)

__all__ = ["EXECUTORS", "BaseExecutor", "Executor", "Failure", "make_executor"]
