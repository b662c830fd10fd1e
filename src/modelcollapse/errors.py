"""Errors a user can fix: the CLI prints them as one line and exits with status 2."""

from __future__ import annotations


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
