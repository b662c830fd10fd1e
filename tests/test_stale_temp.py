"""Temporary folders of killed writers are cleaned on the next start, never a live one's (#14
item 10): imports, report builds, featurisations and run directories."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from modelcollapse.atomic import OWNER_SUFFIX, STALE_AFTER, atomic_path, clean_stale_temps
from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.errors import UserError


def dead_pid() -> tuple[int, float]:
    """The id and start time of a process that has exited."""
    command = [shutil.which("true")] if shutil.which("true") else [sys.executable, "-c", ""]
    proc = subprocess.Popen(command)
    started = psutil.Process(proc.pid).create_time()
    proc.wait()
    return proc.pid, started


def leftover(
    folder: Path, name: str, pid: int | None = None, started: float | None = None, host=None
) -> Path:
    """A temporary folder with a file in it, as a killed writer leaves it, and its owner
    record (none when ``pid`` is None)."""
    path = folder / f".tmp-{name}-0123abcd"
    path.mkdir(parents=True)
    (path / "part.bin").write_bytes(b"x" * 1000)
    if pid is not None:
        record = {"pid": pid, "host": host or socket.gethostname(), "started": started}
        path.with_name(path.name + OWNER_SUFFIX).write_text(json.dumps(record))
    return path


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_dead_owners_folder_goes_and_a_live_ones_stays(tmp_path):
    me = psutil.Process()
    dead = leftover(tmp_path, "dead", *dead_pid())
    live = leftover(tmp_path, "live", os.getpid(), me.create_time())
    # The same id, but started at another time: the id was reused, its writer is gone.
    reused = leftover(tmp_path, "reused", os.getpid(), me.create_time() - 3600)
    assert set(clean_stale_temps(tmp_path)) == {dead, reused}
    assert not dead.exists() and not reused.exists()
    assert not (tmp_path / (dead.name + OWNER_SUFFIX)).exists()
    assert live.is_dir() and (live / "part.bin").exists()
    assert (tmp_path / (live.name + OWNER_SUFFIX)).exists()


def test_an_unknown_owner_is_waited_for(tmp_path):
    """No record (an earlier version) or another host: removed only once old."""
    recent = leftover(tmp_path, "recent")
    other_host = leftover(tmp_path, "other", 1, 0.0, host="elsewhere.invalid")
    old = leftover(tmp_path, "old")
    legacy = tmp_path / ".import-reviews-1a2b3c"
    legacy.mkdir()
    for path in (old, legacy):
        age(path, STALE_AFTER + 60)
    assert set(clean_stale_temps(tmp_path)) == {old, legacy}
    assert recent.exists() and other_host.exists()
    age(other_host, STALE_AFTER + 60)
    assert clean_stale_temps(tmp_path) == [other_host]
    assert recent.exists()


def test_a_writer_records_itself_and_its_record_goes_with_its_folder(tmp_path):
    target = tmp_path / "out"
    with atomic_path(target) as tmp:
        tmp.mkdir()
        record = json.loads(tmp.with_name(tmp.name + OWNER_SUFFIX).read_text())
        assert record["pid"] == os.getpid() and record["host"] == socket.gethostname()
        assert clean_stale_temps(tmp_path) == []  # this process is alive: kept
        assert tmp.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_featurising_cleans_the_cache_folders(tmp_path, monkeypatch):
    from modelcollapse.features.vectorize import featurize

    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path))
    stale = [leftover(tmp_path / sub, "x", *dead_pid()) for sub in ("features", "tokens")]
    live = leftover(tmp_path / "tokens", "live", os.getpid(), psutil.Process().create_time())
    featurize(make_demo_corpus(n=60, seed=1), "fast")
    assert not any(p.exists() for p in stale) and live.exists()


def test_an_import_cleans_the_data_home(tmp_path, monkeypatch):
    from modelcollapse.data.home import import_corpus

    home = tmp_path / "home"
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(home))
    stale = leftover(home, "reviews", *dead_pid())
    data = tmp_path / "reviews.ft.txt"
    data.write_text("__label__1 bad\n__label__2 good\n" * 3)
    import_corpus(data, "reviews")
    assert not stale.exists() and (home / "reviews").is_dir()


def test_a_report_build_cleans_the_run_directory(tmp_path):
    from modelcollapse.report.build import build_report

    stale = leftover(tmp_path, "report", *dead_pid())
    live = leftover(tmp_path, "report-live", os.getpid(), psutil.Process().create_time())
    with pytest.raises(UserError):  # no run here: the cleaning comes first
        build_report(tmp_path)
    assert not stale.exists() and live.exists()
