"""What the generative-collapse papers measure on written text, from texts and per-text scores.

Everything here needs only the texts (each a review's tokens joined by single spaces) and,
for the perplexity profile, each text's log-perplexity under a fixed model (any generator
that scores text: :meth:`modelcollapse.generative.ClassConditionalLM.text_log_perplexities`
or a neural one). Pure functions: no I/O, randomness only from the generator passed in.

- :func:`perplexity_profile`: quantiles and a fixed-bin histogram of per-text perplexity under
  the generation-0 model (Shumailov et al., Nature 2024, Fig. 1b/c).
- :func:`zipf_slope`, :func:`tail_mass`: the rank–frequency tail (Dohmatob et al. 2024).
- :func:`js_divergence`: Jensen–Shannon divergence of n-gram distributions to real text.
- :func:`self_bleu`: mean BLEU-4 of each sampled text against the rest of the sample.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy.spatial.distance import jensenshannon
from scipy.stats import linregress

#: Percentiles of per-text perplexity stored as ``ppl_gen0_q05`` … ``ppl_gen0_q95``.
PPL_QUANTILES = (5, 25, 50, 75, 95)
#: Bin edges of the log-perplexity histogram (natural log, nats per token): 24 bins of 0.5
#: from 0 to 12; a text beyond either end counts in the end bin. ``ppl_gen0_hist_00`` is
#: [0, 0.5), …, ``ppl_gen0_hist_23`` is [11.5, 12].
LOG_PPL_EDGES = np.linspace(0.0, 12.0, 25)
#: Zipf fit range (ranks, inclusive) and the tail rank: the head's function words bend the
#: line, and past ~1,000 ranks a few thousand reviews give counts of 1–2 (ties).
ZIPF_RANKS = (10, 1000)
TAIL_RANK = 1000
SELF_BLEU_SAMPLE = 200
BLEU_EPSILON = 0.1  # nltk SmoothingFunction().method1's epsilon


def quantile_columns() -> list[str]:
    return [f"ppl_gen0_q{q:02d}" for q in PPL_QUANTILES]


def histogram_columns() -> list[str]:
    return [f"ppl_gen0_hist_{i:02d}" for i in range(len(LOG_PPL_EDGES) - 1)]


#: Ranks at which the rank–frequency curve is stored (``rank_freq_00001`` …): the relative
#: frequency of the word at that rank, NaN past the vocabulary.
FREQ_RANKS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def rank_frequency_columns() -> list[str]:
    return [f"rank_freq_{r:05d}" for r in FREQ_RANKS]


def rank_frequency_profile(docs: Sequence[str]) -> dict[str, float]:
    """Relative frequency of the word at each of :data:`FREQ_RANKS`."""
    freq = rank_frequency(docs)
    total = freq.sum()
    return {
        name: float(freq[r - 1] / total) if total and r <= len(freq) else float("nan")
        for name, r in zip(rank_frequency_columns(), FREQ_RANKS, strict=True)
    }


#: The columns a generative study records from this module and the loop's OOV split, each with
#: a value at every generation; beside them ``rank_frequency_columns()`` (NaN past a small
#: vocabulary).
TEXT_COLUMNS = (
    "perplexity_in_vocab", "test_oov_rate", "zipf_slope", "tail_mass", "js_unigram", "js_bigram",
    "self_bleu", "label_consistency", "mean_length", *quantile_columns(), *histogram_columns(),
)  # fmt: skip


def perplexity_profile(log_perplexities: np.ndarray) -> dict[str, float]:
    """Quantiles of per-text perplexity and the share of texts per log-perplexity bin."""
    x = np.asarray(log_perplexities, dtype=float)
    x = x[np.isfinite(x)]
    names = quantile_columns() + histogram_columns()
    if not len(x):
        return dict.fromkeys(names, float("nan"))
    quantiles = np.exp(np.percentile(x, PPL_QUANTILES))
    clipped = np.clip(x, LOG_PPL_EDGES[0], LOG_PPL_EDGES[-1])
    counts, _ = np.histogram(clipped, bins=LOG_PPL_EDGES)
    shares = counts / len(x)
    return dict(zip(names, [*map(float, quantiles), *map(float, shares)], strict=True))


def rank_frequency(docs: Sequence[str]) -> np.ndarray:
    """Word counts, most frequent first (rank 1 = index 0)."""
    counts = Counter(t for doc in docs for t in doc.split())
    return np.sort(np.fromiter(counts.values(), dtype=np.int64, count=len(counts)))[::-1]


def zipf_slope(docs: Sequence[str], ranks: tuple[int, int] = ZIPF_RANKS) -> float:
    """Least-squares slope of log frequency on log rank over ``ranks`` (fewer types: up to the
    last); about −1 for natural text, steeper as the tail is lost. NaN with < 2 ranks."""
    freq = rank_frequency(docs)
    lo, hi = ranks
    r = np.arange(lo, min(hi, len(freq)) + 1)
    if len(r) < 2:
        return float("nan")
    return float(linregress(np.log(r), np.log(freq[r - 1])).slope)


def tail_mass(docs: Sequence[str], rank: int = TAIL_RANK) -> float:
    """Share of tokens whose word ranks beyond ``rank`` (ties broken arbitrarily)."""
    freq = rank_frequency(docs)
    return float(freq[rank:].sum() / freq.sum()) if freq.sum() else float("nan")


def ngram_counts(docs: Sequence[str], n: int) -> Counter:
    """n-grams within reviews (none across a review's end)."""
    counts: Counter = Counter()
    for doc in docs:
        tokens = doc.split()
        counts.update(zip(*(tokens[i:] for i in range(n)), strict=False))
    return counts


def js_divergence(docs: Sequence[str], reference: Sequence[str], n: int = 1) -> float:
    """Jensen–Shannon divergence (bits, in [0, 1]) of the n-gram distributions of two corpora.

    Plug-in: two finite samples of one source are above 0, more so for n = 2 and small corpora.
    """
    return counts_divergence(ngram_counts(docs, n), ngram_counts(reference, n))


def counts_divergence(a: Counter, b: Counter) -> float:
    """:func:`js_divergence` of two n-gram counts (count the reference once, reuse it)."""
    if not a or not b:
        return float("nan")
    keys = list(a.keys() | b.keys())
    p = np.array([a.get(k, 0) for k in keys], dtype=float)
    q = np.array([b.get(k, 0) for k in keys], dtype=float)
    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2) ** 2)


def self_bleu(
    docs: Sequence[str],
    rng: np.random.Generator,
    sample_size: int = SELF_BLEU_SAMPLE,
    max_n: int = 4,
) -> float:
    """Self-BLEU (Zhu et al. 2018): the mean sentence BLEU-``max_n`` of each of ``sample_size``
    texts drawn without replacement against all the others drawn as references; uniform
    weights, nltk's ``SmoothingFunction().method1`` (ε = 0.1 for an order without matches).
    Higher: the texts repeat each other. NaN with fewer than 2 non-empty texts."""
    pool = [d.split() for d in docs if d.strip()]
    if len(pool) < 2:
        return float("nan")
    picked = rng.choice(len(pool), size=min(sample_size, len(pool)), replace=False)
    sample = [pool[i] for i in picked]
    counts = [[Counter(zip(*(t[i:] for i in range(n)), strict=False)) for t in sample]
              for n in range(1, max_n + 1)]  # fmt: skip
    # Per n-gram the two highest counts over the sample (with who holds the highest): the
    # clip for text i is the highest among the others.
    best = []
    for per_doc in counts:
        top: dict[tuple, list] = {}
        for i, c in enumerate(per_doc):
            for g, k in c.items():
                entry = top.setdefault(g, [0, -1, 0])  # first count, its holder, second
                if k > entry[0]:
                    entry[2], entry[0], entry[1] = entry[0], k, i
                elif k > entry[2]:
                    entry[2] = k
        best.append(top)
    lengths = np.array([len(t) for t in sample])
    scores = []
    for i, tokens in enumerate(sample):
        logs = []
        for n in range(max_n):
            c = counts[n][i]
            matched = 0
            for g, k in c.items():
                first, holder, second = best[n][g]
                matched += min(k, second if holder == i else first)
            total = max(1, sum(c.values()))
            if n == 0 and matched == 0:
                logs = None
                break
            logs.append(np.log((matched if matched else BLEU_EPSILON) / total))
        if logs is None:
            scores.append(0.0)
            continue
        others = np.delete(lengths, i)
        # nltk's closest reference length: the nearest, the shorter on a tie.
        ref = int(others[np.lexsort((others, np.abs(others - len(tokens))))[0]])
        hyp = len(tokens)
        bp = 1.0 if hyp > ref else float(np.exp(1 - ref / hyp))
        scores.append(bp * float(np.exp(np.mean(logs))))
    return float(np.mean(scores))


def oov_split(log_probs: np.ndarray, in_vocabulary: np.ndarray) -> tuple[float, float]:
    """Perplexity over in-vocabulary tokens only, and the share of tokens out of it."""
    log_probs, inside = np.asarray(log_probs, float), np.asarray(in_vocabulary, bool)
    if not len(log_probs):
        return float("nan"), float("nan")
    ppl = float(np.exp(-log_probs[inside].mean())) if inside.any() else float("nan")
    return ppl, float(1.0 - inside.mean())


__all__ = [
    "FREQ_RANKS",
    "LOG_PPL_EDGES",
    "PPL_QUANTILES",
    "SELF_BLEU_SAMPLE",
    "TAIL_RANK",
    "TEXT_COLUMNS",
    "ZIPF_RANKS",
    "counts_divergence",
    "histogram_columns",
    "js_divergence",
    "ngram_counts",
    "oov_split",
    "perplexity_profile",
    "quantile_columns",
    "rank_frequency",
    "rank_frequency_columns",
    "rank_frequency_profile",
    "self_bleu",
    "tail_mass",
    "zipf_slope",
]
