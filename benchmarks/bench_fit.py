"""Featurisation and one fit per model at growing sizes, on resampled real reviews; prints JSON.

Usage: python benchmarks/bench_fit.py [--data SAMPLE] [--sizes 1000,10000,100000] [--models ...]

The corpus of N reviews is drawn with replacement from the real sample (15,980
reviews), so its vocabulary is smaller than a real corpus of N reviews would have.
Each fit runs on one thread, as a runner worker does; the test set is 5,000 rows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from modelcollapse.data.corpus import Corpus
from modelcollapse.data.readers import read_corpus
from modelcollapse.features.vectorize import featurize
from modelcollapse.loop import SelfLabellingLoop
from modelcollapse.models import MODELS

DEFAULT_SAMPLE = Path(
    os.environ.get(
        "MODELCOLLAPSE_REAL_DATA",
        Path(__file__).resolve().parents[2] / "shared/data/amazon_polarity_sample.ft.txt.bz2",
    )
)


def resampled(corpus: Corpus, n: int, seed: int = 0) -> Corpus:
    rows = np.random.default_rng(seed).integers(0, len(corpus), n)
    texts = [corpus.texts[i] for i in rows]
    return Corpus(texts, corpus.labels[rows], f"{corpus.source} x{n} resampled")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--models", default="nb,logreg,seed-rf")
    parser.add_argument("--tokenizer", default="seed")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    base = read_corpus(args.data)
    n_test = 5000
    corpus = resampled(base, max(sizes) + n_test)
    out: dict[str, object] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "processor": platform.processor() or platform.machine()},
        "data": f"{args.data.name} resampled to {len(corpus)} reviews",
        "tokenizer": args.tokenizer,
        "featurize_seconds": {},
        "fit_seconds": {},
        "predict_seconds": {},
        "accuracy": {},
    }  # fmt: skip
    for name in args.models.split(","):
        spec = MODELS[name]
        start = time.perf_counter()
        features = featurize(corpus, args.tokenizer, spec.ngram_range, use_cache=False)
        out["featurize_seconds"][f"{name} {spec.ngram_range}"] = time.perf_counter() - start
        X, y = features.X, features.labels
        for n in sizes:
            with threadpool_limits(1):
                loop = SelfLabellingLoop(spec, [n], 0.0, random_state=0)
                loop.fit(X[:n], y[:n], X[-n_test:], y[-n_test:])
            step = loop.history_[0]
            out["fit_seconds"][f"{name} {n}"] = step.fit_seconds
            out["predict_seconds"][f"{name} {n}"] = step.predict_seconds
            out["accuracy"][f"{name} {n}"] = step.accuracy
            print(name, n, round(step.fit_seconds, 2), flush=True)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
