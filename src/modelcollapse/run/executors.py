"""Executors: where a run's trajectories execute, behind one small interface.

An executor maps a function over items and yields each ``(item, outcome)`` as it finishes, in
any order; the outcome is the function's return value, or a :class:`Failure` when it raised an
``Exception`` (recorded, and the other items go on). ``KeyboardInterrupt`` and ``SystemExit``
are not failures: they stop the run. Each executor checks its own options once, when built
(:func:`make_executor`), before anything is loaded or written.

Built in: ``local`` (joblib processes on this machine; with one job, this very process, so that
``breakpoint()`` and pdb work inside a trajectory) and ``dask`` (:mod:`modelcollapse.run.dask`).
A new one is a subclass of :class:`BaseExecutor` registered in :data:`EXECUTORS`; see
docs/extending.md.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from modelcollapse.errors import ModelCollapseWarning, UserError, one_line
from modelcollapse.registry import Registry

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Failure:
    """Why one item failed: the exception's type, its message as one line, the traceback."""

    error_type: str
    message: str
    traceback: str

    @classmethod
    def from_exception(cls, exc: BaseException) -> Failure:
        kind = type(exc)
        builtin = kind.__module__ == "builtins"
        name = kind.__qualname__ if builtin else f"{kind.__module__}.{kind.__qualname__}"
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(name, one_line(exc), text)

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.error_type.rsplit('.', 1)[-1]}: {self.message}"


Outcome = Any  # the function's result, or a Failure


@runtime_checkable
class Executor(Protocol):
    """What the runner needs from a backend."""

    name: ClassVar[str]

    def __enter__(self) -> Executor:
        """Connect or start what the executor needs; may be entered more than once."""
        ...

    def __exit__(self, *exc: object) -> None: ...

    def warm_up(self) -> Any:
        """A context manager: start workers while its block runs (e.g. while data loads)."""
        ...

    def share(self, value: Any, path: Path | None) -> Any:
        """A large read-only argument every call gets, as the calls should receive it: its
        ``path`` (the function loads it) where the workers can read that, else ``value``."""
        ...

    def map_unordered(
        self, fn: Callable[..., R], items: Sequence[T], /, **shared: Any
    ) -> Iterator[tuple[T, R | Failure]]:
        """``fn(item, **shared)`` for every item, yielded as each finishes, in any order.

        Items are started in the order given (the runner puts the costliest first). Closing
        the iterator early cancels what has not finished.
        """
        ...


class BaseExecutor:
    """Defaults for an executor: no connection, no warm-up, large arguments sent by path.

    A subclass sets ``name``, ``options`` (the run options it takes besides none: ``jobs``,
    ``scheduler``) and ``summary`` (for ``--backend``'s help), checks them in ``__init__`` and
    implements :meth:`map_unordered`, calling :func:`attempt` for each item.
    """

    name: ClassVar[str] = ""
    options: ClassVar[frozenset[str]] = frozenset()
    summary: ClassVar[str] = ""
    _depth = 0

    @classmethod
    def from_options(cls, **given: Any) -> BaseExecutor:
        """Build from the run's options; one this executor does not use is refused."""
        for option, value in given.items():
            if option not in cls.options and value is not None:
                users = [n for n, c in EXECUTORS.items() if option in getattr(c, "options", ())]
                where = f"only used with --backend {' or '.join(users)}" if users else "not used"
                raise UserError(f"{where}, not {cls.name}", f"--{option}")
        return cls(**{k: v for k, v in given.items() if v is not None})

    def __enter__(self) -> BaseExecutor:
        if self._depth == 0:
            self.open()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.close()

    def open(self) -> None:
        """Connect (entered once however deeply ``with`` blocks nest)."""

    def close(self) -> None:
        """Disconnect; undo :meth:`open`."""

    @contextmanager
    def warm_up(self) -> Iterator[None]:
        yield

    def share(self, value: Any, path: Path | None) -> Any:
        return path if path is not None else value

    def map_unordered(
        self, fn: Callable[..., R], items: Sequence[T], /, **shared: Any
    ) -> Iterator[tuple[T, R | Failure]]:
        raise NotImplementedError


def attempt(fn: Callable[..., R], item: T, shared: dict[str, Any]) -> tuple[T, R | Failure]:
    """``(item, fn(item, **shared))``, or ``(item, Failure)`` if it raised an ``Exception``.

    Runs where the work runs, so the traceback is the worker's own. Only ``Exception`` is
    caught: an interrupt or an exit still stops the run.
    """
    try:
        return item, fn(item, **shared)
    except Exception as exc:
        return item, Failure.from_exception(exc)


EXECUTORS: Registry[type[BaseExecutor]] = Registry("executors", "executor", "--backend")


def make_executor(
    backend: str = "local", *, jobs: int | None = None, scheduler: Any = None
) -> BaseExecutor:
    """The executor ``backend`` (a name in :data:`EXECUTORS`) with the run's options, checked.

    ``jobs=1`` counts as not given: it is every command's default, and one job is what an
    executor that sets its own parallelism does anyway.
    """
    cls = EXECUTORS.get(backend)
    return cls.from_options(jobs=None if jobs == 1 else jobs, scheduler=scheduler)


@EXECUTORS.register("local")
class LocalExecutor(BaseExecutor):
    """``jobs`` joblib worker processes on this machine; with one job, this process."""

    name = "local"
    options = frozenset({"jobs"})
    summary = "--jobs processes on this machine (1: in this process, where pdb works)"

    def __init__(self, jobs: int = 1) -> None:
        if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
            raise UserError(f"must be a whole number of at least 1, got {jobs!r}", "--jobs")
        self.jobs = jobs
        cores = usable_cores()
        if jobs > cores:
            warnings.warn(
                f"--jobs {jobs} is more than the {cores} cores this process may use; the extra "
                "workers only compete for them (and each loads the data)",
                ModelCollapseWarning,
                stacklevel=2,
            )

    def share(self, value: Any, path: Path | None) -> Any:
        # In this process the object is at hand; workers load it once each from the path.
        return value if self.jobs == 1 else super().share(value, path)

    def map_unordered(
        self, fn: Callable[..., R], items: Sequence[T], /, **shared: Any
    ) -> Iterator[tuple[T, R | Failure]]:
        if self.jobs == 1 or len(items) <= 1:
            for item in items:
                yield attempt(fn, item, shared)
            return
        with tempfile.TemporaryDirectory(prefix="modelcollapse-running-") as running:
            yield from _in_workers(self.jobs, fn, items, shared, Path(running))

    @contextmanager
    def warm_up(self) -> Iterator[None]:
        """Start the worker processes while the block runs; wait for them at its end.

        Spawning a worker and importing scikit-learn takes a second or two, which can overlap
        with reading the data and features in this process. joblib keeps its workers for the
        next call, so the run itself reuses them.
        """
        # The work left is not known yet: warm up no more workers than there are cores (a
        # resumed run with nothing left, or --jobs 16 on 2 cores, took 7-14x longer).
        jobs = min(self.jobs, usable_cores())
        if jobs < 2:
            yield
            return
        from joblib import Parallel, delayed

        def start() -> None:
            with suppress(Exception), worker_processes():  # a failure resurfaces in the run
                Parallel(n_jobs=jobs)(delayed(_ready)() for _ in range(jobs))

        thread = threading.Thread(target=start, name="modelcollapse-warm-up", daemon=True)
        thread.start()
        try:
            yield
        finally:  # also on an error: never leave the interpreter exiting mid-spawn
            thread.join()


def _in_workers(
    jobs: int, fn: Callable[..., R], items: Sequence[T], shared: dict[str, Any], running: Path
) -> Iterator[tuple[T, R | Failure]]:
    """:meth:`LocalExecutor.map_unordered` on ``jobs`` joblib workers, surviving the death of
    a worker (a segmentation fault in a model, ``os._exit``, the out-of-memory killer).

    Each task marks itself in ``running`` while it runs. When a worker dies, loky kills the
    other workers too, so every marked item was running: one is the item that killed its
    worker; several run again one at a time, each alone in a worker, to find which. The item
    that kills its worker gets a :class:`Failure`; the others go on.
    """
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    left = dict(enumerate(items))
    suspects: list[int] = []
    while left:
        batch = [suspects.pop(0)] if suspects else list(left)
        # No more workers than items left: each one costs a start and a copy of the data. A
        # lone suspect still goes to a worker: joblib runs n_jobs=1 in this process.
        n_jobs = max(2, min(jobs, len(batch)))
        try:
            with worker_processes():
                results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
                    delayed(_marked)(fn, index, left[index], shared, running) for index in batch
                )
            try:
                for index, (_, outcome) in results:
                    yield left.pop(index), outcome
            finally:  # closing this iterator early cancels the work not finished
                getattr(results, "close", lambda: None)()
        except TerminatedWorkerError as exc:
            dead = sorted(i for i in _marks(running) if i in left)
            if not dead:
                raise UserError(
                    f"a worker process died before it started a trajectory ({_exit_codes(exc)});"
                    " if memory is short, try fewer --jobs"
                ) from None
            if len(dead) > 1:
                suspects = dead
                continue
            yield left.pop(dead[0]), _died(exc)


def _marked(
    fn: Callable[..., R], index: int, item: T, shared: dict[str, Any], running: Path
) -> tuple[int, tuple[T, R | Failure]]:
    """:func:`attempt`, marked in ``running`` while it runs (a killed worker leaves it)."""
    mark = running / str(index)
    mark.write_text(str(os.getpid()))
    try:
        return index, attempt(fn, item, shared)
    finally:
        mark.unlink(missing_ok=True)


def _marks(running: Path) -> list[int]:
    """The items whose workers died while running them; their marks are cleared."""
    found = []
    for mark in running.iterdir():
        found.append(int(mark.name))
        mark.unlink(missing_ok=True)
    return found


def _exit_codes(exc: BaseException) -> str:
    codes = re.search(r"exit codes of the workers are (\{[^}]*\})", str(exc))
    return f"exit code {codes.group(1).strip('{}')}" if codes else "no exit code"


def _died(exc: BaseException) -> Failure:
    return Failure(
        "WorkerDied",
        f"the worker process running it died ({_exit_codes(exc)}): a crash in native code such "
        "as a segmentation fault, os._exit, or the out-of-memory killer",
        "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
    )


def worker_processes() -> Any:
    """joblib's configuration for this package's worker processes: loky workers that exit
    when this process dies and are not replaced for holding memory (see
    :func:`_start_worker`). Every ``Parallel`` of the package runs inside it, so that loky
    reuses one set of workers."""
    from joblib import parallel_config

    return parallel_config(backend="loky", initializer=_start_worker, initargs=(os.getpid(),))


def _start_worker(parent: int) -> None:
    """In a new worker: die with ``parent`` (:func:`_die_with_parent`), and keep the worker
    however much memory it holds between tasks.

    loky replaces a worker whose memory grew by 300 MB since its first task, taking it for a
    leak, and warns "A worker stopped while some jobs were given to the executor". A worker
    of this package grows by design: the fits trajectories share (:mod:`modelcollapse.core.
    reuse`), which a replacement would lose, and the pages of the feature cache it reads (the
    400k-review ``seed-study`` on the Heaps corpus lost 11 workers that way).
    """
    from joblib.externals.loky import process_executor

    # loky reads this module global at each check (joblib 1.6; tests/test_worker_memory.py).
    process_executor._MAX_MEMORY_LEAK_SIZE = math.inf
    _die_with_parent(parent)


def _die_with_parent(parent: int) -> None:
    """In a worker: exit as soon as ``parent`` is no longer this process's parent.

    A SIGKILLed run cannot stop its workers, and loky's keep them (and a resource tracker)
    alive for minutes, at a few hundred MB each. A daemon thread polls the parent pid once a
    second (prctl's PR_SET_PDEATHSIG would follow the thread that spawned the worker, which
    may be a short-lived one, not the process).
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="modelcollapse-parent-watch", daemon=True).start()


def usable_cores() -> int:
    """The cores this process may run on (its affinity and cgroup quota, as joblib counts)."""
    from joblib import cpu_count

    return max(1, cpu_count())


def _ready() -> None:
    """Nothing: unpickling it makes a worker import the package, which it will run."""
    import modelcollapse.runner  # noqa: F401


def describe_backends() -> str:
    """``--backend``'s help: every registered executor and what it does."""
    return "; ".join(f"{name}: {cls.summary}" for name, cls in EXECUTORS.items()) + "."


def ordered(items: Iterable[T], cost: Callable[[T], float]) -> list[T]:
    """Costliest first, so the last to finish are short ones and workers rarely wait for one
    straggler. Seeds come from keys, so the order changes no result."""
    return sorted(items, key=cost, reverse=True)
