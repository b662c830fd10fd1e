"""Time whole trajectories of a preset on one core, split into fit, predict and the rest; JSON.

Usage: python benchmarks/bench_loop.py [--preset lower-rates-detail] [--model logreg]
           [--rates 0,0.05,0.09] [--repeats 1] [--data SAMPLE] [--profile N] [--generic-scoring]

Runs the preset's trajectories (after the overrides) one after another in this
process, on one thread as a runner worker does, after featurising (cached). Per
step: wall and CPU time, ``fit_seconds`` (the model's fit), ``predict_seconds`` (scoring
the test set) and the rest (slicing, labelling, bookkeeping). ``--profile N``
prints the N most expensive functions (cProfile, cumulative) instead of timing.
``--generic-scoring`` scores a TF-IDF + logistic-regression model the way any other model is
scored (a restricted copy of the test set at every step) instead of through its shortcut.
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
from sklearn.feature_extraction.text import TfidfTransformer
from threadpoolctl import threadpool_limits

from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.experiments.plan import run_trajectory
from modelcollapse.models import ModelSpec, get_model
from modelcollapse.runner import prepare_run

DEFAULT_SAMPLE = Path(
    os.environ.get(
        "MODELCOLLAPSE_REAL_DATA",
        Path(__file__).resolve().parents[2] / "shared/data/amazon_polarity_sample.ft.txt.bz2",
    )
)


class _Tfidf(TfidfTransformer):
    """The same transformer under another class: the loop's shortcut does not recognise it."""


def _generic(make):
    def made(random_state: int):
        est = make(random_state)
        for _, step in getattr(est, "steps", []):
            if type(step) is TfidfTransformer:
                step.__class__ = _Tfidf
        return est

    return made


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
    parser.add_argument("--generic-scoring", action="store_true")
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
        model = get_model(config.model)
        if args.generic_scoring:
            model = ModelSpec(model.name, _generic(model.make), model.ngram_range)
        prepared = prepare_run(config, Path(out) / "run", model=model)
        prepare_seconds = time.perf_counter() - start
    profiler = cProfile.Profile() if args.profile else None
    frames = []
    with threadpool_limits(1):
        start, cpu = time.perf_counter(), time.process_time()
        for traj in prepared.plan:
            if profiler:
                profiler.enable()
            frames.append(run_trajectory(traj, prepared.features, prepared.model, "bench"))
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
