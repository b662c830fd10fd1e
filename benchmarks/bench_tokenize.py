"""Tokenizer throughput on real reviews, one process; prints JSON.

Usage: python benchmarks/bench_tokenize.py [SAMPLE.ft.txt.bz2] [--repeat N]
       python benchmarks/bench_tokenize.py [SAMPLE] --against OLD/tokenize.py [--repeat N]

Reads fastText lines (``__label__N Title: text``) and tokenizes the text after
the label. ``seed_cold`` starts with an empty lemma memo (WordNet already loaded,
its load time is reported apart); ``seed_warm`` is a second pass, the steady state
of a long run in which most words have been seen.

``--against`` times another version's ``features/tokenize.py`` (e.g. from ``git
archive``) and this one alternately in one process, ``--repeat`` rounds of one pass
each (alternating which goes first), memos warm: on a shared machine, load changes
then hit both alike. It prints
each one's reviews/s and the median ratio this/other per tokenizer.
"""

from __future__ import annotations

import argparse
import bz2
import importlib.util
import json
import platform
import statistics
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


def one_pass(fn, texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        fn(text)
    return len(texts) / (time.perf_counter() - start)


def against(other_path: Path, texts: list[str], rounds: int) -> dict:
    """This tokenize module and the one at ``other_path``, timed round by round."""
    spec = importlib.util.spec_from_file_location(
        "modelcollapse.features._tokenize_other", other_path
    )
    other = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(other)
    pairs = {name: (getattr(other, f"{name}_tokenize"), getattr(tok, f"{name}_tokenize"))
             for name in ("fast", "seed")}  # fmt: skip
    for old, new in pairs.values():
        for text in texts:  # warm the lemma memos
            old(text)
            new(text)
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in pairs}
    for r in range(rounds):
        for name, (old, new) in pairs.items():
            if r % 2:  # alternate which goes first, so neither always runs warmer
                n, o = one_pass(new, texts), one_pass(old, texts)
            else:
                o, n = one_pass(old, texts), one_pass(new, texts)
            rates[name].append((o, n))
    return {
        name: {
            "other_reviews_per_s": [round(o) for o, _ in values],
            "this_reviews_per_s": [round(n) for _, n in values],
            "median_ratio_this_over_other": round(statistics.median(n / o for o, n in values), 3),
        }
        for name, values in rates.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample", nargs="?", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another version's tokenize.py")
    args = parser.parse_args()

    texts = read_texts(args.sample)
    if args.against is not None:
        result = {"sample": str(args.sample), "rounds": args.repeat}
        result.update(python=platform.python_version(), **against(args.against, texts, args.repeat))
        print(json.dumps(result, indent=2))
        return
    start = time.perf_counter()
    tok.wordnet_nouns()
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
