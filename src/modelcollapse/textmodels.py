"""Classifiers that read token text (documents), not a count matrix.

A document is a review's tokens joined by single spaces (``Features.documents``). Models here
take a sequence of documents as ``X`` and follow scikit-learn's estimator API, so the loop,
the label policies and the metrics treat them as any other classifier.

- :class:`FastTextClassifier`: fastText supervised (Joulin et al. 2016, "Bag of Tricks for
  Efficient Text Classification", arXiv:1607.01759), through the ``fasttext`` package (the
  ``fasttext`` extra). fastText is deterministic only with one thread: ``thread=1`` always.
- :func:`hashing_sgd`: a HashingVectorizer + SGD logistic regression, which needs no vocabulary.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.pipeline import Pipeline

from modelcollapse.errors import UserError

FASTTEXT_INSTALL = "pip install 'modelcollapse[fasttext]'"


def import_fasttext():
    """The ``fasttext`` module, or a one-line error naming the extra that installs it."""
    try:
        import fasttext
    except ImportError:
        raise UserError(
            f"the fastText model needs the fasttext package: {FASTTEXT_INSTALL}", "--model"
        ) from None
    return fasttext


def _line(doc: str) -> str:
    # fastText reads one example per line and treats "__label__" words as labels.
    return " ".join(w for w in str(doc).split() if not w.startswith("__label__"))


class FastTextClassifier(ClassifierMixin, BaseEstimator):
    """fastText supervised as a scikit-learn classifier over documents.

    Defaults are the paper's sentiment set-up: 10 hidden units, 5 epochs, word bigrams
    (``word_ngrams=2``), softmax loss; learning rate 0.1 (the paper picks one of 0.05, 0.1,
    0.25, 0.5 on a validation set; we fix fastText's default rather than tune on the test set).
    ``min_count=1`` and 2,000,000 hash buckets for the bigrams are fastText's defaults.
    ``thread=1`` and ``seed``: the same documents, labels and seed give the same model.

    ``predict_proba`` is fastText's probability of every label (``k = -1``), renormalised
    to sum to 1 (fastText rounds each to float32); ``predict`` its argmax.
    """

    def __init__(
        self,
        dim: int = 10,
        epoch: int = 5,
        lr: float = 0.1,
        word_ngrams: int = 2,
        min_count: int = 1,
        bucket: int = 2_000_000,
        loss: str = "softmax",
        random_state: int = 0,
    ) -> None:
        self.dim = dim
        self.epoch = epoch
        self.lr = lr
        self.word_ngrams = word_ngrams
        self.min_count = min_count
        self.bucket = bucket
        self.loss = loss
        self.random_state = random_state

    def fit(self, X: Sequence[str], y, sample_weight=None) -> FastTextClassifier:
        if sample_weight is not None and np.ptp(np.asarray(sample_weight, dtype=float)) > 0:
            raise UserError(
                "fastText cannot weight rows; use a model weight of 0 or 1 with it",
                "--model-weight",
            )
        fasttext = import_fasttext()
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        index = np.searchsorted(self.classes_, y)
        # fastText trains from a file only; it lives as long as the fit.
        with tempfile.TemporaryDirectory(prefix="modelcollapse-fasttext-") as tmp:
            path = os.path.join(tmp, "train.txt")
            with open(path, "w", encoding="utf-8") as fh:
                for doc, k in zip(X, index, strict=True):
                    fh.write(f"__label__{k} {_line(doc)}\n")
            self.model_ = fasttext.train_supervised(
                input=path,
                dim=self.dim,
                epoch=self.epoch,
                lr=self.lr,
                wordNgrams=self.word_ngrams,
                minCount=self.min_count,
                bucket=self.bucket,
                loss=self.loss,
                thread=1,
                seed=int(self.random_state) % 2**31,
                verbose=0,
            )
        return self

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        # The low-level predict: fasttext's own wrapper fails under NumPy 2 (np.array copy=False)
        # and its multi-line call returns wrong probabilities.
        predict = self.model_.f.predict
        column = {f"__label__{k}": k for k in range(len(self.classes_))}
        proba = np.zeros((len(X), len(self.classes_)))
        for i, doc in enumerate(X):
            for p, label in predict(_line(doc) + "\n", -1, 0.0, "strict"):
                proba[i, column[label]] = p
        total = proba.sum(axis=1, keepdims=True)
        np.divide(proba, total, out=proba, where=total > 0)
        return proba

    def predict(self, X: Sequence[str]) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __getstate__(self):
        # A fitted fastText model does not pickle; an unfitted estimator (a plan) does.
        state = self.__dict__.copy()
        if "model_" in state:
            raise TypeError("a fitted FastTextClassifier cannot be pickled")
        return state


#: The hashing model's definition (``hashing_sgd``): recorded in the models table.
HASHING_FEATURES = 2**20


def hashing_sgd(random_state: int) -> Pipeline:
    """Unigrams and bigrams of the document's tokens hashed into 2^20 columns (no vocabulary,
    so no pass over the corpus and constant memory), raw counts (no IDF: it would need
    document frequencies) with one sign (``alternate_sign=False``: a count stays a count),
    each row L2-normalised; then logistic regression by SGD (log loss, L2, alpha 1e-5,
    20 epochs, shuffled by ``random_state``). Both steps also stream:
    ``HashingVectorizer.transform`` is stateless and ``SGDClassifier.partial_fit`` learns
    a batch at a time."""
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        HashingVectorizer(
            n_features=HASHING_FEATURES,
            alternate_sign=False,
            ngram_range=(1, 2),
            norm="l2",
            analyzer="word",
            tokenizer=str.split,  # documents are tokens joined by spaces: keep them as made
            token_pattern=None,
            lowercase=False,
            dtype=np.float64,
        ),
        SGDClassifier(
            loss="log_loss",
            penalty="l2",
            alpha=1e-5,
            max_iter=20,
            tol=None,  # exactly 20 epochs: no convergence test, no warning
            random_state=random_state,
        ),
    )


__all__ = ["FASTTEXT_INSTALL", "HASHING_FEATURES", "FastTextClassifier", "hashing_sgd"]
