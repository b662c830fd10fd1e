"""A benchmark corpus whose vocabulary grows like real text (Heaps' law), built from the sample.

Usage:
    python benchmarks/heaps_corpus.py fit [--sample FILE]
    python benchmarks/heaps_corpus.py build --sizes 400000,3600000 [--test 0] [--out DIR]
    python benchmarks/heaps_corpus.py check FILE [--sample FILE]

``fit`` fits Heaps' law, types = K · reviews^b, to the sample's unigram and bigram type
counts at 500 … 15,980 reviews (file order; scikit-learn's token pattern ``(?u)\\b\\w\\w+\\b``
on lowercased text, bigrams within a review, as ``CountVectorizer`` forms them).

``build`` writes fastText files of generated reviews whose type counts follow those fitted
curves. Review i is a sample review drawn with replacement (so lengths and class balance are
the sample's, and its words carry the sample's signal), in which some word tokens are
replaced by *coined* words (consonant strings that are no English word, so neither
tokenizer changes them). A coined replacement is a new word type at the rate Heaps' law
implies for unigrams; otherwise it repeats an earlier coined token chosen uniformly (Simon's
process, so coined words get a Zipf-like frequency distribution). Replacing a token also
makes new bigrams with its neighbours: the number of replacements is set so that the bigram
type count follows its curve. A feedback controller does both: every chunk of reviews it
counts the types so far exactly and sets the next chunk's coinages and replacements to reach
the fitted curve at the chunk's end. Built once, longest size first; the files of shorter
sizes are the first lines of the longest (the curve holds for every prefix). ``--test N``
also writes ``test.ft.txt``: N more reviews drawn from a disjoint part of the sample (the
last 3,980 reviews of a seeded shuffle; training draws from the other 12,000), continuing the
same process, so no test review is built on a training review's text.

``check`` counts a built file's types at the sample's sizes (and the fit's exponents on it)
with scikit-learn's ``CountVectorizer`` — independent of the generator's own counting — and
prints them beside the sample's.
"""

from __future__ import annotations

import argparse
import bz2
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

DEFAULT_SAMPLE = Path(
    os.environ.get(
        "MODELCOLLAPSE_REAL_DATA",
        Path(__file__).resolve().parents[2] / "shared/data/amazon_polarity_sample.ft.txt.bz2",
    )
)
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # CountVectorizer's default token_pattern
#: Sizes of the fit (the issue's 500 … 15,980 reviews).
FIT_SIZES = (500, 1000, 2000, 4000, 8000, 15980)
# Letters of coined words: no vowels and no "s"/"y", so WordNet's noun rules (-s, -es, -ies,
# -men, ...) never match and the seed tokenizer's lemmatiser leaves them as they are.
_CONSONANTS = np.array(list("bcdfghjklmnpqrtvwxz"))


# ----------------------------------------------------------------------------- the sample


@dataclass
class Sample:
    """The sample's reviews as token ids (CountVectorizer tokens) with their text spans."""

    labels: list[bytes]  # each line's "__label__x" prefix
    texts: list[str]  # the text whose spans ``starts``/``ends`` index
    terms: list[str]  # token id -> term
    ids: np.ndarray  # token ids of all reviews, concatenated
    starts: np.ndarray  # span of each token in its review's text
    ends: np.ndarray
    offsets: np.ndarray  # review r's tokens are ids[offsets[r]:offsets[r + 1]]

    @property
    def n(self) -> int:
        return len(self.texts)

    def doc_ids(self, r: int) -> np.ndarray:
        return self.ids[self.offsets[r] : self.offsets[r + 1]]


def read_lines(path: Path) -> list[tuple[bytes, str]]:
    """(label prefix, text) of each fastText line of ``path`` (bz2 if it ends so)."""
    opener = bz2.open if path.suffix == ".bz2" else open
    out = []
    with opener(path, "rb") as fh:
        for raw in fh:
            line = raw.decode("utf-8").rstrip("\n")
            if not line.strip():
                continue
            label, _, text = line.partition(" ")
            out.append((label.encode(), text))
    return out


def load_sample(lines: Sequence[tuple[bytes, str]]) -> Sample:
    vocab: dict[str, int] = {}
    ids: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    offsets = [0]
    texts = []
    for _, text in lines:
        lowered = text.lower()
        # Spans index the original text where lowercasing keeps its length (nearly always).
        base = text if len(lowered) == len(text) else lowered
        texts.append(base)
        for m in TOKEN.finditer(lowered):
            ids.append(vocab.setdefault(m.group(), len(vocab)))
            starts.append(m.start())
            ends.append(m.end())
        offsets.append(len(ids))
    return Sample(
        labels=[label for label, _ in lines],
        texts=texts,
        terms=list(vocab),
        ids=np.asarray(ids, dtype=np.int64),
        starts=np.asarray(starts, dtype=np.int64),
        ends=np.asarray(ends, dtype=np.int64),
        offsets=np.asarray(offsets, dtype=np.int64),
    )


# ----------------------------------------------------------------------------- Heaps' law


@dataclass(frozen=True)
class Heaps:
    """types = k · reviews ** b."""

    k: float
    b: float

    def __call__(self, n: float | np.ndarray) -> float | np.ndarray:
        return self.k * np.asarray(n, dtype=float) ** self.b


def fit_heaps(sizes: Sequence[int], types: Sequence[int]) -> Heaps:
    """Least squares on log types against log reviews."""
    fit = stats.linregress(np.log(sizes), np.log(types))
    return Heaps(float(np.exp(fit.intercept)), float(fit.slope))


def type_curve(docs: Iterator[list[str]] | Sequence[list[str]], sizes: Sequence[int]):
    """Unigram and bigram type counts after the first ``n`` documents, for each n in sizes."""
    uni: set[str] = set()
    bi: set[tuple[str, str]] = set()
    out = []
    wanted = sorted(sizes)
    i = 0
    for n, tokens in enumerate(docs, start=1):
        uni.update(tokens)
        bi.update(itertools.pairwise(tokens))
        if i < len(wanted) and n == wanted[i]:
            out.append((n, len(uni), len(bi)))
            i += 1
            if i == len(wanted):
                break
    return out


def tokens_of(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def fit_sample(lines: Sequence[tuple[bytes, str]], sizes: Sequence[int] = FIT_SIZES) -> dict:
    sizes = [s for s in sizes if s <= len(lines)]
    curve = type_curve((tokens_of(text) for _, text in lines), sizes)
    ns, v1, v2 = (list(c) for c in zip(*curve, strict=True))
    return {
        "sizes": ns,
        "unigrams": v1,
        "bigrams": v2,
        "unigram_fit": fit_heaps(ns, v1),
        "bigram_fit": fit_heaps(ns, v2),
    }


# ----------------------------------------------------------------------------- generator


def coin(k: int, taken: frozenset[str] | set[str] = frozenset()) -> str:
    """The k-th coined word: 'z' plus k in base 19 over consonants, at least 7 letters."""
    letters = []
    while True:
        k, digit = divmod(k, len(_CONSONANTS))
        letters.append(_CONSONANTS[digit])
        if k == 0 and len(letters) >= 6:
            break
    word = "z" + "".join(letters)
    return word if word not in taken else word + "q"


class HeapsCorpus:
    """The generating process; :meth:`extend` appends reviews, keeping exact type counts.

    Unigram and bigram types are counted on token ids (sample terms, then coined words), as
    CountVectorizer would count them on the written text.
    """

    def __init__(
        self,
        sample: Sample,
        unigrams: Heaps,
        bigrams: Heaps,
        seed: int = 0,
        first_chunk: int = 100,
        growth: float = 1.25,
        max_chunk: int = 50_000,
    ) -> None:
        self.sample = sample
        self.targets = (unigrams, bigrams)
        self.rng = np.random.default_rng(seed)
        self.first_chunk, self.growth, self.max_chunk = first_chunk, growth, max_chunk
        self.n = 0  # reviews so far
        self.n_sample_terms = len(sample.terms)
        self.seen_uni = np.zeros(self.n_sample_terms, dtype=bool)
        self.n_coined = 0
        self.n_uni = 0
        self.seen_bi = np.zeros(0, dtype=np.uint64)  # sorted bigram keys
        self.history = np.zeros(0, dtype=np.int64)  # every coined token so far (Simon copies)
        self.per_replacement = 1.5  # new bigrams per replaced token, re-estimated each chunk
        self.taken = frozenset(sample.terms)
        self.words: list[str] = []  # coined words by id - n_sample_terms
        self.replaced = 0
        self.tokens = 0
        self.lengths = np.diff(sample.offsets)

    @property
    def n_bi(self) -> int:
        return len(self.seen_bi)

    def _chunk_size(self) -> int:
        return int(min(self.max_chunk, max(self.first_chunk, self.n * (self.growth - 1))))

    def _bigram_keys(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        keys = (ids[:-1].astype(np.uint64) << np.uint64(32)) | ids[1:].astype(np.uint64)
        # Drop the pairs that span two reviews (the last token of each review).
        last = np.cumsum(lengths)[:-1] - 1
        keep = np.ones(len(keys), dtype=bool)
        keep[last[(last >= 0) & (last < len(keys))]] = False
        return _sorted_unique(keys[keep])

    def _new_bigrams(self, keys: np.ndarray) -> np.ndarray:
        if not len(self.seen_bi):
            return keys
        pos = np.searchsorted(self.seen_bi, keys)
        pos[pos == len(self.seen_bi)] = 0
        return keys[self.seen_bi[pos] != keys]

    def _new_unigrams(self, ids: np.ndarray) -> np.ndarray:
        u = _sorted_unique(ids[ids < self.n_sample_terms])
        return u[~self.seen_uni[u]]

    def extend(self, m: int, pool: np.ndarray | None = None) -> Iterator[bytes]:
        """``m`` more reviews as fastText lines, in chunks; ``pool``: sample rows to draw from."""
        pool = np.arange(self.sample.n) if pool is None else np.asarray(pool)
        done = 0
        while done < m:
            size = min(self._chunk_size(), m - done)
            yield from self._chunk(size, pool)
            done += size

    def _chunk(self, m: int, pool: np.ndarray) -> Iterator[bytes]:
        s, rng = self.sample, self.rng
        picks = pool[rng.integers(0, len(pool), size=m)]
        lengths = self.lengths[picks]
        total = int(lengths.sum())
        first = np.cumsum(lengths) - lengths  # each review's first token in the chunk
        src = np.repeat(s.offsets[picks] - first, lengths) + np.arange(total)
        ids = s.ids[src].copy()

        # What the drawn reviews alone would add, then what the curves ask for by the end.
        base_uni = len(self._new_unigrams(ids))
        base_bi = len(self._new_bigrams(self._bigram_keys(ids, lengths)))
        end = self.n + m
        need_uni = self.targets[0](end) - self.n_uni - base_uni
        need_bi = self.targets[1](end) - self.n_bi - base_bi
        n_new = int(max(0, round(need_uni)))
        n_repl = int(min(total, max(n_new, round(max(0.0, need_bi) / self.per_replacement))))
        n_new = min(n_new, n_repl)

        positions = rng.choice(total, size=n_repl, replace=False) if n_repl else np.zeros(0, int)
        fresh = np.arange(n_new, dtype=np.int64) + self.n_sample_terms + self.n_coined
        source = np.concatenate([self.history, fresh])
        copies = source[rng.integers(0, len(source), size=n_repl - n_new)] if len(source) else []
        repl = rng.permutation(np.concatenate([fresh, np.asarray(copies, dtype=np.int64)]))
        ids[positions] = repl
        self.words.extend(coin(k, self.taken) for k in range(self.n_coined, self.n_coined + n_new))
        self.n_coined += n_new
        self.history = np.concatenate([self.history, repl])

        new_uni = self._new_unigrams(ids)
        self.seen_uni[new_uni] = True
        new_bi = self._new_bigrams(self._bigram_keys(ids, lengths))
        merged = np.concatenate([self.seen_bi, new_bi])
        merged.sort(kind="stable")  # two sorted runs: timsort merges them in linear time
        self.seen_bi = merged
        self.n_uni = int(self.seen_uni.sum()) + self.n_coined
        if n_repl >= 100:
            gain = (len(new_bi) - base_bi) / n_repl
            self.per_replacement = max(0.5, 0.5 * self.per_replacement + 0.5 * gain)
        self.n = end
        self.replaced += n_repl
        self.tokens += total
        yield from self._lines(picks, src, ids, positions, first)

    def _lines(self, picks, src, ids, positions, first) -> Iterator[bytes]:
        s = self.sample
        order = np.sort(positions)
        review = np.searchsorted(first, order, side="right") - 1
        bounds = np.searchsorted(review, np.arange(len(picks) + 1))
        for j, r in enumerate(picks):
            lo, hi = bounds[j], bounds[j + 1]
            text = s.texts[r]
            if lo < hi:
                parts, at = [], 0
                for p in order[lo:hi]:
                    t = src[p]
                    parts.append(text[at : s.starts[t]])
                    parts.append(self.words[ids[p] - self.n_sample_terms])
                    at = s.ends[t]
                parts.append(text[at:])
                text = "".join(parts)
            yield s.labels[r] + b" " + text.encode("utf-8") + b"\n"

    def state(self) -> dict:
        return {
            "reviews": self.n,
            "unigram_types": self.n_uni,
            "bigram_types": self.n_bi,
            "coined_words": self.n_coined,
            "tokens": self.tokens,
            "replaced_tokens": self.replaced,
            "unigram_law": round(float(self.targets[0](self.n))),
            "bigram_law": round(float(self.targets[1](self.n))),
        }


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    # np.unique hashes 64-bit keys here, several times slower than sorting them.
    values = np.sort(values)
    if len(values) < 2:
        return values
    return values[np.concatenate([[True], values[1:] != values[:-1]])]


def split_pools(n: int, n_train: int = 12_000, seed: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint sample rows for training and test reviews (bench_fullcurve.py's split)."""
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[:n_train]), np.sort(order[n_train:])


def build(sample_path: Path, sizes: Sequence[int], out: Path, seed: int = 0, test: int = 0) -> dict:
    lines = read_lines(sample_path)
    fitted = fit_sample(lines)
    sample = load_sample(lines)
    corpus = HeapsCorpus(sample, fitted["unigram_fit"], fitted["bigram_fit"], seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    sizes = sorted(sizes)
    largest = out / f"heaps-{sizes[-1]}.ft.txt"
    train_pool, test_pool = split_pools(sample.n) if test else (None, None)
    start = time.perf_counter()
    states = []
    with open(largest.with_suffix(".part"), "wb", buffering=1 << 22) as fh:
        done = 0
        for n in sizes:
            for line in corpus.extend(n - done, train_pool):
                fh.write(line)
            done = n
            states.append(corpus.state())
            print(json.dumps(states[-1]), file=sys.stderr, flush=True)
    largest.with_suffix(".part").replace(largest)
    if test:
        with open(out / "test.ft.txt", "wb", buffering=1 << 22) as fh:
            for line in corpus.extend(test, test_pool):
                fh.write(line)
        states.append(corpus.state())
    built = time.perf_counter() - start
    for n in sizes[:-1]:  # shorter corpora: the first n lines
        with open(largest, "rb") as src, open(out / f"heaps-{n}.ft.txt", "wb") as dst:
            for i, line in enumerate(src):
                if i == n:
                    break
                dst.write(line)
    return {
        "seed": seed,
        "build_s": round(built, 1),
        "states": states,
        "unigram_fit": vars(fitted["unigram_fit"]),
        "bigram_fit": vars(fitted["bigram_fit"]),
    }


def check(path: Path, sample_path: Path, sizes: Sequence[int] = FIT_SIZES) -> dict:
    """Type counts of a built file and of the sample at ``sizes``, by CountVectorizer."""
    from sklearn.feature_extraction.text import CountVectorizer

    def counts(lines: Sequence[tuple[bytes, str]]) -> list[tuple[int, int, int]]:
        rows = []
        for n in sizes:
            texts = [text for _, text in lines[:n]]
            v1 = len(CountVectorizer().fit(texts).vocabulary_)
            v2 = len(CountVectorizer(ngram_range=(2, 2)).fit(texts).vocabulary_)
            rows.append((n, v1, v2))
        return rows

    generated = read_lines_head(path, max(sizes))
    sample = read_lines(sample_path)
    ours, theirs = counts(generated), counts(sample)
    fit = {}
    for name, col in (("unigrams", 1), ("bigrams", 2)):
        fit[name] = {
            "generated": vars(fit_heaps([r[0] for r in ours], [r[col] for r in ours])),
            "sample": vars(fit_heaps([r[0] for r in theirs], [r[col] for r in theirs])),
        }
    labels = [label for label, _ in generated]
    lengths = [len(tokens_of(text)) for _, text in generated]
    s_lengths = [len(tokens_of(text)) for _, text in sample]
    return {
        "rows": [
            {
                "reviews": a[0],
                "unigrams_generated": a[1],
                "unigrams_sample": b[1],
                "bigrams_generated": a[2],
                "bigrams_sample": b[2],
            }
            for a, b in zip(ours, theirs, strict=True)
        ],
        "fit": fit,
        "share_label_2": {
            "generated": labels.count(b"__label__2") / len(labels),
            "sample": [lb for lb, _ in sample].count(b"__label__2") / len(sample),
        },
        "tokens_per_review": {
            "generated": float(np.mean(lengths)),
            "sample": float(np.mean(s_lengths)),
        },
    }


def read_lines_head(path: Path, n: int) -> list[tuple[bytes, str]]:
    out = []
    with open(path, "rb") as fh:
        for raw in fh:
            label, _, text = raw.decode("utf-8").rstrip("\n").partition(" ")
            out.append((label.encode(), text))
            if len(out) == n:
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_fit = sub.add_parser("fit")
    p_build = sub.add_parser("build")
    p_check = sub.add_parser("check")
    for p in (p_fit, p_build, p_check):
        p.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    p_build.add_argument("--sizes", default="400000,3600000")
    p_build.add_argument("--test", type=int, default=0, help="also a test.ft.txt of N reviews")
    p_build.add_argument("--seed", type=int, default=0)
    p_build.add_argument("--out", type=Path, default=Path("/tmp/modelcollapse-heaps"))
    p_check.add_argument("file", type=Path)
    args = parser.parse_args()
    if args.command == "fit":
        fitted = fit_sample(read_lines(args.sample))
        for key in ("unigram_fit", "bigram_fit"):
            fitted[key] = vars(fitted[key])
        print(json.dumps(fitted, indent=2))
    elif args.command == "build":
        sizes = [int(s) for s in args.sizes.split(",")]
        print(json.dumps(build(args.sample, sizes, args.out, args.seed, args.test), indent=2))
    else:
        print(json.dumps(check(args.file, args.sample), indent=2))


if __name__ == "__main__":
    main()
