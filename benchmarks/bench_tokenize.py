"""Tokenizer throughput on real reviews, one process; prints JSON.

Usage: python benchmarks/bench_tokenize.py [SAMPLE.ft.txt.bz2] [--repeat N]

Reads fastText lines (``__label__N Title: text``) and tokenizes the text after
the label. ``seed_cold`` starts with an empty lemma memo (WordNet already loaded,
its load time is reported apart); ``seed_warm`` is a second pass, the steady state
of a long run in which most words have been seen.
"""

from __future__ import annotations

import argparse
import bz2
import json
import platform
import time
from pathlib import Path

from modelcollapse.features import tokenize as tok

DEFAULT_SAMPLE = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon_polarity_sample.ft.txt.bz2"
)


def read_texts(path: Path) -> list[str]:
    """Review texts (title and body) of a fastText file, bz2 or plain."""
    opener = bz2.open if path.suffix == ".bz2" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [line.rstrip("\n").split(" ", 1)[1] for line in fh if line.strip()]


def best_rate(fn, texts: list[str], repeat: int) -> float:
    """Reviews per second of the fastest of ``repeat`` passes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            fn(text)
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", nargs="?", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    texts = read_texts(args.sample)
    start = time.perf_counter()
    tok.wordnet_reader()
    wordnet_load_s = time.perf_counter() - start

    tok._LEMMAS.clear()
    seed_cold = best_rate(tok.seed_tokenize, texts, 1)
    distinct_words = len(tok._LEMMAS)
    result = {
        "sample": str(args.sample),
        "reviews": len(texts),
        "mean_chars": round(sum(map(len, texts)) / len(texts), 1),
        "python": platform.python_version(),
        "wordnet_load_s": round(wordnet_load_s, 3),
        "reviews_per_s": {
            "fast": round(best_rate(tok.fast_tokenize, texts, args.repeat)),
            "seed_cold": round(seed_cold),
            "seed_warm": round(best_rate(tok.seed_tokenize, texts, args.repeat)),
        },
        "seed_distinct_words": distinct_words,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
