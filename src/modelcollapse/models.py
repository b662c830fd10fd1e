"""Named models: a classifier over the term-count matrix plus the n-grams it counts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from modelcollapse.errors import UserError


@dataclass(frozen=True)
class ModelSpec:
    """How to build a fresh, unfitted classifier for one fit.

    ``make(random_state)`` returns an estimator that takes the term-count matrix
    (rows = reviews, columns = the training rows' vocabulary). ``ngram_range``
    says which n-grams the count matrix holds.
    """

    name: str
    make: Callable[[int], BaseEstimator]
    ngram_range: tuple[int, int] = (1, 1)

    @classmethod
    def from_estimator(
        cls,
        estimator: BaseEstimator,
        name: str | None = None,
        ngram_range: tuple[int, int] = (1, 1),
    ) -> ModelSpec:
        """Wrap any scikit-learn classifier or pipeline that accepts a sparse count matrix."""
        template = clone(estimator)

        def make(random_state: int) -> BaseEstimator:
            est = clone(template)
            seeds = {k: random_state for k in est.get_params() if k.endswith("random_state")}
            return est.set_params(**seeds)

        return cls(name or type(estimator).__name__, make, ngram_range)


def _seed_rf(random_state: int, n_estimators: int = 1000) -> BaseEstimator:
    # The original study's forest; n_jobs=1 because the runner parallelises trajectories.
    return RandomForestClassifier(
        n_estimators=n_estimators,
        max_depth=20,
        max_features="sqrt",
        min_samples_split=2,
        min_samples_leaf=1,
        bootstrap=False,
        n_jobs=1,
        random_state=random_state,
    )


def _logreg(random_state: int, dual: bool = True) -> BaseEstimator:
    # liblinear's dual coordinate descent: the solver LIBLINEAR recommends for documents, where
    # the n-grams outnumber the reviews. Twice as fast here as the primal Newton solver
    # (docs/benchmarks.md); both solve the same problem to liblinear's tolerance.
    return make_pipeline(
        TfidfTransformer(sublinear_tf=True),
        LogisticRegression(C=1.0, solver="liblinear", dual=dual, random_state=random_state),
    )


def _logreg_primal(random_state: int) -> BaseEstimator:
    # logreg of modelcollapse 0.1, kept to reproduce its numbers (a test review or two differ).
    return _logreg(random_state, dual=False)


def _nb(random_state: int) -> ClassifierMixin:
    return MultinomialNB()


def _fast_rf(random_state: int) -> BaseEstimator:
    # seed-rf with 300 of its 1,000 trees: see docs/benchmarks.md for its accuracy against seed-rf.
    return _seed_rf(random_state, n_estimators=300)


MODELS: dict[str, ModelSpec] = {
    "seed-rf": ModelSpec("seed-rf", _seed_rf, (1, 1)),
    "fast-rf": ModelSpec("fast-rf", _fast_rf, (1, 1)),
    "logreg": ModelSpec("logreg", _logreg, (1, 2)),
    "logreg-primal": ModelSpec("logreg-primal", _logreg_primal, (1, 2)),
    "nb": ModelSpec("nb", _nb, (1, 1)),
}


def describe_model(spec: ModelSpec) -> str:
    """The estimator a spec builds, as scikit-learn prints it: recorded with each run.

    A resumed run checks it, so a changed model definition (another package version, another
    solver) never mixes into a run directory. Memory addresses of callables are dropped.
    """
    text = " ".join(repr(spec.make(0)).split())  # one line: it can appear in an error
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def get_model(model: str | ModelSpec | BaseEstimator) -> ModelSpec:
    """A registered name, a ready spec, or any scikit-learn classifier."""
    if isinstance(model, ModelSpec):
        return model
    if isinstance(model, BaseEstimator):
        return ModelSpec.from_estimator(model)
    try:
        return MODELS[model]
    except KeyError:
        names = ", ".join(MODELS)
        raise UserError(f"unknown model '{model}' (expected one of: {names})", "--model") from None
