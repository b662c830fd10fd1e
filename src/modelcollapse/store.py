"""A run directory: resolved config, manifest, and one Parquet file per finished trajectory.

Layout::

    RUN_DIR/config.toml        the resolved config; `modelcollapse run` accepts it
    RUN_DIR/manifest.json      versions, data fingerprint, model, seed, command
    RUN_DIR/results/*.parquet  one file per trajectory; pandas.read_parquet(RUN_DIR / "results")
    RUN_DIR/errors/*.json      one file per trajectory that failed: its error and traceback

Every file is written to a hidden temporary name and renamed into place
(:func:`~modelcollapse.atomic.atomic_write`), so a crash never leaves a partial
result that a reader or a resumed run would take for a finished one. A
trajectory's error record is removed when it succeeds on a later run; readers of
results never look into ``errors/``.
"""

from __future__ import annotations

import fcntl
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import tomli_w

from modelcollapse.atomic import TEMP_PREFIX, atomic_write
from modelcollapse.errors import UserError
from modelcollapse.results import read_results, result_files


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

    def check_resumable(
        self, config: dict[str, Any], data_fingerprint: str, estimator: str | None = None
    ) -> None:
        """Refuse to mix results of another config, other data or another model into this directory.

        ``estimator`` is the model as :func:`~modelcollapse.models.describe_model` prints it;
        runs written before it was recorded are not checked for it.
        """
        if not self.exists():
            if self.root.exists() and not self.root.is_dir():
                raise UserError("exists and is not a directory", f"--out {self.root}")
            return
        try:
            stored = self.read_config()
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise UserError(f"unreadable config.toml ({exc})", str(self.root)) from None
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
                f"'modelcollapse run {self.config_path}' or choose another --out",
                str(self.root),
            )
        manifest = self.read_manifest()
        stored_data = manifest.get("data", {}).get("fingerprint")
        if stored_data and stored_data != data_fingerprint:
            raise UserError("was run on different data (fingerprint differs)", str(self.root))
        stored_model = manifest.get("model", {}).get("estimator")
        if estimator is not None and stored_model and stored_model != estimator:
            raise UserError(
                f"was run with another definition of model '{config.get('model')}' "
                f"({stored_model}, now {estimator}); finish it with the version that started it "
                "or choose another --out",
                str(self.root),
            )

    def open(self, config: dict[str, Any], manifest: dict[str, Any]) -> None:
        """Create the directory (or resume it) and hold its lock until :meth:`close`."""
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
        if not self.exists():
            atomic_write(self.config_path, tomli_w.dumps(config).encode())
        if not self.manifest_path.exists():
            atomic_write(self.manifest_path, json.dumps(manifest, indent=2).encode())

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
        """Store one finished trajectory atomically; an error recorded for it before goes."""
        target = atomic_write(
            self.results / _file_name(key), lambda tmp: frame.to_parquet(tmp, index=False)
        )
        (self.errors / _file_name(key, ".json")).unlink(missing_ok=True)
        return target

    def write_failure(self, key: str, error: Mapping[str, str]) -> Path:
        """Record why trajectory ``key`` failed (``error``: its type, message, traceback)."""
        record = {"key": key, **error}
        text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
        return atomic_write(self.errors / _file_name(key, ".json"), text.encode())

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
                records[key] = json.loads(path.read_text(encoding="utf-8"))
        return records

    def read_results(self) -> pd.DataFrame:
        """Every stored row as one table: :func:`modelcollapse.results.read_results`."""
        return read_results(self.root)


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
