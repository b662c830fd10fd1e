"""The self-labelling loop: fit, score, let the model label part of the next batch, refit.

This module does no I/O and no parallelism: it takes matrices and returns a
history. Everything random (which rows come next, which of them the model
labels, the model's own seed) is fixed by the arguments, so trajectories that
share them differ only in which labels came from the model.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier

from modelcollapse.models import ModelSpec, get_model


@dataclass(frozen=True)
class StepRecord:
    """What one fit saw and scored."""

    step: int
    train_size: int
    n_model_labelled: int
    model_label_accuracy: float  # of the labels the model gave this step's additions
    accuracy: float
    predicted_positive_rate: float
    test_positive_rate: float
    n_test: int
    fit_seconds: float
    predict_seconds: float


def model_labelled_count(rate: float, batch_size: int) -> int:
    """round(rate × batch) with halves rounded up (Python's round() rounds to even)."""
    return int(np.floor(rate * batch_size + 0.5))


def model_seed(base_seed: int, train_size: int) -> int:
    """The model's random_state for a fit: shared by every trajectory of a repeat at that size."""
    return int(np.random.SeedSequence([base_seed, train_size]).generate_state(1)[0] >> 1)


class SelfLabellingLoop:
    """Grow a training set through ``sizes``; a share ``rate`` of each addition is model-labelled.

    Parameters follow scikit-learn: ``__init__`` only stores them, :meth:`fit`
    runs the loop and sets ``history_`` (one :class:`StepRecord` per size),
    ``training_labels_`` (the labels the last model was trained on),
    ``model_labelled_`` (which of those rows the model labelled) and
    ``estimator_`` (the last fitted model).

    ``X_pool`` rows are in draw order: the training set at size ``s`` is the
    first ``s`` rows. Within a batch, the rows with the lowest ``priority`` get
    model labels, so a higher rate labels a superset of a lower rate's rows.
    """

    def __init__(
        self,
        model: str | ModelSpec | BaseEstimator,
        sizes: Sequence[int],
        rate: float,
        random_state: int = 0,
    ) -> None:
        self.model = model
        self.sizes = sizes
        self.rate = rate
        self.random_state = random_state

    def fit(
        self,
        X_pool: sp.csr_matrix,
        y_pool: np.ndarray,
        X_test: sp.csr_matrix,
        y_test: np.ndarray,
        priority: np.ndarray | None = None,
    ) -> SelfLabellingLoop:
        spec = get_model(self.model)
        sizes = [int(s) for s in self.sizes]
        if not sizes or sizes[0] < 1 or any(b <= a for a, b in itertools.pairwise(sizes)):
            raise ValueError(f"sizes must be positive and increasing, got {sizes}")
        if sizes[-1] > X_pool.shape[0]:
            raise ValueError(f"largest size {sizes[-1]} exceeds the pool ({X_pool.shape[0]} rows)")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], got {self.rate}")
        if priority is None:
            priority = np.random.default_rng(self.random_state).random(sizes[-1])

        X_pool = sp.csr_matrix(X_pool)
        y_true = np.asarray(y_pool)
        labels = y_true[: sizes[-1]].copy()
        model_labelled = np.zeros(sizes[-1], dtype=bool)
        in_vocabulary = np.zeros(X_pool.shape[1], dtype=bool)
        test_positive_rate = float(np.mean(y_test)) if len(y_test) else float("nan")

        history: list[StepRecord] = []
        estimator: BaseEstimator | None = None
        columns = np.array([], dtype=np.intp)
        done = 0
        for step, size in enumerate(sizes):
            label_accuracy = float("nan")
            if step > 0:
                batch = np.arange(done, size)
                k = model_labelled_count(self.rate, len(batch))
                if k and estimator is not None:
                    chosen = batch[np.argsort(priority[batch], kind="stable")[:k]]
                    predicted = estimator.predict(X_pool[chosen][:, columns])
                    labels[chosen] = predicted
                    model_labelled[chosen] = True
                    label_accuracy = float(np.mean(predicted == y_true[chosen]))
            in_vocabulary[X_pool[done:size].indices] = True
            columns = np.flatnonzero(in_vocabulary)
            X_train = X_pool[:size][:, columns]
            y_train = labels[:size]

            estimator = _fresh(spec, y_train, model_seed(self.random_state, size))
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            fit_seconds = time.perf_counter() - start

            start = time.perf_counter()
            predicted_test = estimator.predict(X_test[:, columns])
            predict_seconds = time.perf_counter() - start

            history.append(
                StepRecord(
                    step=step,
                    train_size=size,
                    n_model_labelled=int(model_labelled[:size].sum()),
                    model_label_accuracy=label_accuracy,
                    accuracy=float(np.mean(predicted_test == y_test)),
                    predicted_positive_rate=float(np.mean(predicted_test == 1)),
                    test_positive_rate=test_positive_rate,
                    n_test=len(y_test),
                    fit_seconds=fit_seconds,
                    predict_seconds=predict_seconds,
                )
            )
            done = size

        self.history_ = history
        self.training_labels_ = labels
        self.model_labelled_ = model_labelled
        self.estimator_ = estimator
        return self

    def history_records(self) -> list[dict[str, object]]:
        return [asdict(r) for r in self.history_]


def _fresh(spec: ModelSpec, y_train: np.ndarray, random_state: int) -> BaseEstimator:
    # A training set with one class cannot fit most classifiers; predict that class.
    if np.unique(y_train).size < 2:
        return DummyClassifier(strategy="most_frequent")
    return spec.make(random_state)
