"""The Heaps-faithful benchmark corpus (benchmarks/heaps_corpus.py) grows as its law says.

Counted independently of the generator: scikit-learn's CountVectorizer on the written lines.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer

from modelcollapse.features.tokenize import fast_tokenize, seed_tokenize

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "heaps_corpus.py"


@pytest.fixture(scope="module")
def heaps():
    spec = importlib.util.spec_from_file_location("heaps_corpus", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def tiny_sample() -> list[tuple[bytes, str]]:
    """40 reviews of 12 to 30 words over a 120-word vocabulary, 3 in 10 of label 1."""
    rng = np.random.default_rng(7)
    words = [f"word{i}" for i in range(120)]
    lines = []
    for r in range(40):
        n = int(rng.integers(12, 31))
        text = " ".join(words[i] for i in rng.integers(0, len(words), n)).capitalize() + "."
        lines.append((b"__label__1" if r % 10 < 3 else b"__label__2", text))
    return lines


def count_vectorizer_types(lines: list[bytes]) -> tuple[int, int]:
    texts = [line.decode().partition(" ")[2] for line in lines]
    return (
        len(CountVectorizer().fit(texts).vocabulary_),
        len(CountVectorizer(ngram_range=(2, 2)).fit(texts).vocabulary_),
    )


def test_generated_types_follow_the_law_and_the_sample(heaps):
    lines = tiny_sample()
    unigrams, bigrams = heaps.Heaps(30.0, 0.56), heaps.Heaps(25.0, 0.82)
    corpus = heaps.HeapsCorpus(heaps.load_sample(lines), unigrams, bigrams, seed=3)
    out = list(corpus.extend(3000))
    assert len(out) == 3000
    sizes = [300, 1000, 3000]
    texts = (heaps.tokens_of(line.decode().partition(" ")[2]) for line in out)
    counted = [(v1, v2) for _, v1, v2 in heaps.type_curve(texts, sizes)]
    # The script counts written text as CountVectorizer does; the generator's ids agree.
    assert count_vectorizer_types(out[:300]) == counted[0]
    assert (corpus.n_uni, corpus.n_bi) == counted[-1]
    for n, (v1, v2) in zip(sizes, counted, strict=True):
        assert v1 == pytest.approx(unigrams(n), rel=0.03), n
        assert v2 == pytest.approx(bigrams(n), rel=0.03), n
    fit1 = heaps.fit_heaps(sizes, [c[0] for c in counted])
    fit2 = heaps.fit_heaps(sizes, [c[1] for c in counted])
    assert fit1.b == pytest.approx(0.56, abs=0.03)
    assert fit2.b == pytest.approx(0.82, abs=0.03)
    # Without coined words the sample's 120 words and few hundred bigrams would be all.
    assert counted[-1][0] > 1000
    # Lengths (CountVectorizer tokens) and class balance are the sample's.
    sample_lengths = {len(heaps.tokens_of(t)) for _, t in lines}
    lengths = [len(heaps.tokens_of(line.decode().partition(" ")[2])) for line in out]
    assert set(lengths) <= sample_lengths
    assert np.mean([line.startswith(b"__label__1") for line in out]) == pytest.approx(0.3, abs=0.03)


def test_coined_words_are_new_and_survive_both_tokenizers(heaps):
    sample = heaps.load_sample(tiny_sample())
    words = [heaps.coin(k, frozenset(sample.terms)) for k in range(0, 200_000, 997)]
    assert len(set(words)) == len(words)
    assert not set(words) & set(sample.terms)
    text = " ".join(words)
    assert seed_tokenize(text) == words  # not a stopword, not lemmatised
    assert fast_tokenize(text) == words
    assert heaps.tokens_of(text) == words


def test_fit_heaps_recovers_a_known_law(heaps):
    sizes = [500, 1000, 2000, 4000, 8000, 15980]
    law = heaps.Heaps(150.0, 0.8)
    fit = heaps.fit_heaps(sizes, [law(n) for n in sizes])
    assert fit.k == pytest.approx(150.0, rel=1e-9)
    assert fit.b == pytest.approx(0.8, rel=1e-9)
