"""Read labelled texts (Amazon reviews, spam/ham, topics, star ratings) from the files people
actually have them in.

Two entry points: :func:`read_corpus` returns a whole :class:`Corpus`; :class:`ReviewStream`
hands the same rows over in chunks, for imports too big to hold twice. Readers stream their
input (the Kaggle training file has 3.6M lines) from a :class:`Source`: a file or an archive
member. Label values become class codes 0..k-1 (:class:`_LabelParser` says in which order;
the polarity spellings keep 0 = negative, 1 = positive). Bad input raises :class:`UserError` naming
the file, the line and what was expected, so a broken line in a huge file is found without a
debugger; ``on_error="skip"`` drops such lines instead and counts them in
``meta["skipped"]``.

Each format is one reader registered in :data:`DATA_FORMATS` with how it is recognised
(:class:`DataFormat`: suffixes, a sniff of the first bytes); :func:`read_corpus`, imports, the
``--format`` help and the formats table of docs/data.md all read that registry, so a new format
is one reader function and one registration (docs/extending.md, "A data format").
"""

from __future__ import annotations

import bz2
import contextlib
import csv
import gzip
import io
import json
import re
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError, one_line
from modelcollapse.registry import Registry

__all__ = [
    "DATA_FORMATS",
    "EMPTY_TEXT",
    "INVALID_UTF8",
    "MALFORMED",
    "UNKNOWN_LABEL",
    "Columns",
    "DataFormat",
    "ReviewStream",
    "Rows",
    "Source",
    "parse_labels",
    "read_corpus",
    "recode",
    "text_lines",
]

# Reasons a line is bad: the keys of ``corpus.meta["skipped"]``.
MALFORMED = "malformed"
UNKNOWN_LABEL = "unknown_label"
EMPTY_TEXT = "empty_text"
INVALID_UTF8 = "invalid_utf8"

_FIRST_BAD = 5  # how many bad line numbers meta["first_bad_lines"] keeps
_BOM = b"\xef\xbb\xbf"

_COMPRESSION_SUFFIXES = {".bz2": "bz2", ".gz": "gzip", ".gzip": "gzip"}

# What corrupt or truncated input raises mid-stream, besides OSError: zlib (a damaged .gz),
# zipfile (bad CRC of an archive member) and tarfile (a member cut short).
_READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile, tarfile.TarError)

_FT_HEAD = len("__label__1 ")  # fastText lines whose head is a label seen before: fast path
_SNIFF_BYTES = 65_536  # of decompressed input, handed to the formats' sniffs


Reader = Callable[["Source", "str | None", "Rows", "Columns"], Iterator[None]]


@dataclass(frozen=True)
class DataFormat:
    """One way labelled reviews are written in a file, and how a file is recognised as it.

    ``read(source, compression, rows, columns)`` is a generator: it opens the source
    (:func:`text_lines` does the decoding and line bookkeeping for line-based formats), hands
    each review to ``rows.add`` (or a bad line to ``rows.bad``) and yields whenever
    ``rows.full``. ``columns`` names the text, label and title columns for formats that have
    named columns (``named_columns``: ``--text-column``/``--label-column`` apply, and
    ``meta["columns"]`` records them).

    Recognition, when no format is given: a file whose name (less ``.bz2``/``.gz``) ends
    with one of ``suffixes`` is of this format. When several formats claim the same suffix,
    one whose ``sniff`` accepts the file's first bytes (decompressed, at most 64 KiB, BOM
    dropped) wins, else one without a sniff (so the original Amazon CSV, sniffed, beats
    CSV with a header). ``sniff_any_name``: the sniff alone recognises the format, whatever
    the name (fastText lines are unmistakable). ``aliases`` are other names for ``fmt``.
    """

    read: Reader
    suffixes: tuple[str, ...] = ()
    description: str = ""
    sniff: Callable[[bytes], bool] | None = None
    sniff_any_name: bool = False
    aliases: tuple[str, ...] = ()
    named_columns: bool = False


DATA_FORMATS: Registry[DataFormat] = Registry("data_formats", "data format", "--format")


def read_corpus(
    path: str | Path,
    *,
    fmt: str | None = None,
    text_column: str | None = None,
    label_column: str | None = None,
    title_column: str | None = "title",
    labels: str | Sequence[str] | None = None,
    on_error: Literal["raise", "skip"] = "raise",
) -> Corpus:
    """Read a labelled text file; the format comes from the suffix unless ``fmt`` is given.

    Formats are those of :data:`DATA_FORMATS` (``fasttext``, ``amazon-csv``, and
    ``csv``/``tsv``/``parquet``/``jsonl`` with named columns, unless more are registered).
    Text formats may be ``.bz2``/``.gz`` compressed. Columns not named are guessed
    (:class:`Columns`). The classes are the distinct label values, coded 0..k-1 in the order
    of ``labels`` (``--labels``: any other value is an error), else numeric for numbers, else
    alphabetical (so the polarity spellings keep 0 = negative, 1 = positive);
    ``label_names`` keeps how the file spelled them.

    ``meta`` records ``format``, ``path``, ``compression``, ``skipped`` (reason -> count),
    ``first_bad_lines``, ``blank_lines``, ``duplicates`` (rows repeating an earlier text;
    they are kept), ``conflicting_duplicates`` (texts seen with more than one label),
    ``class_order`` and, for column formats, ``columns``.
    """
    _check_on_error(on_error)
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise UserError("no such file", where=name)
    if path.is_dir():
        raise UserError("is a directory, expected a file of reviews", where=name)
    rows = Rows(name, on_error, parser=_LabelParser(labels))
    columns = Columns.of(text_column, label_column, title_column)
    reader = _read_source(Source.file(path), rows, fmt, columns)
    for _ in reader:  # chunk_size is unlimited: runs to the end without pausing
        pass
    return rows.finish(rows.meta)


@dataclass(frozen=True)
class Source:
    """Bytes to read reviews from: a file, or a member of an archive read as a stream.

    ``name`` is shown in messages and decides the format and compression by its suffix,
    e.g. ``archive.zip:train.ft.txt.bz2``; ``open`` returns the raw (possibly compressed)
    bytes; ``size`` is their length, for progress; ``path`` is set for plain files.
    """

    name: str
    open: Callable[[], IO[bytes]]
    size: int | None = None
    path: Path | None = None

    @classmethod
    def file(cls, path: str | Path) -> Source:
        path = Path(path)
        try:
            size: int | None = path.stat().st_size
        except OSError:
            size = None  # reported when the file is opened
        return cls(str(path), lambda: open(path, "rb"), size, path)


class ReviewStream:
    """The rows of one or more sources as ``(texts, labels)`` chunks of ``chunk_size``.

    Memory stays at one chunk plus 9 bytes a row (for duplicate counting), so importing the
    3.6M-line Kaggle file never holds it twice. Sources are read in order as one corpus:
    they share the classes and the end checks (some reviews, two classes at least), which
    run after the last chunk. Then ``label_names``, ``label_codes`` and ``meta`` (as
    :func:`read_corpus`'s, with ``rows``, ``label_counts`` and ``first_bad``:
    ``"source:line"`` strings) are set.

    The final class order is known only at the end, so chunk labels are *reading codes*:
    ``label_codes[code]`` is the class (:func:`recode`). They are final already for the
    usual binary spellings and for ``labels`` (``--labels``). A ``label_parser`` shared by
    several streams (an import's splits) gives them one set of codes; the caller then
    finishes it and ``label_names``/``label_codes`` stay None.
    Duplicates are counted by 64-bit hashes here: exact unless two texts collide.
    """

    def __init__(
        self,
        sources: Source | Sequence[Source],
        *,
        name: str | None = None,
        fmt: str | None = None,
        chunk_size: int = 65_536,
        on_error: Literal["raise", "skip"] = "raise",
        text_column: str | None = None,
        label_column: str | None = None,
        title_column: str | None = "title",
        labels: str | Sequence[str] | None = None,
        label_parser: _LabelParser | None = None,
    ) -> None:
        _check_on_error(on_error)
        self.sources = [sources] if isinstance(sources, Source) else list(sources)
        if not self.sources:
            raise ValueError("no sources")
        self.name = name or self.sources[0].name
        self.fmt = fmt
        self.chunk_size = max(1, int(chunk_size))
        self.on_error = on_error
        self.columns = Columns.of(text_column, label_column, title_column)
        self._own_parser = label_parser is None
        self.parser = _LabelParser(labels) if label_parser is None else label_parser
        self.label_names: tuple[str, ...] | None = None
        self.label_codes: np.ndarray | None = None
        self.meta: dict[str, object] = {}
        self._done = 0  # bytes of the sources already finished
        self._reading: Rows | None = None
        self._started = False

    @property
    def size(self) -> int | None:
        """Bytes of input in all sources (None when a size is unknown)."""
        sizes = [s.size for s in self.sources]
        return None if None in sizes else sum(s or 0 for s in sizes)

    @property
    def position(self) -> int:
        """Bytes of input consumed so far, for a progress bar."""
        return self._done + (self._reading.tell() if self._reading else 0)

    def __iter__(self) -> Iterator[tuple[list[str], np.ndarray]]:
        if self._started:
            raise RuntimeError("a ReviewStream can be read once")
        self._started = True
        rows = self._reading = Rows(self.name, self.on_error, self.chunk_size, self.parser)
        hashes: list[np.ndarray] = []
        labels: list[np.ndarray] = []

        def taken() -> tuple[list[str], np.ndarray] | None:
            chunk = rows.take()
            if chunk is not None:
                hashes.append(_hashes(chunk[0]))
                labels.append(chunk[1])
            return chunk

        for source in self.sources:
            rows.begin(source.name)
            for _ in _read_source(source, rows, self.fmt, self.columns):
                if (chunk := taken()) is not None:
                    yield chunk
            self._done += source.size or 0
        rows.begin(self.name)
        last = taken()
        all_labels = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int8)
        counts = rows.check_classes(all_labels)
        if self._own_parser:
            self.label_names, self.label_codes, order = self.parser.finish(counts, self.name)
            rows.meta["class_order"] = order
        duplicates, conflicting = _count_duplicate_hashes(np.concatenate(hashes), all_labels)
        self.meta = {
            **rows.meta,
            "rows": len(all_labels),
            "label_counts": counts.tolist(),
            **rows.summary(),
            "duplicates": duplicates,
            "conflicting_duplicates": conflicting,
        }
        self._reading = None
        if last is not None:  # after the checks: a one-class corpus yields no last chunk
            yield last


def _check_on_error(on_error: str) -> None:
    if on_error not in ("raise", "skip"):
        raise UserError(f"on_error must be 'raise' or 'skip', not {on_error!r}")


# Column names tried, in order, for a text or label column the user did not name.
TEXT_GUESSES = ("text", "content", "review", "review_text", "sentence", "body", "message",
                "comment", "document", "tweet", "description")  # fmt: skip
LABEL_GUESSES = ("label", "labels", "class", "category", "topic", "sentiment", "polarity",
                 "target", "stars", "rating", "y")  # fmt: skip


@dataclass(frozen=True)
class Columns:
    """The columns (or keys) a format with named columns reads: ``--text-column`` and co.

    A column the user did not name (``guess_text``/``guess_label``) is the first of
    :data:`TEXT_GUESSES`/:data:`LABEL_GUESSES` the file has (any case); :meth:`find`
    resolves them against the columns a file has.
    """

    text: str = "text"
    label: str = "label"
    title: str | None = "title"
    guess_text: bool = False
    guess_label: bool = False

    @classmethod
    def of(cls, text: str | None, label: str | None, title: str | None = "title") -> Columns:
        return cls(text or "text", label or "label", title, text is None, label is None)

    def find(self, found: Sequence[str], where: str) -> Columns:
        """These columns as named in ``found``; a one-line error naming the columns seen
        when the text or label column is not there (or cannot be guessed)."""
        text = self._pick(found, self.text, self.guess_text, TEXT_GUESSES)
        label = self._pick(found, self.label, self.guess_label, LABEL_GUESSES, avoid=text)
        shown = ", ".join(repr(c) for c in found[:20]) + (", ..." if len(found) > 20 else "")
        shown = f"found: {shown or 'none'}"
        given = [c for c, ok, guess in ((self.text, text, self.guess_text),
                                        (self.label, label, self.guess_label))
                 if ok is None and not guess]  # fmt: skip
        if given:
            noun = "column" if len(given) == 1 else "columns"
            raise UserError(f"missing {noun} {', '.join(map(repr, given))} ({shown})", where)
        unknown = [w for w, ok in (("text", text), ("label", label)) if ok is None]
        if unknown:
            options = " and ".join(f"--{w}-column" for w in unknown)
            raise UserError(
                f"cannot tell the {' and '.join(unknown)} column{'s' if len(unknown) > 1 else ''}"
                f" ({shown}); name {'them' if len(unknown) > 1 else 'it'} with {options}",
                where,
            )
        assert text is not None and label is not None
        if text == label:
            raise UserError(f"the text and label columns are both {text!r}", where)
        return Columns(text, label, self.title if self.title in found else None)

    @staticmethod
    def _pick(
        found: Sequence[str],
        name: str,
        guess: bool,
        guesses: Sequence[str],
        avoid: str | None = None,
    ) -> str | None:
        if name in found:
            return name
        if not guess:
            return None
        lower = {c.lower(): c for c in reversed(found) if c != avoid}
        return next((lower[g] for g in guesses if g in lower), None)

    def record(self) -> dict[str, str | None]:
        return {"text": self.text, "label": self.label, "title": self.title}


def _read_source(
    source: Source, rows: Rows, fmt: str | None, columns: Columns
) -> Generator[None, None, None]:
    """Read one source into ``rows``, pausing (yielding) whenever a chunk is full."""
    name = source.name
    try:
        compression = _sniff_compression(source)
        fmt = _resolve_format(source, fmt, compression)
    except PermissionError:
        raise UserError("permission denied", where=name) from None
    except _READ_ERRORS as exc:
        raise UserError(f"cannot read ({one_line(exc)})", where=name) from None

    rows.unit = ""
    rows.meta.update(format=fmt, path=name, compression=compression)
    spec = DATA_FORMATS.get(fmt)
    try:
        yield from spec.read(source, compression, rows, columns)
        if spec.named_columns:  # the built-in readers record the columns they found
            rows.meta.setdefault("columns", columns.record())
    except PermissionError:
        raise UserError("permission denied", where=name) from None
    except _READ_ERRORS as exc:
        # Corrupt or truncated compressed data surfaces mid-stream, after the last good line.
        after = f" after {rows.unit or 'line '}{rows.last}" if rows.last else ""
        raise UserError(f"cannot read{after} ({one_line(exc)})", where=name) from None


# --------------------------------------------------------------------------- bookkeeping


class _Bad(Exception):
    """A bad row: raised inside a reader, turned into a UserError or a skip by ``Rows``."""

    def __init__(self, reason: str, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.fatal = fatal  # an error even under on_error="skip" (a label --labels refuses)


class Rows:
    """Collects good rows and decides what a bad one does (raise or count).

    Readers hand a review to :meth:`add` (or append to ``texts``/``labels`` themselves, on a
    hot path) and yield once :attr:`full`; :meth:`take` hands the rows over. Readers bind the
    lists locally, so they are emptied in place, never replaced.
    """

    def __init__(
        self,
        name: str,
        on_error: str,
        chunk_size: int | None = None,
        parser: _LabelParser | None = None,
    ) -> None:
        self.name = name
        self.skip = on_error == "skip"
        self.chunk_size = chunk_size or sys.maxsize
        self.unit = ""  # "" for line numbers, "row " for parquet
        self.texts: list[str] = []
        self.labels: list[int] = []
        # Shared by all sources of a stream (and by an import's splits, when given).
        self.parser = parser if parser is not None else _LabelParser()
        self.meta: dict[str, object] = {}
        self.skipped: dict[str, int] = {}
        self.first_bad: list[int] = []
        self.first_bad_at: list[str] = []  # "source:line", for streams of several sources
        self.blank = 0
        self.last = 0  # last line (or row) number reached, for mid-stream read errors
        self.tell: Callable[[], int] = lambda: 0  # bytes of the current source read

    def begin(self, name: str) -> None:
        self.name, self.last, self.tell = name, 0, lambda: 0

    def add(self, number: int, text: Any, label: Any, title: Any = None) -> None:
        """Keep review ``number`` (a line or row number), or report it as bad.

        Any label values are classes (:class:`_LabelParser`); a title becomes ``title: text``.
        """
        _add(self, self.parser, number, text, label, title)

    @property
    def full(self) -> bool:
        """Whether a chunk is waiting: the reader should yield."""
        return len(self.texts) >= self.chunk_size

    def bad(self, number: int, reason: str, message: str, fatal: bool = False) -> None:
        where = f"{self.name}:{self.unit}{number}"
        if fatal or not self.skip:
            raise UserError(message, where=where)
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.first_bad) < _FIRST_BAD:
            self.first_bad.append(number)
            self.first_bad_at.append(where)

    def take(self) -> tuple[list[str], np.ndarray] | None:
        """The rows read so far (labels as reading codes), or None while none are ready."""
        if not self.texts:
            return None
        texts = self.texts.copy()
        labels = np.array(self.labels, dtype=np.int8)
        self.texts.clear()
        self.labels.clear()
        return texts, labels

    def check_classes(self, labels: np.ndarray) -> np.ndarray:
        """Rows per reading code; refuses no rows, or rows of a single class."""
        n = len(labels)
        if n == 0:
            raise UserError("no reviews found" + self._skipped_note(), where=self.name)
        counts = np.bincount(labels, minlength=len(self.parser))
        if np.count_nonzero(counts) < 2:
            what = "the only review has" if n == 1 else f"all {n:,} reviews have"
            name = self.parser.spellings[int(labels[0])]
            raise UserError(f"{what} label {_show(name)}; need at least 2 classes", where=self.name)
        return counts

    def summary(self) -> dict[str, object]:
        return {
            "skipped": dict(self.skipped),
            "first_bad_lines": list(self.first_bad),
            "first_bad": list(self.first_bad_at),
            "blank_lines": self.blank,
        }

    def finish(self, meta: dict[str, object]) -> Corpus:
        labels = np.array(self.labels, dtype=np.int8)
        counts = self.check_classes(labels)
        names, codes, order = self.parser.finish(counts, self.name)
        labels = recode(labels, codes)
        duplicates, conflicting = _count_duplicates(self.texts, labels)
        summary = self.summary()
        del summary["first_bad"]  # one file: the line numbers say it all
        meta.update(summary, duplicates=duplicates, conflicting_duplicates=conflicting)
        meta["class_order"] = order
        return Corpus(
            texts=self.texts, labels=labels, source=self.name, label_names=names, meta=meta
        )

    def _skipped_note(self) -> str:
        if not self.skipped:
            return ""
        total = sum(self.skipped.values())
        reasons = ", ".join(f"{k} {v}" for k, v in self.skipped.items())
        lines = ", ".join(map(str, self.first_bad))
        return f" (skipped all {total} bad: {reasons}; first bad {self.unit or 'line'}s {lines})"


def _count_duplicates(texts: list[str], labels: np.ndarray) -> tuple[int, int]:
    """Rows whose text repeats an earlier row, and distinct texts seen with both labels.

    Hashing into an int64 array first keeps memory flat for millions of rows; only texts
    whose hashes collide are compared exactly, so the count is exact.
    """
    if len(texts) < 2:
        return 0, 0
    hashes = _hashes(texts)
    order = np.argsort(hashes, kind="stable")
    same = hashes[order][1:] == hashes[order][:-1]
    if not same.any():
        return 0, 0
    in_group = np.zeros(len(texts), dtype=bool)
    in_group[1:] |= same
    in_group[:-1] |= same
    seen: dict[str, int] = {}  # text -> bit set of the classes it carries
    duplicates = 0
    for i in np.sort(order[in_group]):
        text = texts[i]
        bit = 1 << int(labels[i])
        if text in seen:
            duplicates += 1
            seen[text] |= bit
        else:
            seen[text] = bit
    return duplicates, sum(1 for bits in seen.values() if bits & (bits - 1))


def _hashes(texts: list[str]) -> np.ndarray:
    return np.fromiter(map(hash, texts), dtype=np.int64, count=len(texts))


def _count_duplicate_hashes(hashes: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """:func:`_count_duplicates` from 64-bit hashes alone, for rows no longer in memory."""
    if len(hashes) < 2:
        return 0, 0
    n_texts = len(np.unique(hashes))
    # A (hash, label) pair per distinct labelled text; texts with several labels have several.
    pairs = np.unique(np.column_stack([hashes, labels.astype(np.int64)]), axis=0)
    _, labels_per_text = np.unique(pairs[:, 0], return_counts=True)
    return len(hashes) - n_texts, int(np.count_nonzero(labels_per_text > 1))


# --------------------------------------------------------------------------- sniffing


def _sniff_compression(source: Source) -> str | None:
    """Compression from the suffix, else from magic bytes (a renamed .bz2 still reads)."""
    by_suffix = _COMPRESSION_SUFFIXES.get(Path(source.name).suffix.lower())
    if by_suffix:
        return by_suffix
    with source.open() as fh:
        head = fh.read(10)
    if head[:2] == b"\x1f\x8b":  # can never start valid UTF-8 text
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    return None


def _resolve_format(source: Source, fmt: str | None, compression: str | None) -> str:
    """The registered name of the format: ``fmt`` (or an alias of one), else recognised."""
    if fmt is not None:
        key = fmt.lower()
        for name, spec in DATA_FORMATS.items():
            if key in spec.aliases:
                return name
        if key not in DATA_FORMATS:
            DATA_FORMATS.get(fmt)  # raises, listing the formats
        return key
    lower = Path(source.name).name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    formats = DATA_FORMATS.items()
    longest = max((len(x) for _, f in formats for x in f.suffixes if lower.endswith(x)), default=0)
    if longest:  # ".ft.txt" wins over ".txt"
        claims = [(n, f) for n, f in formats if lower[-longest:] in f.suffixes]
        if len(claims) == 1:
            return claims[0][0]
        try:
            head = _head(source, compression)
        except _READ_ERRORS:
            head = b""  # the full read reports the problem with a line number
        for name, spec in claims:
            if spec.sniff is not None and spec.sniff(head):
                return name
        return next((n for n, f in claims if f.sniff is None), claims[0][0])
    sniffers = [(n, f) for n, f in formats if f.sniff is not None and f.sniff_any_name]
    if sniffers:
        head = _head(source, compression)
        for name, spec in sniffers:
            if spec.sniff(head):  # type: ignore[misc]
                return name
    known = ", ".join(x for _, f in formats for x in f.suffixes)
    raise UserError(
        f"cannot tell the format from the name (known suffixes: {known}, optionally + .bz2/.gz);"
        " give the file one of them, or import it naming its format: 'modelcollapse data "
        f"import FILE --format F' (F: {', '.join(DATA_FORMATS.names())})",
        where=source.name,
    )


def _head(source: Source, compression: str | None) -> bytes:
    """The first bytes of the decompressed input, without a byte-order mark."""
    with _open(source, compression) as fh:
        return fh.read(_SNIFF_BYTES).removeprefix(_BOM)


def _sniff_fasttext(head: bytes) -> bool:
    return head.startswith(b"__label__")


def _sniff_amazon_csv(head: bytes) -> bool:
    """The original CSV has no header: three fields, the first one a class number."""
    text = io.StringIO(head.decode("utf-8", "replace"), newline="")
    try:
        first = next(csv.reader(text), None)
    except csv.Error:
        return False
    return first is not None and len(first) == 3 and first[0].strip().isdecimal()


# --------------------------------------------------------------------------- text input


@contextlib.contextmanager
def _open(source: Source, compression: str | None, rows: Rows | None = None) -> Iterator[IO[bytes]]:
    """Decompressed bytes of ``source``; closes the raw stream too (bz2/gzip leave it open).

    With ``rows`` (a line reader's), iterating gives lines capped at :data:`MAX_LINE_BYTES`
    and split at CR-only endings too (see :class:`_LineStream`).
    """
    with source.open() as raw:
        if rows is not None:
            rows.tell = raw.tell
        if compression == "bz2":
            with bz2.open(raw, "rb") as fh:
                yield fh if rows is None else _LineStream(fh, rows.name)  # type: ignore[misc]
        elif compression == "gzip":
            with gzip.open(raw, "rb") as fh:
                yield fh if rows is None else _LineStream(fh, rows.name)  # type: ignore[misc]
        else:
            yield raw if rows is None else _LineStream(raw, rows.name)  # type: ignore[misc]


MAX_LINE_BYTES = 32 << 20  # 3x the longest line known to hold; /dev/zero is one endless line


class _LineStream:
    """The lines of a byte stream, endings kept, none longer than ``limit`` bytes.

    A longer line stops the read with a :class:`UserError` naming it (``/dev/zero`` or a
    binary file would otherwise fill the memory). A stream whose first 64 KB hold a CR but
    no LF has classic Mac line endings: it is split at CRs, not read as one line.
    """

    def __init__(self, fh: IO[bytes], name: str, limit: int = MAX_LINE_BYTES) -> None:
        self.fh, self.name, self.limit = fh, name, limit

    def _too_long(self, lineno: int) -> UserError:
        return UserError(
            f"line longer than {self.limit >> 20} MB; is this a file of reviews, one per line?",
            where=f"{self.name}:{lineno}",
        )

    def __iter__(self) -> Iterator[bytes]:
        fh, limit = self.fh, self.limit
        head = fh.read(_SNIFF_BYTES)
        if b"\n" not in head and b"\r" in head[:-1]:
            yield from self._split_cr(head)
            return
        *lines, rest = head.split(b"\n")
        lineno = 0
        for line in lines:
            lineno += 1
            yield line + b"\n"
        if rest:
            rest += fh.readline(limit + 1 - len(rest))
            lineno += 1
            if len(rest) > limit:
                raise self._too_long(lineno)
            yield rest
        for raw in iter(partial(fh.readline, limit + 1), b""):
            lineno += 1
            if len(raw) > limit:
                raise self._too_long(lineno)
            yield raw

    def _split_cr(self, buf: bytes) -> Iterator[bytes]:
        lineno = 0
        while True:
            *lines, buf = buf.split(b"\r")
            for line in lines:
                lineno += 1
                yield line + b"\r"
            if len(buf) > self.limit:
                raise self._too_long(lineno + 1)
            block = self.fh.read(1 << 20)
            if not block:
                if buf:
                    yield buf
                return
            buf += block


class _Lines:
    """Decoded lines (endings kept, BOM dropped) that remember which ones were not UTF-8.

    Undecodable lines still come out (with replacement characters) so csv/json parsing
    keeps its place; the caller checks ``bad`` for the record's line range.
    """

    def __init__(self, fh: IO[bytes]) -> None:
        self.fh = fh
        self.lineno = 0
        self.bad: dict[int, str] = {}

    def __iter__(self) -> Iterator[str]:
        for raw in self.fh:
            self.lineno += 1
            if self.lineno == 1 and raw.startswith(_BOM):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.bad[self.lineno] = _utf8_message(raw, exc)
                yield raw.decode("utf-8", "replace")

    def first_bad(self, start: int, end: int) -> str | None:
        """The UTF-8 complaint for the first undecodable line in ``start..end``, if any."""
        if self.bad:
            for n in range(start, end + 1):
                if n in self.bad:
                    return self.bad[n]
        return None


def text_lines(source: Source, compression: str | None, rows: Rows) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a text source, decoded, without the line ending.

    For line-based readers: blank lines are counted and lines that are not UTF-8 reported
    (through ``rows``) here, and ``rows`` follows the position for progress and for the
    line named by a read error.
    """
    with _open(source, compression, rows) as fh:
        lines = _Lines(fh)
        for line in lines:
            n = rows.last = lines.lineno
            if n in lines.bad:
                rows.bad(n, INVALID_UTF8, lines.bad[n])
            elif not line.strip():
                rows.blank += 1
            else:
                yield n, line.rstrip("\r\n")


def _utf8_message(raw: bytes, exc: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line)"


def _read_fasttext(
    source: Source, compression: str | None, rows: Rows, columns: Columns
) -> Generator[None, None, None]:
    """fastText lines: ``__label__X`` then the text; the class is the whole label token
    (Kaggle's ``__label__1`` = negative, ``__label__2`` = positive).

    The hot loop is plain slicing and a dict lookup: 3.6M lines must stay fast.
    """
    texts, labels = rows.texts, rows.labels
    parse = rows.parser.parse
    fast: dict[str, int] = {}  # line heads ("__label__2 ") seen before -> class code
    chunk = rows.chunk_size
    with _open(source, compression, rows) as fh:
        lineno = 0
        for raw in fh:
            lineno += 1
            rows.last = lineno
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if lineno == 1 and raw.startswith(_BOM):
                    raw = raw[3:]
                    try:
                        line = raw.decode("utf-8")
                    except UnicodeDecodeError as exc2:
                        rows.bad(lineno, INVALID_UTF8, _utf8_message(raw, exc2))
                        continue
                else:
                    rows.bad(lineno, INVALID_UTF8, _utf8_message(raw, exc))
                    continue
            head = line[:_FT_HEAD]
            label = fast.get(head)
            if label is not None:
                text = line[_FT_HEAD:].rstrip("\r\n")
            else:
                if lineno == 1:
                    line = line.removeprefix("\ufeff")
                if not line.strip():
                    rows.blank += 1
                    continue
                try:
                    token, text = _fasttext_slow(line)
                    label = parse(token, lineno)
                except _Bad as bad:
                    rows.bad(lineno, bad.reason, bad.message, bad.fatal)
                    continue
                if head == token + " ":
                    fast[head] = label
            if not text or text.isspace():
                rows.bad(lineno, EMPTY_TEXT, f"empty review after {_show(head.rstrip())}")
                continue
            texts.append(text)
            labels.append(label)
            if len(texts) >= chunk:
                yield


def _fasttext_slow(line: str) -> tuple[str, str]:
    """``(label token, text)`` of a line off the fast path: a label not seen before, leading
    whitespace, a tab separator, or something wrong."""
    s = line.rstrip("\r\n").lstrip()
    if not s.startswith("__label__"):
        raise _Bad(
            MALFORMED,
            f"malformed line {_show(s)} (expected a label such as '__label__1 ' then the review)",
        )
    cut = len(s)
    for sep in (" ", "\t"):
        i = s.find(sep)
        if 0 <= i < cut:
            cut = i
    token = s[:cut]
    if token == "__label__":
        raise _Bad(UNKNOWN_LABEL, "missing label after '__label__'")
    return token, s[cut + 1 :]


def _read_amazon_csv(
    source: Source, compression: str | None, rows: Rows, columns: Columns
) -> Generator[None, None, None]:
    """The original headerless ``class,title,text`` CSV (Zhang et al. 2015: Amazon and Yelp
    polarity 1 = negative, 2 = positive; 1..5 stars for the full sets; AG News topics 1..4).

    Title and text are joined as ``title: text`` unconditionally, as the Kaggle fastText
    conversion did, so both versions of the same review are the same string.
    """
    parse = rows.parser.parse
    with _open(source, compression, rows) as fh:
        lines = _Lines(fh)
        reader = csv.reader(lines)
        for start, row in _csv_records(reader, rows):
            if len(row) != 3:
                if not any(f.strip() for f in row):
                    rows.blank += 1
                    continue
                found = len(row)
                rows.bad(
                    start, MALFORMED, f"expected 3 fields (polarity,title,text), found {found}"
                )
                continue
            utf8 = lines.first_bad(start, reader.line_num)
            if utf8:
                rows.bad(start, INVALID_UTF8, utf8)
                continue
            polarity, title, body = row
            try:
                label = parse(polarity, start)
            except _Bad as bad:
                rows.bad(start, bad.reason, bad.message, bad.fatal)
                continue
            if not title.strip() and not body.strip():
                rows.bad(start, EMPTY_TEXT, "empty review (title and text are both empty)")
                continue
            rows.texts.append(f"{title}: {body}")
            rows.labels.append(label)
            if len(rows.texts) >= rows.chunk_size:
                yield


def _csv_records(reader: Any, rows: Rows) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, fields); csv syntax errors become malformed rows."""
    prev = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            start, prev = prev + 1, reader.line_num
            rows.last = prev
            rows.bad(start, MALFORMED, f"malformed CSV ({one_line(exc)})")
            continue
        start, prev = prev + 1, reader.line_num
        rows.last = prev
        if not row:
            rows.blank += 1
            continue
        yield start, row


def _read_csv(
    source: Source, compression: str | None, rows: Rows, columns: Columns
) -> Generator[None, None, None]:
    return _read_delimited(source, compression, rows, columns, ",")


def _read_tsv(
    source: Source, compression: str | None, rows: Rows, columns: Columns
) -> Generator[None, None, None]:
    return _read_delimited(source, compression, rows, columns, "\t")


def _read_delimited(
    source: Source, compression: str | None, rows: Rows, columns: Columns, delimiter: str
) -> Generator[None, None, None]:
    """CSV/TSV with a header row naming the columns."""
    with _open(source, compression, rows) as fh:
        lines = _Lines(fh)
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise UserError(f"malformed header ({one_line(exc)})", where=f"{rows.name}:1") from None
        if header is None:
            raise UserError("no reviews found", where=rows.name)
        bad = lines.first_bad(1, reader.line_num)  # a quoted header may span lines
        if bad:
            raise UserError(f"header is {bad}", where=f"{rows.name}:1")
        header = [h.strip() for h in header]
        columns = _found(rows, header, columns)
        text_i, label_i = header.index(columns.text), header.index(columns.label)
        title_i = header.index(columns.title) if columns.title in header else None
        parser = rows.parser
        for start, row in _csv_records(reader, rows):
            if len(row) != len(header):
                if not any(f.strip() for f in row):
                    rows.blank += 1
                    continue
                rows.bad(
                    start,
                    MALFORMED,
                    f"expected {len(header)} fields as in the header, found {len(row)}",
                )
                continue
            utf8 = lines.first_bad(start, reader.line_num)
            if utf8:
                rows.bad(start, INVALID_UTF8, utf8)
                continue
            title = row[title_i] if title_i is not None else None
            _add(rows, parser, start, row[text_i], row[label_i], title)
            if len(rows.texts) >= rows.chunk_size:
                yield


def _read_jsonl(
    source: Source, compression: str | None, rows: Rows, columns: Columns
) -> Generator[None, None, None]:
    """JSON lines: one object per line with the text and label keys."""
    parser = rows.parser
    text_column, label_column, title_column = columns.text, columns.label, columns.title
    checked = False
    first = True
    with _open(source, compression, rows) as fh:
        lines = _Lines(fh)
        for line in lines:
            n = rows.last = lines.lineno
            if not line.strip():
                rows.blank += 1
                continue
            if first and line.lstrip().startswith("["):
                # A JSON array (or an array per line) is not what this reader takes.
                raise UserError(
                    "expected JSON lines (one object per line), found a JSON array",
                    where=rows.name,
                )
            first = False
            if n in lines.bad:
                rows.bad(n, INVALID_UTF8, lines.bad[n])
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as exc:  # deep nesting overflows the parser
                rows.bad(n, MALFORMED, f"not valid JSON ({one_line(exc)})")
                continue
            if not isinstance(obj, dict):
                rows.bad(n, MALFORMED, f"expected a JSON object, found {type(obj).__name__}")
                continue
            if not checked:
                columns = _found(rows, list(obj), columns)
                text_column, label_column = columns.text, columns.label
                checked = True
            if text_column not in obj or label_column not in obj:
                missing = text_column if text_column not in obj else label_column
                rows.bad(n, MALFORMED, f"missing key {missing!r}")
                continue
            title = obj.get(title_column) if title_column else None
            text = obj[text_column]
            if "\\u" in line and not _encodable(text, title):
                # JSON escapes can spell lone surrogates (\udc80): no UTF-8 exists for them,
                # so Parquet (the token cache, an import) could not store the review.
                rows.bad(n, INVALID_UTF8, "not valid UTF-8 (a \\u escape gives a lone surrogate)")
                continue
            _add(rows, parser, n, text, obj[label_column], title)
            if len(rows.texts) >= rows.chunk_size:
                yield


def _read_parquet(
    source: Source, compression: str | None, rows: Rows, columns: Columns
) -> Generator[None, None, None]:
    """Parquet, read in batches so memory stays at one batch of Python objects."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if compression:
        raise UserError(
            f"Parquet is compressed internally; {compression} around it is not supported",
            where=source.name,
        )
    rows.unit = "row "

    with contextlib.ExitStack() as stack:
        where = source.path if source.path is not None else stack.enter_context(source.open())
        try:
            pf = stack.enter_context(pq.ParquetFile(where))
            names = list(pf.schema_arrow.names)
            n_rows = pf.metadata.num_rows
        except (pa.ArrowException, ValueError, *_READ_ERRORS) as exc:
            raise UserError(f"not a Parquet file ({one_line(exc)})", where=rows.name) from None
        columns = _found(rows, names, columns)
        text_column, label_column, title_column = columns.text, columns.label, columns.title
        if len(set(names)) != len(names):
            raise UserError(f"repeated column names ({', '.join(names)})", where=rows.name)
        use_title = title_column is not None and title_column in names
        wanted = [text_column, label_column] + ([title_column] if use_title else [])
        parser = rows.parser
        n = 0
        size = source.size or 0
        rows.tell = lambda: size * n // max(n_rows, 1)
        try:
            for batch in pf.iter_batches(batch_size=65_536, columns=wanted):
                texts = batch.column(0).to_pylist()
                labels = batch.column(1).to_pylist()
                titles = batch.column(2).to_pylist() if use_title else [None] * len(texts)
                for text, label, title in zip(texts, labels, titles, strict=True):
                    n += 1
                    rows.last = n
                    _add(rows, parser, n, text, label, title)
                if len(rows.texts) >= rows.chunk_size:
                    yield
        except (pa.ArrowException, ValueError) as exc:
            raise UserError(
                f"cannot read after row {n} ({one_line(exc)})", where=rows.name
            ) from None


def _found(rows: Rows, found: list[str], columns: Columns) -> Columns:
    """``columns`` resolved against the file's, recorded in ``meta["columns"]``."""
    resolved = columns.find(found, rows.name)
    rows.meta["columns"] = resolved.record()
    return resolved


def _add(rows: Rows, parser: _LabelParser, n: int, text: Any, label: Any, title: Any) -> None:
    """Validate one row of a column-based format and keep it (or report it)."""
    try:
        body = _as_text(text)
        head = _as_text(title) if title is not None else ""
        if not body.strip() and not head.strip():
            raise _Bad(EMPTY_TEXT, "empty review text")
        value = parser.parse(label, n)
    except _Bad as bad:
        rows.bad(n, bad.reason, bad.message, bad.fatal)
        return
    rows.texts.append(f"{head}: {body}" if head.strip() else body)
    rows.labels.append(value)


def _encodable(*values: Any) -> bool:
    """Whether every string among ``values`` has a UTF-8 form (no lone surrogates)."""
    try:
        for value in values:
            if isinstance(value, str):
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Bad(INVALID_UTF8, _utf8_message(value, exc)) from None
    return str(value)


# --------------------------------------------------------------------------- the formats

DATA_FORMATS.register(
    "fasttext",
    DataFormat(
        _read_fasttext,
        (".ft.txt", ".txt", ".ft"),
        "`__label__CLASS` then the text, one a line (Kaggle's `__label__1`/`__label__2`: "
        "negative/positive)",
        sniff=_sniff_fasttext,
        sniff_any_name=True,
        aliases=("ft",),
    ),
)
DATA_FORMATS.register(
    "amazon-csv",
    DataFormat(
        _read_amazon_csv,
        (".csv",),
        "the original headerless `class,title,text` CSV (Amazon/Yelp polarity: 1 = negative, "
        "2 = positive; their 1-5 star sets; AG News topics 1-4)",
        sniff=_sniff_amazon_csv,
        aliases=("amazon_csv",),
    ),
)
DATA_FORMATS.register(
    "csv",
    DataFormat(
        _read_csv, (".csv",), "comma-separated, a header row naming the columns", named_columns=True
    ),
)
DATA_FORMATS.register(
    "tsv",
    DataFormat(
        _read_tsv,
        (".tsv", ".tab"),
        "tab-separated, a header row naming the columns",
        named_columns=True,
    ),
)
DATA_FORMATS.register(
    "parquet",
    DataFormat(
        _read_parquet,
        (".parquet", ".pq"),
        "Parquet with text and label columns, read in batches (not `.bz2`/`.gz`)",
        named_columns=True,
    ),
)
DATA_FORMATS.register(
    "jsonl",
    DataFormat(
        _read_jsonl,
        (".jsonl", ".ndjson", ".json"),
        "JSON lines: one object a line with the text and label keys",
        aliases=("json", "ndjson"),
        named_columns=True,
    ),
)


def formats_table() -> str:
    """The registered data formats as a Markdown table (docs/data.md holds it between markers)."""
    lines = [
        "| `--format` (aliases) | Recognised by | Named columns | What it is |",
        "|---|---|---|---|",
    ]
    for name, spec in DATA_FORMATS.items():
        found = ", ".join(f"`{x}`" for x in spec.suffixes)
        if spec.sniff is not None:
            found += ", or its first line" if spec.sniff_any_name else " + its first line"
        columns = "yes" if spec.named_columns else "no"
        aliases = f" ({', '.join(f'`{a}`' for a in spec.aliases)})" if spec.aliases else ""
        lines.append(f"| `{name}`{aliases} | {found} | {columns} | {spec.description} |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- labels


MAX_CLASSES = 100  # more distinct labels than this: the label column is likely the wrong one

# Binary polarity spellings in families: a file must not mix families ("neg" beside
# "negative" is a spelling slip, not a third class).
_WORDS = {
    "negative": "word",
    "positive": "word",
    "neg": "short",
    "pos": "short",
    "__label__1": "fasttext",
    "__label__2": "fasttext",
    "false": "bool",
    "true": "bool",
}
_EXPECTED = {
    "word": "negative or positive",
    "short": "neg or pos",
    "fasttext": "__label__1 or __label__2",
    "bool": "false or true",
}
# The usual binary pair a first label belongs to: registered in class order at once, so the
# codes handed out while reading are usually the final ones (no recoding of a big import).
_PAIRS = {
    "negative": ("negative", "positive"), "positive": ("negative", "positive"),
    "neg": ("neg", "pos"), "pos": ("neg", "pos"),
    "__label__1": ("__label__1", "__label__2"), "__label__2": ("__label__1", "__label__2"),
    "false": ("false", "true"), "true": ("false", "true"),
    "0": ("0", "1"), "1": ("0", "1"), "2": ("1", "2"),
}  # fmt: skip
_INTEGRAL = re.compile(r"[+-]?\d+(?:\.0*)?")

# How the classes are ordered (``meta["class_order"]``), in the words docs/data.md uses.
ORDER_GIVEN = "--labels"
ORDER_NUMERIC = "numeric"
ORDER_ALPHABETICAL = "alphabetical"


def label_key(value: Any) -> tuple[str, str]:
    """``(key, spelling)`` of a label value: values with the same key are one class.

    Integral numbers compare as integers (``1``, ``1.0``, ``"+1"``); the polarity words
    ignore case; any other text is taken as it is, less surrounding spaces.
    """
    if isinstance(value, bool | np.bool_):
        spelling = str(bool(value))
        return spelling.lower(), spelling
    if isinstance(value, int | np.integer):
        return str(int(value)), str(int(value))
    if isinstance(value, float | np.floating):
        if value != value:  # NaN: pandas' empty cell
            return "", ""
        text = str(int(value)) if float(value).is_integer() else repr(float(value))
        return text, text
    spelling = value.strip() if isinstance(value, str) else str(value).strip()
    if _INTEGRAL.fullmatch(spelling):
        return str(int(float(spelling))), spelling
    lower = spelling.lower()
    return (lower if lower in _WORDS else spelling), spelling


def parse_labels(
    text: str | Sequence[str] | None, where: str = "--labels"
) -> tuple[str, ...] | None:
    """The class names of ``--labels a,b,c``, in their order; None when not given."""
    if text is None:
        return None
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)]
    shown = text if isinstance(text, str) else ",".join(text)
    if len(parts) < 2 or not all(parts):
        raise UserError(
            f"expected at least 2 comma-separated class names, e.g. 'ham,spam', got {shown!r}",
            where,
        )
    keys = [label_key(p)[0] for p in parts]
    twice = sorted({p for p, k in zip(parts, keys, strict=True) if keys.count(k) > 1})
    if twice:
        raise UserError(f"names a class twice ({', '.join(twice)}) in {shown!r}", where)
    if len(parts) > MAX_CLASSES:
        raise UserError(f"at most {MAX_CLASSES} classes, got {len(parts)}", where)
    return tuple(parts)


class _LabelParser:
    """Maps label values to class codes and remembers how the file spelled each class.

    While reading, a class gets the next free code when first seen (the usual binary pairs
    come in their final order); :meth:`finish` puts the classes in their final order: that
    of ``labels`` (``--labels``, which also refuses any other value), else numeric when every
    label is a number (star ratings 1..5; 0/1 and 1/2 polarity too), else alphabetical
    (negative/positive, neg/pos, __label__1/__label__2 and false/true keep
    negative = 0, positive = 1). One parser may serve several sources (an import's splits).
    """

    def __init__(self, labels: Sequence[str] | None = None) -> None:
        self.fixed = parse_labels(labels) if labels is not None else None
        self.codes: dict[str, int] = {}  # key -> code while reading
        self.spellings: list[str] = []  # code -> first spelling seen
        self.family: str | None = None
        self.family_line = 0
        self.frozen: str | None = None  # set: no new class may appear (says whose classes)
        self.unseen: set[int] = set()  # codes registered before any row had them
        self.raw: dict[str, int] = {}  # label strings as read -> code
        if self.fixed is not None:
            for name in self.fixed:
                self._register(label_key(name)[0], name)

    def __len__(self) -> int:
        return len(self.codes)

    def _register(self, key: str, spelling: str) -> int:
        code = self.codes[key] = len(self.spellings)
        self.spellings.append(spelling)
        return code

    def parse(self, value: Any, n: int) -> int:
        if type(value) is str and (code := self.raw.get(value)) is not None:
            return code  # a spelling met before: millions of rows take this path
        key, spelling = label_key(value) if value is not None else ("", "")
        code = self.codes.get(key)
        if code is None:
            code = self._new(key, spelling, n)
        elif self.unseen and code in self.unseen:  # a pair's partner: now seen, as spelled
            self.unseen.discard(code)
            self.spellings[code] = spelling
        if key in _WORDS and self.fixed is None:
            self._family(key, spelling, n)
        if type(value) is str:
            self.raw[value] = code
        return code

    def _new(self, key: str, spelling: str, n: int) -> int:
        """The code of a label not seen before, or why it cannot have one."""
        if not key:
            raise _Bad(UNKNOWN_LABEL, "missing label")
        if self.fixed is not None:
            raise _Bad(
                UNKNOWN_LABEL,
                f"label {_show(spelling)} is not one of --labels {','.join(self.fixed)}",
                fatal=True,
            )
        if self.frozen is not None:
            names = ", ".join(self.spellings)
            raise _Bad(
                UNKNOWN_LABEL,
                f"label {_show(spelling)} is not a class of {self.frozen} ({names})",
                fatal=True,
            )
        if key in _WORDS:
            self._family(key, spelling, n)  # before registering: a slip is no new class
        if len(self.codes) >= MAX_CLASSES:
            raise _Bad(
                UNKNOWN_LABEL,
                f"more than {MAX_CLASSES} distinct labels (latest {_show(spelling)}); is the "
                "label column the right one (--label-column)?",
                fatal=True,
            )
        if not self.codes and key in _PAIRS:
            for k in _PAIRS[key]:
                if k == key:
                    self._register(k, spelling)
                else:
                    self.unseen.add(self._register(k, k))
            return self.codes[key]
        return self._register(key, spelling)

    def _family(self, key: str, spelling: str, n: int) -> None:
        family = _WORDS[key]
        if self.family is None:
            self.family, self.family_line = family, n
        elif family != self.family:
            raise _Bad(
                UNKNOWN_LABEL,
                f"unknown label {_show(spelling)} (expected {_EXPECTED[self.family]}, as on line "
                f"{self.family_line})",
            )

    def freeze(self, whose: str) -> None:
        """From now on a new label is an error naming ``whose`` classes (the train split)."""
        self.frozen = whose

    def finish(self, counts: np.ndarray, where: str) -> tuple[tuple[str, ...], np.ndarray, str]:
        """``(names, codes, order)`` from the rows each code got: the classes in their final
        order, the final code of each reading code (-1: never seen) and the order's rule.

        A class of ``--labels`` that no row has is refused: a classifier cannot learn it.
        """
        counts = np.concatenate([counts, np.zeros(len(self.codes), dtype=np.int64)])
        keys = list(self.codes)
        if self.fixed is not None:
            empty = [self.spellings[c] for c in range(len(keys)) if counts[c] == 0]
            if empty and counts.sum():
                raise UserError(
                    f"no row has label {', '.join(map(repr, empty))} of --labels "
                    f"{','.join(self.fixed)}",
                    where=where,
                )
            seen, order = list(range(len(keys))), ORDER_GIVEN
        else:
            seen = [c for c in range(len(keys)) if counts[c] > 0]
            numbers = [_number(keys[c]) for c in seen]
            if all(x is not None for x in numbers):
                seen = [c for _, c in sorted(zip(numbers, seen, strict=True))]  # type: ignore[type-var]
                order = ORDER_NUMERIC
            else:
                seen.sort(key=lambda c: _natural(keys[c]))
                order = ORDER_ALPHABETICAL
        codes = np.full(len(keys), -1, dtype=np.int8)
        codes[seen] = np.arange(len(seen), dtype=np.int8)
        return tuple(self.spellings[c] for c in seen), codes, order


def _natural(key: str) -> list[tuple[int, int, str]]:
    """Alphabetical, ignoring case, with digit runs compared as numbers (``__label__2`` before
    ``__label__10``); the key itself breaks ties."""
    parts = [(0, int(p), "") if p.isdecimal() and p.isascii() else (1, 0, p.casefold())
             for p in re.split(r"([0-9]+)", key) if p]  # fmt: skip
    return [*parts, (2, 0, key)]


def _number(key: str) -> float | None:
    try:
        value = float(key)
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def recode(labels: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Reading codes to final class codes (no copy when they are already final)."""
    labels = np.asarray(labels, dtype=np.int8)
    if np.all((codes == np.arange(len(codes))) | (codes < 0)):
        return labels
    return codes[labels] if len(labels) else labels


# --------------------------------------------------------------------------- helpers


def _show(s: str, limit: int = 40) -> str:
    """A short, quoted, single-line rendering of user data for error messages."""
    return repr(s if len(s) <= limit else s[:limit] + "...")
