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
    predicts that class (and P(that class) = 1), whatever the spec. With more than two
    classes, a liblinear logistic regression (which has no multi-class solver) is fitted
    one-vs-rest (:func:`one_vs_rest`).
    """
    n_classes = np.unique(y_train).size
    if n_classes < 2:
        return DummyClassifier(strategy="most_frequent")
    est = spec.make(random_state)
    if params:
        est.set_params(**params)
    return one_vs_rest(est) if n_classes > 2 else est


def one_vs_rest(est: BaseEstimator) -> BaseEstimator:
    """``est`` with a liblinear LogisticRegression (bare, or a pipeline's last step) wrapped in
    a OneVsRestClassifier: k binary fits, probabilities normalised over the classes, which
    is what LIBLINEAR (and scikit-learn before 1.7) does for k > 2 classes."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import Pipeline

    def liblinear(clf: object) -> bool:
        return isinstance(clf, LogisticRegression) and clf.solver == "liblinear"

    if isinstance(est, Pipeline) and liblinear(est.steps[-1][1]):
        name, clf = est.steps[-1]
        est.steps[-1] = (name, OneVsRestClassifier(clf))
    elif liblinear(est):
        return OneVsRestClassifier(est)
    return est


__all__ = ["fresh_model", "model_labelled_count", "one_vs_rest"]
