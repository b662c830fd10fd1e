"""Chunked, parallel featurisation equals one-shot CountVectorizer counting exactly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError
from modelcollapse.features import vectorize as vec
from modelcollapse.features.tokenize import tokenize

DOCS = [
    "good good product",
    "",
    "bad",
    "not good not bad zeta alpha",
    "alpha",
    "zeta zeta zeta zeta",
    "",
    "é café naïve café",  # non-ASCII terms sort by code point, as sorted() does
    "b a b a c",
    "good",
    "u good 3 bad",  # seed: one-character tokens go before n-grams form, so "good bad"
]

TEXTS = [
    "Great product, works well. Would buy again!",
    "Don't buy: it broke after two days.",
    "!!!",
    "The geese were loud; the mice were quiet.",
    "Not bad, not great. It's OK I guess.",
    "Terrible. Terrible. TERRIBLE.",
    "Five stars -- my kids love it (and so do I).",
    "",
    "mp3 player 2010 model, 5stars",
    "café crème brûlée",
    "great great great",
]


def one_shot(
    docs: list[str], ngram_range=(1, 1), tokenizer="fast"
) -> tuple[sp.csr_matrix, list[str]]:
    vectorizer = vec.count_vectorizer(ngram_range, tokenizer)
    X = vectorizer.fit_transform(docs).tocsr()
    X.sort_indices()
    return X, list(vectorizer.get_feature_names_out())


def assert_same(X: sp.csr_matrix, Y: sp.csr_matrix) -> None:
    assert X.shape == Y.shape
    for name in ("data", "indices", "indptr"):
        a, b = getattr(X, name), getattr(Y, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 10, 1000])
@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 3)])
@pytest.mark.parametrize("tokenizer", ["fast", "seed"])
def test_count_documents_equals_one_shot(chunk_size, ngram_range, tokenizer):
    expected, terms = one_shot(DOCS, ngram_range, tokenizer)
    X, got_terms = vec.count_documents(DOCS, ngram_range, tokenizer, chunk_size=chunk_size)
    assert got_terms == terms
    assert_same(X, expected)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)])
def test_seed_documents_are_counted_as_the_original_countvectorizer(ngram_range):
    """The original counted its joined tokens with CountVectorizer(min_df=1, ngram_range):
    one-character tokens ("a", "b", "c", "é") are no terms, and n-grams skip them."""
    original = CountVectorizer(min_df=1, ngram_range=ngram_range)
    expected = original.fit_transform(DOCS)
    X, terms = vec.count_documents(DOCS, ngram_range, "seed", chunk_size=3)
    assert terms == list(original.get_feature_names_out())
    assert (expected != X).nnz == 0
    assert not {"a", "b", "c", "é"} & set(terms)
    assert ("good bad" in terms) == (ngram_range == (1, 2))
    fast_terms = vec.count_documents(DOCS, ngram_range, "fast")[1]
    assert {"a", "b", "c", "é", "u", "3"} <= set(fast_terms)
    assert "good bad" not in fast_terms


def test_count_documents_from_a_generator():
    expected, terms = one_shot(DOCS)
    X, got_terms = vec.count_documents(iter(DOCS), (1, 1), "fast", chunk_size=4)
    assert got_terms == terms
    assert_same(X, expected)


def test_unknown_tokenizer_is_refused_when_counting():
    with pytest.raises(UserError, match="unknown tokenizer 'bpe'"):
        vec.count_documents(DOCS, (1, 1), "bpe")


def test_empty_vocabulary_is_refused_as_before():
    with pytest.raises(ValueError, match="empty vocabulary"):
        one_shot(["", " "])
    with pytest.raises(ValueError, match="empty vocabulary"):
        vec.count_documents(["", " "], (1, 1), "fast", chunk_size=1)
    with pytest.raises(ValueError, match="empty vocabulary"):
        vec.count_documents(["a b", "c"], (1, 1), "seed", chunk_size=1)


def random_docs(seed: int, n: int = 300) -> list[str]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(400)] + ["ä", "z", "a", "aa"]
    # Zipf-like: few frequent words, a long tail, some empty documents.
    p = 1 / np.arange(1, len(words) + 1)
    p /= p.sum()
    return [" ".join(rng.choice(words, size=rng.integers(0, 30), p=p)) for _ in range(n)]


@pytest.mark.parametrize("seed", [0, 1])
def test_random_documents_any_chunking(seed):
    docs = random_docs(seed)
    expected, terms = one_shot(docs)
    for chunk_size in (1, 17, 64, 299, 300, 5000):
        X, got_terms = vec.count_documents(docs, (1, 1), "fast", chunk_size=chunk_size)
        assert got_terms == terms
        assert_same(X, expected)


def test_two_jobs_equal_one_job():
    docs = random_docs(2, n=200)
    expected, terms = one_shot(docs)
    X, got_terms = vec.count_documents(docs, (1, 1), "fast", chunk_size=25, jobs=2)
    assert got_terms == terms
    assert_same(X, expected)


@pytest.fixture
def corpus() -> Corpus:
    texts = TEXTS * 3 + [t.upper() for t in TEXTS]
    labels = np.arange(len(texts)) % 2
    return Corpus(texts=texts, labels=labels.astype(np.int8), source="test")


@pytest.mark.parametrize("chunk_size", [1, 4, 10, 1000])
def test_featurize_chunked_equals_one_shot(corpus, chunk_size, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path))
    docs = [" ".join(tokens) for tokens in tokenize(corpus.texts, "fast")]
    expected, terms = one_shot(docs)

    uncached = vec.featurize(corpus, "fast", use_cache=False, chunk_size=chunk_size, jobs=1)
    assert_same(uncached.X, expected)
    assert uncached.documents == docs

    vec.load_features.cache_clear()
    cached = vec.featurize(corpus, "fast", chunk_size=chunk_size, jobs=1)
    assert cached.path is not None
    assert_same(cached.X, expected)
    vocabulary = (cached.path / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    assert vocabulary == terms
    assert cached.documents == docs
    assert not list(cached.path.glob(".*"))  # spill files are gone

    # Counting again from the token cache (a new features key) gives the same counts.
    bigrams, bigram_terms = one_shot(docs, (1, 2))
    again = vec.featurize(corpus, "fast", (1, 2), chunk_size=chunk_size, jobs=1)
    assert_same(again.X, bigrams)
    assert (again.path / "vocabulary.txt").read_text(encoding="utf-8").splitlines() == bigram_terms


def test_featurize_with_two_jobs_matches(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path))
    one = vec.featurize(corpus, "fast", use_cache=False, chunk_size=3, jobs=1)
    two = vec.featurize(corpus, "fast", use_cache=False, chunk_size=3, jobs=2)
    assert_same(two.X, one.X)
    assert two.documents == one.documents


def test_token_cache_written_by_pandas_is_made_again(corpus, tmp_path, monkeypatch):
    """Caches from before checksums (e.g. written through pandas) cannot prove they are
    whole: set aside, with one warning, and made again with the same documents."""
    import pandas as pd

    from modelcollapse.errors import ModelCollapseWarning

    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path))
    docs = [" ".join(tokens) for tokens in tokenize(corpus.texts, "fast")]
    path = vec.token_cache_path(corpus, "fast")
    path.parent.mkdir(parents=True)
    pd.DataFrame({"tokens": docs}).to_parquet(path)
    with pytest.warns(ModelCollapseWarning, match="failed its check .*json is missing"):
        features = vec.featurize(corpus, "fast", chunk_size=5, jobs=1)
    assert_same(features.X, one_shot(docs)[0])
    assert features.documents == docs


def test_jobs_resolution():
    assert vec._jobs(4, n_rows=10, chunk_size=100) == 1  # one chunk: no workers
    assert vec._jobs(2, n_rows=1000, chunk_size=100) == 2
    assert vec._jobs(1, n_rows=1000, chunk_size=100) == 1
    assert 1 <= vec._jobs(None, n_rows=10**6, chunk_size=100) <= 4
    with pytest.raises(UserError):
        vec._jobs(0, n_rows=10, chunk_size=100)


def test_seed_tokenizer_chunked_equals_one_shot(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path))
    docs = [" ".join(tokens) for tokens in tokenize(corpus.texts, "seed")]
    expected, terms = one_shot(docs, tokenizer="seed")
    assert "5stars" in terms and min(map(len, terms)) == 2
    for chunk_size in (1, 4, 1000):
        features = vec.featurize(corpus, "seed", use_cache=False, chunk_size=chunk_size, jobs=1)
        assert_same(features.X, expected)
        assert features.documents == docs
    cached = vec.featurize(corpus, "seed", chunk_size=4, jobs=1)
    assert_same(cached.X, expected)
    assert (cached.path / "vocabulary.txt").read_text(encoding="utf-8").splitlines() == terms


# --------------------------------------------------------------------------- the vocabulary


def _dict_ids(chunks: list[list[str]]) -> list[list[int]]:
    """Ids in first-seen order from a plain dict: what _Vocabulary must give."""
    seen: dict[str, int] = {}
    return [[seen.setdefault(term, len(seen)) for term in chunk] for chunk in chunks]


@pytest.mark.parametrize("hash_fn", [hash, len, lambda term: 7], ids=["python", "len", "constant"])
def test_vocabulary_ids_are_exact_whatever_the_hash(hash_fn):
    # Weak hashes make most terms collide, within a chunk and across chunks, and colliding
    # terms come back in later chunks: every id must still be the dict's.
    words = ["a", "b", "ab", "ba", "abc", "é", "ée", "zz", "a b", "b a", "c", "cc"]
    chunks = [words[:4], words[2:8], [], words[::-1], ["new", "a", "wen", "é"], words]
    vocab = vec._Vocabulary(hash_fn)
    got = [vocab.ids(chunk).tolist() for chunk in chunks]
    assert got == _dict_ids(chunks)
    assert len(vocab) == len(set(words) | {"new", "wen"})
    if hash_fn is not hash:
        assert vocab._collided  # the weak hash did make terms share a hash


def test_vocabulary_sorts_as_python_sorts():
    # Arrow compares UTF-8 bytes; that is code-point order, as sorted() compares strings.
    terms = ["z", "é", "ÿ", "Ā", "中", "😀", "\uffff", "a", "A", "ab", "a\u0301", "Z9", "_"]
    vocab = vec._Vocabulary()
    ids = vocab.ids(terms)
    ordered, position = vocab.sorted_terms()
    assert ordered.to_pylist() == sorted(terms)
    assert [ordered[int(position[i])].as_py() for i in ids] == terms
    assert b"".join(vec._term_lines(ordered, batch=4)) == ("\n".join(sorted(terms)) + "\n").encode()


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)])
def test_counting_with_colliding_hashes_equals_one_shot(monkeypatch, ngram_range):
    monkeypatch.setattr(vec, "_term_hash", len)  # nearly every term shares a hash
    X, terms = vec.count_documents(DOCS, ngram_range, "fast", chunk_size=3)
    X_ref, terms_ref = one_shot(DOCS, ngram_range, "fast")
    assert terms == terms_ref
    assert_same(X, X_ref)


def test_release_pages_drops_the_mapped_pages_and_keeps_the_matrix(tmp_path, monkeypatch):
    import psutil

    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(3000)]
    texts = [" ".join(rng.choice(words, 40)) for _ in range(1500)]
    corpus = Corpus(texts=texts, labels=(np.arange(1500) % 2).astype(np.int8), source="test")
    X = vec.featurize(corpus, "fast", (1, 2)).X
    before = X.toarray().sum(axis=0)  # reads every page of the mapping

    def mapped() -> int:  # resident bytes of the cache's data file in this process
        path = str(next(tmp_path.rglob("data.npy")))
        maps = psutil.Process().memory_maps(grouped=True)
        return sum(m.rss for m in maps if m.path == path)

    assert mapped() > 0
    vec.release_pages(X)
    assert mapped() == 0
    np.testing.assert_array_equal(X.toarray().sum(axis=0), before)  # read again from the file
    vec.release_pages(X.copy())  # an in-memory matrix: nothing to do
    vec.release_pages(np.array(["a b"], dtype=object))  # documents: nothing to do
