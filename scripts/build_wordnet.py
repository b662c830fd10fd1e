"""Build the WordNet 3.0 noun data that ships with modelcollapse's seed tokenizer.

Usage: python scripts/build_wordnet.py [DICT_DIR]      (default: /usr/share/wordnet)

The seed tokenizer lemmatizes as NLTK's ``WordNetLemmatizer().lemmatize(word)``
(noun POS) does. That calls the reader's ``_morphy(word, "n")``, which consults
exactly two things of the database: the noun exception list (``noun.exc``: an
irregular form and its lemmas) and whether a candidate is a noun lemma, i.e. a
word in the first column of ``index.noun`` (NLTK's ``_lemma_pos_offset_map``
entries with POS "n"); the detachment rules ("-s", "-ses" -> "-s", "-ies" -> "-y",
...) are code, not data. Synset offsets, glosses, pointers and the other parts of
speech are never read. So this script writes only those two, gzip-compressed, to
src/modelcollapse/features/wordnet/:

* ``index.noun.gz``: index.noun's licence header (its lines start with a space, as
  in WordNet, so readers skip them), then the lemma column, one lemma a line;
* ``noun.exc.gz``: noun.exc, unchanged (its order matters: for a form listed twice,
  NLTK keeps the last line).

The shipped files were built from Debian's ``wordnet-base`` 1:3.0-37, the Princeton
WordNet 3.0 database, in /usr/share/wordnet (index.noun sha256 a490d99d93d0...5a04,
noun.exc sha256 2b5d675c380b...ab7a; the script prints both in full). WordNet 3.0's
licence allows redistribution with its notice, which is in
src/modelcollapse/features/wordnet/LICENSE and heads index.noun.gz.

``--check`` rebuilds in memory and exits 1 if the shipped files' contents differ.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
from pathlib import Path

DEFAULT_SOURCE = Path("/usr/share/wordnet")
TARGET = Path(__file__).resolve().parents[1] / "src" / "modelcollapse" / "features" / "wordnet"
FILES = ("index.noun", "noun.exc")


def noun_files(directory: Path) -> dict[str, str]:
    """The shipped files' text, derived from the WordNet dict directory ``directory``."""
    index_lines = (directory / "index.noun").read_text(encoding="utf-8").splitlines()
    header = [line for line in index_lines if line.startswith(" ")]
    lemmas = []
    for number, line in enumerate(index_lines, 1):
        if line.startswith(" ") or not line.strip():
            continue
        lemma, pos = line.split()[:2]
        if pos != "n":
            raise ValueError(f"index.noun line {number}: part of speech {pos!r}, expected 'n'")
        lemmas.append(lemma)
    if not header or "WordNet 3.0 Copyright" not in "".join(header):
        raise ValueError(f"{directory}/index.noun has no WordNet 3.0 licence header")
    exceptions = (directory / "noun.exc").read_text(encoding="utf-8")
    return {
        "index.noun": "".join(f"{line}\n" for line in [*header, *lemmas]),
        "noun.exc": exceptions,
    }


def shipped_files(target: Path = TARGET) -> dict[str, str]:
    """The text of the files that ship now."""
    return {
        name: gzip.decompress((target / f"{name}.gz").read_bytes()).decode("utf-8")
        for name in FILES
    }


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write(files: dict[str, str], target: Path = TARGET) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        # mtime=0 and no file name in the header: the same text gives the same bytes.
        with (
            (target / f"{name}.gz").open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as fh,
        ):
            fh.write(text.encode("utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args()
    files = noun_files(args.source)
    for name in FILES:
        digest = hashlib.sha256((args.source / name).read_bytes()).hexdigest()
        print(f"{args.source / name}: sha256 {digest}")
    if args.check:
        shipped = shipped_files()
        differ = [name for name in FILES if shipped[name] != files[name]]
        for name in differ:
            print(f"{TARGET / name}.gz differs from {args.source / name}", file=sys.stderr)
        return 1 if differ else 0
    write(files)
    for name, text in files.items():
        size = (TARGET / f"{name}.gz").stat().st_size
        lines = len(text.splitlines())
        print(f"{TARGET / name}.gz: {size:,} bytes, {lines:,} lines, text sha256 {sha256(text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
