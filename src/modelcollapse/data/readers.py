"""Read labelled Amazon polarity reviews from the files people actually have them in.

One entry point, :func:`read_corpus`. Readers stream their input (the Kaggle training file
has 3.6M lines) and return a :class:`Corpus` with labels 0 = negative, 1 = positive. Bad
input raises :class:`UserError` naming the file, the line and what was expected, so a
broken line in a huge file is found without a debugger; ``on_error="skip"`` drops
such lines instead and counts them in ``corpus.meta["skipped"]``.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError

__all__ = [
    "EMPTY_TEXT",
    "FORMATS",
    "INVALID_UTF8",
    "MALFORMED",
    "UNKNOWN_LABEL",
    "read_corpus",
]

FORMATS = ("fasttext", "amazon-csv", "csv", "tsv", "parquet", "jsonl")
_ALIASES = {"ft": "fasttext", "amazon_csv": "amazon-csv", "json": "jsonl", "ndjson": "jsonl"}

# Reasons a line is bad: the keys of ``corpus.meta["skipped"]``.
MALFORMED = "malformed"
UNKNOWN_LABEL = "unknown_label"
EMPTY_TEXT = "empty_text"
INVALID_UTF8 = "invalid_utf8"

_FIRST_BAD = 5  # how many bad line numbers meta["first_bad_lines"] keeps
_BOM = b"\xef\xbb\xbf"

# Longest suffix first: ".ft.txt" must win over ".txt".
_SUFFIXES = (
    (".ft.txt", "fasttext"),
    (".txt", "fasttext"),
    (".ft", "fasttext"),
    (".csv", "csv"),
    (".tsv", "tsv"),
    (".tab", "tsv"),
    (".parquet", "parquet"),
    (".pq", "parquet"),
    (".jsonl", "jsonl"),
    (".ndjson", "jsonl"),
    (".json", "jsonl"),
)
_COMPRESSION_SUFFIXES = {".bz2": "bz2", ".gz": "gzip", ".gzip": "gzip"}

_FT_NEG = "__label__1 "
_FT_POS = "__label__2 "
_FT_HEAD = len(_FT_NEG)


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

    Formats: ``fasttext`` (Kaggle ``__label__N Title: text`` lines), ``amazon-csv`` (the
    original headerless ``polarity,title,text`` CSV), and ``csv``/``tsv``/``parquet``/``jsonl``
    with named columns. Text formats may be ``.bz2``/``.gz`` compressed. Labels become
    0 = negative, 1 = positive; ``label_names`` keeps how the file spelled them.

    ``meta`` records ``format``, ``path``, ``compression``, ``skipped`` (reason -> count),
    ``first_bad_lines``, ``blank_lines``, ``duplicates`` (rows repeating an earlier text;
    they are kept), ``conflicting_duplicates`` (texts seen with both labels) and, for
    column formats, ``columns``.
    """
    if on_error not in ("raise", "skip"):
        raise UserError(f"on_error must be 'raise' or 'skip', not {on_error!r}")
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise UserError("no such file", where=name)
    if path.is_dir():
        raise UserError("is a directory, expected a file of reviews", where=name)

    try:
        compression = _sniff_compression(path)
        fmt = _resolve_format(path, name, fmt, compression)
    except PermissionError:
        raise UserError("permission denied", where=name) from None
    except (OSError, EOFError) as exc:
        raise UserError(f"cannot read ({_one_line(exc)})", where=name) from None

    rows = _Rows(name, on_error, unit="row " if fmt == "parquet" else "")
    meta: dict[str, object] = {"format": fmt, "path": name, "compression": compression}
    try:
        if fmt == "fasttext":
            label_names = _read_fasttext(path, compression, rows)
        elif fmt == "amazon-csv":
            label_names = _read_amazon_csv(path, compression, rows)
        elif fmt == "parquet":
            if compression:
                raise UserError(
                    f"Parquet is compressed internally; {compression} around it is not supported",
                    where=name,
                )
            label_names = _read_parquet(path, rows, text_column, label_column, title_column)
            meta["columns"] = {"text": text_column, "label": label_column, "title": title_column}
        else:
            reader = _read_jsonl if fmt == "jsonl" else _read_delimited
            label_names = reader(
                path, compression, rows, fmt, text_column, label_column, title_column
            )
            meta["columns"] = {"text": text_column, "label": label_column, "title": title_column}
    except PermissionError:
        raise UserError("permission denied", where=name) from None
    except (OSError, EOFError) as exc:
        # Corrupt or truncated compressed data surfaces mid-stream, after the last good line.
        after = f" after {rows.unit or 'line '}{rows.last}" if rows.last else ""
        raise UserError(f"cannot read{after} ({_one_line(exc)})", where=name) from None
    return rows.finish(label_names, meta)


# --------------------------------------------------------------------------- bookkeeping


class _Bad(Exception):
    """A bad row: raised inside a reader, turned into a UserError or a skip by ``_Rows``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class _Rows:
    """Collects good rows and decides what a bad one does (raise or count)."""

    def __init__(self, name: str, on_error: str, unit: str = "") -> None:
        self.name = name
        self.skip = on_error == "skip"
        self.unit = unit  # "" for line numbers, "row " for parquet
        self.texts: list[str] = []
        self.labels: list[int] = []
        self.skipped: dict[str, int] = {}
        self.first_bad: list[int] = []
        self.blank = 0
        self.last = 0  # last line (or row) number reached, for mid-stream read errors

    def bad(self, number: int, reason: str, message: str) -> None:
        if not self.skip:
            raise UserError(message, where=f"{self.name}:{self.unit}{number}")
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.first_bad) < _FIRST_BAD:
            self.first_bad.append(number)

    def finish(self, label_names: tuple[str, str], meta: dict[str, object]) -> Corpus:
        n = len(self.texts)
        if n == 0:
            raise UserError("no reviews found" + self._skipped_note(), where=self.name)
        labels = np.array(self.labels, dtype=np.int8)
        n_pos = int(labels.sum())
        if n_pos in (0, n):
            cls = "positive" if n_pos else "negative"
            what = "the only review is" if n == 1 else f"all {n} reviews are"
            raise UserError(f"{what} {cls}; need both classes", where=self.name)
        duplicates, conflicting = _count_duplicates(self.texts, labels)
        meta.update(
            skipped=dict(self.skipped),
            first_bad_lines=list(self.first_bad),
            blank_lines=self.blank,
            duplicates=duplicates,
            conflicting_duplicates=conflicting,
        )
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
    hashes = np.fromiter(map(hash, texts), dtype=np.int64, count=len(texts))
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


# --------------------------------------------------------------------------- sniffing


def _sniff_compression(path: Path) -> str | None:
    """Compression from the suffix, else from magic bytes (a renamed .bz2 still reads)."""
    by_suffix = _COMPRESSION_SUFFIXES.get(path.suffix.lower())
    if by_suffix:
        return by_suffix
    with open(path, "rb") as fh:
        head = fh.read(10)
    if head[:2] == b"\x1f\x8b":  # can never start valid UTF-8 text
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] in (b"1AY&SY", b"\x17rE8P\x90"):
        return "bz2"
    return None


def _resolve_format(path: Path, name: str, fmt: str | None, compression: str | None) -> str:
    if fmt is not None:
        key = _ALIASES.get(fmt.lower(), fmt.lower())
        if key not in FORMATS:
            raise UserError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
        return key
    lower = path.name.lower()
    for suffix in _COMPRESSION_SUFFIXES:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    for suffix, found in _SUFFIXES:
        if lower.endswith(suffix):
            if found == "csv" and _looks_like_amazon_csv(path, compression):
                return "amazon-csv"
            return found
    # Unknown suffix: fastText lines are unmistakable, so accept them by content.
    with _open(path, compression) as fh:
        first = fh.readline(64)
    if first.removeprefix(_BOM).startswith(b"__label__"):
        return "fasttext"
    known = ", ".join(s for s, _ in _SUFFIXES)
    raise UserError(
        f"cannot tell the format from the name (known suffixes: {known}, optionally + .bz2/.gz);"
        f" set the format explicitly ({', '.join(FORMATS)})",
        where=name,
    )


def _looks_like_amazon_csv(path: Path, compression: str | None) -> bool:
    """The original CSV has no header: three fields, the first one 1 or 2."""
    try:
        with _open(path, compression) as fh:
            first = next(csv.reader(_Lines(fh)), None)
    except (csv.Error, OSError, EOFError):
        return False  # the full read reports the problem with a line number
    return first is not None and len(first) == 3 and first[0].strip() in ("1", "2")


# --------------------------------------------------------------------------- text input


def _open(path: Path, compression: str | None) -> IO[bytes]:
    if compression == "bz2":
        return bz2.open(path, "rb")
    if compression == "gzip":
        return gzip.open(path, "rb")
    return open(path, "rb")


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


def _utf8_message(raw: bytes, exc: UnicodeDecodeError) -> str:
    return f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of the line)"


def _read_fasttext(path: Path, compression: str | None, rows: _Rows) -> tuple[str, str]:
    """Kaggle fastText lines: ``__label__1`` = negative, ``__label__2`` = positive.

    The hot loop is plain slicing and comparison: 3.6M lines must stay fast.
    """
    texts, labels = rows.texts, rows.labels
    with _open(path, compression) as fh:
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
    return ("__label__1", "__label__2")


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


def _read_amazon_csv(path: Path, compression: str | None, rows: _Rows) -> tuple[str, str]:
    """The original headerless ``polarity,title,text`` CSV: 1 = negative, 2 = positive.

    Title and text are joined as ``title: text`` unconditionally, as the Kaggle fastText
    conversion did, so both versions of the same review are the same string.
    """
    with _open(path, compression) as fh:
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
    return ("1", "2")


def _csv_records(reader: Any, rows: _Rows) -> Iterator[tuple[int, list[str]]]:
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
            rows.bad(start, MALFORMED, f"malformed CSV ({_one_line(exc)})")
            continue
        start, prev = prev + 1, reader.line_num
        rows.last = prev
        if not row:
            rows.blank += 1
            continue
        yield start, row


def _read_delimited(
    path: Path,
    compression: str | None,
    rows: _Rows,
    fmt: str,
    text_column: str,
    label_column: str,
    title_column: str | None,
) -> tuple[str, str]:
    """CSV/TSV with a header row naming the columns."""
    with _open(path, compression) as fh:
        lines = _Lines(fh)
        reader = csv.reader(lines, delimiter="\t" if fmt == "tsv" else ",")
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise UserError(
                f"malformed header ({_one_line(exc)})", where=f"{rows.name}:1"
            ) from None
        if header is None:
            raise UserError("no reviews found", where=rows.name)
        if lines.first_bad(1, reader.line_num):
            raise UserError(f"header is {lines.bad[1]}", where=f"{rows.name}:1")
        header = [h.strip() for h in header]
        text_i, label_i = _columns(rows.name, header, text_column, label_column)
        title_i = header.index(title_column) if title_column in header else None
        parser = _LabelParser()
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
    return parser.finish(rows)


def _read_jsonl(
    path: Path,
    compression: str | None,
    rows: _Rows,
    fmt: str,
    text_column: str,
    label_column: str,
    title_column: str | None,
) -> tuple[str, str]:
    """JSON lines: one object per line with the text and label keys."""
    parser = _LabelParser()
    checked = False
    first = True
    with _open(path, compression) as fh:
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
                rows.bad(n, MALFORMED, f"not valid JSON ({_one_line(exc)})")
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
            _add(rows, parser, n, obj[text_column], obj[label_column], title)
    return parser.finish(rows)


def _read_parquet(
    path: Path, rows: _Rows, text_column: str, label_column: str, title_column: str | None
) -> tuple[str, str]:
    """Parquet, read in batches so memory stays at one batch of Python objects."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UserError(f"not a Parquet file ({_one_line(exc)})", where=rows.name) from None
    names = list(pf.schema_arrow.names)
    _columns(rows.name, names, text_column, label_column)
    use_title = title_column is not None and title_column in names
    columns = [text_column, label_column] + ([title_column] if use_title else [])
    parser = _LabelParser()
    n = 0
    try:
        for batch in pf.iter_batches(batch_size=65_536, columns=columns):
            texts = batch.column(0).to_pylist()
            labels = batch.column(1).to_pylist()
            titles = batch.column(2).to_pylist() if use_title else [None] * len(texts)
            for text, label, title in zip(texts, labels, titles, strict=True):
                n += 1
                rows.last = n
                _add(rows, parser, n, text, label, title)
    except pa.ArrowException as exc:
        raise UserError(f"cannot read after row {n} ({_one_line(exc)})", where=rows.name) from None
    return parser.finish(rows)


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


def _add(rows: _Rows, parser: _LabelParser, n: int, text: Any, label: Any, title: Any) -> None:
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

    def finish(self, rows: _Rows) -> tuple[str, str]:
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
            fill = 1 if self.scheme == "01" else 0
            rows.labels = [fill if v < 0 else v for v in rows.labels]
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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
