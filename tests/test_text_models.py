"""Models that read token text: fastText and the hashing model learn, repeat under a seed, and
go through the loop on documents, with no count matrix built for them."""

from __future__ import annotations

import sys
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

from modelcollapse.cli import main
from modelcollapse.core.options import LoopOptions
from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.errors import UserError
from modelcollapse.features import vectorize
from modelcollapse.features.vectorize import featurize
from modelcollapse.inputs import model_input
from modelcollapse.loop import SelfLabellingLoop
from modelcollapse.models import MODELS, ModelSpec, get_model
from modelcollapse.textmodels import FastTextClassifier

WORDS = {
    "spam": ["win", "prize", "free", "cash", "click", "offer"],
    "ham": ["meeting", "lunch", "report", "tomorrow", "thanks", "notes"],
    "news": ["election", "minister", "vote", "budget", "policy", "court"],
}
FILLER = ["the", "a", "is", "on", "for", "you", "we", "this", "and", "to"]


def documents(n: int, seed: int, classes=("spam", "ham")) -> tuple[np.ndarray, np.ndarray]:
    """Short texts of 3 class words and 5 fillers, 10 % of the class words from another class."""
    rng = np.random.default_rng(seed)
    y = rng.choice(np.array(classes), size=n)
    docs = np.empty(n, dtype=object)
    for i, label in enumerate(y):
        words = [
            rng.choice(WORDS[label if rng.random() > 0.1 else rng.choice(classes)])
            for _ in range(3)
        ]
        words += list(rng.choice(FILLER, size=5))
        rng.shuffle(words)
        docs[i] = " ".join(words)
    return docs, y


TINY_STUDY = """
name = "tiny"
model = "nb"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 200
increment = 200
max_size = 400
rates = [0.0, 1.0]
test_size = 300
repeats = 1

[[study]]
name = "collapse"
kind = "total-collapse"
spacing = "geometric"
max_size = 400
ratio = 0.5
n_sizes = 2
rates = [1.0]
test_size = 300
repeats = 1
"""


def timeless(loop: SelfLabellingLoop) -> pd.DataFrame:
    return pd.DataFrame([asdict(r) for r in loop.history_]).filter(regex=r"^(?!.*_seconds$)")


@pytest.fixture
def fasttext_installed():
    pytest.importorskip("fasttext")


def _small_fasttext(random_state: int) -> FastTextClassifier:
    # The registered model with 100,000 bigram buckets, not 2,000,000: the same algorithm,
    # a twentieth of the memory to allocate per fit (these texts have a few hundred bigrams).
    return FastTextClassifier(bucket=100_000, random_state=random_state)


SPECS = {
    "fasttext": ModelSpec("fasttext-small", _small_fasttext, (1, 2), input="documents"),
    "hashing": MODELS["hashing"],
}


@pytest.mark.parametrize("classes", [("spam", "ham"), ("spam", "ham", "news")])
def test_fasttext_learns_any_labels_with_probabilities(fasttext_installed, classes):
    X, y = documents(1500, 0, classes)
    est = FastTextClassifier(epoch=20, lr=0.5, bucket=100_000, random_state=3)
    est.fit(X[:1000], y[:1000])
    assert list(est.classes_) == sorted(classes)
    proba = est.predict_proba(X[1000:])
    assert proba.shape == (500, len(classes))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert np.array_equal(est.predict(X[1000:]), est.classes_[proba.argmax(axis=1)])
    # 10 % of class words are another class's: a model that learned them gets about 95 % right.
    assert np.mean(est.predict(X[1000:]) == y[1000:]) > 0.85


def test_fasttext_defaults_are_the_papers_bigram_model():
    est = get_model("fasttext").make(0) if "fasttext" in sys.modules else FastTextClassifier()
    params = est.get_params()
    assert params["word_ngrams"] == 2 and params["dim"] == 10 and params["epoch"] == 5
    assert MODELS["fasttext"].input == "documents" == MODELS["hashing"].input


@pytest.mark.parametrize("model", ["fasttext", "hashing"])
def test_same_seed_same_model_other_seed_another(model):
    if model == "fasttext":
        pytest.importorskip("fasttext")
    X, y = documents(800, 1)
    spec = SPECS[model]
    first = spec.make(11).fit(X[:500], y[:500]).predict_proba(X[500:])
    again = spec.make(11).fit(X[:500], y[:500]).predict_proba(X[500:])
    other = spec.make(12).fit(X[:500], y[:500]).predict_proba(X[500:])
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("model", ["fasttext", "hashing"])
def test_the_loop_runs_a_documents_model_and_repeats_under_a_seed(model):
    if model == "fasttext":
        pytest.importorskip("fasttext")
    X, labels = documents(900, 2)
    y = (labels == "spam").astype(np.int8)
    options = LoopOptions(label_policy="sample")
    loops = [
        SelfLabellingLoop(SPECS[model], [100, 300, 600], 0.5, 4, options).fit(
            X[:600], y[:600], X[600:], y[600:]
        )
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(timeless(loops[0]), timeless(loops[1]), check_exact=True)
    history = loops[0].history_
    assert [r.n_model_labelled for r in history] == [0, 100, 250]
    assert history[-1].accuracy > 0.7


def test_documents_reach_the_model_as_the_same_rows_counts_do():
    """A pipeline that counts the documents itself gives the counts model's history exactly:
    the loop picks, labels and scores the same rows on either path."""
    corpus = make_demo_corpus(n=900, seed=5)
    features = featurize(corpus, "fast", use_cache=False)
    docs = model_input(features, ModelSpec("d", MultinomialNB, input="documents"))
    assert docs.dtype == object and docs[0] == features.documents[0]

    def counting_nb(random_state: int):
        return make_pipeline(
            CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False),
            MultinomialNB(),
        )

    text_nb = ModelSpec("text-nb", counting_nb, input="documents")
    y = features.labels
    options = LoopOptions(label_policy="sample", regime="replace", window=200)
    runs = {}
    for name, spec, X in (("counts", get_model("nb"), features.X), ("docs", text_nb, docs)):
        loop = SelfLabellingLoop(spec, [200, 400, 600], 0.5, 9, options)
        runs[name] = timeless(loop.fit(X[:600], y[:600], X[600:], y[600:]))
    pd.testing.assert_frame_equal(runs["counts"], runs["docs"], rtol=1e-9)


def test_the_documents_path_counts_nothing(small_reviews, tmp_path, monkeypatch):
    class NoCounting:
        def __init__(self, *args, **kwargs):
            raise AssertionError("a count matrix was built")

    corpus = make_demo_corpus(n=300, seed=1)
    counted = featurize(corpus, "fast", use_cache=False)
    monkeypatch.setattr(vectorize, "_Counter", NoCounting)
    for use_cache in (False, True, True):  # the second cached call reads the token cache
        features = featurize(corpus, "fast", use_cache=use_cache, counts=False)
        assert features.X is None and features.n_rows == 300
        assert features.documents == counted.documents
        assert features.labels.tolist() == counted.labels.tolist()
    # A whole run through the command line: a rates study and a total-collapse study.
    config = tmp_path / "tiny.toml"
    config.write_text(TINY_STUDY, encoding="utf-8")
    argv = ["run", str(config), "--data", str(small_reviews), "--model", "hashing"]
    assert main([*argv, "--out", str(tmp_path / "run"), "--no-report"]) == 0
    table = pd.read_parquet(tmp_path / "run" / "results")
    assert table["trajectory"].nunique() == 4 and set(table["model"]) == {"hashing"}


def test_a_model_gets_the_input_it_reads():
    corpus = make_demo_corpus(n=300, seed=1)
    features = featurize(corpus, "fast", use_cache=False)
    X, y = features.X, features.labels
    with pytest.raises(TypeError, match="token text"):
        SelfLabellingLoop("hashing", [100], 0.0).fit(X[:200], y[:200], X[200:], y[200:])
    docs = features.document_array
    with pytest.raises(TypeError, match="count matrix"):
        SelfLabellingLoop("nb", [100], 0.0).fit(docs[:200], y[:200], docs[200:], y[200:])
    documents_only = featurize(corpus, "fast", use_cache=False, counts=False)
    with pytest.raises(ValueError, match="documents only"):
        model_input(documents_only, get_model("nb"))


def test_missing_fasttext_is_one_line_naming_the_extra(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "fasttext", None)  # import fails as if not installed
    with pytest.raises(UserError, match=r"--model.*modelcollapse\[fasttext\]"):
        get_model("fasttext")
    assert main(["run", "demo", "--model", "fasttext", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "pip install 'modelcollapse[fasttext]'" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_fasttext_refuses_row_weights(fasttext_installed):
    X, y = documents(100, 3)
    est = FastTextClassifier(bucket=1000)
    est.fit(X, y, sample_weight=np.ones(100))  # uniform: no weights at all
    with pytest.raises(UserError, match="--model-weight"):
        est.fit(X, y, sample_weight=np.r_[np.ones(50), np.full(50, 0.5)])
