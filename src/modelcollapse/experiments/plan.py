"""Experiments as plans: independent trajectories with stable keys and derived seeds.

A trajectory is one run of the loop: a study, a repeat, a rate and a list of
training sizes. All trajectories of the same study and repeat share one seed,
hence one test set, one initial sample, one order of additions and the same
model seeds (the paired design); they differ only in which labels came from the
model. Generational kinds (``generations``: bred models; ``generative``: models
that write the reviews) are trajectories too: one per rate, or per regime. Each
study's kind is an engine (:mod:`modelcollapse.engines`) that builds and runs them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelcollapse.core.metrics import METRIC_COLUMNS
from modelcollapse.core.options import option_names
from modelcollapse.engines import ENGINES
from modelcollapse.engines.base import (
    Trajectory,
    derive_seed,
    n_test_rows,
    split_rows,
)
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import RunConfig, StudyConfig
from modelcollapse.features.vectorize import Features
from modelcollapse.loop import LoopOptions
from modelcollapse.models import MODELS, ModelSpec, check_row_weights

__all__ = [
    "RESULT_COLUMNS", "Trajectory", "build_plan", "derive_seed", "fitted_rows", "n_test_rows",
    "run_trajectory", "split_rows", "study_trajectories",
]  # fmt: skip


def study_trajectories(study: StudyConfig, run_seed: int, scale: float) -> list[Trajectory]:
    return study.engine.trajectories(study, run_seed, scale)


def fitted_rows(traj: Trajectory) -> int:
    """Training rows the trajectory fits in all (fits × rows), a proxy for its run time (for
    scheduling): the sum of its sizes for the loop, population × generations × sample size
    for ``generations``."""
    return ENGINES.get(traj.kind).cost(traj)


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
        if model is not None:
            study.engine.check_model(model)
            if study.engine.uses_loop:
                check_row_weights(model, study.loop.model_weight)
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


RESULT_COLUMNS = [
    "experiment", "kind", "trajectory", "repeat", "seed", "seed_group", "model", "tokenizer",
    "rate", "initial_size", "step", "train_size", "n_train", "n_model_labelled",
    "model_labelled_share", "n_dropped", "model_label_accuracy", "kept_label_accuracy",
    *METRIC_COLUMNS, "test_positive_rate", "n_test", "accuracy_gold", "accuracy_real_only",
    "fit_seconds", "predict_seconds", *option_names(),
]  # fmt: skip
# The built-in options as they stand at import; a plug-in's options follow as extra columns.


def run_trajectory(
    traj: Trajectory, features: Features, model: ModelSpec, tokenizer: str
) -> pd.DataFrame:
    """Run one trajectory on the cached features; one row per step.

    Every kind's frame (its engine's ``run``) has ``RESULT_COLUMNS`` (None or NaN where a kind
    has no value) and then its own columns.
    """
    frame = ENGINES.get(traj.kind).run(traj, features, model, tokenizer)
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
