"""Execute plans: load data, featurise once, run missing trajectories in parallel, store each.

Workers receive a trajectory and the path of the cached feature matrix, which
they memory-map once per process; results travel back to this process, the
only one that writes to the run directory.
"""

from __future__ import annotations

import platform
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed
from threadpoolctl import threadpool_limits

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import RunConfig, dump_config
from modelcollapse.experiments.plan import Trajectory, build_plan, run_trajectory
from modelcollapse.features.vectorize import Features, featurize, load_features
from modelcollapse.models import ModelSpec, get_model
from modelcollapse.store import RunStore

Progress = Callable[[int, int], None]  # (done, total)


def load_data(data: str | Corpus) -> Corpus:
    """``"demo"`` (built in), a path, or a ready :class:`Corpus`."""
    if isinstance(data, Corpus):
        return data
    if data == "demo":
        from modelcollapse.data.demo import make_demo_corpus

        return make_demo_corpus()
    from modelcollapse.data.readers import read_corpus

    return read_corpus(data)


def _work(
    traj: Trajectory, features: Features | Path, model: ModelSpec, tokenizer: str
) -> pd.DataFrame:
    if isinstance(features, Path):
        features = load_features(features)
    # One model thread per worker: the runner, not BLAS, uses the cores.
    with threadpool_limits(1):
        return run_trajectory(traj, features, model, tokenizer)


def execute(
    plan: list[Trajectory],
    features: Features,
    model: ModelSpec,
    tokenizer: str,
    jobs: int = 1,
) -> Iterator[tuple[Trajectory, pd.DataFrame]]:
    """Yield (trajectory, result) as each finishes, in any order."""
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

    def execute(self, jobs: int = 1, progress: Progress | None = None) -> RunResult:
        """Run the trajectories not yet stored, writing each as it finishes."""
        if jobs < 1:
            raise UserError(f"must be at least 1, got {jobs}", "--jobs")
        store = self.store
        store.open(self.resolved, self.manifest)
        try:
            done = store.done_keys()
            todo = [t for t in self.plan if t.key not in done]
            skipped = len(self.plan) - len(todo)
            if progress:
                progress(skipped, len(self.plan))
            results = execute(todo, self.features, self.model, self.config.tokenizer, jobs)
            for count, (traj, frame) in enumerate(results, 1):
                store.write(traj.key, frame)
                if progress:
                    progress(skipped + count, len(self.plan))
            return RunResult(store.root, store.read_results(), len(self.plan), skipped)
        finally:
            store.close()


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
    data_name = "the built-in corpus" if config.data == "demo" else config.data
    plan = build_plan(config, len(corpus), data_name)
    store = RunStore(out)
    resolved = dump_config(config)
    store.check_resumable(resolved, corpus.fingerprint)
    features = featurize(corpus, config.tokenizer, spec.ngram_range, use_cache=use_cache)
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
) -> RunResult:
    """Run (or resume) ``config`` into the run directory ``out``.

    ``data`` and ``model`` replace the config's data and model with a ready
    :class:`Corpus` or :class:`ModelSpec` (any scikit-learn classifier, through
    :meth:`ModelSpec.from_estimator`).
    """
    if jobs < 1:
        raise UserError(f"must be at least 1, got {jobs}", "--jobs")
    prepared = prepare_run(
        config, out, data=data, model=model, command=command, use_cache=use_cache
    )
    return prepared.execute(jobs, progress)


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Mean accuracy per study, start and rate at the first and the last size."""
    keys = ["experiment", "initial_size", "rate"]
    first = results[results["step"] == 0]
    last = results.loc[results.groupby("trajectory")["step"].idxmax()]
    table = (
        first.groupby(keys)
        .agg(repeats=("repeat", "nunique"), first_size=("train_size", "first"),
             first_accuracy=("accuracy", "mean"))
        .join(last.groupby(keys).agg(last_size=("train_size", "first"),
                                     last_accuracy=("accuracy", "mean")))
        .reset_index()
    )  # fmt: skip
    return table
