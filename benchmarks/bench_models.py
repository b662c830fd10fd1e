"""Every registered model side by side on the real sample: fit time and test accuracy at
1,000 and 10,000 training reviews, and fastText's learning curve. Prints a Markdown table and
writes JSON.

Usage: python benchmarks/bench_models.py [--data SAMPLE] [--sizes 1000,10000] [--repeats 3]
       [--models all] [--curve 500,1000,2000,4000,8000,10000] [--json out.json]

The sample's 15,980 reviews are shuffled once per repeat (seed = repeat); the last 5,980 are the
test set and the first ``size`` rows train, so both sizes of a repeat score the same test reviews.
Each model gets what the loop gives it: a counts model the term counts of its training rows
(restricted to their vocabulary, as the loop restricts them), a documents model the token text.
Featurisation (tokenising and counting, once for the corpus) is not in the fit time. Everything
runs on one thread, as a runner worker does. Fit time is wall time: on a loaded machine it is an
upper bound, and the table prints the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from modelcollapse.core.metrics import evaluate
from modelcollapse.data.readers import read_corpus
from modelcollapse.features.vectorize import featurize, restrict_to_vocabulary
from modelcollapse.models import MODELS, ModelSpec

DEFAULT_SAMPLE = Path(
    os.environ.get(
        "MODELCOLLAPSE_REAL_DATA",
        Path(__file__).resolve().parents[2] / "shared/data/amazon_polarity_sample.ft.txt.bz2",
    )
)
N_TEST = 5980


def fit_and_score(spec: ModelSpec, features, train: np.ndarray, test: np.ndarray, seed: int):
    y = features.labels
    if spec.input == "documents":
        docs = features.document_array
        X_train, X_test = docs[train], docs[test]
    else:
        _, (X_train, X_test) = restrict_to_vocabulary(features.X[train], features.X[test])
    est = spec.make(seed)
    start = time.perf_counter()
    est.fit(X_train, y[train])
    fit_seconds = time.perf_counter() - start
    metrics = evaluate(est, X_test, y[test])
    return fit_seconds, metrics["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="all")
    parser.add_argument("--curve", default="500,1000,2000,4000,8000,10000")
    parser.add_argument("--tokenizer", default="seed")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    names = list(MODELS.names()) if args.models == "all" else args.models.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    curve = [int(s) for s in args.curve.split(",")] if args.curve else []
    corpus = read_corpus(args.data)
    n = len(corpus)
    features = {}
    for name in names:
        spec = MODELS[name]
        key = ("documents",) if spec.input == "documents" else spec.ngram_range
        if key not in features:
            features[key] = featurize(
                corpus, args.tokenizer, spec.ngram_range, counts=spec.input == "counts"
            )
    load_before = os.getloadavg()
    results: list[dict[str, object]] = []
    with threadpool_limits(1):
        for repeat in range(args.repeats):
            order = np.random.default_rng(repeat).permutation(n)
            test = np.sort(order[n - N_TEST :])
            for name in names:
                spec = MODELS[name]
                key = ("documents",) if spec.input == "documents" else spec.ngram_range
                grid = sorted(set(sizes) | (set(curve) if name == "fasttext" else set()))
                for size in grid:
                    train = np.sort(order[:size])
                    seconds, accuracy = fit_and_score(spec, features[key], train, test, repeat)
                    row = {"model": name, "size": size, "repeat": repeat,
                           "fit_seconds": seconds, "accuracy": accuracy}  # fmt: skip
                    results.append(row)
                    print(json.dumps(row), flush=True)
    load_after = os.getloadavg()
    machine = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in load_after],
    }
    print(json.dumps({"machine": machine, "tokenizer": args.tokenizer, "n_test": N_TEST}))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": results}, indent=1))
    print(table(results, names, sizes, args.repeats))
    if curve:
        print(table([r for r in results if r["model"] == "fasttext"], ["fasttext"], curve,
                    args.repeats))  # fmt: skip


def table(results, names, sizes, repeats) -> str:
    head = "| model | input | " + " | ".join(f"acc. {s:,} (%) | fit s {s:,}" for s in sizes) + " |"
    lines = [head, "|---" * (2 + 2 * len(sizes)) + "|"]
    for name in names:
        cells = []
        for size in sizes:
            rows = [r for r in results if r["model"] == name and r["size"] == size]
            if not rows:
                cells += ["", ""]
                continue
            acc = np.array([r["accuracy"] for r in rows])
            fit = np.array([r["fit_seconds"] for r in rows])
            sd = f" ± {acc.std(ddof=1) * 100:.2f}" if len(acc) > 1 else ""
            cells += [f"{acc.mean() * 100:.2f}{sd}", f"{np.median(fit):.2f}"]
        lines.append(f"| `{name}` | {MODELS[name].input} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n(mean ± sd over {repeats} repeats; fit: median seconds)\n"


if __name__ == "__main__":
    main()
