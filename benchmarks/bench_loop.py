"""Time whole trajectories of a preset on one core, split into fit, predict and the rest; JSON.

Usage: python benchmarks/bench_loop.py [--preset lower-rates-detail] [--model logreg]
           [--rates 0,0.05,0.09] [--repeats 1] [--data SAMPLE] [--profile N] [--plain]

Runs the preset's trajectories (after the overrides) one after another in this
process, on one thread as a runner worker does, after featurising (cached). Per
step: wall and CPU time, ``fit_seconds`` (the model's fit), ``predict_seconds`` (scoring
the test set) and the rest (slicing, labelling, bookkeeping). ``--profile N``
prints the N most expensive functions (cProfile, cumulative) instead of timing.
``--plain`` runs the loop with ``fast=False``: the plain scikit-learn path (SciPy column
indexing, the model's own ``predict_proba`` and ``predict`` on a restricted copy of the test
set at every step) instead of the shortcuts of ``modelcollapse.scoring.FastMatrices``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import tempfile
import time
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.experiments.plan import split_rows
from modelcollapse.loop import SelfLabellingLoop
from modelcollapse.runner import prepare_run

DEFAULT_SAMPLE = Path(
    os.environ.get(
        "MODELCOLLAPSE_REAL_DATA",
        Path(__file__).resolve().parents[2] / "shared/data/amazon_polarity_sample.ft.txt.bz2",
    )
)


def run(traj, features, model, plain: bool) -> pd.DataFrame:
    """One trajectory of the rates loop, as the runner runs it (without its result columns)."""
    pool, test, priority = split_rows(traj, features.n_rows, features.test_mask)
    X, y = features.X, features.labels
    # The default passes no switch, so the same script also times the code from before it.
    switch = {"fast": False} if plain else {}
    loop = SelfLabellingLoop(model, traj.sizes, traj.rate, traj.seed, traj.options, **switch)
    loop.fit(X[pool], y[pool], X[test], y[test], priority=priority)
    frame = pd.DataFrame(loop.history_records())
    frame["trajectory"] = traj.key
    return frame


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="lower-rates-detail")
    parser.add_argument("--model", default="logreg")
    parser.add_argument("--tokenizer", default=None)
    parser.add_argument("--rates", default="0,0.05,0.09")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--increment", type=int, default=None)
    parser.add_argument("--data", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument("--plain", action="store_true", help="fast=False: plain scikit-learn")
    args = parser.parse_args()
    config = apply_overrides(
        load_config(args.preset),
        data=str(args.data),
        model=args.model,
        tokenizer=args.tokenizer,
        rates=[float(r) for r in args.rates.split(",")],
        repeats=args.repeats,
        increment=args.increment,
    )
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        prepared = prepare_run(config, Path(out) / "run")
        prepare_seconds = time.perf_counter() - start
    profiler = cProfile.Profile() if args.profile else None
    frames = []
    with threadpool_limits(1):
        start, cpu = time.perf_counter(), time.process_time()
        for traj in prepared.plan:
            if profiler:
                profiler.enable()
            frames.append(run(traj, prepared.features, prepared.model, args.plain))
            if profiler:
                profiler.disable()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        return
    results = pd.concat(frames)
    steps = len(results)
    fit, predict = results["fit_seconds"].sum(), results["predict_seconds"].sum()
    final = results.groupby("trajectory")["accuracy"].last()
    out = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average": os.getloadavg()},
        "preset": args.preset,
        "model": args.model,
        "fast": not args.plain,
        "tokenizer": config.tokenizer,
        "features_shape": list(prepared.features.X.shape),
        "trajectories": len(prepared.plan),
        "steps": steps,
        "prepare_seconds": round(prepare_seconds, 2),
        "wall_seconds": round(wall, 2),
        "per_step_seconds": round(wall / steps, 4),
        "fit_per_step": round(fit / steps, 4),
        "predict_per_step": round(predict / steps, 4),
        "rest_per_step": round((wall - fit - predict) / steps, 4),
        "cpu_per_step": round(cpu / steps, 4),
        "mean_final_accuracy": round(float(final.mean()), 4),
    }  # fmt: skip
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
