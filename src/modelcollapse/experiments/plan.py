"""Experiments as plans: independent trajectories with stable keys and derived seeds.

A trajectory is one run of the loop: a study, a repeat, a rate and a list of
training sizes. All trajectories of the same study and repeat share one seed,
hence one test set, one initial sample, one order of additions and the same
model seeds (the paired design); they differ only in which labels came from the
model. Generational kinds (``generations``: bred models; ``generative``: models
that write the reviews) are trajectories too: one per rate, or per regime.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from modelcollapse.core.metrics import METRIC_COLUMNS
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import RunConfig, StudyConfig
from modelcollapse.features.vectorize import Features
from modelcollapse.loop import OPTION_NAMES, LoopOptions, SelfLabellingLoop
from modelcollapse.models import MODELS, ModelSpec


@dataclass(frozen=True)
class Trajectory:
    key: str
    experiment: str
    kind: str
    repeat: int
    seed: int
    rate: float
    sizes: tuple[int, ...]
    pool_size: int  # rows the study's pool holds (its largest size)
    test_size: str | float | int
    options: LoopOptions = field(default_factory=LoopOptions)
    settings: tuple[tuple[str, Any], ...] = ()  # a generational kind's own, as (name, value)
    seed_group: str = ""  # studies in one seed group share each repeat's seed; "" = experiment

    def setting(self, name: str) -> Any:
        return dict(self.settings)[name]


def derive_seed(run_seed: int, key: str) -> int:
    """A 63-bit seed from the run seed and a stable key (no Python ``hash``: it is salted)."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return int(np.random.SeedSequence([run_seed, digest]).generate_state(2, np.uint64)[0] >> 1)


def n_test_rows(test_size: str | float | int, n_rows: int, pool_size: int) -> int:
    if test_size == "rest":
        return n_rows - pool_size
    if isinstance(test_size, float):
        return int(np.floor(test_size * n_rows + 0.5))
    return int(test_size)


def _rate_label(rate: float) -> str:
    return f"{rate:.4f}".rstrip("0").rstrip(".") if rate else "0"


def study_trajectories(study: StudyConfig, run_seed: int, scale: float) -> list[Trajectory]:
    if study.generational:
        return _generational_trajectories(study, run_seed, scale)
    sizes = study.sizes(scale)
    # (rate, sizes) of each trajectory in one repeat
    shapes: list[tuple[float, list[int]]]
    if study.kind == "total-collapse":
        shapes = [(0.0, sizes)]
        shapes += [(r, sizes[i:]) for i in range(len(sizes) - 1) for r in study.rates if r > 0]
    else:
        shapes = [(r, sizes) for r in study.rates]
    plan = []
    options = study.loop
    group = study.seed_group or study.name
    for repeat in range(study.repeats):
        seed = derive_seed(run_seed, f"{group}/repeat={repeat}")
        for rate, grown in shapes:
            key = f"{study.name}/start={grown[0]}/rate={_rate_label(rate)}/repeat={repeat}"
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


def _generational_trajectories(study: StudyConfig, run_seed: int, scale: float) -> list[Trajectory]:
    """One trajectory per rate (generations) or per regime (generative) and repeat."""
    sizes = tuple(study.sizes(scale))
    group = study.seed_group or study.name
    plan = []
    for repeat in range(study.repeats):
        seed = derive_seed(run_seed, f"{group}/repeat={repeat}")
        if study.kind == "generations":
            settings = tuple(
                (name, getattr(study, name))
                for name in ("population", "keep", "validation_size", "max_generations")
            )
            shapes = [(f"rate={_rate_label(r)}", r, settings) for r in study.rates]
        else:
            assert study.regimes is not None
            shapes = [
                (f"regime={regime}", float("nan"),
                 (("regime", regime), ("generations", study.generations)))
                for regime in study.regimes
            ]  # fmt: skip
        for label, rate, settings in shapes:
            plan.append(
                Trajectory(
                    key=f"{study.name}/{label}/repeat={repeat}",
                    experiment=study.name,
                    kind=study.kind,
                    repeat=repeat,
                    seed=seed,
                    rate=rate,
                    sizes=sizes,
                    pool_size=study.pool_size(scale),
                    test_size=study.test_size,
                    settings=settings,
                    seed_group=group,
                )
            )
    return plan


def fitted_rows(traj: Trajectory) -> int:
    """Training rows the trajectory fits in all, a proxy for its run time (for scheduling)."""
    return sum(traj.sizes)


def build_plan(
    config: RunConfig,
    n_rows: int,
    data_name: str = "data",
    n_fixed_test: int = 0,
    model: ModelSpec | None = None,
) -> list[Trajectory]:
    """Every trajectory of the run; refuses sizes the data cannot supply.

    ``n_fixed_test`` > 0 means the data has its own test split of that many rows:
    the pool comes from the other rows, the test set from that split (all of it,
    or a sample when ``test_size`` is a count). ``model`` (default: the config's
    registered model) is checked against what a ``generations`` study can mutate.
    """
    plan = []
    if model is None and config.model in MODELS:
        model = MODELS[config.model]
    for study in config.study:
        if study.kind == "generations" and model is not None:
            from modelcollapse.experiments.generations import check_mutable

            check_mutable(model)
        pool = study.pool_size(config.scale)
        where = "--scale" if config.scale != 1.0 or study.generational else "--max-size"
        if n_fixed_test:
            n_train = n_rows - n_fixed_test
            wanted = study.test_size if isinstance(study.test_size, int) else n_fixed_test
            if pool > n_train or wanted > n_fixed_test:
                raise UserError(
                    f"study '{study.name}' needs {pool:,} training and {wanted:,} test reviews "
                    f"but {data_name} has {n_train:,} and {n_fixed_test:,}; "
                    "use a smaller --scale or more data",
                    where,
                )
        else:
            n_test = n_test_rows(study.test_size, n_rows, pool)
            if n_test < 1 or pool + n_test > n_rows:
                need = pool + max(n_test, 1)
                raise UserError(
                    f"study '{study.name}' needs {need:,} reviews ({pool:,} to train, "
                    f"{max(n_test, 1):,} to test) but {data_name} has {n_rows:,}; "
                    "use a smaller --scale or more data",
                    where,
                )
        plan.extend(study_trajectories(study, config.seed, config.scale))
    return plan


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


RESULT_COLUMNS = [
    "experiment", "kind", "trajectory", "repeat", "seed", "seed_group", "model", "tokenizer",
    "rate", "initial_size", "step", "train_size", "n_train", "n_model_labelled",
    "model_labelled_share", "n_dropped", "model_label_accuracy", "kept_label_accuracy",
    *METRIC_COLUMNS, "test_positive_rate", "n_test", "accuracy_gold", "accuracy_real_only",
    "fit_seconds", "predict_seconds", *OPTION_NAMES,
]  # fmt: skip


def run_trajectory(
    traj: Trajectory, features: Features, model: ModelSpec, tokenizer: str
) -> pd.DataFrame:
    """Run one trajectory on the cached features; one row per step.

    Every kind's frame has ``RESULT_COLUMNS`` (None or NaN where a kind has no
    value) and then its own columns.
    """
    if traj.kind == "generations":
        frame = _run_generations(traj, features, model)
    elif traj.kind == "generative":
        frame = _run_generative(traj, features, model)
    else:
        frame = _run_loop(traj, features, model)
    frame.insert(0, "experiment", traj.experiment)
    frame.insert(1, "kind", traj.kind)
    frame.insert(2, "trajectory", traj.key)
    frame.insert(3, "repeat", traj.repeat)
    frame.insert(4, "seed", np.int64(traj.seed))
    frame.insert(5, "seed_group", traj.seed_group or traj.experiment)
    frame.insert(6, "model", model.name)
    frame.insert(7, "tokenizer", tokenizer)
    frame.insert(8, "rate", traj.rate)
    frame.insert(9, "initial_size", traj.sizes[0])
    for name in RESULT_COLUMNS:
        if name not in frame:
            # Typed missing values: a column that is all None would be Parquet's null
            # type, which pyarrow cannot merge with other files' strings.
            text = name in _TEXT_COLUMNS
            frame[name] = pd.Series([None] * len(frame), dtype="string" if text else "float64")
    extra = [c for c in frame.columns if c not in RESULT_COLUMNS]
    return frame[RESULT_COLUMNS + extra]


_TEXT_COLUMNS = {k for k, v in LoopOptions().record().items() if isinstance(v, str)}


def _run_loop(traj: Trajectory, features: Features, model: ModelSpec) -> pd.DataFrame:
    pool, test, priority = split_rows(traj, features.n_rows, features.test_mask)
    X, y = features.X, features.labels
    loop = SelfLabellingLoop(model, traj.sizes, traj.rate, traj.seed, traj.options)
    loop.fit(X[pool], y[pool], X[test], y[test], priority=priority)
    frame = pd.DataFrame(loop.history_records())
    for name, value in traj.options.record().items():
        frame[name] = value
    return frame


def _run_generations(traj: Trajectory, features: Features, model: ModelSpec) -> pd.DataFrame:
    """Pool = the validation rows, then one fresh sample per generation, in draw order."""
    from modelcollapse.experiments.generations import GenerationalSearch

    pool, test, priority = split_rows(traj, features.n_rows, features.test_mask)
    n_validation, size = traj.setting("validation_size"), traj.sizes[0]
    samples = [
        pool[n_validation + g * size : n_validation + (g + 1) * size]
        for g in range(traj.setting("max_generations") + 1)
    ]
    search = GenerationalSearch(
        model, traj.rate, traj.setting("population"), traj.setting("keep"), traj.seed
    )
    # One priority per position in a sample: which rows a rate model-labels, every generation.
    search.fit(
        features.X, features.labels, samples, pool[:n_validation], test,
        priority[n_validation : n_validation + size],
    )  # fmt: skip
    frame = pd.DataFrame(search.records_)
    frame.insert(0, "step", frame["generation"])
    frame["n_train"] = frame["train_size"]
    for name in ("parent_id", "child_id", "hyperparameters", "stop_reason"):
        frame[name] = frame[name].astype("string")
    for name in ("kept", "beats_parent", "stopped"):
        frame[name] = frame[name].astype("boolean")
    return frame


def _run_generative(traj: Trajectory, features: Features, model: ModelSpec) -> pd.DataFrame:
    from modelcollapse.generative import GenerativeLoop

    pool, test, _ = split_rows(traj, features.n_rows, features.test_mask)
    docs, y = features.documents, features.labels
    regime = traj.setting("regime")
    loop = GenerativeLoop(
        model, traj.setting("generations"), regime, traj.seed, tokenizer=features.tokenizer
    )
    loop.fit([docs[i] for i in pool], y[pool], [docs[i] for i in test], y[test])
    frame = pd.DataFrame(loop.history_records())
    frame["n_train"] = frame["train_size"]
    frame["regime"] = regime
    return frame
