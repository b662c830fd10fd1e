"""End to end on the real Amazon sample (skips without it, fails under CI without it)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from modelcollapse.cli import main
from modelcollapse.data.readers import read_corpus
from modelcollapse.features import tokenize as tok

pytestmark = pytest.mark.realdata


def test_seed_tokenizer_is_the_original_preprocessing_on_real_reviews(
    real_data_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original study's code, written plainly with NLTK's own lemmatizer, on 2,000 reviews."""
    import nltk.corpus
    import nltk.stem.wordnet
    from nltk.stem import WordNetLemmatizer

    wordnet = tok.wordnet_reader()
    monkeypatch.setattr(nltk.corpus, "wordnet", wordnet)
    monkeypatch.setattr(nltk.stem.wordnet, "wn", wordnet, raising=False)
    lemmatizer = WordNetLemmatizer()
    stop = tok.stopwords()

    def original(text: str) -> list[str]:
        cleaned = re.sub(r"[^a-zA-Z0-9\s]", "", text.lower())
        return [lemmatizer.lemmatize(w) for w in cleaned.split() if w not in stop]

    texts = read_corpus(real_data_path).texts[:2000]
    assert tok.tokenize(texts, "seed") == [original(t) for t in texts]


def test_a_paired_rate_study_on_real_reviews(real_data_path: Path, tmp_path: Path) -> None:
    """A small lower-rates run through the CLI: pairing, plausible accuracy, rate 1 falls behind."""
    out = tmp_path / "run"
    argv = [
        "run", "lower-rates", "--data", str(real_data_path), "--model", "logreg",
        "--tokenizer", "seed", "--initial-size", "1000", "--increment", "1000",
        "--max-size", "4000", "--rates", "0,1", "--repeats", "2", "--jobs", "2",
        "--out", str(out), "--no-report",
    ]  # fmt: skip
    assert main(argv) == 0
    table = pd.read_parquet(out / "results")
    assert len(table) == 2 * 2 * 4
    assert set(table["n_test"]) == {15_980 - 4000}

    first = table[table["step"] == 0]
    # Paired design: at the first step both rates have the same data, so the same accuracy.
    assert first.groupby("repeat")["accuracy"].nunique().eq(1).all()
    assert first["accuracy"].between(0.75, 0.87).all()  # logreg on 1,000 real reviews: ~0.81
    assert table["predicted_positive_rate"].between(0.3, 0.7).all()

    last = table[table["train_size"] == 4000].groupby("rate")
    accuracy = last["accuracy"].mean()
    assert accuracy[0.0] > accuracy[1.0]
    assert (last["n_model_labelled"].max()[1.0], last["n_model_labelled"].max()[0.0]) == (3000, 0)
    assert main(argv) == 0  # resumes: nothing left to run, same table
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results"), table)
