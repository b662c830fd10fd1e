"""One trajectory under three allocators: as a plain process, as a nanny's worker, and as a
nanny's worker after ``restore_malloc_thresholds``; JSON.

Usage: python benchmarks/bench_malloc.py [--preset lower-rates] [--model logreg] [--rounds 2]
           [--data SAMPLE] [--trajectory 0]

Each run is a fresh process that loads the cached features and runs one trajectory of the
preset (scale 1, one thread) the way a worker does: ``plain`` with no ``MALLOC_*`` variable,
``nanny`` with ``MALLOC_TRIM_THRESHOLD_=65536`` (what Dask's nanny sets), ``nanny+fix`` with it
and the thresholds reset by ``modelcollapse.run.dask.restore_malloc_thresholds`` first, as a Dask
trajectory now does. Rounds alternate the order. Reports the CPU seconds (user + system) and
wall seconds of the trajectory, and whether the three gave the same table; the machine's load
average is recorded, since other jobs may share it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

CHILD = """
import hashlib, json, sys, time, resource
from threadpoolctl import threadpool_limits
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.experiments.plan import run_trajectory
from modelcollapse.runner import prepare_run
from modelcollapse.run.dask import restore_malloc_thresholds

preset, model, data, index, out, fix = sys.argv[1:7]
config = apply_overrides(load_config(preset), data=data, model=model)
prepared = prepare_run(config, out)
traj = prepared.plan[int(index)]
fixed = restore_malloc_thresholds() if fix == "1" else False
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
with threadpool_limits(1):
    frame = run_trajectory(traj, prepared.features, prepared.model, config.tokenizer)
after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - start
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
faults = after.ru_minflt - before.ru_minflt
table = frame.drop(columns=["fit_seconds", "predict_seconds"]).to_json()
print(json.dumps({"cpu": cpu, "wall": wall, "minor_faults": faults, "fixed": fixed,
                  "table": hashlib.sha256(table.encode()).hexdigest(), "steps": len(frame)}))
"""

DEFAULT_SAMPLE = os.environ.get(
    "MODELCOLLAPSE_REAL_DATA",
    str(Path(__file__).resolve().parents[2] / "shared/data/amazon_polarity_sample.ft.txt.bz2"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="lower-rates")
    parser.add_argument("--model", default="logreg")
    parser.add_argument("--data", default=DEFAULT_SAMPLE)
    parser.add_argument("--trajectory", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default="/tmp/modelcollapse-bench-malloc")
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    variants = {
        "plain": (base, "0"),
        "nanny": ({**base, "MALLOC_TRIM_THRESHOLD_": "65536"}, "0"),
        "nanny+fix": ({**base, "MALLOC_TRIM_THRESHOLD_": "65536"}, "1"),
    }
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    load_before = os.getloadavg()
    for i in range(args.rounds):
        names = list(variants) if i % 2 == 0 else list(reversed(variants))
        for name in names:
            env, fix = variants[name]
            command = [sys.executable, "-c", CHILD, args.preset, args.model, args.data,
                       str(args.trajectory), f"{args.out}/{name}-{i}", fix]  # fmt: skip
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(name, json.dumps(runs[name][-1]), file=sys.stderr, flush=True)
    tables = {run["table"] for results in runs.values() for run in results}
    print(
        json.dumps(
            {
                "trajectory": f"{args.preset} #{args.trajectory} --model {args.model}",
                "steps": runs["plain"][0]["steps"],
                **{
                    name: {
                        "cpu_seconds": [round(r["cpu"], 2) for r in results],
                        "wall_seconds": [round(r["wall"], 2) for r in results],
                        "minor_page_faults": [r["minor_faults"] for r in results],
                        "thresholds_reset": results[0]["fixed"],
                    }
                    for name, results in runs.items()
                },
                "same_table": len(tables) == 1,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
