"""Fits that several trajectories repeat, made once per process and reused.

Trajectories of one repeat share their seed, so some of their fits are the same fit: every rate's
first fit (the same rows, all with their true labels, the same model seed), and in
``total-collapse`` each start's first fit is the no-collapse curve's fit at that size. A
:class:`FitMemo` keeps such fits (the fitted model, its vocabulary and its test predictions)
under a content hash of everything the fit and its scores depend on: the data (features, pool
and test rows: :meth:`FitMemo.scope`), the model's definition and seed, the rows, their labels
and weights. A hit therefore returns exactly what fitting again would return; only the
recorded ``fit_seconds`` and ``predict_seconds`` are those of the fit that was kept.

Only the sizes a trajectory shares with others (its engine's ``shared_sizes``) are looked up
and kept, and the memo holds at most ``max_bytes`` (least recently used go first), so a run
holds a few extra models at most. The memo is plain memory: no I/O, no parallelism; each
worker process keeps its own (:func:`process_memo`), so with several workers a shared fit is
made at most once per worker.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FitMemo", "FitScope", "KeptFit", "current_memo", "forget_process_memo", "process_memo",
    "reusing",
]  # fmt: skip

DEFAULT_MAX_BYTES = 2 * 2**30


@dataclass(frozen=True)
class KeptFit:
    """One fit as the loop uses it: the model, its vocabulary, the test predictions (P(positive)
    or class probabilities, and labels) and the seconds the fit and the predictions took."""

    estimator: Any
    vocabulary: Any
    predictions: tuple[np.ndarray, np.ndarray]
    fit_seconds: float
    predict_seconds: float


def digest(*parts: object) -> str:
    """A SHA-256 of arrays (their dtype, shape and bytes) and other values (their repr)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            array = np.ascontiguousarray(part)
            h.update(f"{array.dtype.str}{array.shape}".encode())
            h.update(memoryview(array).cast("B"))
        else:
            h.update(repr(part).encode())
        h.update(b"\x00")
    return h.hexdigest()


def nbytes(obj: object) -> int:
    """The memory a fitted model holds, about: its pickle, with NumPy arrays (a forest's nodes)
    counted out of band rather than copied."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    return len(head) + sum(buffer.raw().nbytes for buffer in buffers)


class FitMemo:
    """Kept fits by content hash, at most ``max_bytes`` of them; counts ``hits`` and ``misses``."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._fits: OrderedDict[str, tuple[KeptFit, int]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()  # a Dask worker may run trajectories in threads

    def __len__(self) -> int:
        return len(self._fits)

    def scope(self, shared_sizes: Iterable[int], *data: object) -> FitScope:
        """The memo as one trajectory's loop sees it: ``data`` names what its matrices hold (the
        features' key, the pool and test rows, the model), ``shared_sizes`` the sizes whose
        fits other trajectories may repeat."""
        return FitScope(self, digest(*data), frozenset(int(s) for s in shared_sizes))

    def get(self, key: str) -> KeptFit | None:
        with self._lock:
            entry = self._fits.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._fits.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: str, fit: KeptFit) -> None:
        try:
            size = nbytes(fit)
        except (pickle.PicklingError, TypeError, AttributeError):
            # A model pickle cannot write cannot be measured (say, a class Dask sent by value
            # to a worker that cannot import its module): it is fitted again where needed.
            return
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._fits:
                return
            self._fits[key] = (fit, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._fits.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._fits.clear()
            self._bytes = 0


@dataclass(frozen=True)
class FitScope:
    """A :class:`FitMemo` for one trajectory: keys start with its data's hash."""

    memo: FitMemo
    data: str
    shared_sizes: frozenset[int]

    def key(self, size: int, rows: np.ndarray, labels: np.ndarray, *fit: object) -> str | None:
        """The fit's key, or None at a size no other trajectory shares (nothing to look up)."""
        if size not in self.shared_sizes:
            return None
        return digest(self.data, size, np.asarray(rows, dtype=np.int64), labels, *fit)

    def get(self, key: str | None) -> KeptFit | None:
        return None if key is None else self.memo.get(key)

    def put(self, key: str | None, fit: KeptFit) -> None:
        if key is not None:
            self.memo.put(key, fit)


_PROCESS: dict[str, Any] = {"run": None, "memo": None}


def process_memo(run: str) -> FitMemo:
    """This process's memo for the run ``run`` (an id): emptied when another run starts, so a
    worker holds no models of an earlier run."""
    if _PROCESS["run"] != run or _PROCESS["memo"] is None:
        forget_process_memo()
        _PROCESS["run"], _PROCESS["memo"] = run, FitMemo()
    return _PROCESS["memo"]


def forget_process_memo() -> None:
    """Drop this process's kept fits (the end of a run in this process)."""
    if _PROCESS["memo"] is not None:
        _PROCESS["memo"].clear()
    _PROCESS["run"], _PROCESS["memo"] = None, None


_CURRENT: ContextVar[FitMemo | None] = ContextVar("modelcollapse_fit_memo", default=None)


@contextmanager
def reusing(memo: FitMemo | None) -> Iterator[FitMemo | None]:
    """Trajectories run in this block lend and borrow fits through ``memo`` (None: none)."""
    token = _CURRENT.set(memo)
    try:
        yield memo
    finally:
        _CURRENT.reset(token)


def current_memo() -> FitMemo | None:
    """The memo of the enclosing :func:`reusing` block, if any (engines read it)."""
    return _CURRENT.get()
