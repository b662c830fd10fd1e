"""Tokenizers that turn review texts into word lists.

``seed`` reproduces the original study's preprocessing token for token, so its
numbers can be re-derived; ``fast`` is the default for everything else, because
it keeps negations ("not", "dont") that the stopword list throws away and costs
almost nothing.

Both work offline after ``pip install`` alone: the stopword list and the WordNet
3.0 noun data the seed lemmatizer reads (lemmas and irregular forms, 0.5 MB
compressed, under WordNet's licence: features/wordnet/LICENSE) ship with the
package; ``$MODELCOLLAPSE_WORDNET`` can point it at another WordNet dict directory.
"""

from __future__ import annotations

import gzip
import os
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from modelcollapse.errors import UserError

__all__ = [
    "TOKENIZERS",
    "WORDNET_ENV",
    "WordNetNouns",
    "fast_tokenize",
    "find_wordnet",
    "get_tokenizer",
    "lemmatize",
    "load_wordnet",
    "seed_tokenize",
    "shipped_wordnet",
    "stopwords",
    "tokenize",
    "wordnet_nouns",
]

TOKENIZERS: tuple[str, ...] = ("seed", "fast")

#: Environment variable naming a WordNet dict directory (index.noun, noun.exc, ...)
#: to use instead of the noun data shipped in the package.
WORDNET_ENV = "MODELCOLLAPSE_WORDNET"

# The files of a WordNet dict directory that the lemmatizer reads (see WordNetNouns).
_WORDNET_FILES = ("index.noun", "noun.exc")

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


class WordNetNouns:
    """The WordNet noun data that NLTK's ``WordNetLemmatizer().lemmatize(word)`` reads.

    That lemmatizer (noun POS) is ``min(wn._morphy(word, "n"), key=len)``, else the
    word. Morphy takes the word's noun exceptions (``noun.exc``) if it has any, else
    the word with each detachment rule applied once; keeps the word and those
    candidates that are noun lemmas (first column of ``index.noun``), in that order,
    without repeats. Nothing else of the database is consulted, so this class holds
    just those two and needs no NLTK corpus reader (whose start-up indexes all four
    parts of speech). Tests check it against NLTK's own code.
    """

    #: NLTK's ``WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS["n"]``, in its order.
    RULES: tuple[tuple[str, str], ...] = (
        ("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"),
        ("ches", "ch"), ("shes", "sh"), ("men", "man"), ("ies", "y"),
    )  # fmt: skip

    def __init__(
        self, lemmas: Iterable[str], exceptions: dict[str, tuple[str, ...]], source: str
    ) -> None:
        self.lemmas = frozenset(lemmas)
        self.exceptions = exceptions
        self.source = source

    @classmethod
    def from_lines(
        cls, index_lines: Iterable[str], exception_lines: Iterable[str], source: str
    ) -> WordNetNouns:
        """Parse index.noun and noun.exc as NLTK does: index lines that start with a
        space are the licence header; a form listed twice in noun.exc keeps its last line."""
        lemmas = [line.split(None, 1)[0] for line in index_lines if line.strip() and line[0] != " "]
        exceptions: dict[str, tuple[str, ...]] = {}
        for line in exception_lines:
            if terms := line.split():
                exceptions[terms[0]] = tuple(terms[1:])
        return cls(lemmas, exceptions, source)

    def morphy(self, form: str) -> list[str]:
        """NLTK's ``_morphy(form, "n")``: the noun lemmas ``form`` may be a form of."""
        if form in self.exceptions:
            candidates = [form, *self.exceptions[form]]
        else:
            candidates = [form]
            candidates += [form[: -len(old)] + new for old, new in self.RULES if form.endswith(old)]
        lemmas = self.lemmas
        return list(dict.fromkeys(c for c in candidates if c in lemmas))

    def lemmatize(self, word: str) -> str:
        """``WordNetLemmatizer().lemmatize(word)``: the shortest lemma (the first of
        equal length), else the word itself."""
        lemmas = self.morphy(word)
        return min(lemmas, key=len) if lemmas else word


def shipped_wordnet() -> Traversable:
    """The folder of WordNet 3.0 noun data inside the package (see its LICENSE)."""
    return resources.files(__package__).joinpath("wordnet")


def find_wordnet() -> Path | Traversable:
    """Where the seed lemmatizer's WordNet is: the dict directory named by
    ``$MODELCOLLAPSE_WORDNET`` (an error if set but unusable, so a typo is not
    silently replaced by another WordNet), else the data shipped in the package.
    """
    env = os.environ.get(WORDNET_ENV, "").strip()
    if not env:
        return shipped_wordnet()
    directory = Path(env).expanduser()
    for name in _WORDNET_FILES:
        if not (directory / name).is_file():
            raise UserError(
                f"{WORDNET_ENV}={env} is not a WordNet dict directory "
                f"(no {name}); point it at the folder holding index.noun and noun.exc"
            )
    return directory


def _read_lines(root: Path | Traversable, name: str) -> list[str]:
    """Lines of ``name`` in ``root``, or of its gzip-compressed ``name.gz`` (shipped)."""
    plain, packed = root.joinpath(name), root.joinpath(f"{name}.gz")
    if plain.is_file():
        return plain.read_text(encoding="utf-8").splitlines()
    return gzip.decompress(packed.read_bytes()).decode("utf-8").splitlines()


def load_wordnet(root: Path | Traversable | None = None) -> WordNetNouns:
    """The noun data in ``root`` (default: ``find_wordnet()``): a WordNet dict
    directory (index.noun, noun.exc) or the shipped folder (index.noun.gz, noun.exc.gz).
    """
    if root is None:
        root = find_wordnet()
    try:
        index_lines = _read_lines(root, "index.noun")
        exception_lines = _read_lines(root, "noun.exc")
    except (OSError, ValueError) as exc:
        # ValueError: undecodable or corrupt gzip; OSError includes a missing file.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if root == shipped_wordnet():
            hint = f"reinstall modelcollapse, or set {WORDNET_ENV} to a WordNet 3.0 dict directory"
        else:
            hint = "expected a WordNet 3.0 dict directory holding index.noun and noun.exc"
        message = f"cannot read the seed tokenizer's WordNet at {root}: {first} ({hint})"
        raise UserError(message) from exc
    header = " ".join(line for line in index_lines[:40] if line.startswith(" "))
    version = re.search(r"WordNet (\d+(?:\.\d+)?) Copyright", header)
    if version is None or version.group(1) != "3.0":
        warnings.warn(
            f"{root}/index.noun is not marked WordNet 3.0: the seed tokenizer reproduces "
            "the original study only with WordNet 3.0",
            stacklevel=2,
        )
    return WordNetNouns.from_lines(index_lines, exception_lines, str(root))


_nouns: WordNetNouns | None = None
_nouns_lock = threading.Lock()


def wordnet_nouns() -> WordNetNouns:
    """The process-wide noun data, loaded on first use (about 0.1 s)."""
    global _nouns
    if _nouns is None:
        with _nouns_lock:
            if _nouns is None:
                _nouns = load_wordnet()
    return _nouns


class _LemmaMemo(dict[str, str]):
    """word -> lemma; a miss computes NLTK's lemma once, hits are plain dict lookups."""

    def __missing__(self, word: str) -> str:
        lemma = wordnet_nouns().lemmatize(word)
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
    """The tokenizer called ``name``, ready to use (seed loads WordNet now, so an
    unusable ``$MODELCOLLAPSE_WORDNET`` is reported before any work starts). Picklable.
    """
    try:
        tokenizer = _TOKENIZERS[name]
    except (KeyError, TypeError):
        raise UserError(
            f"unknown tokenizer '{name}' (expected one of: {', '.join(TOKENIZERS)})",
            where="--tokenizer",
        ) from None
    if tokenizer is seed_tokenize:
        wordnet_nouns()
    return tokenizer


def tokenize(texts: Iterable[str], tokenizer: str = "seed") -> list[list[str]]:
    """Tokens of each text, by the tokenizer named ``tokenizer`` (see ``TOKENIZERS``)."""
    fn = get_tokenizer(tokenizer)
    return [fn(text) for text in texts]
