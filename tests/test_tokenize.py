"""Tokenizers: the seed one must equal the original study's preprocessing exactly."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelcollapse.errors import UserError
from modelcollapse.features import tokenize as tok


@pytest.fixture(scope="module")
def wordnet():
    """The shared WordNet reader; skipped without WordNet, except in CI where it must exist."""
    try:
        return tok.wordnet_reader()
    except UserError as err:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"WordNet not installed ({err}); `apt-get install wordnet-base`")


@pytest.fixture
def nltk_lemmatizer(wordnet, monkeypatch):
    """NLTK's real WordNetLemmatizer, pointed at the same WordNet reader as ours."""
    import nltk.corpus
    import nltk.stem.wordnet
    from nltk.stem import WordNetLemmatizer

    monkeypatch.setattr(nltk.corpus, "wordnet", wordnet)
    # NLTK < 3.9 bound the corpus at import time as nltk.stem.wordnet.wn.
    monkeypatch.setattr(nltk.stem.wordnet, "wn", wordnet, raising=False)
    return WordNetLemmatizer()


# --------------------------------------------------------------------------- seed

SEED_CASES = [
    # "this" and "were" are stopwords; "product's" loses its apostrophe, then "s".
    (
        "This product's batteries were AWFUL!!! Don't buy.",
        ["product", "battery", "awful", "dont", "buy"],
    ),
    # geese -> goose comes from noun.exc; "ate" is no noun form, so it stays;
    # digits are kept; the hyphen is removed, not split on; é is not [a-z0-9].
    ("The geese ate 3 books, well-made café", ["goose", "ate", "3", "book", "wellmade", "caf"]),
    # Noun lemmas only (NLTK's default POS), shortest candidate wins: us -> u.
    ("us glasses comics running", ["u", "glass", "comic", "running"]),
    # "was" is a stopword, so it never becomes "wa"; "isn't" -> "isnt" is no
    # stopword (the list's "isn't" has an apostrophe), but a split "isn t" is.
    ("It was great, it isn't bad / isn t", ["great", "isnt", "bad"]),
    # Underscores and other punctuation vanish; any Unicode whitespace splits.
    # "a" is a stopword, "b" is not.
    ("foo_bar\tA+ B+\u00a0mice\nWOLVES", ["foobar", "b", "mouse", "wolf"]),
    ("5stars 2010 mp3", ["5stars", "2010", "mp3"]),
]


@pytest.mark.parametrize(("text", "expected"), SEED_CASES)
def test_seed_examples(wordnet, text, expected):
    assert tok.seed_tokenize(text) == expected
    assert tok.tokenize([text]) == [expected]


def test_seed_empty_and_punctuation_only(wordnet):
    assert tok.tokenize(["", "   ", "!!! ... ???", "the a an"], "seed") == [[], [], [], []]


def test_stopwords_are_the_classic_nltk_list():
    words = tok.stopwords()
    assert len(words) == 179
    assert {"i", "the", "not", "no", "don", "don't", "wouldn't", "any"} <= words
    assert "#" not in "".join(words)


def test_memoised_lemma_equals_nltk_lemmatizer(wordnet, nltk_lemmatizer):
    exceptions = sorted(wordnet._exception_map["n"])[:150]
    # fmt: off
    common = [
        "books", "batteries", "geese", "mice", "wolves", "children", "feet", "teeth",
        "women", "men", "glasses", "buses", "boxes", "churches", "dishes", "leaves",
        "knives", "lives", "wives", "halves", "stories", "ladies", "movies", "series",
        "species", "news", "was", "has", "us", "is", "as", "ass", "cds", "dvds", "songs",
        "players", "sounds", "works", "quality", "qualities", "products", "items",
        "pieces", "parts", "sizes", "colors", "prices", "reviews", "readers", "writers",
        "authors", "characters", "stars", "minutes", "hours", "days", "years", "times",
        "running", "played", "playing", "bought", "better", "best", "worse", "worst",
        "loved", "hated", "cheaper", "dont", "cant", "wont", "isnt", "wasnt", "doesnt",
        "didnt", "couldnt", "wouldnt", "shouldnt", "ive", "im", "youre", "wellmade",
        "caf", "3", "2010", "mp3", "5stars", "xyzzies", "qwerty", "asdfs",
    ]
    # fmt: on
    words = exceptions + common + [w + "s" for w in common] + [w + "es" for w in common]
    assert len(set(words)) >= 300
    tok._LEMMAS.clear()
    first = [tok.lemmatize(w) for w in words]
    assert first == [nltk_lemmatizer.lemmatize(w) for w in words]
    assert [tok.lemmatize(w) for w in words] == first  # now served from the memo
    assert set(words) <= tok._LEMMAS.keys()


def test_seed_equals_naive_pipeline(wordnet, nltk_lemmatizer):
    """The study's code, written plainly, gives the same tokens."""
    texts = [text for text, _ in SEED_CASES] + [
        "I've read MANY books; these geese-related stories weren't worth $20.00!",
        "Ca\u00f1\u00f3n \u2013 \u201cgreat\u201d   price\u2026 would buy again :)",
    ]
    stop = tok.stopwords()

    def naive(text: str) -> list[str]:
        cleaned = re.sub(r"[^a-zA-Z0-9\s]", "", text.lower())
        return [nltk_lemmatizer.lemmatize(w) for w in cleaned.split() if w not in stop]

    assert tok.tokenize(texts, "seed") == [naive(t) for t in texts]


def test_reader_morphy_is_nltks_own(wordnet):
    """Only start-up is adapted; lemma lookups run NLTK's code unchanged."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    assert isinstance(wordnet, WordNetCorpusReader)
    assert type(wordnet)._morphy is WordNetCorpusReader._morphy
    assert wordnet.get_version() == "3.0"
    assert wordnet.synsets("dog")[0].lexname() == "noun.animal"  # lexnames served


# --------------------------------------------------------------------------- fast

FAST_CASES = [
    (
        "Don't buy this!! It's 5-star, NOT great\u2026",
        ["dont", "buy", "this", "its", "5", "star", "not", "great"],
    ),
    (
        "rock\u2019n\u2019roll don`t well-made foo_bar",
        ["rocknroll", "dont", "well", "made", "foo", "bar"],
    ),
    ("Caf\u00e9 na\u00efve", ["caf", "na", "ve"]),
    ("The geese were 10/10", ["the", "geese", "were", "10", "10"]),
]


@pytest.mark.parametrize(("text", "expected"), FAST_CASES)
def test_fast_examples(text, expected):
    assert tok.fast_tokenize(text) == expected
    assert tok.tokenize([text], "fast") == [expected]


def test_fast_empty():
    assert tok.tokenize(["", " \n", "?!"], "fast") == [[], [], []]
    assert tok.tokenize([], "fast") == []


@given(st.text())
def test_fast_tokens_are_ascii_alnum_runs(text):
    tokens = tok.fast_tokenize(text)
    assert all(re.fullmatch(r"[a-z0-9]+", t) for t in tokens)
    # Nothing alphanumeric is lost or invented; only separators move.
    assert "".join(tokens) == re.sub(r"[^a-z0-9]", "", text.lower())


# --------------------------------------------------------------------------- API


def test_unknown_tokenizer():
    with pytest.raises(UserError) as info:
        tok.tokenize(["x"], "bpe")
    assert info.value.where == "--tokenizer"
    assert str(info.value) == ("--tokenizer: unknown tokenizer 'bpe' (expected one of: seed, fast)")


def test_tokenizers_registry():
    assert tok.TOKENIZERS == ("seed", "fast")
    assert tok.get_tokenizer("fast") is tok.fast_tokenize


def test_bad_wordnet_env_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setenv(tok.WORDNET_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(UserError, match=tok.WORDNET_ENV):
        tok.find_wordnet()


def test_missing_wordnet_says_how_to_install(tmp_path, monkeypatch):
    import nltk.data

    def not_found(resource: str) -> None:
        raise LookupError(resource)

    monkeypatch.delenv(tok.WORDNET_ENV, raising=False)
    monkeypatch.setattr(tok, "SYSTEM_WORDNET_DIRS", (str(tmp_path),))
    monkeypatch.setattr(nltk.data, "find", not_found)
    with pytest.raises(UserError) as info:
        tok.find_wordnet()
    message = str(info.value)
    assert "apt-get install wordnet-base" in message
    assert tok.WORDNET_ENV in message
    assert "\n" not in message


def test_wordnet_env_dir_without_lexnames(wordnet, tmp_path, monkeypatch):
    """A bare dict directory (like Debian's, no lexnames) named by the env var loads."""
    source = Path(wordnet.root.path if hasattr(wordnet.root, "path") else wordnet.root)
    if not (source / "noun.exc").is_file():
        pytest.skip("WordNet is not a plain directory here")
    target = tmp_path / "dict"
    target.mkdir()
    for name in tok._WORDNET_FILES:
        (target / name).write_bytes((source / name).read_bytes())
    import nltk.data

    monkeypatch.setattr(nltk.data, "path", list(nltk.data.path))  # load_wordnet extends it
    monkeypatch.setenv(tok.WORDNET_ENV, str(target))
    assert tok.find_wordnet() == target
    reader = tok.load_wordnet()
    assert reader._morphy("geese", "n") == ["goose"]
