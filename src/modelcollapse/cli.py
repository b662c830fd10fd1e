"""The ``modelcollapse`` command: a thin Typer layer over the library.

Every command parses its options and calls one library function. Errors the
user can fix print as one line on stderr with exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from modelcollapse.errors import UserError

try:  # recent Typer releases vendor their own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older Typer on the real click
    from click import exceptions as click_errors

app = typer.Typer(
    name="modelcollapse",
    help="Measure how fast a classifier degrades when it learns from labels it made itself.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Inspect review data.", no_args_is_help=True)
app.add_typer(data_app, name="data")

console = Console()
EXPERIMENT_HELP = (
    "A preset (demo, learning-curve, total-collapse, collapse-rates, lower-rates, "
    "lower-rates-detail, seed-study) or a TOML config file."
)


def _parse_rates(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(
            f"expected comma-separated numbers in [0, 1], got '{text}'", "--rates"
        ) from None
    if not rates:
        raise UserError("expected at least one rate", "--rates")
    for rate in rates:
        if not 0.0 <= rate <= 1.0:
            raise UserError(f"rate {rate:g} is outside [0, 1]", "--rates")
    return rates


def _parse_test_size(text: str | None) -> str | float | int | None:
    if text is None or text == "rest":
        return text
    try:
        value = float(text)
    except ValueError:
        raise UserError(
            f"expected 'rest', a fraction in (0, 1) or a count, got '{text}'", "--test-size"
        ) from None
    if 0 < value < 1:
        return value
    if value >= 1 and value.is_integer():
        return int(value)
    raise UserError(
        f"expected 'rest', a fraction in (0, 1) or a count, got '{text}'", "--test-size"
    )


def _positive(value: float | int | None, option: str) -> None:
    if value is not None and value <= 0:
        raise UserError(f"must be positive, got {value:g}", option)


@app.command()
def run(
    experiment: Annotated[
        str,
        typer.Argument(help=EXPERIMENT_HELP),
    ],
    data: Annotated[
        str | None,
        typer.Option(help="Reviews to use: a file path, or 'demo' for the built-in corpus."),
    ] = None,
    model: Annotated[str | None, typer.Option(help="seed-rf, logreg or nb.")] = None,
    tokenizer: Annotated[str | None, typer.Option(help="seed (the original's) or fast.")] = None,
    scale: Annotated[
        float | None, typer.Option(help="Multiply every training size by this factor.")
    ] = None,
    rates: Annotated[
        str | None, typer.Option(help="Comma-separated collapse rates, e.g. 0,0.3,1.")
    ] = None,
    repeats: Annotated[int | None, typer.Option(help="Repeats per study.")] = None,
    initial_size: Annotated[
        int | None, typer.Option(help="First training size (linear studies).")
    ] = None,
    increment: Annotated[
        int | None, typer.Option(help="Reviews added per step (linear studies).")
    ] = None,
    max_size: Annotated[int | None, typer.Option(help="Largest training size.")] = None,
    test_size: Annotated[
        str | None, typer.Option(help="'rest', a fraction of all reviews, or a count.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Run seed; every random choice derives from it.")
    ] = None,
    jobs: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    out: Annotated[
        Path | None,
        typer.Option(help="Run directory (default: runs/NAME). An existing one is resumed."),
    ] = None,
    report: Annotated[
        bool | None,
        typer.Option(
            "--report/--no-report", help="Build the HTML report at the end (default: on for demo)."
        ),
    ] = None,
) -> None:
    """Run (or resume) a study and store its results in a run directory."""
    from modelcollapse.experiments.config import apply_overrides, load_config
    from modelcollapse.runner import prepare_run, summarize

    for value, option in (
        (scale, "--scale"), (repeats, "--repeats"), (initial_size, "--initial-size"),
        (increment, "--increment"), (max_size, "--max-size"), (jobs, "--jobs"),
    ):  # fmt: skip
        _positive(value, option)
    if seed is not None and seed < 0:
        raise UserError(f"must be 0 or more, got {seed}", "--seed")
    config = apply_overrides(
        load_config(experiment),
        data=data, model=model, tokenizer=tokenizer, seed=seed, scale=scale,
        rates=_parse_rates(rates), repeats=repeats, initial_size=initial_size,
        increment=increment, max_size=max_size, test_size=_parse_test_size(test_size),
    )  # fmt: skip
    from modelcollapse.features.tokenize import TOKENIZERS
    from modelcollapse.models import get_model

    get_model(config.model)
    if config.tokenizer not in TOKENIZERS:
        raise UserError(
            f"unknown tokenizer '{config.tokenizer}' (expected one of: {', '.join(TOKENIZERS)})",
            "--tokenizer",
        )
    run_dir = out if out is not None else Path("runs") / config.name

    with Console(stderr=True).status("loading data and features"):
        prepared = prepare_run(config, run_dir)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=Console(stderr=True),
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{config.name}: trajectories", total=len(prepared.plan))

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = prepared.execute(jobs, progress=show)

    table = Table(title=f"{config.name}: mean accuracy at the first and last size")
    for col in (
        "study",
        "start",
        "rate",
        "repeats",
        "first size",
        "accuracy",
        "last size",
        "accuracy ",
    ):
        table.add_column(col, justify="left" if col == "study" else "right")
    for row in summarize(result.results).itertuples():
        table.add_row(row.experiment, f"{row.initial_size:,}", f"{row.rate:g}", str(row.repeats),
                      f"{row.first_size:,}", f"{row.first_accuracy:.4f}",
                      f"{row.last_size:,}", f"{row.last_accuracy:.4f}")  # fmt: skip
    console.print(table)
    if result.n_skipped:
        console.print(
            f"resumed: {result.n_skipped} of {result.n_trajectories} trajectories "
            "were already stored"
        )
    console.print(f"results: {result.run_dir}")
    if report if report is not None else config.name == "demo":
        from modelcollapse.report import build_report

        console.print(f"report: {build_report(result.run_dir)}")


@app.command("report")
def report_command(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory written by 'modelcollapse run'.")
    ],
    format: Annotated[str, typer.Option("--format", help="Figure files: png, svg or pdf.")] = "png",
) -> None:
    """Build figures and a self-contained HTML report from stored results."""
    from modelcollapse.report import build_report

    if format not in ("png", "svg", "pdf"):
        raise UserError(f"expected png, svg or pdf, got '{format}'", "--format")
    if not (run_dir / "config.toml").exists():
        raise UserError("is not a run directory (no config.toml)", str(run_dir))
    console.print(f"report: {build_report(run_dir, format)}")  # type: ignore[arg-type]


@data_app.command("info")
def data_info_command(
    path: Annotated[
        str, typer.Argument(help="A review file (fastText, CSV, TSV, Parquet, JSONL), or 'demo'.")
    ],
) -> None:
    """Rows, label balance, text lengths and unreadable lines of a data file."""
    from modelcollapse.data.info import data_info

    info = data_info(path)
    table = Table(title=str(path), show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for key, value in info.to_rows():
        table.add_row(key, value)
    console.print(table)


@app.command("presets")
def presets_command() -> None:
    """List the shipped experiment presets."""
    from modelcollapse.experiments.config import PRESETS, load_config

    table = Table("preset", "model", "studies", "description")
    for name in PRESETS:
        cfg = load_config(name)
        table.add_row(name, cfg.model, ", ".join(s.name for s in cfg.study), cfg.description)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line errors with exit status 2 instead of tracebacks."""
    try:
        app(args=argv, prog_name="modelcollapse", standalone_mode=False)
    except UserError as err:
        print(f"modelcollapse: error: {err}", file=sys.stderr)
        return 2
    except click_errors.UsageError as err:
        print(f"modelcollapse: error: {err.format_message()}", file=sys.stderr)
        return 2
    except click_errors.Abort:
        print("modelcollapse: interrupted", file=sys.stderr)
        return 130
    except click_errors.ClickException as err:
        print(f"modelcollapse: error: {err.format_message()}", file=sys.stderr)
        return err.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
