"""Read what a run stored: results table, resolved config and manifest. Nothing is recomputed."""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelcollapse.errors import UserError

REQUIRED_COLUMNS = (
    "experiment",
    "kind",
    "trajectory",
    "repeat",
    "rate",
    "initial_size",
    "step",
    "train_size",
    "accuracy",
    "predicted_positive_rate",
    "test_positive_rate",
)
# Older or foreign stores may lack these; a constant stands in so grouping still works.
OPTIONAL_DEFAULTS = {"model": "", "tokenizer": "", "seed": -1}


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
    """Read ``run_dir``; raise :class:`UserError` when it holds no results."""
    run_dir = Path(run_dir)
    where = str(run_dir)
    if not run_dir.is_dir():
        raise UserError("not a directory (expected a run directory with results/)", where=where)
    files = sorted((run_dir / "results").glob("[!.]*.parquet"))
    if not files:
        raise UserError("no results: results/*.parquet is empty or missing", where=where)
    results = _read_results(files, where)
    config_text, config_error = _read_config(run_dir / "config.toml")
    manifest, manifest_error = _read_manifest(run_dir / "manifest.json")
    return StoredRun(
        run_dir=run_dir,
        results=results,
        config_text=config_text,
        config_error=config_error,
        manifest=manifest,
        manifest_error=manifest_error,
        n_files=len(files),
    )


def _read_results(files: list[Path], where: str) -> pd.DataFrame:
    # Listing files rather than reading the directory skips the store's temp files.
    tables = []
    for path in files:
        try:
            tables.append(pq.read_table(path))
        except (OSError, pa.ArrowException) as err:
            raise UserError(f"cannot read {path.name}: {err}", where=where) from err
    tables = _unify_null_columns(tables)
    try:
        df = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    except pa.ArrowException as err:
        raise UserError(f"results files do not share one schema: {err}", where=where) from err
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise UserError(f"results lack columns: {', '.join(missing)}", where=where)
    for column, default in OPTIONAL_DEFAULTS.items():
        if column not in df.columns:
            df[column] = default
    df = df.dropna(subset=["accuracy", "train_size"])
    if df.empty:
        raise UserError("no results: every stored row lacks an accuracy", where=where)
    for column in ("experiment", "kind", "trajectory", "model", "tokenizer"):
        df[column] = df[column].astype(str)
    for column in ("repeat", "step", "train_size", "initial_size"):
        df[column] = df[column].astype("int64")
    df["rate"] = df["rate"].astype(float)
    return df.sort_values(["experiment", "trajectory", "step"], kind="stable").reset_index(
        drop=True
    )


def _unify_null_columns(tables: list[pa.Table]) -> list[pa.Table]:
    """Give a column that holds only nulls in a file the type it has in the other files.

    A kind without a value writes a typed placeholder (e.g. ``arms`` as an all-NaN float in
    a generative trajectory, a bool elsewhere); Arrow cannot merge double with bool, though
    no value conflicts.
    """
    typed: dict[str, pa.DataType] = {}
    for table in tables:
        for field, column in zip(table.schema, table.columns, strict=True):
            if not _empty(column):
                typed.setdefault(field.name, field.type)
    out = []
    for table in tables:
        for i, (field, column) in enumerate(zip(table.schema, table.columns, strict=True)):
            target = typed.get(field.name)
            if target is not None and field.type != target and _empty(column):
                table = table.set_column(i, field.name, pa.nulls(len(column), target))
        out.append(table)
    return out


def _empty(column: pa.ChunkedArray) -> bool:
    """Only nulls, or (floats) only NaN: pandas writes a missing float as NaN, not null."""
    if column.null_count == len(column):
        return True
    if pa.types.is_floating(column.type):
        return not pc.any(pc.invert(pc.is_nan(column.fill_null(float("nan"))))).as_py()
    return False


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
