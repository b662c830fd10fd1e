"""Named models: a classifier over the term-count matrix (or over token text) plus its n-grams.

:data:`MODELS` is their registry: ``--model``, its help, the error for an unknown name and the
models table of the README all read it, so a new model is one registration::

    MODELS.register("svm", ModelSpec("svm", make_svm, (1, 2), "a linear SVM"))
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from modelcollapse.registry import Registry

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

# scikit-learn is imported inside the functions: the CLI reads this registry for its help,
# and importing scikit-learn would add seconds to every command.


@dataclass(frozen=True)
class ModelSpec:
    """How to build a fresh, unfitted classifier for one fit.

    ``make(random_state)`` returns an estimator whose ``X`` is, as ``input`` says:

    - ``"counts"``: the term-count matrix (rows = reviews, columns = the training rows'
      vocabulary); ``ngram_range`` says which n-grams it holds.
    - ``"documents"``: the reviews' token text, a NumPy array of strings (each review's
      tokens joined by spaces). No count matrix is built for such a model; ``ngram_range``
      states the n-grams the model forms itself (for the models table).

    ``description`` is its one line in the models table and the ``--model`` help.
    ``check``, if given, raises a :class:`~modelcollapse.errors.UserError` when the model
    cannot run here (an optional package missing); :func:`get_model` calls it.
    ``supports_row_weights`` says whether its ``fit`` honours any ``sample_weight``: a run
    whose ``model_weight`` is neither 0 nor 1 is refused up front for a model that cannot
    (:func:`check_row_weights`), rather than failing trajectory by trajectory.
    """

    name: str
    make: Callable[[int], BaseEstimator]
    ngram_range: tuple[int, int] = (1, 1)
    description: str = ""
    input: Literal["counts", "documents"] = "counts"
    check: Callable[[], object] | None = None
    supports_row_weights: bool = True

    def __post_init__(self) -> None:
        if self.input not in ("counts", "documents"):
            raise ValueError(f"input must be 'counts' or 'documents', got {self.input!r}")

    @classmethod
    def from_estimator(
        cls,
        estimator: BaseEstimator,
        name: str | None = None,
        ngram_range: tuple[int, int] = (1, 1),
        input: Literal["counts", "documents"] = "counts",
    ) -> ModelSpec:
        """Wrap any scikit-learn classifier or pipeline that accepts a sparse count matrix
        (or, with ``input="documents"``, a sequence of documents)."""
        from sklearn.base import clone

        template = clone(estimator)

        def make(random_state: int) -> BaseEstimator:
            est = clone(template)
            seeds = {k: random_state for k in est.get_params() if k.endswith("random_state")}
            return est.set_params(**seeds)

        return cls(name or type(estimator).__name__, make, ngram_range, input=input)


def _seed_rf(random_state: int, n_estimators: int = 1000) -> BaseEstimator:
    # The original study's forest; n_jobs=1 because the runner parallelises trajectories.
    from sklearn.ensemble import RandomForestClassifier

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
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfTransformer(sublinear_tf=True),
        LogisticRegression(C=1.0, solver="liblinear", dual=dual, random_state=random_state),
    )


def _logreg_primal(random_state: int) -> BaseEstimator:
    # logreg of modelcollapse 0.1, kept to reproduce its numbers (a test review or two differ).
    return _logreg(random_state, dual=False)


def _logreg_pruned(random_state: int) -> BaseEstimator:
    # logreg on the terms at least 2 training reviews use (CountVectorizer's min_df=2): on
    # real-sized corpora most bigram types occur once (docs/benchmarks.md, issue #15).
    from sklearn.pipeline import make_pipeline

    from modelcollapse.pruning import MinDocumentFrequency

    logreg = _logreg(random_state)
    return make_pipeline(MinDocumentFrequency(min_df=2), *(step for _, step in logreg.steps))


def _nb(random_state: int) -> BaseEstimator:
    from sklearn.naive_bayes import MultinomialNB

    return MultinomialNB()


def _fast_rf(random_state: int) -> BaseEstimator:
    # seed-rf with 300 of its 1,000 trees: see docs/benchmarks.md for its accuracy against seed-rf.
    return _seed_rf(random_state, n_estimators=300)


def _fasttext(random_state: int) -> BaseEstimator:
    from modelcollapse.textmodels import FastTextClassifier

    return FastTextClassifier(random_state=random_state)


def _fasttext_available() -> None:
    from modelcollapse.textmodels import import_fasttext

    import_fasttext()


def _hashing(random_state: int) -> BaseEstimator:
    from modelcollapse.textmodels import hashing_sgd

    return hashing_sgd(random_state)


MODELS: Registry[ModelSpec] = Registry("models", "model", "--model")
MODELS.register(
    "seed-rf",
    ModelSpec(
        "seed-rf",
        _seed_rf,
        (1, 1),
        "the original study's random forest: 1,000 trees, depth 20, no bootstrap",
    ),
)
MODELS.register(
    "fast-rf",
    ModelSpec(
        "fast-rf",
        _fast_rf,
        (1, 1),
        "seed-rf with 300 trees (within 0.5 points of seed-rf, docs/benchmarks.md)",
    ),
)
MODELS.register(
    "logreg",
    ModelSpec(
        "logreg",
        _logreg,
        (1, 2),
        "sublinear TF-IDF + L2 logistic regression (C = 1), liblinear's dual solver, the one"
        " LIBLINEAR recommends when terms outnumber documents",
    ),
)
MODELS.register(
    "logreg-primal",
    ModelSpec(
        "logreg-primal",
        _logreg_primal,
        (1, 2),
        "logreg solved by liblinear's primal Newton method, 2x slower: logreg of 0.1.0"
        " (accuracies differ by a test review or two)",
    ),
)
MODELS.register(
    "logreg-pruned",
    ModelSpec(
        "logreg-pruned",
        _logreg_pruned,
        (1, 2),
        "logreg on the terms that at least 2 of its training reviews use (CountVectorizer's"
        " min_df=2): a smaller model and fit where most bigrams occur once (the full corpus);"
        " its numbers differ from logreg's",
    ),
)
MODELS.register(
    "nb",
    ModelSpec("nb", _nb, (1, 1), "multinomial naive Bayes"),
)
MODELS.register(
    "fasttext",
    ModelSpec(
        "fasttext",
        _fasttext,
        (1, 2),
        "fastText supervised (Joulin et al. 2016) on token text: word bigrams, 10 hidden units,"
        " 5 epochs, lr 0.1, softmax, one thread; cannot weight rows (`--model-weight` 0 or 1"
        " only); needs `pip install 'modelcollapse[fasttext]'`",
        input="documents",
        check=_fasttext_available,
        # fastText's trainer has no per-example weight; repeating rows would weight only by
        # integers, so a fractional --model-weight could not be honoured faithfully.
        supports_row_weights=False,
    ),
)
MODELS.register(
    "hashing",
    ModelSpec(
        "hashing",
        _hashing,
        (1, 2),
        "token text hashed into 2^20 columns (one sign, counts, L2-normalised, no IDF) +"
        " logistic regression by SGD (alpha 1e-5, 20 epochs): no vocabulary, so it streams",
        input="documents",
    ),
)


def check_row_weights(model: ModelSpec, model_weight: float, where: str = "--model-weight") -> None:
    """Refuse a model weight other than 0 or 1 for a model that cannot weight rows.

    0 leaves the model-labelled rows out and 1 weights every row alike, so neither needs
    weights; anything else would need them.
    """
    from modelcollapse.errors import UserError

    if model_weight not in (0.0, 1.0) and not model.supports_row_weights:
        raise UserError(
            f"'{model.name}' cannot weight rows, so the model weight must be 0 or 1 "
            f"(got {model_weight:g}); nothing was run",
            where,
        )


def models_table() -> str:
    """The registered models as a Markdown table (README.md holds it between markers)."""
    lines = ["| `--model` | input | n-grams | what it is |", "|---|---|---|---|"]
    for name, spec in MODELS.items():
        low, high = spec.ngram_range
        grams = f"{low}" if low == high else f"{low}-{high}"
        lines.append(f"| `{name}` | {spec.input} | {grams} | {spec.description} |")
    return "\n".join(lines) + "\n"


def describe_model(spec: ModelSpec) -> str:
    """The estimator a spec builds, as scikit-learn prints it: recorded with each run.

    A resumed run checks it, so a changed model definition (another package version, another
    solver) never mixes into a run directory. Memory addresses of callables are dropped.
    """
    text = " ".join(repr(spec.make(0)).split())  # one line: it can appear in an error
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


def get_model(model: str | ModelSpec | BaseEstimator) -> ModelSpec:
    """A registered name, a ready spec, or any scikit-learn classifier; a model that cannot run
    here (its ``check`` fails: an optional package missing) is a UserError."""
    from sklearn.base import BaseEstimator

    if isinstance(model, ModelSpec):
        spec = model
    elif isinstance(model, BaseEstimator):
        return ModelSpec.from_estimator(model)
    else:
        spec = MODELS.get(model)
    if spec.check is not None:
        spec.check()
    return spec
