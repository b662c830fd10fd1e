"""The ``dask`` executor: the workers of a running dask.distributed scheduler.

distributed is imported when the executor connects, with an error that names the extra to
install, so the rest of the package never needs it.
"""

from __future__ import annotations

import ctypes
import os
import platform
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelcollapse.errors import UserError
from modelcollapse.run.executors import EXECUTORS, BaseExecutor, Failure, R, T, attempt

if TYPE_CHECKING:
    from distributed import Client

DASK_CONNECT_TIMEOUT = 10  # seconds: a wrong address should fail fast, not hang the run


@EXECUTORS.register("dask")
class DaskExecutor(BaseExecutor):
    """The workers of the Dask scheduler at ``scheduler`` (an address, or a connected
    ``Client``, used as is and left open). The workers set the parallelism."""

    name = "dask"
    options = frozenset({"scheduler"})
    summary = "the workers of a running Dask scheduler (--scheduler)"

    def __init__(self, scheduler: str | Client | None = None) -> None:
        if scheduler is None:
            raise UserError(
                "the dask backend needs a scheduler address, e.g. tcp://127.0.0.1:8786",
                "--scheduler",
            )
        self.scheduler = scheduler
        self.client: Client | None = None
        self._owned = False
        self._shared: list[Any] = []  # scattered copies, released on close

    def open(self) -> None:
        distributed = _import_distributed()
        if isinstance(self.scheduler, distributed.Client):
            self.client, self._owned = self.scheduler, False
        else:
            self.client, self._owned = _connect(distributed, self.scheduler), True
        try:
            _check_workers(self.client)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.client is not None:
            if self._shared:
                self.client.cancel(self._shared)
                self._shared = []
            if self._owned:
                self.client.close()
            self.client = None

    def share(self, value: Any, path: Path | None) -> Any:
        """``path`` if every worker can read it, else one copy broadcast to every worker.

        Workers on this machine or on a shared filesystem memory-map the cached matrix
        (nothing is sent); elsewhere it is scattered once to every worker. Workers that join
        later are assumed to see what the current ones see.
        """
        assert self.client is not None, "share() inside 'with executor:'"
        if path is not None and all(self.client.run(_sees, str(path)).values()):
            return path
        copy = self.client.scatter(value, broadcast=True)
        self._shared.append(copy)
        return copy

    def map_unordered(
        self, fn: Callable[..., R], items: Sequence[T], /, **shared: Any
    ) -> Iterator[tuple[T, R | Failure]]:
        if not items:
            return
        with self:
            distributed = _import_distributed()
            client = self.client
            assert client is not None
            # Keys unique per call: the scheduler would hand back another run's result
            # for a key it still holds (say, the same trajectory with another seed).
            run_id = f"{getattr(fn, '__name__', 'task').strip('_')}-{uuid.uuid4().hex[:8]}"
            pending = {}
            for i, item in enumerate(items):
                label = getattr(item, "key", i)
                future = client.submit(_on_worker, fn, item, shared, key=f"{run_id}-{label}")
                pending[future.key] = future
            try:
                done = distributed.as_completed(
                    list(pending.values()), loop=client.loop, with_results=True
                )  # loop: our client is not the default one
                for future, result in done:
                    del pending[future.key]  # frees the worker's copy of the result
                    yield result
            finally:  # an error or a closed generator: drop unfinished work
                client.cancel(list(pending.values()))


def _import_distributed() -> Any:
    try:
        import distributed
        import distributed.comm
    except ImportError:
        raise UserError(
            "the dask backend needs the 'dask' extra: pip install 'modelcollapse[dask]'",
            "--backend",
        ) from None
    return distributed


def _connect(distributed: Any, scheduler: str) -> Client:
    try:
        # Parse first: a Client built on a malformed address fails, then spews when collected.
        address = distributed.comm.resolve_address(scheduler)
        _check_answers(address, DASK_CONNECT_TIMEOUT)
        return distributed.Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError) as exc:  # OSError covers timeouts and unknown hosts
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(
            f"cannot connect to a Dask scheduler at '{scheduler}' ({reason})", "--scheduler"
        ) from None


def _check_answers(address: str, timeout: float) -> None:
    """Raise ``TimeoutError`` unless a ``tcp://`` address answers within ``timeout`` seconds.

    A Dask server sends its handshake as soon as it accepts a connection; ``Client`` waits
    for it with no deadline, so a port that accepts and stays silent (another service, a
    stuck scheduler) hung the run for minutes despite the connect timeout.
    """
    import socket

    from distributed.comm import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme != "tcp":  # tls waits for the client to speak first; inproc/ucx are not sockets
        return
    host, port = parse_host_port(location)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return  # refused or unreachable: Client says so in its own words, within its timeout
    with sock:
        try:
            sock.settimeout(timeout)
            answered = sock.recv(1)
        except TimeoutError:
            raise TimeoutError(
                f"it accepts connections but did not answer within {timeout:g} s; is it a Dask "
                "scheduler?"
            ) from None
    if not answered:
        raise ConnectionError("it closed the connection without answering")


def _check_workers(client: Client) -> None:
    """Refuse workers that cannot import modelcollapse."""

    # Nested, so cloudpickle sends it by value: it runs even where modelcollapse is missing.
    def probe() -> bool:
        import importlib.util

        return importlib.util.find_spec("modelcollapse") is not None

    answers = client.run(probe)
    missing = sorted(worker for worker, found in answers.items() if not found)
    if missing:
        raise UserError(
            f"Dask workers cannot import modelcollapse ({', '.join(missing)}); "
            "install it in the workers' environment",
            "--scheduler",
        )


def _on_worker(fn: Callable[..., R], item: T, shared: dict[str, Any]) -> tuple[T, R | Failure]:
    """:func:`attempt`, on an allocator that keeps large arrays (see
    :func:`restore_malloc_thresholds`)."""
    restore_malloc_thresholds()
    return attempt(fn, item, shared)


# What glibc's dynamic thresholds grow to on 64-bit Linux (DEFAULT_MMAP_THRESHOLD_MAX; trim
# follows at twice the mmap threshold): the allocator of a worker started without a nanny.
MMAP_THRESHOLD = 32 * 2**20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_restored: list[bool] = []  # once per process: [whether the thresholds were set]


def restore_malloc_thresholds() -> bool:
    """Undo, in this process, the fixed mmap threshold a Dask nanny gives its worker; True if
    this call or an earlier one set the thresholds.

    The nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` before the worker starts, and setting any
    of glibc's thresholds switches off its dynamic mmap threshold: every array over 128 KiB is
    then mapped afresh and each of its pages faults in again (runs took 83 % longer,
    docs/benchmarks.md). glibc cannot switch the dynamic threshold back on, but ``mallopt``
    can set both thresholds to the values it would have reached. Only then: a threshold the
    user set (``MALLOC_MMAP_THRESHOLD_``) and other C libraries are left alone.
    """
    if not _restored:
        _restored.append(_fixed_mmap_threshold(os.environ) and _mallopt())
    return _restored[0]


def _mallopt() -> bool:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        set_trim = libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        return bool(set_trim and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):  # no mallopt in this process's C library
        return False


def _sees(path: str) -> bool:
    import os

    return os.path.exists(path)


def _fixed_mmap_threshold(environ: Mapping[str, str]) -> bool:
    """Whether glibc malloc runs with the nanny's fixed, small mmap threshold: the trim
    threshold set, the mmap threshold not (a user who set it chose it)."""
    return "MALLOC_TRIM_THRESHOLD_" in environ and "MALLOC_MMAP_THRESHOLD_" not in environ
