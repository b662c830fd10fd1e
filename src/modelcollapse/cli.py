"""The ``modelcollapse`` command: a thin Typer layer over the library.

Every command parses its options and calls one library function. Errors the
user can fix print as one line on stderr with exit status 2.
"""

from __future__ import annotations

import inspect
import math
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich import box
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

from modelcollapse.data.readers import DATA_FORMATS
from modelcollapse.errors import ModelCollapseWarning, UserError, is_storage_error, storage_error
from modelcollapse.experiments import shipped_presets
from modelcollapse.models import MODELS
from modelcollapse.run.executors import describe_backends

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
    f"A preset ({', '.join(shipped_presets())}; `modelcollapse presets` lists them with those "
    "that plug-ins add) or a TOML config file."
)
LOOP_PANEL = "Loop design (every study with a size grid; see docs/options.md)"
DATA_PANEL = "Reading a data file (see docs/data.md)"

TextColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--text-column",
        help="Column (CSV/TSV/Parquet) or key (JSONL) of the text; default: guessed (text, "
        "content, review, sentence, ...).",
        rich_help_panel=DATA_PANEL,
    ),
]
LabelColumnOpt = Annotated[
    str | None,
    typer.Option(
        "--label-column",
        help="Column or key of the label; default: guessed (label, class, category, "
        "sentiment, polarity, target, stars, ...).",
        rich_help_panel=DATA_PANEL,
    ),
]
LabelsOpt = Annotated[
    str | None,
    typer.Option(
        "--labels",
        help="The classes in their order, e.g. 'ham,spam' (class 1 is what 'positive' results "
        "count); any other label is an error. Default: every value found, numbers in numeric "
        "order, else alphabetical.",
        rich_help_panel=DATA_PANEL,
    ),
]


def _data_options(
    text_column: str | None, label_column: str | None, labels: str | None
) -> dict[str, object]:
    from modelcollapse.data.readers import parse_labels

    options: dict[str, object] = {"text_column": text_column, "label_column": label_column}
    options["labels"] = parse_labels(labels)
    return {k: v for k, v in options.items() if v is not None}


def _parse_rates(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(
            f"expected comma-separated numbers in [0, 1], got {text!r}", "--rates"
        ) from None
    if not rates:
        raise UserError("expected at least one rate", "--rates")
    from modelcollapse.core.options import check_rate

    try:
        return [check_rate(rate) for rate in rates]
    except ValueError as exc:
        raise UserError(str(exc), "--rates") from None


def _parse_test_size(text: str | None) -> str | float | int | None:
    if text is None or text == "rest":
        return text
    try:
        value = float(text)
    except ValueError:
        raise UserError(
            f"expected 'rest', a fraction in (0, 1) or a count, got {text!r}", "--test-size"
        ) from None
    if 0 < value < 1:
        return value
    if value >= 1 and value.is_integer():
        return int(value)
    raise UserError(
        f"expected 'rest', a fraction in (0, 1) or a count, got {text!r}", "--test-size"
    )


def _wide() -> Console:
    """Standard output; piped or captured, rich would squeeze tables into 80 columns and cut
    numbers short ("0.85…"), so give them room instead."""
    return console if console.is_terminal else Console(width=250)


def summary_tables(results, name: str) -> list[Table]:
    """Mean accuracy at the first and the last model: one table per kind's
    :class:`~modelcollapse.engines.SummaryTable` (the studies with a size grid share one, per
    study, start and rate; a generational kind has its own, per regime or rate)."""
    from modelcollapse.engines import engine_of
    from modelcollapse.engines.base import GRID_TABLE
    from modelcollapse.results import series_summary

    summary = series_summary(results)
    groups: dict = {GRID_TABLE: []} if summary.empty else {}
    for row in summary.itertuples():
        groups.setdefault(engine_of(row.kind).summary_table, []).append(row)
    tables = []
    for spec, rows in groups.items():
        table = Table(
            title=f"{name}: {spec.title}",
            caption=spec.caption,
            caption_justify="left",
            box=box.SIMPLE_HEAD,
            pad_edge=spec.pad_edge,
        )
        for col in spec.columns:
            table.add_column(col, justify="left" if col in spec.left else "right", no_wrap=True)
        for row in rows:
            table.add_row(*spec.cells(row))
        tables.append(table)
    return tables


def _loop_overrides(config, flags: dict[str, object]) -> dict[str, object]:
    """The loop options set on the command line, checked against the options table: each on
    its own, then whether it applies to every study with a size grid, then each study's
    options as they would be (the file's and the flags')."""
    from pydantic import TypeAdapter, ValidationError

    from modelcollapse.core.options import loop_options, one_line_error

    entries = {e.name: e for e in loop_options()}
    loop = {name: value for name, value in flags.items() if value is not None}
    for name, value in loop.items():
        try:
            TypeAdapter(entries[name].option.annotation()).validate_python(value)
        except ValidationError as exc:
            message = one_line_error(exc)
            raise UserError(f"{message[:1].lower()}{message[1:]}, got {value!r}",
                            entries[name].option.flag) from None  # fmt: skip
    if not loop:
        return loop
    gridded = [s for s in config.study if s.engine.uses_loop]
    if not gridded:
        kinds = " or ".join(sorted({s.kind for s in config.study}))
        raise UserError(
            f"loop options do not apply to {kinds} studies",
            entries[next(iter(loop))].option.flag,
        )
    for name, value in loop.items():
        entry = entries[name]
        if entry.applies is None or value == entry.option.default:
            continue
        chooser, parts = entry.applies
        for study in gridded:
            chosen = loop.get(chooser, getattr(study.loop, chooser))
            if chosen not in parts:
                flag = entries[chooser].option.flag
                raise UserError(
                    f"applies to {flag} {' or '.join(parts)} only "
                    f"(a study here uses {chooser} '{chosen}')",
                    entry.option.flag,
                )
    for study in gridded:  # combinations, with the file's options
        try:
            study.loop.replace(**loop)
        except ValueError as exc:
            raise UserError(
                f"study '{study.name}': {exc}", ", ".join(entries[n].option.flag for n in loop)
            ) from None
    return loop


def _loop_parameters() -> list[inspect.Parameter]:
    """``run``'s loop flags, one per row of the options table as it stands."""
    from modelcollapse.core.options import loop_options

    params = []
    for entry in loop_options():
        option = entry.option
        where = ""
        if entry.applies is not None:
            chooser, parts = entry.applies
            where = f"; --{chooser.replace('_', '-')} {', '.join(parts)} only"
        help = f"{option.help} ({option.allowed()}{where})"
        decls = [f"{option.flag}/--no-{option.flag[2:]}" if option.type is bool else option.flag]
        info = typer.Option(*decls, help=help, rich_help_panel=LOOP_PANEL, show_default=False)
        params.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[option.type | None, info],
            )
        )
    return params


def _install_loop_flags() -> None:
    """Give ``run`` a flag per loop option; at every call, so that a part registered after
    import (a plug-in's label policy) brings its options' flags."""
    fixed = [p for p in _RUN_SIGNATURE.parameters.values() if p.kind is not p.VAR_KEYWORD]
    run.__signature__ = _RUN_SIGNATURE.replace(parameters=fixed + _loop_parameters())  # type: ignore[attr-defined]


def _check_margin(margin: float | None) -> None:
    # inf passes ">= 0" and made every difference "equivalent within ±inf".
    if margin is not None and not (margin >= 0 and math.isfinite(margin)):
        raise UserError(f"must be a finite number, 0 or more, got {margin:g}", "--margin")


def _check_baseline(baseline: str) -> None:
    """A baseline names each column once: ``rate=0,rate=1`` silently meant rate=1."""
    keys = [part.split("=", 1)[0].strip() for part in baseline.split(",") if "=" in part]
    twice = sorted({key for key in keys if keys.count(key) > 1})
    if twice:
        raise UserError(
            f"names {', '.join(twice)} more than once ({baseline!r}); a baseline is one value "
            "per column, e.g. rate=0",
            "--baseline",
        )


def _parse_pairs(pairs: list[str] | None, option: str) -> dict[str, str] | None:
    """NAME=VALUE flags as a dict (values as typed: the option they name converts them)."""
    if not pairs:
        return None
    out = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name.strip():
            raise UserError(f"expected NAME=VALUE, got {pair!r}", option)
        out[name.strip().replace("-", "_")] = value.strip()
    return out


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
        typer.Option(
            help="Reviews to use: a file path, the name of an imported corpus (see 'modelcollapse"
            " data list'), or 'demo' for the built-in corpus."
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help=f"{', '.join(MODELS.names())} (the README's models table).")
    ] = None,
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
    jobs: Annotated[int, typer.Option(help="Worker processes (--backend local).")] = 1,
    reuse_fits: Annotated[
        bool,
        typer.Option(
            "--reuse-fits/--no-reuse-fits",
            help="Fit once what trajectories share (every rate's first model); same results.",
        ),
    ] = True,
    backend: Annotated[
        str, typer.Option(help=f"Where trajectories run: {describe_backends()}")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address for --backend dask, e.g. tcp://HOST:8786."),
    ] = None,
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
    text_column: TextColumnOpt = None,
    label_column: LabelColumnOpt = None,
    labels: LabelsOpt = None,
    generator_option: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=VALUE: an option of the generative studies' generator (repeatable; "
            "docs/options.md lists each generator's), e.g. --generator-option hidden=128."
        ),
    ] = None,
    **loop_flags: object,
) -> None:
    """Run (or resume) a study and store its results in a run directory."""
    from modelcollapse.experiments.config import apply_overrides, load_config
    from modelcollapse.runner import check_backend, prepare_run

    executor = check_backend(backend, scheduler, jobs)
    data_options = _data_options(text_column, label_column, labels)
    for value, option in (
        (scale, "--scale"), (repeats, "--repeats"), (initial_size, "--initial-size"),
        (increment, "--increment"), (max_size, "--max-size"),
    ):  # fmt: skip
        _positive(value, option)
    if seed is not None and seed < 0:
        raise UserError(f"must be 0 or more, got {seed}", "--seed")
    config = load_config(experiment)
    loop = _loop_overrides(config, loop_flags)
    config = apply_overrides(
        config,
        data=data, model=model, tokenizer=tokenizer, seed=seed, scale=scale,
        rates=_parse_rates(rates), repeats=repeats, initial_size=initial_size,
        increment=increment, max_size=max_size, test_size=_parse_test_size(test_size),
        loop=loop or None, generator_options=_parse_pairs(generator_option, "--generator-option"),
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
    stderr = Console(stderr=True)
    for study in config.study:
        per_batch = study.loop.mixture == "batch" and study.loop.regime != "fresh"
        for low, high, rows, batch in study.rate_collisions(config.scale):
            which = f"{rows} of every {batch} added reviews" if per_batch else "the same rows"
            stderr.print(
                f"warning: study '{study.name}': rates {low:g} and {high:g} both model-label "
                f"{which}, so their trajectories are identical; use a larger --scale or "
                "--increment",
                highlight=False,
                soft_wrap=True,
            )

    with stderr.status("loading data and features"), executor.warm_up():
        prepared = prepare_run(config, run_dir, data_options=data_options)
    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=Console(stderr=True),
    )  # fmt: skip
    task = bar.add_task(f"{config.name}: trajectories", total=len(prepared.plan))

    def show(done: int, total: int) -> None:
        bar.start()  # at the first report: an error before it (no scheduler...) stays one line
        bar.update(task, completed=done, total=total)

    try:
        result = prepared.execute(progress=show, executor=executor, reuse_fits=reuse_fits)
    finally:
        bar.stop()

    if not result.results.empty:
        for table in summary_tables(result.results, config.name):
            _wide().print(table)
        _print_coverage(result.results)
    if result.n_skipped:
        console.print(
            f"resumed: {result.n_skipped} of {result.n_trajectories} trajectories "
            "were already stored"
        )
    if result.n_retried:
        console.print(f"retried: {result.n_retried} that failed before")
    console.print(f"results: {result.run_dir}")
    if result.failures:
        _report_failures(result)
        raise typer.Exit(1)
    if report if report is not None else config.name == "demo":
        from modelcollapse.report import build_report

        console.print(f"report: {build_report(result.run_dir)}")


_RUN_SIGNATURE = inspect.signature(run, eval_str=True)
_install_loop_flags()


def _print_coverage(results) -> None:
    """How many of the planned trajectories a table holds (see results.coverage_note)."""
    from modelcollapse.results import coverage_note

    note = coverage_note(results)
    if note:
        console.print(note, soft_wrap=True, highlight=False, markup=False)


def _report_failures(result) -> None:
    """One line per failed trajectory on stderr, naming it and its error record; where the
    tracebacks are on stdout."""
    from modelcollapse.store import RunStore

    store = RunStore(result.run_dir)
    for key, failure in result.failures.items():
        record = store.failure_path(key)
        print(
            f"modelcollapse: error: trajectory {key} failed: {failure} (traceback: {record})",
            file=sys.stderr,
        )
    console.print(
        f"failed: {result.n_failed} of {result.n_trajectories} trajectories (tracebacks in "
        f"{result.run_dir / 'errors'}); the same command retries them",
        soft_wrap=True, highlight=False, markup=False,
    )  # fmt: skip


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


@app.command("compare")
def compare_command(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory written by 'modelcollapse run'.")
    ],
    baseline: Annotated[
        str,
        typer.Option(
            help="The rows to compare with, as column=value[,column=value], e.g. rate=0 or "
            "regime=accumulate."
        ),
    ] = "rate=0",
    margin: Annotated[
        float | None,
        typer.Option(
            help="Equivalence margin (TOST), in the metric's own units (0.005 = 0.5 pp of "
            "accuracy). Default: the metric's own (0.005 for fractions, 0.01 for log_loss, "
            "0.0025 for brier; none for counts, perplexity and seconds)."
        ),
    ] = None,
    metric: Annotated[
        str,
        typer.Option(
            help="A results column: accuracy, balanced_accuracy, macro_f1, log_loss, brier, "
            "ece, pred_tv_distance (drift of the predicted class shares; any number of "
            "classes), predicted_positive_rate (two classes), ..."
        ),
    ] = "accuracy",
    all_steps: Annotated[
        bool,
        typer.Option("--all-steps", help="Compare at every training size, not only the last."),
    ] = False,
    test: Annotated[
        str,
        typer.Option(
            help="t (paired t-test; the default: it can reach a verdict at 5 repeats) or "
            "wilcoxon (signed-rank; needs 6 repeats for one group, 9 for 10 groups)."
        ),
    ] = "t",
    study: Annotated[
        str | None, typer.Option(help="Only this study (experiment) of the run.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also save the table as a CSV file.")] = None,
) -> None:
    """Paired differences to a baseline, with tests, equivalence and a verdict per group."""
    from modelcollapse.compare import compare_results, format_compare_table, read_run

    if test not in ("wilcoxon", "t"):
        raise UserError(f"expected wilcoxon or t, got '{test}'", "--test")
    _check_margin(margin)
    _check_baseline(baseline)
    _check_csv_out(out)
    if run_dir.is_dir() and not (
        (run_dir / "config.toml").is_file() or (run_dir / "results").is_dir()
    ):
        raise UserError("is not a run directory (no config.toml, no results/)", str(run_dir))
    results, groups = read_run(run_dir, study)  # once: the answers read the same table
    frame = compare_results(
        results,
        baseline=baseline,
        margin=margin,
        metric=metric,
        at="all" if all_steps else "last",
        seed_groups=groups,
        test=test,  # type: ignore[arg-type]
    )
    wide = _wide()
    if baseline.replace(" ", "") in ("rate=0", "rate=0.0"):
        for part in _leading_answers(results, groups, metric, margin, run_dir):
            wide.print(part)
    _print_coverage(results)
    _print_classes(results, metric)
    wide.print(format_compare_table(frame))
    for part in _label_error_parts(results):
        wide.print(part)
    attrs = frame.attrs
    if test == "wilcoxon" and attrs.get("wilcoxon_floor", 0.0) > attrs.get("alpha", 0.05):
        console.print(
            f"hint: with {attrs['n_pairs']} repeat{'' if attrs['n_pairs'] == 1 else 's'} the "
            "Wilcoxon test (Holm-adjusted) cannot "
            f"reach p < {attrs.get('alpha', 0.05):g}, so it can call nothing worse or better; "
            "--test t uses the paired t-test, or run more repeats."
        )
    console.print(attrs["detectable"], soft_wrap=True)
    if out is not None:
        _save_csv(frame, out)


def _print_classes(results, metric: str) -> None:
    """Name the classes where "positive" or accuracy alone would not say enough."""
    from modelcollapse.results import classes_of

    classes = classes_of(results)
    if classes.k > 2:
        hint = (
            "" if metric != "accuracy" else "; class balance: --metric balanced_accuracy, "
            "macro_f1 or pred_tv_distance"
        )
        console.print(f"classes: {classes.listed()}{hint}", soft_wrap=True)
    elif not classes.polarity:
        console.print(f"classes: {classes.listed()}", soft_wrap=True)


def _check_csv_out(out: Path | None) -> None:
    """``--out``: a .csv file in an existing folder (checked before any work is done)."""
    if out is None:
        return
    if out.suffix.lower() != ".csv":
        raise UserError("expected a file name ending in .csv", "--out")
    if not out.parent.is_dir():
        raise UserError(f"no such directory: {out.parent}", "--out")


def _save_csv(frame, out: Path) -> None:
    try:
        frame.to_csv(out, index=False)
    except OSError as err:
        raise UserError(f"cannot write: {err.strerror}", str(out)) from None
    console.print(f"saved: {out}")


def _leading_answers(
    results, groups: dict[str, str], metric: str, margin: float | None, run_dir: Path
) -> list[object]:
    """The answers compare opens with (trend, tolerable rate, worth at the last size), or one
    line saying why there are none; learning curves are left to ``modelcollapse answer``."""
    from dataclasses import replace

    from modelcollapse.answers import answers, format_answers

    try:
        found = answers(results, metric, margin, seed_groups=groups, curves=False)
    except UserError as err:
        return [f"answers: none for this run ({err.message})"]
    if found.trend.empty:
        return ["answers: none for this run (no study with several rates and a rate-0 twin)"]
    parts = format_answers(replace(found, effects=found.effects.iloc[:0]))
    return [*parts, f"Learning curves and worth at every size: modelcollapse answer {run_dir}", ""]


@app.command("power")
def power_command(
    pilot: Annotated[
        Path | None,
        typer.Argument(
            help="A pilot run directory: the spread of its paired differences (largest sd of "
            "any group compared with --baseline) is used. Or give --sd."
        ),
    ] = None,
    effect: Annotated[
        float | None,
        typer.Option(
            help="A true difference to detect, in the metric's units (0.01 = 1 pp): prints "
            "the repeats needed."
        ),
    ] = None,
    repeats: Annotated[
        int | None,
        typer.Option(help="A number of repeats: prints the effect they detect."),
    ] = None,
    sd: Annotated[
        float | None,
        typer.Option(help="The sd of the per-repeat paired differences, instead of a pilot."),
    ] = None,
    test: Annotated[str, typer.Option(help="t or wilcoxon: the test compare decides with.")] = "t",
    groups: Annotated[
        int | None,
        typer.Option(
            help="Groups in the Holm family (e.g. rates compared with rate 0). Default: the "
            "pilot's, else 1."
        ),
    ] = None,
    baseline: Annotated[str, typer.Option(help="The pilot's baseline, as for compare.")] = "rate=0",
    metric: Annotated[str, typer.Option(help="The pilot's metric, as for compare.")] = "accuracy",
    alpha: Annotated[float, typer.Option(help="Family-wise error rate.")] = 0.05,
    power: Annotated[float, typer.Option(help="The power wanted.")] = 0.8,
) -> None:
    """Power before the run: repeats needed for an effect, or the effect some repeats detect."""
    _check_baseline(baseline)
    from modelcollapse.compare import power_questions

    for line in power_questions(
        pilot,
        effect=effect,
        repeats=repeats,
        sd=sd,
        test=test,
        groups=groups,
        baseline=baseline,
        metric=metric,
        alpha=alpha,
        power=power,
    ):
        console.print(line, soft_wrap=True)


@app.command("answer")
def answer_command(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory written by 'modelcollapse run'.")
    ],
    study: Annotated[
        str | None, typer.Option(help="Only this study (experiment) of the run.")
    ] = None,
    metric: Annotated[
        str,
        typer.Option(
            help="A results column with a better direction: accuracy, balanced_accuracy, "
            "macro_f1, log_loss, brier, ece, pred_tv_distance, ..."
        ),
    ] = "accuracy",
    margin: Annotated[
        float | None,
        typer.Option(help="Tolerable effect, in the metric's units (default 0.005 = 0.5 pp)."),
    ] = None,
    extrapolate: Annotated[
        float | None,
        typer.Option(help="Size to extrapolate the learning curves to (default 10x the largest)."),
    ] = None,
    dose: Annotated[
        str, typer.Option(help="The design column the answers are about (default rate).")
    ] = "rate",
    all_steps: Annotated[
        bool, typer.Option("--all-steps", help="Worth at every training size, not only the last.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Also save every answer as a CSV file.")] = None,
) -> None:
    """Trend with the rate, tolerable rate, worth of a model label and learning curves."""
    from modelcollapse.answers import answer, format_answers

    _check_csv_out(out)
    _check_margin(margin)
    result = answer(run_dir, metric, margin, study=study, dose=dose, extrapolate=extrapolate)
    wide = _wide()
    for part in format_answers(result, all_steps=all_steps):
        wide.print(part)
    from modelcollapse.compare import read_run

    for part in _label_error_parts(read_run(run_dir, study)[0]):
        wide.print(part)
    if out is not None:
        _save_csv(result.long(), out)


def _label_error_parts(results) -> list[object]:
    """Where the labellers' errors fall, for a run that brought one from outside the loop."""
    from modelcollapse.labelerrors import (
        format_label_errors,
        has_negation_split,
        label_error_summary,
    )
    from modelcollapse.results import classes_of

    if not has_negation_split(results):
        return []
    return format_label_errors(label_error_summary(results), classes_of(results).names)


@data_app.command("info")
def data_info_command(
    target: Annotated[
        str,
        typer.Argument(
            help="A labelled text file (fastText, CSV, TSV, Parquet, JSONL), an imported "
            "corpus's name, or 'demo'."
        ),
    ],
    text_column: TextColumnOpt = None,
    label_column: LabelColumnOpt = None,
    labels: LabelsOpt = None,
) -> None:
    """Rows, classes, text lengths and unreadable lines of data, before a long run."""
    from modelcollapse.data.home import get_imported, is_imported
    from modelcollapse.data.resolve import load_data

    options = _data_options(text_column, label_column, labels)
    if target == "demo" or (is_imported(target) and not Path(target).exists() and options):
        corpus = load_data(target, **options)  # type: ignore[arg-type]
        what = "built-in, synthetic (make_demo_corpus)" if target == "demo" else corpus.source
        rows = _corpus_rows(corpus, what)
    elif Path(target).exists():
        from modelcollapse.data.info import data_info

        if target.lower().endswith((".zip", ".tgz", ".tar", ".tar.gz")):
            raise UserError("an archive: import it first ('modelcollapse data import')", target)
        rows = data_info(target, **options).to_rows()
    elif is_imported(target):
        rows = _manifest_rows(get_imported(target))
    else:
        raise _unknown_data(target)
    table = Table(title=target, show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


def _unknown_data(target: str) -> UserError:
    from modelcollapse.data.home import get_data_home, imported_names

    names = imported_names() or f"none in {get_data_home()}"
    return UserError(
        f"no such file, and no imported corpus by that name (imported: {names})", target
    )


def _corpus_rows(corpus, what: str) -> list[tuple[str, str]]:
    """The ``data info`` rows for a corpus in memory (the demo corpus)."""
    import numpy as np

    from modelcollapse.data.info import LengthStats, class_rows

    n = len(corpus)
    chars = np.fromiter(map(len, corpus.texts), dtype=np.int64, count=n)
    words = np.fromiter((len(t.split()) for t in corpus.texts), dtype=np.int64, count=n)
    counts = corpus.class_counts().tolist()
    return [
        ("source", what),
        ("rows", f"{n:,}"),
        *class_rows(corpus.label_names, counts, corpus.meta.get("class_order")),
        ("length, characters", str(LengthStats.of(chars))),
        ("length, words", str(LengthStats.of(words))),
        ("sha256", corpus.fingerprint),
    ]


def _manifest_rows(imported) -> list[tuple[str, str]]:
    """An imported corpus as its manifest records it (nothing is read)."""
    from modelcollapse.data.info import class_rows

    m = imported.manifest
    names = imported.label_names
    rows = [
        ("name", imported.name),
        ("location", str(imported.path)),
        ("imported from", f"{imported.source} ({m.get('kind', '?')})"),
        ("created", imported.created),
        ("rows", f"{imported.n_rows():,}"),
        *class_rows(names, imported.class_counts(), m.get("class_order")),
    ]
    for split, info in imported.splits.items():
        counts = imported.class_counts(split)
        per_class = ", ".join(f"{name} {c:,}" for name, c in zip(names, counts, strict=True))
        rows.append((split, f"{info['rows']:,} rows: {per_class}"))
        skipped = info.get("skipped") or {}
        if skipped:
            reasons = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in skipped.items())
            first = ", ".join(info.get("first_bad", [])[:3])
            rows.append(
                (f"{split} skipped", f"{sum(skipped.values()):,} ({reasons}; first: {first})")
            )
        else:
            rows.append((f"{split} skipped", "none"))
        dups = f"{info.get('duplicates', 0):,}"
        if info.get("conflicting_duplicates"):
            dups += f" ({info['conflicting_duplicates']:,} texts carry several labels)"
        rows.append((f"{split} duplicates", dups))
        rows.append((f"{split} file sha256", str(info.get("sha256", ""))))
    if "test" not in imported.splits:
        rows.append(("test split", "none: runs draw a test set from the rows (--test-size)"))
    rows.append(("sha256", imported.fingerprint))
    return rows


def _byte_progress() -> Progress:
    from rich.progress import DownloadColumn, TransferSpeedColumn

    err = Console(stderr=True)
    # Off when stderr is no terminal: a transient bar still leaves a blank line there,
    # before a one-line error too.
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TextColumn("eta"), TimeRemainingColumn(),
        console=err, transient=True, disable=not err.is_terminal,
    )  # fmt: skip


def _print_imported(imported, verb: str) -> None:
    table = Table(title=f"{verb} '{imported.name}'", box=box.SIMPLE_HEAD)
    names = imported.label_names
    for col in ("split", "rows", *names, "skipped", "duplicates"):
        table.add_column(col, justify="left" if col == "split" else "right")
    for split, info in imported.splits.items():
        table.add_row(
            split, f"{info['rows']:,}", *(f"{c:,}" for c in imported.class_counts(split)),
            f"{info['skipped_lines']:,}", f"{info['duplicates']:,}",
        )  # fmt: skip
    console.print(table)
    if len(names) == 2:
        console.print(f"positive class: {names[1]} (class 1: what 'positive' results count)")
    console.print(f"stored in {imported.path}")
    console.print(f"use it: modelcollapse run lower-rates --data {imported.name}")


@data_app.command("import")
def data_import_command(
    path: Annotated[
        Path,
        typer.Argument(
            help="The Kaggle archive (.zip), amazon_review_polarity_csv.tgz, a folder of "
            "Parquet shards, or one review file (fastText, CSV, TSV, Parquet, JSONL)."
        ),
    ],
    name: Annotated[
        str | None, typer.Option(help="Name to use with --data (default: from the file name).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a corpus of the same name.")] = False,
    strict: Annotated[
        bool, typer.Option(help="Stop at the first bad line instead of skipping it.")
    ] = False,
    max_skipped: Annotated[
        float, typer.Option(help="Refuse the import when a larger share of lines is bad.")
    ] = 0.01,
    format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help=f"Reader format, when the name does not tell: {', '.join(DATA_FORMATS.names())}.",
        ),
    ] = None,
    text_column: TextColumnOpt = None,
    label_column: LabelColumnOpt = None,
    labels: LabelsOpt = None,
) -> None:
    """Read a corpus once into the data home, so runs load it by name."""
    from modelcollapse.data.home import import_corpus

    kwargs: dict[str, object] = {"on_error": "raise" if strict else "skip"}
    if format is not None:
        kwargs["fmt"] = format
    kwargs.update(_data_options(text_column, label_column, labels))
    with _byte_progress() as bar:
        task = bar.add_task(f"importing {path.name}", total=None)

        def show(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        imported = import_corpus(
            path, name, overwrite=overwrite, progress=show, max_skipped=max_skipped, **kwargs
        )
    _print_imported(imported, "imported")


@data_app.command("list")
def data_list_command(
    available: Annotated[
        bool, typer.Option(help="The corpora 'data download NAME' can fetch, not the imported.")
    ] = False,
) -> None:
    """The corpora in the data home ($MODELCOLLAPSE_DATA moves it)."""
    from modelcollapse.data.home import damaged_corpora, get_data_home, list_corpora

    if available:
        _print_available()
        return
    corpora = list_corpora()
    home = get_data_home()
    for name, problem in damaged_corpora().items():
        Console(stderr=True).print(
            f"warning: '{name}' in {home} is not usable ({problem}); import it again with "
            "--overwrite, or delete the folder",
            highlight=False, soft_wrap=True, markup=False,
        )  # fmt: skip
    if not corpora:
        console.print(
            f"no imported corpora in {home}; add one with 'modelcollapse data import PATH' "
            "or 'modelcollapse data download NAME' (see 'data list --available')"
        )
        return
    table = Table(title=f"imported corpora in {home}", box=box.SIMPLE_HEAD)
    for col in ("name", "train", "test", "classes", "on disk", "created"):
        table.add_column(
            col,
            justify="right" if col in ("train", "test", "on disk") else "left",
            no_wrap=True,  # names are what users type: never cut them
        )
    table.add_column("imported from", overflow="fold")
    for c in corpora:
        test = f"{c.n_rows('test'):,}" if "test" in c.splits else "-"
        names = c.label_names
        classes = ", ".join(names[:5]) + (f" (+{len(names) - 5})" if len(names) > 5 else "")
        table.add_row(
            c.name, f"{c.n_rows('train'):,}", test, classes,
            f"{c.disk_bytes() / 1e6:,.1f} MB", c.created[:10], c.source,
        )  # fmt: skip
    console.print(table)


def _print_available() -> None:
    from modelcollapse.data.hub import CORPORA

    # Plain lines, not a table: the class names and the pinned commit stay whole at 80 columns.
    lines = [f"{'name':<20}{'train':>11}{'test':>10}{'download':>12}  classes / source"]
    checks: dict[str, str] = {}
    for c in CORPORA.values():
        size = f"~{c.approx_bytes / 1e6:,.0f} MB" if c.approx_bytes else "?"
        lines.append(f"{c.name:<20}{c.rows('train'):>11,}{c.rows('test'):>10,}{size:>12}  "
                     f"{c.k} classes")  # fmt: skip
        lines.append(f"{'':<22}{', '.join(c.label_names)}")
        lines.append(f"{'':<22}{c.source}: {c.where}")
        checks.setdefault(c.source, c.checked)
    lines.extend(
        f"modelcollapse data download NAME ({source}): checks {checked} (docs/data.md)"
        for source, checked in checks.items()
    )
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


MIRROR_HELP = (
    "Base URL of a mirror: of the Hugging Face hub for hub corpora (default: "
    "$MODELCOLLAPSE_MIRROR, else the hub), of the archive's folder for archive corpora "
    "(default: $MODELCOLLAPSE_ARCHIVE_MIRROR, else the corpus's own; see 'data list --available')."
)


@data_app.command("download")
def data_download_command(
    dataset: Annotated[
        str, typer.Argument(metavar="NAME", help="What to fetch: see 'data list --available'.")
    ],
    mirror: Annotated[str | None, typer.Option(help=MIRROR_HELP)] = None,
    name: Annotated[
        str | None, typer.Option(help="Name to use with --data (default: NAME).")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a corpus of the same name.")] = False,
) -> None:
    """Download a corpus (at its pinned hub commit, or its original archive checked against
    published MD5s), resumable and verified, and import it."""
    from modelcollapse.data.download import download_corpus
    from modelcollapse.data.hub import get_corpus

    corpus = get_corpus(dataset)
    corpus.check_pinned()  # before the progress bar: a refusal stays one line
    with _byte_progress() as bar:
        fetch = bar.add_task(f"downloading {dataset}", total=None)
        load = bar.add_task("importing", total=None, visible=False)

        def fetched(done: int, total: int | None) -> None:
            bar.update(fetch, completed=done, total=total)

        def imported(done: int, total: int | None) -> None:
            bar.update(load, completed=done, total=total, visible=True)

        result = download_corpus(
            corpus, mirror, name, overwrite=overwrite, progress=fetched, import_progress=imported
        )
    _print_imported(result, "downloaded")


@app.command("presets")
def presets_command() -> None:
    """List the experiment presets (shipped, and those that plug-ins register)."""
    from modelcollapse.experiments.config import PRESETS, load_config

    table = Table("preset", "model", "studies", "description")
    for name in PRESETS:
        cfg = load_config(name)
        table.add_row(name, cfg.model, ", ".join(s.name for s in cfg.study), cfg.description)
    console.print(table)


@app.command("theory")
def theory_command(
    run_dir: Annotated[
        Path, typer.Argument(help="A run directory written by 'modelcollapse run'.")
    ],
    study: Annotated[
        str | None, typer.Option(help="Only this study (experiment) of the run.")
    ] = None,
) -> None:
    """Feng et al.'s breakdown point, Dey & Donoho's pi^2/6 bound and Gerstgrasser et al.'s
    replace/accumulate result, each checked on the run: holds / violated / cannot tell."""
    from modelcollapse.report.theory import theory_of_run
    from modelcollapse.theory import format_theory

    for line in format_theory(theory_of_run(run_dir, study)):
        console.print(line, soft_wrap=True, markup=False, highlight=False)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, ModelCollapseWarning):
        print(f"modelcollapse: warning: {message}", file=sys.stderr)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def main(argv: list[str] | None = None) -> int:
    """Entry point: one-line errors with exit status 2 instead of tracebacks."""
    try:
        _install_loop_flags()
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            status = app(args=argv, prog_name="modelcollapse", standalone_mode=False)
    except UserError as err:
        print(f"modelcollapse: error: {err}", file=sys.stderr)
        return 2
    except click_errors.UsageError as err:
        if err.format_message():  # no arguments at all: the help was printed, nothing to add
            print(f"modelcollapse: error: {err.format_message()}", file=sys.stderr)
        return 2
    except OSError as err:
        if not is_storage_error(err):
            raise
        # A write outside the atomic one (a lock file, a folder): the disk's fault, not ours.
        print(
            f"modelcollapse: error: {storage_error(err, err.filename or 'a file')}", file=sys.stderr
        )
        return 2
    except (typer.Abort, KeyboardInterrupt):
        print("modelcollapse: interrupted", file=sys.stderr)
        return 130
    except click_errors.ClickException as err:
        print(f"modelcollapse: error: {err.format_message()}", file=sys.stderr)
        return err.exit_code
    return status if isinstance(status, int) else 0


if __name__ == "__main__":
    sys.exit(main())
