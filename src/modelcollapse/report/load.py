"""Read what a run stored: results table, resolved config and manifest. Nothing is recomputed."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from modelcollapse.results import read_results, result_files


@dataclass(frozen=True)
class StoredRun:
    """A run directory as the report sees it."""

    run_dir: Path
    results: pd.DataFrame
    config_text: str | None  # verbatim, None when the file is missing
    config_error: str | None  # why the config did not parse as TOML, if it did not
    manifest: dict[str, object] | None
    manifest_error: str | None
    n_files: int


def load_run(run_dir: Path) -> StoredRun:
    """Read ``run_dir`` (results through :func:`~modelcollapse.results.read_results`); raise
    :class:`UserError` when it holds no results."""
    run_dir = Path(run_dir)
    results = read_results(run_dir)
    config_text, config_error = _read_config(run_dir / "config.toml")
    manifest, manifest_error = _read_manifest(run_dir / "manifest.json")
    return StoredRun(
        run_dir=run_dir,
        results=results,
        config_text=config_text,
        config_error=config_error,
        manifest=manifest,
        manifest_error=manifest_error,
        n_files=len(result_files(run_dir)),
    )


def _read_config(path: Path) -> tuple[str | None, str | None]:
    if not path.is_file():
        return None, None
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        # The results are still valid, so report them and flag the config instead of failing.
        return text, str(err)
    return text, None


def _read_manifest(path: Path) -> tuple[dict[str, object] | None, str | None]:
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as err:
        return None, f"not valid JSON: {err}"
    return (data if isinstance(data, dict) else {"manifest": data}), None
