"""seed-rf at the original's scale: fit and predict seconds apart, per step, on 400k reviews; JSON.

Usage: python benchmarks/bench_seed_rf.py [--size 400000] [--sizes 1000,1100,1200] [--corpus FILE]
           [--reference-steps 1] [--reference-rows N] [--trees 1000]
           [--workdir /tmp/modelcollapse-fullcorpus]

The corpus is the real 15,980-review sample resampled with replacement to ``--size`` lines
(``bench_fullcorpus.build``, numpy seed 4), featurised with the seed tokenizer (cached). As in
``lower-rates`` at scale 1 (``test_size = "rest"``), a repeat draws a pool of the largest size and
tests on all the other reviews; each step fits seed-rf (one thread, as a runner worker) on the
first ``size`` pool rows and scores the test set twice: the loop's path
(``FastMatrices.predictions``: each distinct test review once) and, for the first
``--reference-steps`` steps, scikit-learn's own ``predict_proba`` on every test row
(``PlainMatrices``), checking that both give the same probabilities bit for bit;
``--reference-rows N`` gives scikit-learn only the first N test rows and scales its seconds to
the whole test set (prediction time is linear in the rows), for a loaded machine.
``--corpus FILE`` uses a fastText file instead of the resampled sample, e.g. the
Heaps-faithful ``heaps-400000.ft.txt`` of ``benchmarks/heaps_corpus.py build``, whose reviews
are (nearly) all distinct, as the real corpus's are.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_fullcorpus import DEFAULT_SAMPLE, DEFAULT_WORKDIR, build

from modelcollapse.data.resolve import load_data
from modelcollapse.features.vectorize import featurize
from modelcollapse.models import _seed_rf
from modelcollapse.scoring import FastMatrices, PlainMatrices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=400_000)
    parser.add_argument("--sizes", default="1000,1100,1200", help="training sizes, one per step")
    parser.add_argument("--reference-steps", type=int, default=1)
    parser.add_argument("--trees", type=int, default=1000)
    parser.add_argument(
        "--reference-rows", type=int, default=0,
        help="scikit-learn predicts this many test rows only (0: all); its seconds are scaled up",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument(
        "--corpus", type=Path,
        help="a fastText file to use instead of the resampled sample (e.g. heaps-400000.ft.txt)",
    )  # fmt: skip
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = os.getloadavg()

    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.corpus is None:
        target = args.workdir / f"resampled-{args.size}.ft.txt"
        path = build(args.sample, args.size, target, args.seed)
        corpus_name = f"{args.sample.name} resampled to {args.size:,} (seed {args.seed})"
    else:
        path, corpus_name = args.corpus, str(args.corpus)
    start = time.perf_counter()
    features = featurize(load_data(str(path)), "seed", (1, 1))
    featurise_seconds = time.perf_counter() - start
    order = np.random.default_rng(0).permutation(features.n_rows)
    pool, test = order[: sizes[-1]], np.sort(order[sizes[-1] :])
    X, y = features.X, features.labels
    start = time.perf_counter()
    fast = FastMatrices(X[pool], X[test])
    reference = test[: args.reference_rows] if args.reference_rows else test
    plain = PlainMatrices(X[pool], X[reference]) if args.reference_steps else None
    setup_seconds = time.perf_counter() - start
    steps = []
    with threadpool_limits(1):
        for i, size in enumerate(sizes):
            X_fit, vocabulary = fast.training_matrix(np.arange(size), size)
            est = _seed_rf(i, n_estimators=args.trees)
            start = time.perf_counter()
            est.fit(X_fit, y[pool[:size]])
            step = {"size": size, "fit_seconds": round(time.perf_counter() - start, 2)}
            start = time.perf_counter()
            p_fast, labels_fast = fast.predictions(est, vocabulary)
            step["predict_seconds"] = round(time.perf_counter() - start, 2)
            if i < args.reference_steps:
                _, v_plain = plain.training_matrix(np.arange(size), size)
                start = time.perf_counter()
                p_plain, labels_plain = plain.predictions(est, v_plain)
                seconds = time.perf_counter() - start
                step["sklearn_predict_seconds"] = round(seconds, 2)
                step["sklearn_rows"] = len(reference)
                step["sklearn_seconds_all_rows"] = round(seconds * len(test) / len(reference), 1)
                n = len(reference)  # the first rows of the test set
                step["same_probabilities"] = bool(np.array_equal(p_fast[:n], p_plain))
                step["same_labels"] = bool(np.array_equal(labels_fast[:n], labels_plain))
            step["accuracy"] = round(float(np.mean(labels_fast == y[test])), 4)
            steps.append(step)
            print(json.dumps(step), file=sys.stderr, flush=True)
    print(
        json.dumps(
            {
                "corpus": corpus_name,
                "trees": args.trees,
                "n_test": len(test),
                "distinct_test_reviews": int(fast._distinct_test()[0].shape[0]),
                "featurise_seconds": round(featurise_seconds, 1),
                "setup_seconds": round(setup_seconds, 1),
                "steps": steps,
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
