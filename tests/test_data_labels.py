"""Labels as the data has them: any label values, k classes, columns named or guessed.

The files are built from the demo corpus's texts, in the shapes users bring: a spam/ham CSV
with a header, extra columns and quoted multi-line texts; a 4-topic JSONL; star ratings.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_calls import cli, one_line_error

from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.data.home import get_imported, import_corpus, load_imported
from modelcollapse.data.readers import ReviewStream, Source, read_corpus, recode
from modelcollapse.data.resolve import load_data
from modelcollapse.errors import UserError

TOPICS = ("World", "Sports", "Business", "Sci/Tech")


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(home))
    return home


def spam_csv(path: Path, n: int = 1500, first: str | None = None) -> tuple[Path, np.ndarray]:
    """A spam/ham CSV: header, extra columns around the text, every 7th text spanning lines
    with quotes and commas. Demo label 1 is spam. Returns the path and the 0/1 labels."""
    corpus = make_demo_corpus(n=n, seed=7)
    labels = corpus.labels.astype(int)
    if first is not None:  # put a row of this class first (codes handed out while reading)
        i = int(np.flatnonzero(labels == (1 if first == "spam" else 0))[0])
        order = [i, *[j for j in range(n) if j != i]]
        labels = labels[order]
        texts = [corpus.texts[j] for j in order]
    else:
        texts = list(corpus.texts)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "received", "message", "category", "score"])
        for i, (text, label) in enumerate(zip(texts, labels, strict=True)):
            if i % 7 == 0:
                text = f'{text},\nsaid "the sender"'
            writer.writerow([i, f"2024-01-{i % 28 + 1:02d}", text, ("ham", "spam")[label], 0.5])
    return path, labels


def topic_jsonl(path: Path, n: int = 1200) -> tuple[Path, list[str]]:
    corpus = make_demo_corpus(n=n, seed=3)
    topics = [TOPICS[i % 4] for i in range(n)]
    with path.open("w", encoding="utf-8") as fh:
        for text, topic in zip(corpus.texts, topics, strict=True):
            fh.write(json.dumps({"sentence": text, "topic": topic, "source": "demo"}) + "\n")
    return path, topics


# --------------------------------------------------------------------------- library


def test_spam_csv_reads_with_guessed_columns_and_alphabetical_classes(tmp_path: Path) -> None:
    path, labels = spam_csv(tmp_path / "sms.csv")
    corpus = read_corpus(path)
    assert corpus.meta["columns"] == {"text": "message", "label": "category", "title": None}
    assert corpus.label_names == ("ham", "spam") and corpus.positive_class == "spam"
    assert not corpus.is_polarity and corpus.meta["class_order"] == "alphabetical"
    np.testing.assert_array_equal(corpus.labels, labels)
    assert corpus.texts[0].endswith(',\nsaid "the sender"') and len(corpus) == 1500
    swapped = read_corpus(path, labels="spam,ham")
    np.testing.assert_array_equal(swapped.labels, 1 - labels)
    assert swapped.positive_class == "ham" and swapped.meta["class_order"] == "--labels"


def test_four_topics_read_as_four_classes(tmp_path: Path) -> None:
    path, topics = topic_jsonl(tmp_path / "news.jsonl")
    corpus = read_corpus(path)
    assert corpus.label_names == ("Business", "Sci/Tech", "Sports", "World")
    assert corpus.n_classes == 4 and corpus.positive_class is None
    assert corpus.class_counts().tolist() == [300, 300, 300, 300]
    assert [corpus.label_names[c] for c in corpus.labels] == topics
    given = read_corpus(path, labels=",".join(TOPICS))
    assert given.label_names == TOPICS
    assert [TOPICS[c] for c in given.labels] == topics


def test_star_ratings_are_in_numeric_order(tmp_path: Path) -> None:
    stars = [5, 1, 10, 2, 3, 4, 5, 1]
    frame = pd.DataFrame({"review": [f"review {i}" for i in range(8)], "stars": stars})
    path = tmp_path / "stars.parquet"
    frame.to_parquet(path, index=False)
    corpus = read_corpus(path)
    assert corpus.label_names == ("1", "2", "3", "4", "5", "10")
    assert [int(corpus.label_names[c]) for c in corpus.labels] == stars


def test_given_labels_refuse_others_and_unused_ones(tmp_path: Path) -> None:
    path, _ = spam_csv(tmp_path / "sms.csv", n=40)
    with pytest.raises(UserError) as info:
        read_corpus(path, labels="ham,eggs", on_error="skip")
    i = int(np.flatnonzero(read_corpus(path).labels)[0])  # the first spam row
    line = 2 + i + sum(1 for j in range(i) if j % 7 == 0)  # header, then two-line texts
    assert str(info.value) == f"{path}:{line}: label 'spam' is not one of --labels ham,eggs"
    with pytest.raises(UserError, match="no row has label 'eggs' of --labels ham,spam,eggs"):
        read_corpus(path, labels="ham,spam,eggs")
    for bad in ("ham", "ham,,spam", "ham,ham", " , "):
        with pytest.raises(UserError, match=r"^--labels: "):
            read_corpus(path, labels=bad)


def test_stream_codes_recode_to_what_read_corpus_reads(tmp_path: Path) -> None:
    path, _ = topic_jsonl(tmp_path / "news.jsonl", n=50)
    stream = ReviewStream(Source.file(path), chunk_size=7)
    labels = np.concatenate([chunk for _, chunk in stream])
    assert stream.label_codes is not None
    np.testing.assert_array_equal(recode(labels, stream.label_codes), read_corpus(path).labels)
    assert stream.label_names == read_corpus(path).label_names


def test_imported_corpus_keeps_class_names_and_recodes_once(tmp_path: Path) -> None:
    # spam first: read as code 0, stored as class 1 once the import knows every class.
    path, labels = spam_csv(tmp_path / "sms.csv", n=300, first="spam")
    imported = import_corpus(path, name="sms")
    assert imported.manifest["label_names"] == ["ham", "spam"]
    assert imported.manifest["class_order"] == "alphabetical"
    train = imported.splits["train"]
    assert train["class_counts"] == [int((labels == 0).sum()), int((labels == 1).sum())]
    assert (train["negatives"], train["positives"]) == tuple(train["class_counts"])
    corpus = load_imported("sms")
    assert corpus.label_names == ("ham", "spam")
    np.testing.assert_array_equal(corpus.labels, labels)
    assert corpus.fingerprint == read_corpus(path).fingerprint
    flipped = load_data("sms", labels="spam,ham")
    np.testing.assert_array_equal(flipped.labels, 1 - labels)
    with pytest.raises(UserError, match=r"^--labels: leaves out class 'spam'"):
        load_data("sms", labels="ham,eggs")
    with pytest.raises(UserError, match=r"^--text-column: applies to a data file"):
        load_data("sms", text_column="message")


def test_import_of_topics_with_a_test_split(tmp_path: Path, data_home: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    topic_jsonl(folder / "train.jsonl", n=80)
    path, topics = topic_jsonl(folder / "test.jsonl", n=20)
    imported = import_corpus(folder, name="news")
    assert imported.label_names == ("Business", "Sci/Tech", "Sports", "World")
    assert imported.class_counts("test") == [5, 5, 5, 5]
    corpus = load_imported("news")
    assert corpus.n_classes == 4 and corpus.test_mask is not None
    assert [corpus.label_names[c] for c in corpus.labels[corpus.test_mask]] == topics

    # A label the train split does not have: one line naming it, nothing imported.
    with path.open("a") as fh:
        fh.write(json.dumps({"sentence": "a new topic", "topic": "Health"}) + "\n")
    with pytest.raises(UserError) as info:
        import_corpus(folder, name="news2")
    assert str(info.value) == (
        f"{path}:21: label 'Health' is not a class of the train split "
        "(World, Sports, Business, Sci/Tech)"
    )
    assert not (data_home / "news2").exists()
    assert not [p for p in data_home.iterdir() if p.name.startswith(".tmp")]


# --------------------------------------------------------------------------- command line


def test_spam_csv_end_to_end(tmp_path: Path, capsys, data_home: Path) -> None:
    path, labels = spam_csv(tmp_path / "sms.csv")
    code, out, err = cli(capsys, "data", "info", str(path))
    assert code == 0, err
    assert "message" in out and "category" in out
    assert "ham: 832" in out.replace(",", "") or "ham:" in out
    assert "positive class" in out and "spam (class 1" in out

    code, out, err = cli(capsys, "data", "import", str(path), "--name", "sms")
    assert code == 0, err
    assert "positive class: spam" in out
    assert get_imported("sms").label_names == ("ham", "spam")
    code, out, err = cli(capsys, "data", "info", "sms")
    assert code == 0 and "class 1" in out and "spam" in out

    for data, run in ((str(path), tmp_path / "run-file"), ("sms", tmp_path / "run-sms")):
        code, out, err = cli(
            capsys, "run", "lower-rates", "--data", data, "--model", "nb", "--tokenizer", "fast",
            "--scale", "0.1", "--rates", "0,1", "--repeats", "1", "--max-size", "1200",
            "--out", str(run),
        )  # fmt: skip
        assert code == 0, err
        manifest = json.loads((run / "manifest.json").read_text())
        assert manifest["data"]["label_names"] == ["ham", "spam"]
        assert manifest["data"]["positive_class"] == "spam"
        assert manifest["data"]["class_counts"] == [int((labels == 0).sum()), int(labels.sum())]
        table = pd.read_parquet(run / "results")
        assert set(table["rate"]) == {0.0, 1.0} and table["accuracy"].between(0, 1).all()
    # The file and its import are the same data: the same results.
    a = pd.read_parquet(tmp_path / "run-sms" / "results").sort_values(["rate", "repeat", "step"])
    b = pd.read_parquet(tmp_path / "run-file" / "results")
    b = b.sort_values(["rate", "repeat", "step"])
    np.testing.assert_array_equal(a["accuracy"].to_numpy(), b["accuracy"].to_numpy())


def test_columns_and_labels_flags(tmp_path: Path, capsys, data_home: Path) -> None:
    path, _ = spam_csv(tmp_path / "sms.csv", n=60)
    code, out, _ = cli(capsys, "data", "info", str(path), "--text-column", "received",
                       "--label-column", "category", "--labels", "spam,ham")  # fmt: skip
    assert code == 0 and "received" in out and "ham (class 1" in out
    code, _, err = cli(capsys, "data", "info", str(path), "--text-column", "body")
    one_line_error(code, err, "missing column 'body'", "found: 'id', 'received', 'message'")
    odd = tmp_path / "odd.csv"
    odd.write_text("v1,v2\nham,hello\nspam,win\n")
    code, _, err = cli(capsys, "data", "info", str(odd))
    one_line_error(code, err, "odd.csv", "cannot tell the text and label columns",
                   "found: 'v1', 'v2'", "--text-column")  # fmt: skip
    code, _, err = cli(capsys, "data", "import", str(odd), "--text-column", "v2",
                       "--label-column", "v1")  # fmt: skip
    assert code == 0, err


@pytest.mark.parametrize(
    ("labels", "fragments"),
    [
        ("ham", ["--labels", "at least 2"]),
        ("ham,ham", ["--labels", "twice"]),
        ("ham,eggs", ["sms.csv:", "is not one of --labels ham,eggs"]),
        ("ham,spam,eggs", ["sms.csv", "no row has label 'eggs'"]),
    ],
)
def test_bad_labels_are_one_line_and_write_nothing(
    tmp_path: Path, capsys, data_home: Path, labels: str, fragments: list[str]
) -> None:
    path, _ = spam_csv(tmp_path / "sms.csv", n=60)
    code, _, err = cli(capsys, "data", "info", str(path), "--labels", labels)
    one_line_error(code, err, *fragments)
    code, _, err = cli(capsys, "data", "import", str(path), "--name", "x", "--labels", labels)
    one_line_error(code, err, *fragments)
    assert not (data_home / "x").exists()
    out = tmp_path / "run"
    code, _, err = cli(capsys, "run", "lower-rates", "--data", str(path), "--labels", labels,
                       "--out", str(out))  # fmt: skip
    one_line_error(code, err, *fragments)
    assert not out.exists()


def test_four_classes_run_a_rates_study(tmp_path: Path, capsys) -> None:
    path, _ = topic_jsonl(tmp_path / "news.jsonl", n=400)
    code, out, _ = cli(capsys, "data", "info", str(path))
    assert code == 0 and "4, alphabetical order" in out and "Sci/Tech: 100 (25.0%)" in out
    run = tmp_path / "run"
    code, _, err = cli(capsys, "run", "lower-rates", "--data", str(path), "--model", "nb",
                       "--tokenizer", "fast", "--scale", "0.1", "--rates", "0,1", "--repeats",
                       "1", "--max-size", "2000", "--out", str(run))  # fmt: skip
    assert code == 0, err
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["data"]["label_names"] == ["Business", "Sci/Tech", "Sports", "World"]
    assert manifest["data"]["class_counts"] == [100, 100, 100, 100]
    table = pd.read_parquet(run / "results")
    assert set(table["rate"]) == {0.0, 1.0} and table["pred_tv_distance"].notna().all()
    assert [f"test_share_{j}" for j in range(4)] == [c for c in table if c.startswith("test_share")]
