"""Execute plans: load data, featurise once, run missing trajectories in parallel, store each.

Workers receive a trajectory and the path of the cached feature matrix, which
they memory-map once per process; results travel back to this process, the
only one that writes to the run directory. One switch picks where workers run:
``backend="local"`` (joblib processes on this machine, ``jobs`` of them) or
``backend="dask"`` (the workers of a running dask.distributed scheduler).
"""

from __future__ import annotations

import platform
import shlex
import sys
import threading
import uuid
import warnings
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import ExitStack, closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import ModelCollapseWarning, UserError
from modelcollapse.experiments.config import RunConfig, dump_config
from modelcollapse.experiments.plan import Trajectory, build_plan, fitted_rows, run_trajectory
from modelcollapse.features.vectorize import Features, featurize, load_features
from modelcollapse.models import ModelSpec, describe_model, get_model
from modelcollapse.store import RunStore

if TYPE_CHECKING:
    from distributed import Client

Progress = Callable[[int, int], None]  # (done, total)
Results = Generator[tuple[Trajectory, pd.DataFrame], None, None]  # in order of completion
Backend = Literal["local", "dask"]
BACKENDS = ("local", "dask")
DASK_CONNECT_TIMEOUT = 10  # seconds: a wrong address should fail fast, not hang the run


def load_data(data: str | Corpus) -> Corpus:
    """``"demo"`` (built in), a path, the name of an imported corpus, or a ready :class:`Corpus`.

    A path wins over a name. An imported corpus brings its own test split as ``test_mask``.
    """
    if isinstance(data, Corpus):
        return data
    if data == "demo":
        from modelcollapse.data.demo import make_demo_corpus

        return make_demo_corpus()
    from modelcollapse.data.home import get_data_home, imported_names, is_imported, load_imported
    from modelcollapse.data.readers import read_corpus

    if Path(data).exists():
        return read_corpus(data)
    if is_imported(data):
        return load_imported(data)
    names = imported_names() or f"none in {get_data_home()}"
    raise UserError(
        f"'{data}' is neither a file nor an imported corpus (imported: {names}; "
        "add one with 'modelcollapse data import PATH')",
        "--data",
    )


def _work(
    traj: Trajectory, features: Features | Path, model: ModelSpec, tokenizer: str
) -> pd.DataFrame:
    if isinstance(features, Path):
        features = load_features(features)
    # One model thread per worker: the runner, not BLAS, uses the cores.
    with threadpool_limits(1):
        return run_trajectory(traj, features, model, tokenizer)


def check_backend(backend: str, scheduler: str | Client | None, jobs: int = 1) -> None:
    """Refuse options that the chosen backend would silently ignore."""
    if backend not in BACKENDS:
        raise UserError(f"expected local or dask, got '{backend}'", "--backend")
    if backend == "dask" and scheduler is None:
        raise UserError(
            "the dask backend needs a scheduler address, e.g. tcp://127.0.0.1:8786", "--scheduler"
        )
    if backend == "local" and scheduler is not None:
        raise UserError("only used with --backend dask", "--scheduler")
    if backend == "dask" and jobs != 1:
        raise UserError(
            "not used with --backend dask: the Dask workers set the parallelism", "--jobs"
        )


def execute(
    plan: list[Trajectory],
    features: Features,
    model: ModelSpec,
    tokenizer: str,
    jobs: int = 1,
    backend: Backend = "local",
    scheduler: str | Client | None = None,
) -> Results:
    """Yield (trajectory, result) as each finishes, in any order.

    ``scheduler`` is a Dask scheduler address, or a connected ``Client`` that is
    used as is (and left open).
    """
    check_backend(backend, scheduler, jobs)
    # Longest first, so the last trajectories to finish are short ones and workers rarely
    # wait for one straggler. Seeds come from keys, so the order changes no result.
    plan = sorted(plan, key=fitted_rows, reverse=True)
    if backend == "dask":
        assert scheduler is not None
        return _execute_dask(plan, features, model, tokenizer, scheduler)
    return _execute_local(plan, features, model, tokenizer, jobs)


def _execute_local(
    plan: list[Trajectory], features: Features, model: ModelSpec, tokenizer: str, jobs: int
) -> Results:
    if jobs == 1 or len(plan) <= 1:
        for traj in plan:
            yield traj, _work(traj, features, model, tokenizer)
        return
    ref: Features | Path = features.path if features.path is not None else features
    results = Parallel(n_jobs=jobs, return_as="generator_unordered")(
        delayed(_paired)(traj, ref, model, tokenizer) for traj in plan
    )
    yield from results


def _paired(traj: Trajectory, ref: Features | Path, model: ModelSpec, tokenizer: str):
    return traj, _work(traj, ref, model, tokenizer)


def _ready() -> None:
    """Nothing: unpickling it makes a worker import this module, hence everything it runs."""


@contextmanager
def warming_up(jobs: int, backend: Backend = "local") -> Iterator[None]:
    """Start the ``jobs`` local worker processes while the block runs; wait for them at its end.

    Spawning a worker and importing scikit-learn takes a second or two, which can overlap
    with reading the data and features in this process. joblib keeps its workers for the
    next call, so the run itself reuses them.
    """
    if backend != "local" or jobs < 2:
        yield
        return

    def start() -> None:
        with suppress(Exception):  # a failure here resurfaces, with context, in the run
            Parallel(n_jobs=jobs)(delayed(_ready)() for _ in range(jobs))

    thread = threading.Thread(target=start, name="modelcollapse-warm-up", daemon=True)
    thread.start()
    try:
        yield
    finally:  # also on an error: never leave the interpreter exiting mid-spawn
        thread.join()


def _import_distributed() -> Any:
    try:
        import distributed
        import distributed.comm
    except ImportError:
        raise UserError(
            "the dask backend needs the 'dask' extra: pip install 'modelcollapse[dask]'",
            "--backend",
        ) from None
    return distributed


@contextmanager
def dask_client(scheduler: str | Client) -> Iterator[Client]:
    """Connect to a running scheduler; a ``Client`` passed in is used as is and left open."""
    distributed = _import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    try:
        # Parse first: a Client built on a malformed address fails, then spews when collected.
        address = distributed.comm.resolve_address(scheduler)
        client = distributed.Client(address, timeout=DASK_CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, ValueError) as exc:  # OSError covers timeouts and unknown hosts
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(
            f"cannot connect to a Dask scheduler at '{scheduler}' ({reason})", "--scheduler"
        ) from None
    try:
        yield client
    finally:
        client.close()


def _features_for_workers(client: Client, features: Features) -> Any:
    """The cache folder's path if every worker can read it, else one broadcast copy.

    Workers on this machine or on a shared filesystem memory-map the cached matrix
    (nothing is sent); elsewhere the matrix is scattered once to every worker.
    Workers that join later are assumed to see what the current ones see.
    """

    # Nested, so cloudpickle sends it by value: it runs even where modelcollapse is missing.
    def probe(folder: str | None) -> tuple[bool, bool, dict[str, str]]:
        import importlib.util
        import os

        found = importlib.util.find_spec("modelcollapse") is not None
        seen = folder is not None and os.path.exists(os.path.join(folder, "meta.json"))
        malloc = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")}
        return found, seen, malloc

    folder = str(features.path) if features.path is not None else None
    answers = client.run(probe, folder)
    missing = sorted(worker for worker, (found, _, _) in answers.items() if not found)
    if missing:
        raise UserError(
            f"Dask workers cannot import modelcollapse ({', '.join(missing)}); "
            "install it in the workers' environment",
            "--scheduler",
        )
    slow = sorted(worker for worker, (_, _, env) in answers.items() if _slow_malloc(env))
    if slow:
        warnings.warn(
            f"{len(slow)} of {len(answers)} Dask workers run with MALLOC_TRIM_THRESHOLD_ set "
            "(a nanny sets it by default), which made runs up to 83 % slower here; start them "
            "as docs/dask.md shows (e.g. with MALLOC_MMAP_THRESHOLD_=33554432 "
            "MALLOC_TRIM_THRESHOLD_=268435456 in their environment)",
            ModelCollapseWarning,
            stacklevel=2,
        )
    if folder is not None and all(seen for _, seen, _ in answers.values()):
        return features.path
    return client.scatter(features, broadcast=True)


def _slow_malloc(environ: Mapping[str, str]) -> bool:
    """Whether glibc malloc runs with a fixed, small mmap threshold in this environment.

    Setting MALLOC_TRIM_THRESHOLD_ (as Dask's nanny does, to 64 KiB) switches off glibc's
    dynamic mmap threshold: every array over 128 KiB is then mapped and unmapped afresh,
    and each of its pages faults in again, so numpy's temporaries cost 3-4× more
    (benchmarks/bench_dask.py). A threshold set explicitly by the user is respected.
    """
    return "MALLOC_TRIM_THRESHOLD_" in environ and "MALLOC_MMAP_THRESHOLD_" not in environ


def _execute_dask(
    plan: list[Trajectory],
    features: Features,
    model: ModelSpec,
    tokenizer: str,
    scheduler: str | Client,
) -> Results:
    if not plan:
        return
    distributed = _import_distributed()
    with dask_client(scheduler) as client:
        ref = _features_for_workers(client, features)
        # Keys unique per call: the scheduler would hand back another run's result
        # for a key it still holds (say, the same trajectory with another seed).
        run_id = uuid.uuid4().hex[:8]
        pending = {}
        for traj in plan:
            future = client.submit(
                _paired, traj, ref, model, tokenizer, key=f"trajectory-{run_id}-{traj.key}"
            )
            pending[future.key] = future
        try:
            done = distributed.as_completed(
                list(pending.values()), loop=client.loop, with_results=True
            )  # loop: our client is not the default one
            for future, result in done:
                del pending[future.key]  # frees the worker's copy of the result
                yield result
        finally:  # an error or a closed generator: drop unfinished work and the scattered copy
            client.cancel([*pending.values(), *([] if isinstance(ref, Path) else [ref])])


@dataclass
class RunResult:
    run_dir: Path
    results: pd.DataFrame
    n_trajectories: int
    n_skipped: int  # already stored before this call (resumed)


def _versions() -> dict[str, str]:
    names = [
        "modelcollapse",
        "numpy",
        "scipy",
        "scikit-learn",
        "pandas",
        "pyarrow",
        "joblib",
        "nltk",
    ]
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


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
        backend: Backend = "local",
        scheduler: str | Client | None = None,
    ) -> RunResult:
        """Run the trajectories not yet stored, writing each as it finishes.

        Whatever the backend, only this process writes; the run directory can be
        resumed on either backend.
        """
        if jobs < 1:
            raise UserError(f"must be at least 1, got {jobs}", "--jobs")
        check_backend(backend, scheduler, jobs)
        store = self.store
        with ExitStack() as stack:
            if backend == "dask":
                assert scheduler is not None
                # Connect before opening the store: a wrong address writes nothing.
                scheduler = stack.enter_context(dask_client(scheduler))
            store.open(self.resolved, self.manifest)
            stack.callback(store.close)
            done = store.done_keys()
            todo = [t for t in self.plan if t.key not in done]
            skipped = len(self.plan) - len(todo)
            if progress:
                progress(skipped, len(self.plan))
            results = execute(
                todo, self.features, self.model, self.config.tokenizer, jobs, backend, scheduler
            )
            stack.enter_context(closing(results))  # on error, stop the workers' remaining work
            for count, (traj, frame) in enumerate(results, 1):
                store.write(traj.key, frame)
                if progress:
                    progress(skipped + count, len(self.plan))
            return RunResult(store.root, store.read_results(), len(self.plan), skipped)


def _check_legacy_logreg(store: RunStore, spec: ModelSpec) -> None:
    """Runs of 0.1 record no model definition; their ``logreg`` was today's ``logreg-primal``."""
    if spec.name != "logreg" or not store.exists() or not store.manifest_path.exists():
        return
    manifest = store.read_manifest()
    if "model" not in manifest:
        version = manifest.get("versions", {}).get("modelcollapse", "0.1")
        raise UserError(
            f"was started by modelcollapse {version}, whose logreg used liblinear's primal "
            "solver (now logreg-primal); finish it with that version or choose another --out",
            str(store.root),
        )


def _check_features(store: RunStore, key: str) -> None:
    """The features key covers data, tokenizer, n-grams and the features version; with
    the first three checked, a different key means tokens or counts changed since
    the run started (e.g. 0.2's seed tokenizer, issue #17): its steps would not mix.
    """
    if not store.exists() or not store.manifest_path.exists():
        return
    recorded = store.read_manifest().get("features", {}).get("key")
    if recorded is not None and recorded != key:
        raise UserError(
            "was started with other tokens or counts (they changed since; see CHANGELOG.md); "
            "finish it with the version that started it or choose another --out",
            str(store.root),
        )


def prepare_run(
    config: RunConfig,
    out: str | Path,
    *,
    data: Corpus | None = None,
    model: ModelSpec | None = None,
    command: str | None = None,
    use_cache: bool = True,
) -> PreparedRun:
    """Check everything that bad input can break before anything is written."""
    corpus = load_data(data if data is not None else config.data)
    spec = model if model is not None else get_model(config.model)
    if model is not None and model.name != config.model:
        config = config.model_copy(update={"model": model.name})
    if data is not None:
        data_name = corpus.source
    else:
        data_name = "the built-in corpus" if config.data == "demo" else config.data
    n_fixed_test = 0 if corpus.test_mask is None else int(np.sum(corpus.test_mask))
    plan = build_plan(config, len(corpus), data_name, n_fixed_test, model=spec)
    store = RunStore(out)
    resolved = dump_config(config)
    estimator = describe_model(spec)
    store.check_resumable(resolved, corpus.fingerprint, estimator)
    _check_legacy_logreg(store, spec)
    features = featurize(corpus, config.tokenizer, spec.ngram_range, use_cache=use_cache)
    _check_features(store, features.key)
    manifest = {
        "command": command or shlex.join(["modelcollapse", *sys.argv[1:]]),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": config.seed,
        "n_trajectories": len(plan),
        "versions": _versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "data": {
            "source": corpus.source,
            "rows": len(corpus),
            "positive": int(corpus.labels.sum()),
            "fingerprint": corpus.fingerprint,
            "label_names": list(corpus.label_names),
            "synthetic": bool(corpus.meta.get("synthetic", False)),
        },
        "features": {"key": features.key, "shape": list(features.X.shape)},
        "model": {"name": spec.name, "estimator": estimator},
    }
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
    backend: Backend = "local",
    scheduler: str | Client | None = None,
) -> RunResult:
    """Run (or resume) ``config`` into the run directory ``out``.

    ``data`` and ``model`` replace the config's data and model with a ready
    :class:`Corpus` or :class:`ModelSpec` (any scikit-learn classifier, through
    :meth:`ModelSpec.from_estimator`). ``backend="dask"`` runs the trajectories on
    the workers of the Dask ``scheduler`` (an address or a ``Client``) instead of
    ``jobs`` local processes.
    """
    if jobs < 1:
        raise UserError(f"must be at least 1, got {jobs}", "--jobs")
    check_backend(backend, scheduler, jobs)
    with warming_up(jobs, backend):
        prepared = prepare_run(
            config, out, data=data, model=model, command=command, use_cache=use_cache
        )
    return prepared.execute(jobs, progress, backend, scheduler)
