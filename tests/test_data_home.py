"""The data home: every source layout imports to the same Parquet, atomically, by name."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelcollapse.cli import main
from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.data.home import (
    get_data_home,
    import_corpus,
    is_imported,
    list_corpora,
    load_imported,
)
from modelcollapse.data.readers import ReviewStream, Source, read_corpus
from modelcollapse.errors import UserError
from modelcollapse.runner import load_data


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data home: never the user's."""
    path = tmp_path / "home"
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(path))
    return path


@pytest.fixture(scope="module")
def reviews() -> tuple[list[str], list[int]]:
    corpus = make_demo_corpus(n=600, seed=3)
    return corpus.texts, corpus.labels.tolist()


def ft_lines(texts: list[str], labels: list[int]) -> bytes:
    return "".join(f"__label__{y + 1} {t}\n" for t, y in zip(texts, labels, strict=True)).encode()


def kaggle_zip(path: Path, texts: list[str], labels: list[int], n_train: int) -> Path:
    """The Kaggle archive: a zip holding train.ft.txt.bz2 and test.ft.txt.bz2."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "train.ft.txt.bz2", bz2.compress(ft_lines(texts[:n_train], labels[:n_train]))
        )
        archive.writestr(
            "test.ft.txt.bz2", bz2.compress(ft_lines(texts[n_train:], labels[n_train:]))
        )
    return path


def hf_shards(folder: Path, texts: list[str], labels: list[int], train_parts: int = 2) -> Path:
    """Hugging Face amazon_polarity layout: label/title/content, train and test shards."""
    folder.mkdir(parents=True, exist_ok=True)
    titles = [t.split(": ", 1)[0] for t in texts]
    bodies = [t.split(": ", 1)[1] for t in texts]
    frame = pd.DataFrame({"label": labels, "title": titles, "content": bodies})
    n_test = len(frame) // 5
    train, test = frame.iloc[n_test:], frame.iloc[:n_test]
    for i, part in enumerate(np.array_split(np.arange(len(train)), train_parts)):
        name = f"train-{i:05d}-of-{train_parts:05d}.parquet"
        train.iloc[part].to_parquet(folder / name, index=False)
    test.to_parquet(folder / "test-00000-of-00001.parquet", index=False)
    return folder


# --------------------------------------------------------------------------- the home


def test_data_home_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert get_data_home() == tmp_path / "home"
    monkeypatch.delenv("MODELCOLLAPSE_DATA")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert get_data_home() == tmp_path / "xdg" / "modelcollapse"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_data_home() == tmp_path / "user" / ".local" / "share" / "modelcollapse"


def test_nothing_imported(home: Path) -> None:
    assert list_corpora() == []
    assert not is_imported("amz")
    assert not home.exists()  # listing does not create the home


# --------------------------------------------------------------------------- sources


def test_kaggle_zip(tmp_path: Path, home: Path, reviews) -> None:
    texts, labels = reviews
    archive = kaggle_zip(tmp_path / "archive.zip", texts, labels, n_train=500)
    seen: list[tuple[int, int | None]] = []
    imported = import_corpus(archive, progress=lambda done, total: seen.append((done, total)))

    assert imported.name == "amazon-polarity"  # recognised, whatever the zip is called
    assert sorted(p.name for p in home.iterdir()) == ["amazon-polarity"]  # no leftovers
    folder = home / "amazon-polarity"
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "test.parquet",
        "train.parquet",
    ]
    m = json.loads((folder / "manifest.json").read_text())
    assert m["kind"] == "kaggle-zip" and m["source"] == str(archive.resolve())
    assert m["splits"]["train"]["rows"] == 500 and m["splits"]["test"]["rows"] == 100
    train = m["splits"]["train"]
    assert train["negatives"] + train["positives"] == 500
    assert train["positives"] == sum(labels[:500])
    assert train["skipped_lines"] == 0
    assert train["sources"] == [f"{archive}:train.ft.txt.bz2"]
    import hashlib

    assert train["sha256"] == hashlib.sha256((folder / "train.parquet").read_bytes()).hexdigest()
    table = pd.read_parquet(folder / "train.parquet")
    assert list(table.columns) == ["text", "label"] and table["label"].dtype == np.int8

    corpus = load_imported("amazon-polarity")
    assert corpus.texts == texts and corpus.labels.tolist() == labels
    assert corpus.label_names == ("__label__1", "__label__2")
    assert corpus.test_mask is not None and corpus.test_mask.sum() == 100
    assert corpus.test_mask[500:].all() and not corpus.test_mask[:500].any()
    # The same fingerprint on every load, equal to the manifest's.
    assert corpus.fingerprint == load_imported("amazon-polarity").fingerprint == m["fingerprint"]
    # Progress: bytes of the archive members, rising to the total.
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and seen[-1][0] == seen[-1][1] > 0


def test_single_fasttext_file_is_the_train_split(tmp_path: Path, reviews) -> None:
    texts, labels = reviews
    for name, pack in (
        ("compressed.ft.txt.bz2", bz2.compress),
        ("gzipped.txt.gz", gzip.compress),
        ("plain.txt", lambda b: b),
    ):
        path = tmp_path / name
        path.write_bytes(pack(ft_lines(texts, labels)))
        imported = import_corpus(path)
        assert imported.name == name.split(".")[0]
        assert list(imported.splits) == ["train"]
        corpus = load_imported(imported.name)
        assert corpus.test_mask is None
        # Same data, same identity: the imported corpus caches like the file itself.
        assert corpus.fingerprint == read_corpus(path).fingerprint


def test_original_csv_tgz(tmp_path: Path, reviews) -> None:
    texts, labels = reviews
    path = tmp_path / "amazon_review_polarity_csv.tgz"

    def csv_of(rows: range) -> bytes:
        out = io.StringIO()
        for i in rows:
            title, body = texts[i].split(": ", 1)
            body = body.replace('"', '""')
            out.write(f'"{labels[i] + 1}","{title}","{body}"\n')
        return out.getvalue().encode()

    with tarfile.open(path, "w:gz") as archive:
        for member, data in (
            ("amazon_review_polarity_csv/readme.txt", b"about the data\n"),
            ("amazon_review_polarity_csv/test.csv", csv_of(range(500, 600))),
            ("amazon_review_polarity_csv/train.csv", csv_of(range(500))),
        ):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    imported = import_corpus(path)
    assert imported.name == "amazon-polarity" and imported.manifest["kind"] == "amazon-csv-tar"
    corpus = load_imported("amazon-polarity")
    assert corpus.texts == texts  # "title: text", as the Kaggle conversion wrote it
    assert corpus.labels.tolist() == labels
    assert corpus.label_names == ("1", "2")
    assert corpus.test_mask is not None and corpus.test_mask.sum() == 100


def test_hugging_face_parquet_shards(tmp_path: Path, reviews) -> None:
    texts, labels = reviews
    folder = hf_shards(tmp_path / "amazon_polarity", texts, labels, train_parts=3)
    imported = import_corpus(folder)
    assert imported.name == "amazon-polarity"
    assert imported.n_rows("train") == 480 and imported.n_rows("test") == 120
    corpus = load_imported("amazon-polarity")
    # Train shards in order, then test; "title: content" as in the Kaggle files.
    assert corpus.texts == texts[120:] + texts[:120]
    assert corpus.labels.tolist() == labels[120:] + labels[:120]
    # Naming one shard imports its whole set, never a part of it.
    again = import_corpus(folder / "train-00001-of-00003.parquet", name="again")
    assert load_imported("again").fingerprint == corpus.fingerprint
    assert again.manifest["splits"]["train"]["sources"][0].endswith("train-00000-of-00003.parquet")


def test_hugging_face_parquet_branch_layout(tmp_path: Path, reviews) -> None:
    """refs/convert/parquet: train/0000.parquet, train/0001.parquet, test/0000.parquet."""
    texts, labels = reviews
    folder = tmp_path / "amazon_polarity"
    frame = pd.DataFrame({"label": labels, "title": "t", "content": texts})
    for split, part, rows in (("train", 0, slice(0, 300)), ("train", 1, slice(300, 500)),
                              ("test", 0, slice(500, 600))):  # fmt: skip
        (folder / split).mkdir(parents=True, exist_ok=True)
        frame.iloc[rows].to_parquet(folder / split / f"{part:04d}.parquet", index=False)
    (folder / "train" / "README.md").write_text("not a shard")
    corpus = load_imported(import_corpus(folder).name)
    assert corpus.texts == [f"t: {t}" for t in texts]
    assert corpus.test_mask is not None and corpus.test_mask.sum() == 100


def test_missing_shard_is_refused(tmp_path: Path, reviews) -> None:
    folder = hf_shards(tmp_path / "hf", *reviews, train_parts=3)
    (folder / "train-00001-of-00003.parquet").unlink()
    with pytest.raises(UserError, match=r"incomplete train shards: 2 of 3 .*00001-of-00003"):
        import_corpus(folder)


def test_generic_formats(tmp_path: Path, reviews) -> None:
    texts, labels = reviews
    frame = pd.DataFrame({"review": texts, "stars": ["pos" if y else "neg" for y in labels]})
    frame.to_csv(tmp_path / "mine.csv", index=False)
    frame.to_json(tmp_path / "mine.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "mine.parquet")
    for name in ("mine.csv", "mine.jsonl", "mine.parquet"):
        imported = import_corpus(
            tmp_path / name, name=name.replace(".", "-"), text_column="review", label_column="stars"
        )
        corpus = load_imported(imported.name)
        assert corpus.texts == texts and corpus.labels.tolist() == labels
        assert corpus.label_names == ("neg", "pos")


def test_folder_and_zip_with_train_and_test_files(tmp_path: Path, reviews) -> None:
    texts, labels = reviews
    folder = tmp_path / "my_data"
    folder.mkdir()
    (folder / "train.ft.txt").write_bytes(ft_lines(texts[:500], labels[:500]))
    (folder / "test.ft.txt").write_bytes(ft_lines(texts[500:], labels[500:]))
    (folder / "README.md").write_text("not data")
    imported = import_corpus(folder)
    assert imported.name == "my-data" and imported.n_rows("test") == 100
    with zipfile.ZipFile(tmp_path / "one.zip", "w") as archive:
        archive.writestr("data/all.ft.txt", ft_lines(texts, labels))
        archive.writestr("__MACOSX/data/._all.ft.txt", b"\x00\x05junk")
    assert import_corpus(tmp_path / "one.zip").n_rows("train") == 600  # a lone member: train


@pytest.mark.parametrize(
    ("members", "fragment"),
    [
        (
            {"a.txt": b"x", "b.txt": b"y"},
            "no train.* member in the archive (it holds: a.txt, b.txt)",
        ),
        ({"test.ft.txt": b"__label__1 x\n"}, "a test split but no train split"),
        ({"train.csv": b"x", "train.ft.txt": b"y"}, "several train files"),
    ],
)
def test_archives_that_do_not_say_what_is_what(tmp_path: Path, members, fragment) -> None:
    path = tmp_path / "odd.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(UserError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        import_corpus(path)


def test_streaming_in_chunks_gives_the_same_corpus(tmp_path: Path, reviews) -> None:
    archive = kaggle_zip(tmp_path / "archive.zip", *reviews, n_train=500)
    big = import_corpus(archive, name="big")
    small = import_corpus(archive, name="small", chunk_size=7)
    assert big.fingerprint == small.fingerprint
    assert load_imported("small").fingerprint == big.fingerprint


def test_stream_codes_of_0_1_labels_are_final_when_the_1s_come_first(tmp_path: Path) -> None:
    # 0/1 labels: the 1s read before the first 0 are positive, even across chunks and files.
    first = tmp_path / "a.csv"
    first.write_text("text,label\n" + "".join(f"good {i},1\n" for i in range(10)))
    second = tmp_path / "b.csv"
    second.write_text("text,label\nbad,0\nfine,1\n")
    stream = ReviewStream([Source.file(first), Source.file(second)], chunk_size=3)
    chunks = list(stream)
    labels = np.concatenate([c[1] for c in chunks]).tolist()
    assert labels == [1] * 10 + [0, 1]
    assert stream.label_names == ("0", "1") and stream.meta["rows"] == 12
    assert stream.label_codes is not None and stream.label_codes.tolist() == [0, 1]


# --------------------------------------------------------------------------- safety


def test_existing_name_is_refused_unless_overwrite(tmp_path: Path, reviews) -> None:
    texts, labels = reviews
    path = tmp_path / "r.ft.txt"
    path.write_bytes(ft_lines(texts, labels))
    first = import_corpus(path, name="amz")
    with pytest.raises(UserError) as info:
        import_corpus(path, name="amz")
    assert str(info.value) == (
        f"--name: 'amz' is already imported ({first.path}); pass --overwrite to replace it"
    )
    path.write_bytes(ft_lines(texts[:300], labels[:300]))
    assert import_corpus(path, name="amz", overwrite=True).n_rows() == 300
    assert len(load_imported("amz")) == 300


def test_a_failed_import_leaves_no_trace_and_keeps_the_old_corpus(
    tmp_path: Path, home: Path, reviews
) -> None:
    texts, labels = reviews
    good = tmp_path / "r.ft.txt"
    good.write_bytes(ft_lines(texts, labels))
    before = import_corpus(good, name="amz").fingerprint
    bad = tmp_path / "bad.ft.txt"
    bad.write_bytes(ft_lines(texts, labels) + b"__label__2 broken" + b"\xff" * 3 + b"\n")
    with pytest.raises(UserError, match=r"bad.ft.txt:601: not valid UTF-8"):
        import_corpus(bad, name="amz", overwrite=True, on_error="raise")
    assert sorted(p.name for p in home.iterdir()) == ["amz"]  # the temp folder is gone
    assert load_imported("amz").fingerprint == before


def test_bad_lines_are_skipped_and_counted_up_to_a_limit(tmp_path: Path, reviews) -> None:
    texts, labels = reviews
    path = tmp_path / "r.ft.txt"
    path.write_bytes(ft_lines(texts, labels) + b"__label__ no label\n")
    imported = import_corpus(path)
    train = imported.splits["train"]
    assert train["rows"] == 600 and train["skipped"] == {"unknown_label": 1}
    assert train["first_bad"] == [f"{path}:601"]
    path.write_bytes(ft_lines(texts, labels) + b"oops\n" * 10)
    with pytest.raises(UserError) as info:
        import_corpus(path, name="damaged")
    assert "10 of 610 lines are bad (malformed 10; first at" in str(info.value)
    assert "--max-skipped" in str(info.value)
    assert import_corpus(path, name="damaged", max_skipped=0.05).n_rows() == 600


def test_a_damaged_file_is_refused_at_load(reviews, tmp_path: Path) -> None:
    path = tmp_path / "r.ft.txt"
    path.write_bytes(ft_lines(*reviews))
    imported = import_corpus(path, name="amz")
    table = pd.read_parquet(imported.path / "train.parquet")
    table.loc[0, "text"] = "edited"
    table.to_parquet(imported.path / "train.parquet")
    with pytest.raises(UserError, match=r"does not match its manifest.*--overwrite"):
        load_imported("amz")


@pytest.mark.parametrize("name", ["demo", "../up", "a b", "", "-x", "x" * 65])
def test_invalid_names(tmp_path: Path, reviews, name: str) -> None:
    path = tmp_path / "r.ft.txt"
    path.write_bytes(ft_lines(*reviews))
    with pytest.raises(UserError, match="--name"):
        import_corpus(path, name=name)


# --------------------------------------------------------------------------- --data NAME


def test_load_data_resolves_names_after_paths(tmp_path: Path, monkeypatch, reviews) -> None:
    path = tmp_path / "r.ft.txt"
    path.write_bytes(ft_lines(*reviews))
    import_corpus(path, name="amz")
    assert load_data("amz").meta["name"] == "amz"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "amz").write_bytes(ft_lines(*reviews)[:2000])  # a file named like the corpus
    assert load_data("amz").meta["format"] == "fasttext"
    with pytest.raises(UserError) as info:
        load_data("nope")
    assert str(info.value).startswith(
        "--data: 'nope' is neither a file nor an imported corpus (imported: amz;"
    )


def test_cli_import_list_info(tmp_path: Path, capsys, reviews) -> None:
    archive = kaggle_zip(tmp_path / "archive.zip", *reviews, n_train=500)
    assert main(["data", "import", str(archive), "--name", "amz"]) == 0
    out = capsys.readouterr().out
    assert "imported 'amz'" in out and "--data amz" in out
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "amz" in out and "500" in out
    assert main(["data", "info", "amz"]) == 0
    out = capsys.readouterr().out
    assert "kaggle-zip" in out and "500 rows" in out
    assert main(["data", "info", "demo"]) == 0
    assert "20,000" in capsys.readouterr().out
    code = main(["data", "import", str(archive), "--name", "amz"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "already imported" in err[0]
    assert main(["data", "info", "unknown-name"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "modelcollapse: error: unknown-name: no such file, and no imported corpus by that name "
        "(imported: amz)"
    )


def test_new_user_imports_the_kaggle_archive_and_runs(tmp_path: Path, capsys) -> None:
    """As the README tells it: import the archive once, then run on it by name."""
    corpus = make_demo_corpus(n=3000, seed=11)
    archive = kaggle_zip(
        tmp_path / "amazon-reviews.zip", corpus.texts, corpus.labels.tolist(), n_train=2400
    )
    assert main(["data", "import", str(archive), "--name", "amz"]) == 0
    out = tmp_path / "run"
    argv = ["run", "lower-rates", "--data", "amz", "--scale", "0.2", "--model", "nb"]
    argv += ["--tokenizer", "fast", "--repeats", "1", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    results = pd.read_parquet(out / "results")
    assert set(results["n_test"]) == {600}  # the archive's own test split
    assert results["train_size"].max() == 2000
    assert results["accuracy"].between(0.6, 1.0).all()
