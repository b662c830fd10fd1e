"""Where cached tokens and feature matrices live (moved by ``MODELCOLLAPSE_CACHE``), and how
a cache entry proves it is whole and ours before it is used.

Every file of an entry is hashed (XXH3, 128 bits) as it is written; the digests and byte counts go
into the entry's metadata, written last (a feature folder's ``meta.json``; a token file's
``NAME.json`` beside it). Loading re-hashes each file and compares: a value changed in
place, a foreign file of the same shape, a missing or truncated file or metadata all fail the
check. A failed entry is moved to ``CACHE/set-aside/`` (replacing an earlier set-aside copy of
the same entry, so damage never fills the disk) and rebuilt, with one warning line saying so.
XXH3 rather than SHA-256 because every load re-hashes the whole entry (2-3 GB for 3.6M
reviews): it runs 4-5 times faster than the standard library's SHA-256 on this project's
loaded machine (docs/benchmarks.md). It detects damage and mix-ups (a foreign file passes with
probability 2^-128), not a forger who also rewrites the metadata.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import IO, Any

import xxhash

from modelcollapse.errors import ModelCollapseWarning

DIGEST = "xxh3_128"  # the metadata's name for the digest
SET_ASIDE = "set-aside"


def cache_dir() -> Path:
    """The cache root: ``$MODELCOLLAPSE_CACHE``, else ``$XDG_CACHE_HOME/modelcollapse``."""
    env = os.environ.get("MODELCOLLAPSE_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "modelcollapse"


class HashingFile:
    """A binary file opened for writing that hashes what goes through it (``np.save`` and
    ``np.lib.format`` accept it as a file); :meth:`record` is what the metadata keeps."""

    def __init__(self, path: Path) -> None:
        self.fh: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()/__exit__
        self.hash = xxhash.xxh3_128()
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.hash.update(view)
        self.size += len(view)
        return self.fh.write(view)

    def tell(self) -> int:  # pyarrow's ParquetWriter asks where it is
        return self.size

    def writable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return self.fh.closed

    def flush(self) -> None:
        self.fh.flush()

    def close(self) -> None:
        self.fh.close()

    def __enter__(self) -> HashingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self) -> dict[str, Any]:
        return {"bytes": self.size, DIGEST: self.hash.hexdigest()}


def write_hashed(path: Path, data: bytes) -> dict[str, Any]:
    """Write ``data`` to ``path``; return its record."""
    with HashingFile(path) as fh:
        fh.write(data)
    return fh.record()


def file_record(path: Path) -> dict[str, Any]:
    """The record of a file already written (read back in 1 MiB blocks)."""
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, xxhash.xxh3_128)
    return {"bytes": path.stat().st_size, DIGEST: digest.hexdigest()}


def check_files(folder: Path, records: Any) -> str | None:
    """Why the files ``records`` (name -> record) describe do not match ``folder``; None
    if every one is there with its recorded size and digest."""
    if not isinstance(records, dict) or not records:
        return "it records no checksums (written by an earlier version)"
    for name, record in records.items():
        path = folder / name
        if not isinstance(record, dict) or not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != record.get("bytes"):
            return f"{name} has {path.stat().st_size} bytes, {record.get('bytes')} were written"
        if file_record(path)[DIGEST] != record.get(DIGEST):
            return f"{name} was changed after it was written (checksum differs)"
    return None


def read_meta(path: Path) -> tuple[dict[str, Any] | None, str | None]:
    """An entry's metadata, or why it cannot be read."""
    if not path.is_file():
        return None, f"{path.name} is missing"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, f"{path.name} is unreadable"
    if not isinstance(meta, dict):
        return None, f"{path.name} is unreadable"
    return meta, None


def set_aside(entry: Path, problem: str, *also: Path) -> Path:
    """Move a damaged cache entry (and its ``also`` files) to ``CACHE/set-aside/`` and say
    so in one warning line; return where it went."""
    aside = cache_dir() / SET_ASIDE
    aside.mkdir(parents=True, exist_ok=True)
    target = aside / entry.name
    for path in (entry, *also):
        moved = aside / path.name
        if moved.is_dir() and not moved.is_symlink():
            shutil.rmtree(moved)
        elif moved.exists() or moved.is_symlink():
            moved.unlink()
        if path.exists() or path.is_symlink():
            os.replace(path, moved)
    warnings.warn(
        f"cache entry {entry} failed its check ({problem}); moved to {target} and rebuilt",
        ModelCollapseWarning,
        stacklevel=3,
    )
    return target
