"""Fetch the Amazon polarity corpus (Hugging Face ``fancyzhx/amazon_polarity``) into the data home.

    modelcollapse data download amazon-polarity [--mirror URL]

Bytes land in ``<home>/.downloads/<name>/<file>.part``; a dropped connection is retried with an
HTTP Range request for the rest, and so is a rerun after an interrupted one. A file is kept
only once it reads as Parquet; sizes, sha256s and per-file rows are checked where the table
below knows them, which for the shipped table is nowhere (its revision, ``main``, is not
pinned either), so what the shipped download checks is a readable Parquet footer per file and
the split totals. Then the folder is imported like any set of Parquet shards and the download
removed.
Only the standard library talks HTTP here (``urllib``): no extra dependency.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from modelcollapse.data.home import (
    ImportedCorpus,
    Progress,
    check_name,
    get_data_home,
    import_corpus,
    is_imported,
    sha256_file,
)
from modelcollapse.errors import UserError, one_line

__all__ = [
    "AMAZON_POLARITY",
    "DEFAULT_MIRROR",
    "MIRROR_ENV",
    "RemoteDataset",
    "RemoteFile",
    "download_amazon_polarity",
]

DEFAULT_MIRROR = "https://huggingface.co"
MIRROR_ENV = "MODELCOLLAPSE_MIRROR"
UNKNOWN = None  # a value the table cannot vouch for: not checked

_BLOCK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset repository and what it must look like once downloaded."""

    path: str  # inside the repository, e.g. "amazon_polarity/test-00000-of-00001.parquet"
    size: int | None = UNKNOWN  # bytes
    sha256: str | None = UNKNOWN
    rows: int | None = UNKNOWN


@dataclass(frozen=True)
class RemoteDataset:
    repo: str
    revision: str
    files: tuple[RemoteFile, ...]
    split_rows: dict[str, int]  # checked over all files of a split
    approx_bytes: int | None = None  # for the progress bar only, when sizes are unknown

    def url(self, mirror: str, file: RemoteFile) -> str:
        return f"{mirror.rstrip('/')}/datasets/{self.repo}/resolve/{self.revision}/{file.path}"


# Shard names from the repository; sizes, checksums and per-file rows could not be looked
# up when this was written (no network), so only the split totals of the published
# dataset are checked. Fill them in from the hub's file listing to pin the exact bytes.
AMAZON_POLARITY = RemoteDataset(
    repo="fancyzhx/amazon_polarity",
    revision="main",
    files=(
        RemoteFile("amazon_polarity/train-00000-of-00004.parquet"),
        RemoteFile("amazon_polarity/train-00001-of-00004.parquet"),
        RemoteFile("amazon_polarity/train-00002-of-00004.parquet"),
        RemoteFile("amazon_polarity/train-00003-of-00004.parquet"),
        RemoteFile("amazon_polarity/test-00000-of-00001.parquet"),
    ),
    split_rows={"train": 3_600_000, "test": 400_000},
    approx_bytes=1_145_430_497,  # the dataset card's download_size
)


def download_amazon_polarity(
    mirror: str | None = None,
    name: str = "amazon-polarity",
    *,
    files: Sequence[RemoteFile] | None = None,
    split_rows: dict[str, int] | None = None,
    overwrite: bool = False,
    progress: Progress | None = None,
    import_progress: Progress | None = None,
    timeout: float = 30.0,
    retries: int = 5,
    backoff: float = 1.0,
) -> ImportedCorpus:
    """Download the Parquet shards, verify them and import them as ``name``.

    ``mirror`` defaults to ``$MODELCOLLAPSE_MIRROR``, else the hub. ``files`` replaces the
    shipped table (tests serve their own); then only ``split_rows`` totals, if given, are
    checked. ``progress(done, total)`` counts downloaded bytes; ``import_progress`` the
    import after it. Each file gets ``retries`` resumed attempts, ``backoff`` seconds apart
    (doubling); ``timeout`` bounds every connect and read.
    """
    base = _mirror(mirror)
    check_name(name)
    if is_imported(name) and not overwrite:
        raise UserError(f"'{name}' is already imported; pass --overwrite to replace it", "--name")
    dataset = AMAZON_POLARITY
    if files is not None:
        dataset = RemoteDataset(dataset.repo, dataset.revision, tuple(files), split_rows or {})
    folder = get_data_home() / ".downloads" / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create {folder} ({one_line(exc)}); set MODELCOLLAPSE_DATA"
        ) from None

    meter = _Meter(progress, dataset)
    for file in dataset.files:
        target = folder / file.path
        _fetch(dataset.url(base, file), target, file, meter, timeout, retries, backoff)
    _check_split_rows(folder, dataset)
    imported = import_corpus(folder, name, overwrite=overwrite, progress=import_progress)
    shutil.rmtree(folder, ignore_errors=True)
    return imported


def _mirror(mirror: str | None) -> str:
    base = mirror or os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR
    where = "--mirror" if mirror else (MIRROR_ENV if os.environ.get(MIRROR_ENV) else "mirror")
    if not base.startswith(("https://", "http://")):
        raise UserError(f"expected an http(s):// URL, got {base!r}", where)
    return base


class _Meter:
    """Bytes done over all files; a restarted file takes back what it had counted."""

    def __init__(self, progress: Progress | None, dataset: RemoteDataset) -> None:
        self.progress = progress
        sizes = [f.size for f in dataset.files]
        self.total = sum(s or 0 for s in sizes) if None not in sizes else dataset.approx_bytes
        self.finished = 0  # bytes of completed files
        self.current = 0  # bytes of the file in flight

    def show(self) -> None:
        if self.progress is not None:
            self.progress(self.finished + self.current, self.total)


def _fetch(
    url: str,
    target: Path,
    file: RemoteFile,
    meter: _Meter,
    timeout: float,
    retries: int,
    backoff: float,
) -> None:
    """Download ``url`` to ``target`` through ``target.part``, resuming; verify, then rename."""
    if target.exists():  # verified by an earlier, interrupted run
        meter.finished += target.stat().st_size
        meter.show()
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    tag = target.with_name(target.name + ".etag")  # If-Range: resume only the same file
    error: BaseException | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(min(backoff * 2 ** (attempt - 1), 30.0))
        try:
            if _transfer(url, part, tag, file, meter, timeout):
                break
        except urllib.error.HTTPError as exc:
            if exc.code not in (408, 425, 429, 500, 502, 503, 504):
                raise UserError(f"HTTP {exc.code} {exc.reason}", url) from None
            error = exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            error = exc  # timeouts, resets, DNS: try again from where the file stopped
    else:
        got = part.stat().st_size if part.exists() else 0
        raise UserError(
            f"download failed after {retries + 1} attempts ({one_line(error or 'incomplete')}); "
            f"{got:,} bytes kept in {part}: run the command again to resume",
            url,
        )
    _verify(part, file, url)
    os.replace(part, target)
    tag.unlink(missing_ok=True)
    meter.finished += target.stat().st_size
    meter.current = 0
    meter.show()


def _transfer(
    url: str, part: Path, tag: Path, file: RemoteFile, meter: _Meter, timeout: float
) -> bool:
    """One request for what ``part`` lacks; True once the file is complete."""
    offset = part.stat().st_size if part.exists() else 0
    if file.size is not None and offset > file.size:
        part.unlink()
        offset = 0
    if file.size is not None and offset == file.size:
        return True
    headers = {"User-Agent": f"modelcollapse/{_version()}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        etag = tag.read_text().strip() if tag.exists() else ""
        if etag:
            headers["If-Range"] = etag
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)  # http(s) only: see _mirror
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # nothing left to send: complete, or a stale part
            if file.size is None or offset == file.size:
                return True
            part.unlink()
            return False
        raise
    with response:
        if response.status == 206 and offset:
            start, total = _content_range(response.headers.get("Content-Range", ""))
            if start != offset:  # not the bytes we asked for: start over
                part.unlink()
                return False
            mode = "ab"
        elif response.status == 200:
            offset, total, mode = 0, None, "wb"  # the server ignored Range: restart cleanly
        else:
            raise UserError(f"unexpected HTTP status {response.status}", url)
        length = response.headers.get("Content-Length")
        end = offset + int(length) if length and length.isdigit() else total
        etag = response.headers.get("ETag", "")
        if etag and not etag.startswith("W/"):
            tag.write_text(etag)
        meter.current = offset
        with open(part, mode) as out:
            while block := response.read(_BLOCK):
                out.write(block)
                meter.current += len(block)
                meter.show()
    size = part.stat().st_size
    if end is not None and size < end:
        raise http.client.IncompleteRead(b"", end - size)  # retried: resumes at ``size``
    return end is not None or file.size is None or size == file.size


def _content_range(value: str) -> tuple[int, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); unparseable -> (-1, None)."""
    try:
        unit, _, rest = value.partition(" ")
        span, _, total = rest.partition("/")
        start = int(span.split("-")[0])
        return (start if unit == "bytes" else -1), (int(total) if total.isdigit() else None)
    except ValueError:
        return -1, None


def _verify(part: Path, file: RemoteFile, url: str) -> None:
    """Size, sha256 and a readable Parquet footer (with its row count); else delete it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    problem = None
    size = part.stat().st_size
    if file.size is not None and size != file.size:
        problem = f"{size:,} bytes, expected {file.size:,}"
    elif file.sha256 is not None and (digest := sha256_file(part)) != file.sha256.lower():
        problem = f"sha256 {digest[:12]}..., expected {file.sha256[:12]}..."
    else:
        try:
            with pq.ParquetFile(part) as pf:
                rows = pf.metadata.num_rows
            if file.rows is not None and rows != file.rows:
                problem = f"{rows:,} rows, expected {file.rows:,}"
        except (pa.ArrowException, OSError, ValueError) as exc:
            problem = f"not a Parquet file ({one_line(exc)})"
    if problem:
        part.unlink(missing_ok=True)
        raise UserError(f"corrupt download: {problem}; deleted it, run the command again", url)


def _check_split_rows(folder: Path, dataset: RemoteDataset) -> None:
    """The published totals (3.6M/400k): a mirror serving another version is refused."""
    import pyarrow.parquet as pq

    for split, expected in dataset.split_rows.items():
        paths = [folder / f.path for f in dataset.files if Path(f.path).name.startswith(split)]
        rows = 0
        for path in paths:
            with pq.ParquetFile(path) as pf:
                rows += pf.metadata.num_rows
        if rows != expected:
            for path in paths:
                path.unlink(missing_ok=True)
            raise UserError(
                f"the {split} files hold {rows:,} rows, expected {expected:,} (another version "
                "of the dataset?); deleted them"
            )


def _version() -> str:
    with contextlib.suppress(metadata.PackageNotFoundError):
        return metadata.version("modelcollapse")
    return "dev"
