"""The data home: corpora imported once as Parquet, then loaded by name in seconds.

Reading the Kaggle archive takes minutes (bz2); its Parquet copy loads 4M reviews fast and
carries a manifest that says where it came from and what was skipped. Layout::

    <home>/<name>/train.parquet    text (string), label (int8 class code; names in the manifest)
    <home>/<name>/test.parquet     the source's own test split, when it has one
    <home>/<name>/manifest.json    source, class names, counts, sha256 of each file, fingerprints,
                                   skips
    <home>/.tmp-<name>-*/          an import in progress, renamed to <name> when complete
    <home>/.downloads/<name>/      downloads in progress (see ``download.py``)

The home is ``$MODELCOLLAPSE_DATA``, else ``$XDG_DATA_HOME/modelcollapse``, else
``~/.local/share/modelcollapse`` (as scikit-learn's ``SCIKIT_LEARN_DATA``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from modelcollapse.atomic import atomic_write, clean_stale_temps
from modelcollapse.data.corpus import Corpus
from modelcollapse.data.readers import (
    DATA_FORMATS,
    ReviewStream,
    Source,
    _LabelParser,
)
from modelcollapse.errors import UserError, one_line

__all__ = [
    "ImportedCorpus",
    "Progress",
    "get_data_home",
    "import_corpus",
    "is_imported",
    "list_corpora",
    "load_imported",
]

Progress = Callable[[int, int | None], None]
"""Called as ``progress(done, total)`` in bytes of input; ``total`` is None when unknown."""

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
SPLITS = ("train", "test")
DEFAULT_MAX_SKIPPED = 0.01  # refuse an import when more than 1% of its lines are bad

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_RESERVED = {"demo"}  # ``--data demo`` is the built-in corpus
# train-00000-of-00004.parquet (Hugging Face shards), with an optional hash suffix
_SHARD = re.compile(r"(train|test)-(\d+)-of-(\d+)(?:-[0-9a-f]+)?\.parquet", re.IGNORECASE)
_SPLIT_WORDS = {"train": "train", "training": "train", "test": "test", "testing": "test"}
# Besides these, the suffixes of every registered data format (DATA_FORMATS).
_CONTAINER_SUFFIXES = (".bz2", ".gz", ".gzip", ".xz", ".zip", ".tgz", ".tar")
_TAR_SUFFIXES = (".tgz", ".tar", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


def get_data_home() -> Path:
    """Where imported corpora live; ``MODELCOLLAPSE_DATA`` moves it. Not created here."""
    env = os.environ.get("MODELCOLLAPSE_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base).expanduser() / "modelcollapse"


def check_name(name: str, where: str = "--name") -> str:
    """A corpus name is a folder name and a ``--data`` value: keep it plain."""
    if not _NAME.fullmatch(name):
        raise UserError(
            f"invalid corpus name {name!r} (letters, digits, '.', '_', '-'; at most 64; "
            "starting with a letter or digit)",
            where,
        )
    if name.lower() in _RESERVED:
        raise UserError(f"'{name}' is the built-in corpus; choose another name", where)
    return name


@dataclass(frozen=True)
class ImportedCorpus:
    """An imported corpus as its manifest describes it (nothing is read until ``load``)."""

    name: str
    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def splits(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest.get("splits", {}))

    def n_rows(self, split: str | None = None) -> int:
        parts = [self.splits.get(split, {})] if split else self.splits.values()
        return sum(int(p.get("rows", 0)) for p in parts)

    @property
    def source(self) -> str:
        return str(self.manifest.get("source", ""))

    @property
    def created(self) -> str:
        return str(self.manifest.get("created", ""))

    @property
    def fingerprint(self) -> str:
        return str(self.manifest.get("fingerprint", ""))

    @property
    def label_names(self) -> tuple[str, ...]:
        return tuple(str(n) for n in self.manifest.get("label_names") or ("negative", "positive"))

    def class_counts(self, split: str | None = None) -> list[int]:
        """Rows of each class (in class order) in ``split``, or in all splits."""
        parts = [self.splits.get(split, {})] if split else list(self.splits.values())
        total = [0] * len(self.label_names)
        for part in parts:
            counts = part.get("class_counts")
            if counts is None:  # manifests before k classes: binary
                counts = [part.get("negatives", 0), part.get("positives", 0)]
            total = [a + int(b) for a, b in zip(total, counts, strict=True)]
        return total

    def disk_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.glob("*.parquet"))

    def load(self) -> Corpus:
        return load_imported(self.name)


# --------------------------------------------------------------------------- queries


def is_imported(name: str) -> bool:
    return bool(_NAME.fullmatch(name)) and (get_data_home() / name / MANIFEST).is_file()


def list_corpora() -> list[ImportedCorpus]:
    """Every imported corpus, by name; folders without a readable manifest are left out."""
    home = get_data_home()
    if not home.is_dir():
        return []
    found = []
    for folder in sorted(home.iterdir()):
        if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            continue
        with contextlib.suppress(UserError):
            found.append(get_imported(folder.name))
    return found


def damaged_corpora() -> dict[str, str]:
    """Folders of the data home that are not usable corpora, by name: what is wrong with each
    (no manifest, an unreadable or damaged one). ``data list`` shows them, so that a name
    refused as taken is never invisible."""
    home = get_data_home()
    if not home.is_dir():
        return {}
    damaged = {}
    for folder in sorted(home.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir() or not _NAME.fullmatch(folder.name):
            continue
        if not (folder / MANIFEST).is_file():
            damaged[folder.name] = f"no {MANIFEST}"
            continue
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            damaged[folder.name] = f"unreadable {MANIFEST}: {one_line(exc)}"
            continue
        problem = _manifest_problem(manifest)
        if problem is not None:
            damaged[folder.name] = f"damaged {MANIFEST}: {problem}"
    return damaged


def _manifest_problem(manifest: Any) -> str | None:
    """What makes a parsed manifest unusable (a hand edit, a foreign file), or None."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("splits"), dict):
        return "has no splits"
    for split, part in manifest["splits"].items():
        if not isinstance(part, dict):
            return f"split {split!r} is not a table"
        for key in ("rows", "negatives", "positives"):
            value = part.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                return f"split {split!r} has {key} {value!r} (expected a count)"
        counts = part.get("class_counts", [])
        if not isinstance(counts, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts
        ):
            return f"split {split!r} has class_counts {counts!r} (expected counts)"
    names = manifest.get("label_names") or ["negative", "positive"]
    if not isinstance(names, list):
        return f"label_names {names!r} is not a list"
    for part in manifest["splits"].values():
        # A split without class_counts (written before k classes) is binary.
        if len(part.get("class_counts", [0, 0])) != len(names):
            return "class_counts and label_names differ in length"
    return None


def imported_names() -> str:
    """The imported corpora's names, comma-separated ("" if none): for error messages."""
    return ", ".join(c.name for c in list_corpora())


def get_imported(name: str, where: str | None = None) -> ImportedCorpus:
    """The manifest of an imported corpus; a UserError listing the others if there is none."""
    if not is_imported(name):
        names = imported_names() or "none"
        raise UserError(
            f"no imported corpus named '{name}' in {get_data_home()} (imported: {names})",
            where,
        )
    folder = get_data_home() / name
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(
            f"cannot read {folder / MANIFEST} ({one_line(exc)}); import '{name}' again "
            "with --overwrite",
            where,
        ) from None
    problem = _manifest_problem(manifest)
    if problem is not None:
        raise UserError(
            f"{folder / MANIFEST} is damaged ({problem}); import '{name}' again with --overwrite",
            where,
        )
    return ImportedCorpus(name, folder, manifest)


def load_imported(name: str) -> Corpus:
    """Train and test splits as one Corpus; ``test_mask`` marks the test rows, if any.

    The fingerprint is recomputed and checked against the manifest, so a damaged or
    edited file is refused instead of silently feeding a run other data.
    """
    imported = get_imported(name)
    corpus, _ = _read_folder(imported.path, imported.manifest, name)
    if corpus.fingerprint != imported.fingerprint:
        raise UserError(
            f"the data in {imported.path} does not match its manifest (fingerprint); "
            f"import '{name}' again with --overwrite"
        )
    return corpus


def _read_folder(
    folder: Path, manifest: dict[str, Any], name: str, per_split: bool = False
) -> tuple[Corpus, dict[str, str]]:
    """The corpus in ``folder`` and, if ``per_split``, the fingerprint of each split on its
    own (hashing every text again: only an import records them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts: list[str] = []
    labels: list[np.ndarray] = []
    split_fingerprints: dict[str, str] = {}
    present = [s for s in SPLITS if s in manifest["splits"]]
    names = tuple(str(n) for n in manifest.get("label_names") or ("negative", "positive"))
    for split in present:
        path = folder / f"{split}.parquet"
        split_texts: list[str] = []
        parts: list[np.ndarray] = []
        try:  # batch by batch: never the whole Arrow table and the Python strings at once
            with pq.ParquetFile(path) as pf:
                for batch in pf.iter_batches(batch_size=65_536, columns=["text", "label"]):
                    split_texts.extend(batch.column(0).to_pylist())
                    parts.append(batch.column(1).to_numpy(zero_copy_only=False))
            split_labels = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int8)
        except (OSError, pa.ArrowException, KeyError, ValueError) as exc:
            raise UserError(
                f"cannot read {path} ({one_line(exc)}); import '{name}' again with --overwrite"
            ) from None
        expected = manifest["splits"][split].get("rows")
        in_range = (split_labels >= 0) & (split_labels < len(names))
        if len(split_texts) != expected or not in_range.all():
            raise UserError(
                f"{path} does not match its manifest; import '{name}' again with --overwrite"
            )
        split_labels = split_labels.astype(np.int8)
        if per_split:
            split_corpus = Corpus(split_texts, split_labels, str(path), names)
            split_fingerprints[split] = split_corpus.fingerprint
        texts.extend(split_texts)
        labels.append(split_labels)
    if "train" not in present:
        raise UserError(f"{folder} has no train split; import '{name}' again with --overwrite")
    all_labels = np.concatenate(labels)
    mask = None
    if "test" in present:
        mask = np.zeros(len(all_labels), dtype=bool)
        mask[manifest["splits"]["train"]["rows"] :] = True
    corpus = Corpus(
        texts=texts,
        labels=all_labels,
        source=str(folder),
        label_names=names,
        meta={
            "format": "imported",
            "name": name,
            "path": str(folder),
            "imported_from": manifest.get("source"),
            "skipped": {s: manifest["splits"][s].get("skipped", {}) for s in present},
            "class_order": manifest.get("class_order"),
        },
        test_mask=mask,
    )
    return corpus, split_fingerprints


# --------------------------------------------------------------------------- import


def import_corpus(
    path: str | Path,
    name: str | None = None,
    *,
    overwrite: bool = False,
    progress: Progress | None = None,
    max_skipped: float = DEFAULT_MAX_SKIPPED,
    chunk_size: int = 65_536,
    **reader_kwargs: Any,
) -> ImportedCorpus:
    """Read ``path`` once and store it in the data home as ``name``.

    ``path`` is the Kaggle archive (a zip with ``train.ft.txt.bz2``/``test.ft.txt.bz2``), the
    original ``amazon_review_polarity_csv.tgz``, Hugging Face Parquet shards (a folder, or one
    ``train-00000-of-0000N.parquet`` file standing for its folder), another zip/tar or folder
    with ``train.*``/``test.*`` files, or one review file (it becomes the train split). Members
    are read as streams, never extracted. ``reader_kwargs`` go to the reader (``fmt``,
    ``text_column``, ...). Bad lines are skipped and counted (``on_error="raise"`` stops at
    the first), but more than ``max_skipped`` of them (a share) refuses the import: that much
    damage means the file is not what it seems. Nothing is visible under ``name`` until the
    import is complete; an existing ``name`` is refused unless ``overwrite``.
    """
    path = Path(path).expanduser()
    reader_kwargs.setdefault("on_error", "skip")
    if not 0.0 <= max_skipped <= 1.0:
        raise UserError(f"must be a share within [0, 1], got {max_skipped:g}", "--max-skipped")
    if name is not None:
        check_name(name)
    if not path.exists():
        raise UserError("no such file or directory", str(path))
    with contextlib.ExitStack() as stack:
        plan = _plan(path, stack)
        name = check_name(name or plan.name)
        home = _writable_home()
        clean_stale_temps(home)  # what killed imports left
        final = home / name
        if final.exists() and not overwrite and not (final / MANIFEST).is_file():
            raise UserError(
                f"'{name}' is taken by a folder with no {MANIFEST} ({final}: an interrupted or "
                "damaged import); pass --overwrite to replace it",
                "--name",
            )
        if final.exists() and not overwrite:
            raise UserError(
                f"'{name}' is already imported ({final}); pass --overwrite to replace it", "--name"
            )
        kwargs = {**plan.reader_kwargs, **reader_kwargs}
        written: list[dict[str, Any]] = []

        def write(tmp: Path) -> None:
            tmp.mkdir()
            written.append(_write(plan, tmp, name, kwargs, progress, max_skipped, chunk_size))

        try:  # an old version goes only once the new one is complete
            atomic_write(final, write, existing="replace" if overwrite else "refuse")
        except FileExistsError:
            raise UserError(f"'{name}' was imported meanwhile ({final})", "--name") from None
    return ImportedCorpus(name, final, written[0])


@dataclass
class _Plan:
    """What an input holds: the sources of each split, and how to read them."""

    kind: str
    origin: Path  # what the user named: an archive, a folder or a file
    name: str  # default corpus name
    splits: dict[str, list[Source]]
    reader_kwargs: dict[str, Any] = field(default_factory=dict)


def _plan(path: Path, stack: contextlib.ExitStack) -> _Plan:
    if path.is_dir():
        return _plan_folder(path)
    lower = path.name.lower()
    if _SHARD.fullmatch(path.name):
        return _plan_folder(path.parent)  # one shard stands for its set: never import a part
    # is_zipfile seeks to the end: on a device (/dev/zero) that never comes.
    sniff_zip = path.is_file() and not lower.endswith(".parquet")
    if lower.endswith(".zip") or (sniff_zip and zipfile.is_zipfile(path)):
        return _plan_zip(path, stack)
    if lower.endswith(_TAR_SUFFIXES):
        return _plan_tar(path, stack)
    source = Source.file(path)
    return _Plan("file", path, _slug(path.name), {"train": [source]}, _hf_columns([source]))


def _plan_folder(folder: Path) -> _Plan:
    files = {
        str(p.relative_to(folder)): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not _hidden(str(p.relative_to(folder)))
    }
    splits = _assign_splits(list(files), str(folder))
    if not splits:
        raise UserError(
            "no train file found (expected train.* / test.* files or "
            "train-00000-of-0000N.parquet shards)",
            str(folder),
        )
    sources = {s: [Source.file(files[m]) for m in members] for s, members in splits.items()}
    kind = "parquet-shards" if any(_SHARD.fullmatch(Path(m).name) for m in files) else "folder"
    name = _slug(folder.resolve().name)
    return _Plan(kind, folder, name, sources, _hf_columns(sources["train"]))


def _plan_zip(path: Path, stack: contextlib.ExitStack) -> _Plan:
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
        infos = {
            i.filename: i for i in archive.infolist() if not i.is_dir() and not _hidden(i.filename)
        }
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise UserError(f"not a readable zip archive ({one_line(exc)})", str(path)) from None
    splits = _assign_splits(list(infos), str(path))
    if not splits and len(infos) == 1:
        splits = {"train": list(infos)}
    if not splits:
        shown = ", ".join(list(infos)[:10]) or "nothing"
        raise UserError(f"no train.* member in the archive (it holds: {shown})", str(path))

    def source(member: str) -> Source:
        info = infos[member]
        return Source(
            f"{path}:{member}", lambda: _open_zip_member(archive, info, path), info.file_size
        )

    sources = {s: [source(m) for m in members] for s, members in splits.items()}
    kaggle = [Path(m).name for m in splits["train"]] == ["train.ft.txt.bz2"]
    name = "amazon-polarity" if kaggle else _slug(path.name)
    return _Plan("kaggle-zip" if kaggle else "zip", path, name, sources)


def _open_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> IO[bytes]:
    try:
        return archive.open(info)
    except (NotImplementedError, RuntimeError) as exc:  # deflate64, encryption
        raise UserError(
            f"cannot read member {info.filename} ({one_line(exc)}); extract the archive and "
            "import the member file",
            str(path),
        ) from None


def _plan_tar(path: Path, stack: contextlib.ExitStack) -> _Plan:
    """Listing a compressed tar decompresses it once; members are then read in place."""
    try:
        archive = stack.enter_context(tarfile.open(path, "r:*"))  # noqa: SIM115 (stack closes)
        infos = {m.name: m for m in archive.getmembers() if m.isfile() and not _hidden(m.name)}
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise UserError(f"not a readable tar archive ({one_line(exc)})", str(path)) from None
    splits = _assign_splits(list(infos), str(path))
    if not splits:
        shown = ", ".join(list(infos)[:10]) or "nothing"
        raise UserError(f"no train.* member in the archive (it holds: {shown})", str(path))

    def source(member: str) -> Source:
        info = infos[member]

        def open_member() -> IO[bytes]:
            fh = archive.extractfile(info)
            assert fh is not None  # a regular file, checked above
            return fh

        return Source(f"{path}:{member}", open_member, info.size)

    sources = {s: [source(m) for m in members] for s, members in splits.items()}
    original = all(
        m.endswith("amazon_review_polarity_csv/" + ("train.csv" if s == "train" else "test.csv"))
        for s, ms in splits.items()
        for m in ms
    )
    name = "amazon-polarity" if original else _slug(path.name)
    return _Plan("amazon-csv-tar" if original else "tar", path, name, sources)


def _assign_splits(members: list[str], where: str) -> dict[str, list[str]]:
    """Members by split: ``train.*``/``test.*``, ``train/0000.parquet`` or HF shards."""
    found: dict[str, list[str]] = {}
    shards: dict[str, dict[int, tuple[int, str]]] = {}
    for member in members:
        p = Path(member)
        shard = _SHARD.fullmatch(p.name)
        if shard:
            split = shard.group(1).lower()
            shards.setdefault(split, {})[int(shard.group(2))] = (int(shard.group(3)), member)
            continue
        split = _SPLIT_WORDS.get(_stem(p.name))
        if split is None and _numbered([member]):  # train/0000.parquet (HF parquet branch)
            split = _SPLIT_WORDS.get(p.parent.name.lower())
        if split:
            found.setdefault(split, []).append(member)
    for split, parts in shards.items():
        totals = {total for total, _ in parts.values()}
        total = max(totals)
        missing = sorted(set(range(total)) - set(parts))
        if len(totals) > 1 or missing:
            gone = ", ".join(f"{split}-{i:05d}-of-{total:05d}.parquet" for i in missing[:3])
            raise UserError(
                f"incomplete {split} shards: {len(parts)} of {total}"
                + (f" (missing {gone})" if gone else " (mixed shard counts)"),
                where,
            )
        found.setdefault(split, []).extend(parts[i][1] for i in sorted(parts))
    for split, parts in found.items():
        sharded = all(_SHARD.fullmatch(Path(m).name) for m in parts)
        if len(parts) > 1 and not sharded and not _numbered(parts):
            raise UserError(
                f"several {split} files ({', '.join(parts[:4])}); import one of them", where
            )
    if found and "train" not in found:
        raise UserError(f"a test split but no train split ({', '.join(found['test'][:3])})", where)
    return {s: sorted(found[s]) if _numbered(found[s]) else found[s] for s in SPLITS if s in found}


def _numbered(members: list[str]) -> bool:
    """``train/0000.parquet``, ``train/0001.parquet``: parts of one split, read in order."""
    return all(re.fullmatch(r"\d+\.parquet", Path(m).name) for m in members)


def _hf_columns(sources: list[Source]) -> dict[str, Any]:
    """Hugging Face amazon_polarity names the review ``content``; read it as the text."""
    first = sources[0]
    if first.path is None or first.path.suffix.lower() != ".parquet":
        return {}
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        names = pq.read_schema(first.path).names
    except (pa.ArrowException, OSError, ValueError):
        return {}  # the reader reports it, with the file name
    if "content" in names and "text" not in names:
        return {"text_column": "content"}
    return {}


def _write(
    plan: _Plan,
    tmp: Path,
    name: str,
    kwargs: dict[str, Any],
    progress: Progress | None,
    max_skipped: float,
    chunk_size: int,
) -> dict[str, Any]:
    stream_kwargs = _stream_kwargs(kwargs)
    # One parser for all splits: one set of classes; the test split may not add any.
    parser = _LabelParser(stream_kwargs.pop("labels", None))
    streams = {
        split: ReviewStream(
            sources,
            name=_split_name(sources),
            chunk_size=chunk_size,
            label_parser=parser,
            **stream_kwargs,
        )
        for split, sources in plan.splits.items()
    }
    sizes = [s.size for s in streams.values()]
    total = None if None in sizes else sum(s or 0 for s in sizes)
    done = 0
    splits: dict[str, dict[str, Any]] = {}
    for split, stream in streams.items():
        out = tmp / f"{split}.parquet"

        def report(stream: ReviewStream = stream, before: int = done) -> None:
            if progress is not None:
                progress(before + stream.position, total)

        if split != "train":
            parser.freeze("the train split")
        _write_parquet(stream, out, report)
        done += stream.size or 0
        meta: dict[str, Any] = stream.meta
        _refuse_damaged(stream.name, meta, max_skipped)
        splits[split] = {
            "file": out.name,
            "sources": [s.name for s in stream.sources],
            "rows": meta["rows"],
            "label_counts": meta["label_counts"],  # by reading code: final ones below
            "skipped_lines": sum(meta["skipped"].values()),
            "skipped": meta["skipped"],
            "first_bad": meta["first_bad"],
            "blank_lines": meta["blank_lines"],
            "duplicates": meta["duplicates"],
            "conflicting_duplicates": meta["conflicting_duplicates"],
        }
    counts = np.zeros(len(parser), dtype=np.int64)
    for info in splits.values():
        counts[: len(info["label_counts"])] += info["label_counts"]
    label_names, codes, order = parser.finish(counts, str(plan.origin))
    for info in splits.values():
        out = tmp / info["file"]
        _recode_parquet(out, codes)
        read = info.pop("label_counts")
        by_code = np.zeros(len(codes), dtype=np.int64)
        by_code[: len(read)] = read
        final = np.zeros(len(label_names), dtype=np.int64)
        np.add.at(final, codes[codes >= 0], by_code[codes >= 0])
        info["class_counts"] = final.tolist()
        if len(label_names) == 2:  # what 0.x manifests and binary listings read
            info["negatives"], info["positives"] = int(final[0]), int(final[1])
        info["sha256"] = sha256_file(out)
    if progress is not None:
        progress(done if total is None else total, total)
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "name": name,
        "source": str(plan.origin.resolve()),
        "kind": plan.kind,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "label_names": list(label_names),
        "class_order": order,
        "reader": {
            k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items() if v is not None
        },
        "splits": splits,
    }
    # Fingerprints through the very code that loads the corpus: identical on every load.
    corpus, per_split = _read_folder(tmp, manifest, name, per_split=True)
    for split, fingerprint in per_split.items():
        splits[split]["fingerprint"] = fingerprint
    manifest["rows"] = len(corpus)
    manifest["fingerprint"] = corpus.fingerprint
    del corpus
    _write_json(tmp / MANIFEST, manifest)
    return manifest


def _split_name(sources: list[Source]) -> str:
    if len(sources) == 1:
        return sources[0].name
    return f"{sources[0].name} (+{len(sources) - 1} more)"


def _stream_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    allowed = {"fmt", "on_error", "text_column", "label_column", "title_column", "labels"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise TypeError(f"unexpected reader arguments: {', '.join(sorted(unknown))}")
    return kwargs


def _write_parquet(stream: ReviewStream, out: Path, report: Callable[[], None]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("text", pa.string()), ("label", pa.int8())])
    try:
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            for texts, labels in stream:
                writer.write_table(
                    pa.table([pa.array(texts, pa.string()), pa.array(labels)], schema=schema)
                )
                report()
    except OSError as exc:
        raise UserError(f"cannot write {out} ({one_line(exc)})") from None


def _recode_parquet(path: Path, codes: np.ndarray) -> None:
    """Rewrite the label column with final class codes, unless they are final already."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if np.all((codes == np.arange(len(codes))) | (codes < 0)):
        return
    lookup = np.where(codes < 0, 0, codes).astype(np.int8)
    tmp = path.with_name(path.name + ".recoded")
    with pq.ParquetFile(path) as pf:
        schema = pf.schema_arrow
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for batch in pf.iter_batches(batch_size=65_536):
                labels = lookup[batch.column(1).to_numpy(zero_copy_only=False)]
                writer.write_table(
                    pa.Table.from_arrays([batch.column(0), pa.array(labels)], schema=schema)
                )
    os.replace(tmp, path)


def _refuse_damaged(where: str, meta: dict[str, Any], max_skipped: float) -> None:
    skipped = sum(meta["skipped"].values())
    seen = skipped + meta["rows"]
    if skipped and skipped > max_skipped * seen:
        reasons = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in meta["skipped"].items())
        raise UserError(
            f"{skipped:,} of {seen:,} lines are bad ({reasons}; first at "
            f"{meta['first_bad'][0]}), more than {max_skipped:.1%}; see the first error with "
            "--strict, or accept them with --max-skipped",
            where,
        )


def _writable_home() -> Path:
    home = get_data_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"cannot create the data home {home} ({one_line(exc)}); set MODELCOLLAPSE_DATA"
        ) from None
    return home


# --------------------------------------------------------------------------- helpers


def sha256_file(path: Path) -> str:
    """The file's SHA-256, read a megabyte at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _stem(filename: str) -> str:
    """``train.ft.txt.bz2`` -> ``train``: the name without any data suffix."""
    stem = filename.lower()
    formats = (x for _, spec in DATA_FORMATS.items() for x in spec.suffixes)
    suffixes = (*_CONTAINER_SUFFIXES, *formats)
    while True:
        for suffix in suffixes:
            if stem.endswith(suffix) and len(stem) > len(suffix):
                stem = stem[: -len(suffix)]
                break
        else:
            return stem


def _slug(filename: str) -> str:
    slug = re.sub(r"[^a-z0-9.]+", "-", _stem(filename)).strip("-.")[:64].strip("-.")
    return slug if slug and slug not in _RESERVED else "corpus"


def _hidden(member: str) -> bool:
    """macOS resource forks and dot files ride along in archives; they are not data."""
    return any(part.startswith(".") or part == "__MACOSX" for part in Path(member).parts)
