"""How many rows of a batch a model labels, and the model each fit starts from (every engine)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier

from modelcollapse.models import ModelSpec


def model_labelled_count(rate: float, batch_size: int) -> int:
    """round(rate × batch) with halves rounded up (Python's round() rounds to even)."""
    return int(np.floor(rate * batch_size + 0.5))


def fresh_model(
    spec: ModelSpec,
    y_train: np.ndarray,
    random_state: int,
    params: Mapping[str, Any] | None = None,
) -> BaseEstimator:
    """An unfitted model for ``y_train``: ``spec``'s, with ``params`` set on it if given.

    A training set with one class cannot fit most classifiers; it gets a model that
    predicts that class (and P(that class) = 1), whatever the spec.
    """
    if np.unique(y_train).size < 2:
        return DummyClassifier(strategy="most_frequent")
    est = spec.make(random_state)
    return est.set_params(**params) if params else est


__all__ = ["fresh_model", "model_labelled_count"]
