"""Tokenizers: the seed one must equal the original study's preprocessing exactly."""

from __future__ import annotations

import os
import re
import sys
import unicodedata
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

#: Every character str.isspace() calls whitespace (29 in Unicode 14/15).
WHITESPACE = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())

#: Text beyond ASCII, built to tell tokenizers apart (shared by the seed and fast tests).
UNICODE_TEXTS = [
    # Accents, precomposed and as combining marks (e + U+0301, i + U+0308, n + U+0303).
    "Live in México, señor: naïve café, Müller's crème brûlée — más, l'été",
    "Cafe\u0301 nai\u0308ve Sen\u0303or a\u030a\u0327 \u0301lone mark",
    # Scripts without spaces, and with them.
    "日本語のテキストです。中文评论很好！한국어 리뷰 ภาษาไทย хороший Ελληνικά हिन्दी العربية",
    # Fractions, Roman numerals, super/subscripts, other digits, ligatures, full width.
    "½ cup, ¾ done, Ⅻ chapters, ⅻ, x² H₂O ٣ ৫ ¹²³ ﬁne ﬂour Ｆｕｌｌ ＷＩＤＴＨ ℡ № ㍻",
    # Apostrophes, straight and typographic, and other quotes and dashes.
    "don't don\u2019t don\u2018t don`t don\u00b4t don\u02bct don\uff07t \u201cquoted\u201d ‹a› «b»",
    # Every Unicode whitespace between words, and around a few stopwords.
    "w" + "w".join(WHITESPACE) + "w the" + WHITESPACE + "and" + WHITESPACE + "gooses",
    "İstanbul ǅungla ß ẞ ﬀ ﬃ Σίσυφος DŽ ǈ ǋ",
    "emoji 😀 only 🇫🇷 flags ★★★★☆ _under_score_ snake_case",
]


def original_cleaning(text: str) -> str:
    """The original study's preprocessing, as quoted in issue #17: Unicode-aware."""
    return "".join(c for c in text.lower() if c.isalnum() or c.isspace())


def test_seed_pattern_keeps_what_the_original_keeps_for_every_code_point():
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    kept = original_cleaning(everything.upper()) + original_cleaning(everything)
    assert (
        tok._SEED_STRIP.sub("", everything.upper().lower())
        + tok._SEED_STRIP.sub("", everything.lower())
        == kept
    )
    # Lowercased ASCII text takes a narrower class: the same set there.
    ascii_lower = "".join(map(chr, range(128))).lower()
    assert tok._SEED_STRIP_ASCII.sub("", ascii_lower) == original_cleaning(ascii_lower)
    # And character by character: no code point is kept or dropped by context.
    singles = [
        c for c in everything if (tok._SEED_STRIP.sub("", c) == c) != (c.isalnum() or c.isspace())
    ]
    assert singles == []


SEED_CASES = [
    # "this" and "were" are stopwords; "product's" loses its apostrophe, then "s".
    (
        "This product's batteries were AWFUL!!! Don't buy.",
        ["product", "battery", "awful", "dont", "buy"],
    ),
    # geese -> goose comes from noun.exc; "ate" is no noun form, so it stays;
    # digits are kept; the hyphen is removed, not split on; é is a letter.
    ("The geese ate 3 books, well-made café", ["goose", "ate", "3", "book", "wellmade", "café"]),
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
    """The study's code, written plainly, gives the same tokens, beyond ASCII too."""
    texts = [text for text, _ in SEED_CASES] + [
        "I've read MANY books; these geese-related stories weren't worth $20.00!",
        "Ca\u00f1\u00f3n \u2013 \u201cgreat\u201d   price\u2026 would buy again :)",
        *UNICODE_TEXTS,
    ]
    stop = tok.stopwords()

    def naive(text: str) -> list[str]:
        # The original study's preprocessing, as quoted in issue #17.
        cleaned = "".join(c for c in text.lower() if c.isalnum() or c.isspace())
        return [nltk_lemmatizer.lemmatize(w) for w in cleaned.split() if w not in stop]

    assert tok.tokenize(texts, "seed") == [naive(t) for t in texts]


def test_seed_keeps_letters_and_digits_of_every_script(wordnet):
    accents, combining, scripts, numbers, quotes, spaces = (
        tok.seed_tokenize(t) for t in UNICODE_TEXTS[:6]
    )
    assert accents[:4] == ["live", "méxico", "señor", "naïve"]
    assert {"café", "müllers", "crème", "brûlée", "más", "lété"} <= set(accents)
    # A combining mark is no letter: the original drops it and keeps the base letter.
    assert combining[:3] == ["cafe", "naive", "senor"]
    # Punctuation is removed, not split on; Devanagari vowel signs are marks.
    assert scripts[0] == "日本語のテキストです中文评论很好한국어" and "हनद" in scripts
    assert {"½", "¾", "ⅻ", "x²", "h₂o", "٣", "৫", "¹²³"} <= set(numbers)
    # U+02BC MODIFIER LETTER APOSTROPHE is a letter (Lm): the original keeps it.
    assert quotes == ["dont"] * 5 + ["don\u02bct", "dont", "quoted", "b"]
    assert spaces == ["w"] * (len(WHITESPACE) + 1) + ["goose"]


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
    (
        "Caf\u00e9 na\u00efve Se\u00f1or M\u00fcller l'\u00e9t\u00e9",
        ["café", "naïve", "señor", "müller", "lété"],
    ),
    ("The geese were 10/10", ["the", "geese", "were", "10", "10"]),
]


def test_fast_on_text_beyond_ascii():
    accents, combining, scripts, numbers, quotes, spaces = (
        tok.fast_tokenize(t) for t in UNICODE_TEXTS[:6]
    )
    assert accents == [
        "live", "in", "méxico", "señor", "naïve", "café", "müllers", "crème", "brûlée",
        "más", "lété",
    ]  # fmt: skip
    # NFKC composes a letter and its combining mark; a mark after a space is dropped.
    assert combining == ["café", "naïve", "señor", "å\u0327", "lone", "mark"]
    # Han, Hiragana and Katakana: a token per character; other scripts: runs, marks kept.
    assert scripts == [
        *"日本語のテキストです", *"中文评论很好", "한국어", "리뷰", "ภาษาไทย", "хороший",
        "ελληνικά", "हिन्दी", "العربية",
    ]  # fmt: skip
    # NFKC: ½ -> 1⁄2, Ⅻ -> XII, x² -> x2, ﬁ -> fi, full width -> ASCII, ℡ -> TEL, ㍻ -> 平成.
    assert numbers == [
        "1", "2", "cup", "3", "4", "done", "xii", "chapters", "xii", "x2", "h2o", "٣", "৫",
        "123", "fine", "flour", "full", "width", "tel", "no", "平", "成",
    ]  # fmt: skip
    assert quotes == ["dont"] * 7 + ["quoted", "a", "b"]
    assert spaces == ["w"] * (len(WHITESPACE) + 1) + ["the", "and", "gooses"]
    assert tok.fast_tokenize(UNICODE_TEXTS[7]) == [
        "emoji", "only", "flags", "under", "score", "snake", "case",
    ]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), FAST_CASES)
def test_fast_examples(text, expected):
    assert tok.fast_tokenize(text) == expected
    assert tok.tokenize([text], "fast") == [expected]


def test_fast_empty():
    assert tok.tokenize(["", " \n", "?!"], "fast") == [[], [], []]
    assert tok.tokenize([], "fast") == []


@given(st.text(st.characters(max_codepoint=127)))
def test_fast_tokens_of_ascii_text_are_alnum_runs(text):
    tokens = tok.fast_tokenize(text)
    assert all(re.fullmatch(r"[a-z0-9]+", t) for t in tokens)
    # Nothing alphanumeric is lost or invented; only separators move.
    assert "".join(tokens) == re.sub(r"[^a-z0-9]", "", text.lower())


def _is_mark(c: str) -> bool:
    return unicodedata.category(c).startswith("M")


@given(st.text())
def test_fast_tokens_keep_every_letter_and_digit(text):
    tokens = tok.fast_tokenize(text)
    prepared = unicodedata.normalize("NFKC", re.sub("['\u2019\u2018`\u00b4\u02bc]", "", text))
    prepared = re.sub("['\u2019\u2018`\u00b4\u02bc]", "", prepared.lower())
    for t in tokens:
        assert t[0].isalnum() and all(c.isalnum() or _is_mark(c) for c in t)
        assert "_" not in t
    # Every letter and digit of the normalised text is in a token, in order; marks
    # are kept only after one.
    assert "".join(c for c in "".join(tokens) if c.isalnum()) == "".join(
        c for c in prepared if c.isalnum()
    )


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
