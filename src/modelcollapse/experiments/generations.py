"""Generations of models, each trained on fresh reviews that its parent partly labelled.

The original study's side script as a study kind. Generation 0 is ``population``
models fitted on true labels: the run's model as made, and mutants of it. In every
later generation, ``population`` children are dealt round-robin to the kept parents;
each child trains on that generation's fresh sample of reviews, in which its parent
labels the share ``rate``, with its parent's hyper-parameters mutated. The ``keep``
children with the best accuracy on a held-out validation set (never the test set)
parent the next generation, until no child beats its parent on validation or
``max_generations`` generations have followed generation 0. A parent's validation
accuracy was the best of its generation on that same validation set, so it is biased
upward (selection): children must beat a lucky score, and with a small validation set
the search stops early even on true labels.

Where the original script differs: it keeps the best models *so far* across
generations and stops when none of a generation enters them, scores each model as
the mean of five fresh train/test draws, mutates the vectoriser and the rate too,
and starts from 100 random models with 10 children each.

No I/O and no parallelism: matrices in, records out.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline

from modelcollapse.core.metrics import evaluate
from modelcollapse.core.options import check_rate
from modelcollapse.core.seeds import model_seed
from modelcollapse.core.training import fresh_model, model_labelled_count
from modelcollapse.errors import UserError
from modelcollapse.features.vectorize import restrict_to_vocabulary
from modelcollapse.inputs import document_array
from modelcollapse.models import ModelSpec
from modelcollapse.textmodels import FastTextClassifier


@dataclass(frozen=True)
class ParamRange:
    """One mutable hyper-parameter: its ``set_params`` name, bounds, and how it moves."""

    name: str
    low: float
    high: float
    integer: bool = False
    log: bool = True  # multiplicative steps, for scale-free parameters; else additive
    step: float = 0.3  # sd of log(value); additive: sd as a share of (high - low)


# Per model family: the forest's size, depth, features per split (a share of the
# features; "sqrt" becomes the share it stands for) and leaf size; the inverse
# regularisation of logistic regression; the smoothing of naive Bayes.
PARAM_SPACES: dict[type, tuple[ParamRange, ...]] = {
    RandomForestClassifier: (
        ParamRange("n_estimators", 10, 1000, integer=True, step=0.2),
        ParamRange("max_depth", 2, 100, integer=True, step=0.2),
        ParamRange("max_features", 0.001, 1.0, step=0.3),
        ParamRange("min_samples_leaf", 1, 20, integer=True, log=False, step=0.05),
    ),
    LogisticRegression: (ParamRange("C", 1e-3, 1e3, step=0.5),),
    MultinomialNB: (ParamRange("alpha", 1e-3, 10.0, step=0.5),),
    # The hashing model's SGD: its L2 penalty, as C for logreg (alpha ~ 1 / (C · n)).
    SGDClassifier: (ParamRange("alpha", 1e-8, 1e-1, step=0.5),),
    # fastText: learning rate and epochs, the two its authors tune (Joulin et al. 2016 pick
    # the learning rate on a validation set from {0.05, 0.1, 0.25, 0.5}).
    FastTextClassifier: (
        ParamRange("lr", 0.01, 1.0, step=0.3),
        ParamRange("epoch", 1, 50, integer=True, step=0.2),
    ),
}


def param_space(estimator: BaseEstimator) -> tuple[ParamRange, ...] | None:
    """The mutable hyper-parameters of ``estimator`` (of a pipeline's last step), or None."""
    final, prefix = estimator, ""
    if isinstance(estimator, Pipeline):
        step, final = estimator.steps[-1]
        prefix = f"{step}__"
    for family, space in PARAM_SPACES.items():
        if isinstance(final, family):
            return tuple(replace(r, name=prefix + r.name) for r in space)
    return None


def check_mutable(model: ModelSpec) -> tuple[ParamRange, ...]:
    """The model's parameter space; a model without one cannot be bred."""
    space = param_space(model.make(0))
    if space is None:
        families = ", ".join(f.__name__ for f in PARAM_SPACES)
        raise UserError(
            f"the generations study mutates hyper-parameters of {families} "
            f"(seed-rf, logreg, nb, hashing, fasttext); '{model.name}' has none it knows",
            "--model",
        )
    return space


def _as_number(value: Any, r: ParamRange, n_features: int) -> float:
    if r.name.endswith("max_features"):
        if value in ("sqrt", "log2"):
            count = math.sqrt(n_features) if value == "sqrt" else math.log2(max(n_features, 2))
            return count / n_features
        if value is None:
            return 1.0
        if isinstance(value, int):  # a count of features
            return value / n_features
    if value is None:  # unlimited (max_depth): the bound
        return r.high
    return float(value)


def mutate(
    params: dict[str, Any],
    space: tuple[ParamRange, ...],
    rng: np.random.Generator,
    n_features: int,
) -> dict[str, Any]:
    """Every parameter of ``space`` moved by one normal step, then clipped to its bounds."""
    out = dict(params)
    for r in space:
        value = _as_number(params[r.name], r, max(n_features, 1))
        z = rng.standard_normal()
        value = value * math.exp(r.step * z) if r.log else value + r.step * (r.high - r.low) * z
        value = min(max(value, r.low), r.high)
        out[r.name] = round(value) if r.integer else float(value)
    return out


@dataclass
class _Member:
    id: str
    params: dict[str, Any]
    estimator: BaseEstimator
    columns: np.ndarray | None  # the vocabulary it was fitted on; None: it reads documents
    validation_accuracy: float
    record: dict[str, Any]


class GenerationalSearch:
    """Breed models over generations; ``records_`` holds one dict per child, then a stop row.

    The stop row (``stopped`` True) repeats the scores of the model the search ends
    with and says why it stopped (``stop_reason``).

    ``fit(X, y, samples, validation, test, priority)``: ``samples[g]`` are the rows of
    generation g's fresh sample (so ``max_generations`` = ``len(samples) - 1``);
    within a sample, the rows with the lowest ``priority`` get the parent's labels, so
    a higher rate labels a superset of a lower rate's rows. Seeds depend on
    (``random_state``, generation, child) only. ``final_id_`` names the model the
    search ends with: the best on validation of the last generation and its parents.
    """

    def __init__(
        self,
        model: ModelSpec,
        rate: float,
        population: int = 6,
        keep: int = 2,
        random_state: int = 0,
    ) -> None:
        self.model = model
        self.rate = rate
        self.population = population
        self.keep = keep
        self.random_state = random_state

    def fit(
        self,
        X: sp.csr_matrix,
        y: np.ndarray,
        samples: list[np.ndarray],
        validation: np.ndarray,
        test: np.ndarray,
        priority: np.ndarray,
        n_classes: int | None = None,
    ) -> GenerationalSearch:
        """``n_classes``: k of the label codes 0 … k−1 (default: the largest in ``y`` + 1)."""
        if not 1 <= self.keep <= self.population:
            raise ValueError(f"keep must be within [1, population], got {self.keep}")
        check_rate(self.rate)
        if not samples:
            raise ValueError("no samples: generation 0 needs one")
        space = check_mutable(self.model)
        self.n_classes_ = n_classes or max(2, int(np.max(y)) + 1)
        base = self.model.make(0).get_params()
        records: list[dict[str, Any]] = []
        parents: list[_Member] = []
        reason = "max_generations"
        # Fixed across generations: take the rows once; only the columns change.
        documents = self.model.input == "documents"
        X = document_array(X) if documents else X
        X_validation, X_testing = X[validation], X[test]
        y_val, y_test = y[validation], y[test]
        for g, sample in enumerate(samples):
            if documents:  # the model reads the whole token text: no vocabulary to restrict
                columns, X_train, X_val, X_test = None, X[sample], X_validation, X_testing
            else:
                columns, (X_train, X_val, X_test) = restrict_to_vocabulary(
                    X[sample], X_validation, X_testing
                )
            labels, n_model, label_accuracy = self._labels(X, y, sample, priority, parents)
            children = []
            for i in range(self.population):
                parent = parents[i % len(parents)] if parents else None
                params = {r.name: (parent.params if parent else base)[r.name] for r in space}
                if parent is not None or i > 0:  # generation 0 keeps the model as made once
                    rng = np.random.default_rng([self.random_state, g, i, 1])
                    params = mutate(params, space, rng, 1 if columns is None else len(columns))
                child = self._child(
                    f"g{g}.{i}", params, labels[parent.id if parent else ""], columns,
                    X_train, X_val, X_test, y_val, y_test, model_seed(self.random_state, g, i),
                )  # fmt: skip
                child.record.update(
                    generation=g,
                    parent_id=parent.id if parent else None,
                    beats_parent=(
                        child.validation_accuracy > parent.validation_accuracy if parent else None
                    ),
                    train_size=len(sample),
                    n_model_labelled=n_model if parent else 0,
                    model_labelled_share=n_model / len(sample) if parent else 0.0,
                    model_label_accuracy=label_accuracy[parent.id] if parent else float("nan"),
                )
                children.append(child)
            ranked = sorted(range(len(children)), key=lambda j: -children[j].validation_accuracy)
            best = set(ranked[: self.keep])
            for j, child in enumerate(children):
                child.record["kept"] = j in best
                records.append(child.record)
            final = max([*children, *parents], key=lambda m: m.validation_accuracy)
            if parents and not any(c.record["beats_parent"] for c in children):
                reason = "no child beat its parent"
                break
            parents = [children[j] for j in ranked[: self.keep]]
        records.append(
            {
                **final.record,
                "generation": g,
                "kept": None,
                "beats_parent": None,
                "stopped": True,
                "stop_reason": reason,
            }
        )
        self.records_ = records
        self.final_id_ = final.id
        return self

    def _labels(
        self,
        X: sp.csr_matrix,
        y: np.ndarray,
        sample: np.ndarray,
        priority: np.ndarray,
        parents: list[_Member],
    ) -> tuple[dict[str, np.ndarray], int, dict[str, float]]:
        """The sample's labels as each parent leaves them ("" = the true labels)."""
        true = y[sample]
        out, accuracy = {"": true}, {}
        chosen = np.argsort(priority, kind="stable")[: model_labelled_count(self.rate, len(sample))]
        for parent in parents:
            labels = true.copy()
            if len(chosen):
                rows = X[sample[chosen]]
                made = parent.estimator.predict(
                    rows if parent.columns is None else rows[:, parent.columns]
                )
                labels[chosen] = made
                accuracy[parent.id] = float(np.mean(made == true[chosen]))
            else:
                accuracy[parent.id] = float("nan")
            out[parent.id] = labels
        return out, len(chosen), accuracy

    def _child(
        self,
        child_id: str,
        params: dict[str, Any],
        labels: np.ndarray,
        columns: np.ndarray,
        X_train: sp.csr_matrix,
        X_val: sp.csr_matrix,
        X_test: sp.csr_matrix,
        y_val: np.ndarray,
        y_test: np.ndarray,
        seed: int,
    ) -> _Member:
        est = fresh_model(self.model, labels, seed, params)
        start = time.perf_counter()
        est.fit(X_train, labels)
        fit_seconds = time.perf_counter() - start
        validation_accuracy = float(np.mean(est.predict(X_val) == y_val))
        record = {
            "child_id": child_id,
            "hyperparameters": json.dumps(params, sort_keys=True),
            "validation_accuracy": validation_accuracy,
            "n_validation": len(y_val),
            **evaluate(est, X_test, y_test, self.n_classes_),
            # k > 2 classes: no positive class (the test_share_<j> columns hold the shares)
            "test_positive_rate": float(np.mean(y_test)) if self.n_classes_ <= 2 else np.nan,
            "n_test": len(y_test),
            "stopped": False,
            "stop_reason": None,
            "fit_seconds": fit_seconds,
        }
        return _Member(child_id, params, est, columns, validation_accuracy, record)


__all__ = [
    "PARAM_SPACES",
    "GenerationalSearch",
    "ParamRange",
    "check_mutable",
    "mutate",
    "param_space",
]
