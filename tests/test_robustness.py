"""No input crashes a run: every reader and the config loader return or raise UserError.

Property tests feed arbitrary bytes and lines assembled from the pieces that break parsers
(labels, separators, quotes, BOMs, line endings, invalid UTF-8); targeted tests pin the
cases users actually hit. A successful read must also be safe downstream: both classes,
0/1 labels, and texts that Parquet (the token cache, the data home) can store.

For a deeper hunt than the quick default: ``MODELCOLLAPSE_FUZZ=50 pytest tests/test_robustness.py``
multiplies every example count.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelcollapse.data.corpus import Corpus
from modelcollapse.data.home import import_corpus, load_imported
from modelcollapse.data.readers import DATA_FORMATS, ReviewStream, Source, read_corpus, recode
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import load_config, validate_config
from modelcollapse.experiments.plan import build_plan

FUZZ = float(os.environ.get("MODELCOLLAPSE_FUZZ", "1"))


def examples(n: int) -> settings:
    return settings(
        max_examples=max(1, int(n * FUZZ)),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )


FAST = examples(40)

# Pieces that parsers trip over, for lines that get past the first check.
PIECES = [
    "__label__1 ", "__label__2 ", "__label__3 ", "__label__2\t", "__label__", "1,", "2,", "0,",
    '"1","t","b"', "positive", "neg", "true", ",", "\t", '"', '""', "{", "}", "[", "]", ":",
    '{"text": "a", "label": 1}', '{"text": "b", "label": 0}', '"label": 2', '"text": null',
    "\\ud800", "\\u00e9", "null", "1e999", "\ufeff", " ", "\r", "text,label", "title",
    "Great: works", "Bad: broke", "é", "\x00",
]  # fmt: skip
ENDINGS = ["\n", "\r\n", "\r", ""]


@st.composite
def review_bytes(draw: st.DrawFn) -> bytes:
    """Lines of pieces, random text and raw (often invalid UTF-8) bytes, mixed endings."""
    out = bytearray()
    if draw(st.booleans()):
        out += b"\xef\xbb\xbf"
    for _ in range(draw(st.integers(0, 12))):
        parts = draw(
            st.lists(
                st.one_of(
                    st.sampled_from(PIECES).map(str.encode),
                    st.text(max_size=12).map(str.encode),
                    st.binary(max_size=6),
                ),
                max_size=6,
            )
        )
        out += b"".join(parts) + draw(st.sampled_from(ENDINGS)).encode()
    return bytes(out)


def check_corpus(corpus: Corpus) -> None:
    """What the rest of the pipeline relies on after a successful read."""
    assert len(corpus.texts) == len(corpus.labels) > 1
    k = len(corpus.label_names)
    assert corpus.labels.dtype == np.int8 and set(corpus.labels.tolist()) == set(range(k)) and k > 1
    assert all(isinstance(t, str) and t.strip() for t in corpus.texts)
    pa.array(corpus.texts, pa.string())  # storable as Parquet: no lone surrogates
    assert len(corpus.fingerprint) == 64


def outcome(read) -> Corpus | str:
    """The corpus, or the UserError's message (which must be one line)."""
    try:
        return read()
    except UserError as err:
        message = str(err)
        assert "\n" not in message and "\r" not in message, message
        return message


def stream_outcome(path: Path, **kwargs) -> tuple[list[str], list[int], tuple] | str:
    def read():
        stream = ReviewStream(Source.file(path), chunk_size=2, **kwargs)
        texts, labels = [], []
        for chunk_texts, chunk_labels in stream:
            texts += chunk_texts
            labels += chunk_labels.tolist()
        return texts, recode(labels, stream.label_codes).tolist(), stream.label_names

    return outcome(read)


# --------------------------------------------------------------------------- readers


NAMES = [
    "r.ft.txt", "r.txt.gz", "r.ft.txt.bz2", "r.csv", "r.csv.gz", "r.tsv", "r.jsonl",
    "r.jsonl.bz2", "r.parquet", "noext",
]  # fmt: skip


@FAST
@given(
    data=review_bytes(),
    name=st.sampled_from(NAMES),
    fmt=st.sampled_from([None, *DATA_FORMATS.names()]),
    on_error=st.sampled_from(["raise", "skip"]),
)
def test_any_bytes_any_reader(tmp_path: Path, data: bytes, name: str, fmt, on_error) -> None:
    path = tmp_path / name
    if name.endswith(".gz"):
        data = gzip.compress(data)
    elif name.endswith(".bz2"):
        data = bz2.compress(data)
    path.write_bytes(data)
    got = outcome(lambda: read_corpus(path, fmt=fmt, on_error=on_error))
    if isinstance(got, Corpus):
        check_corpus(got)
    # The chunked stream reads exactly what read_corpus reads, and fails the same way.
    streamed = stream_outcome(path, fmt=fmt, on_error=on_error)
    if isinstance(got, Corpus):
        assert streamed == (got.texts, got.labels.tolist(), got.label_names)
    else:
        assert streamed == got


@FAST
@given(data=st.binary(max_size=300), name=st.sampled_from(NAMES), cut=st.integers(0, 200))
def test_raw_and_truncated_compressed_bytes(tmp_path: Path, data: bytes, name: str, cut) -> None:
    """Random bytes, and compressed streams cut short (a half-finished download)."""
    path = tmp_path / name
    packed = gzip.compress(data) if name.endswith(".gz") else bz2.compress(data)
    path.write_bytes(data if cut % 3 == 0 else packed[: max(1, len(packed) - cut)])
    got = outcome(lambda: read_corpus(path, on_error="skip"))
    if isinstance(got, Corpus):
        check_corpus(got)


COLUMN_VALUES = {  # Arrow type -> values
    "string": (pa.string(), st.text(max_size=8)),
    "binary": (pa.binary(), st.binary(max_size=8)),  # may be invalid UTF-8
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "double": (pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    "bool": (pa.bool_(), st.booleans()),
}


@st.composite
def parquet_bytes(draw: st.DrawFn) -> bytes:
    n = draw(st.integers(0, 8))
    columns = {}
    for name in draw(st.lists(st.sampled_from(["text", "label", "title", "x"]), unique=True)):
        kind, values_of = COLUMN_VALUES[draw(st.sampled_from(sorted(COLUMN_VALUES)))]
        values = draw(st.lists(st.none() | values_of, min_size=n, max_size=n))
        if name == "label" and draw(st.booleans()):
            values = draw(st.lists(st.sampled_from([0, 1, 2, None]), min_size=n, max_size=n))
            kind = pa.int64()
        columns[name] = pa.array(values, type=kind)
    sink = io.BytesIO()
    pq.write_table(pa.table(columns) if columns else pa.table({"x": pa.array([1])}), sink)
    return sink.getvalue()


@FAST
@given(data=parquet_bytes(), on_error=st.sampled_from(["raise", "skip"]))
def test_parquet_with_any_column_types(tmp_path: Path, data: bytes, on_error) -> None:
    path = tmp_path / "r.parquet"
    path.write_bytes(data)
    got = outcome(lambda: read_corpus(path, on_error=on_error))
    if isinstance(got, Corpus):
        check_corpus(got)


# --------------------------------------------------------------------------- imports


def archive_bytes(kind: str, members: dict[str, bytes]) -> bytes:
    sink = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    else:
        with tarfile.open(fileobj=sink, mode="w:gz") as archive:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return sink.getvalue()


@examples(30)
@given(
    kind=st.sampled_from(["zip", "tgz"]),
    train=review_bytes(),
    test=st.none() | review_bytes(),
    member=st.sampled_from(["train.ft.txt.bz2", "train.ft.txt", "d/train.csv", "train.jsonl"]),
    cut=st.integers(0, 60),
)
def test_any_archive_imports_or_refuses(kind, train, test, member, cut) -> None:
    suffix = Path(member).suffix
    pack = bz2.compress if suffix == ".bz2" else (lambda b: b)
    members = {member: pack(train)}
    if test is not None:
        members[member.replace("train", "test")] = pack(test)
    data = archive_bytes(kind, members)
    if cut % 4 == 1:  # a truncated archive
        data = data[: max(1, len(data) - cut)]
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MODELCOLLAPSE_DATA"] = str(Path(tmp) / "home")
        path = Path(tmp) / f"in.{kind}"
        path.write_bytes(data)
        got = outcome(lambda: import_corpus(path, name="x"))
        if not isinstance(got, str):
            corpus = load_imported("x")
            check_corpus(corpus)
            assert corpus.fingerprint == got.fingerprint


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(tmp_path / "home"))


@examples(25)
@given(data=st.binary(max_size=200), suffix=st.sampled_from([".zip", ".tgz", ".parquet", ".txt"]))
def test_any_bytes_as_any_import(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"in{suffix}"
        path.write_bytes(data)
        outcome(lambda: import_corpus(path, name="y", overwrite=True))


# --------------------------------------------------------------------------- config


TOML_PIECES = [
    'name = "x"', 'data = "demo"', "scale = ", "seed = -1", "[[study]]", "[study]", "study = 3",
    'name = "s"', 'kind = "rates"', 'kind = "total-collapse"', "repeats = 1", "max_size = ",
    "initial_size = ", "increment = ", 'spacing = "geometric"', "ratio = ", "n_sizes = ",
    "rates = [0.0, 1.0]", 'test_size = "rest"', "test_size = ", 'include = ["demo"]',
    "include = 3", "nan", "inf", "-inf", "0", "1", "1e308", "9223372036854775807", "0.5",
    "[", "]", "{", "}", '"', "=", "\ufeff", "[[[[", "[loop]", "extra = 1",
]  # fmt: skip


@st.composite
def toml_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=200))
    lines = draw(
        st.lists(
            st.lists(st.sampled_from(TOML_PIECES) | st.text(max_size=6), min_size=1, max_size=3),
            max_size=14,
        )
    )
    return "\n".join("".join(parts) for parts in lines).encode("utf-8", "surrogatepass")


@examples(150)
@given(data=toml_bytes())
def test_any_toml_file(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "c.toml"
    path.write_bytes(data)
    got = outcome(lambda: load_config(str(path)))
    if not isinstance(got, str):
        outcome(lambda: build_plan(got, 5000))  # sizes and plans: no overflow, no huge lists


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
VALID_STUDY = {
    "name": "s", "kind": "rates", "repeats": 1, "initial_size": 10, "increment": 10,
    "max_size": 50, "rates": [0.0, 1.0], "test_size": 0.2,
}  # fmt: skip


@examples(150)
@given(
    raw=JSONISH,
    key=st.sampled_from([*VALID_STUDY, "ratio", "n_sizes", "spacing", "scale", "seed", "x"]),
    value=JSONISH,
)
def test_any_config_data(raw, key, value) -> None:
    outcome(lambda: validate_config(raw, "w"))
    # One field of a valid config replaced: reaches every validator.
    study = {**VALID_STUDY}
    top: dict = {"study": [study]}
    (top if key in ("scale", "seed") else study)[key] = value
    got = outcome(lambda: validate_config(top, "w"))
    if not isinstance(got, str):
        outcome(lambda: build_plan(got, 5000))


# --------------------------------------------------------------------------- targeted


FT = b"__label__2 Great: works\n__label__1 Bad: broke\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("r.ft.txt", FT + b"__label__2 caf\xe9\n", "r.ft.txt:3: not valid UTF-8 (byte 0xe9"),
        ("r.csv", b"text,label\na,1\nb,0\ncaf\xe9,1\n", "r.csv:4: not valid UTF-8"),
        ("r.jsonl", b'{"text":"a","label":1}\n{"text":"\xff","label":0}\n', "r.jsonl:2: not valid"),
        ("r.jsonl", b'{"text":"a","label":1}\n{"text":"\\udc80","label":0}\n', "lone surrogate"),
        ("r.ft.txt", FT + b"__label__ three stars\n", "r.ft.txt:3: missing label"),
        ("r.csv", b"text,label\na,1\nb,0\nc, \n", "r.csv:4: missing label"),
        ("r.csv", b"text,label\na,1\nb\n", "r.csv:3: expected 2 fields as in the header, found 1"),
        ("r.jsonl", b'{"text":"a","label":1}\n{"label":0}\n', "r.jsonl:2: missing key 'text'"),
        ("r.csv", b"id,label\na,1\n", "cannot tell the text column (found: 'id', 'label')"),
        ("r.ft.txt", b"__label__2 a\n__label__2 b\n", "all 2 reviews have label '__label__2'"),
        ("r.csv", b"text,label\na,1\nb,1\n", "all 2 reviews have label '1'"),
    ],
)
def test_targeted_bad_input(tmp_path: Path, name: str, data: bytes, fragment: str) -> None:
    path = write(tmp_path, name, data)
    message = outcome(lambda: read_corpus(path))
    assert isinstance(message, str) and fragment in message


@pytest.mark.parametrize("name", ["r.ft.txt", "r.ft.txt.gz", "r.csv", "r.jsonl", "r.parquet"])
def test_empty_files(tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, gzip.compress(b"") if name.endswith(".gz") else b"")
    message = outcome(lambda: read_corpus(path))
    assert isinstance(message, str) and str(path) in message


def test_lone_surrogates_are_skipped_and_the_rest_is_storable(tmp_path: Path) -> None:
    lines = [b'{"text":"ok %d","label":%d}' % (i, i % 2) for i in range(6)]
    lines.insert(3, b'{"text":"bad \\ud800 escape","label":1}')
    path = write(tmp_path, "r.jsonl", b"\n".join(lines))
    corpus = read_corpus(path, on_error="skip")
    assert corpus.meta["skipped"] == {"invalid_utf8": 1}
    check_corpus(corpus)
    # Accented escapes are fine: only lone surrogates have no UTF-8.
    path = write(tmp_path, "s.jsonl", b'{"text":"caf\\u00e9","label":1}\n{"text":"x","label":0}\n')
    assert read_corpus(path).texts[0] == "café"


@pytest.mark.parametrize("name", ["r.ft.txt", "r.csv", "r.jsonl"])
def test_bom_and_mixed_line_endings_read_like_plain_lf(tmp_path: Path, name: str) -> None:
    body = {
        "r.ft.txt": FT.decode(),
        "r.csv": "text,label\nGreat: works,1\nBad: broke,0\n",
        "r.jsonl": '{"text":"Great: works","label":1}\n{"text":"Bad: broke","label":0}\n',
    }[name]
    plain = read_corpus(write(tmp_path, name, body.encode()))
    lines = body.split("\n")
    mixed = "\ufeff" + lines[0] + "\r\n" + "\n".join(lines[1:])
    odd = read_corpus(write(tmp_path, "m" + name, mixed.encode()))
    assert (odd.texts, odd.labels.tolist()) == (plain.texts, plain.labels.tolist())


def test_old_mac_line_endings_do_not_crash(tmp_path: Path) -> None:
    path = write(tmp_path, "r.ft.txt", FT.replace(b"\n", b"\r"))
    outcome(lambda: read_corpus(path))  # one long line: refused, never a traceback


@pytest.mark.parametrize("name", ["r.ft.txt", "r.jsonl", "r.csv"])
def test_one_megabyte_review(tmp_path: Path, name: str) -> None:
    long = "word " * 200_000
    body = {
        "r.ft.txt": f"__label__2 {long}\n__label__1 short\n",
        "r.jsonl": f'{{"text":"{long}","label":1}}\n{{"text":"short","label":0}}\n',
        "r.csv": f"text,label\n{long},1\nshort,0\n",
    }[name]
    got = outcome(lambda: read_corpus(write(tmp_path, name, body.encode())))
    if name == "r.csv":  # Python's csv caps a field at 128 KiB: refused with its line number
        assert isinstance(got, str) and ":2: malformed CSV (field larger than field limit" in got
    else:
        assert isinstance(got, Corpus) and len(got.texts[0]) == len(long.rstrip("\r\n"))


def test_duplicates_are_kept_and_counted_alike(tmp_path: Path) -> None:
    path = write(tmp_path, "r.ft.txt", FT * 3 + b"__label__1 Great: works\n")
    corpus = read_corpus(path)
    assert len(corpus) == 7
    assert (corpus.meta["duplicates"], corpus.meta["conflicting_duplicates"]) == (5, 1)
    stream = ReviewStream(Source.file(path), chunk_size=2)
    list(stream)
    assert (stream.meta["duplicates"], stream.meta["conflicting_duplicates"]) == (5, 1)


def test_corrupt_gzip_is_a_user_error(tmp_path: Path) -> None:
    packed = gzip.compress(FT * 200)
    damaged = packed[:20] + bytes(reversed(packed[20:60])) + packed[60:]
    message = outcome(lambda: read_corpus(write(tmp_path, "r.ft.txt.gz", damaged)))
    assert isinstance(message, str) and "cannot read" in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"study = 3\n", "[study] expected [[study]] tables"),
        (b"a = " + b"[" * 5000 + b"]" * 5000, "nested too deeply"),
        (b"\xff\xfe name", "cannot read"),
        (b"scale = inf\n[[study]]\nname='s'\nkind='rates'\nrepeats=1\nmax_size=9\n"
         b"initial_size=1\nincrement=1\n", "[scale] Input should be a finite number"),
        (b"scale = 1e305\n[[study]]\nname='s'\nkind='rates'\nrepeats=1\nmax_size=9\n"
         b"initial_size=1\nincrement=1\n", "[scale] Input should be less than or equal to"),
        (b"[[study]]\nname='s'\nkind='rates'\nrepeats=1\nmax_size=100000000000\n"
         b"initial_size=1\nincrement=1\n", "more than 100,000 training sizes"),
        (b'"a\\nb" = 1\n[[study]]\nname="s"\nkind="rates"\nrepeats=1\nmax_size=9\n'
         b"initial_size=1\nincrement=1\n", "['a\\nb'] Extra inputs"),
    ],
)  # fmt: skip
def test_config_crashes_found_and_fixed(tmp_path: Path, text: bytes, fragment: str) -> None:
    message = outcome(lambda: load_config(str(write(tmp_path, "c.toml", text))))
    assert isinstance(message, str) and fragment in message, message


def test_config_with_a_bom_loads(tmp_path: Path) -> None:
    text = "\ufeffname = 'x'\n[[study]]\nname='s'\nkind='rates'\nrepeats=1\nmax_size=9\n"
    text += "initial_size=1\nincrement=1\n"
    assert load_config(str(write(tmp_path, "c.toml", text.encode()))).name == "x"
