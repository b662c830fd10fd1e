"""Distributed runs: a real scheduler and two workers on 127.0.0.1 store the local run's table."""

from __future__ import annotations

import dataclasses
import os
import platform
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator

import pandas as pd
import pytest

from modelcollapse.cli import main
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.features.vectorize import load_features
from modelcollapse.run.dask import DaskExecutor, _check_workers, restore_malloc_thresholds
from modelcollapse.runner import execute, prepare_run, run_experiment

if os.environ.get("CI", "").strip().lower() in ("", "0", "false", "no"):
    # Off CI a missing extra skips; under CI (which installs it) the import below must fail loudly.
    pytest.importorskip(
        "distributed", reason="the dask extra is not installed: pip install -e '.[dask]'"
    )

TIMING = ["fit_seconds", "predict_seconds"]


def config_for(small_config, small_reviews, **overrides):
    return apply_overrides(load_config(str(small_config)), data=str(small_reviews), **overrides)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=TIMING).sort_values(["trajectory", "step"], ignore_index=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group we started (a worker's nanny has a child), then SIGKILL."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a scheduler with two single-thread workers sharing this session's cache."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    # The same cache as conftest's _isolated_cache: workers memory-map the matrix the client made.
    env = {**os.environ, "MODELCOLLAPSE_CACHE": str(tmp_path_factory.getbasetemp() / "cache")}
    port = str(free_port())
    address = f"tcp://127.0.0.1:{port}"
    worker = ["worker", address, "--host", "127.0.0.1", "--nthreads", "1"]
    worker += ["--local-directory", str(folder)]  # scratch files stay in the test's folder
    commands = [["scheduler", "--host", "127.0.0.1", "--port", port], worker, worker]
    # One worker with the nanny's plain MALLOC_TRIM_THRESHOLD_, one with thresholds of its own.
    tuned = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "268435456"}
    envs = [env, {**env, **tuned}, env]
    procs: list[subprocess.Popen] = []
    try:
        for i, args in enumerate(commands):
            with open(folder / f"{i}-{args[0]}.log", "wb") as log:
                command = [sys.executable, "-m", "dask", *args, "--no-dashboard"]
                procs.append(
                    subprocess.Popen(command, cwd=folder, env=envs[i], stdout=log, stderr=log,
                                     start_new_session=True)  # own group: stop() kills nannies too
                )  # fmt: skip
        with Client(address, timeout=30, set_as_default=False) as client:
            try:
                client.wait_for_workers(2, timeout=60)
            except TimeoutError:
                logs = "\n".join(p.read_text(errors="replace") for p in folder.glob("*.log"))
                pytest.fail(f"the Dask workers did not start:\n{logs}")
        yield address
    finally:
        for proc in reversed(procs):  # workers first, or they keep retrying the scheduler
            stop(proc)


def test_dask_run_matches_the_local_run(tmp_path, scheduler, small_config, small_reviews):
    from distributed import Client

    config = config_for(small_config, small_reviews)
    local = run_experiment(config, tmp_path / "local").results
    remote = run_experiment(config, tmp_path / "dask", backend="dask", scheduler=scheduler)
    assert remote.n_trajectories == 12 and remote.n_skipped == 0
    assert len(list((tmp_path / "dask" / "results").glob("*.parquet"))) == 12
    pd.testing.assert_frame_equal(comparable(local), comparable(remote.results))
    with Client(scheduler, set_as_default=False) as client:  # workers mapped the cached matrix
        assert sum(client.run(lambda: load_features.cache_info().currsize).values()) >= 1
        # The trajectories reset the nanny's malloc thresholds, and left the user's alone.
        assert sorted(client.run(restore_malloc_thresholds).values()) == [False, True]


def test_workers_that_cannot_see_the_cache_get_a_copy(tmp_path, scheduler, small_config,
                                                      small_reviews):  # fmt: skip
    prepared = prepare_run(config_for(small_config, small_reviews), tmp_path / "unused")
    plan, spec = prepared.plan[:3], prepared.model
    elsewhere = dataclasses.replace(prepared.features, path=tmp_path / "not-on-the-workers")
    # A worker given that path would fail to read it: matching results prove the copy was used.
    remote = execute(plan, elsewhere, spec, "fast", backend="dask", scheduler=scheduler)
    frames = {traj.key: frame for traj, frame in remote}
    for traj, frame in execute(plan, prepared.features, spec, "fast"):
        pd.testing.assert_frame_equal(comparable(frame), comparable(frames[traj.key]))
    assert not (tmp_path / "unused").exists()


def test_killed_dask_run_resumes_locally(
    tmp_path, scheduler, small_config, small_reviews, kill_mid_run
):
    # Many small steps make each trajectory take long enough to kill the run between them.
    config = config_for(small_config, small_reviews, increment=10, model="logreg")
    reference = run_experiment(config, tmp_path / "reference").results

    run_dir = tmp_path / "killed"
    command = [sys.executable, "-m", "modelcollapse.cli", "run", str(small_config),
               "--data", str(small_reviews), "--out", str(run_dir), "--increment", "10",
               "--model", "logreg"]  # fmt: skip
    results = run_dir / "results"
    stored = kill_mid_run([*command, "--backend", "dask", "--scheduler", scheduler], results)
    assert 3 <= stored < 12, "the kill should land mid-run"

    resumed = subprocess.run(
        [*command, "--backend", "local"], capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed: {stored} of 12" in resumed.stdout
    table = pd.read_parquet(results)
    assert table["trajectory"].nunique() == 12
    assert not table.duplicated(["trajectory", "step"]).any()
    pd.testing.assert_frame_equal(comparable(reference), comparable(table))


def one_line_error(capsys, *argv: str) -> str:
    code = main(list(argv))
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1, lines
    return lines[0]


@pytest.mark.parametrize(
    ("address", "fragment"),
    [("nowhere", "missing port"), ("http://127.0.0.1:1", "scheme"), ("closed", "Timed out")],
)
def test_bad_scheduler_address(tmp_path, capsys, monkeypatch, small_config, small_reviews,
                               address, fragment):  # fmt: skip
    monkeypatch.setattr("modelcollapse.run.dask.DASK_CONNECT_TIMEOUT", 1)
    if address == "closed":
        address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    out = tmp_path / "run"
    data = ["--data", str(small_reviews), "--out", str(out)]
    line = one_line_error(capsys, "run", str(small_config), *data, "--backend", "dask",
                          "--scheduler", address)  # fmt: skip
    assert line.startswith("modelcollapse: error: --scheduler: cannot connect"), line
    assert address in line and fragment in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--backend", "dask"], ["--scheduler", "needs a scheduler address"]),
        (["--scheduler", "tcp://127.0.0.1:8786"], ["--scheduler", "only used with --backend dask"]),
        (["--backend", "dask", "--scheduler", "tcp://127.0.0.1:8786", "--jobs", "2"], ["--jobs"]),
        (["--backend", "spark"], ["--backend", "spark"]),
    ],
    ids=["dask-without-scheduler", "scheduler-without-dask", "jobs-with-dask", "unknown"],
)
def test_backend_options_are_checked_first(tmp_path, capsys, small_config, args, fragments):
    out = tmp_path / "run"
    line = one_line_error(capsys, "run", str(small_config), "--out", str(out), *args)
    for fragment in fragments:
        assert fragment in line, line
    assert not out.exists()


def test_missing_extra_names_it(tmp_path, capsys, monkeypatch, small_config, small_reviews):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    line = one_line_error(capsys, "run", str(small_config), "--data", str(small_reviews),
                          "--out", str(tmp_path / "run"), "--backend", "dask",
                          "--scheduler", "tcp://127.0.0.1:8786")  # fmt: skip
    assert "--backend" in line and "pip install 'modelcollapse[dask]'" in line
    assert not (tmp_path / "run").exists()


def test_resuming_on_dask_skips_what_is_stored(tmp_path, scheduler, small_config, small_reviews):
    config = config_for(small_config, small_reviews)
    full = run_experiment(config, tmp_path / "run").results
    for path in sorted((tmp_path / "run" / "results").glob("*.parquet"))[:4]:
        path.unlink()
    resumed = run_experiment(config, tmp_path / "run", backend="dask", scheduler=scheduler)
    assert resumed.n_skipped == 8
    pd.testing.assert_frame_equal(comparable(full), comparable(resumed.results))


class FakeClient:
    """Answers the executor's probes as the given workers would."""

    def __init__(self, answers: dict[str, tuple[bool, bool]]) -> None:
        self.answers = answers

    def run(self, function, *args):
        if function.__name__ == "probe":  # can import modelcollapse
            return {w: found for w, (found, _) in self.answers.items()}
        assert function.__name__ == "_sees"
        return {w: seen for w, (_, seen) in self.answers.items()}

    def scatter(self, data, broadcast):
        assert broadcast
        return "scattered"


MAPPED_ARRAYS = """
import ctypes, numpy as np
from modelcollapse.run.dask import restore_malloc_thresholds

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split())]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2

def mapped():  # a 4 MiB array held: did malloc map it afresh from the kernel?
    before = libc.mallinfo2().hblks
    array = np.ones(2**19)
    return libc.mallinfo2().hblks - before

first = mapped()  # glibc's dynamic threshold would keep later ones: not under the nanny's
print(mapped(), restore_malloc_thresholds(), mapped())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"MALLOC_TRIM_THRESHOLD_": "65536"}, "1 True 0"),  # a nanny's default: reset
        ({"MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_MMAP_THRESHOLD_": "131072"}, "1 False 1"),
    ],
    ids=["nanny", "user-set"],
)
def test_the_nannys_fixed_mmap_threshold_is_undone_in_the_worker(env, expected):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    answer = subprocess.run(
        [sys.executable, "-c", MAPPED_ARRAYS], env={**environ, **env}, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert answer.stdout.split() == expected.split()


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"w1": (True, True), "w2": (True, True)}, "path"),
        ({"w1": (True, True), "w2": (True, False)}, "scattered"),
        ({"w1": (True, True), "w2": (False, True)}, "cannot import modelcollapse (w2)"),
    ],
    ids=["shared-filesystem", "one-worker-elsewhere", "not-installed"],
)
def test_features_reach_workers_by_path_or_copy(tmp_path, answers, expected):
    client = FakeClient(answers)
    if expected.startswith("cannot"):
        with pytest.raises(UserError, match=r"--scheduler: .*cannot import modelcollapse \(w2\)"):
            _check_workers(client)
        return
    executor = DaskExecutor(client)  # type: ignore[arg-type]
    executor.client = client  # type: ignore[assignment]
    shipped = executor.share("the matrix", tmp_path)
    assert shipped == (tmp_path if expected == "path" else "scattered")


def test_a_failing_trajectory_on_dask_is_recorded(tmp_path, scheduler, small_config,
                                                  small_reviews):  # fmt: skip
    from failing_model import failing_model

    config = config_for(small_config, small_reviews)
    fixed = tmp_path / "fixed"
    model = failing_model(rows=500, unless=fixed)
    result = run_experiment(config, tmp_path / "run", model=model, backend="dask",
                            scheduler=scheduler)  # fmt: skip
    assert result.n_failed == 6 and all(k.startswith("rates/") for k in result.failures)
    assert {f.error_type for f in result.failures.values()} == {"ValueError"}
    assert result.results["trajectory"].nunique() == 6
    fixed.touch()
    resumed = run_experiment(config, tmp_path / "run", model=model, backend="dask",
                             scheduler=scheduler)  # fmt: skip
    assert resumed.complete and resumed.n_skipped == 6 and resumed.n_retried == 6


def test_a_silent_scheduler_fails_within_the_timeout(
    tmp_path, capsys, monkeypatch, small_config, small_reviews
):
    # A port that accepts and never answers blocked in Client(...) for over 140 s.
    import socket
    import threading
    import time

    monkeypatch.setattr("modelcollapse.run.dask.DASK_CONNECT_TIMEOUT", 1)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])  # held open, never written to
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    out = tmp_path / "run"
    started = time.monotonic()
    try:
        argv = ["run", str(small_config), "--data", str(small_reviews), "--out", str(out)]
        line = one_line_error(capsys, *argv, "--backend", "dask", "--scheduler", address)
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()
    assert time.monotonic() - started < 60  # not the minutes it hung before
    assert accepted, "the test server was never reached"
    assert line.startswith("modelcollapse: error: --scheduler: cannot connect"), line
    assert "did not answer within 1 s" in line
    assert not out.exists()
