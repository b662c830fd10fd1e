"""Readers: every format, label spelling and bad input, with exact error locations."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelcollapse.data.corpus import Corpus
from modelcollapse.data.info import DataInfo, data_info
from modelcollapse.data.readers import DATA_FORMATS, DataFormat, read_corpus, text_lines
from modelcollapse.errors import UserError

FT = (
    "__label__2 Great: works as advertised\n"
    "__label__1 Broken: stopped after a day\n"
    "__label__2 Love it: would buy again\n"
)
FT_TEXTS = [
    "Great: works as advertised",
    "Broken: stopped after a day",
    "Love it: would buy again",
]
FT_LABELS = [1, 0, 1]


def write(path: Path, content: str | bytes) -> Path:
    """Write ``content``, compressing by suffix, so tests read what users would have."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if path.name.endswith(".bz2"):
        data = bz2.compress(data)
    elif path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def error(path: Path, **kwargs: object) -> str:
    """The UserError message read_corpus raises; asserts it is one line."""
    with pytest.raises(UserError) as info:
        read_corpus(path, **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message and "\r" not in message
    return message


def n_lines(n_pos: int, n_neg: int) -> str:
    pos = [f"__label__2 Good {i}: fine\n" for i in range(n_pos)]
    neg = [f"__label__1 Bad {i}: awful\n" for i in range(n_neg)]
    return "".join(pos + neg)


# --------------------------------------------------------------------------- fastText


@pytest.mark.parametrize(
    "name", ["r.ft.txt", "r.txt", "r.ft", "r.ft.txt.bz2", "r.ft.txt.gz", "r.txt.bz2", "r.ft.gz"]
)
def test_fasttext_every_suffix_and_compression(tmp_path: Path, name: str) -> None:
    path = write(tmp_path / name, FT)
    corpus = read_corpus(path)
    assert corpus.texts == FT_TEXTS
    assert corpus.labels.dtype == np.int8
    assert corpus.labels.tolist() == FT_LABELS
    assert corpus.label_names == ("__label__1", "__label__2")
    assert corpus.source == str(path)
    assert corpus.meta["format"] == "fasttext"
    assert corpus.meta["path"] == str(path)
    assert corpus.meta["skipped"] == {}
    assert corpus.meta["first_bad_lines"] == []
    assert corpus.meta["duplicates"] == 0
    expected = {".bz2": "bz2", ".gz": "gzip"}.get(Path(name).suffix)
    assert corpus.meta["compression"] == expected


def test_compression_found_by_magic_bytes(tmp_path: Path) -> None:
    gz = tmp_path / "renamed.ft.txt"
    gz.write_bytes(gzip.compress(FT.encode()))
    bz = tmp_path / "other.txt"
    bz.write_bytes(bz2.compress(FT.encode()))
    assert read_corpus(gz).texts == FT_TEXTS
    assert read_corpus(bz).meta["compression"] == "bz2"


def test_crlf_and_bom_read_like_plain_lines(tmp_path: Path) -> None:
    plain = read_corpus(write(tmp_path / "lf.ft.txt", FT))
    for name in ("crlf.ft.txt", "crlf.ft.txt.bz2"):
        crlf = read_corpus(write(tmp_path / name, "\ufeff" + FT.replace("\n", "\r\n")))
        assert crlf.texts == FT_TEXTS
        assert crlf.fingerprint == plain.fingerprint


def test_bom_before_a_bad_first_line_still_reports_line_1(tmp_path: Path) -> None:
    path = write(tmp_path / "r.ft.txt", "\ufeffoops\n" + FT)
    assert error(path).startswith(f"{path}:1: malformed line 'oops'")


def test_fasttext_keeps_title_and_text_verbatim(tmp_path: Path) -> None:
    line = "__label__1  Spaces: kept  as is \t\n__label__2 x\n"
    corpus = read_corpus(write(tmp_path / "r.ft.txt", line))
    assert corpus.texts == [" Spaces: kept  as is \t", "x"]


def test_tab_separator_leading_space_and_blank_lines(tmp_path: Path) -> None:
    content = "\n__label__2\tTabbed: ok\n   \n  __label__1 Indented: ok\n\n"
    corpus = read_corpus(write(tmp_path / "r.ft.txt", content))
    assert corpus.texts == ["Tabbed: ok", "Indented: ok"]
    assert corpus.labels.tolist() == [1, 0]
    assert corpus.meta["blank_lines"] == 3


def test_last_line_without_newline(tmp_path: Path) -> None:
    corpus = read_corpus(write(tmp_path / "r.ft.txt", FT.rstrip("\n")))
    assert corpus.texts == FT_TEXTS


def test_duplicates_are_kept_and_counted(tmp_path: Path) -> None:
    content = (
        FT + "__label__2 Great: works as advertised\n" + "__label__1 Love it: would buy again\n"
    )
    corpus = read_corpus(write(tmp_path / "r.ft.txt", content))
    assert len(corpus) == 5
    assert corpus.meta["duplicates"] == 2
    assert corpus.meta["conflicting_duplicates"] == 1


def test_a_third_fasttext_label_is_a_third_class(tmp_path: Path) -> None:
    lines = n_lines(6, 5) + "__label__3 Meh: it is ok\n"
    path = write(tmp_path / "reviews.txt", lines)
    corpus = read_corpus(path)
    assert corpus.label_names == ("__label__1", "__label__2", "__label__3")
    assert corpus.class_counts().tolist() == [5, 6, 1] and corpus.labels[-1] == 2
    assert corpus.positive_class is None


def test_label_outside_given_labels_names_file_and_line(tmp_path: Path) -> None:
    lines = n_lines(6, 5) + "__label__3 Meh: it is ok\n"
    path = write(tmp_path / "reviews.txt", lines)
    expected = f"{path}:12: label '__label__3' is not one of --labels __label__1,__label__2"
    for on_error in ("raise", "skip"):  # refused, never skipped: the user named the classes
        assert error(path, labels="__label__1,__label__2", on_error=on_error) == expected


def test_malformed_line(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.txt", FT + "label 2 no prefix\n")
    assert error(path) == (
        f"{path}:4: malformed line 'label 2 no prefix' "
        "(expected a label such as '__label__1 ' then the review)"
    )


def test_malformed_line_is_shortened_in_the_message(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.txt", "x" * 500 + "\n" + FT)
    message = error(path)
    assert message.startswith(f"{path}:1: malformed line 'xxxx")
    assert len(message) < len(str(path)) + 200


@pytest.mark.parametrize("line", ["__label__1 ", "__label__1", "__label__1    ", "__label__1 \r"])
def test_empty_text(tmp_path: Path, line: str) -> None:
    path = write(tmp_path / "reviews.txt", FT + line + "\n")
    assert error(path) == f"{path}:4: empty review after '__label__1'"


def test_invalid_utf8(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.txt", FT.encode() + b"__label__2 Caf\xe9: bad byte\n")
    assert error(path) == f"{path}:4: not valid UTF-8 (byte 0xe9 at byte 15 of the line)"


def test_invalid_utf8_in_compressed_file(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.txt.gz", b"\xff\xfe\n" + FT.encode())
    assert error(path).startswith(f"{path}:1: not valid UTF-8 (byte 0xff")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "reviews.txt"
    assert error(path) == f"{path}: no such file"
    assert error(path, on_error="skip") == f"{path}: no such file"


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in error(tmp_path)


@pytest.mark.parametrize("content", ["", "\n\n  \n", "\ufeff"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    path = write(tmp_path / "reviews.txt", content)
    assert error(path) == f"{path}: no reviews found"
    assert error(path, on_error="skip") == f"{path}: no reviews found"


def test_empty_compressed_file(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.txt.bz2", "")
    assert error(path) == f"{path}: no reviews found"


def test_one_class_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.txt", n_lines(120, 0))
    assert error(path) == (
        f"{path}: all 120 reviews have label '__label__2'; need at least 2 classes"
    )
    path = write(tmp_path / "neg.txt", n_lines(0, 1))
    assert error(path, on_error="skip") == (
        f"{path}: the only review has label '__label__1'; need at least 2 classes"
    )


def test_one_class_after_skipping_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.txt", n_lines(3, 0) + "__label__1 \n")
    assert error(path, on_error="skip") == (
        f"{path}: all 3 reviews have label '__label__2'; need at least 2 classes"
    )


def test_corrupt_compressed_data(tmp_path: Path) -> None:
    data = bz2.compress((FT * 2000).encode())
    path = tmp_path / "reviews.ft.txt.bz2"
    path.write_bytes(data[: len(data) // 2])
    message = error(path)
    assert message.startswith(f"{path}: cannot read")
    path.write_bytes(b"BZh9 this is not bz2")
    assert error(path).startswith(f"{path}: cannot read")


def test_skip_mode_counts_each_reason(tmp_path: Path) -> None:
    content = (
        b"__label__2 Good: one\n"  # 1
        b"garbage\n"  # 2 malformed
        b"__label__ Meh: three stars\n"  # 3 missing label
        b"__label__1 \n"  # 4 empty text
        b"__label__1 Bad: \xff\n"  # 5 invalid utf-8
        b"__label__1 Bad: two\n"  # 6
        b"__label__\tZero\n"  # 7 missing label
        b"\n"  # 8 blank: not an error
        b"__label__2 Good: three\n"  # 9
    )
    corpus = read_corpus(write(tmp_path / "r.ft.txt", content), on_error="skip")
    assert corpus.texts == ["Good: one", "Bad: two", "Good: three"]
    assert corpus.labels.tolist() == [1, 0, 1]
    assert corpus.meta["skipped"] == {
        "malformed": 1,
        "unknown_label": 2,
        "empty_text": 1,
        "invalid_utf8": 1,
    }
    assert corpus.meta["first_bad_lines"] == [2, 3, 4, 5, 7]
    assert corpus.meta["blank_lines"] == 1


def test_skip_mode_with_nothing_left(tmp_path: Path) -> None:
    path = write(tmp_path / "r.ft.txt", "nope\n__label__ x\n")
    assert error(path, on_error="skip") == (
        f"{path}: no reviews found (skipped all 2 bad: malformed 1, unknown_label 1;"
        " first bad lines 1, 2)"
    )


def test_bad_on_error_value(tmp_path: Path) -> None:
    path = write(tmp_path / "r.ft.txt", FT)
    assert "on_error" in error(path, on_error="ignore")


# --------------------------------------------------------------------------- format choice


def test_unknown_suffix_with_fasttext_content_is_read(tmp_path: Path) -> None:
    corpus = read_corpus(write(tmp_path / "train.data", FT))
    assert corpus.meta["format"] == "fasttext"


def test_unknown_suffix_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.dat", "a,b\n1,2\n")
    assert error(path).startswith(f"{path}: cannot tell the format from the name")


def test_fmt_overrides_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "reviews.dat", "text,label\ngood,pos\nbad,neg\n")
    corpus = read_corpus(path, fmt="csv")
    assert corpus.labels.tolist() == [1, 0]
    assert read_corpus(write(tmp_path / "x.csv", FT), fmt="fasttext").texts == FT_TEXTS
    assert read_corpus(write(tmp_path / "x.bin", FT), fmt="FT").meta["format"] == "fasttext"


def test_unknown_fmt(tmp_path: Path) -> None:
    path = write(tmp_path / "r.ft.txt", FT)
    assert error(path, fmt="xml") == (
        "--format: unknown data format 'xml' (expected one of: fasttext, amazon-csv, csv, tsv,"
        " parquet, jsonl)"
    )


def test_a_sniffed_format_wins_a_shared_suffix_when_its_sniff_accepts(tmp_path: Path) -> None:
    """How formats sharing a suffix are told apart, with a registered rival of CSV."""

    def read_semicolons(source, compression, rows, columns):
        for number, line in text_lines(source, compression, rows):
            label, text = line.split(";", 1)
            rows.add(number, text, label)
        yield

    rival = DataFormat(
        read_semicolons, (".csv",), "label;text", sniff=lambda head: b";" in head.split(b"\n")[0]
    )
    DATA_FORMATS.register("semicolons", rival)
    try:
        ours = read_corpus(write(tmp_path / "a.csv", "pos;good\nneg;bad\n"))
        assert ours.meta["format"] == "semicolons" and ours.labels.tolist() == [1, 0]
        theirs = read_corpus(write(tmp_path / "b.csv.gz", "text,label\ngood,pos\nbad,neg\n"))
        assert theirs.meta["format"] == "csv"  # sniff refused: the format without a sniff
        amazon = read_corpus(write(tmp_path / "c.csv", '"2","Good","fine"\n"1","Bad","no"\n'))
        assert amazon.meta["format"] == "amazon-csv"  # the earlier accepting sniff
        with pytest.raises(UserError, match="cannot tell the format"):
            read_corpus(write(tmp_path / "d.dat", "pos;good\nneg;bad\n"))  # not sniff_any_name
    finally:
        DATA_FORMATS.unregister("semicolons")
    with pytest.raises(UserError, match=r"cannot tell the text and label columns \(found: 'pos;g"):
        read_corpus(tmp_path / "a.csv")  # unregistered: CSV with a header again


# --------------------------------------------------------------------------- original CSV

AMAZON = (
    '"2","Great","works as advertised"\n'
    '"1","Broken","stopped, after a day"\n'
    '"2","Love it","multi\nline ""quoted"" text"\n'
    '"1","","no title"\n'
)


@pytest.mark.parametrize("name", ["train.csv", "train.csv.gz", "train.csv.bz2"])
def test_amazon_csv_is_sniffed(tmp_path: Path, name: str) -> None:
    corpus = read_corpus(write(tmp_path / name, AMAZON))
    assert corpus.meta["format"] == "amazon-csv"
    assert corpus.label_names == ("1", "2")
    assert corpus.labels.tolist() == [1, 0, 1, 0]
    assert corpus.texts == [
        "Great: works as advertised",
        "Broken: stopped, after a day",
        'Love it: multi\nline "quoted" text',
        ": no title",
    ]


def test_amazon_csv_matches_fasttext_fingerprint(tmp_path: Path) -> None:
    csv_text = '"2","Great","works as advertised"\n"1","Broken","stopped after a day"\n'
    ft_text = "__label__2 Great: works as advertised\n__label__1 Broken: stopped after a day\n"
    a = read_corpus(write(tmp_path / "a.csv", csv_text))
    b = read_corpus(write(tmp_path / "b.ft.txt", ft_text))
    assert a.fingerprint == b.fingerprint


def test_amazon_csv_by_fmt_and_crlf_bom(tmp_path: Path) -> None:
    path = write(tmp_path / "x.data", "\ufeff" + AMAZON.replace("\n", "\r\n"))
    corpus = read_corpus(path, fmt="amazon-csv")
    assert corpus.labels.tolist() == [1, 0, 1, 0]
    assert corpus.texts[2] == 'Love it: multi\r\nline "quoted" text'


def test_amazon_csv_errors_point_at_the_record_start(tmp_path: Path) -> None:
    path = write(tmp_path / "train.csv", AMAZON + '" ","Meh","ok"\n')
    # AMAZON spans 5 lines (one record has an embedded newline), so the bad record is line 6.
    assert error(path) == f"{path}:6: missing label"
    path = write(tmp_path / "train2.csv", AMAZON + '"1","two fields"\n')
    assert error(path) == f"{path}:6: expected 3 fields (polarity,title,text), found 2"
    path = write(tmp_path / "train3.csv", AMAZON + '"1","",""\n')
    assert error(path) == f"{path}:6: empty review (title and text are both empty)"
    path = write(tmp_path / "train4.csv", AMAZON.encode() + b'"1","t","\xc3("\n')
    assert error(path).startswith(f"{path}:6: not valid UTF-8 (byte 0xc3")


def test_amazon_csv_skip_mode(tmp_path: Path) -> None:
    content = AMAZON + '"","Meh","ok"\n"2","x"\n"1","Bad","end"\n'
    corpus = read_corpus(write(tmp_path / "train.csv", content), on_error="skip")
    assert len(corpus) == 5
    assert corpus.meta["skipped"] == {"unknown_label": 1, "malformed": 1}
    assert corpus.meta["first_bad_lines"] == [6, 7]


def test_csv_with_header_is_not_amazon(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "polarity,title,text\n1,a,b\n2,c,d\n")
    assert error(path, label_column="label") == (
        f"{path}: missing column 'label' (found: 'polarity', 'title', 'text')"
    )
    corpus = read_corpus(path)  # the label column guessed: polarity
    assert corpus.meta["columns"]["label"] == "polarity"
    assert corpus.meta["format"] == "csv"
    assert corpus.labels.tolist() == [0, 1]
    assert corpus.texts == ["a: b", "c: d"]


# --------------------------------------------------------------------------- generic tables


def write_table(path: Path, rows: list[dict[str, object]]) -> Path:
    """Write rows as the format the suffix asks for (pandas for CSV/TSV/Parquet)."""
    import pandas as pd

    name = path.name.removesuffix(".gz").removesuffix(".bz2")
    if name.endswith((".jsonl", ".json")):
        return write(path, "".join(json.dumps(r) + "\n" for r in rows))
    frame = pd.DataFrame(rows)
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
        return path
    sep = "\t" if name.endswith(".tsv") else ","
    return write(path, frame.to_csv(sep=sep, index=False))


TABLE_SUFFIXES = [".csv", ".tsv", ".jsonl", ".json", ".parquet", ".csv.gz", ".tsv.bz2", ".jsonl.gz"]


@pytest.mark.parametrize("suffix", TABLE_SUFFIXES)
def test_table_formats(tmp_path: Path, suffix: str) -> None:
    rows = [
        {"text": "works, fine", "label": "positive", "title": "Great"},
        {"text": 'says "broken"', "label": "negative", "title": ""},
        {"text": "multi\nline", "label": "positive", "title": "Tab\there"},
    ]
    corpus = read_corpus(write_table(tmp_path / f"r{suffix}", rows))
    plain = suffix.removesuffix(".gz").removesuffix(".bz2")
    expected_fmt = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet"}.get(plain, "jsonl")
    assert corpus.meta["format"] == expected_fmt
    assert corpus.meta["columns"] == {"text": "text", "label": "label", "title": "title"}
    assert corpus.texts == ["Great: works, fine", 'says "broken"', "Tab\there: multi\nline"]
    assert corpus.labels.tolist() == [1, 0, 1]
    assert corpus.label_names == ("negative", "positive")


@pytest.mark.parametrize(
    ("values", "labels", "names"),
    [
        ([0, 1, 1, 0], [0, 1, 1, 0], ("0", "1")),
        ([1, 1, 0, 0], [1, 1, 0, 0], ("0", "1")),  # 1s before the first 0 resolve late
        ([1, 2, 2, 1], [0, 1, 1, 0], ("1", "2")),
        ([1, 1, 2, 1], [0, 0, 1, 0], ("1", "2")),
        (["negative", "positive", "Positive", "NEGATIVE"], [0, 1, 1, 0], ("negative", "positive")),
        (["neg", "pos", "pos", "neg"], [0, 1, 1, 0], ("neg", "pos")),
        (
            ["__label__1", "__label__2", "__label__2", "__label__1"],
            [0, 1, 1, 0],
            ("__label__1", "__label__2"),
        ),
        ([False, True, True, False], [0, 1, 1, 0], ("False", "True")),
        (["false", "true", "TRUE", "false"], [0, 1, 1, 0], ("false", "true")),
        ([" 2 ", "1", "2.0", "1.0"], [1, 0, 1, 0], ("1", "2")),
    ],
)
@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".csv"])
def test_label_spellings(
    tmp_path: Path, suffix: str, values: list[object], labels: list[int], names: tuple[str, str]
) -> None:
    if suffix == ".parquet" and len({type(v) for v in values}) > 1:
        pytest.skip("parquet columns have one type")
    rows = [{"text": f"review {i}", "label": v} for i, v in enumerate(values)]
    corpus = read_corpus(write_table(tmp_path / f"r{suffix}", rows))
    assert corpus.labels.tolist() == labels
    expected = names
    if suffix == ".csv" and isinstance(values[0], bool):
        expected = ("False", "True")  # pandas writes bools as False/True
    assert corpus.label_names == expected


def test_float_labels_in_parquet(tmp_path: Path) -> None:
    rows = [{"text": "a", "label": 1.0}, {"text": "b", "label": 2.0}]
    corpus = read_corpus(write_table(tmp_path / "r.parquet", rows))
    assert corpus.labels.tolist() == [0, 1]


def test_numbers_are_classes_in_numeric_order(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "text,label\na,10\nb,2\nc,2.0\nd,-1\ne,1\n")
    corpus = read_corpus(path)
    assert corpus.label_names == ("-1", "1", "2", "10")
    assert corpus.labels.tolist() == [3, 2, 2, 0, 1]
    assert corpus.meta["class_order"] == "numeric"


def test_label_families_cannot_mix(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "text,label\na,pos\nb,negative\n")
    assert error(path) == f"{path}:3: unknown label 'negative' (expected neg or pos, as on line 2)"


def test_missing_label_in_table(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "text,label\na,meh\nb,\n")
    assert error(path) == f"{path}:3: missing label"
    path = write(tmp_path / "r2.jsonl", '{"text": "a", "label": null}\n')
    assert error(path) == f"{path}:1: missing label"


def test_all_ones_is_one_class(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "text,label\na,1\nb,1\n")
    assert error(path) == f"{path}: all 2 reviews have label '1'; need at least 2 classes"


def test_one_class_in_table(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "text,label\na,neg\nb,neg\nc,neg\n")
    assert error(path) == f"{path}: all 3 reviews have label 'neg'; need at least 2 classes"


def test_custom_columns_and_title_options(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "review,stars,title,headline\ngood,pos,T1,H1\nbad,neg,T2,H2\n")
    corpus = read_corpus(path, text_column="review", label_column="stars")
    assert corpus.texts == ["T1: good", "T2: bad"]
    corpus = read_corpus(path, text_column="review", label_column="stars", title_column=None)
    assert corpus.texts == ["good", "bad"]
    corpus = read_corpus(path, text_column="review", label_column="stars", title_column="headline")
    assert corpus.texts == ["H1: good", "H2: bad"]


def test_title_only_row_is_kept_and_empty_row_is_not(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "title,text,label\nT,,pos\n,x,neg\n , ,pos\n")
    assert error(path) == f"{path}:4: empty review text"
    corpus = read_corpus(path, on_error="skip")
    assert corpus.texts == ["T: ", "x"]
    assert corpus.meta["skipped"] == {"empty_text": 1}


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_columns_are_guessed_or_the_error_names_the_columns_found(
    tmp_path: Path, suffix: str
) -> None:
    rows = [
        {"id": 1, "Review": "a", "sentiment": "pos"},
        {"id": 2, "Review": "b", "sentiment": "neg"},
    ]
    path = write_table(tmp_path / f"r{suffix}", rows)
    corpus = read_corpus(path)
    assert corpus.meta["columns"] == {"text": "Review", "label": "sentiment", "title": None}
    assert corpus.labels.tolist() == [1, 0]
    assert error(path, text_column="body", label_column="y") == (
        f"{path}: missing columns 'body', 'y' (found: 'id', 'Review', 'sentiment')"
    )
    rows = [{"v1": "ham", "v2": "a"}, {"v1": "spam", "v2": "b"}]
    path = write_table(tmp_path / f"s{suffix}", rows)
    assert error(path, on_error="skip") == (
        f"{path}: cannot tell the text and label columns (found: 'v1', 'v2'); name them with "
        "--text-column and --label-column"
    )
    assert error(path, label_column="v1") == (
        f"{path}: cannot tell the text column (found: 'v1', 'v2'); name it with --text-column"
    )
    corpus = read_corpus(path, text_column="v2", label_column="v1")
    assert corpus.label_names == ("ham", "spam") and corpus.labels.tolist() == [0, 1]


def test_csv_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", 'text,label\n"two\nlines",pos\nextra,neg,field\n')
    assert error(path) == f"{path}:4: expected 2 fields as in the header, found 3"
    path = write(tmp_path / "r2.csv", b"text,label\nok,pos\ncaf\xe9,neg\n")
    assert error(path) == f"{path}:3: not valid UTF-8 (byte 0xe9 at byte 4 of the line)"
    path = write(tmp_path / "r3.csv", b"text,label\n\xff\xfe,pos\n")
    assert error(path).startswith(f"{path}:2: not valid UTF-8")


def test_csv_header_problems(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "text,label\n")
    assert error(path) == f"{path}: no reviews found"
    path = write(tmp_path / "r2.csv", b"te\xffxt,label\na,pos\n")
    assert error(path).startswith(f"{path}:1: header is not valid UTF-8")


def test_csv_bom_crlf_and_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "\ufefftext,label\r\na,pos\r\n\r\nb,neg\r\n")
    corpus = read_corpus(path)
    assert corpus.texts == ["a", "b"]
    assert corpus.meta["blank_lines"] == 1


def test_csv_skip_mode(tmp_path: Path) -> None:
    content = "text,label\na,pos\nb, \n,neg\nc,d,e\nf,neg\n"
    corpus = read_corpus(write(tmp_path / "r.csv", content), on_error="skip")
    assert corpus.texts == ["a", "f"]
    assert corpus.meta["skipped"] == {"unknown_label": 1, "empty_text": 1, "malformed": 1}
    assert corpus.meta["first_bad_lines"] == [3, 4, 5]


def test_jsonl_errors_name_the_line(tmp_path: Path) -> None:
    ok = '{"text": "a", "label": "pos"}\n{"text": "b", "label": "neg"}\n'
    path = write(tmp_path / "r.jsonl", ok + "{not json\n")
    assert error(path).startswith(f"{path}:3: not valid JSON (")
    path = write(tmp_path / "r2.jsonl", ok + "[1, 2]\n")
    assert error(path) == f"{path}:3: expected a JSON object, found list"
    path = write(tmp_path / "r3.jsonl", ok + '{"label": "pos"}\n')
    assert error(path) == f"{path}:3: missing key 'text'"
    path = write(tmp_path / "r4.json", '[{"text": "a", "label": "pos"}]\n')
    assert error(path) == (f"{path}: expected JSON lines (one object per line), found a JSON array")
    path = write(tmp_path / "r5.jsonl", ok.encode() + b'{"text": "\xff", "label": "pos"}\n')
    assert error(path).startswith(f"{path}:3: not valid UTF-8")


def test_jsonl_skip_mode_and_non_string_text(tmp_path: Path) -> None:
    content = '{"text": 42, "label": 1}\n\nnot json\n{"text": "b", "label": 0}\n[]\n'
    corpus = read_corpus(write(tmp_path / "r.jsonl", content), on_error="skip")
    assert corpus.texts == ["42", "b"]
    assert corpus.labels.tolist() == [1, 0]
    assert corpus.meta["skipped"] == {"malformed": 2}
    assert corpus.meta["first_bad_lines"] == [3, 5]


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    rows = [{"text": "a", "label": "pos"}, {"text": "b", "label": "neg"}]
    rows += [{"text": "c", "label": None}, {"text": None, "label": "pos"}]
    path = write_table(tmp_path / "r.parquet", rows)
    assert error(path) == f"{path}:row 3: missing label"
    corpus = read_corpus(path, on_error="skip")
    assert corpus.meta["skipped"] == {"unknown_label": 1, "empty_text": 1}
    assert corpus.meta["first_bad_lines"] == [3, 4]


def test_parquet_binary_text(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {"text": pa.array([b"ok", b"\xff", b"fine"]), "label": pa.array([True, False, False])}
    )
    path = tmp_path / "r.parquet"
    pq.write_table(table, path)
    assert error(path).startswith(f"{path}:row 2: not valid UTF-8 (byte 0xff")
    corpus = read_corpus(path, on_error="skip")
    assert corpus.texts == ["ok", "fine"]
    assert corpus.label_names == ("False", "True")


def test_not_a_parquet_file(tmp_path: Path) -> None:
    path = write(tmp_path / "r.parquet", "text,label\n")
    assert error(path).startswith(f"{path}: not a Parquet file (")


def test_compressed_parquet_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "r.parquet.gz", b"whatever")
    assert error(path) == (
        f"{path}: Parquet is compressed internally; gzip around it is not supported"
    )


# --------------------------------------------------------------------------- info


def test_data_info(tmp_path: Path) -> None:
    content = (
        "__label__2 a b c\n"  # 5 chars, 3 words
        "__label__1 dd ee\n"  # 5 chars, 2 words
        "__label__2 a b c\n"  # duplicate
        "__label__ skipped\n"
        "__label__2 ffffffffff\n"  # 10 chars, 1 word
    )
    path = write(tmp_path / "r.ft.txt", content)
    info = data_info(path)
    assert isinstance(info, DataInfo)
    assert (info.rows, info.n_negative, info.n_positive) == (4, 1, 3)
    assert info.positive_share == 0.75
    assert info.format == "fasttext"
    assert info.path == str(path)
    assert (info.chars.min, info.chars.median, info.chars.mean, info.chars.max) == (5, 5, 6.25, 10)
    assert (info.words.min, info.words.median, info.words.max) == (1, 2.5, 3)
    assert info.duplicates == 1
    assert info.skipped == {"unknown_label": 1}
    assert info.first_bad_lines == [4]
    assert info.fingerprint == read_corpus(path, on_error="skip").fingerprint
    rows = dict(info.to_rows())
    assert rows["rows"] == "4"
    assert rows["classes"] == "2, alphabetical order"
    assert rows["class 0"] == "__label__1: 1 (25.0%)"
    assert rows["class 1"] == "__label__2: 3 (75.0%)"
    assert rows["positive class"] == "__label__2 (class 1: what 'positive' results count)"
    assert rows["skipped"] == "1 (unknown label 1; first bad lines: 4)"
    assert rows["sha256"] == info.fingerprint
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in info.to_rows())


def test_data_info_passes_reader_options(tmp_path: Path) -> None:
    path = write(tmp_path / "r.csv", "review,y\ngood,pos\nbad,neg\n")
    info = data_info(path, text_column="review", label_column="y")
    assert info.rows == 2
    assert dict(info.to_rows())["skipped"] == "none"
    with pytest.raises(UserError):
        data_info(write(tmp_path / "bad.csv", "review,y\ngood,meh\n"), on_error="raise",
                  text_column="review", label_column="y")  # fmt: skip


# --------------------------------------------------------------------------- real data


@pytest.mark.realdata
def test_real_sample(real_data_path: Path) -> None:
    corpus = read_corpus(real_data_path)
    assert len(corpus) == 15_980
    assert int((corpus.labels == 0).sum()) == 7_893
    assert int((corpus.labels == 1).sum()) == 8_087
    assert corpus.meta["duplicates"] == 0
    assert corpus.meta["skipped"] == {}
    assert corpus.meta["format"] == "fasttext"
    assert corpus.meta["compression"] == "bz2"
    assert all(": " in t for t in corpus.texts[:100])
    info = data_info(real_data_path)
    assert (info.rows, info.n_negative, info.n_positive) == (15_980, 7_893, 8_087)


# --------------------------------------------------------------------------- fuzzing

_LINE_PARTS = st.sampled_from(
    [
        "__label__1 ",
        "__label__2 ",
        "__label__1",
        "__label__3 ",
        "__label__",
        " ",
        "\t",
        "\r",
        "\ufeff",
        "Title: text",
        "",
        "x",
    ]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300), skip=st.booleans())
def test_fasttext_arbitrary_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, skip: bool
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "f.ft.txt"
    path.write_bytes(data)
    assert_corpus_or_user_error(path, skip)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.lists(_LINE_PARTS, max_size=4).map("".join), max_size=8),
    ending=st.sampled_from(["\n", "\r\n"]),
    skip=st.booleans(),
    compress=st.booleans(),
)
def test_fasttext_arbitrary_lines(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    ending: str,
    skip: bool,
    compress: bool,
) -> None:
    name = "f.ft.txt.bz2" if compress else "f.ft.txt"
    path = write(tmp_path_factory.mktemp("fuzz") / name, ending.join(lines))
    corpus = assert_corpus_or_user_error(path, skip)
    if corpus is not None:
        assert set(corpus.labels.tolist()) == set(range(corpus.n_classes))
        assert all(name.startswith("__label__") for name in corpus.label_names)
        assert all(t.strip() for t in corpus.texts)


def assert_corpus_or_user_error(path: Path, skip: bool, fmt: str | None = None) -> Corpus | None:
    """The fuzzing contract: a Corpus or a one-line UserError, never anything else."""
    try:
        corpus = read_corpus(path, fmt=fmt, on_error="skip" if skip else "raise")
    except UserError as exc:
        assert "\n" not in str(exc)
        return None
    assert isinstance(corpus, Corpus)
    assert len(corpus.texts) == len(corpus.labels)
    return corpus


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=200),
    header=st.sampled_from([b"", b"text,label\n", b"title,text,label\n", b'"1","t","x"\n']),
    suffix=st.sampled_from([".csv", ".tsv", ".jsonl", ".data"]),
    skip=st.booleans(),
)
def test_table_readers_arbitrary_bytes(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, header: bytes, suffix: str, skip: bool
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"f{suffix}"
    path.write_bytes(header + data)
    assert_corpus_or_user_error(path, skip)
    if suffix == ".csv":
        assert_corpus_or_user_error(path, skip, fmt="amazon-csv")
