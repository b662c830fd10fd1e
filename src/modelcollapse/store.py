"""A run directory: resolved config, manifest, and one Parquet file per finished trajectory.

Layout::

    RUN_DIR/config.toml        the resolved config; `modelcollapse run` accepts it
    RUN_DIR/manifest.json      versions, data fingerprint, model, seed, command, plan size
    RUN_DIR/results/*.parquet  one file per trajectory; pandas.read_parquet(RUN_DIR / "results")
    RUN_DIR/errors/*.json      one file per trajectory that failed: its error and traceback
    RUN_DIR/set-aside/STAMP/   result files a resume could not trust, moved (never deleted)

Every file is written to a hidden temporary name and renamed into place
(:func:`~modelcollapse.atomic.atomic_write`), so a crash never leaves a partial
result that a reader or a resumed run would take for a finished one. A
trajectory's error record is removed when it succeeds on a later run; readers of
results never look into ``errors/``.

The directory's metadata is written as one step: the manifest first, then ``config.toml``,
whose presence is what makes the folder a run directory; a crash between the two leaves a
folder that the next run starts afresh. A run directory whose manifest is missing or does
not parse (deleted, or written by a version that wrote it second) is healed on the next run:
the manifest is written again, with one warning, since every result file carries its own
provenance.

Each result file proves that it belongs: its Parquet schema metadata (key
:data:`PROVENANCE_KEY`) holds the trajectory's key, the hash of the run's config, the data
fingerprint, the model's definition and the trajectory's complete row and step counts.
:meth:`RunStore.set_aside_untrusted` checks them (and the file's own rows) before a resume
skips anything.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w

from modelcollapse.atomic import TEMP_PREFIX, atomic_write, check_folder, clean_stale_temps
from modelcollapse.errors import ModelCollapseWarning, UserError, one_line
from modelcollapse.results import read_results, result_files

if TYPE_CHECKING:
    from modelcollapse.engines.base import Trajectory

#: The Parquet schema metadata key of a result file's provenance (a JSON object).
PROVENANCE_KEY = b"modelcollapse.provenance"
PROVENANCE_VERSION = 1
SET_ASIDE = "set-aside"


def config_hash(config: Mapping[str, Any]) -> str:
    """The SHA-256 of a resolved config, independent of key order and TOML layout."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SetAside:
    """A result file a resume did not trust: where it went and why."""

    key: str
    path: Path  # where the file is now
    reason: str

    def sentence(self, root: Path) -> str:
        moved = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        return (
            f"results/{self.path.name} set aside to {moved} ({self.reason}); "
            f"trajectory {self.key} is computed again"
        )


def _file_name(key: str, suffix: str = ".parquet") -> str:
    return key.replace("/", "~") + suffix  # study names cannot hold "~"


def _key(path: Path) -> str:
    return path.name.removesuffix(path.suffix).replace("~", "/")


class RunStore:
    """Reads and writes one run directory. Use :meth:`open` to create or resume one."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.results = self.root / "results"
        self.errors = self.root / "errors"
        self._lock_file: Any = None
        self._provenance: dict[str, Any] | None = None  # set by open()
        self.healed_manifest: str | None = None  # why open() wrote the manifest again

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def manifest_path(self) -> Path:
        return self.root / "manifest.json"

    def exists(self) -> bool:
        return self.config_path.exists()

    def read_config(self) -> dict[str, Any]:
        return tomllib.loads(self.config_path.read_text(encoding="utf-8"))

    def read_manifest(self) -> dict[str, Any]:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def stored_manifest(self) -> tuple[dict[str, Any] | None, str | None]:
        """The manifest, or None and why not ("missing", "not valid JSON: ...")."""
        try:
            manifest = self.read_manifest()
        except FileNotFoundError:
            return None, "missing"
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            return None, f"unreadable: {' '.join(str(exc).split())}"
        if not isinstance(manifest, dict):
            return None, "not a JSON object"
        return manifest, None

    def check_resumable(
        self, config: dict[str, Any], data_fingerprint: str, estimator: str | None = None
    ) -> None:
        """Refuse to mix results of another config, other data or another model into this directory.

        ``estimator`` is the model as :func:`~modelcollapse.models.describe_model` prints it;
        runs written before it was recorded are not checked for it.
        """
        if not self.exists():
            check_folder(self.root, f"--out {self.root}")
            return
        try:
            stored = self.read_config()
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UserError(f"unreadable config.toml ({one_line(exc)})", str(self.root)) from None
        if stored != config:
            changed = _changed_meaning(stored)
            if changed:
                raise UserError(
                    f"was started before {changed} changed meaning (see CHANGELOG.md); its "
                    "results would not mix: finish it with the version that started it or "
                    "choose another --out",
                    str(self.root),
                )
            stored = _with_new_defaults(stored)
        if stored != config:
            key = _first_difference(stored, config)
            raise UserError(
                f"holds a run with a different config ({key}); resume it with "
                f"'{self.resume_command()}' or choose another --out",
                str(self.root),
            )
        manifest, _ = self.stored_manifest()
        if manifest is None:
            return  # healed by open(); each stored result is checked against its provenance
        stored_data = _field(manifest, "data", "fingerprint")
        if stored_data and stored_data != data_fingerprint:
            raise UserError("was run on different data (fingerprint differs)", str(self.root))
        stored_model = _field(manifest, "model", "estimator")
        if estimator is not None and stored_model and stored_model != estimator:
            raise UserError(
                f"was run with another definition of model '{config.get('model')}' "
                f"({stored_model}, now {estimator}); finish it with the version that started it "
                "or choose another --out",
                str(self.root),
            )

    def resume_command(self) -> str:
        """The command that resumes this run where it is."""
        return shlex.join(["modelcollapse", "run", str(self.config_path), "--out", str(self.root)])

    def open(self, config: dict[str, Any], manifest: dict[str, Any]) -> None:
        """Create the directory (or resume it) and hold its lock until :meth:`close`.

        A new directory gets its manifest, then its config (see the module's docstring); a
        resumed one whose manifest is missing or unreadable gets ``manifest`` again, with a
        :class:`~modelcollapse.errors.ModelCollapseWarning`.
        """
        self.check_resumable(
            config,
            manifest.get("data", {}).get("fingerprint", ""),
            manifest.get("model", {}).get("estimator"),
        )
        self.results.mkdir(parents=True, exist_ok=True)
        lock = open(self.root / ".lock", "w")  # noqa: SIM115 - held for the run's lifetime
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise UserError("another run is writing into this directory", str(self.root)) from None
        self._lock_file = lock
        # Leftovers of a run killed mid-write; holding the lock, no one else is writing them.
        for folder in (self.results, self.errors):
            for stale in folder.glob(TEMP_PREFIX + "*"):
                stale.unlink()
        clean_stale_temps(self.root)  # a report build may be writing here: only the dead's
        manifest_text = json.dumps(manifest, indent=2).encode()
        if not self.exists():
            # The manifest first: config.toml makes the folder a run directory.
            atomic_write(self.manifest_path, manifest_text)
            atomic_write(self.config_path, tomli_w.dumps(config).encode())
        else:
            _, problem = self.stored_manifest()
            self.healed_manifest = problem
            if problem is not None:
                atomic_write(self.manifest_path, manifest_text)
                warnings.warn(
                    f"{self.root}: manifest.json was {problem}; written again for this run "
                    "(each stored result is checked against its own provenance)",
                    ModelCollapseWarning,
                    stacklevel=2,
                )
        self._provenance = {
            "version": PROVENANCE_VERSION,
            "config_hash": config_hash(self.read_config()),
            "data_fingerprint": manifest.get("data", {}).get("fingerprint", ""),
            "model": manifest.get("model", {}).get("estimator", ""),
        }

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def result_files(self) -> list[Path]:
        """Finished trajectories only: writes in progress are hidden ``.tmp-*.partial`` files."""
        return result_files(self.root)

    def done_keys(self) -> set[str]:
        return {_key(p) for p in self.result_files()}

    def write(self, key: str, frame: pd.DataFrame) -> Path:
        """Store one finished trajectory atomically, with its provenance (the store must be
        open); an error recorded for it before goes."""
        if self._provenance is None:
            raise RuntimeError("RunStore.write needs an open store (RunStore.open)")
        provenance = {
            "key": key,
            **self._provenance,
            "rows": len(frame),
            "steps": int(frame["step"].nunique()) if "step" in frame else len(frame),
        }
        table = pa.Table.from_pandas(frame, preserve_index=False)
        metadata = dict(table.schema.metadata or {})
        metadata[PROVENANCE_KEY] = json.dumps(provenance, sort_keys=True).encode()
        table = table.replace_schema_metadata(metadata)
        target = atomic_write(
            self.results / _file_name(key), lambda tmp: pq.write_table(table, tmp)
        )
        self.failure_path(key).unlink(missing_ok=True)
        return target

    def set_aside_untrusted(
        self, plan: Sequence[Trajectory], model_name: str, *, trust_unmarked: bool = True
    ) -> list[SetAside]:
        """Move every result file that cannot prove it belongs to ``plan`` (run with the
        model named ``model_name``) to ``set-aside/STAMP/``, and warn once per file.

        A file with provenance must name its own key, this run's config hash, data
        fingerprint and model definition, and hold the rows and steps it was written with.
        A file without (written before provenance existed) is kept when its rows name the
        trajectory, its seed and the model, and (loop kinds) hold one row per planned size;
        with ``trust_unmarked=False`` (the manifest could not vouch for data and model) it
        is set aside too. Call with the store open.
        """
        if self._provenance is None:
            raise RuntimeError("RunStore.set_aside_untrusted needs an open store")
        by_key = {traj.key: traj for traj in plan}
        moved = []
        stamp = None
        for path in self.result_files():
            key = _key(path)
            traj = by_key.get(key)
            if traj is None:
                reason: str | None = "not a trajectory of this run's plan"
            else:
                reason = self._distrust(path, traj, model_name, trust_unmarked)
            if reason is None:
                continue
            stamp = stamp or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            target = _free_name(self.root / SET_ASIDE / stamp / path.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            entry = SetAside(key, target, reason)
            warnings.warn(entry.sentence(self.root), ModelCollapseWarning, stacklevel=2)
            moved.append(entry)
        return moved

    def _distrust(
        self, path: Path, traj: Trajectory, model_name: str, trust_unmarked: bool
    ) -> str | None:
        """Why ``path`` cannot stand for ``traj``, or None when it can."""
        assert self._provenance is not None
        try:
            schema = pq.read_schema(path)
            columns = [c for c in ("trajectory", "step", "seed", "model") if c in schema.names]
            # Every column, not only these, and its values (a flipped byte can make a text
            # invalid UTF-8): damage elsewhere would stop the resume when the table is read,
            # instead of the file being set aside.
            whole = pq.read_table(path)
            whole.validate(full=True)
            whole.schema.pandas_metadata  # noqa: B018 - JSON that a damaged footer breaks
            table = whole.select(columns)
        except (OSError, ValueError, pa.ArrowException) as exc:  # ValueError: a damaged
            # footer's names or metadata are not UTF-8 or not JSON
            return f"unreadable: {' '.join(str(exc).split())[:200]}"
        names = table.column("trajectory").to_pylist() if "trajectory" in columns else []
        if not names or set(names) != {traj.key}:
            other = sorted({str(n) for n in names})[:1]
            return f"its rows are trajectory {other[0]}'s" if other else "no trajectory column"
        steps = len(set(table.column("step").to_pylist())) if "step" in columns else 0
        raw = (schema.metadata or {}).get(PROVENANCE_KEY)
        if raw is None:
            return self._distrust_unmarked(table, traj, model_name, steps, trust_unmarked)
        try:
            provenance = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "its provenance does not parse"
        if not isinstance(provenance, dict):
            return "its provenance does not parse"
        own = self._provenance
        if provenance.get("key") != traj.key:
            return f"written for trajectory {provenance.get('key')}"
        if provenance.get("config_hash") != own["config_hash"]:
            return "written for another config"
        if provenance.get("data_fingerprint") != own["data_fingerprint"]:
            return "written on other data"
        if provenance.get("model") != own["model"]:
            return f"written with another model ({provenance.get('model')})"
        if provenance.get("rows") != table.num_rows or provenance.get("steps") != steps:
            return (
                f"incomplete: {table.num_rows} rows and {steps} steps of the "
                f"{provenance.get('rows')} and {provenance.get('steps')} written"
            )
        return None

    @staticmethod
    def _distrust_unmarked(
        table: pa.Table, traj: Trajectory, model_name: str, steps: int, trust: bool
    ) -> str | None:
        if not trust:
            return "no provenance, and no readable manifest to vouch for its data and model"

        def values(column: str) -> set[Any] | None:
            return set(table.column(column).to_pylist()) if column in table.column_names else None

        if values("seed") not in (None, {traj.seed}):
            return "no provenance, and its seed is not this trajectory's"
        if values("model") not in (None, {model_name}):
            return f"no provenance, and its model is not {model_name}"
        expected = _planned_steps(traj)
        if expected is not None and steps != expected:
            return f"no provenance, and {steps} of its {expected} steps"
        return None

    def failure_path(self, key: str) -> Path:
        """Where the error record of trajectory ``key`` is (or would be)."""
        return self.errors / _file_name(key, ".json")

    def write_failure(self, key: str, error: Mapping[str, str]) -> Path:
        """Record why trajectory ``key`` failed (``error``: its type, message, traceback)."""
        record = {"key": key, **error}
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        return atomic_write(self.failure_path(key), text.encode())

    def failures(self) -> dict[str, dict[str, str]]:
        """The error records of trajectories that failed and have not succeeded since, by key.

        A record beside a stored result (a run killed between writing one and removing the
        other) is stale: the result counts.
        """
        if not self.errors.exists():
            return {}
        done = self.done_keys()
        records = {}
        for path in sorted(self.errors.glob("[!.]*.json")):
            key = _key(path)
            if key not in done:
                try:
                    records[key] = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as exc:
                    # A damaged record still says the trajectory failed; it is run again.
                    records[key] = {"key": key, "error": f"unreadable record: {one_line(exc)}"}
        return records

    def read_results(self) -> pd.DataFrame:
        """Every stored row as one table: :func:`modelcollapse.results.read_results`."""
        return read_results(self.root)


def _field(manifest: Mapping[str, Any], section: str, name: str) -> Any:
    part = manifest.get(section)
    return part.get(name) if isinstance(part, dict) else None


def _planned_steps(traj: Trajectory) -> int | None:
    """Steps a finished trajectory has: one per size for a kind the loop runs (the base
    engine's ``run``); None where the kind decides (a search that stops early)."""
    from modelcollapse.engines import ENGINES
    from modelcollapse.engines.base import Engine

    engine = ENGINES.get(traj.kind)
    return len(traj.sizes) if type(engine).run is Engine.run else None


def _free_name(path: Path) -> Path:
    """``path``, or ``path`` with a counter when a file of that name is already there."""
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}.{n}{path.suffix}")
        n += 1
    return candidate


def _with_new_defaults(stored: dict[str, Any]) -> dict[str, Any]:
    """A config written before an option existed, with it at its default: the value that
    reproduces what that version did (e.g. ``mixture = "batch"``). Unchanged if not valid."""
    from modelcollapse.experiments.config import dump_config, validate_config

    try:
        return dump_config(validate_config(stored, "config.toml"))
    except UserError:
        return stored


def _changed_meaning(stored: dict[str, Any]) -> str | None:
    """The loop option of a config written before 0.2's ``mixture`` option whose results that
    change altered (issue #10): ``fresh`` became a fixed real set beside a refreshed
    model-labelled set, ``verified_share`` is decided per row, ``model_weight = 0`` drops rows
    from the vocabulary too. None when the config has none of them, or is a newer one."""
    studies = stored.get("study", [])
    for study in studies if isinstance(studies, list) else []:
        loop = study.get("loop") if isinstance(study, dict) else None
        if not isinstance(loop, dict) or "mixture" in loop:
            continue
        name = study.get("name", "?")
        if loop.get("regime") == "fresh":
            return f"study {name!r}'s regime 'fresh'"
        if _number(loop.get("verified_share", 0.0)) > 0:
            return f"study {name!r}'s verified_share"
        if _number(loop.get("model_weight", 1.0)) == 0:
            return f"study {name!r}'s model_weight 0"
    return None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}" if path else key)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path or 'config'}: {a!r} stored, {b!r} requested"
