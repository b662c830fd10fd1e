"""Wall time of one sweep run locally (joblib, --jobs N) and on N single-thread Dask workers.

Usage: python benchmarks/bench_dask.py [PRESET] [--workers 2] [--rounds 2]

Defaults to ``modelcollapse run lower-rates --data demo --model nb --tokenizer fast
--scale 0.3 --repeats 2``. Starts a real ``dask scheduler`` and N ``dask worker
--nthreads 1`` processes on 127.0.0.1 (their start-up is timed apart), warms the
feature cache, then alternates local and Dask runs into fresh run directories and
prints JSON: wall seconds of every round, the fit + predict seconds the workers
measured (their sum over all steps; the rest of the wall time is data loading,
splitting and overhead), and whether both backends stored the same table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.runner import prepare_run, run_experiment


def start_cluster(
    workers: int, folder: Path, nanny: bool = True
) -> tuple[str, list[subprocess.Popen]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    worker = ["worker", address, "--host", "127.0.0.1", "--nthreads", "1"]
    worker += [] if nanny else ["--no-nanny"]
    commands = [["scheduler", "--host", "127.0.0.1", "--port", str(port)]]
    commands += [[*worker, "--local-directory", str(folder)]] * workers
    procs = []
    for args in commands:
        command = [sys.executable, "-m", "dask", *args, "--no-dashboard"]
        procs.append(
            subprocess.Popen(
                command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )  # fmt: skip
    return address, procs


def stop_cluster(procs: list[subprocess.Popen]) -> None:
    for proc in reversed(procs):
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    timing = ["fit_seconds", "predict_seconds"]
    return frame.drop(columns=timing).sort_values(["trajectory", "step"], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("preset", nargs="?", default="lower-rates")
    parser.add_argument("--data", default="demo")
    parser.add_argument("--model", default="nb")
    parser.add_argument("--tokenizer", default="fast")
    parser.add_argument("--scale", type=float, default=0.3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="local --jobs and Dask workers")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--no-nanny", action="store_true", help="start workers with dask worker --no-nanny"
    )
    args = parser.parse_args()

    from distributed import Client

    config = apply_overrides(
        load_config(args.preset), data=args.data, model=args.model,
        tokenizer=args.tokenizer, scale=args.scale, repeats=args.repeats,
    )  # fmt: skip
    seconds: dict[str, list[float]] = {"local": [], "dask": []}
    compute: dict[str, list[float]] = {"local": [], "dask": []}  # fit + predict, in the workers
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-dask-") as tmp:
        root = Path(tmp)
        n_trajectories = len(prepare_run(config, root / "warm").plan)  # caches the features
        start = time.perf_counter()
        address, procs = start_cluster(args.workers, root, nanny=not args.no_nanny)
        try:
            with Client(address, timeout=30, set_as_default=False) as client:
                client.wait_for_workers(args.workers, timeout=60)
            cluster_start = time.perf_counter() - start
            tables = {}
            for i in range(args.rounds):
                for backend in ("local", "dask") if i % 2 == 0 else ("dask", "local"):
                    options = (
                        {"jobs": args.workers}
                        if backend == "local"
                        else {"backend": "dask", "scheduler": address}
                    )
                    start = time.perf_counter()
                    result = run_experiment(config, root / f"{backend}-{i}", **options)
                    seconds[backend].append(round(time.perf_counter() - start, 2))
                    steps = result.results[["fit_seconds", "predict_seconds"]]
                    compute[backend].append(round(float(steps.to_numpy().sum()), 2))
                    tables[backend] = comparable(result.results)
        finally:
            stop_cluster(procs)
    print(
        json.dumps(
            {
                "sweep": f"{args.preset} --data {args.data} --model {args.model} "
                f"--tokenizer {args.tokenizer} --scale {args.scale:g} --repeats {args.repeats}",
                "trajectories": n_trajectories,
                "workers": args.workers,
                "nanny": not args.no_nanny,
                "local_jobs_seconds": seconds["local"],
                "dask_seconds": seconds["dask"],
                "local_fit_predict_seconds": compute["local"],
                "dask_fit_predict_seconds": compute["dask"],
                "dask_cluster_start_seconds": round(cluster_start, 2),
                "same_table": tables["local"].equals(tables["dask"]),
                "cpus": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "python": platform.python_version(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
