"""Corpora by name from their original archive, not the hub: the "archive" source.

Some corpora have no hub repository and commit that public records confirm, but their original
distribution is well recorded: Zhang et al.'s (2015) tar archives of headerless
``class,title,text`` CSV files, whose extracted files' MD5s and line counts torchtext
publishes. ``modelcollapse data download NAME`` for such a corpus (an :class:`ArchiveCorpus` of
the table in :mod:`modelcollapse.data.hub`):

1. fetches the archive from ``{mirror}/{archive}`` (``--mirror`` or
   ``$MODELCOLLAPSE_ARCHIVE_MIRROR``, else :attr:`ArchiveCorpus.default_mirror`) into
   ``<home>/.downloads/<name>/`` through ``<archive>.part``, resuming with HTTP Range as the
   hub download does;
2. reads the archive as a stream (never unpacked to disk whole) and writes each wanted member
   to ``train.csv``/``test.csv`` while computing its MD5 and counting its lines; a member whose
   MD5 or line count differs from the published one refuses the download in one line, the
   archive and the extracted files are deleted, and nothing is imported;
3. imports the two files through the ``amazon-csv`` reader with the label values fixed
   (``--labels``: any other value refuses the import), no bad line allowed, and stores the
   classes under the table's names ("1 star" ... "5 stars").

The archive's own MD5 is recorded in the manifest, and compared with the one torchtext publishes
for the Google Drive archive; a mirror's archive may be packed differently (other bytes, the
same files), so that comparison is reported, not required: the extracted files are what is
verified.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar

from modelcollapse.errors import UserError, one_line

if TYPE_CHECKING:  # the table (modelcollapse.data.hub) imports this module: keep it light
    from modelcollapse.data.home import Progress

__all__ = ["ARCHIVE_MIRROR_ENV", "ArchiveCorpus", "ArchiveMember", "download_archive"]

ARCHIVE_MIRROR_ENV = "MODELCOLLAPSE_ARCHIVE_MIRROR"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class ArchiveMember:
    """One file of the archive as published: its path inside, MD5 and line count."""

    path: str
    md5: str
    rows: int


@dataclass(frozen=True)
class ArchiveCorpus:
    """A corpus fetched as its original archive and verified by its members' published MD5s.

    ``members`` maps our split to the member that makes it. ``label_values`` are the class
    values the CSV holds, in class order; ``label_names`` what they are called (the table's
    names, stored with the corpus).
    """

    source: ClassVar[str] = "archive"
    checked: ClassVar[str] = (
        "the MD5 and line count of each file extracted from the archive against the published ones"
    )

    name: str
    description: str
    archive: str  # file name under the mirror
    default_mirror: str
    members: dict[str, ArchiveMember]
    label_values: tuple[str, ...]
    label_names: tuple[str, ...]
    published_archive_md5: str | None = None  # of the original distribution's archive
    approx_bytes: int | None = None
    fmt: str = "amazon-csv"

    @property
    def k(self) -> int:
        return len(self.label_names)

    def rows(self, split: str) -> int:
        return self.members[split].rows if split in self.members else 0

    def check_pinned(self) -> None:
        """Always pinned: the published MD5s are in the table."""

    @property
    def where(self) -> str:
        return f"{self.archive} from {self.default_mirror}"

    def table_cells(self) -> tuple[str, str, str]:
        """(source, text, what the table pins) for the corpora table of docs/data.md."""
        pins = "; ".join(
            f"`{Path(m.path).name}`: MD5 and {m.rows:,} lines" for m in self.members.values()
        )
        return f"archive `{self.archive}` (Zhang et al. 2015)", "`title: text`", pins

    def url(self, mirror: str) -> str:
        return f"{mirror.rstrip('/')}/{urllib.parse.quote(self.archive)}"


def archive_mirror(spec: ArchiveCorpus, mirror: str | None) -> str:
    base = mirror or os.environ.get(ARCHIVE_MIRROR_ENV) or spec.default_mirror
    env = os.environ.get(ARCHIVE_MIRROR_ENV)
    where = "--mirror" if mirror else (ARCHIVE_MIRROR_ENV if env else "mirror")
    if not base.startswith(("https://", "http://")):
        raise UserError(f"expected an http(s):// URL, got {base!r}", where)
    return base


def download_archive(
    spec: ArchiveCorpus,
    base: str,
    name: str,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    import_progress: Progress | None = None,
    timeout: float = 30.0,
    retries: int = 5,
    backoff: float = 1.0,
) -> Any:
    """Fetch, verify and import an archive corpus from the mirror ``base`` (resolved by
    :func:`archive_mirror`; ``name`` checked by the caller)."""
    from modelcollapse.data.download import Meter, fetch_part, finish_part
    from modelcollapse.data.home import get_data_home, import_corpus

    url = spec.url(base)
    folder = get_data_home() / ".downloads" / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create {folder} ({one_line(exc)}); set MODELCOLLAPSE_DATA"
        ) from None
    for path in folder.iterdir():  # another corpus's files under this name would mix in
        if path.name.removesuffix(".part").removesuffix(".etag") != spec.archive:
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    archive = folder / spec.archive
    meter = Meter(progress, spec.approx_bytes)
    if not archive.exists():  # else complete from an earlier run: its members decide below
        part = fetch_part(url, archive, None, meter, timeout, retries, backoff)
        finish_part(part, archive, meter)
    archive_md5 = extract_verified(spec, archive, folder, url)
    imported = import_corpus(
        folder,
        name,
        overwrite=overwrite,
        progress=import_progress,
        max_skipped=0.0,  # the files are the published ones: a bad line means a reader bug
        fmt=spec.fmt,
        labels=spec.label_values,
    )
    shutil.rmtree(folder, ignore_errors=True)
    return _record_origin(imported, spec, url, archive_md5)


def extract_verified(spec: ArchiveCorpus, archive: Path, folder: Path, url: str) -> str:
    """Stream the wanted members out of ``archive`` into ``folder/{split}.csv``, each checked
    against its published MD5 and line count; the archive's MD5. On any failure everything
    is deleted (a rerun downloads again) and one line says why."""
    wanted = {m.path: split for split, m in spec.members.items()}
    found: dict[str, tuple[str, int]] = {}
    archive_hash = hashlib.md5(usedforsecurity=False)
    problem = None
    try:
        with open(archive, "rb") as raw:
            hashing = _Hashing(raw, archive_hash)
            with tarfile.open(fileobj=hashing, mode="r|*") as tar:  # a stream: one pass
                for info in tar:
                    split = wanted.get(info.name)
                    if split is None or not info.isfile():
                        continue
                    member = tar.extractfile(info)
                    assert member is not None  # a regular file
                    found[split] = _copy_counting(member, folder / f"{split}.csv.tmp")
            hashing.drain()
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        problem = f"not a readable tar archive ({one_line(exc)})"
    if problem is None:
        for split, member in spec.members.items():
            if split not in found:
                problem = f"the archive has no {member.path}"
                break
            md5, lines = found[split]
            if md5 != member.md5:
                problem = f"{member.path} has MD5 {md5}, the published one is {member.md5}"
                break
            if lines != member.rows:
                problem = (
                    f"{member.path} has {lines:,} lines, the published count is {member.rows:,}"
                )
                break
    if problem is not None:
        for path in folder.iterdir():
            path.unlink(missing_ok=True)
        raise UserError(
            f"corrupt download: {problem}; deleted it, nothing was imported, run the command again",
            url,
        )
    for split in spec.members:
        os.replace(folder / f"{split}.csv.tmp", folder / f"{split}.csv")
    return archive_hash.hexdigest()  # the archive stays until the import has succeeded


class _Hashing:
    """A read-only stream that hashes what passes through it (the archive, read once)."""

    def __init__(self, raw: IO[bytes], digest: Any) -> None:
        self.raw = raw
        self.digest = digest

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data

    def drain(self) -> None:
        """tarfile stops at the end-of-archive marker: hash the padding after it too."""
        while self.read(_BLOCK):
            pass


def _copy_counting(member: IO[bytes], out: Path) -> tuple[str, int]:
    digest = hashlib.md5(usedforsecurity=False)
    lines = 0
    with open(out, "wb") as fh:
        while block := member.read(_BLOCK):
            digest.update(block)
            lines += block.count(b"\n")
            fh.write(block)
    return digest.hexdigest(), lines


def _record_origin(imported: Any, spec: ArchiveCorpus, url: str, archive_md5: str) -> Any:
    """The manifest names the archive and what was verified, and the classes by the table's
    names (names are not part of the fingerprint, so renaming them changes no data)."""
    from modelcollapse.data.download import write_manifest

    manifest = dict(imported.manifest)
    manifest["label_names"] = list(spec.label_names)
    manifest["source"] = url
    manifest["download"] = {
        "archive": spec.archive,
        "url": url,
        "archive_md5": archive_md5,
        "archive_md5_is_the_published_one": archive_md5 == spec.published_archive_md5,
        "files": {
            m.path: {"split": split, "md5": m.md5, "rows": m.rows}
            for split, m in spec.members.items()
        },
        "label_values": list(spec.label_values),
    }
    return write_manifest(imported, manifest)
