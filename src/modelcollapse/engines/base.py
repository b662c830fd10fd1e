"""A study kind is an engine: its own settings, its trajectories, how one is run and what it costs.

An engine is one class (one module per kind in this package), registered in :data:`ENGINES`
under the name a config's ``kind`` picks. Everything that differs between kinds reads the
engine: the config's validation (:class:`~modelcollapse.experiments.config.StudyConfig`), the
plan and its scheduling, the run, the CLI's summary and the report's choice of figures. A new
kind is a subclass of :class:`Engine` plus a registration, and a preset to run it (see
docs/extending.md, "A study kind").

Trajectories, their keys and seeds live here too: a trajectory's key names it in the store, and
its seed derives from the run seed and the study's seed group, so the same config always gives
the same trajectories whatever engine module builds them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from modelcollapse.registry import Registry

if TYPE_CHECKING:
    import pandas as pd

    from modelcollapse.core.reuse import FitScope
    from modelcollapse.experiments.config import StudyConfig
    from modelcollapse.features.vectorize import Features
    from modelcollapse.loop import LoopOptions
    from modelcollapse.models import ModelSpec


def _default_options() -> LoopOptions:
    from modelcollapse.loop import LoopOptions  # the loop imports sklearn: only when needed

    return LoopOptions()


@dataclass(frozen=True)
class Trajectory:
    key: str
    experiment: str
    kind: str
    repeat: int
    seed: int
    rate: float
    sizes: tuple[int, ...]
    # Rows the repeat draws outside its test set: the largest size, or (generations) the
    # validation set plus one fresh sample per generation (see Engine.pool_size).
    pool_size: int
    test_size: str | float | int
    options: LoopOptions = field(default_factory=_default_options)
    settings: tuple[tuple[str, Any], ...] = ()  # a kind's own settings, as (name, value)
    seed_group: str = ""  # studies in one seed group share each repeat's seed; "" = experiment

    def setting(self, name: str) -> Any:
        return dict(self.settings)[name]


def derive_seed(run_seed: int, key: str) -> int:
    """A 63-bit seed from the run seed and a stable key (no Python ``hash``: it is salted)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return int(np.random.SeedSequence([run_seed, digest]).generate_state(2, np.uint64)[0] >> 1)


def repeat_seed(study: StudyConfig, run_seed: int, repeat: int) -> int:
    """The seed every trajectory of one repeat shares (and every study of its seed group)."""
    return derive_seed(run_seed, f"{study.seed_group or study.name}/repeat={repeat}")


def rate_label(rate: float) -> str:
    return f"{rate:.4f}".rstrip("0").rstrip(".") if rate else "0"


def scaled(size: float, scale: float) -> int:
    return max(1, math.floor(size * scale + 0.5))


def n_test_rows(test_size: str | float | int, n_rows: int, pool_size: int) -> int:
    if test_size == "rest":
        return n_rows - pool_size
    if isinstance(test_size, float):
        return int(np.floor(test_size * n_rows + 0.5))
    return int(test_size)


def split_rows(
    traj: Trajectory, n_rows: int, test_mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pool rows in draw order, test rows and per-row labelling priority, from the repeat seed.

    A trajectory that starts later (total collapse) uses the same pool order from
    its start size on.
    """
    rng = np.random.default_rng(traj.seed)
    if test_mask is not None:
        train_rows, test_rows = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
        pool = train_rows[rng.permutation(len(train_rows))[: traj.pool_size]]
        test = test_rows
        if isinstance(traj.test_size, int) and traj.test_size < len(test_rows):
            test = rng.choice(test_rows, traj.test_size, replace=False)
    else:
        order = rng.permutation(n_rows)
        n_test = n_test_rows(traj.test_size, n_rows, traj.pool_size)
        if traj.test_size == "rest":
            pool, test = order[: traj.pool_size], order[traj.pool_size :]
        else:
            test, pool = order[:n_test], order[n_test : n_test + traj.pool_size]
    priority = rng.random(traj.pool_size)
    return pool, np.sort(test), priority


@dataclass(frozen=True)
class SummaryTable:
    """How ``modelcollapse run`` shows a kind's series: one table per distinct spec, so
    kinds that share a spec share a table.

    ``cells`` turns one row of :func:`modelcollapse.results.series_summary` into the cells of
    ``columns``; ``title`` follows the run's name.
    """

    title: str
    columns: tuple[str, ...]
    cells: Callable[[Any], tuple[str, ...]]
    left: tuple[str, ...] = ("study",)
    caption: str | None = None
    pad_edge: bool = True


def _grid_cells(row: Any) -> tuple[str, ...]:
    return (row.experiment, f"{row.initial_size:,}", f"{row.rate:g}", str(row.repeats),
            f"{row.first_size:,}", f"{row.first_accuracy:.4f}",
            f"{row.last_size:,}", f"{row.last_accuracy:.4f}")  # fmt: skip


def _generational_cells(row: Any) -> tuple[str, ...]:
    return (row.experiment, row.series, str(row.repeats), f"{row.first_accuracy:.4f}",
            f"{row.last_step:g}", f"{row.last_size:,}", f"{row.last_accuracy:.4f}")  # fmt: skip


GRID_TABLE = SummaryTable(
    title="mean test accuracy",
    columns=("study", "start", "rate", "reps", "first n", "acc", "last n", "acc "),
    cells=_grid_cells,
)
GENERATIONAL_TABLE = SummaryTable(
    title="mean test accuracy by generation",
    columns=("study", "series", "reps", "acc gen 0", "gen", "n", "acc"),
    cells=_generational_cells,
    left=("study", "series"),
    caption="gen 0: the first model; gen: the last generation (mean over repeats)",
)


@dataclass(frozen=True)
class GenerationalSummary:
    """How the report's summary table of a generational kind reads: ``intro`` above it and the
    headings of the six columns after the series (the last of the engine's ``series``, which
    heads the first): repeats, generations, size, first, last, change.

    A kind that records ``vocabulary_size`` gets one more column, the vocabulary written.
    """

    intro: str
    headings: tuple[str, str, str, str, str, str]


class NoSettings(BaseModel):
    """A kind without settings of its own."""

    model_config = ConfigDict(extra="forbid")


class Engine:
    """One study kind. Subclasses set the class attributes and override what differs.

    The defaults describe a kind with a size grid run by the self-labelling loop, one
    trajectory per rate and repeat (the ``rates`` kind).
    """

    name: ClassVar[str] = ""
    #: The kind's own config settings (fields of a ``[[study]]`` table beside the common ones),
    #: in the order a resolved config.toml writes them.
    Settings: ClassVar[type[BaseModel]] = NoSettings
    #: Training sizes from a grid (initial_size, increment, max_size / ratio, n_sizes).
    has_size_grid: ClassVar[bool] = True
    #: The ``[study.loop]`` options (and the loop flags) apply.
    uses_loop: ClassVar[bool] = True
    #: A study picks its collapse rates (``rates``; ``--rates``).
    has_rates: ClassVar[bool] = True
    #: Columns that name one series of trajectories in summaries (a curve in a figure).
    series: ClassVar[tuple[str, ...]] = ("experiment", "initial_size", "rate")
    #: The column that pairs the steps of two trajectories in ``compare``.
    position: ClassVar[str] = "train_size"
    #: Columns the kind records beyond ``plan.RESULT_COLUMNS``.
    result_columns: ClassVar[tuple[str, ...]] = ()
    #: Settings its ``run`` records per row beside those (NaN under a design without them, so
    #: not in ``result_columns``) that tell trajectories apart by design: ``compare`` groups
    #: and pairs by them as by the loop options.
    design_columns: ClassVar[tuple[str, ...]] = ()
    #: Its table in the summary of ``modelcollapse run``.
    summary_table: ClassVar[SummaryTable] = GRID_TABLE

    # -- report: what ``modelcollapse report`` draws and tabulates for the kind ---------------
    #: Its figures, one set per study, by name in ``modelcollapse.report.figures.FIGURES`` (a
    #: figure without the columns it needs is left out). The defaults: accuracy by rate, the
    #: paired difference to rate 0, class-balance drift, then the metric figures.
    figures: ClassVar[tuple[str, ...]] = (
        "rate-curves", "difference", "positive-rate", "calibration", "balance", "model-labels",
        "label-errors", "arms",
    )  # fmt: skip
    #: Its panel of the overview dashboard, by name in ``report.figures.PANELS``; "" for none.
    overview_panel: ClassVar[str] = "rate-curves"
    #: Its studies are compared by rate across studies: a dashboard panel each (room
    #: permitting), the final-accuracy-by-rate figure, the loop-design figures and the
    #: rate-coloured drift figure. Otherwise only its first study gets its panel.
    compares_rates: ClassVar[bool] = True
    #: Columns that match a step with its rate-0 partner in the report's differences: steps
    #: line up between the rates of a repeat unless its curves start at different sizes.
    pair_on: ClassVar[tuple[str, ...]] = ("repeat", "step")
    #: Trajectories with different start sizes (``initial_size``) are separate studies of the
    #: report; False: they are curves of one figure.
    splits_by_start: ClassVar[bool] = True
    #: The start size is what tells a study's curves apart (one reference curve, the others
    #: from each start): the figures mark it and the summary table always shows it.
    start_in_series: ClassVar[bool] = False
    #: The report's summary table of a generational kind (None for a size-grid kind).
    generational_summary: ClassVar[GenerationalSummary | None] = None
    #: Metrics the report's summary table shows beside accuracy, at the last model (mean and
    #: 95 % t-interval over repeats), each where the study's results hold it: the k-class
    #: metrics, which tell a drift towards some classes from a loss of skill.
    summary_metrics: ClassVar[tuple[str, ...]] = (
        "balanced_accuracy", "macro_f1", "pred_tv_distance",
    )  # fmt: skip

    def generation_rows(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows a generational kind's per-generation figures show: by default all."""
        return rows

    def records(self, column: str) -> bool:
        """The kind records ``column`` (its values elsewhere are NaN, not data)."""
        return column in self.result_columns

    def endpoint_rows(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The rows of each trajectory's first and last model, from this kind's rows: by
        default its first and its last step."""
        from modelcollapse.results import first_rows, last_rows

        return first_rows(rows), last_rows(rows)

    @property
    def generational(self) -> bool:
        """No size grid: the kind runs over generations instead."""
        return not self.has_size_grid

    # -- config ------------------------------------------------------------------------
    def check(self, study: StudyConfig) -> None:
        """Rules across settings, for a study already valid field by field; raise ValueError."""

    def sizes(self, study: StudyConfig, scale: float) -> list[int]:
        """The study's training sizes at ``scale``."""
        assert study.max_size is not None
        if study.spacing == "linear":
            assert study.initial_size is not None and study.increment is not None
            first = scaled(study.initial_size, scale)
            step = scaled(study.increment, scale)
            last = scaled(study.max_size, scale)
            sizes = list(range(first, last + 1, step))
            if sizes[-1] != last:
                sizes.append(last)
            return sizes
        assert study.ratio is not None and study.n_sizes is not None
        raw = [scaled(study.max_size * study.ratio**j, scale) for j in range(study.n_sizes)]
        return sorted(set(raw))

    def pool_size(self, study: StudyConfig, scale: float) -> int:
        """Reviews a repeat draws outside its test set."""
        return self.sizes(study, scale)[-1]

    def check_model(self, model: ModelSpec) -> None:
        """Refuse a model the kind cannot run (a UserError naming it)."""

    # -- plan --------------------------------------------------------------------------
    def shapes(self, study: StudyConfig, sizes: list[int]) -> list[tuple[float, list[int]]]:
        """(rate, sizes) of each trajectory of one repeat."""
        return [(r, sizes) for r in study.rates]

    def trajectories(self, study: StudyConfig, run_seed: int, scale: float) -> list[Trajectory]:
        sizes = self.sizes(study, scale)
        shapes = self.shapes(study, sizes)
        options = study.loop
        group = study.seed_group or study.name
        plan = []
        for repeat in range(study.repeats):
            seed = repeat_seed(study, run_seed, repeat)
            for rate, grown in shapes:
                key = f"{study.name}/start={grown[0]}/rate={rate_label(rate)}/repeat={repeat}"
                plan.append(
                    Trajectory(
                        key=key,
                        experiment=study.name,
                        kind=study.kind,
                        repeat=repeat,
                        seed=seed,
                        rate=rate,
                        sizes=tuple(grown),
                        pool_size=sizes[-1],
                        test_size=study.test_size,
                        options=options,
                        seed_group=group,
                    )
                )
        return plan

    def shared_sizes(self, traj: Trajectory) -> tuple[int, ...]:
        """Sizes at which other trajectories of the repeat may make the trajectory's very fit
        (:mod:`modelcollapse.core.reuse`): by default its first, made with true labels only."""
        return traj.sizes[:1]

    def cost(self, traj: Trajectory) -> int:
        """Training rows the trajectory fits in all (fits × rows), to schedule longest first."""
        return sum(traj.sizes)

    # -- run ---------------------------------------------------------------------------
    def run(
        self, traj: Trajectory, features: Features, model: ModelSpec, tokenizer: str
    ) -> pd.DataFrame:
        """One row per step: the loop's records and the loop options."""
        import pandas as pd

        from modelcollapse.features.vectorize import release_pages
        from modelcollapse.inputs import model_input
        from modelcollapse.loop import SelfLabellingLoop

        pool, test, priority = split_rows(traj, features.n_rows, features.test_mask)
        X, y = model_input(features, model), features.labels  # counts or documents
        loop = SelfLabellingLoop(model, traj.sizes, traj.rate, traj.seed, traj.options)
        X_pool, X_test = X[pool], X[test]
        release_pages(X)  # the rows are copied: the mapped cache file's pages can go
        loop.fit(
            X_pool, y[pool], X_test, y[test], priority=priority, n_classes=features.n_classes,
            labeller_scores=outside_scores(traj, features, model, pool, test),
            fits=self.fit_scope(traj, features, model, pool, test),
            consume_inputs=True,  # X[pool] is a fresh copy: the loop may keep it as its own
        )  # fmt: skip
        frame = pd.DataFrame(loop.history_records())
        for name, values in labeller_errors(loop, features, pool).items():
            frame[name] = values
        for name, value in traj.options.record().items():
            frame[name] = value
        return frame

    def fit_scope(
        self, traj: Trajectory, features: Features, model: ModelSpec, pool: np.ndarray,
        test: np.ndarray,
    ) -> FitScope | None:  # fmt: skip
        """The trajectory's view of the memo of the enclosing ``reusing`` block (None outside
        one): keyed by the data its matrices hold and the model."""
        from modelcollapse.core.reuse import current_memo
        from modelcollapse.models import describe_model

        memo = current_memo()
        if memo is None:
            return None
        return memo.scope(
            self.shared_sizes(traj), features.key, features.n_classes, pool, test, model.name,
            model.input, describe_model(model),
        )  # fmt: skip


def labeller_errors(loop: Any, features: Features, pool: np.ndarray) -> dict[str, list]:
    """Where the labels made went wrong, per step (:func:`core.labellers.label_errors`): the
    confusion counts and, where the run computed the negation flags, the negation split."""
    from modelcollapse.core.labellers import NEGATED_ROWS, label_errors

    negated = features.row_data.get(NEGATED_ROWS.key(None))
    return label_errors(
        loop.label_batches_, features.labels[pool], features.n_classes, len(loop.history_),
        None if negated is None else negated[pool],
    )  # fmt: skip


def outside_scores(
    traj: Trajectory, features: Features, model: ModelSpec, pool: np.ndarray, test: np.ndarray
) -> np.ndarray | None:
    """The class probabilities of the pool's rows from a labeller outside the loop (None for
    one of the loop's own models): :mod:`modelcollapse.core.labellers`."""
    from modelcollapse.core.labellers import LABELLERS, LabellerSource
    from modelcollapse.inputs import model_input
    from modelcollapse.models import get_model

    opts = traj.options
    part = LABELLERS[opts.labeller]
    if not part.outside:
        return None
    reads = get_model(opts.teacher_model) if opts.labeller == "teacher" else model
    rows = None
    if part.corpus_rows is not None:
        key = part.corpus_rows.key(opts)
        if key not in features.row_data:  # a caller that skipped prepare_run
            raise ValueError(
                f"labeller = '{opts.labeller}' reads the corpus as read ({key}): add it to the "
                "features with core.labellers.with_corpus_rows, as prepare_run does"
            )
        rows = features.row_data[key]
    source = LabellerSource(
        documents=lambda: features.documents, X=model_input(features, reads),
        labels=features.labels, pool=pool, test=test, n_classes=features.n_classes,
        options=opts, seed=traj.seed,
        rows=rows,
    )  # fmt: skip
    return part.scores(source)


class GenerationalEngine(Engine):
    """A kind without a size grid: each trajectory runs ``sample_size``-review generations.

    Subclasses list the trajectories of one repeat in :meth:`variants`; their ``Settings``
    must have ``sample_size``.
    """

    has_size_grid = False
    uses_loop = False
    summary_table = GENERATIONAL_TABLE
    figures = ("generation-curves", "generation-calibration")
    overview_panel = ""
    compares_rates = False
    generational_summary = GenerationalSummary(
        intro="Generation 0: the first model of each trajectory; last generation: its last. "
        "Δ: their difference within each repeat (percentage points).",
        headings=("Repeats", "Generations (mean)", "Training size",
                  "Accuracy, generation 0", "Accuracy, last generation", "Δ last − first"),
    )  # fmt: skip

    def sizes(self, study: StudyConfig, scale: float) -> list[int]:
        return [scaled(study.sample_size, scale)]

    def variants(self, study: StudyConfig) -> list[tuple[str, float, tuple[tuple[str, Any], ...]]]:
        """(key label, rate, settings) of each trajectory of one repeat."""
        raise NotImplementedError

    def trajectories(self, study: StudyConfig, run_seed: int, scale: float) -> list[Trajectory]:
        sizes = tuple(self.sizes(study, scale))
        group = study.seed_group or study.name
        plan = []
        for repeat in range(study.repeats):
            seed = repeat_seed(study, run_seed, repeat)
            for label, rate, settings in self.variants(study):
                plan.append(
                    Trajectory(
                        key=f"{study.name}/{label}/repeat={repeat}",
                        experiment=study.name,
                        kind=study.kind,
                        repeat=repeat,
                        seed=seed,
                        rate=rate,
                        sizes=sizes,
                        pool_size=self.pool_size(study, scale),
                        test_size=study.test_size,
                        settings=settings,
                        seed_group=group,
                    )
                )
        return plan


ENGINES: Registry[Engine] = Registry("engines", "study kind", "kind")


def engine_of(kind: str) -> Engine:
    """The engine of a results' ``kind``; a kind no longer registered reads as the default."""
    return ENGINES.get(kind) if kind in ENGINES else Engine()


def kinds_recording(column: str) -> list[str]:
    """The registered kinds that record ``column``."""
    return [name for name, engine in ENGINES.items() if engine.records(column)]


def kinds_paired_by_step() -> list[str]:
    """The registered kinds whose trajectories pair by step (generation), not training size."""
    return [name for name, engine in ENGINES.items() if engine.position == "step"]


def generational_kinds() -> list[str]:
    """The registered kinds without a size grid (their rows are read by generation)."""
    return [name for name, engine in ENGINES.items() if engine.generational]
