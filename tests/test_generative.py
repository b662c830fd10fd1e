"""Models that write the reviews: the trigram model, diversity metrics, the loop, a CLI run."""

import numpy as np
import pandas as pd
import pytest

from modelcollapse.cli import main
from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.features.tokenize import tokenize
from modelcollapse.features.vectorize import featurize
from modelcollapse.generative import (
    UNK,
    ClassConditionalLM,
    GenerativeLoop,
    TrigramLM,
    distinct_n,
    text_diversity,
)

TINY = ["the cat sat", "the cat ran", "a dog sat down", "the dog ran far", "a cat sat down"]


@pytest.fixture(scope="module")
def demo_docs():
    corpus = make_demo_corpus(n=1500, seed=7)
    return [" ".join(t) for t in tokenize(corpus.texts, "fast")], corpus.labels


def next_word_probabilities(lm: TrigramLM, context: tuple[str, ...]) -> np.ndarray:
    """P(w | context) for every w of the vocabulary, read off ``token_log_probs``: the last
    token of ``context + w`` (a context of fewer than two words starts at the review start)."""
    docs = [" ".join([*context, w]) for w in lm.vocabulary_]
    last = np.cumsum([len(d.split()) for d in docs]) - 1
    return np.exp(lm.token_log_probs(docs)[last])


def test_probabilities_sum_to_one_in_every_context():
    words = {t for doc in TINY for t in doc.split()}
    lm = TrigramLM(vocabulary=[*words, "zebra"]).fit(TINY)  # zebra: only the floor covers it
    assert lm.vocabulary_[-1] == UNK and "zebra" in lm.vocabulary_ and "cat" in lm.vocabulary_
    # a seen trigram context, a seen bigram only, the review start, unseen words
    for context in [("the", "cat"), ("dog", "cat"), (), ("a",), ("zebra", "moon")]:
        p = next_word_probabilities(lm, context)
        assert p.shape == (len(lm.vocabulary_),)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert (p > 0).all()
    seen = next_word_probabilities(lm, ("the", "cat"))
    words = lm.vocabulary_
    assert seen[words.index("sat")] > seen[words.index("dog")]  # what followed beats what did not


def test_samples_follow_the_model():
    lm = TrigramLM().fit(TINY)
    rng = np.random.default_rng(0)
    first = [doc for doc in lm.generate([1] * 40_000, rng)]
    p = np.where(lm.seen_, next_word_probabilities(lm, ()), 0.0)
    p /= p.sum()  # generation is the model conditioned on words seen in training
    counts = pd.Series(first).value_counts(normalize=True)
    observed = np.array([counts.get(w, 0.0) for w in lm.vocabulary_])
    assert np.abs(observed - p).max() < 0.01


def test_perplexity_is_finite_and_lowest_on_the_training_text(demo_docs):
    docs, _ = demo_docs
    train, held_out = docs[:1000], docs[1000:]
    lm = TrigramLM().fit(train)
    rng = np.random.default_rng(1)
    shuffled = [" ".join(rng.permutation(d.split())) for d in train]
    on_train, on_held, on_shuffled = (lm.perplexity(d) for d in (train, held_out, shuffled))
    assert np.isfinite([on_train, on_held, on_shuffled]).all()
    assert on_train < on_held < on_shuffled
    assert np.isfinite(lm.perplexity(["words never seen anywhere qqq"]))


def test_generated_text_uses_only_training_words_at_the_asked_lengths(demo_docs):
    docs, labels = demo_docs
    train, y = docs[:400], labels[:400]
    vocabulary = {t for d in docs for t in d.split()}  # wider than the training text
    model = ClassConditionalLM(sorted(vocabulary)).fit(train, y)
    lengths = np.arange(len(y)) % 40
    out = model.generate(y, lengths, np.random.default_rng(2))
    assert [len(d.split()) for d in out] == lengths.tolist()
    written = {t for d in out for t in d.split()}
    for c in (0, 1):  # each class writes only words its own training reviews hold
        own = {t for d, label in zip(train, y, strict=True) if label == c for t in d.split()}
        mine = {t for d, label in zip(out, y, strict=True) if label == c for t in d.split()}
        assert mine <= own
    assert UNK not in written
    again = model.generate(y, lengths, np.random.default_rng(2))
    assert again == out


def test_diversity_metrics_on_hand_made_text():
    assert distinct_n(["a b a b"], 1) == 0.5
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["a b", "b a"], 2) == 1.0  # no n-gram spans two reviews
    assert np.isnan(distinct_n(["a", "b"], 2))
    d = text_diversity(["a b c", "a a x"], rare={"x", "c"})
    assert d["vocabulary_size"] == 4 and d["rare_word_share"] == pytest.approx(2 / 6)


def test_features_hand_out_the_tokens_cached_or_not():
    corpus = make_demo_corpus(n=60, seed=3)
    expected = [" ".join(tokens) for tokens in tokenize(corpus.texts, "fast")]
    assert featurize(corpus, "fast", use_cache=False).documents == expected
    assert featurize(corpus, "fast").documents == expected  # read back from the token cache


@pytest.fixture(scope="module")
def both_regimes(demo_docs):
    docs, labels = demo_docs
    out = {}
    for regime in ("replace", "accumulate"):
        loop = GenerativeLoop("nb", generations=4, regime=regime, random_state=5)
        loop.fit(docs[:800], labels[:800], docs[1000:], labels[1000:])
        out[regime] = pd.DataFrame(loop.history_records()).set_index("step")
    return out


def test_replace_loses_diversity_faster_than_accumulate(both_regimes):
    rep, acc = both_regimes["replace"], both_regimes["accumulate"]
    # Paired: generation 1 is the same text in both regimes, written from the real reviews.
    shared = ["distinct_1", "distinct_2", "vocabulary_size", "rare_word_share"]
    pd.testing.assert_frame_equal(rep.loc[[0, 1], shared], acc.loc[[0, 1], shared])
    assert (np.diff(rep["vocabulary_size"]) < 0).all()  # what is not written is gone for good
    for metric in ("vocabulary_size", "distinct_1", "rare_word_share"):
        assert rep[metric].iloc[-1] < acc[metric].iloc[-1], metric
    assert rep["perplexity"].iloc[-1] > acc["perplexity"].iloc[-1] > rep["perplexity"].iloc[0]
    assert rep["train_size"].tolist() == [800] * 5
    assert acc["train_size"].tolist() == [800, 1600, 2400, 3200, 4000]
    assert acc["model_labelled_share"].iloc[-1] == pytest.approx(0.8)


def test_generative_loop_is_deterministic(demo_docs, both_regimes):
    docs, labels = demo_docs
    loop = GenerativeLoop("nb", generations=4, regime="replace", random_state=5)
    loop.fit(docs[:800], labels[:800], docs[1000:], labels[1000:])
    again = pd.DataFrame(loop.history_records()).set_index("step")
    timing = ["fit_seconds", "generate_seconds"]
    pd.testing.assert_frame_equal(
        again.drop(columns=timing), both_regimes["replace"].drop(columns=timing)
    )


SMALL = """
name = "gen-small"
model = "logreg"
tokenizer = "fast"

[[study]]
name = "write"
kind = "generative"
sample_size = 500
generations = 2
regimes = ["replace", "accumulate"]
test_size = 300
repeats = 2
"""


def test_cli_runs_a_generative_study(tmp_path, small_reviews, capsys):
    config = tmp_path / "gen.toml"
    config.write_text(SMALL)
    out = tmp_path / "run"
    argv = ["run", str(config), "--data", str(small_reviews), "--out", str(out)]
    assert main(argv) == 0
    table = pd.concat(pd.read_parquet(f) for f in sorted((out / "results").glob("*.parquet")))
    # The summary: per regime, generation 0 and the last generation, not a table of NaN rates.
    printed = capsys.readouterr().out
    assert "mean test accuracy by generation" in printed and "nan" not in printed.lower()
    for regime, last_size in (("accumulate", "1,500"), ("replace", "500")):
        rows = table.loc[table["regime"] == regime]
        first = rows.loc[rows["step"] == 0, "accuracy"].mean()
        last = rows.loc[rows["step"] == 2, "accuracy"].mean()
        vocab = rows.groupby("step")["vocabulary_size"].mean()
        line = next(line for line in printed.splitlines() if f" {regime} " in line)
        assert line.split() == [
            "write", regime, "2", f"{first:.4f}", "2", last_size, f"{last:.4f}",
            f"{vocab[0]:,.0f}→{vocab[2]:,.0f}",
        ]  # fmt: skip
    assert len(table) == 2 * 2 * 3 and table["trajectory"].nunique() == 4
    assert set(table["regime"]) == {"replace", "accumulate"}
    for column in ["experiment", "kind", "rate", "step", "train_size", "accuracy",
                   "predicted_positive_rate", "test_positive_rate", "n_test", "fit_seconds",
                   "distinct_1", "distinct_2", "vocabulary_size", "rare_word_share",
                   "perplexity", "n_texts"]:  # fmt: skip
        assert column in table.columns, column
    assert table["rate"].isna().all() and (table["n_test"] == 300).all()
    assert table["seed_group"].eq("write").all()
    assert np.isfinite(table["perplexity"]).all()
    # Workers in other processes read the tokens from the cache: the same table.
    assert main([*argv[:-1], str(tmp_path / "two"), "--jobs", "2"]) == 0
    capsys.readouterr()
    timing = ["fit_seconds", "generate_seconds", "predict_seconds"]
    key = ["trajectory", "step"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "two" / "results").sort_values(key, ignore_index=True)
        .drop(columns=timing),
        table.sort_values(key, ignore_index=True).drop(columns=timing),
    )  # fmt: skip


def test_the_generative_preset_prints_a_summary_per_regime(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "generative", "--data", "demo", "--scale", "0.02", "--repeats", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "generative: mean test accuracy by generation" in printed
    rows = [line.split() for line in printed.splitlines() if line.startswith(" generative ")]
    assert [row[1] for row in rows] == ["accumulate", "replace"]
    assert [row[5] for row in rows] == ["880", "80"]  # 80 reviews x 11 generations, or 80
    assert all(row[4] == "10" for row in rows)  # the last generation
