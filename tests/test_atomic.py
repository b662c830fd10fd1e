"""The one atomic write: whole or nothing, for files and folders, with the three policies."""

from __future__ import annotations

import os

import pytest

from modelcollapse.atomic import atomic_path, atomic_write


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_bytes_and_callbacks_replace_files_and_folders(tmp_path):
    target = tmp_path / "sub" / "a.json"
    assert atomic_write(target, b"one") == target and target.read_bytes() == b"one"
    atomic_write(target, lambda tmp: tmp.write_text("two"))
    assert target.read_text() == "two"
    # The file gets the umask's mode, not mkstemp's 0600.
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask

    folder = tmp_path / "report"

    def build(text):
        def write(tmp):
            tmp.mkdir()
            (tmp / "index.html").write_text(text)

        return write

    atomic_write(folder, build("old"))
    atomic_write(folder, build("new"))  # a non-empty folder is swapped whole
    assert (folder / "index.html").read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "sub") == []


def test_keep_and_refuse_leave_the_existing_copy(tmp_path):
    target = tmp_path / "cache"
    atomic_write(target, b"first")
    atomic_write(target, b"second", existing="keep")
    assert target.read_bytes() == b"first"
    with pytest.raises(FileExistsError):
        atomic_write(target, b"third", existing="refuse")
    assert target.read_bytes() == b"first" and leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_copy_and_no_leftovers(tmp_path):
    target = tmp_path / "results.parquet"
    atomic_write(target, b"complete")

    def half(tmp):
        tmp.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half)
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"complete" and leftovers(tmp_path) == []
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        atomic_write(target, lambda tmp: None)
