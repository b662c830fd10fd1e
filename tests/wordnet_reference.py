"""NLTK's own lemmatizer as the reference for the seed tokenizer's shipped WordNet.

Two references, both NLTK's ``WordNetLemmatizer`` and ``_morphy`` code unchanged:

* over Debian's full WordNet 3.0 database (``wordnet-base``, /usr/share/wordnet),
  when the machine has it: the reader the seed tokenizer used before the data
  shipped, and what the original study ran;
* over a reader that holds only the shipped noun data (for machines without
  Debian's package, such as CI): it checks our re-statement of morphy against
  NLTK's code, while ``wordnet_reference.json`` ties the shipped data to Debian's.

``python tests/wordnet_reference.py [SAMPLE]`` (needs wordnet-base and the real
sample) rewrites ``wordnet_reference.json``: the sha256 of the shipped files' text
and NLTK-over-Debian's lemma of every distinct seed word of the real sample.
"""

from __future__ import annotations

import bz2
import hashlib
import json
import os
import sys
import warnings
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from modelcollapse.features import tokenize as tok

DEBIAN_WORDNET = Path("/usr/share/wordnet")
RECORD = Path(__file__).with_name("wordnet_reference.json")

# What NLTK's reader opens at start-up: a directory without them is not a full database.
_FULL_DATABASE = tuple(
    f"{kind}.{pos}" for pos in ("noun", "verb", "adj", "adv") for kind in ("index", "data")
) + tuple(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv"))


def debian_wordnet() -> Path | None:
    """Debian's WordNet dict directory, if this machine has the whole database."""
    if all((DEBIAN_WORDNET / name).is_file() for name in _FULL_DATABASE):
        return DEBIAN_WORDNET
    return None


@cache
def nltk_reader(directory: Path) -> Any:
    """NLTK's ``WordNetCorpusReader`` on a bare WordNet dict directory such as Debian's.

    Start-up only is adapted: Debian has no ``lexnames`` (read at start-up to name
    synsets' lexicographer files, which morphy never does), so an empty one is
    served; ``map_wn`` (recent NLTK loads the global nltk_data WordNet for its
    multilingual sense map) answers None, NLTK's own "no mapping" for WordNet 3.0.
    """
    import io

    import nltk.data
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class _BareDictReader(WordNetCorpusReader):
        def open(self, file: str) -> Any:
            if file == "lexnames" and not (directory / "lexnames").is_file():
                return io.StringIO("")
            return super().open(file)

        def map_wn(self, version: str = "wordnet") -> None:
            return None

    # Recent NLTK (nltk.pathsec, seen in 3.10) reads corpora only under nltk.data.path.
    if str(directory) not in nltk.data.path:
        nltk.data.path.append(str(directory))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*multilingual", category=UserWarning)
        reader = _BareDictReader(str(directory), None)
    assert reader.get_version() == "3.0"
    return reader


def nltk_reader_over(nouns: tok.WordNetNouns) -> Any:
    """An NLTK ``WordNetCorpusReader`` that holds only ``nouns``: NLTK's ``_morphy``
    (noun POS) runs on it unchanged, since it reads nothing else."""
    from nltk.corpus.reader.wordnet import NOUN, WordNetCorpusReader

    reader = WordNetCorpusReader.__new__(WordNetCorpusReader)
    reader._exception_map = {
        NOUN: {form: list(lemmas) for form, lemmas in nouns.exceptions.items()}
    }
    reader._lemma_pos_offset_map = defaultdict(dict)
    for lemma in nouns.lemmas:
        reader._lemma_pos_offset_map[lemma][NOUN] = []
    return reader


def reference_reader() -> Any:
    """NLTK over Debian's database where the machine has it, else over the shipped data."""
    directory = debian_wordnet()
    if directory is not None:
        return nltk_reader(directory)
    return nltk_reader_over(tok.wordnet_nouns())


@contextmanager
def nltk_lemmatizer(reader: Any) -> Iterator[Any]:
    """NLTK's real ``WordNetLemmatizer``, made to read ``reader``."""
    import nltk.corpus
    import nltk.stem.wordnet
    import pytest
    from nltk.stem import WordNetLemmatizer

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nltk.corpus, "wordnet", reader)
        # NLTK < 3.9 bound the corpus at import time as nltk.stem.wordnet.wn.
        patch.setattr(nltk.stem.wordnet, "wn", reader, raising=False)
        yield WordNetLemmatizer()


def seed_words(sample: Path) -> list[str]:
    """The distinct words of the sample that the seed tokenizer lemmatizes, sorted:
    the original study's cleaning, split, stopwords dropped."""
    stop = tok.stopwords()
    words: set[str] = set()
    with bz2.open(sample, "rt", encoding="utf-8") as fh:
        for line in fh:
            text = line.rstrip("\n").split(" ", 1)[1] if " " in line else ""
            cleaned = "".join(c for c in text.lower() if c.isalnum() or c.isspace())
            words.update(w for w in cleaned.split() if w not in stop)
    return sorted(words)


def lemma_digest(lemmas: dict[str, str]) -> str:
    text = "".join(f"{word}\t{lemma}\n" for word, lemma in sorted(lemmas.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def shipped_digests() -> dict[str, str]:
    """sha256 of the text of each shipped file (index.noun, noun.exc)."""
    import gzip

    root = tok.shipped_wordnet()
    return {
        name: hashlib.sha256(gzip.decompress(root.joinpath(f"{name}.gz").read_bytes())).hexdigest()
        for name in ("index.noun", "noun.exc")
    }


def record(sample: Path) -> dict[str, Any]:
    """The reference, computed with NLTK over Debian's WordNet."""
    import nltk

    directory = debian_wordnet()
    if directory is None:
        raise SystemExit(
            f"needs Debian's WordNet in {DEBIAN_WORDNET} (apt-get install wordnet-base)"
        )
    words = seed_words(sample)
    with nltk_lemmatizer(nltk_reader(directory)) as lemmatizer:
        lemmas = {w: lemmatizer.lemmatize(w) for w in words}
    return {
        "wordnet": f"Debian wordnet-base {_debian_version()} ({directory})",
        "nltk": nltk.__version__,
        "sample": sample.name,
        "sample_sha256": hashlib.sha256(sample.read_bytes()).hexdigest(),
        "distinct_words": len(lemmas),
        "changed_words": sum(w != lemma for w, lemma in lemmas.items()),
        "lemmas_sha256": lemma_digest(lemmas),
        "shipped_sha256": shipped_digests(),
    }


def _debian_version() -> str:
    status = Path("/var/lib/dpkg/status")
    if status.is_file():
        blocks = status.read_text(encoding="utf-8", errors="replace").split("\n\n")
        for block in blocks:
            if block.startswith("Package: wordnet-base\n"):
                for line in block.splitlines():
                    if line.startswith("Version: "):
                        return line.removeprefix("Version: ")
    return "(version unknown)"


def load_record() -> dict[str, Any]:
    return json.loads(RECORD.read_text(encoding="utf-8"))


if __name__ == "__main__":
    default = os.environ.get("MODELCOLLAPSE_REAL_DATA", "")
    path = Path(sys.argv[1] if len(sys.argv) > 1 else default)
    RECORD.write_text(json.dumps(record(path), indent=2) + "\n", encoding="utf-8")
    print(RECORD.read_text(encoding="utf-8"))
