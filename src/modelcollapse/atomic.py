"""The one way this package writes a file or a folder that others read: all of it or none.

Whatever is written (bytes, or whatever a writer callback puts at the path it is given: a file,
or a folder it creates) goes to a hidden sibling ``.tmp-NAME-XXXXXXXX`` first and is renamed
into place once complete, so a reader, a resumed run or a second process never sees half of
it, and a crash leaves at most a hidden leftover. The temporary name is not made by
``mkstemp``/``mkdtemp``: those create mode 0600/0700, and a cache, report or imported corpus
should get the user's umask like any other file.

Beside each temporary path, ``.tmp-NAME-XXXXXXXX.owner`` records who writes it (process id,
host name, the process's start time). :func:`clean_stale_temps`, called where a command
starts writing (an import, a report, the feature cache, a run directory), removes the
leftovers of killed processes from a folder: those whose owner is gone from this host, and
those older than :data:`STALE_AFTER` whose owner is unknown (an earlier version, another
host). A live writer's temporary path is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from modelcollapse.errors import UserError, is_storage_error, storage_error

TEMP_PREFIX = ".tmp-"  # a folder's leftovers of killed writes: glob(TEMP_PREFIX + "*")
OWNER_SUFFIX = ".owner"
#: Leftovers whose writer cannot be asked (no owner record, another host) are removed once
#: they are this old (seconds): longer than any import or report takes.
STALE_AFTER = 24 * 3600.0
# Temporary folders of earlier versions: .import-NAME-*, .report-* (owner unknown).
_LEGACY_PREFIXES = (".import-", ".report-")

Existing = Literal["replace", "keep", "refuse"]


def atomic_write(
    target: str | Path,
    content: bytes | Callable[[Path], object],
    *,
    existing: Existing = "replace",
) -> Path:
    """Write ``target`` whole or not at all; return it.

    ``content`` is the file's bytes, or a callback that writes the file or folder at the path
    it is given (which does not exist yet). A file is flushed to disk before the rename.

    A full disk, a read-only folder or a path through a file raises
    :class:`~modelcollapse.errors.UserError` naming ``target``, with nothing published.

    ``existing`` says what happens when ``target`` is already there once the new copy is
    complete: ``"replace"`` it (a folder is swapped: the old one is moved aside, then removed);
    ``"keep"`` it and drop the new copy (a cache another process filled first: its copy is as
    good); ``"refuse"``: raise :class:`FileExistsError` and drop the new copy.
    """
    with atomic_path(target, existing=existing) as tmp:
        if isinstance(content, bytes):
            with open(tmp, "xb") as fh:
                fh.write(content)
        else:
            content(tmp)
    return Path(target)


@contextmanager
def atomic_path(target: str | Path, *, existing: Existing = "replace") -> Iterator[Path]:
    """The context-manager form of :func:`atomic_write`, for writes spread over a block.

    Yields the temporary path to write; a block that ends normally publishes it as ``target``,
    one that raises removes it.
    """
    target = Path(target)
    tmp = target.with_name(f"{TEMP_PREFIX}{target.name}-{uuid.uuid4().hex[:8]}")
    owner = _owner_path(tmp)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        owner.write_text(json.dumps(_this_owner()))
        yield tmp
        if not tmp.exists() and not tmp.is_symlink():
            raise FileNotFoundError(f"nothing was written for {target}")
        if tmp.is_file():
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
        _publish(tmp, target, existing)
    except OSError as exc:
        # A full disk or a read-only folder is the user's to fix, and the old copy (if any)
        # is untouched: one line naming what was being written, not a traceback.
        if is_storage_error(exc):
            raise storage_error(exc, target) from None
        raise
    finally:
        _remove(tmp)
        owner.unlink(missing_ok=True)


def clean_stale_temps(folder: str | Path, *, max_age: float = STALE_AFTER) -> list[Path]:
    """Remove the temporary paths killed writers left in ``folder``; return them.

    A temporary path goes when its owner record names a process of this host that is no
    longer running (its id is free, or taken by a process started at another time), or when
    its owner cannot be known (no record, another host) and it is older than ``max_age``
    seconds. Anything that cannot be removed is left for the next time.
    """
    folder = Path(folder)
    try:
        prefixes = (TEMP_PREFIX, *_LEGACY_PREFIXES)
        entries = [p for p in folder.iterdir() if p.name.startswith(prefixes)]
    except OSError:
        return []
    now = time.time()
    removed = []
    for path in entries:
        if path.name.endswith(OWNER_SUFFIX):
            written = path.with_name(path.name.removesuffix(OWNER_SUFFIX))
            if not written.exists() and _is_stale(path, now, max_age):  # the record stayed
                path.unlink(missing_ok=True)
            continue
        if _is_stale(path, now, max_age):
            _remove(path)
            _owner_path(path).unlink(missing_ok=True)
            removed.append(path)
    return removed


def _owner_path(tmp: Path) -> Path:
    return tmp.with_name(tmp.name + OWNER_SUFFIX)


def _this_owner() -> dict[str, object]:
    import psutil

    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": psutil.Process().create_time(),
    }


def _is_stale(path: Path, now: float, max_age: float) -> bool:
    record = path if path.name.endswith(OWNER_SUFFIX) else _owner_path(path)
    try:
        owner = json.loads(record.read_text())
        pid, host, started = int(owner["pid"]), str(owner["host"]), float(owner["started"])
    except (OSError, ValueError, TypeError, KeyError):
        owner = None
    if owner is not None and host == socket.gethostname():
        return not _running(pid, started)
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    return age > max_age


def _running(pid: int, started: float) -> bool:
    """Whether process ``pid`` is the one that started at ``started`` and still runs."""
    import psutil

    try:
        # create_time is rounded differently by different calls: allow a second.
        return abs(psutil.Process(pid).create_time() - started) < 1.0
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:  # not ours to ask: assume it runs
        return True


def check_folder(path: str | Path, where: str) -> None:
    """Refuse, in one line naming ``where``, a folder that cannot be used or made for writing:
    a file, a dangling symbolic link, a path through a file, a read-only place."""
    path = Path(path)
    if path.is_symlink() and not path.exists():
        raise UserError(f"is a symbolic link to {os.readlink(path)}, which does not exist", where)
    if path.exists():
        if not path.is_dir():
            raise UserError("is a file, not a folder", where)
        if not os.access(path, os.W_OK | os.X_OK):
            raise UserError("is not writable", where)
        return
    parent = path.parent
    while not parent.exists():
        if parent.is_symlink():
            raise UserError(
                f"{parent} is a symbolic link to {os.readlink(parent)}, which does not exist",
                where,
            )
        parent = parent.parent
    if not parent.is_dir():
        raise UserError(f"cannot be made: {parent} is a file, not a folder", where)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"cannot be made: {parent} is not writable", where)


def _publish(tmp: Path, target: Path, existing: Existing) -> None:
    if existing != "replace" and target.exists():
        if existing == "refuse":
            raise FileExistsError(f"{target} appeared while it was being written")
        return  # "keep": the temporary copy goes in the caller's finally
    if target.is_dir() and not target.is_symlink():
        # rename() cannot replace a non-empty folder: move the old one aside first, and put it
        # back if the new one cannot go in.
        old = target.with_name(f"{TEMP_PREFIX}old-{target.name}-{uuid.uuid4().hex[:8]}")
        os.replace(target, old)
        try:
            os.replace(tmp, target)
        except OSError:
            os.replace(old, target)
            raise
        _remove(old)
        return
    try:
        os.replace(tmp, target)
    except OSError:
        if existing == "keep" and target.exists():  # filled by another process meanwhile
            return
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink(missing_ok=True)
