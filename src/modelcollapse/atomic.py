"""The one way this package writes a file or a folder that others read: all of it or none.

Whatever is written (bytes, or whatever a writer callback puts at the path it is given: a file,
or a folder it creates) goes to a hidden sibling ``.tmp-NAME-XXXXXXXX`` first and is renamed
into place once complete, so a reader, a resumed run or a second process never sees half of
it, and a crash leaves at most a hidden leftover. The temporary name is not made by
``mkstemp``/``mkdtemp``: those create mode 0600/0700, and a cache, report or imported corpus
should get the user's umask like any other file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from modelcollapse.errors import UserError, is_storage_error, storage_error

TEMP_PREFIX = ".tmp-"  # a folder's leftovers of killed writes: glob(TEMP_PREFIX + "*")

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
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
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
