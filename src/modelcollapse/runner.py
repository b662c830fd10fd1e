"""Run a study: prepare it (data, plan, features, checks), then execute the trajectories not yet
stored on an executor, storing each as it finishes.

Workers receive a trajectory and the path of the cached feature matrix, which they
memory-map once per process; results travel back to this process, the only one that writes
to the run directory. Where workers run is an executor (:mod:`modelcollapse.run.executors`):
``local`` (``jobs`` joblib processes on this machine; one job runs in this process) or
``dask`` (the workers of a running dask.distributed scheduler), or any registered one.

Before anything is skipped, every stored result file must prove it belongs to the plan (see
:meth:`~modelcollapse.store.RunStore.set_aside_untrusted`); one that cannot is moved to
``RUN_DIR/set-aside/`` and computed again.

A trajectory that raises is recorded (``RUN_DIR/errors/KEY.json``: type, message,
traceback) and the others go on; :class:`RunResult` names the failures, and running the
same command again retries exactly the trajectories that failed or are missing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from modelcollapse.core.labellers import (
    check_labeller,
    check_labeller_rows,
    with_corpus_rows,
)
from modelcollapse.core.reuse import forget_process_memo, process_memo, reusing
from modelcollapse.data.corpus import Corpus
from modelcollapse.data.resolve import check_classes, load_data
from modelcollapse.experiments.config import RunConfig, dump_config
from modelcollapse.experiments.plan import Trajectory, build_plan, fitted_rows, run_trajectory
from modelcollapse.features.vectorize import Features, featurize, load_features
from modelcollapse.models import ModelSpec, describe_model, get_model
from modelcollapse.run import heap
from modelcollapse.run.executors import BaseExecutor, Executor, Failure, make_executor, ordered
from modelcollapse.run.manifest import build_manifest, check_features, check_legacy_logreg
from modelcollapse.store import RunStore, SetAside

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "PreparedRun", "RunResult", "check_backend", "execute", "load_data", "prepare_run",
    "run_experiment",
]  # fmt: skip

Progress = Callable[[int, int], None]  # (done, total)
Results = Iterator[tuple[Trajectory, "pd.DataFrame | Failure"]]  # in order of completion
Cost = Callable[[Trajectory], float]


def trajectory_cost(traj: Trajectory) -> float:
    """The scheduler's estimate of a trajectory's run time (longest first).

    The hook for study kinds whose work is not their training rows: today every kind is
    costed by :func:`~modelcollapse.experiments.plan.fitted_rows`, which counts a
    ``generations`` trajectory (population × generations fits) as ``sum(sizes)``.
    """
    return fitted_rows(traj)


def check_backend(
    backend: str = "local", scheduler: str | Client | None = None, jobs: int = 1
) -> BaseExecutor:
    """The executor for the run's options, each checked once by the executor that takes it
    (an option it would silently ignore is refused)."""
    return make_executor(backend, jobs=jobs, scheduler=scheduler)


@dataclass(frozen=True)
class _RowData:
    """``Features.row_data`` as one object: an executor sends it whole (Dask would scatter a
    bare dict value by value)."""

    values: Mapping[str, np.ndarray]


def _trajectory(
    traj: Trajectory, features: Features | Path, model: ModelSpec, tokenizer: str,
    row_data: _RowData | None = None, reuse: str | None = None,
):  # fmt: skip
    if isinstance(features, Path):
        features = load_features(features)
    if row_data is not None:  # computed from the corpus as read: not in the cached matrix
        features = replace(features, row_data=row_data.values)
    # One model thread per worker: the runner, not BLAS, uses the cores. Fits that trajectories
    # share are kept in this process for the run ``reuse`` names (None: none kept).
    with threadpool_limits(1), reusing(None if reuse is None else process_memo(reuse)):
        return run_trajectory(traj, features, model, tokenizer)


def execute(
    plan: list[Trajectory],
    features: Features,
    model: ModelSpec,
    tokenizer: str,
    jobs: int = 1,
    backend: str = "local",
    scheduler: str | Client | None = None,
    *,
    executor: Executor | None = None,
    cost: Cost = trajectory_cost,
    reuse_fits: bool = True,
) -> Results:
    """Yield (trajectory, result frame or :class:`Failure`) as each finishes, in any order.

    ``executor`` (default: the one ``backend``, ``jobs`` and ``scheduler`` name) runs them,
    costliest first by ``cost``. ``reuse_fits``: a fit that several trajectories share is made
    once per worker process (:mod:`modelcollapse.core.reuse`; the same results).
    """
    if executor is None:
        executor = check_backend(backend, scheduler, jobs)
    return _execute(executor, ordered(plan, cost), features, model, tokenizer, reuse_fits)


def _execute(
    executor: Executor, plan: list[Trajectory], features: Features, model: ModelSpec,
    tokenizer: str, reuse_fits: bool = True,
) -> Results:  # fmt: skip
    if not plan:
        return
    reuse = uuid.uuid4().hex if reuse_fits else None  # a new run: workers drop older fits
    try:
        with executor:
            shared = executor.share(features, features.path)
            extra = {}
            if features.row_data:
                extra["row_data"] = executor.share(_RowData(dict(features.row_data)), None)
            yield from executor.map_unordered(
                _trajectory, plan, features=shared, model=model, tokenizer=tokenizer,
                reuse=reuse, **extra,
            )  # fmt: skip
    finally:
        forget_process_memo()  # a job that ran here: its fits go with the run


@dataclass
class RunResult:
    """What a call stored: ``results`` holds every stored trajectory (this call's and earlier);
    ``failures`` the trajectories that raised this time, by key, in plan order."""

    run_dir: Path
    results: pd.DataFrame
    n_trajectories: int
    n_skipped: int  # already stored before this call (resumed)
    failures: dict[str, Failure] = field(default_factory=dict)
    n_retried: int = 0  # had failed on an earlier call and ran again in this one
    set_aside: list[SetAside] = field(default_factory=list)  # stored files not trusted

    @property
    def n_failed(self) -> int:
        return len(self.failures)

    @property
    def complete(self) -> bool:
        return not self.failures


@dataclass
class PreparedRun:
    """A validated run: data loaded, plan built, features cached, directory checked."""

    config: RunConfig
    store: RunStore
    plan: list[Trajectory]
    features: Features
    model: ModelSpec
    resolved: dict
    manifest: dict

    def execute(
        self,
        jobs: int = 1,
        progress: Progress | None = None,
        backend: str = "local",
        scheduler: str | Client | None = None,
        *,
        executor: Executor | None = None,
        cost: Cost = trajectory_cost,
        reuse_fits: bool = True,
    ) -> RunResult:
        """Run the trajectories not yet stored, writing each (or its error) as it finishes.

        Whatever the executor, only this process writes; the run directory can be resumed
        on any. A stored result that cannot prove it belongs is set aside and run again (see
        :attr:`RunResult.set_aside`). A trajectory that raises is recorded and the others go on (see
        :attr:`RunResult.failures`); an interrupt stops the run, keeping what was stored.
        """
        if executor is None:
            executor = check_backend(backend, scheduler, jobs)
        store = self.store
        with executor:  # connect before opening the store: a wrong address writes nothing
            store.open(self.resolved, self.manifest)
            try:
                return self._run(executor, progress, cost, reuse_fits)
            finally:
                store.close()

    def _run(
        self, executor: Executor, progress: Progress | None, cost: Cost, reuse_fits: bool = True
    ) -> RunResult:
        store, total = self.store, len(self.plan)
        set_aside = store.set_aside_untrusted(
            self.plan, self.model.name, trust_unmarked=store.healed_manifest is None
        )
        done = store.done_keys()
        failed_before = store.failures()
        todo = [t for t in self.plan if t.key not in done]
        skipped = total - len(todo)
        if progress:
            progress(skipped, total)
        failures: dict[str, Failure] = {}
        results = execute(
            todo, self.features, self.model, self.config.tokenizer, executor=executor, cost=cost,
            reuse_fits=reuse_fits,
        )  # fmt: skip
        with closing(results):  # on an error or interrupt, stop the workers' remaining work
            for count, (traj, outcome) in enumerate(results, 1):
                if isinstance(outcome, Failure):
                    store.write_failure(traj.key, outcome.as_dict())
                    failures[traj.key] = outcome
                else:
                    store.write(traj.key, outcome)
                if progress:
                    progress(skipped + count, total)
        order = {t.key: i for i, t in enumerate(self.plan)}
        failures = dict(sorted(failures.items(), key=lambda kv: order[kv[0]]))
        table = store.read_results() if store.result_files() else pd.DataFrame()
        retried = sum(t.key in failed_before for t in todo)
        return RunResult(store.root, table, total, skipped, failures, retried, set_aside)


def prepare_run(
    config: RunConfig,
    out: str | Path,
    *,
    data: Corpus | None = None,
    model: ModelSpec | None = None,
    command: str | None = None,
    use_cache: bool = True,
    data_options: Mapping[str, Any] | None = None,
) -> PreparedRun:
    """Check everything that bad input can break before anything is written.

    ``data_options`` go to :func:`load_data` (``text_column``, ``label_column``, ``labels``).
    """
    corpus = load_data(data if data is not None else config.data, **(data_options or {}))
    spec = model if model is not None else get_model(config.model)
    if model is not None and model.name != config.model:
        config = config.model_copy(update={"model": model.name})
    if data is not None:
        data_name = corpus.source
    else:
        data_name = "the built-in corpus" if config.data == "demo" else config.data
    check_classes(corpus, data_name)
    for study in config.study:
        if getattr(study, "loop", None) is not None:  # a labeller from outside: its input
            check_labeller(corpus, study.loop)
    n_fixed_test = 0 if corpus.test_mask is None else int(np.sum(corpus.test_mask))
    plan = build_plan(config, len(corpus), data_name, n_fixed_test, model=spec)
    check_labeller_rows(plan, len(corpus), corpus.test_mask)
    store = RunStore(out)
    resolved = dump_config(config)
    estimator = describe_model(spec)
    store.check_resumable(resolved, corpus.fingerprint, estimator)
    check_legacy_logreg(store, spec)
    features = featurize(
        corpus, config.tokenizer, spec.ngram_range, use_cache=use_cache,
        counts=spec.input == "counts",  # a model that reads documents needs no count matrix
    )  # fmt: skip
    check_features(store, features.key)
    features = with_corpus_rows(features, corpus, config.study)
    manifest = build_manifest(
        seed=config.seed, n_trajectories=len(plan), corpus=corpus, features=features,
        model=spec, estimator=estimator, command=command,
        planned=Counter(traj.experiment for traj in plan),
    )  # fmt: skip
    if data is None:  # the texts were read here: the run needs them no more
        del corpus
        heap.trim()
    return PreparedRun(config, store, plan, features, spec, resolved, manifest)


def run_experiment(
    config: RunConfig,
    out: str | Path,
    *,
    jobs: int = 1,
    data: Corpus | None = None,
    model: ModelSpec | None = None,
    command: str | None = None,
    progress: Progress | None = None,
    use_cache: bool = True,
    backend: str = "local",
    scheduler: str | Client | None = None,
    executor: Executor | None = None,
    data_options: Mapping[str, Any] | None = None,
    reuse_fits: bool = True,
) -> RunResult:
    """Run (or resume) ``config`` into the run directory ``out``.

    ``data`` and ``model`` replace the config's data and model with a ready
    :class:`Corpus` or :class:`ModelSpec` (any scikit-learn classifier, through
    :meth:`ModelSpec.from_estimator`); ``data_options`` (``text_column``, ``label_column``,
    ``labels``) say how to read a data file. ``backend="dask"`` runs the trajectories on
    the workers of the Dask ``scheduler`` (an address or a ``Client``) instead of
    ``jobs`` local processes; ``executor`` is a ready executor instead of those three.
    ``reuse_fits=False`` fits again what another trajectory already fitted (every rate's
    first model; the results are the same either way, :mod:`modelcollapse.core.reuse`).

    Trajectories that raise are recorded and the rest still run: check
    :attr:`RunResult.failures` (the CLI exits with status 1 when there are any). Calling
    again with the same arguments retries only those and any that are missing.
    """
    if executor is None:
        executor = check_backend(backend, scheduler, jobs)
    with executor.warm_up():
        prepared = prepare_run(
            config, out, data=data, model=model, command=command, use_cache=use_cache,
            data_options=data_options,
        )  # fmt: skip
    return prepared.execute(progress=progress, executor=executor, reuse_fits=reuse_fits)
