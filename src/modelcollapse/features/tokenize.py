"""Tokenizers that turn review texts into word lists.

``seed`` reproduces the original study's preprocessing token for token, so its
numbers can be re-derived; ``fast`` is the default for everything else, because
it keeps negations ("not", "dont") that the stopword list throws away and costs
almost nothing.

Both work offline: the stopword list ships with the package and the seed
lemmatizer reads the WordNet 3.0 database that Debian's ``wordnet-base`` installs
(NLTK data cannot be downloaded here).
"""

from __future__ import annotations

import io
import os
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelcollapse.errors import UserError

if TYPE_CHECKING:
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

__all__ = [
    "TOKENIZERS",
    "WORDNET_ENV",
    "fast_tokenize",
    "find_wordnet",
    "get_tokenizer",
    "lemmatize",
    "load_wordnet",
    "seed_tokenize",
    "stopwords",
    "tokenize",
    "wordnet_reader",
]

TOKENIZERS: tuple[str, ...] = ("seed", "fast")

#: Environment variable naming a WordNet dict directory (index.noun, noun.exc, ...).
WORDNET_ENV = "MODELCOLLAPSE_WORDNET"

#: Directories searched after ``$MODELCOLLAPSE_WORDNET``: Debian's wordnet-base.
SYSTEM_WORDNET_DIRS: tuple[str, ...] = ("/usr/share/wordnet",)

# The files NLTK's reader opens at start-up or for morphy; a directory without
# them is not a WordNet database. ``lexnames`` is not listed: Debian lacks it and
# we supply it (see _WordNetReader).
_WORDNET_FILES = tuple(
    f"{kind}.{pos}" for pos in ("noun", "verb", "adj", "adv") for kind in ("index", "data")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))

_NOT_FOUND = (
    "the seed tokenizer needs WordNet 3.0: run `apt-get install wordnet-base` "
    f"or set {WORDNET_ENV} to a WordNet dict directory"
)

# The study cleaned each review with
#     "".join(c for c in text.lower() if c.isalnum() or c.isspace())
# (Unicode-aware: "café", "señor" and "日本語" survive whole). This pattern removes
# exactly the characters that expression drops, for every code point: Python's
# \w is str.isalnum() plus "_" and \s is str.isspace() (tests check all 1,114,112
# code points). \s is also what str.split() splits on, so a no-break space
# separates words, as in the study. Lowercased ASCII text takes the narrower class,
# the same set there (no capitals left; \s stays Unicode-aware, as it must for
# \x1c-\x1f), which is about twice as fast as \w: seed tokenising stays as fast as
# before on English reviews.
_SEED_STRIP = re.compile(r"[^\w\s]|_")
_SEED_STRIP_ASCII = re.compile(r"[^a-z0-9\s]")

# Scripts written without spaces between words, whose characters are each one
# token in `fast`: Han ideographs (CJK Unified Ideographs and extensions,
# compatibility ideographs), Hiragana and Katakana (with the half-width forms
# that NFKC leaves). Hangul is written with spaces and stays in runs; so do Thai,
# Lao, Khmer and Myanmar, which need a dictionary to find word boundaries.
_UNSPACED = (
    "\u3005-\u3007\u3021-\u3029\u3038-\u303b\u3040-\u30ff\u31f0-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff"
)
_FAST_ASCII = re.compile(r"[a-z0-9]+")
# The planes that hold combining marks (0, 1 and 14 up to Unicode 15); scanning
# only them keeps the one-off cost of building the pattern to a fraction of a second.
_MARK_PLANES = (range(0x20000), range(0xE0000, 0xE1000))


@cache
def _fast_unicode() -> re.Pattern[str]:
    """Words of non-ASCII text, built on first use (it scans the Unicode tables).

    A letter or digit of any script, then letters, digits and combining marks
    (\\w leaves marks out, so "हिन्दी" would split at each vowel sign); or one
    letter or digit of an unspaced script with the marks after it (the ranges
    also hold symbols such as "・", which the look-ahead leaves out). "_"
    separates, as it does in ASCII text.
    """
    marks: list[str] = []
    for plane in _MARK_PLANES:
        start = None
        for code in plane:
            is_mark = unicodedata.category(chr(code))[0] == "M"
            if is_mark and start is None:
                start = code
            elif not is_mark and start is not None:
                marks.append(f"{chr(start)}-{chr(code - 1)}")
                start = None
        if start is not None:
            marks.append(f"{chr(start)}-{chr(plane[-1])}")
    mark = "".join(marks)
    word = f"[^\\W_{_UNSPACED}]"
    return re.compile(f"{word}(?:{word}|[{mark}])*|(?=[^\\W_])[{_UNSPACED}][{mark}]*")


# Apostrophes, straight and typographic, are dropped before splitting so that
# "don't", "don\u2019t" and "don`t" all stay one token, "dont".
_APOSTROPHES = ("'", "\u2019", "\u2018", "`", "\u00b4", "\u02bc")

# Bounds the per-process lemma memo; past it the memo restarts (output unchanged).
_MEMO_MAX = 1 << 21


def _data_lines(name: str) -> list[str]:
    """Non-comment, non-blank lines of a data file shipped in this package."""
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return [s for line in text.splitlines() if (s := line.strip()) and not s.startswith("#")]


_STOPWORDS: frozenset[str] = frozenset(_data_lines("english_stopwords.txt"))


def stopwords() -> frozenset[str]:
    """NLTK's classic 179-word English stopword list, as the seed tokenizer uses it."""
    return _STOPWORDS


# --------------------------------------------------------------------------- fast


def fast_tokenize(text: str) -> list[str]:
    """Words of the lowercased text, apostrophes removed first.

    ASCII text: runs of ``[a-z0-9]``. Other text is NFKC-normalised first ("ﬁ"
    -> "fi", "Ⅻ" -> "xii", "½" -> "1", "2", full-width letters -> ASCII, an "é"
    typed as "e" + combining accent -> "é"), then split into runs of letters and
    digits of any script with their combining marks; each Han, Hiragana or
    Katakana character is a token of its own ("日本語" -> "日", "本", "語"), since
    those scripts put no spaces between words. No stopwords and no lemmas:
    negations carry sentiment.
    """
    if not text.isascii():
        return _fast_unicode_tokens(text)
    # ASCII text, most reviews: 0.2's rule, as fast (NFKC leaves ASCII as it is).
    return _FAST_ASCII.findall(_drop_apostrophes(text.lower()))


def _fast_unicode_tokens(text: str) -> list[str]:
    # Apostrophes go before NFKC too, which turns "´" into a space and a combining
    # accent; NFKC goes before lower() as it can make capitals ("℡" -> "TEL") and
    # apostrophes ("＇" -> "'").
    text = unicodedata.normalize("NFKC", _drop_apostrophes(text))
    return _fast_unicode().findall(_drop_apostrophes(text.lower()))


def _drop_apostrophes(text: str) -> str:
    for mark in _APOSTROPHES:
        if mark in text:
            text = text.replace(mark, "")
    return text


# --------------------------------------------------------------------------- WordNet


@cache
def _reader_class() -> type[WordNetCorpusReader]:
    """NLTK's reader, adapted to a bare WordNet dict directory such as Debian's.

    Built lazily so that importing this module (and the fast tokenizer) never
    imports NLTK's corpus machinery.
    """
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _WordNetReader(WordNetCorpusReader):
        """Morphy and lemma lookups are NLTK's own; only start-up is adapted.

        * ``lexnames`` (read at start-up, used only to name synsets' lexicographer
          files) is served from the package when the directory lacks it.
        * ``map_wn`` returns None: recent NLTK (seen in 3.10) builds a sense map
          for the multilingual (OMW) functions at start-up by loading the *global*
          ``wordnet`` corpus from nltk_data, which fails offline. We load no OMW data, and for
          WordNet 3.0 "no mapping" is what NLTK itself means by None.
        """

        def __init__(self, root: Any, *, shim_lexnames: bool) -> None:
            self._shim_lexnames = shim_lexnames
            super().__init__(root, None)

        def open(self, file: str) -> Any:
            if file == "lexnames" and self._shim_lexnames:
                return io.StringIO("".join(f"{line}\n" for line in _LEXNAMES))
            return super().open(file)

        def map_wn(self, version: str = "wordnet") -> None:
            return None

    return _WordNetReader


_LEXNAMES: tuple[str, ...] = tuple(_data_lines("wordnet_lexnames.txt"))


def _missing_files(directory: Path) -> list[str]:
    return [name for name in _WORDNET_FILES if not (directory / name).is_file()]


def find_wordnet() -> Any:
    """Where the WordNet database is: a directory ``Path``, or NLTK's own PathPointer.

    Search order: ``$MODELCOLLAPSE_WORDNET`` (an error if set but unusable, so a
    typo is not silently replaced by another WordNet), Debian's /usr/share/wordnet,
    then ``corpora/wordnet`` on NLTK's data path.
    """
    env = os.environ.get(WORDNET_ENV, "").strip()
    if env:
        directory = Path(env).expanduser()
        missing = _missing_files(directory)
        if missing:
            raise UserError(
                f"{WORDNET_ENV}={env} is not a WordNet dict directory "
                f"(no {missing[0]}); point it at the folder holding index.noun and noun.exc"
            )
        return directory
    for candidate in SYSTEM_WORDNET_DIRS:
        directory = Path(candidate)
        if not _missing_files(directory):
            return directory
    import nltk.data

    for resource in ("corpora/wordnet", "corpora/wordnet.zip/wordnet/"):
        try:
            return nltk.data.find(resource)
        except LookupError:
            continue
    raise UserError(_NOT_FOUND)


def load_wordnet(root: Any = None) -> WordNetCorpusReader:
    """A fresh NLTK ``WordNetCorpusReader`` on ``root`` (default: ``find_wordnet()``).

    Takes about a second (NLTK indexes every lemma); use ``wordnet_reader()`` for
    the per-process shared one.
    """
    import nltk.data

    if root is None:
        root = find_wordnet()
    shim_lexnames = False
    if isinstance(root, str | os.PathLike) and not isinstance(root, nltk.data.PathPointer):
        root = Path(root)
        directory = str(root.resolve())
        shim_lexnames = not (root / "lexnames").is_file()
        # Recent NLTK (nltk.pathsec, seen in 3.10) refuses to read corpora outside
        # nltk.data.path; registering the directory is its documented way to allow one.
        if directory not in nltk.data.path:
            nltk.data.path.append(directory)
        root = directory
    try:
        with warnings.catch_warnings():
            # "multilingual functions are not available": true, and not needed.
            warnings.filterwarnings("ignore", message=".*multilingual", category=UserWarning)
            reader = _reader_class()(root, shim_lexnames=shim_lexnames)
    except (OSError, ValueError, LookupError, AssertionError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"cannot read WordNet at {root}: {first}") from exc
    version = reader.get_version()
    if version != "3.0":
        warnings.warn(
            f"WordNet {version} at {root}: the seed tokenizer reproduces the original "
            "study only with WordNet 3.0",
            stacklevel=2,
        )
    return reader


_reader: WordNetCorpusReader | None = None
_reader_lock = threading.Lock()


def wordnet_reader() -> WordNetCorpusReader:
    """The process-wide reader, loaded on first use."""
    global _reader
    if _reader is None:
        with _reader_lock:
            if _reader is None:
                _reader = load_wordnet()
    return _reader


class _LemmaMemo(dict[str, str]):
    """word -> lemma; a miss computes NLTK's lemma once, hits are plain dict lookups."""

    def __missing__(self, word: str) -> str:
        # Exactly nltk.stem.WordNetLemmatizer().lemmatize(word) (pos "n"): the
        # shortest of morphy's candidates, else the word itself. Re-stated here
        # because older NLTKs hard-wire the lemmatizer to the global nltk_data
        # corpus; tests check it against the real class on the same reader.
        lemmas = wordnet_reader()._morphy(word, "n")
        lemma = min(lemmas, key=len) if lemmas else word
        if len(self) >= _MEMO_MAX:
            self.clear()
        self[word] = lemma
        return lemma


_LEMMAS = _LemmaMemo()


def lemmatize(word: str) -> str:
    """``WordNetLemmatizer().lemmatize(word)`` (noun POS), memoised per process."""
    return _LEMMAS[word]


# --------------------------------------------------------------------------- seed


def seed_tokenize(text: str) -> list[str]:
    """The original study: lowercase, keep only letters, digits (of any script)
    and whitespace, split, drop NLTK stopwords, lemmatize as nouns ("don't" ->
    "dont", "geese" -> "goose", "café" stays "café").
    """
    lemmas, stop = _LEMMAS, _STOPWORDS
    text = text.lower()
    strip = _SEED_STRIP_ASCII if text.isascii() else _SEED_STRIP
    return [lemmas[w] for w in strip.sub("", text).split() if w not in stop]


# --------------------------------------------------------------------------- API

_TOKENIZERS: dict[str, Callable[[str], list[str]]] = {
    "seed": seed_tokenize,
    "fast": fast_tokenize,
}


def get_tokenizer(name: str) -> Callable[[str], list[str]]:
    """The tokenizer called ``name``, ready to use (seed loads WordNet now, so a
    missing WordNet is reported before any work starts). Picklable.
    """
    try:
        tokenizer = _TOKENIZERS[name]
    except (KeyError, TypeError):
        raise UserError(
            f"unknown tokenizer '{name}' (expected one of: {', '.join(TOKENIZERS)})",
            where="--tokenizer",
        ) from None
    if tokenizer is seed_tokenize:
        wordnet_reader()
    return tokenizer


def tokenize(texts: Iterable[str], tokenizer: str = "seed") -> list[list[str]]:
    """Tokens of each text, by the tokenizer named ``tokenizer`` (see ``TOKENIZERS``)."""
    fn = get_tokenizer(tokenizer)
    return [fn(text) for text in texts]
