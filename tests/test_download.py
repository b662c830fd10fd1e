"""Downloads against a real HTTP server on 127.0.0.1: cut transfers resume, corrupt files go."""

from __future__ import annotations

import hashlib
import io
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from modelcollapse.cli import main
from modelcollapse.data import download
from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.data.download import RemoteDataset, RemoteFile, download_amazon_polarity
from modelcollapse.data.home import load_imported
from modelcollapse.errors import UserError

PREFIX = "/datasets/fancyzhx/amazon_polarity/resolve/main/"


@dataclass
class Behaviour:
    """What the server does; tests change it between requests."""

    cut_after: dict[str, int] = field(default_factory=dict)  # path -> bytes, first request only
    ignore_range: bool = False
    stall: float = 0.0  # seconds before answering
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range)


class Server:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.behaviour = Behaviour()
        behaviour, served = self.behaviour, files

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # a stuck client cannot hold a server thread for long

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.removeprefix(PREFIX)
                behaviour.requests.append((path, self.headers.get("Range")))
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

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def requests_for(self, path: str) -> list[str | None]:
        return [r for p, r in self.behaviour.requests if p == path]


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(path))
    monkeypatch.delenv("MODELCOLLAPSE_MIRROR", raising=False)
    return path


@pytest.fixture(scope="module")
def shards() -> dict[str, bytes]:
    """The Hugging Face layout in miniature: two train shards and a test shard."""
    corpus = make_demo_corpus(n=900, seed=5)
    titles, bodies = zip(*(t.split(": ", 1) for t in corpus.texts), strict=True)
    frame = pd.DataFrame(
        {"label": corpus.labels.astype(np.int64), "title": titles, "content": bodies}
    )
    out: dict[str, bytes] = {}
    for path, part in (
        ("amazon_polarity/train-00000-of-00002.parquet", frame.iloc[:400]),
        ("amazon_polarity/train-00001-of-00002.parquet", frame.iloc[400:800]),
        ("amazon_polarity/test-00000-of-00001.parquet", frame.iloc[800:]),
    ):
        out[path] = part.to_parquet(index=False)
    return out


@pytest.fixture
def server(shards: dict[str, bytes]) -> Iterator[Server]:
    srv = Server(dict(shards))
    srv.thread.start()
    yield srv
    srv.httpd.shutdown()  # serve_forever returns; the thread ends
    srv.httpd.server_close()
    srv.thread.join(timeout=5)
    assert not srv.thread.is_alive()


def table(shards: dict[str, bytes], **changes: RemoteFile) -> list[RemoteFile]:
    """The files as the shipped table would list them, fully known."""
    files = [
        RemoteFile(p, len(b), hashlib.sha256(b).hexdigest(), len(pd.read_parquet(io.BytesIO(b))))
        for p, b in shards.items()
    ]
    return [changes.get(Path(f.path).stem.split("-")[0], f) for f in files]


def fetch(server: Server, files: list[RemoteFile], **kwargs) -> object:
    kwargs.setdefault("timeout", 5.0)
    kwargs.setdefault("backoff", 0.0)
    kwargs.setdefault("retries", 2)
    return download_amazon_polarity(server.url, "amz", files=files, **kwargs)


def test_download_verifies_and_imports(server: Server, shards, home: Path) -> None:
    seen: list[int] = []
    imported = fetch(
        server,
        table(shards),
        split_rows={"train": 800, "test": 100},
        progress=lambda done, total: seen.append(done),
    )
    assert imported.n_rows("train") == 800 and imported.n_rows("test") == 100
    corpus = load_imported("amz")
    assert corpus.test_mask is not None and corpus.test_mask.sum() == 100
    assert seen[-1] == sum(len(b) for b in shards.values()) and seen == sorted(seen)
    assert not (home / ".downloads" / "amz").exists()  # the download is gone once imported
    assert all(r is None for _, r in server.behaviour.requests)  # no Range was needed


def test_cut_transfer_resumes_with_range(server: Server, shards) -> None:
    path = "amazon_polarity/train-00001-of-00002.parquet"
    server.behaviour.cut_after[path] = 1000
    fetch(server, table(shards))
    assert server.requests_for(path) == [None, "bytes=1000-"]
    assert load_imported("amz").fingerprint  # the stitched file read back whole


def test_interrupted_run_resumes_on_the_next(server: Server, shards, home: Path) -> None:
    path = "amazon_polarity/test-00000-of-00001.parquet"
    server.behaviour.cut_after[path] = 777
    with pytest.raises(UserError) as info:
        fetch(server, table(shards), retries=0)
    message = str(info.value)
    assert "\n" not in message and "run the command again to resume" in message
    part = home / ".downloads" / "amz" / (path + ".part")
    assert part.stat().st_size == 777
    fetch(server, table(shards))
    # Finished shards are not fetched twice; the cut one continues where it stopped.
    assert server.requests_for(path) == [None, "bytes=777-"]
    assert len(server.requests_for("amazon_polarity/train-00000-of-00002.parquet")) == 1


def test_a_server_that_ignores_range_restarts_cleanly(server: Server, shards) -> None:
    path = "amazon_polarity/train-00000-of-00002.parquet"
    server.behaviour.cut_after[path] = 500
    server.behaviour.ignore_range = True
    imported = fetch(server, table(shards))  # sha256 checked: no doubled prefix
    assert server.requests_for(path) == [None, "bytes=500-"]
    assert imported.n_rows("train") == 800


def test_a_corrupt_file_is_rejected_and_deleted(server: Server, shards, home: Path) -> None:
    path = "amazon_polarity/test-00000-of-00001.parquet"
    wrong = RemoteFile(path, size=len(shards[path]), sha256="0" * 64)
    with pytest.raises(UserError) as info:
        fetch(server, table(shards, test=wrong))
    assert str(info.value) == (
        f"{server.url}{PREFIX}{path}: corrupt download: sha256 "
        f"{hashlib.sha256(shards[path]).hexdigest()[:12]}..., expected 000000000000...; "
        "deleted it, run the command again"
    )
    folder = home / ".downloads" / "amz" / "amazon_polarity"
    assert not (folder / path).exists() and not list(folder.glob("test*"))
    assert not (home / "amz").exists()


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"size": 10}, "bytes, expected 10"),
        ({"rows": 3}, "100 rows, expected 3"),
    ],
)
def test_wrong_size_or_rows_are_rejected(server: Server, shards, change, fragment) -> None:
    path = "amazon_polarity/test-00000-of-00001.parquet"
    fields = {"size": None, "sha256": None, "rows": None, **change}
    with pytest.raises(UserError, match=fragment):
        fetch(server, table(shards, test=RemoteFile(path, **fields)))


def test_not_parquet_and_wrong_totals(server: Server, shards) -> None:
    path = "amazon_polarity/test-00000-of-00001.parquet"
    server.files[path] = b"<html>mirror error page</html>"
    with pytest.raises(UserError, match="corrupt download: not a Parquet file"):
        fetch(server, [RemoteFile(path)])
    server.files[path] = shards[path]
    with pytest.raises(UserError, match=r"test files hold 100 rows, expected 400,000"):
        fetch(server, [RemoteFile(path)], split_rows={"test": 400_000})


def test_http_errors_and_timeouts_are_one_line(server: Server, shards, monkeypatch) -> None:
    with pytest.raises(UserError, match=r"HTTP 404 Not Found") as info:
        fetch(server, [RemoteFile("amazon_polarity/train-00009-of-00010.parquet")])
    assert "\n" not in str(info.value)
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
        fetch(server, table(shards), timeout=0.3, retries=2, backoff=0.5)
    assert timeouts == [0.3, 0.3, 0.3]  # every attempt bounded by the timeout
    assert waits == [0.5, 1.0]  # the backoff, doubling between attempts
    assert len(server.behaviour.requests) == 3  # then the download gives up on the file


def test_mirror_from_the_environment_and_bad_mirrors(server: Server, shards, monkeypatch) -> None:
    monkeypatch.setenv("MODELCOLLAPSE_MIRROR", server.url)
    download_amazon_polarity(name="amz", files=table(shards), backoff=0.0)
    assert len(server.behaviour.requests) == 3
    with pytest.raises(UserError, match="'amz' is already imported"):
        download_amazon_polarity(name="amz", files=table(shards))
    assert len(server.behaviour.requests) == 3  # refused before any request
    with pytest.raises(UserError, match=r"--mirror: expected an http\(s\):// URL"):
        download_amazon_polarity("ftp://example.org", name="other")


def test_cli_download(server: Server, shards, monkeypatch, capsys) -> None:
    dataset = RemoteDataset(
        download.AMAZON_POLARITY.repo,
        download.AMAZON_POLARITY.revision,
        tuple(table(shards)),
        {"train": 800, "test": 100},
    )
    monkeypatch.setattr(download, "AMAZON_POLARITY", dataset)
    argv = ["data", "download", "amazon-polarity", "--mirror", server.url, "--name", "hf"]
    assert main(argv) == 0
    assert "downloaded 'hf'" in capsys.readouterr().out
    assert main(["data", "download", "imdb"]) == 2
    assert "unknown dataset 'imdb' (available: amazon-polarity)" in capsys.readouterr().err


def test_shipped_table_names_the_real_files() -> None:
    ds = download.AMAZON_POLARITY
    assert ds.split_rows == {"train": 3_600_000, "test": 400_000}
    assert [Path(f.path).name for f in ds.files] == [
        *(f"train-0000{i}-of-00004.parquet" for i in range(4)),
        "test-00000-of-00001.parquet",
    ]
    assert ds.url("https://huggingface.co/", ds.files[-1]) == (
        "https://huggingface.co/datasets/fancyzhx/amazon_polarity/resolve/main/"
        "amazon_polarity/test-00000-of-00001.parquet"
    )
