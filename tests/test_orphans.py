"""Workers die with their run: after SIGKILL of ``run --jobs 2`` none is left (#14 item 9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def children(pid: int) -> set[int]:
    """Every live descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":  # a zombie is dead, waiting for its reaper
                parents[int(entry.name)] = int(fields[1])
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        for child, parent in parents.items():
            if parent == current and child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


def test_workers_die_with_a_killed_run(tmp_path, small_reviews):
    config = tmp_path / "slow.toml"
    config.write_text(
        'name = "slow"\nmodel = "nb"\ntokenizer = "fast"\n\n[[study]]\nname = "rates"\n'
        'kind = "rates"\nrates = [0.0, 0.5, 1.0]\nrepeats = 20\ninitial_size = 100\n'
        "increment = 10\nmax_size = 1200\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.Popen(
        [sys.executable, "-m", "modelcollapse.cli", "run", str(config), "--data",
         str(small_reviews), "--out", str(tmp_path / "run"), "--jobs", "2"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until both workers (and loky's tracker) run
            workers = children(run.pid)
            if len(workers) >= 3:
                break
            time.sleep(0.2)
        time.sleep(3)  # their parent watch starts once they are up
        workers = children(run.pid)
        assert len(workers) >= 2, "the run never started its workers"
        run.send_signal(signal.SIGKILL)
        run.wait()
        killed = time.monotonic()
        deadline = time.monotonic() + 30
        while alive(workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(workers) == set()
        print(f"{len(workers)} processes gone {time.monotonic() - killed:.1f} s after the kill")
    finally:
        if run.poll() is None:
            run.kill()
        for pid in alive(children(run.pid)):
            os.kill(pid, signal.SIGKILL)
