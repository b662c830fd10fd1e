"""Tokenizers: the seed one must equal the original study's preprocessing exactly."""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from pathlib import Path

import pytest
import wordnet_reference as reference
from hypothesis import given
from hypothesis import strategies as st

from modelcollapse.errors import UserError
from modelcollapse.features import tokenize as tok


@pytest.fixture(scope="module")
def wordnet():
    """The seed lemmatizer's WordNet noun data (shipped, unless the env var says otherwise)."""
    return tok.wordnet_nouns()


@pytest.fixture(scope="module")
def nltk_reader():
    """NLTK's reader over Debian's full WordNet where installed, else over the shipped data."""
    return reference.reference_reader()


@pytest.fixture
def nltk_lemmatizer(nltk_reader):
    """NLTK's real WordNetLemmatizer, reading ``nltk_reader``."""
    with reference.nltk_lemmatizer(nltk_reader) as lemmatizer:
        yield lemmatizer


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
    exceptions = [*sorted(wordnet.exceptions)[:150], "aurar", "involucra", "diastemata"]
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


def test_morphy_is_nltks_on_every_kind_of_noun_form(wordnet):
    """Our morphy against NLTK's own ``_morphy`` code on the same (shipped) data: every
    irregular form, and every eighth lemma with each detachment rule undone."""
    nltk = reference.nltk_reader_over(wordnet)
    words = sorted(wordnet.exceptions)
    for lemma in sorted(wordnet.lemmas)[::8]:
        words += [lemma, lemma + "s"]
        words += [lemma[: len(lemma) - len(new)] + old for old, new in tok.WordNetNouns.RULES
                  if new and lemma.endswith(new)]  # fmt: skip
    assert len(words) > 30_000
    assert [wordnet.morphy(w) for w in words] == [nltk._morphy(w, "n") for w in words]
    # The rules' order and NLTK's tie-break (first of the shortest) both show here.
    assert wordnet.morphy("us") == ["us", "u"] and wordnet.lemmatize("us") == "u"
    assert wordnet.morphy("aurar") == ["eyrir"]  # noun.exc lists it twice; the last line wins


def test_shipped_data_is_wordnet_3_0_noun_data(wordnet):
    """The shipped files hold Debian's WordNet 3.0 noun lemmas and exceptions exactly:
    rebuilt from Debian's files where the machine has them, else by the digests
    recorded from them (tests/wordnet_reference.json)."""
    import importlib.util

    assert reference.shipped_digests() == reference.load_record()["shipped_sha256"]
    assert len(wordnet.lemmas) == 117_798 and len(wordnet.exceptions) == 2_050
    assert {"goose", "book", "u", "us", "eyrir", "'hood", "zyrian"} <= wordnet.lemmas
    assert wordnet.exceptions["geese"] == ("goose",)
    debian = reference.debian_wordnet()
    if debian is None:
        return
    script = Path(__file__).resolve().parents[1] / "scripts" / "build_wordnet.py"
    spec = importlib.util.spec_from_file_location("build_wordnet", script)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert build.noun_files(debian) == build.shipped_files(tok.shipped_wordnet())
    # And they are what NLTK's reader takes from Debian's whole database.
    nltk = reference.nltk_reader(debian)
    assert wordnet.lemmas == {k for k, v in nltk._lemma_pos_offset_map.items() if "n" in v}
    assert wordnet.exceptions == {k: tuple(v) for k, v in nltk._exception_map["n"].items()}


def test_shipped_data_is_package_data_and_small():
    """pyproject's package data carries the data and its licence into the wheel."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["package-data"]["modelcollapse"]
    folder = root / "src" / "modelcollapse" / "features" / "wordnet"
    files = sorted(p.relative_to(folder.parents[1]).as_posix() for p in folder.iterdir())
    assert files == [
        "features/wordnet/LICENSE", "features/wordnet/index.noun.gz",
        "features/wordnet/noun.exc.gz",
    ]  # fmt: skip
    assert all(any(fnmatch.fnmatch(f, p) for p in patterns) for f in files)
    assert sum((folder / Path(f).name).stat().st_size for f in files) < 1 << 20
    notice = (folder / "LICENSE").read_text(encoding="utf-8")
    assert "WordNet 3.0 Copyright 2006 by Princeton University" in notice
    assert "Permission to use, copy, modify and distribute" in notice


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


def test_broken_install_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv(tok.WORDNET_ENV, raising=False)
    monkeypatch.setattr(tok, "shipped_wordnet", lambda: tmp_path)
    assert tok.find_wordnet() == tmp_path
    with pytest.raises(UserError) as info:
        tok.load_wordnet()
    message = str(info.value)
    assert "reinstall modelcollapse" in message and tok.WORDNET_ENV in message
    assert "\n" not in message


def _dict_dir(path: Path, lemmas: list[str], exceptions: list[str], version: str = "3.0") -> Path:
    path.mkdir()
    header = f"  1 WordNet {version} Copyright 2006 by Princeton University.  \n"
    index = header + "".join(f"{lemma} n 1 0 1 0 00000001  \n" for lemma in lemmas)
    (path / "index.noun").write_text(index, encoding="utf-8")
    (path / "noun.exc").write_text("".join(f"{line}\n" for line in exceptions), encoding="utf-8")
    return path


def test_wordnet_env_overrides_shipped_data(tmp_path, monkeypatch):
    """A WordNet dict directory named by the env var is read instead of the shipped data."""
    target = _dict_dir(tmp_path / "dict", ["goose", "book", "mouse"], ["geese goose"])
    monkeypatch.setenv(tok.WORDNET_ENV, str(target))
    monkeypatch.setattr(tok, "_nouns", None)
    monkeypatch.setattr(tok, "_LEMMAS", tok._LemmaMemo())
    assert tok.find_wordnet() == target
    assert tok.wordnet_nouns().source == str(target)
    # "mice" is no exception here and "glass" no lemma: both stay as they are.
    assert tok.seed_tokenize("geese books mice glasses") == ["goose", "book", "mice", "glasses"]
    debian = reference.debian_wordnet()
    if debian is not None:  # Debian's own files, named by the env var, give the shipped answers
        words = ["geese", "glasses", "us", "aurar", "women", "books", "xyzzies"]
        assert [tok.load_wordnet(debian).lemmatize(w) for w in words] == [
            tok.load_wordnet(tok.shipped_wordnet()).lemmatize(w) for w in words
        ]


def test_wordnet_other_than_3_0_warns(tmp_path):
    target = _dict_dir(tmp_path / "dict", ["goose"], [], version="2.1")
    with pytest.warns(UserWarning, match="WordNet 3.0"):
        tok.load_wordnet(target)


def test_seed_run_with_only_the_shipped_wordnet(small_reviews, tmp_path):
    """`--tokenizer seed` end to end in a fresh process that may read no WordNet but
    the shipped one: no env var, and an audit hook fails any open of Debian's files
    or NLTK's data (what a machine without wordnet-base lacks)."""
    import json
    import subprocess

    opened = tmp_path / "opened.json"
    parts = ("noun", "verb", "adj", "adv")
    wordnet_files = {f"{kind}.{pos}" for kind in ("index", "data") for pos in parts}
    wordnet_files |= {f"{pos}.exc" for pos in parts} | {"lexnames"}
    code = f"""
import json, sys
WORDNET_FILES = {wordnet_files!r}
seen = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str | bytes):
        path = args[0].decode() if isinstance(args[0], bytes) else args[0]
        if path.rsplit("/", 1)[-1].removesuffix(".gz") in WORDNET_FILES:
            seen.append(path)
        if path.startswith("/usr/share/wordnet") or "nltk_data" in path:
            raise PermissionError(path)
sys.addaudithook(hook)
from modelcollapse.cli import main
status = main(sys.argv[1:])
open({str(opened)!r}, "w").write(json.dumps(seen))
sys.exit(status)
"""
    out = tmp_path / "run"
    argv = [
        "run", "lower-rates", "--data", str(small_reviews), "--model", "nb",
        "--tokenizer", "seed", "--initial-size", "200", "--increment", "200",
        "--max-size", "400", "--rates", "0,1", "--repeats", "1", "--jobs", "1",
        "--out", str(out), "--no-report",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != tok.WORDNET_ENV}
    env["MODELCOLLAPSE_CACHE"] = str(tmp_path / "cache")
    src = Path(tok.__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", code, *argv], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(opened.read_text())
    shipped = Path(str(tok.shipped_wordnet()))
    assert seen and all(Path(p).parent == shipped for p in seen), seen
    assert {Path(p).name for p in seen} == {"index.noun.gz", "noun.exc.gz"}
    import pandas as pd

    assert len(pd.read_parquet(out / "results")) == 2 * 2
