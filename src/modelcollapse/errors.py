"""Errors a user can fix: the CLI prints them as one line and exits with status 2."""

from __future__ import annotations

import errno
import os


class UserError(Exception):
    """Bad input: names where it is (file and line, or option) and what was expected.

    ``str(err)`` is the whole one-line message, e.g.
    ``reviews.txt:12: unknown label '__label__3' (expected __label__1 or __label__2)``.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}: {message}" if where else message)


def one_line(exc: BaseException | str) -> str:
    """An exception (or text) as one line for an error message; its type if it says nothing."""
    return " ".join(str(exc).split()) or type(exc).__name__


class ModelCollapseWarning(UserWarning):
    """Something that makes a run slower or less useful than it could be; the CLI prints
    it as one line (``modelcollapse: warning: ...``)."""


# Failures of the place written to, not of the program: a full disk or quota, a file too
# large, a read-only or foreign folder, a path through a file.
_STORAGE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.ENOTDIR,
        errno.EIO,
    }
)


def is_storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` is the disk's or the folder's fault (full, read-only, not a folder).

    numpy's ``tofile`` reports a short write on a full disk as ``"N requested and M written"``
    with no errno: that counts too.
    """
    if not isinstance(exc, OSError):
        return False
    if exc.errno in _STORAGE_ERRNOS:
        return True
    text = str(exc)
    return exc.errno is None and "requested and" in text and "written" in text


def storage_error(exc: OSError, target: str | os.PathLike[str]) -> UserError:
    """``exc`` (see :func:`is_storage_error`) as the one line the CLI prints for ``target``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT) or exc.errno is None:
        reason = "no space left on the device (or quota exceeded)"
    else:
        reason = (exc.strerror or one_line(exc)).lower()
    where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(target) else ""
    return UserError(f"cannot write: {reason}{where}; nothing was written there", str(target))
