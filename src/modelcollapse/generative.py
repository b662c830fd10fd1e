"""Models that write the reviews: a class-conditional trigram model, text diversity, the loop.

The classification studies let a model *label* reviews; here a model *writes* them.
A trigram language model per class (interpolated Kneser–Ney, numpy only, no
downloaded weights) is fitted on the current corpus and writes the next
generation: as many reviews per class as the real training set, with lengths
drawn from the current corpus. ``replace`` trains generation g+1 on generation g
alone, ``accumulate`` on every generation so far, real reviews included: the two
regimes of Shumailov et al. (2024) and Gerstgrasser et al. (2024).

Everything here is pure: documents in (each a review's tokens joined by single
spaces), numbers out; no I/O, no parallelism.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from modelcollapse import textmetrics
from modelcollapse.core.metrics import evaluate, share_columns
from modelcollapse.core.seeds import model_seed
from modelcollapse.core.training import fresh_model
from modelcollapse.features.vectorize import count_vectorizer, restrict_to_vocabulary
from modelcollapse.linalg import used_columns
from modelcollapse.models import ModelSpec, get_model
from modelcollapse.scoring import Vocabulary

GenerativeRegime = Literal["replace", "accumulate", "keep-real", "mixture"]
UNK = "<unk>"
# Ney's discount estimate can reach 0 or 1 on tiny corpora; either breaks the interpolation.
_DISCOUNT_RANGE = (0.05, 0.95)


def _tokens(docs: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """All tokens of ``docs``, concatenated, and each review's length."""
    split = [doc.split() for doc in docs]
    lengths = np.fromiter((len(tokens) for tokens in split), dtype=np.int64, count=len(split))
    return [token for tokens in split for token in tokens], lengths


def _encode(docs: Sequence[str], index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Token ids (-1 outside ``index``) of all documents, concatenated, and each one's length."""
    flat, lengths = _tokens(docs)
    ids = index.get_indexer(flat).astype(np.int64) if flat else np.zeros(0, np.int64)
    return ids, lengths


def _contexts(ids: np.ndarray, lengths: np.ndarray, bos: int) -> tuple[np.ndarray, np.ndarray]:
    """The two preceding ids of every token, padded with ``bos`` at each document's start."""
    position = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    prev1 = np.full(len(ids), bos, dtype=np.int64)
    prev2 = np.full(len(ids), bos, dtype=np.int64)
    prev1[1:] = ids[:-1]
    prev2[2:] = ids[:-2]
    prev1[position < 1] = bos
    prev2[position < 2] = bos
    return prev2, prev1


def _discount(counts: np.ndarray) -> float:
    """Ney's absolute discount n1 / (n1 + 2 n2) from the counts of counts."""
    n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
    d = n1 / (n1 + 2 * n2) if n1 + 2 * n2 else 0.5
    return float(np.clip(d, *_DISCOUNT_RANGE))


def _global_cumulative(group: np.ndarray, weights: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Per entry: its group id + the cumulative share of its group's weight up to and with it.

    Entries of one group are contiguous. One sorted array then samples every group at
    once: ``searchsorted(cum, group + u)`` with u uniform in [0, 1).
    """
    cum = np.cumsum(weights)
    first = np.r_[True, group[1:] != group[:-1]]
    before = np.repeat(cum[first] - weights[first], np.diff(np.r_[np.flatnonzero(first), len(cum)]))
    out = group + (cum - before) / totals
    last = np.r_[group[1:] != group[:-1], True]
    out[last] = group[last] + 1.0  # exact, whatever the rounding
    return out


class TrigramLM:
    """Interpolated Kneser–Ney trigram model with one absolute discount per order.

    ``vocabulary`` fixes the words the model scores (default: the training tokens);
    every other word is ``<unk>``. A uniform floor at the unigram level gives every
    word and ``<unk>`` some mass, so the perplexity of any text is finite. Fixing
    the vocabulary to the real reviews' keeps perplexities comparable across
    generations, whose own vocabularies shrink. Generation only writes words seen in
    training: it samples
    the model conditioned on that (by redrawing, which is exact and rarely needed).

    After :meth:`fit`: ``vocabulary_`` (sorted words, ``<unk>`` last), ``discounts_``
    (unigram, bigram, trigram) and ``seen_`` (per word: seen in training).
    """

    def __init__(self, vocabulary: Sequence[str] | None = None) -> None:
        self.vocabulary = vocabulary

    def fit(self, docs: Sequence[str]) -> TrigramLM:
        words = self.vocabulary
        if words is None:
            words = {t for doc in docs for t in doc.split()}
        words = sorted(set(words) - {UNK})
        self.vocabulary_ = [*words, UNK]
        self._index = pd.Index(words)
        V = len(words)  # ids 0..V-1 words, V = <unk>, V + 1 = the start-of-review pad
        self._unk, self._bos, self._base = V, V + 1, V + 2
        if self._base**3 >= 2**63:
            raise ValueError(f"vocabulary too large for trigram keys ({V:,} words)")
        ids, lengths = _encode(docs, self._index)
        if not len(ids):
            raise ValueError("no tokens to fit")
        ids[ids < 0] = self._unk
        u, v = _contexts(ids, lengths, self._bos)
        B = self._base

        # Trigram counts c(uvw), grouped by context uv.
        self._keys3, c3 = np.unique((u * B + v) * B + ids, return_counts=True)
        ctx3 = self._keys3 // B
        self._ctx3, start3, types3 = np.unique(ctx3, return_index=True, return_counts=True)
        total3 = np.add.reduceat(c3, start3).astype(float)
        d3 = _discount(c3)
        self._c3, self._total3 = c3.astype(float), total3
        self._lam3 = d3 * types3 / total3
        self._w3 = self._keys3 % B
        ctx3_id = np.repeat(np.arange(len(self._ctx3)), types3)
        self._cum3 = _global_cumulative(ctx3_id, c3 - d3, (total3 - d3 * types3)[ctx3_id])
        self._first3, self._last3 = start3, start3 + types3 - 1

        # Bigram continuation counts N1+(. v w): distinct u before each (v, w).
        self._keys2, n2 = np.unique((ctx3 % B) * B + self._w3, return_counts=True)
        v2, self._w2 = self._keys2 // B, self._keys2 % B
        d2 = _discount(n2)
        self._n2 = n2.astype(float)
        self._total2 = np.bincount(v2, weights=n2, minlength=B)
        types2 = np.bincount(v2, minlength=B)
        with np.errstate(divide="ignore", invalid="ignore"):
            self._lam2 = np.where(self._total2 > 0, d2 * types2 / self._total2, 1.0)
        self._cum2 = _global_cumulative(v2, n2 - d2, (self._total2 - d2 * types2)[v2])
        self._first2 = np.searchsorted(v2, np.arange(B))
        self._last2 = np.searchsorted(v2, np.arange(B), side="right") - 1

        # Unigram continuation counts N1+(. w), floored by a uniform over words and <unk>.
        n1 = np.bincount(self._w2, minlength=V + 1)[: V + 1].astype(float)
        d1 = _discount(n1[n1 > 0])
        lam1 = d1 * np.sum(n1 > 0) / n1.sum()
        self._p1 = np.maximum(n1 - d1, 0.0) / n1.sum() + lam1 / (V + 1)
        self._cum1 = np.cumsum(self._p1)
        self._cum1[-1] = 1.0
        self.discounts_ = (d1, d2, d3)
        self.seen_ = n1 > 0
        self.seen_[V] = False  # <unk> is never written
        if not self.seen_.any():
            raise ValueError("no training token is in the vocabulary: nothing to write")
        return self

    def _prob(self, u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        """P(w | u v) for id arrays, by the interpolation formula, vectorised."""
        B = self._base
        p = self._p1[w]
        k2 = v * B + w
        i2 = np.minimum(np.searchsorted(self._keys2, k2), len(self._keys2) - 1)
        n2 = np.where(self._keys2[i2] == k2, self._n2[i2], 0.0)
        has2 = self._total2[v] > 0
        _, d2, d3 = self.discounts_
        with np.errstate(divide="ignore", invalid="ignore"):
            p2 = np.maximum(n2 - d2, 0.0) / self._total2[v] + self._lam2[v] * p
        p = np.where(has2, p2, p)
        ctx = u * B + v
        i3 = np.minimum(np.searchsorted(self._ctx3, ctx), len(self._ctx3) - 1)
        has3 = self._ctx3[i3] == ctx
        k3 = ctx * B + w
        j3 = np.minimum(np.searchsorted(self._keys3, k3), len(self._keys3) - 1)
        c3 = np.where(self._keys3[j3] == k3, self._c3[j3], 0.0)
        p3 = np.maximum(c3 - d3, 0.0) / self._total3[i3] + self._lam3[i3] * p
        return np.where(has3, p3, p)

    def token_log_probs(self, docs: Sequence[str]) -> np.ndarray:
        """Natural log-probability of every token of ``docs`` (concatenated)."""
        ids, lengths = _encode(docs, self._index)
        ids[ids < 0] = self._unk
        u, v = _contexts(ids, lengths, self._bos)
        return np.log(self._prob(u, v, ids))

    def perplexity(self, docs: Sequence[str]) -> float:
        return float(np.exp(-np.mean(self.token_log_probs(docs))))

    def in_vocabulary(self, docs: Sequence[str]) -> np.ndarray:
        """Per token of ``docs`` (concatenated): it is a word of the model, not ``<unk>``."""
        ids, _ = _encode(docs, self._index)
        return ids >= 0

    def text_log_perplexities(self, docs: Sequence[str]) -> np.ndarray:
        """Per review: the mean negative log-probability of its tokens (NaN when empty)."""
        return _per_text_mean(-self.token_log_probs(docs), _tokens(docs)[1])

    def _sample(self, u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One draw of the interpolated model: a mixture, so pick a level, then a word in it."""
        level3, level2, within = rng.random((3, len(u)))
        B = self._base
        out = np.searchsorted(self._cum1, within, side="right")  # the unigram level
        has2 = self._total2[v] > 0
        use2 = has2 & (level2 >= self._lam2[v])
        at = np.searchsorted(self._cum2, v[use2] + within[use2], side="right")
        at = np.clip(at, self._first2[v[use2]], self._last2[v[use2]])
        out[use2] = self._w2[at]
        ctx = u * B + v
        i3 = np.minimum(np.searchsorted(self._ctx3, ctx), len(self._ctx3) - 1)
        use3 = (self._ctx3[i3] == ctx) & (level3 >= self._lam3[i3])
        i3 = i3[use3]
        at = np.searchsorted(self._cum3, i3 + within[use3], side="right")
        out[use3] = self._w3[np.clip(at, self._first3[i3], self._last3[i3])]
        return np.minimum(out, self._unk)

    def _draw(self, u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Next words, conditioned on being seen in training (redraw the rest)."""
        out = self._sample(u, v, rng)
        todo = np.flatnonzero(~self.seen_[out])
        while todo.size:
            again = self._sample(u[todo], v[todo], rng)
            out[todo] = again
            todo = todo[~self.seen_[again]]
        return out

    def generate(self, lengths: Sequence[int], rng: np.random.Generator) -> list[str]:
        """One review per length, written left to right, all reviews a position at a time."""
        lengths = np.asarray(lengths, dtype=np.int64)
        n = len(lengths)
        longest = int(lengths.max(initial=0))
        written = np.zeros((n, longest), dtype=np.int64)
        u = np.full(n, self._bos, dtype=np.int64)
        v = u.copy()
        for t in range(longest):
            active = np.flatnonzero(lengths > t)
            w = self._draw(u[active], v[active], rng)
            written[active, t] = w
            u[active], v[active] = v[active], w
        words = np.asarray(self.vocabulary_, dtype=object)
        return [" ".join(words[row[:length]]) for row, length in zip(written, lengths, strict=True)]


class ClassConditionalLM:
    """One :class:`TrigramLM` per class: writes reviews of a given class and length."""

    def __init__(self, vocabulary: Sequence[str] | None = None) -> None:
        self.vocabulary = vocabulary

    def fit(self, docs: Sequence[str], labels: np.ndarray) -> ClassConditionalLM:
        labels = np.asarray(labels)
        self.classes_ = np.unique(labels)
        self.models_ = {
            int(c): TrigramLM(self.vocabulary).fit(
                [d for d, y in zip(docs, labels, strict=True) if y == c]
            )
            for c in self.classes_
        }
        return self

    def generate(
        self, labels: np.ndarray, lengths: np.ndarray, rng: np.random.Generator
    ) -> list[str]:
        """A review of class ``labels[i]`` and ``lengths[i]`` tokens for every i."""
        out: list[str] = [""] * len(labels)
        for c, model in self.models_.items():
            rows = np.flatnonzero(np.asarray(labels) == c)
            for row, doc in zip(rows, model.generate(np.asarray(lengths)[rows], rng), strict=True):
                out[row] = doc
        return out

    def perplexity(self, docs: Sequence[str], labels: np.ndarray) -> float:
        """Per-token perplexity of ``docs``, each under the model of its own class."""
        labels = np.asarray(labels)
        logs = [
            model.token_log_probs([d for d, y in zip(docs, labels, strict=True) if y == c])
            for c, model in self.models_.items()
        ]
        return float(np.exp(-np.mean(np.concatenate(logs))))

    def token_log_probs(self, docs: Sequence[str], labels: np.ndarray) -> np.ndarray:
        """Every token's log-probability under its review's class model, class by class
        (the order :meth:`in_vocabulary` uses)."""
        labels = np.asarray(labels)
        return np.concatenate([
            model.token_log_probs([d for d, y in zip(docs, labels, strict=True) if y == c])
            for c, model in self.models_.items()
        ])  # fmt: skip

    def in_vocabulary(self, docs: Sequence[str], labels: np.ndarray) -> np.ndarray:
        labels = np.asarray(labels)
        return np.concatenate([
            model.in_vocabulary([d for d, y in zip(docs, labels, strict=True) if y == c])
            for c, model in self.models_.items()
        ])  # fmt: skip

    def text_log_perplexities(self, docs: Sequence[str], labels: np.ndarray) -> np.ndarray:
        """Per review, in the order of ``docs``: its log-perplexity under its class's model."""
        labels = np.asarray(labels)
        out = np.full(len(docs), np.nan)
        for c, model in self.models_.items():
            rows = np.flatnonzero(labels == c)
            out[rows] = model.text_log_perplexities([docs[i] for i in rows])
        return out


def _per_text_mean(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    sums = np.bincount(np.repeat(np.arange(len(lengths)), lengths), weights=values,
                       minlength=len(lengths))  # fmt: skip
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / np.where(lengths > 0, lengths, np.nan)


def distinct_n(docs: Sequence[str], n: int) -> float:
    """Distinct n-grams / all n-grams (within reviews): 1 when nothing repeats (n ≤ 3)."""
    if not 1 <= n <= 3:
        raise ValueError(f"n must be 1, 2 or 3, got {n}")
    flat, lengths = _tokens(docs)
    ids = pd.factorize(pd.Series(flat, dtype=object))[0].astype(np.int64)
    position = np.arange(len(ids)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ends = np.flatnonzero(position >= n - 1)  # n-grams end here, inside one review
    if not len(ends):
        return float("nan")
    K = int(ids.max()) + 1
    keys = np.zeros(len(ends), dtype=np.int64)
    for back in range(n - 1, -1, -1):
        keys = keys * K + ids[ends - back]
    return float(len(np.unique(keys)) / len(keys))


def rare_words(docs: Sequence[str], max_count: int = 2) -> set[str]:
    """Words occurring at most ``max_count`` times in ``docs``: the tail that collapse loses."""
    counts = pd.Series([t for doc in docs for t in doc.split()]).value_counts()
    return set(counts.index[counts <= max_count])


def text_diversity(docs: Sequence[str], rare: set[str]) -> dict[str, float]:
    """distinct-1/2, vocabulary size and the share of tokens that are ``rare`` words."""
    tokens = pd.Series([t for doc in docs for t in doc.split()], dtype=object)
    return {
        "distinct_1": distinct_n(docs, 1),
        "distinct_2": distinct_n(docs, 2),
        "vocabulary_size": int(tokens.nunique()),
        "rare_word_share": float(tokens.isin(rare).mean()) if len(tokens) else float("nan"),
    }


@dataclass(frozen=True)
class GenerationRecord:
    """One generation: the corpus trained on, the texts written, what the models scored."""

    step: int  # generation; 0 = the real reviews
    train_size: int  # reviews the classifier and the generator were fitted on
    model_labelled_share: float  # of those, the share a model wrote
    n_texts: int  # reviews this generation's corpus got from a generator (gen 0: the real ones)
    accuracy: float  # on real test reviews, as every metric
    balanced_accuracy: float
    macro_f1: float
    log_loss: float
    brier: float
    ece: float
    predicted_positive_rate: float  # NaN for k > 2 classes
    pred_tv_distance: float
    test_positive_rate: float  # NaN for k > 2 classes
    n_test: int
    perplexity: float  # of the real test reviews under this generation's generator
    distinct_1: float  # diversity of this generation's written texts (gen 0: real training)
    distinct_2: float
    vocabulary_size: int
    rare_word_share: float  # tokens that are rare (≤ 2 occurrences) in the real training reviews
    fit_seconds: float
    generate_seconds: float
    # k > 2 classes: predicted_share_<j> and test_share_<j> (core.metrics.share_columns)
    class_shares: dict[str, float] = field(default_factory=dict)
    # The text measurements of :func:`text_measurements` (docs/methods.md, "Generative").
    text_metrics: dict[str, float] = field(default_factory=dict)


REGIMES = ("replace", "accumulate", "keep-real", "mixture")
LENGTHS = ("generation-0", "current")


def text_measurements(
    texts: Sequence[str],
    labels: np.ndarray,
    real_counts: Sequence[Counter],
    reference_model,
    rng: np.random.Generator,
) -> dict[str, float]:
    """The literature's measurements of one generation's texts (of the given class labels).

    ``reference_model`` is the generation-0 generator: anything with
    ``text_log_perplexities(texts, labels)`` (per-text mean negative log-probability, nats).
    ``real_counts``: the unigram and bigram counts (:func:`textmetrics.ngram_counts`) of the
    real training reviews the divergences compare with.
    """
    return {
        **textmetrics.perplexity_profile(reference_model.text_log_perplexities(texts, labels)),
        "zipf_slope": textmetrics.zipf_slope(texts),
        "tail_mass": textmetrics.tail_mass(texts),
        **textmetrics.rank_frequency_profile(texts),
        "js_unigram": textmetrics.counts_divergence(
            textmetrics.ngram_counts(texts, 1), real_counts[0]
        ),
        "js_bigram": textmetrics.counts_divergence(
            textmetrics.ngram_counts(texts, 2), real_counts[1]
        ),
        "self_bleu": textmetrics.self_bleu(texts, rng),
        "mean_length": float(np.mean([len(t.split()) for t in texts])) if texts else np.nan,
    }


class GenerativeLoop:
    """Generations of reviews written by class-conditional trigram models.

    :meth:`fit` takes the real training reviews and real test reviews and sets
    ``history_`` (one :class:`GenerationRecord` per generation, 0 = real). At every
    generation the run's
    classifier is fitted on the current corpus and scored on the real test reviews.
    It counts the n-grams of the real training reviews (generated reviews hold only
    their words; word pairs that only generated text has are not counted), restricted
    to those the current corpus uses, as the labelling loop restricts counts to its
    training rows. Each text is counted once, however many generations reuse it.
    The random draws of generation g depend on (``random_state``, g) only, so both
    regimes write the same first generation: they are paired. ``tokenizer`` names
    whose documents the reviews are, which decides how they are counted (see
    :func:`~modelcollapse.features.vectorize.count_vectorizer`).

    Regimes, with n real training reviews: ``replace`` (the next corpus is n written
    reviews), ``accumulate`` (every corpus so far plus n written), ``keep-real`` (a fresh
    draw of round(``keep_real_share`` · n) real reviews plus written ones for the rest, n in
    all; Shumailov et al.'s "10 % of the original data preserved"), ``mixture`` (all n real
    plus round(``mixture_lambda`` · n) written by the last generator: Bertrand et al.'s λ).
    ``lengths``: written reviews take their lengths from the real reviews of their class
    (``generation-0``) or from the current corpus (``current``, which drifts under replace).
    """

    def __init__(
        self,
        model: str | ModelSpec | BaseEstimator,
        generations: int,
        regime: GenerativeRegime = "replace",
        random_state: int = 0,
        *,
        tokenizer: str = "fast",
        keep_real_share: float = 0.1,
        mixture_lambda: float = 1.0,
        lengths: str = "generation-0",
        generator: str = "trigram",
        sampling: dict[str, object] | None = None,
        generator_options: dict[str, object] | None = None,
    ) -> None:
        self.model = model
        self.generations = generations
        self.regime = regime
        self.random_state = random_state
        self.tokenizer = tokenizer
        self.keep_real_share = keep_real_share
        self.mixture_lambda = mixture_lambda
        self.lengths = lengths
        # A name in modelcollapse.generators.GENERATORS, its sampling options and its own
        # options (sizes, training: the factory's keyword arguments).
        self.generator = generator
        self.sampling = sampling
        self.generator_options = generator_options

    def fit(
        self,
        train_docs: Sequence[str],
        y_train: np.ndarray,
        test_docs: Sequence[str],
        y_test: np.ndarray,
        n_classes: int | None = None,
    ) -> GenerativeLoop:
        """``n_classes``: k of the label codes 0 … k−1 (default: the largest seen + 1); one
        trigram model per class writes that class's reviews."""
        if self.regime not in REGIMES:
            raise ValueError(f"regime must be one of {', '.join(REGIMES)}, got {self.regime!r}")
        if self.lengths not in LENGTHS:
            raise ValueError(f"lengths must be one of {', '.join(LENGTHS)}, got {self.lengths!r}")
        if not 0 < self.keep_real_share < 1:
            raise ValueError(f"keep_real_share must be in (0, 1), got {self.keep_real_share}")
        if not self.mixture_lambda > 0:
            raise ValueError(f"mixture_lambda must be > 0, got {self.mixture_lambda}")
        spec = get_model(self.model)
        real, y_real = list(train_docs), np.asarray(y_train)
        test_docs, y_test = list(test_docs), np.asarray(y_test)
        n = len(real)
        k = n_classes or max([2, *(int(np.max(y)) + 1 for y in (y_real, y_test) if len(y))])
        test_positive_rate = float(np.mean(y_test)) if k <= 2 else float("nan")
        vocabulary = sorted({t for doc in real for t in doc.split()})
        rare = rare_words(real)
        real_counts = [textmetrics.ngram_counts(real, n) for n in (1, 2)]
        encode = _encoder(spec, real, self.tokenizer)
        X = X_real = encode(real)
        X_test = encode(test_docs)
        docs, labels, newest = real, y_real, real
        n_real_in = n  # real reviews in the current corpus
        written, written_labels = test_docs, y_test  # gen 0's text measurements: real, held out
        X_new = X_test
        # The judge of label consistency is fitted on the real test reviews, which no
        # generator sees: fitted on the training reviews it would share their chance features
        # with generation 0's generator and agree with it above chance (docs/methods.md).
        judge = fresh_model(spec, y_test, model_seed(self.random_state, 0, 4))
        judge_vocabulary = Vocabulary(used_columns(X_test)) if sp.issparse(X_test) else None
        judge.fit(X_test if judge_vocabulary is None else judge_vocabulary.restrict(X_test), y_test)
        history = []
        for g in range(self.generations + 1):
            metrics, fit_seconds, _ = _classify(
                spec, X, labels, X_test, y_test, model_seed(self.random_state, g, 1), k
            )
            shares = {c: metrics.pop(c) for c in share_columns(k)}
            if self.generator == "trigram" and not self.sampling:
                generator = ClassConditionalLM(vocabulary).fit(docs, labels)
            else:
                from modelcollapse.generators import ClassConditional

                seed = model_seed(self.random_state, g, 3)
                generator = ClassConditional(
                    self.generator, vocabulary, seed, **(self.sampling or {}),
                    options=self.generator_options,
                ).fit(docs, labels)  # fmt: skip
            if g == 0:
                generator0 = generator
            try:
                # OOV: outside the generator's own vocabulary (the trigram's: the real
                # reviews'; the neural model's: its max_vocabulary words of this corpus).
                in_vocab_ppl, oov = textmetrics.oov_split(
                    generator.token_log_probs(test_docs, y_test),
                    generator.in_vocabulary(test_docs, y_test),
                )
            except NotImplementedError:  # a generator that scores whole texts only
                in_vocab_ppl, oov = float("nan"), float("nan")
            text = text_measurements(written, written_labels, real_counts, generator0,
                                     np.random.default_rng([self.random_state, g, 3]))  # fmt: skip
            text.update(perplexity_in_vocab=in_vocab_ppl, test_oov_rate=oov,
                        label_consistency=float("nan"))  # fmt: skip
            if g > 0:
                predicted = judge.predict(
                    X_new if judge_vocabulary is None else judge_vocabulary.restrict(X_new)
                )
                text["label_consistency"] = float(np.mean(predicted == written_labels))
            record = dict(
                step=g,
                train_size=len(docs),
                model_labelled_share=0.0 if g == 0 else 1.0 - n_real_in / len(docs),
                n_texts=len(newest),
                **metrics,
                test_positive_rate=test_positive_rate,
                n_test=len(y_test),
                perplexity=generator.perplexity(test_docs, y_test),
                **text_diversity(newest, rare),
                fit_seconds=fit_seconds,
                generate_seconds=float("nan"),
                class_shares=shares,
                text_metrics=text,
            )
            if g < self.generations:
                start = time.perf_counter()
                rng = np.random.default_rng([self.random_state, g, 2])
                if self.regime == "keep-real":
                    kept = np.sort(rng.choice(n, round(self.keep_real_share * n), replace=False))
                    wanted = np.delete(y_real, kept)
                elif self.regime == "mixture":
                    m = max(1, round(self.mixture_lambda * n))
                    wanted = rng.choice(y_real, size=m, replace=m > n)
                else:
                    wanted = y_real
                if self.lengths == "generation-0":
                    lengths = _draw_lengths(real, y_real, wanted, rng)
                else:
                    lengths = _draw_lengths(docs, labels, wanted, rng)
                written, written_labels = generator.generate(wanted, lengths, rng), wanted
                newest = written
                record["generate_seconds"] = time.perf_counter() - start
                X_new = encode(written)
                if self.regime == "replace":
                    docs, labels, X, n_real_in = written, wanted, X_new, 0
                elif self.regime == "accumulate":
                    docs, labels = docs + written, np.concatenate([labels, wanted])
                    X = _stack(X, X_new)
                elif self.regime == "keep-real":
                    docs = [real[i] for i in kept] + written
                    labels = np.concatenate([y_real[kept], wanted])
                    X = _stack(X_real[kept], X_new)
                    n_real_in = len(kept)
                else:
                    docs, labels = real + written, np.concatenate([y_real, wanted])
                    X = _stack(X_real, X_new)
            history.append(GenerationRecord(**record))
        self.history_ = history
        return self

    def history_records(self) -> list[dict[str, object]]:
        """One dict per generation; k > 2 classes: the class shares as columns of their own."""
        records = []
        for r in self.history_:
            record = asdict(r)
            record.update(record.pop("class_shares"))
            record.update(record.pop("text_metrics"))
            records.append(record)
        return records


def _draw_lengths(
    docs: Sequence[str], labels: np.ndarray, wanted: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """A length for each review to write, drawn from ``docs``'s reviews of its class."""
    lengths = np.fromiter((len(d.split()) for d in docs), dtype=np.int64, count=len(docs))
    out = np.zeros(len(wanted), dtype=np.int64)
    for c in np.unique(wanted):
        rows = np.flatnonzero(wanted == c)
        out[rows] = rng.choice(lengths[labels == c], size=len(rows))
    return out


def _encoder(
    spec: ModelSpec, real: Sequence[str], tokenizer: str
) -> Callable[[Sequence[str]], sp.csr_matrix | np.ndarray]:
    """What the classifier reads of a list of reviews, as :mod:`modelcollapse.inputs` gives
    the loop: term counts over the real reviews' n-grams (a counts model) or the token text
    itself (a documents model: fastText, hashing; no count matrix is built for it)."""
    if spec.input == "documents":
        from modelcollapse.inputs import document_array

        return document_array
    # The one behind the cached features: seed drops one-character tokens.
    vectorizer = count_vectorizer(spec.ngram_range, tokenizer).fit(real)
    return lambda docs: vectorizer.transform(docs).tocsr()


def _stack(first: sp.csr_matrix | np.ndarray, second: sp.csr_matrix | np.ndarray):
    """Rows of ``first`` then of ``second``: counts or documents, as :func:`_encoder` made."""
    if sp.issparse(first):
        return sp.vstack([first, second], format="csr")
    return np.concatenate([first, second])


def _classify(
    spec: ModelSpec,
    X: sp.csr_matrix,
    labels: np.ndarray,
    X_test: sp.csr_matrix,
    y_test: np.ndarray,
    seed: int,
    n_classes: int = 2,
) -> tuple[dict[str, float], float, BaseEstimator]:
    """The metrics on the test reviews (``core.metrics.METRIC_COLUMNS``), the fit's seconds and
    the fitted classifier."""
    if sp.issparse(X):
        _, (X, X_test) = restrict_to_vocabulary(X, X_test)
    est = fresh_model(spec, labels, seed)
    start = time.perf_counter()
    est.fit(X, labels)
    fit_seconds = time.perf_counter() - start
    return evaluate(est, X_test, y_test, n_classes), fit_seconds, est


__all__ = [
    "UNK",
    "ClassConditionalLM",
    "GenerationRecord",
    "GenerativeLoop",
    "TrigramLM",
    "distinct_n",
    "rare_words",
    "text_diversity",
    "text_measurements",
]
