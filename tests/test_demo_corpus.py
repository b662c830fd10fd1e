"""The synthetic `demo` corpus: deterministic, balanced, learnable but not trivially."""

from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB

from modelcollapse.data import demo
from modelcollapse.data.demo import DEMO_SIZE, make_demo_corpus
from modelcollapse.errors import UserError

N = 8_000  # 4k train + 4k test, as in the accuracy check


@pytest.fixture(scope="module")
def corpus():
    return make_demo_corpus(N, seed=0)


def _words(texts: list[str]) -> np.ndarray:
    return np.array([len(t.split()) for t in texts])


def test_metadata(corpus) -> None:
    assert len(corpus) == N
    assert corpus.source == "demo"
    assert corpus.label_names == ("negative", "positive")
    assert corpus.labels.dtype == np.int8
    assert set(np.unique(corpus.labels).tolist()) == {0, 1}
    assert corpus.meta == {
        "synthetic": True,
        "generator": "modelcollapse.data.demo",
        "seed": 0,
        "n": N,
    }
    assert "synthetic" in (demo.__doc__ or "").lower()
    assert DEMO_SIZE >= 12_000 + 4_000  # the demo preset's train rows plus a test split


def test_same_seed_is_byte_identical(corpus) -> None:
    again = make_demo_corpus(N, seed=0)
    assert again.texts == corpus.texts
    assert again.labels.tobytes() == corpus.labels.tobytes()
    assert again.fingerprint == corpus.fingerprint


def test_different_seed_differs(corpus) -> None:
    other = make_demo_corpus(N, seed=1)
    assert other.fingerprint != corpus.fingerprint
    assert sum(a == b for a, b in zip(other.texts, corpus.texts, strict=True)) < N // 100


def test_small_n_and_bad_n() -> None:
    one = make_demo_corpus(1, seed=5)
    assert len(one) == 1 and one.texts == make_demo_corpus(1, seed=5).texts
    with pytest.raises(UserError):
        make_demo_corpus(0)


def test_classes_roughly_balanced(corpus) -> None:
    assert 0.45 <= corpus.labels.mean() <= 0.55


def test_length_distribution(corpus) -> None:
    lengths = _words(corpus.texts)
    assert lengths.min() >= 20
    assert lengths.max() <= 120
    assert 40 <= np.median(lengths) <= 80
    # Varied, not a constant length: both short and long reviews are common.
    assert np.percentile(lengths, 10) < 40
    assert np.percentile(lengths, 90) > 85


def test_title_format(corpus) -> None:
    """Like the Kaggle fastText files: "Great blender: I bought this ..."."""
    title = re.compile(r"^([A-Z][^:]*): [A-Z]")
    for text in corpus.texts:
        m = title.match(text)
        assert m, text
        assert 1 <= len(m.group(1).split()) <= 8, text


def test_negations_intensifiers_and_mixed_reviews(corpus) -> None:
    texts = [t.lower() for t in corpus.texts]

    def share(pattern: str) -> float:
        return float(np.mean([re.search(pattern, t) is not None for t in texts]))

    assert share(r"\bnot \w+") > 0.2
    assert share(r"\bnever \w+") > 0.1
    assert share(r"\bdon't \w+") > 0.1
    assert share(r"\b(very|really|extremely|super) \w+") > 0.2
    # Mixed reviews: complaints inside positive reviews and praise inside negative ones.
    pos = [t for t, y in zip(texts, corpus.labels, strict=True) if y == 1]
    neg = [t for t, y in zip(texts, corpus.labels, strict=True) if y == 0]
    assert np.mean(["my only complaint is that" in t or "however," in t for t in pos]) > 0.05
    assert np.mean(["on the plus side," in t or "to be fair," in t for t in neg]) > 0.05


def test_words_come_from_the_vader_lexicon(corpus) -> None:
    vocab = set(re.findall(r"[a-z]+", " ".join(corpus.texts).lower()))
    assert {"great", "terrible", "disappointed", "excellent"} <= vocab
    # Heaps-like growth: a larger sample keeps bringing new words (Zipf tails).
    small = set(re.findall(r"[a-z]+", " ".join(corpus.texts[: N // 4]).lower()))
    assert len(vocab) > 1.4 * len(small)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (CountVectorizer(), MultinomialNB()),
        lambda: (TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression(solver="liblinear")),
    ],
    ids=["count-nb", "tfidf-bigram-lr"],
)
def test_bag_of_words_accuracy_is_realistic(corpus, make) -> None:
    """Learnable (like real reviews, ~85%) but not separable: collapse must have room to show."""
    vectorizer, model = make()
    half = N // 2
    model.fit(vectorizer.fit_transform(corpus.texts[:half]), corpus.labels[:half])
    pred = model.predict(vectorizer.transform(corpus.texts[half:]))
    accuracy = float(np.mean(pred == corpus.labels[half:]))
    assert 0.78 <= accuracy <= 0.93, accuracy


def test_default_size() -> None:
    full = make_demo_corpus()
    assert len(full) == DEMO_SIZE
    assert len(set(full.texts)) > 0.99 * DEMO_SIZE
