"""Fits saved by reusing the fits trajectories share, and the wall time saved; JSON per preset.

Usage: python benchmarks/bench_reuse.py [PRESET ...] [--data demo] [--model logreg]
           [--scale 1] [--repeats N] [--rounds 2] [--plan-only]

For each preset (after the overrides), prepares the run once (data, plan, cached features),
then runs every trajectory in this process on one thread, as a runner job does, alternately
with one memo for the whole run (``modelcollapse.core.reuse``, as ``reuse_fits=True``) and
without (``reuse_fits=False``), ``--rounds`` times each. Prints the steps (one fit each in the
loop's kinds), the fits saved (the memo's hits), the wall and CPU seconds (``time.process_time``,
less sensitive to other jobs on the machine) of each round and whether
both gave the same table (timings aside).

``--plan-only`` fits nothing: from each preset's plan at ``--scale`` it counts the loop's fits
and those a single process saves within a study (a trajectory whose first fit another of its
repeat also makes at a size it shares; a rate-0 curve shares every size its engine names), which
is what the memo finds when every study keeps its design's first rows; matches across the
studies of a seed group come on top.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
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


def plan_counts(plan) -> dict[str, int]:
    from modelcollapse.engines import ENGINES

    fits = saved = rows = rows_saved = 0
    groups: dict[tuple[str, int], list] = {}
    for traj in plan:
        engine = ENGINES.get(traj.kind)
        if not engine.uses_loop:
            continue
        fits += len(traj.sizes)
        rows += sum(traj.sizes)
        groups.setdefault((traj.experiment, traj.repeat), []).append(traj)
    for group in groups.values():
        shared = set()  # sizes at which a trajectory of the repeat may repeat another's fit
        for traj in group:
            sizes = ENGINES.get(traj.kind).shared_sizes(traj)
            shared.update(sizes if traj.rate == 0 else sizes[:1])
        # The fits with true labels only at a shared size: a rate-0 curve's at each, another
        # curve's first. Each is made once; the others are saved.
        needs = Counter(
            size
            for traj in group
            for size in (traj.sizes if traj.rate == 0 else traj.sizes[:1])
            if size in shared
        )
        saved += sum(n - 1 for n in needs.values())
        rows_saved += sum(size * (n - 1) for size, n in needs.items())
    # Fitted rows: the runner's cost estimate (a fit's time grows with its rows; scoring the
    # test set costs about the same at every step, so fits_saved / loop_fits is its share).
    return {
        "loop_fits": fits, "fits_saved": saved, "fitted_rows": rows, "rows_saved": rows_saved,
        "rows_saved_share": round(rows_saved / rows, 4) if rows else 0.0,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="*", default=["demo"])
    parser.add_argument("--data", default=None, help="default: each preset's own")
    parser.add_argument("--model", default=None)
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--plan-only", action="store_true", help="count from the plan, no fits")
    args = parser.parse_args()
    out = []
    if args.plan_only:
        from modelcollapse.experiments.plan import study_trajectories

        for preset in args.presets:
            config = apply_overrides(
                load_config(preset), data=args.data, model=args.model, scale=args.scale,
                repeats=args.repeats,
            )  # fmt: skip
            plan = [t for study in config.study for t in study_trajectories(study, 0, config.scale)]
            print(json.dumps({"preset": preset, "scale": config.scale, **plan_counts(plan)}))
        return
    with tempfile.TemporaryDirectory(prefix="bench-reuse-") as tmp:
        for preset in args.presets:
            config = apply_overrides(
                load_config(preset), data=args.data, model=args.model, scale=args.scale,
                repeats=args.repeats,
            )  # fmt: skip
            prepared = prepare_run(config, Path(tmp) / preset)
            seconds: dict[str, list[float]] = {"reuse": [], "refit": []}
            cpu: dict[str, list[float]] = {"reuse": [], "refit": []}
            tables, saved = {}, 0
            load_before = os.getloadavg()
            for i in range(args.rounds):
                for mode in ("reuse", "refit") if i % 2 == 0 else ("refit", "reuse"):
                    memo = FitMemo() if mode == "reuse" else None
                    start, start_cpu = time.perf_counter(), time.process_time()
                    tables[mode] = run_plan(prepared, memo)
                    seconds[mode].append(round(time.perf_counter() - start, 2))
                    cpu[mode].append(round(time.process_time() - start_cpu, 2))
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
                    "reuse_cpu_seconds": cpu["reuse"],
                    "refit_cpu_seconds": cpu["refit"],
                    "same_table": tables["reuse"].equals(tables["refit"]),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()],
                }
            )
            print(json.dumps(out[-1]), flush=True)


if __name__ == "__main__":
    main()
