"""Whole runs at several --jobs: wall time, speed-up, and the time outside fit/predict; JSON.

Usage: python benchmarks/bench_runner.py [--jobs 1,2] [--rounds 1] -- RUN ARGUMENTS...
e.g.   python benchmarks/bench_runner.py --jobs 1,2 -- lower-rates-detail --data $SAMPLE \\
           --model logreg --repeats 2

Each round runs ``modelcollapse run RUN ARGUMENTS --jobs J --out TMP --no-report`` for every J
(in alternating order across rounds), each a fresh process under ``/usr/bin/time -v`` into a
fresh run directory. Fill the feature cache first (any run on the same data with the same
tokenizer and model's n-grams does), or the first run also featurises.
Per run: wall time, peak RSS of the main process, and ``outside``: the share of J × wall
time that was not spent in a model's fit or in scoring the test set (start-up, reading the
data, slicing, labelling, storing, workers waiting). The results tables of all runs must be
identical (timing columns aside); the script says so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIMING = ["fit_seconds", "predict_seconds"]


def run(args: list[str], jobs: int, out: Path) -> dict:
    cmd = ["modelcollapse", "run", *args, "--jobs", str(jobs), "--out", str(out), "--no-report"]
    load = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return {"jobs": jobs, "wall_s": round(wall, 2), "load_before": load,
            "peak_rss_gb": round(int(peak.group(1)) / 1e6, 3) if peak else None}  # fmt: skip


def main() -> None:
    if "--" not in sys.argv:
        sys.exit(__doc__)
    split = sys.argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", default="1,2")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args(sys.argv[1:split])
    run_args = sys.argv[split + 1 :]
    jobs_list = [int(j) for j in args.jobs.split(",")]

    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="bench-runner-") as tmp:
        rows, tables = [], {}
        for round_ in range(args.rounds):
            order = jobs_list if round_ % 2 == 0 else jobs_list[::-1]
            for jobs in order:
                out = Path(tmp) / f"run-{round_}-{jobs}"
                row = run(run_args, jobs, out)
                table = pd.read_parquet(out / "results")
                busy = float(table[TIMING].to_numpy().sum())
                row["round"] = round_
                row["trajectories"] = int(table["trajectory"].nunique())
                row["steps"] = len(table)
                row["fit_predict_s"] = round(busy, 1)
                row["outside"] = round(1 - busy / (jobs * row["wall_s"]), 4)
                rows.append(row)
                tables[(round_, jobs)] = (
                    table.drop(columns=TIMING)
                    .sort_values(["trajectory", "step"])
                    .reset_index(drop=True)
                )
        first = next(iter(tables.values()))
        identical = all(t.equals(first) for t in tables.values())
    best = {j: min(r["wall_s"] for r in rows if r["jobs"] == j) for j in jobs_list}
    base = min(jobs_list)
    speedup = {f"{j} vs {base}": round(best[base] / best[j], 3) for j in jobs_list if j != base}
    print(json.dumps({
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "command": "modelcollapse run " + " ".join(run_args),
        "runs": rows,
        "best_wall_s": best,
        "speedup": speedup,
        "identical_results": identical,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
