"""Read labelled Amazon polarity reviews from the files people actually have them in.

Two entry points: :func:`read_corpus` returns a whole :class:`Corpus`; :class:`ReviewStream`
hands the same rows over in chunks, for imports too big to hold twice. Readers stream their
input (the Kaggle training file has 3.6M lines) from a :class:`Source`: a file or an archive
member. Labels become 0 = negative, 1 = positive. Bad input raises :class:`UserError` naming
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
import sys
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
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
    "read_corpus",
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

_FT_NEG = "__label__1 "
_FT_POS = "__label__2 "
_FT_HEAD = len(_FT_NEG)
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
    text_column: str = "text",
    label_column: str = "label",
    title_column: str | None = "title",
    on_error: Literal["raise", "skip"] = "raise",
) -> Corpus:
    """Read a labelled review file; the format comes from the suffix unless ``fmt`` is given.

    Formats are those of :data:`DATA_FORMATS` (``fasttext``, ``amazon-csv``, and
    ``csv``/``tsv``/``parquet``/``jsonl`` with named columns, unless more are registered).
    Text formats may be ``.bz2``/``.gz`` compressed. Labels become
    0 = negative, 1 = positive; ``label_names`` keeps how the file spelled them.

    ``meta`` records ``format``, ``path``, ``compression``, ``skipped`` (reason -> count),
    ``first_bad_lines``, ``blank_lines``, ``duplicates`` (rows repeating an earlier text;
    they are kept), ``conflicting_duplicates`` (texts seen with both labels) and, for
    column formats, ``columns``.
    """
    _check_on_error(on_error)
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise UserError("no such file", where=name)
    if path.is_dir():
        raise UserError("is a directory, expected a file of reviews", where=name)
    rows = Rows(name, on_error)
    columns = Columns(text_column, label_column, title_column)
    reader = _read_source(Source.file(path), rows, fmt, columns)
    for _ in reader:  # chunk_size is unlimited: runs to the end without pausing
        pass
    return rows.finish(rows.label_names(), rows.meta)


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
    they share label spellings and the end checks (some reviews, both classes), which run
    after the last chunk. Then ``label_names`` and ``meta`` (as :func:`read_corpus`'s, with
    ``rows``, ``positives`` and ``first_bad``: ``"source:line"`` strings) are set.
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
        text_column: str = "text",
        label_column: str = "label",
        title_column: str | None = "title",
    ) -> None:
        _check_on_error(on_error)
        self.sources = [sources] if isinstance(sources, Source) else list(sources)
        if not self.sources:
            raise ValueError("no sources")
        self.name = name or self.sources[0].name
        self.fmt = fmt
        self.chunk_size = max(1, int(chunk_size))
        self.on_error = on_error
        self.columns = Columns(text_column, label_column, title_column)
        self.label_names: tuple[str, str] | None = None
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
        rows = self._reading = Rows(self.name, self.on_error, self.chunk_size)
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
        self.label_names = rows.label_names()  # resolves 1s still waiting for their scheme
        last = taken()
        all_labels = np.concatenate(labels) if labels else np.zeros(0, dtype=np.int8)
        rows.check_classes(len(all_labels), int(all_labels.sum()))
        duplicates, conflicting = _count_duplicate_hashes(np.concatenate(hashes), all_labels)
        self.meta = {
            **rows.meta,
            "rows": len(all_labels),
            "positives": int(all_labels.sum()),
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


@dataclass(frozen=True)
class Columns:
    """The columns (or keys) a format with named columns reads: ``--text-column`` and co."""

    text: str
    label: str
    title: str | None


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
        if spec.named_columns:
            rows.meta["columns"] = vars(columns).copy()
    except PermissionError:
        raise UserError("permission denied", where=name) from None
    except _READ_ERRORS as exc:
        # Corrupt or truncated compressed data surfaces mid-stream, after the last good line.
        after = f" after {rows.unit or 'line '}{rows.last}" if rows.last else ""
        raise UserError(f"cannot read{after} ({one_line(exc)})", where=name) from None


# --------------------------------------------------------------------------- bookkeeping


class _Bad(Exception):
    """A bad row: raised inside a reader, turned into a UserError or a skip by ``Rows``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Rows:
    """Collects good rows and decides what a bad one does (raise or count).

    Readers hand a review to :meth:`add` (or append to ``texts``/``labels`` themselves, on a
    hot path) and yield once :attr:`full`; :meth:`take` hands the rows over. Readers bind the
    lists locally, so they are emptied in place, never replaced.
    """

    def __init__(self, name: str, on_error: str, chunk_size: int | None = None) -> None:
        self.name = name
        self.skip = on_error == "skip"
        self.chunk_size = chunk_size or sys.maxsize
        self.unit = ""  # "" for line numbers, "row " for parquet
        self.texts: list[str] = []
        self.labels: list[int] = []
        self.parser = _LabelParser()  # shared by all sources of a stream
        self.fixed_names: tuple[str, str] | None = None  # formats that spell labels one way
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

        Labels may be spelled any way the column formats accept (0/1, 1/2, negative/positive,
        ...), consistently within a file; a title becomes ``title: text``.
        """
        _add(self, self.parser, number, text, label, title)

    @property
    def full(self) -> bool:
        """Whether a chunk is waiting: the reader should yield."""
        return len(self.texts) >= self.chunk_size

    def bad(self, number: int, reason: str, message: str) -> None:
        where = f"{self.name}:{self.unit}{number}"
        if not self.skip:
            raise UserError(message, where=where)
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.first_bad) < _FIRST_BAD:
            self.first_bad.append(number)
            self.first_bad_at.append(where)

    def take(self) -> tuple[list[str], np.ndarray] | None:
        """The rows read so far, or None while none are ready.

        Numeric labels read before the file showed its scheme (0/1 or 1/2) stay until it
        does, since a 1 means opposite things under the two.
        """
        if not self.texts:
            return None
        if self.parser.pending:
            if self.parser.scheme is None:
                return None
            self.parser.resolve(self.labels)
        texts = self.texts.copy()
        labels = np.array(self.labels, dtype=np.int8)
        self.texts.clear()
        self.labels.clear()
        return texts, labels

    def label_names(self) -> tuple[str, str]:
        """Once every source is read: the spellings (resolving any pending 1s)."""
        if self.fixed_names is not None and self.parser.family is None:
            return self.fixed_names
        return self.parser.finish(self)

    def check_classes(self, n: int, n_pos: int) -> None:
        if n == 0:
            raise UserError("no reviews found" + self._skipped_note(), where=self.name)
        if n_pos in (0, n):
            cls = "positive" if n_pos else "negative"
            what = "the only review is" if n == 1 else f"all {n} reviews are"
            raise UserError(f"{what} {cls}; need both classes", where=self.name)

    def summary(self) -> dict[str, object]:
        return {
            "skipped": dict(self.skipped),
            "first_bad_lines": list(self.first_bad),
            "first_bad": list(self.first_bad_at),
            "blank_lines": self.blank,
        }

    def finish(self, label_names: tuple[str, str], meta: dict[str, object]) -> Corpus:
        labels = np.array(self.labels, dtype=np.int8)
        self.check_classes(len(labels), int(labels.sum()))
        duplicates, conflicting = _count_duplicates(self.texts, labels)
        summary = self.summary()
        del summary["first_bad"]  # one file: the line numbers say it all
        meta.update(summary, duplicates=duplicates, conflicting_duplicates=conflicting)
        return Corpus(
            texts=self.texts, labels=labels, source=self.name, label_names=label_names, meta=meta
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
    seen: dict[str, int] = {}  # text -> bit set of labels it carries
    duplicates = 0
    for i in np.sort(order[in_group]):
        text = texts[i]
        bit = 1 << int(labels[i])
        if text in seen:
            duplicates += 1
            seen[text] |= bit
        else:
            seen[text] = bit
    return duplicates, sum(1 for bits in seen.values() if bits == 3)


def _hashes(texts: list[str]) -> np.ndarray:
    return np.fromiter(map(hash, texts), dtype=np.int64, count=len(texts))


def _count_duplicate_hashes(hashes: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
    """:func:`_count_duplicates` from 64-bit hashes alone, for rows no longer in memory."""
    if len(hashes) < 2:
        return 0, 0
    n_texts = len(np.unique(hashes))
    # A (hash, label) pair per distinct labelled text; a text with both labels has two.
    pairs = len(np.unique(hashes * 2 + labels.astype(np.int64)))  # wraps, stays distinct
    return len(hashes) - n_texts, pairs - n_texts


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
        f" set the format explicitly ({', '.join(DATA_FORMATS.names())})",
        where=source.name,
    )


def _head(source: Source, compression: str | None) -> bytes:
    """The first bytes of the decompressed input, without a byte-order mark."""
    with _open(source, compression) as fh:
        return fh.read(_SNIFF_BYTES).removeprefix(_BOM)


def _sniff_fasttext(head: bytes) -> bool:
    return head.startswith(b"__label__")


def _sniff_amazon_csv(head: bytes) -> bool:
    """The original CSV has no header: three fields, the first one 1 or 2."""
    text = io.StringIO(head.decode("utf-8", "replace"), newline="")
    try:
        first = next(csv.reader(text), None)
    except csv.Error:
        return False
    return first is not None and len(first) == 3 and first[0].strip() in ("1", "2")


# --------------------------------------------------------------------------- text input


@contextlib.contextmanager
def _open(source: Source, compression: str | None, rows: Rows | None = None) -> Iterator[IO[bytes]]:
    """Decompressed bytes of ``source``; closes the raw stream too (bz2/gzip leave it open)."""
    with source.open() as raw:
        if rows is not None:
            rows.tell = raw.tell
        if compression == "bz2":
            with bz2.open(raw, "rb") as fh:
                yield fh
        elif compression == "gzip":
            with gzip.open(raw, "rb") as fh:
                yield fh
        else:
            yield raw


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
    """Kaggle fastText lines: ``__label__1`` = negative, ``__label__2`` = positive.

    The hot loop is plain slicing and comparison: 3.6M lines must stay fast.
    """
    rows.fixed_names = ("__label__1", "__label__2")
    texts, labels = rows.texts, rows.labels
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
            if head == _FT_POS:
                label = 1
                text = line[_FT_HEAD:].rstrip("\r\n")
            elif head == _FT_NEG:
                label = 0
                text = line[_FT_HEAD:].rstrip("\r\n")
            else:
                if lineno == 1:
                    line = line.removeprefix("\ufeff")
                if not line.strip():
                    rows.blank += 1
                    continue
                try:
                    label, text = _fasttext_slow(line)
                except _Bad as bad:
                    rows.bad(lineno, bad.reason, bad.message)
                    continue
            if not text or text.isspace():
                rows.bad(lineno, EMPTY_TEXT, f"empty review after '__label__{label + 1}'")
                continue
            texts.append(text)
            labels.append(label)
            if len(texts) >= chunk:
                yield


def _fasttext_slow(line: str) -> tuple[int, str]:
    """Lines off the fast path: leading whitespace, a tab separator, or something wrong."""
    s = line.rstrip("\r\n").lstrip()
    if not s.startswith("__label__"):
        raise _Bad(
            MALFORMED,
            f"malformed line {_show(s)} (expected '__label__1 ' or '__label__2 ' then the review)",
        )
    cut = len(s)
    for sep in (" ", "\t"):
        i = s.find(sep)
        if 0 <= i < cut:
            cut = i
    token = s[:cut]
    if token == "__label__1":
        return 0, s[cut + 1 :]
    if token == "__label__2":
        return 1, s[cut + 1 :]
    raise _Bad(UNKNOWN_LABEL, f"unknown label {_show(token)} (expected __label__1 or __label__2)")


def _read_amazon_csv(
    source: Source, compression: str | None, rows: Rows, columns: Columns
) -> Generator[None, None, None]:
    """The original headerless ``polarity,title,text`` CSV: 1 = negative, 2 = positive.

    Title and text are joined as ``title: text`` unconditionally, as the Kaggle fastText
    conversion did, so both versions of the same review are the same string.
    """
    rows.fixed_names = ("1", "2")
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
            polarity = polarity.strip()
            if polarity == "1":
                label = 0
            elif polarity == "2":
                label = 1
            else:
                rows.bad(start, UNKNOWN_LABEL, f"unknown label {_show(polarity)} (expected 1 or 2)")
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
        if lines.first_bad(1, reader.line_num):
            raise UserError(f"header is {lines.bad[1]}", where=f"{rows.name}:1")
        header = [h.strip() for h in header]
        text_i, label_i = _columns(rows.name, header, columns.text, columns.label)
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
                _columns(rows.name, list(obj), text_column, label_column)
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

    text_column, label_column, title_column = columns.text, columns.label, columns.title
    with contextlib.ExitStack() as stack:
        where = source.path if source.path is not None else stack.enter_context(source.open())
        try:
            pf = stack.enter_context(pq.ParquetFile(where))
            names = list(pf.schema_arrow.names)
            n_rows = pf.metadata.num_rows
        except (pa.ArrowException, ValueError, *_READ_ERRORS) as exc:
            raise UserError(f"not a Parquet file ({one_line(exc)})", where=rows.name) from None
        _columns(rows.name, names, text_column, label_column)
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


def _columns(name: str, found: list[str], text_column: str, label_column: str) -> tuple[int, int]:
    missing = [c for c in (text_column, label_column) if c not in found]
    if missing:
        shown = ", ".join(repr(c) for c in found[:20]) + (", ..." if len(found) > 20 else "")
        noun = "column" if len(missing) == 1 else "columns"
        raise UserError(
            f"missing {noun} {', '.join(repr(c) for c in missing)} (found: {shown or 'none'})",
            where=name,
        )
    return found.index(text_column), found.index(label_column)


def _add(rows: Rows, parser: _LabelParser, n: int, text: Any, label: Any, title: Any) -> None:
    """Validate one row of a column-based format and keep it (or report it)."""
    try:
        body = _as_text(text)
        head = _as_text(title) if title is not None else ""
        if not body.strip() and not head.strip():
            raise _Bad(EMPTY_TEXT, "empty review text")
        value = parser.parse(label, n)
    except _Bad as bad:
        rows.bad(n, bad.reason, bad.message)
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
        "Kaggle's `__label__1`/`__label__2` (negative/positive) then the review, one a line",
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
        "the original headerless `polarity,title,text` CSV (1 = negative, 2 = positive)",
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


# Spelling families: a file must stick to one, so "1" has a single meaning per file.
_WORDS = {
    "negative": ("word", 0),
    "positive": ("word", 1),
    "neg": ("short", 0),
    "pos": ("short", 1),
    "__label__1": ("fasttext", 0),
    "__label__2": ("fasttext", 1),
    "false": ("bool", 0),
    "true": ("bool", 1),
}
_NUMBERS = {"0": 0, "1": 1, "2": 2, "0.0": 0, "1.0": 1, "2.0": 2}
_EXPECTED = {
    "word": "negative or positive",
    "short": "neg or pos",
    "fasttext": "__label__1 or __label__2",
    "bool": "false or true",
}
_ANY = "0/1, 1/2, negative/positive, neg/pos, __label__1/__label__2 or false/true"


class _LabelParser:
    """Maps label values to 0/1 and remembers how the file spelled each class.

    Numbers are ambiguous: 1 is positive under 0/1 but negative under Amazon's 1/2. The
    first 0 or 2 decides; 1s seen before that are stored as -1 and resolved at the end.
    """

    def __init__(self) -> None:
        self.family: str | None = None
        self.family_line = 0
        self.scheme: str | None = None  # "01" or "12" for numbers
        self.scheme_line = 0
        self.spellings: dict[int, str] = {}  # class (or raw number) -> first spelling
        self.pending = False  # some rows hold -1: a 1 read before the scheme was known

    def parse(self, value: Any, n: int) -> int:
        if value is None:
            raise _Bad(UNKNOWN_LABEL, f"missing label (expected {self._expected()})")
        if isinstance(value, bool):
            family, cls = "bool", int(value)
        elif isinstance(value, int | float | np.integer | np.floating):
            if value not in (0, 1, 2):
                raise self._unknown(repr(value))
            family, cls = "number", int(value)
        else:
            s = value.strip() if isinstance(value, str) else str(value)
            key = s.lower()
            if key in _NUMBERS:
                family, cls = "number", _NUMBERS[key]
            elif key in _WORDS:
                family, cls = _WORDS[key]
            else:
                raise self._unknown(s)
        spelling = value.strip() if isinstance(value, str) else str(value)
        if self.family is None:
            self.family, self.family_line = family, n
        elif family != self.family:
            raise self._unknown(spelling)
        if family == "number":
            cls = self._number(cls, spelling, n)
        else:
            self.spellings.setdefault(cls, spelling)
        return cls

    def _number(self, raw: int, spelling: str, n: int) -> int:
        if raw != 1:
            scheme = "01" if raw == 0 else "12"
            if self.scheme is None:
                self.scheme, self.scheme_line = scheme, n
            elif scheme != self.scheme:
                raise self._unknown(spelling)
        self.spellings.setdefault(raw, spelling)
        if self.scheme == "01":
            return raw
        if self.scheme == "12":
            return raw - 1
        self.pending = True
        return -1  # resolved by finish() once the scheme is known

    def _unknown(self, spelling: str) -> _Bad:
        return _Bad(UNKNOWN_LABEL, f"unknown label {_show(spelling)} (expected {self._expected()})")

    def _expected(self) -> str:
        if self.family is None:
            return _ANY
        where = f"as on line {self.family_line}"
        if self.family == "number":
            if self.scheme is None:
                return f"0/1 or 1/2 numbers, {where}"
            pair = "0 or 1" if self.scheme == "01" else "1 or 2"
            return f"{pair}, as on line {self.scheme_line}"
        return f"{_EXPECTED[self.family]}, {where}"

    def resolve(self, labels: list[int]) -> None:
        """Replace the -1s in ``labels`` (in place) now that the scheme is known."""
        fill = 1 if self.scheme == "01" else 0
        labels[:] = [fill if v < 0 else v for v in labels]
        self.pending = False

    def finish(self, rows: Rows) -> tuple[str, str]:
        """Resolve 1s read before the scheme was known; return the label spellings."""
        if self.pending:
            if self.scheme is None:  # every label was 1: one class either way
                n = len(rows.labels)
                what = "the only review has" if n == 1 else f"all {n} reviews have"
                raise UserError(
                    f"{what} label {self.spellings[1]!r} (negative under 1/2 labels, positive"
                    " under 0/1); need both classes",
                    where=rows.name,
                )
            self.resolve(rows.labels)
        return self.names()

    def names(self) -> tuple[str, str]:
        if self.family == "number":
            if self.scheme == "12":
                return (self.spellings.get(1, "1"), self.spellings.get(2, "2"))
            return (self.spellings.get(0, "0"), self.spellings.get(1, "1"))
        if self.family == "bool":
            return (self.spellings.get(0, "false"), self.spellings.get(1, "true"))
        defaults = {"word": ("negative", "positive"), "short": ("neg", "pos")}
        neg, pos = defaults.get(self.family or "", ("__label__1", "__label__2"))
        return (self.spellings.get(0, neg), self.spellings.get(1, pos))


# --------------------------------------------------------------------------- helpers


def _show(s: str, limit: int = 40) -> str:
    """A short, quoted, single-line rendering of user data for error messages."""
    return repr(s if len(s) <= limit else s[:limit] + "...")
