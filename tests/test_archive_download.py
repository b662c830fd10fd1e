"""Archive corpora (amazon-review-full): the original tar archive from a mirror, each extracted
file checked against its published MD5 and line count, imported with the table's class names.
Against a real HTTP server on 127.0.0.1 serving a small purpose-built archive, with the
table's entry given the fake's checksums."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_calls import cli, one_line_error
from test_download import Server, serve

from modelcollapse.data.archive import ArchiveCorpus, ArchiveMember
from modelcollapse.data.download import download_corpus
from modelcollapse.data.home import is_imported, load_imported
from modelcollapse.data.hub import CORPORA
from modelcollapse.errors import UserError

ARCHIVE = "amazon_review_full_csv.tgz"
STARS = ("1 star", "2 stars", "3 stars", "4 stars", "5 stars")


def csv_rows(n: int, seed: int) -> bytes:
    """Zhang et al.'s layout: "label","title","text", quotes doubled, newlines as \\n."""
    lines = [
        f'"{1 + (i * 7 + seed) % 5}","title {i}","review {seed}-{i} says ""fine""\\nthen more"\n'
        for i in range(n)
    ]
    return "".join(lines).encode()


TRAIN, TEST = csv_rows(40, 1), csv_rows(15, 2)


def tarball(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for path, data in members.items():
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


FILES = {
    "amazon_review_full_csv/readme.txt": b"not a split\n",
    "amazon_review_full_csv/train.csv": TRAIN,
    "amazon_review_full_csv/test.csv": TEST,
}
BLOB = tarball(FILES)
HALF = len(BLOB) // 2


def fake_of_the_table(server: Server, **members: ArchiveMember) -> ArchiveCorpus:
    """The table's amazon-review-full with the fake archive's checksums and line counts."""
    real = CORPORA["amazon-review-full"]
    assert isinstance(real, ArchiveCorpus)
    given = {
        split: ArchiveMember(
            m.path, hashlib.md5(FILES[m.path]).hexdigest(), 40 if split == "train" else 15
        )
        for split, m in real.members.items()
    }
    return dataclasses.replace(
        real, default_mirror=server.url + server.resolve.rstrip("/"), members={**given, **members}
    )


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(path))
    monkeypatch.delenv("MODELCOLLAPSE_ARCHIVE_MIRROR", raising=False)
    return path


@pytest.fixture
def server() -> Iterator[Server]:
    yield from serve({ARCHIVE: BLOB})


def fetch(spec: ArchiveCorpus, **kwargs) -> object:
    kwargs = {"timeout": 5.0, "backoff": 0.0, "retries": 2, **kwargs}
    return download_corpus(spec, None, "stars", **kwargs)


def test_download_verifies_members_and_imports_with_star_names(server: Server, home) -> None:
    spec = fake_of_the_table(server)
    imported = fetch(spec)
    assert imported.label_names == STARS
    assert (imported.n_rows("train"), imported.n_rows("test")) == (40, 15)
    assert imported.class_counts("train") == [8] * 5 and imported.class_counts("test") == [3] * 5
    corpus = load_imported("stars")
    assert corpus.label_names == STARS
    # Star i is label i - 1; title and text joined as the amazon-csv reader joins them.
    assert corpus.texts[0] == 'title 0: review 1-0 says "fine"\\nthen more'
    assert corpus.labels[:3].tolist() == [(1 + (i * 7 + 1) % 5) - 1 for i in range(3)]
    manifest = json.loads((home / "stars" / "manifest.json").read_text())
    assert manifest["source"] == spec.url(spec.default_mirror)
    assert manifest["download"]["archive_md5"] == hashlib.md5(BLOB).hexdigest()
    assert manifest["download"]["archive_md5_is_the_published_one"] is False  # not Drive's
    assert manifest["download"]["files"]["amazon_review_full_csv/test.csv"]["rows"] == 15
    assert not (home / ".downloads" / "stars").exists()


@pytest.mark.parametrize(
    ("member", "words"),
    [
        (
            ArchiveMember("amazon_review_full_csv/test.csv", "0" * 32, 15),
            "MD5 " + hashlib.md5(TEST).hexdigest(),
        ),
        (
            ArchiveMember("amazon_review_full_csv/test.csv", hashlib.md5(TEST).hexdigest(), 16),
            "15 lines",
        ),
        (
            ArchiveMember("amazon_review_full_csv/valid.csv", "0" * 32, 15),
            "has no amazon_review_full_csv/valid.csv",
        ),
    ],
)
def test_a_member_that_is_not_the_published_one_imports_nothing(server, home, member, words):
    with pytest.raises(UserError, match="corrupt download") as caught:
        fetch(fake_of_the_table(server, test=member))
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert not is_imported("stars")
    assert list((home / ".downloads" / "stars").iterdir()) == []  # a rerun downloads again


def test_a_cut_transfer_resumes_with_range(server: Server) -> None:
    server.behaviour.cut_after[ARCHIVE] = HALF
    fetch(fake_of_the_table(server))
    assert server.requests_for(ARCHIVE) == [None, f"bytes={HALF}-"]


def test_a_partial_download_resumes_on_the_next_run(server: Server, home: Path) -> None:
    spec = fake_of_the_table(server)
    server.behaviour.cut_after[ARCHIVE] = HALF
    with pytest.raises(UserError, match="run the command again to resume"):
        fetch(spec, retries=0)
    part = home / ".downloads" / "stars" / (ARCHIVE + ".part")
    assert part.stat().st_size == HALF
    assert fetch(spec).n_rows() == 55
    assert server.requests_for(ARCHIVE) == [None, f"bytes={HALF}-"]


def test_the_cli_lists_downloads_and_refuses_in_one_line(server, monkeypatch, capsys) -> None:
    code, out, _ = cli(capsys, "data", "list", "--available")
    assert code == 0
    assert "amazon-review-full    3,000,000   650,000" in out
    assert "archive: amazon_review_full_csv.tgz from https://s3.amazonaws.com/fast-ai-nlp" in out
    monkeypatch.setitem(CORPORA, "amazon-review-full", fake_of_the_table(server))
    monkeypatch.setenv("MODELCOLLAPSE_ARCHIVE_MIRROR", "ftp://nowhere")
    code, _, err = cli(capsys, "data", "download", "amazon-review-full")
    one_line_error(code, err, "MODELCOLLAPSE_ARCHIVE_MIRROR", "http(s)://")
    mirror = server.url + server.resolve.rstrip("/")
    code, out, _ = cli(capsys, "data", "download", "amazon-review-full", "--mirror", mirror)
    assert code == 0 and "amazon-review-full" in out
    broken = fake_of_the_table(
        server, train=ArchiveMember("amazon_review_full_csv/train.csv", "f" * 32, 40)
    )
    monkeypatch.setitem(CORPORA, "amazon-review-full", broken)
    code, _, err = cli(capsys, "data", "download", "amazon-review-full", "--mirror", mirror,
                       "--name", "other")  # fmt: skip
    one_line_error(code, err, "corrupt download", "train.csv has MD5")
    assert not is_imported("other")
