"""The generations and generative studies run models that read token text (hashing, fastText):
no count matrix is built for them; the search mutates their own hyper-parameters and the
generative loop hands them the written reviews' tokens."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from kclass_corpus import kclass_corpus
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.pipeline import make_pipeline
from test_text_models import documents

from modelcollapse.experiments.config import load_config
from modelcollapse.experiments.generations import GenerationalSearch, param_space
from modelcollapse.experiments.plan import build_plan
from modelcollapse.features.tokenize import tokenize
from modelcollapse.generative import GenerativeLoop
from modelcollapse.models import MODELS, ModelSpec
from modelcollapse.textmodels import FastTextClassifier


def _small_fasttext(random_state: int) -> FastTextClassifier:
    # fastText with 100,000 bigram buckets instead of 2,000,000 (a twentieth of the memory to
    # allocate per fit) and more passes, so that it learns from a hundred short texts.
    return FastTextClassifier(epoch=20, lr=0.5, bucket=100_000, random_state=random_state)


FASTTEXT = ModelSpec("fasttext-small", _small_fasttext, (1, 2), input="documents")
# The hashing model's pipeline with 2^12 columns instead of 2^20: the same steps and
# parameter space, fits in milliseconds on a few hundred texts.
HASHING = ModelSpec.from_estimator(
    make_pipeline(
        HashingVectorizer(n_features=2**12, alternate_sign=False, ngram_range=(1, 2),
                          tokenizer=str.split, token_pattern=None, lowercase=False),
        SGDClassifier(loss="log_loss", alpha=1e-5, max_iter=20, tol=None),
    ),
    name="hashing-small",
    input="documents",
)  # fmt: skip


def test_every_registered_model_can_be_bred():
    for name, spec in MODELS.items():
        assert param_space(spec.make(0)), name
    assert [r.name for r in param_space(MODELS["hashing"].make(0))] == ["sgdclassifier__alpha"]
    assert [r.name for r in param_space(FastTextClassifier())] == ["lr", "epoch"]


@pytest.mark.parametrize("preset", ["generations", "generative"])
@pytest.mark.parametrize("model", ["hashing", "fasttext"])
def test_the_studies_plan_documents_models(preset, model):
    assert build_plan(load_config(preset), 10_000_000, model=MODELS[model])


def search(spec: ModelSpec, rate: float) -> pd.DataFrame:
    docs, y = documents(500, 5)  # short texts: a few class words among fillers
    validation, test = np.arange(100), np.arange(100, 200)
    samples = [np.arange(200 + g * 100, 300 + g * 100) for g in range(3)]
    found = GenerationalSearch(spec, rate, population=2, keep=1, random_state=4)
    found.fit(docs, (y == "spam").astype(np.int8), samples, validation, test,
              np.random.default_rng(1).random(100))  # fmt: skip
    return pd.DataFrame(found.records_)


@pytest.mark.parametrize("model", ["hashing", "fasttext"])
def test_generations_breed_a_documents_model(model):
    if model == "fasttext":
        pytest.importorskip("fasttext")
    spec = FASTTEXT if model == "fasttext" else HASHING
    table = search(spec, rate=1.0)
    children = table.loc[~table["stopped"].astype(bool)]
    assert children["generation"].max() >= 1  # bred at least once
    params = children["hyperparameters"].map(json.loads)
    assert params.map(lambda p: tuple(p.values())).nunique() > 1  # mutated
    assert children.loc[children["generation"] == 0, "accuracy"].max() > 0.8
    later = children.loc[children["generation"] > 0]
    # Rate 1: a parent labels the whole sample from its token text; mostly right.
    assert (later["n_model_labelled"] == 100).all()
    assert (later["model_label_accuracy"] > 0.7).all()


def test_the_generative_loop_hands_a_documents_model_the_written_tokens():
    spec = HASHING
    corpus = kclass_corpus()  # four topics of real text
    docs = [" ".join(t) for t in tokenize(corpus.texts, "fast")]
    order = np.random.default_rng(2).permutation(len(docs))
    train, test = order[:300], order[300:450]
    loop = GenerativeLoop(spec, generations=1, regime="replace", random_state=1)
    loop.fit([docs[i] for i in train], corpus.labels[train], [docs[i] for i in test],
             corpus.labels[test], n_classes=4)  # fmt: skip
    table = pd.DataFrame(loop.history_records()).set_index("step")
    assert list(table.index) == [0, 1]
    assert table.loc[0, "accuracy"] > 0.4  # chance is about 0.25
    assert table["pred_tv_distance"].notna().all()
    # Generation 0's classifier read the written reviews' tokens to judge their labels.
    assert 0.25 < table.loc[1, "label_consistency"] <= 1
    assert table.loc[0, "model_labelled_share"] == 0 and table.loc[1, "model_labelled_share"] == 1
