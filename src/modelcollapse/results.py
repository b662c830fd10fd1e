"""A run's results as one table, and the first and last step of every trajectory in it.

:func:`read_results` is the one reader of ``RUN_DIR/results/*.parquet``: the store, the
report, ``compare``/``answer``/``theory`` and the CLI all go through it, so one directory
gives one table wherever it is read. It

- reads only finished result files (``[!.]*.parquet``): the store's hidden temporary files and
  anything else in the folder (e.g. a ``*.error.json`` beside a failed trajectory) are skipped;
- unifies the files' schemas: a column a kind holds only as nulls (``arms`` as all-NaN floats in
  a generative trajectory, a bool elsewhere) takes the type the other files give it; a loop
  trajectory written before a loop option existed gets the option's column at its default (the
  value that reproduces what that version did); ``model``, ``tokenizer`` and ``seed`` missing
  from older or foreign stores get a constant so grouping still works;
- drops only rows that hold no ``accuracy`` or no ``train_size`` (no figure, table or test can
  place them), and files that repeat another file's trajectory under another name (a copy of
  one trajectory's file over another's), and says so: ``frame.attrs["dropped"]`` holds one
  sentence per file that lost rows, also given as a
  :class:`~modelcollapse.errors.ModelCollapseWarning` (the CLI prints it as one line) and
  listed among the report's notes;
- sorts by experiment, trajectory and step;
- counts the trajectories it saw against those the run planned (``manifest.json``), in
  ``frame.attrs["coverage"]``: :func:`coverage_note` words it ("3 of 15 planned trajectories
  stored; ..."), and the CLI's run summary, ``compare`` and the report all print that sentence.

:func:`trajectory_endpoints` is the one first/last summary: one row per trajectory with its
first and last model, from which the CLI's run summary (:func:`series_summary`) and the
report's summary tables take their means and intervals.
"""

from __future__ import annotations

import json
import shlex
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from modelcollapse.data.corpus import POLARITY_NAMES
from modelcollapse.engines import ENGINES, engine_of, kinds_recording
from modelcollapse.errors import ModelCollapseWarning, UserError, one_line

SORT_KEYS = ("experiment", "trajectory", "step")
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
OPTIONAL_DEFAULTS: dict[str, object] = {"model": "", "tokenizer": "", "seed": -1}
_TEXT_COLUMNS = ("experiment", "kind", "trajectory", "model", "tokenizer")
_INTEGER_COLUMNS = ("repeat", "step", "train_size", "initial_size")
_MEASURED = ("accuracy", "train_size")  # a row without these cannot be placed anywhere


def result_files(run_dir: str | Path) -> list[Path]:
    """The finished trajectories' files of ``run_dir``, sorted; writes in progress are hidden
    ``.tmp-*`` files and other files (error records) do not end in ``.parquet``."""
    folder = Path(run_dir) / "results"
    return sorted(folder.glob("[!.]*.parquet")) if folder.is_dir() else []


def read_results(run_dir: str | Path) -> pd.DataFrame:
    """Every stored row of ``run_dir`` as one table (see the module's docstring).

    Raises :class:`UserError` naming the directory when it is not one, holds no result files,
    a file cannot be read, the files do not share one schema or lack a required column.
    """
    run_dir = Path(run_dir)
    where = str(run_dir)
    if not run_dir.is_dir():
        raise UserError("not a directory (expected a run directory with results/)", where)
    files = result_files(run_dir)
    if not files:
        raise UserError("no results: results/*.parquet is empty or missing", where)
    tables = []
    for path in files:
        try:
            tables.append(_with_loop_defaults(pq.read_table(path)))
        except (OSError, ValueError, pa.ArrowException) as err:
            raise UserError(f"cannot read {path.name}: {one_line(err)}", where) from None
    copies = _copies(files, tables)
    files = [f for i, f in enumerate(files) if i not in copies]
    tables = [t for i, t in enumerate(tables) if i not in copies]
    sizes = [t.num_rows for t in tables]
    try:
        table = pa.concat_tables(_unify_null_columns(tables), promote_options="permissive")
    except pa.ArrowException as err:
        raise UserError(f"results files do not share one schema: {one_line(err)}", where) from None
    try:
        frame = table.to_pandas()
    except ValueError as err:  # metadata of a damaged footer: not UTF-8, not JSON
        raise UserError(f"cannot read the results: {one_line(err)}", where) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise UserError(f"results lack columns: {', '.join(missing)}", where)
    for column, default in OPTIONAL_DEFAULTS.items():
        if column not in frame.columns:
            frame[column] = default
        elif frame[column].isna().any():
            frame[column] = frame[column].where(frame[column].notna(), default)
    unplaced = frame[list(_MEASURED)].isna().any(axis=1).to_numpy()
    dropped = [*copies.values(), *_dropped_sentences(unplaced, files, sizes)]
    if unplaced.all():
        raise UserError("no results: every stored row lacks an accuracy or a training size", where)
    frame = frame.loc[~unplaced]
    for column in _TEXT_COLUMNS:
        frame[column] = frame[column].astype(str)
    for column in _INTEGER_COLUMNS:
        if frame[column].notna().all():
            frame[column] = frame[column].astype("int64")
    frame["rate"] = frame["rate"].astype(float)
    frame = frame.sort_values(list(SORT_KEYS), kind="stable", ignore_index=True)
    frame.attrs["dropped"] = dropped
    frame.attrs["coverage"] = _coverage(run_dir, frame)
    frame.attrs["classes"] = _classes(run_dir, frame)
    for sentence in dropped:
        warnings.warn(f"{where}: {sentence}", ModelCollapseWarning, stacklevel=2)
    return frame


@dataclass(frozen=True)
class Classes:
    """A run's classes as its manifest records them (``data.label_names``, ``positive_class``,
    ``class_counts``): class j of the ``*_share_j`` columns is ``names[j]``; binary results'
    "positive" columns count ``positive`` (class 1)."""

    names: tuple[str, ...] = ()
    positive: str | None = None
    counts: tuple[int, ...] = ()

    @property
    def k(self) -> int:
        """The number of classes (2 when the manifest does not say: a run from before k
        classes)."""
        return len(self.names) or 2

    @property
    def polarity(self) -> bool:
        """Whether "positive" means positive sentiment (names unknown: the original binary runs)."""
        return not self.names or tuple(n.lower() for n in self.names) in POLARITY_NAMES

    def name(self, j: int) -> str:
        return self.names[j] if j < len(self.names) else f"class {j}"

    def listed(self) -> str:
        """``"4: email, web, testing, concurrency"``; for binary data whose names are not
        polarity words, which class "positive" counts."""
        if not self.names:
            return "2 (binary; names not recorded)"
        text = f"{self.k}: {', '.join(self.names)}"
        if self.k == 2 and not self.polarity:
            text += f" ('positive' columns count {self.positive or self.names[1]!r})"
        return text

    def predicted_phrase(self) -> str:
        """What a binary run's ``predicted_positive_rate`` is the share of: predicted
        "positive", or predicted 'spam' for a spam/ham corpus."""
        if self.polarity:
            return "positive"
        return repr(self.positive or self.names[1])


def classes_of(results: pd.DataFrame) -> Classes:
    """The :class:`Classes` :func:`read_results` found for ``results`` (a table built otherwise:
    k from its ``predicted_share_j`` columns, names unknown)."""
    found = results.attrs.get("classes")
    if isinstance(found, Classes):
        return found
    return _classes_from_columns(results)


def _classes_from_columns(frame: pd.DataFrame) -> Classes:
    k = sum(str(c).startswith("predicted_share_") for c in frame.columns)
    return Classes(tuple(f"class {j}" for j in range(k))) if k > 2 else Classes()


def _classes(run_dir: Path, frame: pd.DataFrame) -> Classes:
    manifest, _ = _manifest(run_dir / "manifest.json")
    data = manifest.get("data") if manifest is not None else None
    names = data.get("label_names") if isinstance(data, dict) else None
    if not (isinstance(names, list) and len(names) >= 2):
        return _classes_from_columns(frame)
    positive = data.get("positive_class")
    counts = data.get("class_counts")
    return Classes(
        tuple(str(n) for n in names),
        str(positive) if isinstance(positive, str) else None,
        tuple(int(c) for c in counts) if isinstance(counts, list) else (),
    )


def coverage_note(results: pd.DataFrame) -> str | None:
    """How many of the run's planned trajectories ``results`` (from :func:`read_results`) holds,
    as one sentence; None for a table that did not come from it.

    E.g. "12 of 12 planned trajectories stored", or for a partial run "3 of 15 planned
    trajectories stored (rates: 3 of 6, collapse: 0 of 9); 2 failed (records in errors/),
    10 not run yet; 'modelcollapse run RUN/config.toml --out RUN' computes them".
    """
    coverage = results.attrs.get("coverage")
    if not coverage:
        return None
    stored, planned = coverage["stored"], coverage["planned"]
    if planned is None:
        return (
            f"{stored} trajectories stored; how many were planned is unknown "
            f"(manifest.json is {coverage['manifest']})"
        )
    text = f"{stored} of {planned} planned trajectories stored"
    if stored >= planned:
        return text
    studies = coverage["studies"]
    if len(studies) > 1:
        text += " (" + ", ".join(f"{name}: {n} of {of}" for name, (n, of) in studies.items()) + ")"
    failed = min(coverage["failed"], planned - stored)
    missing = planned - stored - failed
    parts = ([f"{failed} failed (records in errors/)"] if failed else []) + (
        [f"{missing} not run yet"] if missing else []
    )
    run_dir = Path(coverage["run_dir"])
    command = shlex.join(
        ["modelcollapse", "run", str(run_dir / "config.toml"), "--out", str(run_dir)]
    )
    return f"{text}; {', '.join(parts)}; '{command}' computes them"


def _coverage(run_dir: Path, frame: pd.DataFrame) -> dict[str, object]:
    """What :func:`coverage_note` words: trajectories stored, planned (in all and per study,
    from the manifest; None when it cannot say) and failed (error records without a result)."""
    stored = frame.groupby("experiment", sort=False)["trajectory"].nunique()
    manifest, problem = _manifest(run_dir / "manifest.json")
    planned = manifest.get("n_trajectories") if manifest is not None else None
    if not isinstance(planned, int) or isinstance(planned, bool):
        planned, problem = None, problem or "without a trajectory count"
    per_study = manifest.get("planned") if manifest is not None else None
    studies = {}
    if isinstance(per_study, dict):
        studies = {
            str(name): (int(stored.get(name, 0)), int(n))
            for name, n in per_study.items()
            if isinstance(n, int)
        }
    done = set(frame["trajectory"].astype(str))
    errors = Path(run_dir) / "errors"
    failed = 0
    if errors.is_dir():
        keys = (p.name.removesuffix(".json").replace("~", "/") for p in errors.glob("[!.]*.json"))
        failed = sum(key not in done for key in keys)
    return {
        "run_dir": str(run_dir),
        "stored": len(done),
        "planned": planned,
        "studies": studies,
        "failed": failed,
        "manifest": problem,
    }


def _manifest(path: Path) -> tuple[dict | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "missing"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, "unreadable"
    return (data, None) if isinstance(data, dict) else (None, "not a JSON object")


def dropped_notes(results: pd.DataFrame) -> list[str]:
    """The sentences :func:`read_results` left on ``results`` about rows it dropped."""
    return list(results.attrs.get("dropped", []))


def _copies(files: list[Path], tables: list[pa.Table]) -> dict[int, str]:
    """The files that only repeat rows another file holds under its own name (a copy of one
    trajectory's file over another's), by position, with the sentence that says so."""
    keys = [path.stem.replace("~", "/") for path in files]
    held = [
        set(t.column("trajectory").to_pylist()) if "trajectory" in t.column_names else set()
        for t in tables
    ]
    own = {key: i for i, key in enumerate(keys) if key in held[i]}
    out = {}
    for i, values in enumerate(held):
        if keys[i] in values or not values or not values <= own.keys():
            continue
        source = files[own[sorted(values)[0]]].name
        out[i] = (
            f"results/{files[i].name} left out: its rows are those of results/{source} "
            "(a copy); the next run sets it aside and computes it again"
        )
    return out


def _dropped_sentences(unplaced, files: list[Path], sizes: list[int]) -> list[str]:
    out, start = [], 0
    for path, size in zip(files, sizes, strict=True):
        n = int(unplaced[start : start + size].sum())
        start += size
        if n:
            rows = "row" if n == 1 else "rows"
            out.append(
                f"{n} {rows} of results/{path.name} left out: no accuracy or no training size"
            )
    return out


def _with_loop_defaults(table: pa.Table) -> pa.Table:
    """A loop trajectory's results written before a loop option existed: the option's column at
    its default, so that old and new trajectories of one run stay one design."""
    from modelcollapse.core.options import LoopOptions
    from modelcollapse.engines import generational_kinds

    names = table.column_names
    if "regime" not in names or "kind" not in names:
        return table
    kinds = set(table.column("kind").to_pylist())
    if kinds & set(generational_kinds()):
        return table
    for name, value in LoopOptions().asdict().items():
        if name not in names:
            value = -1 if value is None else value  # window: -1, the first size
            table = table.append_column(name, pa.array([value] * table.num_rows))
    return table


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


# --- first and last step ------------------------------------------------------------------

ENDPOINT_COLUMNS = (
    "experiment",
    "kind",
    "trajectory",
    "repeat",
    "initial_size",
    "rate",
    "regime",
    "first_step",
    "first_size",
    "first_accuracy",
    "first_vocabulary",
    "last_step",
    "last_size",
    "last_accuracy",
    "last_vocabulary",
)
SERIES_SUMMARY_COLUMNS = (
    "experiment",
    "kind",
    "series",
    "initial_size",
    "rate",
    "repeats",
    "first_step",
    "first_size",
    "first_accuracy",
    "last_step",
    "last_size",
    "last_accuracy",
    "first_vocabulary",
    "last_vocabulary",
)


def first_rows(data: pd.DataFrame) -> pd.DataFrame:
    """Each trajectory's first step (its first row there)."""
    return data.loc[data.groupby("trajectory", sort=False)["step"].idxmin()]


def last_rows(data: pd.DataFrame) -> pd.DataFrame:
    """Each trajectory's final step (trajectories may differ in length)."""
    return data.loc[data.groupby("trajectory", sort=False)["step"].idxmax()]


def _rows_recording(results: pd.DataFrame, column: str) -> pd.DataFrame:
    """The rows of the kinds whose engine records ``column``."""
    return results.loc[results["kind"].astype(str).isin(kinds_recording(column))]


def best_per_generation(results: pd.DataFrame) -> pd.DataFrame:
    """A breeding study's (``generations``) model per trajectory and generation: the child
    with the highest validation accuracy (the first such child on ties), without the stop
    rows. Rows of kinds that record no ``validation_accuracy`` are left out."""
    data = _rows_recording(results, "validation_accuracy")
    if "stopped" in data:
        data = data.loc[~data["stopped"].astype("boolean").fillna(False).to_numpy(bool)]
    if data.empty:
        return data
    key = "generation" if "generation" in data else "step"
    best = data.groupby(["trajectory", key], sort=True)["validation_accuracy"].idxmax()
    return data.loc[best.to_numpy()].reset_index(drop=True)


def final_models(results: pd.DataFrame) -> pd.DataFrame:
    """A breeding study's (``generations``) stop rows: the model each search ends with."""
    data = _rows_recording(results, "stopped")
    if "stopped" not in data:
        return data.iloc[:0]
    return data.loc[data["stopped"].astype("boolean").fillna(False).to_numpy(bool)]


def trajectory_endpoints(results: pd.DataFrame) -> pd.DataFrame:
    """One row per trajectory: its first and its last model (columns :data:`ENDPOINT_COLUMNS`).

    Each kind's engine says which rows those are (:meth:`Engine.endpoint_rows
    <modelcollapse.engines.Engine.endpoint_rows>`): the first and last step, except in a
    ``generations`` study, where the first is generation 0's best model by validation accuracy
    and the last the model the search ends with (its stop row; ``last_step`` is the generation
    it stopped at). ``*_vocabulary`` is the vocabulary of the reviews a ``generative``
    generation wrote and ``regime`` its series: NaN for kinds that do not record them.
    """
    kind = results["kind"].astype(str)
    parts = []
    for name in kind.unique():
        first, last = engine_of(name).endpoint_rows(results.loc[kind == name])
        parts.append(_endpoints(first, last))
    if not parts:
        return pd.DataFrame(columns=list(ENDPOINT_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["experiment", "trajectory"], kind="stable", ignore_index=True)


def _endpoints(first: pd.DataFrame, last: pd.DataFrame) -> pd.DataFrame:
    def side(rows: pd.DataFrame, prefix: str) -> pd.DataFrame:
        rows = rows.drop_duplicates("trajectory")
        vocabulary = rows["vocabulary_size"] if "vocabulary_size" in rows else float("nan")
        recorded = rows["kind"].astype(str).isin(kinds_recording("vocabulary_size"))
        return pd.DataFrame(
            {
                "trajectory": rows["trajectory"],
                f"{prefix}_step": rows["step"],
                f"{prefix}_size": rows["train_size"],
                f"{prefix}_accuracy": rows["accuracy"],
                f"{prefix}_vocabulary": pd.Series(vocabulary, index=rows.index).where(recorded),
            }
        )

    keys = first.drop_duplicates("trajectory")
    regime = keys["regime"] if "regime" in keys else float("nan")
    ids = pd.DataFrame(
        {
            "experiment": keys["experiment"],
            "kind": keys["kind"].astype(str),
            "trajectory": keys["trajectory"],
            "repeat": keys["repeat"],
            "initial_size": keys["initial_size"],
            "rate": keys["rate"],
            "regime": pd.Series(regime, index=keys.index, dtype=object).where(
                keys["kind"].astype(str).isin(kinds_recording("regime"))
            ),
        }
    )
    out = ids.merge(side(first, "first"), on="trajectory", how="left")
    out = out.merge(side(last, "last"), on="trajectory", how="outer")
    return out[list(ENDPOINT_COLUMNS)]


def series_key(kind: str) -> list[str]:
    """What tells the series of a kind apart within a study: its engine's ``series`` (the
    regime for generative, the rate for generations, else the start size and rate)."""
    return [column for column in engine_of(kind).series if column != "experiment"]


def _series_label(column: str, values: pd.Series) -> list[str]:
    if pd.api.types.is_numeric_dtype(values):
        return [f"{column}={v:g}" for v in values]
    return [f"{column}={v}" for v in values]


def series_summary(results: pd.DataFrame) -> pd.DataFrame:
    """Mean test accuracy per study and series at the first and the last model.

    One row per series of trajectories (:func:`series_key`; ``series`` names it by the key's
    last column: "rate=0.1" or "regime=replace"), from :func:`trajectory_endpoints`:
    ``repeats`` counted, steps, accuracies and vocabularies averaged, sizes as medians. Columns:
    :data:`SERIES_SUMMARY_COLUMNS`; ``first_vocabulary``/``last_vocabulary`` NaN outside
    generative studies, ``rate`` NaN where the series key has none. Kinds with the same key
    share one grouping, in the order the kinds were registered.
    """
    ends = trajectory_endpoints(results)
    if ends.empty:
        return pd.DataFrame(columns=list(SERIES_SUMMARY_COLUMNS))
    order = {name: i for i, name in enumerate(ENGINES)}
    kinds = sorted(ends["kind"].unique(), key=lambda k: order.get(k, len(order)))
    key_of = {kind: tuple(series_key(kind)) for kind in kinds}
    parts = []
    for key in dict.fromkeys(key_of[kind] for kind in kinds):
        rows = ends.loc[ends["kind"].isin([k for k in kinds if key_of[k] == key])]
        keys = ["experiment", *key]
        grouped = rows.groupby(keys, dropna=False, sort=True)
        table = grouped.agg(
            kind=("kind", "first"),
            repeats=("repeat", "nunique"),
            **({} if "initial_size" in keys else {"initial_size": ("initial_size", "median")}),
            **{
                f"{p}_{name}": (f"{p}_{column}", how)
                for p in ("first", "last")
                for name, column, how in (
                    ("step", "step", "mean"),
                    ("size", "size", "median"),
                    ("accuracy", "accuracy", "mean"),
                    ("vocabulary", "vocabulary", "mean"),
                )
            },
        ).reset_index()
        table["series"] = _series_label(keys[-1], table[keys[-1]])
        if "rate" not in keys:
            table["rate"] = float("nan")
        parts.append(table)
    table = pd.concat(parts, ignore_index=True)
    for column in ("first_size", "last_size", "initial_size"):
        table[column] = table[column].round().astype("int64")
    return table[list(SERIES_SUMMARY_COLUMNS)]


__all__ = [
    "ENDPOINT_COLUMNS",
    "OPTIONAL_DEFAULTS",
    "REQUIRED_COLUMNS",
    "SERIES_SUMMARY_COLUMNS",
    "best_per_generation",
    "coverage_note",
    "dropped_notes",
    "final_models",
    "first_rows",
    "last_rows",
    "read_results",
    "result_files",
    "series_key",
    "series_summary",
    "trajectory_endpoints",
]
