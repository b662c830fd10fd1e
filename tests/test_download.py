"""Downloads against a real HTTP server on 127.0.0.1 that plays the hub: a file listing of a
pinned commit (the hub API's tree endpoint) and the files. Cut transfers resume; files that do
not match the listing, listings that do not match the pinned table, and rows that do not
match the pinned split totals are refused in one line with nothing imported."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelcollapse.cli import main
from modelcollapse.data import download, hub
from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.data.download import download_corpus, name_labels
from modelcollapse.data.home import ImportedCorpus, load_imported
from modelcollapse.data.hub import CORPORA, HubCorpus, ListedFile, PinnedFile
from modelcollapse.errors import UserError

REPO = "test/tiny"
REV = "0123456789abcdef0123456789abcdef01234567"
TRAIN0 = "plain_text/train-00000-of-00002.parquet"
TRAIN1 = "plain_text/train-00001-of-00002.parquet"
VALID = "plain_text/validation-00000-of-00001.parquet"


@dataclass
class Behaviour:
    """What the server does; tests change it between requests."""

    cut_after: dict[str, int] = field(default_factory=dict)  # path -> bytes, first request only
    ignore_range: bool = False
    stall: float = 0.0  # seconds before answering a file request
    listed: dict[str, dict] = field(default_factory=dict)  # path -> entry fields that lie
    page_size: int = 0  # > 0: the listing comes in pages linked by Link: rel="next"
    no_api: bool = False  # a plain file mirror without the hub API
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)


class Server:
    """The hub's two endpoints for one repository at one commit."""

    def __init__(self, files: dict[str, bytes], repo: str = REPO, revision: str = REV) -> None:
        self.files = files
        self.behaviour = Behaviour()
        behaviour, served = self.behaviour, files
        resolve = f"/datasets/{repo}/resolve/{revision}/"
        tree = f"/api/datasets/{repo}/tree/{revision}/"

        def listing() -> list[dict]:
            entries = [
                {"type": "directory", "oid": "0" * 40, "size": 0, "path": "plain_text"},
                {"type": "file", "oid": "1" * 40, "size": 9, "path": "README.md"},
            ]
            for path, data in served.items():
                sha = hashlib.sha256(data).hexdigest()
                entry = {"type": "file", "oid": "2" * 40, "size": len(data), "path": path,
                         "lfs": {"oid": sha, "size": len(data), "pointerSize": 134}}  # fmt: skip
                for key, value in behaviour.listed.get(path, {}).items():
                    (entry["lfs"] if key in ("oid", "lfs_size") else entry)[
                        "size" if key == "lfs_size" else key
                    ] = value
                entries.append(entry)
            return entries

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # a stuck client cannot hold a server thread for long

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                behaviour.requests.append((url.path, self.headers.get("Range")))
                if url.path.startswith(tree):
                    self.send_listing(url)
                elif url.path.startswith(resolve):
                    self.send_file(url.path.removeprefix(resolve))
                else:
                    self.send_error(404, "Not Found")

            def send_listing(self, url: urllib.parse.SplitResult) -> None:
                folder = url.path.removeprefix(tree).strip("/")
                query = urllib.parse.parse_qs(url.query)
                if behaviour.no_api or query.get("recursive") != ["true"]:
                    self.send_error(404, "Not Found")
                    return
                entries = [e for e in listing() if e["path"].startswith(folder + "/")]
                start = int(query.get("cursor", ["0"])[0])
                end = start + behaviour.page_size if behaviour.page_size else len(entries)
                body = json.dumps(entries[start:end]).encode()
                self.send_response(200)
                if end < len(entries):
                    link = f"<{url.path}?recursive=true&cursor={end}>"
                    self.send_header("Link", f'{link}; rel="next"')
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def send_file(self, path: str) -> None:
                if behaviour.stall:
                    time.sleep(behaviour.stall)
                if path not in served:
                    self.send_error(404, "Not Found")
                    return
                data = served[path]
                start = 0
                rng = self.headers.get("Range")
                if rng and not behaviour.ignore_range:
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_error(416, "Range Not Satisfiable")
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                cut = behaviour.cut_after.pop(path, None)
                body = data[start:] if cut is None else data[start:cut]
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client timed out and left: expected in the timeout test
                if cut is not None:
                    self.close_connection = True  # promised more bytes than sent

        self.resolve = resolve
        self.tree = tree
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def requests_for(self, path: str) -> list[str | None]:
        return [r for p, r in self.behaviour.requests if p == self.resolve + path]

    def file_requests(self) -> int:
        return sum(p.startswith(self.resolve) for p, _ in self.behaviour.requests)

    def listing_requests(self) -> int:
        return sum(p.startswith(self.tree) for p, _ in self.behaviour.requests)


def serve(files: dict[str, bytes], **kwargs: str) -> Iterator[Server]:
    srv = Server(files, **kwargs)
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()  # serve_forever returns; the thread ends
    srv.httpd.server_close()
    srv.thread.join(timeout=5)
    assert not srv.thread.is_alive()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(path))
    monkeypatch.delenv("MODELCOLLAPSE_MIRROR", raising=False)
    return path


@pytest.fixture(scope="module")
def shards() -> dict[str, bytes]:
    """The hub layout in miniature: two train shards and a labelled validation shard."""
    corpus = make_demo_corpus(n=900, seed=5)
    titles, bodies = zip(*(t.split(": ", 1) for t in corpus.texts), strict=True)
    frame = pd.DataFrame(
        {"label": corpus.labels.astype(np.int64), "title": titles, "content": bodies}
    )
    return {
        TRAIN0: frame.iloc[:400].to_parquet(index=False),
        TRAIN1: frame.iloc[400:800].to_parquet(index=False),
        VALID: frame.iloc[800:].to_parquet(index=False),
    }


@pytest.fixture
def server(shards: dict[str, bytes]) -> Iterator[Server]:
    yield from serve(dict(shards))


def tiny(**changes: object) -> HubCorpus:
    """A corpus of the table's shape: sst2's layout (validation is our test split)."""
    fields: dict[str, object] = {
        "name": "tiny", "description": "test", "repo": REPO, "revision": REV,
        "folder": "plain_text",
        "splits": {"train": ("train", 800), "test": ("validation", 100)},
        "label_names": ("negative", "positive"), "text_column": "content",
        "title_column": "title",
    }  # fmt: skip
    return HubCorpus(**{**fields, **changes})  # type: ignore[arg-type]


def fetch(server: Server, spec: HubCorpus | None = None, **kwargs) -> object:
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("backoff", 0.0)
    kwargs.setdefault("retries", 2)
    return download_corpus(spec or tiny(), server.url, "amz", **kwargs)


def test_download_verifies_and_imports(server: Server, shards, home: Path) -> None:
    seen: list[int] = []
    imported = fetch(server, progress=lambda done, total: seen.append(done))
    assert imported.n_rows("train") == 800 and imported.n_rows("test") == 100
    corpus = load_imported("amz")
    assert corpus.test_mask is not None and corpus.test_mask.sum() == 100
    # Title and content are read as the import reads Amazon's: "title: content".
    assert corpus.texts[0] == make_demo_corpus(n=900, seed=5).texts[0]
    assert seen[-1] == sum(len(b) for b in shards.values()) and seen == sorted(seen)
    assert not (home / ".downloads" / "amz").exists()  # the download is gone once imported
    assert server.listing_requests() == 1 and server.file_requests() == 3
    assert all(r is None for _, r in server.behaviour.requests)  # no Range was needed
    # The manifest names the commit and the verified files, not the deleted download folder.
    assert imported.source == f"{REPO}@{REV}" == load_imported_manifest(home)["source"]
    sha = hashlib.sha256(shards[VALID]).hexdigest()
    listed = imported.manifest["download"]["files"][VALID]
    assert listed == {"size": len(shards[VALID]), "sha256": sha}


def load_imported_manifest(home: Path) -> dict:
    return json.loads((home / "amz" / "manifest.json").read_text(encoding="utf-8"))


def test_the_listing_is_read_across_pages(server: Server) -> None:
    server.behaviour.page_size = 1  # one file a page
    assert fetch(server).n_rows("test") == 100
    assert server.listing_requests() == 3


def test_cut_transfer_resumes_with_range(server: Server) -> None:
    server.behaviour.cut_after[TRAIN1] = 1000
    fetch(server)
    assert server.requests_for(TRAIN1) == [None, "bytes=1000-"]
    assert load_imported("amz").fingerprint  # the stitched file read back whole


def test_interrupted_run_resumes_on_the_next(server: Server, home: Path) -> None:
    server.behaviour.cut_after[VALID] = 777
    with pytest.raises(UserError) as info:
        fetch(server, retries=0)
    message = str(info.value)
    assert "\n" not in message and "run the command again to resume" in message
    part = home / ".downloads" / "amz" / "test-00000-of-00001.parquet.part"
    assert part.stat().st_size == 777
    fetch(server)
    # Finished shards are checked again but not fetched twice; the cut one continues.
    assert server.requests_for(VALID) == [None, "bytes=777-"]
    assert len(server.requests_for(TRAIN0)) == 1


def test_a_kept_file_that_was_changed_is_fetched_again(server: Server, home: Path) -> None:
    server.behaviour.cut_after[VALID] = 777
    with pytest.raises(UserError):
        fetch(server, retries=0)
    kept = home / ".downloads" / "amz" / "train-00000-of-00002.parquet"
    kept.write_bytes(kept.read_bytes()[:-1] + b"X")  # damaged between the two runs
    fetch(server)
    assert len(server.requests_for(TRAIN0)) == 2


def test_a_server_that_ignores_range_restarts_cleanly(server: Server) -> None:
    server.behaviour.cut_after[TRAIN0] = 500
    server.behaviour.ignore_range = True
    imported = fetch(server)  # sha256 checked: no doubled prefix
    assert server.requests_for(TRAIN0) == [None, "bytes=500-"]
    assert imported.n_rows("train") == 800


def test_files_that_do_not_match_the_listing_are_refused(server: Server, shards, home) -> None:
    """A mirror whose bytes are not what it lists: deleted, nothing imported."""
    server.behaviour.listed[VALID] = {"oid": "0" * 64}
    with pytest.raises(UserError) as info:
        fetch(server)
    assert str(info.value) == (
        f"{server.url}{server.resolve}{VALID}: corrupt download: sha256 "
        f"{hashlib.sha256(shards[VALID]).hexdigest()[:12]}..., the listing says "
        "000000000000...; deleted it, run the command again"
    )
    assert not list((home / ".downloads" / "amz").glob("test*"))
    assert not (home / "amz").exists()
    server.behaviour.listed[VALID] = {"size": 10, "lfs_size": 10}
    with pytest.raises(UserError, match=r"corrupt download: [\d,]+ bytes, the listing says 10"):
        fetch(server)


def test_a_listing_without_checksums_is_refused(server: Server) -> None:
    server.behaviour.listed[TRAIN1] = {"lfs": None}
    with pytest.raises(UserError, match=f"gives {TRAIN1} no size and sha256"):
        fetch(server)
    assert server.file_requests() == 0


def test_a_listing_that_contradicts_the_pins_is_refused_before_any_download(
    server: Server, shards
) -> None:
    pinned = {VALID: PinnedFile(sha256=hashlib.sha256(b"the real file").hexdigest())}
    with pytest.raises(UserError, match="not a copy of the pinned commit; nothing was downloaded"):
        fetch(server, tiny(pinned=pinned))
    pinned = {VALID: PinnedFile(size=len(shards[VALID]) + 1)}
    with pytest.raises(UserError, match=rf"is {len(shards[VALID]):,} bytes, but test/tiny@"):
        fetch(server, tiny(pinned=pinned))
    with pytest.raises(UserError, match=r"the listing lacks plain_text/extra\.parquet"):
        fetch(server, tiny(pinned={"plain_text/extra.parquet": PinnedFile(size=1)}))
    assert server.file_requests() == 0
    right = {VALID: PinnedFile(len(shards[VALID]), hashlib.sha256(shards[VALID]).hexdigest())}
    assert fetch(server, tiny(pinned=right)).n_rows("test") == 100


def test_not_parquet_wrong_totals_columns_and_labels(server: Server, shards, home) -> None:
    server.files[VALID] = b"<html>mirror error page</html>"  # and listed as such
    with pytest.raises(UserError, match="corrupt download: not a Parquet file"):
        fetch(server)
    server.files[VALID] = shards[VALID]
    with pytest.raises(UserError) as info:
        fetch(server, tiny(splits={"train": ("train", 800), "test": ("validation", 400_000)}))
    assert str(info.value) == (
        "the test files hold 100 rows, but tiny at the pinned commit has 400,000; "
        "deleted them, nothing was imported"
    )
    assert not (home / "amz").exists()
    with pytest.raises(UserError, match=r"has no column sentence \(it has: label, title, content"):
        fetch(server, tiny(text_column="sentence"))
    three = pd.DataFrame({"label": [0, 1, 2] * 34, "title": "t", "content": "a review"})
    server.files[VALID] = three.iloc[:100].to_parquet(index=False)
    with pytest.raises(UserError, match="label 2 is not one of the 2 classes"):
        fetch(server)


def test_a_pinned_split_total_refuses_a_fake_mirror(shards) -> None:
    """#14: a mirror listing its own files consistently, with other rows, is refused."""
    fake = dict(shards)
    fake[VALID] = pd.DataFrame(
        {"label": [0, 1] * 60, "title": "fake", "content": "fake review"}
    ).to_parquet(index=False)
    for srv in serve(fake):
        with pytest.raises(UserError, match="test files hold 120 rows, but tiny at the pinned"):
            fetch(srv)


def _fake_amazon_shards() -> dict[str, bytes]:
    """The #14 fake: 3.6M + 400k rows of fake reviews in a few hundred kilobytes."""
    out = {}
    for path, n in [
        *((f"amazon_polarity/train-0000{i}-of-00004.parquet", 900_000) for i in range(4)),
        ("amazon_polarity/test-00000-of-00001.parquet", 400_000),
    ]:
        text = pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), ["fake review"])
        table = pa.table({"label": pa.array(np.arange(n) % 2), "title": text, "content": text})
        buf = io.BytesIO()
        pq.write_table(table, buf)
        out[path] = buf.getvalue()
    return out


def test_the_fake_amazon_mirror_of_issue_14_is_refused(capsys, home: Path) -> None:
    real = CORPORA["amazon-polarity"]
    fake = _fake_amazon_shards()
    assert sum(map(len, fake.values())) < 2_000_000  # far from the hub's 1.1 GB
    for srv in serve(fake, repo=real.repo, revision=str(real.revision)):
        argv = ["data", "download", "amazon-polarity", "--mirror", srv.url]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "not a copy of the pinned commit" in err
        assert srv.file_requests() == 0  # refused on its listing alone
        # Listing what the pinned commit holds while serving the fake: refused on the bytes.
        test, train0 = real.pinned.values()
        srv.behaviour.listed["amazon_polarity/test-00000-of-00001.parquet"] = {
            "size": test.size, "lfs_size": test.size}  # fmt: skip
        srv.behaviour.listed["amazon_polarity/train-00000-of-00004.parquet"] = {
            "size": train0.size, "lfs_size": train0.size, "oid": train0.sha256}  # fmt: skip
        assert main([*argv, "--name", "fake"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "corrupt download" in err and "the listing says" in err
    assert not (home / "fake").exists() and not (home / "amazon-polarity").exists()
    assert main(["data", "list"]) == 0
    assert "no imported corpora" in capsys.readouterr().out


def test_http_errors_and_timeouts_are_one_line(server: Server, monkeypatch) -> None:
    server.behaviour.no_api = True
    with pytest.raises(UserError, match=r"cannot list test/tiny at 0123456789ab: HTTP 404") as info:
        fetch(server)
    assert "\n" not in str(info.value) and server.file_requests() == 0
    server.behaviour.no_api = False
    del server.files[TRAIN1]  # listed by nobody now: an incomplete set of shards
    with pytest.raises(UserError, match=r"no complete set of plain_text/train-\*.parquet shards"):
        fetch(server)
    server.files[TRAIN1] = server.files[TRAIN0]
    # A server slower than the timeout: every attempt is cut at the timeout, and the attempts
    # are the backoff apart. What the client asked for is recorded, not how long it took.
    server.behaviour.stall = 2.0
    server.behaviour.requests.clear()
    timeouts: list[float] = []
    waits: list[float] = []
    urlopen = urllib.request.urlopen

    def timed_urlopen(request, timeout):
        timeouts.append(timeout)
        return urlopen(request, timeout=timeout)

    monkeypatch.setattr(download.urllib.request, "urlopen", timed_urlopen)
    monkeypatch.setattr(download, "time", SimpleNamespace(sleep=waits.append))
    with pytest.raises(UserError, match=r"download failed after 3 attempts \(.*timed out"):
        fetch(server, timeout=0.3, retries=2, backoff=0.5)
    assert timeouts == [0.3] * 4  # the listing, then every file attempt: bounded by it
    assert waits == [0.5, 1.0]  # the backoff, doubling between attempts
    assert server.file_requests() == 3  # then the download gives up on the file


def test_mirror_from_the_environment_and_bad_mirrors(server: Server, monkeypatch) -> None:
    monkeypatch.setenv("MODELCOLLAPSE_MIRROR", server.url)
    download_corpus(tiny(), name="amz", backoff=0.0)
    assert server.file_requests() == 3
    with pytest.raises(UserError, match="'amz' is already imported"):
        download_corpus(tiny(), name="amz")
    assert server.listing_requests() == 1  # refused before any request
    with pytest.raises(UserError, match=r"--mirror: expected an http\(s\):// URL"):
        download_corpus(tiny(), "ftp://example.org", name="other")


def test_cli_download_list_and_refusals(server: Server, monkeypatch, capsys) -> None:
    monkeypatch.setitem(CORPORA, "tiny", tiny())
    assert main(["data", "download", "tiny", "--mirror", server.url]) == 0
    assert "downloaded 'tiny'" in capsys.readouterr().out
    assert main(["data", "download", "nope"]) == 2
    assert "unknown corpus 'nope' (available: amazon-polarity, " in capsys.readouterr().err
    monkeypatch.setitem(CORPORA, "tiny", tiny(revision=None, unpinned_reason="no commit found"))
    requests = len(server.behaviour.requests)
    assert main(["data", "download", "tiny", "--mirror", server.url, "--name", "t2"]) == 2
    assert capsys.readouterr().err == (
        "modelcollapse: error: NAME: 'tiny' is not pinned yet (no commit found); downloads "
        "take only corpora pinned to a hub commit, so nothing was fetched\n"
    )
    assert len(server.behaviour.requests) == requests
    assert main(["data", "list", "--available"]) == 0
    out = capsys.readouterr().out
    assert "World, Sports, Business, Sci/Tech" in out and "not pinned yet" in out
    assert "amazon-polarity       3,600,000   400,000   ~1,145 MB  2 classes" in out
    assert "fancyzhx/amazon_polarity@9d9c45c" in out


def test_k_class_corpora_wait_for_a_reader_that_keeps_k_classes(
    server: Server, home: Path, monkeypatch
) -> None:
    four = ("World", "Sports", "Business", "Sci/Tech")
    spec = tiny(label_names=four)
    monkeypatch.setattr(download, "reader_keeps_k_classes", lambda: False)
    with pytest.raises(UserError, match=r"'tiny' has 4 classes \(World, Sports, Business, Sci"):
        fetch(server, spec)
    assert not server.behaviour.requests
    # Once the readers keep k classes, the import is handed the class names, not numbers.
    labels = np.arange(100) % 4
    server.files[VALID] = pd.DataFrame(
        {"label": labels, "title": "t", "content": [f"news {i}" for i in range(100)]}
    ).to_parquet(index=False)
    handed: dict[str, object] = {}

    def capture(folder, name, **kwargs):
        handed.update(kwargs, labels=pd.read_parquet(Path(folder) / "test-00000-of-00001.parquet"))
        (home / name).mkdir()
        return ImportedCorpus(name, home / name, {"splits": {}})

    monkeypatch.setattr(download, "reader_keeps_k_classes", lambda: True)
    monkeypatch.setattr(download, "import_corpus", capture)
    assert fetch(server, spec).source == f"{REPO}@{REV}"
    assert handed["text_column"] == "content" and handed["title_column"] == "title"
    assert handed["labels"]["label"].tolist() == [four[i] for i in labels]


def test_name_labels_streams_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "train-00000-of-00001.parquet"
    table = pa.table({"label": pa.array([2, 0, 1, 2], pa.int64()), "text": list("abcd")})
    pq.write_table(table, path, row_group_size=2)
    file = ListedFile("x", path.name, "train", 0, "")
    name_labels(tiny(label_names=("a", "b", "c")), tmp_path, [file])
    back = pq.read_table(path)
    assert back.column("label").to_pylist() == ["c", "a", "b", "c"]
    assert back.column("text").to_pylist() == list("abcd")
    assert pq.ParquetFile(path).num_row_groups == 2


def test_the_table_pins_every_corpus_it_can_to_a_commit() -> None:
    assert list(CORPORA) == [
        "amazon-polarity", "amazon-review-full", "yelp-polarity", "yelp-review-full",
        "ag-news", "imdb", "sst2",
    ]  # fmt: skip
    hub_corpora = [c for c in CORPORA.values() if c.source == "hub"]
    archives = [c for c in CORPORA.values() if c.source == "archive"]
    assert [c.name for c in archives] == ["amazon-review-full"]  # no verifiable hub commit
    for c in archives:
        assert all(re.fullmatch(r"[0-9a-f]{32}", m.md5) for m in c.members.values())
        assert set(c.members) == {"train", "test"} and len(c.label_values) == c.k
    for c in hub_corpora:
        assert c.revision is not None and hub._REVISION.fullmatch(c.revision), c.name
        assert set(c.splits) == {"train", "test"} and c.k == len(set(c.label_names)) >= 2
        for path, pin in c.pinned.items():  # a pin names a shard the download selects
            sources = [s for s, _ in c.splits.values()]
            assert any(path.startswith(f"{c.folder}/{s}-") for s in sources), path
            assert pin.sha256 is None or len(pin.sha256) == 64
    ap = CORPORA["amazon-polarity"]
    assert (ap.rows("train"), ap.rows("test")) == (3_600_000, 400_000)
    assert ap.file_url("https://huggingface.co/", "amazon_polarity/x.parquet") == (
        "https://huggingface.co/datasets/fancyzhx/amazon_polarity/resolve/"
        "9d9c45c18f8c3cf1b23a3c27917b60cbf28f3289/amazon_polarity/x.parquet"
    )
    assert ap.tree_url("https://huggingface.co") == (
        "https://huggingface.co/api/datasets/fancyzhx/amazon_polarity/tree/"
        "9d9c45c18f8c3cf1b23a3c27917b60cbf28f3289/amazon_polarity?recursive=true"
    )
    assert CORPORA["sst2"].splits["test"] == ("validation", 872)
