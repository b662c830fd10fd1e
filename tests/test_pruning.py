"""logreg-pruned: logreg on the terms at least 2 training reviews use, as CountVectorizer's
min_df=2 would give them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.features.vectorize import featurize, restrict_to_vocabulary
from modelcollapse.loop import SelfLabellingLoop
from modelcollapse.models import get_model
from modelcollapse.pruning import MinDocumentFrequency


def test_pruned_logreg_equals_countvectorizer_min_df_2():
    corpus = make_demo_corpus(n=600, seed=3)
    features = featurize(corpus, "fast", (1, 2), use_cache=False)
    train, test = np.arange(400), np.arange(400, 600)
    _, (X_train, X_test) = restrict_to_vocabulary(features.X[train], features.X[test])
    y = features.labels
    est = get_model("logreg-pruned").make(0).fit(X_train, y[train])

    docs = np.asarray(features.documents, dtype=object)
    vectorizer = CountVectorizer(
        tokenizer=str.split, token_pattern=None, lowercase=False, ngram_range=(1, 2), min_df=2
    )
    reference = make_pipeline(
        vectorizer,
        TfidfTransformer(sublinear_tf=True),
        LogisticRegression(solver="liblinear", dual=True, random_state=0),
    ).fit(docs[train], y[train])
    kept = est.steps[0][1].columns_
    assert 0 < len(kept) < X_train.shape[1]  # it pruned, and kept something
    assert len(kept) == len(vectorizer.vocabulary_)
    np.testing.assert_allclose(
        est.predict_proba(X_test), reference.predict_proba(docs[test]), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_array_equal(est.predict(X_test), reference.predict(docs[test]))


def test_min_document_frequency_counts_rows_not_occurrences():
    X = sp.csr_matrix(np.array([[5, 1, 0, 0], [0, 1, 0, 2], [0, 0, 0, 1]], dtype=np.int32))
    step = MinDocumentFrequency(min_df=2).fit(X)
    np.testing.assert_array_equal(step.columns_, [1, 3])  # column 0: 5 times, but one row
    np.testing.assert_array_equal(step.transform(X).toarray(), [[1, 0], [1, 2], [0, 1]])
    assert MinDocumentFrequency(min_df=1).fit(X).columns_.tolist() == [0, 1, 3]
    with pytest.raises(ValueError, match="min_df"):
        MinDocumentFrequency(min_df=0).fit(X)


def test_the_loop_runs_it_fast_or_plain_alike():
    corpus = make_demo_corpus(n=700, seed=5)
    X, y = featurize(corpus, "fast", (1, 2), use_cache=False).X, corpus.labels
    runs = []
    for fast in (True, False):
        loop = SelfLabellingLoop("logreg-pruned", [100, 200, 300], 0.5, 1, fast=fast)
        loop.fit(X[:400], y[:400], X[400:], y[400:])
        runs.append([r.accuracy for r in loop.history_])
    assert runs[0] == runs[1]
    assert all(0.5 < a <= 1 for a in runs[0])
