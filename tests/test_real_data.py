"""End to end on the real Amazon sample (skips without it, fails under CI without it)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wordnet_reference as reference

from modelcollapse.cli import main
from modelcollapse.data.corpus import Corpus
from modelcollapse.data.readers import read_corpus
from modelcollapse.features import tokenize as tok

pytestmark = pytest.mark.realdata


@pytest.fixture
def original_documents(real_data_path: Path) -> tuple[Corpus, list[list[str]]]:
    return _original_documents(real_data_path)


@cache
def _original_documents(path: Path) -> tuple[Corpus, list[list[str]]]:
    """The original study's preprocessing, written plainly with NLTK's own lemmatizer,
    applied to every review of the sample (once per session)."""
    # NLTK over Debian's WordNet where installed; else NLTK's code over the shipped
    # data, which test_seed_lemmas_on_real_reviews_are_nltk_over_debian ties to Debian's.
    with reference.nltk_lemmatizer(reference.reference_reader()) as lemmatizer:
        stop = tok.stopwords()

        lemmas: dict[str, str] = {}  # NLTK's answer for a word is fixed: ask once per word

        def lemmatize(word: str) -> str:
            if word not in lemmas:
                lemmas[word] = lemmatizer.lemmatize(word)
            return lemmas[word]

        def original(text: str) -> list[str]:
            # The original study's cleaning, as quoted in issue #17 (Unicode-aware).
            cleaned = "".join(c for c in text.lower() if c.isalnum() or c.isspace())
            return [lemmatize(w) for w in cleaned.split() if w not in stop]

        corpus = read_corpus(path)
        return corpus, [original(t) for t in corpus.texts]


def test_seed_tokenizer_is_the_original_preprocessing_on_real_reviews(original_documents) -> None:
    corpus, expected = original_documents
    assert len(corpus) == 15_980
    assert tok.tokenize(corpus.texts, "seed") == expected
    # The sample's non-ASCII words survive whole (0.2 made "méxico" "mxico").
    assert sum(not "".join(tokens).isascii() for tokens in expected) > 50


def test_seed_lemmas_on_real_reviews_are_nltk_over_debian(real_data_path: Path) -> None:
    """Every distinct seed word of the sample gets, from the shipped WordNet data, the
    lemma NLTK's WordNetLemmatizer gives over Debian's full WordNet 3.0: compared live
    where wordnet-base is installed, else with the record made from it
    (tests/wordnet_reference.json, rewritten by `python tests/wordnet_reference.py`)."""
    import hashlib

    record = reference.load_record()
    assert hashlib.sha256(real_data_path.read_bytes()).hexdigest() == record["sample_sha256"]
    words = reference.seed_words(real_data_path)
    shipped = tok.load_wordnet(tok.shipped_wordnet())
    lemmas = {w: shipped.lemmatize(w) for w in words}
    debian = reference.debian_wordnet()
    if debian is not None:
        with reference.nltk_lemmatizer(reference.nltk_reader(debian)) as lemmatizer:
            expected = {w: lemmatizer.lemmatize(w) for w in words}
        assert {w: (lemmas[w], expected[w]) for w in words if lemmas[w] != expected[w]} == {}
        assert reference.lemma_digest(expected) == record["lemmas_sha256"]  # record up to date
    assert len(lemmas) == record["distinct_words"] == 57_761
    assert sum(w != lemma for w, lemma in lemmas.items()) == record["changed_words"] == 5_558
    assert reference.lemma_digest(lemmas) == record["lemmas_sha256"]


def test_seed_features_are_the_original_countvectorizer_on_real_reviews(
    original_documents, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original counted its joined tokens with CountVectorizer(min_df=1,
    ngram_range=(1, 1)); the cached, chunked counts of `seed` are that matrix."""
    from sklearn.feature_extraction.text import CountVectorizer

    from modelcollapse.features.vectorize import featurize, load_features, restrict_to_vocabulary

    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path))
    corpus, expected = original_documents
    docs = [" ".join(tokens) for tokens in expected]
    original = CountVectorizer(min_df=1, ngram_range=(1, 1))
    X_original = original.fit_transform(docs)
    terms = list(original.get_feature_names_out())

    load_features.cache_clear()
    features = featurize(corpus, "seed", (1, 1), chunk_size=4_000, jobs=1)
    assert features.documents == docs
    vocabulary = (features.path / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
    assert vocabulary == terms
    assert len(terms) < len({t for tokens in expected for t in tokens})  # one-letter terms gone
    assert features.X.shape == X_original.shape
    assert (X_original != features.X).nnz == 0

    # A training slice restricted to its own columns is the original refitted on it.
    rows = np.random.default_rng(0).choice(len(docs), size=1_000, replace=False)
    columns, (X_rows,) = restrict_to_vocabulary(features.X[rows])
    refit = CountVectorizer(min_df=1, ngram_range=(1, 1))
    X_refit = refit.fit_transform([docs[i] for i in rows])
    assert [terms[c] for c in columns] == list(refit.get_feature_names_out())
    assert (X_rows != X_refit).nnz == 0


def test_a_paired_rate_study_on_real_reviews(real_data_path: Path, tmp_path: Path) -> None:
    """A small lower-rates run through the CLI: pairing, plausible accuracy, rate 1 falls behind."""
    out = tmp_path / "run"
    argv = [
        "run", "lower-rates", "--data", str(real_data_path), "--model", "logreg",
        "--tokenizer", "seed", "--initial-size", "1000", "--increment", "1000",
        "--max-size", "4000", "--rates", "0,1", "--repeats", "2", "--jobs", "2",
        "--out", str(out), "--no-report",
    ]  # fmt: skip
    assert main(argv) == 0
    table = pd.read_parquet(out / "results")
    assert len(table) == 2 * 2 * 4
    assert set(table["n_test"]) == {15_980 - 4000}

    first = table[table["step"] == 0]
    # Paired design: at the first step both rates have the same data, so the same accuracy.
    assert first.groupby("repeat")["accuracy"].nunique().eq(1).all()
    assert first["accuracy"].between(0.75, 0.87).all()  # logreg on 1,000 real reviews: ~0.81
    assert table["predicted_positive_rate"].between(0.3, 0.7).all()

    last = table[table["train_size"] == 4000].groupby("rate")
    accuracy = last["accuracy"].mean()
    assert accuracy[0.0] > accuracy[1.0]
    assert (last["n_model_labelled"].max()[1.0], last["n_model_labelled"].max()[0.0]) == (3000, 0)
    assert main(argv) == 0  # resumes: nothing left to run, same table
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results"), table)
