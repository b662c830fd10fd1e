"""Download a corpus of the table (:mod:`modelcollapse.data.hub`) into the data home, verified.

    modelcollapse data download NAME [--mirror URL]

1. The hub (or ``--mirror``/``$MODELCOLLAPSE_MIRROR``) is asked for the file listing of the
   corpus at its pinned commit; the listing must agree with every size and sha256 the table
   pins, and gives the size and sha256 (``lfs.oid``) of each shard to fetch.
2. Each shard is fetched from ``resolve/<commit>/`` into ``<home>/.downloads/<name>/``
   through ``<file>.part``; a dropped connection is retried with an HTTP Range request for
   the rest, and so is a rerun after an interrupted one.
3. A file is kept only when its size and sha256 equal the listing's and it reads as Parquet;
   a file kept by an interrupted run is checked again. Then each split must hold the table's
   row total, the text/label (and title) columns must exist and every label must be a class
   of the table. Anything else stops with one line (exit 2) and nothing is imported.
4. The folder is imported like any set of Parquet shards, with the table's columns and class
   names, and the download removed.

That is the ``hub`` source. A corpus of the table names its source (``spec.source``) and
:data:`SOURCES` says how each is fetched: the ``archive`` source
(:mod:`modelcollapse.data.archive`, amazon-review-full) reuses the resumable transfer below.

Only the standard library talks HTTP here (``urllib``): no extra dependency.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from modelcollapse.data.archive import ArchiveCorpus, archive_mirror, download_archive
from modelcollapse.data.home import (
    ImportedCorpus,
    Progress,
    check_name,
    get_data_home,
    import_corpus,
    is_imported,
    sha256_file,
)
from modelcollapse.data.hub import HubCorpus, ListedFile, fetch_listing, get_corpus, select_files
from modelcollapse.errors import UserError, one_line
from modelcollapse.registry import Registry

__all__ = ["DEFAULT_MIRROR", "MIRROR_ENV", "SOURCES", "CorpusSource", "download_corpus"]

DEFAULT_MIRROR = "https://huggingface.co"
MIRROR_ENV = "MODELCOLLAPSE_MIRROR"

_BLOCK = 1 << 20


@dataclass(frozen=True)
class CorpusSource:
    """Where a kind of corpus of the table comes from: how ``--mirror`` resolves for it and
    how it is fetched, verified and imported (``fetch(spec, base, name, overwrite=...,
    progress=..., import_progress=..., timeout=..., retries=..., backoff=...)``)."""

    mirror: Callable[[Any, str | None], str]
    fetch: Callable[..., ImportedCorpus]


# A corpus of the table names its source (``spec.source``); download_corpus dispatches here.
SOURCES: Registry[CorpusSource] = Registry("corpus_sources", "corpus source", "NAME")


def download_corpus(
    corpus: str | HubCorpus | ArchiveCorpus,
    mirror: str | None = None,
    name: str | None = None,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    import_progress: Progress | None = None,
    timeout: float = 30.0,
    retries: int = 5,
    backoff: float = 1.0,
) -> ImportedCorpus:
    """Fetch ``corpus`` (a name of :data:`~modelcollapse.data.hub.CORPORA`), verify, import.

    ``name`` (default: the corpus's) is what ``--data`` will take. ``mirror`` defaults to
    ``$MODELCOLLAPSE_MIRROR`` (hub corpora) or ``$MODELCOLLAPSE_ARCHIVE_MIRROR`` (archive
    corpora), else the corpus's own source. ``progress(done, total)`` counts downloaded
    bytes; ``import_progress`` the import after it. Each file gets ``retries`` resumed
    attempts, ``backoff`` seconds apart (doubling); ``timeout`` bounds every connect and read.
    """
    spec = get_corpus(corpus) if isinstance(corpus, str) else corpus
    spec.check_pinned()
    source = SOURCES.get(spec.source)
    base = source.mirror(spec, mirror)
    name = check_name(name or spec.name)
    if is_imported(name) and not overwrite:
        raise UserError(f"'{name}' is already imported; pass --overwrite to replace it", "--name")
    if spec.k > 2 and not reader_keeps_k_classes():
        raise UserError(
            f"'{spec.name}' has {spec.k} classes ({', '.join(spec.label_names)}) and this "
            "version imports two-class corpora only; nothing was fetched",
            "NAME",
        )
    return source.fetch(
        spec, base, name, overwrite=overwrite, progress=progress,
        import_progress=import_progress, timeout=timeout, retries=retries, backoff=backoff,
    )  # fmt: skip


def _download_hub(
    spec: HubCorpus,
    base: str,
    name: str,
    *,
    overwrite: bool,
    progress: Progress | None,
    import_progress: Progress | None,
    timeout: float,
    retries: int,
    backoff: float,
) -> ImportedCorpus:
    """The hub's listing of the pinned commit, each shard against it, the rows, the import."""
    files = select_files(spec, fetch_listing(spec, base, timeout), spec.tree_url(base))
    folder = get_data_home() / ".downloads" / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create {folder} ({one_line(exc)}); set MODELCOLLAPSE_DATA"
        ) from None
    _forget_others(folder, files)
    meter = Meter(progress, sum(f.size for f in files))
    for file in files:
        _fetch(spec.file_url(base, file.path), folder / file.local, file, meter,
               timeout, retries, backoff)  # fmt: skip
    check_contents(spec, folder, files)
    if spec.k > 2:
        name_labels(spec, folder, files)
    imported = import_corpus(
        folder,
        name,
        overwrite=overwrite,
        progress=import_progress,
        text_column=spec.text_column,
        label_column=spec.label_column,
        title_column=spec.title_column,
    )
    shutil.rmtree(folder, ignore_errors=True)
    return _record_origin(imported, spec, base, files)


def _record_origin(
    imported: ImportedCorpus, spec: HubCorpus, base: str, files: Sequence[ListedFile]
) -> ImportedCorpus:
    """The manifest names the repository, commit and verified files, not the download
    folder (gone by now) the import read them from."""
    manifest = dict(imported.manifest)
    manifest["source"] = f"{spec.repo}@{spec.revision}"
    manifest["download"] = {
        "repo": spec.repo,
        "revision": spec.revision,
        "mirror": base,
        "files": {f.path: {"size": f.size, "sha256": f.sha256} for f in files},
    }
    return write_manifest(imported, manifest)


def write_manifest(imported: ImportedCorpus, manifest: dict[str, Any]) -> ImportedCorpus:
    """Replace the imported corpus's manifest (atomically) with ``manifest``."""
    path = imported.path / "manifest.json"
    tmp = path.with_name(".manifest.json.tmp")
    try:
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"cannot write {path} ({one_line(exc)})") from None
    return ImportedCorpus(imported.name, imported.path, manifest)


def _mirror(spec: HubCorpus, mirror: str | None) -> str:
    base = mirror or os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR
    where = "--mirror" if mirror else (MIRROR_ENV if os.environ.get(MIRROR_ENV) else "mirror")
    if not base.startswith(("https://", "http://")):
        raise UserError(f"expected an http(s):// URL, got {base!r}", where)
    return base


def _forget_others(folder: Path, files: Sequence[ListedFile]) -> None:
    """Files an earlier run left that this listing does not name (another corpus or
    commit under the same name) would be imported with the rest: remove them."""
    wanted = {f.local for f in files}
    for path in folder.iterdir():
        stem = path.name.removesuffix(".part").removesuffix(".etag")
        if stem not in wanted:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


class Meter:
    """Bytes done over all files; a restarted file takes back what it had counted."""

    def __init__(self, progress: Progress | None, total: int | None) -> None:
        self.progress = progress
        self.total = total
        self.finished = 0  # bytes of completed files
        self.current = 0  # bytes of the file in flight

    def show(self) -> None:
        if self.progress is not None:
            self.progress(self.finished + self.current, self.total)


def _fetch(
    url: str,
    target: Path,
    file: ListedFile,
    meter: Meter,
    timeout: float,
    retries: int,
    backoff: float,
) -> None:
    """Download ``url`` to ``target`` through ``target.part``, resuming; verify, then rename."""
    if target.exists():  # kept by an earlier, interrupted run: checked again all the same
        try:
            _verify(target, file, url)
        except UserError:
            pass  # _verify deleted it: fetch it again
        else:
            meter.finished += target.stat().st_size
            meter.show()
            return
    part = fetch_part(url, target, file.size, meter, timeout, retries, backoff)
    _verify(part, file, url)
    finish_part(part, target, meter)


def fetch_part(
    url: str,
    target: Path,
    size: int | None,
    meter: Meter,
    timeout: float,
    retries: int,
    backoff: float,
) -> Path:
    """Bring ``url`` whole into ``target.part``, resuming what an earlier attempt or run left
    there; ``size`` (None: not known beforehand) bounds it. The caller verifies the part."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    tag = target.with_name(target.name + ".etag")  # If-Range: resume only the same file
    error: BaseException | None = None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(min(backoff * 2 ** (attempt - 1), 30.0))
        try:
            if _transfer(url, part, tag, size, meter, timeout):
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
    return part


def finish_part(part: Path, target: Path, meter: Meter) -> None:
    """A verified part becomes ``target``; its If-Range tag is no longer needed."""
    os.replace(part, target)
    target.with_name(target.name + ".etag").unlink(missing_ok=True)
    meter.finished += target.stat().st_size
    meter.current = 0
    meter.show()


def _transfer(
    url: str, part: Path, tag: Path, size: int | None, meter: Meter, timeout: float
) -> bool:
    """One request for what ``part`` lacks; True once the file is complete."""
    offset = part.stat().st_size if part.exists() else 0
    if size is not None and offset > size:
        part.unlink()
        offset = 0
    if offset == size and offset:
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
            _, total = _content_range(exc.headers.get("Content-Range", "") if exc.headers else "")
            known = size if size is not None else total
            if known is None or offset == known:  # size unknown: the checks after decide
                return True
            part.unlink()
            return False
        raise
    with response:
        if response.status == 206 and offset:
            start, _ = _content_range(response.headers.get("Content-Range", ""))
            if start != offset:  # not the bytes we asked for: start over
                part.unlink()
                return False
            mode = "ab"
        elif response.status == 200:
            offset, mode = 0, "wb"  # the server ignored Range: restart cleanly
        else:
            raise UserError(f"unexpected HTTP status {response.status}", url)
        length = response.headers.get("Content-Length")
        end = offset + int(length) if length and length.isdigit() else None
        if meter.total is None and end is not None:
            meter.total = meter.finished + end  # a file whose size nothing published
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
    return True  # complete as the server sees it; _verify decides whether it is right


def _content_range(value: str) -> tuple[int, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); a 416's ``bytes */1000`` -> (-1, 1000);
    unparseable -> (-1, None)."""
    unit, _, rest = value.partition(" ")
    span, _, total = rest.partition("/")
    if unit != "bytes":
        return -1, None
    first = span.split("-")[0]
    start = int(first) if first.isdigit() else -1
    return start, (int(total) if total.isdigit() else None)


def _verify(path: Path, file: ListedFile, url: str) -> None:
    """Size and sha256 as listed, and a readable Parquet footer; else delete it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    problem = None
    size = path.stat().st_size
    if size != file.size:
        problem = f"{size:,} bytes, the listing says {file.size:,}"
    elif (digest := sha256_file(path)) != file.sha256:
        problem = f"sha256 {digest[:12]}..., the listing says {file.sha256[:12]}..."
    else:
        try:
            with pq.ParquetFile(path) as pf:
                pf.metadata.num_rows  # noqa: B018 (reading the footer is the check)
        except (pa.ArrowException, OSError, ValueError) as exc:
            problem = f"not a Parquet file ({one_line(exc)})"
    if problem:
        path.unlink(missing_ok=True)
        raise UserError(f"corrupt download: {problem}; deleted it, run the command again", url)


def check_contents(spec: HubCorpus, folder: Path, files: Sequence[ListedFile]) -> None:
    """Row totals per split, the table's columns, and labels within its classes.

    A split that fails is deleted (a rerun fetches it again) and nothing is imported.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for split in spec.splits:
        paths = [folder / f.local for f in files if f.split == split]
        problem = None
        rows = 0
        for path in paths:
            with pq.ParquetFile(path) as pf:
                rows += pf.metadata.num_rows
                names = pf.schema_arrow.names
                wanted = [spec.text_column, spec.label_column, spec.title_column]
                missing = [c for c in wanted if c and c not in names]
                if missing:
                    problem = (
                        f"{path.name} has no column {', '.join(missing)} (it has: "
                        f"{', '.join(names)})"
                    )
                    break
                labels = pf.read(columns=[spec.label_column]).column(0)
            if labels.null_count or not _is_integer(labels.type):
                problem = f"{path.name}: labels must be class numbers 0-{spec.k - 1}"
                break
            low, high = pc.min_max(labels).values()
            if len(labels) and (low.as_py() < 0 or high.as_py() >= spec.k):
                problem = (
                    f"{path.name}: label {low.as_py() if low.as_py() < 0 else high.as_py()} is "
                    f"not one of the {spec.k} classes (0-{spec.k - 1})"
                )
                break
        expected = spec.rows(split)
        if problem is None and rows != expected:
            problem = (
                f"the {split} files hold {rows:,} rows, but {spec.name} at the pinned commit "
                f"has {expected:,}"
            )
        if problem:
            for path in paths:
                path.unlink(missing_ok=True)
            raise UserError(f"{problem}; deleted them, nothing was imported")


def _is_integer(kind: object) -> bool:
    import pyarrow as pa

    return pa.types.is_integer(kind)  # type: ignore[arg-type]


def name_labels(spec: HubCorpus, folder: Path, files: Sequence[ListedFile]) -> None:
    """Label numbers become the table's class names, so the import stores the names.

    Row group by row group: never a whole shard in memory. Runs after every check, on the
    verified files, in place.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    names = pa.array(spec.label_names, pa.string())
    for file in files:
        path = folder / file.local
        tmp = path.with_name(path.name + ".named")
        with pq.ParquetFile(path) as pf:
            schema = pf.schema_arrow
            index = schema.get_field_index(spec.label_column)
            schema = schema.set(index, pa.field(spec.label_column, pa.string()))
            with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
                for group in range(pf.num_row_groups):
                    table = pf.read_row_group(group)
                    named = pc.take(names, table.column(index))
                    writer.write_table(table.set_column(index, schema.field(index), named))
        os.replace(tmp, path)


def reader_keeps_k_classes() -> bool:
    """Whether the installed readers keep three label values as three classes.

    A probe rather than a version check: the corpus type and the readers gain k classes in
    another part of the same work, and this module should need no edit when they do.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from modelcollapse.data.readers import read_corpus

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "probe.parquet"
        labels = ["a", "b", "c"] * 2
        pq.write_table(pa.table({"text": [f"t{i}" for i in range(6)], "label": labels}), path)
        try:
            corpus = read_corpus(path)
        except UserError:
            return False
    return len(set(corpus.labels.tolist())) == 3


def _version() -> str:
    with contextlib.suppress(metadata.PackageNotFoundError):
        return metadata.version("modelcollapse")
    return "dev"


SOURCES.register("hub", CorpusSource(_mirror, _download_hub))
SOURCES.register("archive", CorpusSource(archive_mirror, download_archive))
