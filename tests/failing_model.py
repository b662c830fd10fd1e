"""A model that raises in ``fit`` at one training size: trajectories that reach it fail."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

import cloudpickle
from sklearn.naive_bayes import MultinomialNB

from modelcollapse.models import ModelSpec

# Worker processes (joblib, Dask) cannot import the tests folder: send this module by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class FailsAt(MultinomialNB):
    """MultinomialNB, except that fitting exactly ``rows`` rows raises (``error``, a name of
    a built-in exception) while the file ``unless`` does not exist."""

    def __init__(self, rows: int = 500, unless: str = "", error: str = "ValueError") -> None:
        super().__init__()
        self.rows = rows
        self.unless = unless
        self.error = error

    def fit(self, X, y, sample_weight=None):
        if X.shape[0] == self.rows and not (self.unless and Path(self.unless).exists()):
            raise getattr(builtins, self.error)(f"cannot fit {self.rows} rows\nsecond line")
        return super().fit(X, y, sample_weight)


def failing_model(rows: int = 500, unless: Path | str = "", error: str = "ValueError") -> ModelSpec:
    return ModelSpec.from_estimator(FailsAt(rows, str(unless), error), "fails")
