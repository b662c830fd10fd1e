"""What checking a cache entry costs (issue #14 item 2); prints JSON.

Usage: MODELCOLLAPSE_REAL_DATA=path python benchmarks/bench_cache_check.py
       [--tokenizer seed] [--ngrams 1,1] [--repeats 7] [--resample N]

Fills an empty feature and token cache for the real 15,980-review sample (or, with
``--resample N``, the sample drawn with replacement to N reviews, numpy seed 0), then times
(median of ``--repeats``) the check every load makes (re-hashing every file with SHA-256 and
comparing with the record) against the load itself (memory-mapping the matrix) and against
making the entry (tokenising and counting). The files are in the page cache after the first
pass, as they are when a run starts right after another; a cold disk adds its read time to
both the check and the first use of the matrix. The machine's load average is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.environ.get("MODELCOLLAPSE_REAL_DATA"))
    parser.add_argument("--tokenizer", default="seed")
    parser.add_argument("--ngrams", default="1,1")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--resample", type=int, default=0)
    args = parser.parse_args()
    if not args.data:
        parser.error("give --data or set MODELCOLLAPSE_REAL_DATA")
    cache = tempfile.mkdtemp(prefix="bench-cache-check-")
    os.environ["MODELCOLLAPSE_CACHE"] = cache

    import numpy as np

    from modelcollapse.data.corpus import Corpus
    from modelcollapse.data.readers import read_corpus
    from modelcollapse.features import vectorize as vec

    corpus = read_corpus(Path(args.data))
    if args.resample:
        picks = np.random.default_rng(0).integers(0, len(corpus), size=args.resample)
        texts = [corpus.texts[i] for i in picks]
        corpus = Corpus(texts=texts, labels=np.asarray(corpus.labels)[picks], source="resampled")
    ngrams = tuple(int(x) for x in args.ngrams.split(","))
    load_before = os.getloadavg()

    start = time.perf_counter()
    features = vec.featurize(corpus, args.tokenizer, ngrams)
    build = time.perf_counter() - start
    folder, tokens = features.path, vec.token_cache_path(corpus, args.tokenizer)
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    nbytes = sum(sizes.values()) + tokens.stat().st_size

    def timed(fn) -> float:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def check() -> None:
        assert vec._features_problem(folder, features.key, corpus.fingerprint) is None
        assert vec._token_problem(tokens, corpus, args.tokenizer) is None

    def load() -> None:
        vec.load_features.cache_clear()
        vec.load_features(folder)

    def cached() -> None:  # what a run calls: check, then load
        vec.load_features.cache_clear()
        vec.featurize(corpus, args.tokenizer, ngrams)

    result = {
        "reviews": len(corpus),
        "tokenizer": args.tokenizer,
        "ngram_range": list(ngrams),
        "entry_mb": round(nbytes / 2**20, 2),
        "files_mb": {k: round(v / 2**20, 3) for k, v in sorted(sizes.items())}
        | {tokens.name: round(tokens.stat().st_size / 2**20, 3)},
        "build_s": round(build, 3),
        "check_s": round(timed(check), 4),
        "load_s": round(timed(load), 4),
        "featurize_cached_s": round(timed(cached), 4),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    result["check_mb_per_s"] = round(result["entry_mb"] / result["check_s"])
    print(json.dumps(result, indent=2))
    shutil.rmtree(cache)


if __name__ == "__main__":
    main()
