"""Time ``build_report`` on a stored run of 50 trajectories.

    PYTHONPATH=src python benchmarks/bench_report.py [--format png] [--runs 3] [RUN_DIR]

Without RUN_DIR it writes a simulated run shaped like the original study (5 repeats of: one
30-size learning curve, a total-collapse study with 3 starts plus the no-collapse curve, and
5 lower rates over 91 steps) using the simulator the report tests use, so the benchmark and the
tests exercise the same store layout. Prints one JSON object; ``seconds`` is the fastest run
(the least disturbed by other load on the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_report import simulate_trajectories, write_run

from modelcollapse.report import build_report

GEOMETRIC = tuple(sorted({round(320_000 * 0.75**i) for i in range(30)}))[:18]  # 76 .. 10k
BENCH_RUN = (
    ("learning-curve", "learning-curve", GEOMETRIC, (GEOMETRIC[0],), (0.0,)),
    ("total-collapse", "total-collapse", GEOMETRIC, (GEOMETRIC[0], 240, 1000, 4000), (1.0,)),
    ("lower-rates", "rates", tuple(range(1000, 10_001, 100)), (1000,), (0, 0.03, 0.09, 0.15, 0.3)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", nargs="?", type=Path)
    parser.add_argument("--format", default="png", choices=("png", "svg", "pdf"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    scratch = None
    run_dir = args.run_dir
    if run_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="bench-report-"))
        run_dir = write_run(scratch, simulate_trajectories(BENCH_RUN, repeats=5))
    try:
        results = pd.read_parquet(run_dir / "results")
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            html = build_report(run_dir, args.format)
            times.append(time.perf_counter() - start)
        report = html.parent
        print(
            json.dumps(
                {
                    "benchmark": "build_report",
                    "format": args.format,
                    "trajectories": int(results["trajectory"].nunique()),
                    "rows": len(results),
                    "figures": sum(1 for p in report.iterdir() if p.suffix != ".html"),
                    "html_bytes": html.stat().st_size,
                    "seconds": round(min(times), 3),
                    "all_seconds": [round(t, 3) for t in times],
                    "cpus": os.cpu_count(),
                }
            )
        )
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
