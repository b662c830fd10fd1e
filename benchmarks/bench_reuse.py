"""Fits saved by reusing the fits trajectories share, and the wall time saved; JSON per preset.

Usage: python benchmarks/bench_reuse.py [PRESET ...] [--data demo] [--model logreg]
           [--scale 1] [--repeats N] [--rounds 2]

For each preset (after the overrides), prepares the run once (data, plan, cached features),
then runs every trajectory in this process on one thread, as a runner job does, alternately
with one memo for the whole run (``modelcollapse.core.reuse``, as ``reuse_fits=True``) and
without (``reuse_fits=False``), ``--rounds`` times each. Prints the steps (one fit each in the
loop's kinds), the fits saved (the memo's hits), the wall seconds of each round and whether
both gave the same table (timings aside).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from modelcollapse.core.reuse import FitMemo, reusing
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.experiments.plan import run_trajectory
from modelcollapse.runner import prepare_run

TIMING = ["fit_seconds", "predict_seconds"]


def run_plan(prepared, memo: FitMemo | None) -> pd.DataFrame:
    frames = []
    with threadpool_limits(1), reusing(memo):
        for traj in prepared.plan:
            frame = run_trajectory(
                traj, prepared.features, prepared.model, prepared.config.tokenizer
            )
            frames.append(frame)
    table = pd.concat(frames).drop(columns=TIMING)
    return table.sort_values(["trajectory", "step"], ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", default=["demo"])
    parser.add_argument("--data", default=None, help="default: each preset's own")
    parser.add_argument("--model", default=None)
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    out = []
    with tempfile.TemporaryDirectory(prefix="bench-reuse-") as tmp:
        for preset in args.presets:
            config = apply_overrides(
                load_config(preset), data=args.data, model=args.model, scale=args.scale,
                repeats=args.repeats,
            )  # fmt: skip
            prepared = prepare_run(config, Path(tmp) / preset)
            seconds: dict[str, list[float]] = {"reuse": [], "refit": []}
            tables, saved = {}, 0
            load_before = os.getloadavg()
            for i in range(args.rounds):
                for mode in ("reuse", "refit") if i % 2 == 0 else ("refit", "reuse"):
                    memo = FitMemo() if mode == "reuse" else None
                    start = time.perf_counter()
                    tables[mode] = run_plan(prepared, memo)
                    seconds[mode].append(round(time.perf_counter() - start, 2))
                    if memo is not None:
                        saved = memo.hits
            out.append(
                {
                    "preset": preset,
                    "data": str(config.data),
                    "model": config.model,
                    "scale": config.scale,
                    "trajectories": len(prepared.plan),
                    "steps": len(tables["refit"]),  # a fit each, in the loop's kinds
                    "fits_saved": saved,
                    "reuse_seconds": seconds["reuse"],
                    "refit_seconds": seconds["refit"],
                    "same_table": tables["reuse"].equals(tables["refit"]),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                }
            )
            print(json.dumps(out[-1]), flush=True)


if __name__ == "__main__":
    main()
