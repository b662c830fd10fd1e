"""The generative study's text measurements against hand computations, scipy and nltk; the
keep-real and mixture designs and generation-0 lengths on tiny corpora; their figures."""

import math

import numpy as np
import pandas as pd
import pytest
from nltk.translate.bleu_score import SmoothingFunction, corpus_bleu, sentence_bleu
from scipy.spatial.distance import jensenshannon

from modelcollapse.generative import ClassConditionalLM, GenerativeLoop
from modelcollapse.report.figures import FIGURES, Study
from modelcollapse.textmetrics import (
    FREQ_RANKS,
    TEXT_COLUMNS,
    histogram_columns,
    js_divergence,
    oov_split,
    perplexity_profile,
    quantile_columns,
    rank_frequency_profile,
    self_bleu,
    tail_mass,
    zipf_slope,
)


def test_perplexity_profile_by_hand():
    profile = perplexity_profile(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    q = dict(zip(quantile_columns(), [1.2, 2.0, 3.0, 4.0, 4.8], strict=True))  # linear
    for name, log_value in q.items():
        assert profile[name] == pytest.approx(math.exp(log_value))
    hist = perplexity_profile(np.array([0.2, -1.0, 0.7, 0.8, 13.0]))
    shares = [hist[c] for c in histogram_columns()]
    assert len(shares) == 24 and sum(shares) == pytest.approx(1.0)
    # [0, 0.5) holds 0.2 and the clipped −1; [0.5, 1) holds 0.7, 0.8; the last bin 13.
    assert shares[0] == 0.4 and shares[1] == 0.4 and shares[-1] == 0.2
    assert all(s == 0 for s in shares[2:-1])


def test_zipf_slope_and_tail_mass_by_hand():
    # counts 60/r for ranks 1..6: frequency ∝ 1/rank exactly, a slope of −1.
    counts = {"a": 60, "b": 30, "c": 20, "d": 15, "e": 12, "f": 10}
    docs = [" ".join(w for w, c in counts.items() for _ in range(c))]
    assert zipf_slope(docs, ranks=(1, 6)) == pytest.approx(-1.0)
    assert zipf_slope(docs, ranks=(2, 6)) == pytest.approx(-1.0)
    assert math.isnan(zipf_slope(["a b"], ranks=(2, 6)))  # one rank: no line
    assert tail_mass(docs, rank=4) == pytest.approx((12 + 10) / 147)
    assert tail_mass(["x x x y z z"], rank=1) == pytest.approx(3 / 6)
    profile = rank_frequency_profile(docs)
    assert profile["rank_freq_00001"] == pytest.approx(60 / 147)
    assert profile["rank_freq_00005"] == pytest.approx(12 / 147)
    assert math.isnan(profile["rank_freq_00010"]) and len(profile) == len(FREQ_RANKS)


def test_js_divergence_by_hand_and_against_scipy():
    assert js_divergence(["a a"], ["b b"]) == pytest.approx(1.0)  # disjoint: 1 bit
    assert js_divergence(["a b", "b a"], ["b a a b"]) == pytest.approx(0.0)
    # p = (½, ½), q = (1, 0), m = (¾, ¼), by the definition.
    kl_p = 0.5 * math.log2(0.5 / 0.75) + 0.5 * math.log2(0.5 / 0.25)
    kl_q = math.log2(1 / 0.75)
    assert js_divergence(["a b"], ["a a"]) == pytest.approx((kl_p + kl_q) / 2)
    # Bigrams stay within reviews: "b c" is no bigram of ["a b", "c d"].
    bigram = js_divergence(["a b", "c d"], ["a b c d"], n=2)
    p = np.array([1, 0, 1]) / 2  # (a b), (b c), (c d)
    q = np.array([1, 1, 1]) / 3
    assert bigram == pytest.approx(jensenshannon(p, q, base=2) ** 2)


def test_self_bleu_matches_nltk_with_method1_smoothing():
    rng = np.random.default_rng(4)
    words = ["a", "b", "c", "d", "e", "f"]
    docs = [" ".join(rng.choice(words, rng.integers(1, 10))) for _ in range(15)]
    tokens = [d.split() for d in docs]
    smooth = SmoothingFunction().method1
    expected = np.mean([
        sentence_bleu(tokens[:i] + tokens[i + 1:], tokens[i], smoothing_function=smooth)
        for i in range(len(tokens))
    ])  # fmt: skip
    assert self_bleu(docs, np.random.default_rng(0), sample_size=15) == pytest.approx(expected)
    # A sample: the same texts nltk gets, drawn from the generator passed in.
    picked = np.random.default_rng(1).choice(15, size=6, replace=False)
    sample = [tokens[i] for i in picked]
    refs = [[t for j, t in enumerate(sample) if j != i] for i in range(6)]
    by_sentence = np.mean([corpus_bleu([r], [h], smoothing_function=smooth)
                           for r, h in zip(refs, sample, strict=True)])  # fmt: skip
    assert self_bleu(docs, np.random.default_rng(1), sample_size=6) == pytest.approx(by_sentence)
    assert self_bleu(["the cat sat on the mat"] * 4, np.random.default_rng(0)) == 1.0
    assert math.isnan(self_bleu(["only one"], np.random.default_rng(0)))


def test_oov_split_by_hand():
    logp = np.log([0.5, 0.25, 0.001, 0.5])
    ppl, oov = oov_split(logp, np.array([True, True, False, True]))
    assert oov == 0.25
    assert ppl == pytest.approx(math.exp(-(2 * math.log(0.5) + math.log(0.25)) / 3))


def test_per_text_perplexity_is_each_reviews_own_under_its_class():
    docs = ["the cat sat", "the cat ran", "a dog sat down", "the dog ran far"]
    y = np.array([0, 0, 1, 1])
    lm = ClassConditionalLM().fit(docs, y)
    texts, labels = ["the cat sat down", "a dog ran"], np.array([1, 0])
    per_text = lm.text_log_perplexities(texts, labels)
    for text, label, value in zip(texts, labels, per_text, strict=True):
        logs = lm.models_[int(label)].token_log_probs([text])
        assert value == pytest.approx(-logs.mean())
    assert lm.in_vocabulary(["the zebra sat"], np.array([0])).tolist() == [True, False, True]


@pytest.fixture(scope="module")
def tiny():
    """Class 0 reviews of 4 tokens, class 1 of 6: lengths tell where they were drawn from."""
    rng = np.random.default_rng(3)
    good, bad = ["good", "great", "fine", "nice", "love"], ["bad", "awful", "poor", "hate", "broke"]
    docs, y = [], []
    for i in range(160):
        label = i % 2
        docs.append(" ".join(rng.choice(bad if label else good, 6 if label else 4)))
        y.append(label)
    return docs[:100], np.array(y[:100]), docs[100:], np.array(y[100:])


def run(tiny, regime, **kwargs):
    loop = GenerativeLoop("nb", 3, regime, 5, **kwargs).fit(*tiny)
    return pd.DataFrame(loop.history_records())


def test_keep_real_keeps_the_stated_share_exactly(tiny):
    for share, kept in ((0.1, 10), (0.25, 25)):
        frame = run(tiny, "keep-real", keep_real_share=share)
        later = frame[frame["step"] > 0]
        assert (later["train_size"] == 100).all() and (later["n_texts"] == 100 - kept).all()
        assert later["model_labelled_share"].tolist() == [1 - kept / 100] * 3
    with pytest.raises(ValueError, match="keep_real_share"):
        run(tiny, "keep-real", keep_real_share=1.0)


def test_mixture_adds_lambda_times_the_real_reviews(tiny):
    frame = run(tiny, "mixture", mixture_lambda=0.5)
    later = frame[frame["step"] > 0]
    assert (later["train_size"] == 150).all() and (later["n_texts"] == 50).all()
    assert later["model_labelled_share"].tolist() == pytest.approx([50 / 150] * 3)


def test_lengths_come_from_generation_0_and_columns_are_recorded(tiny):
    replace = run(tiny, "replace")
    assert set(TEXT_COLUMNS) <= set(replace.columns)
    # Every written review takes a real length of its class: 4 or 6 tokens, half each.
    assert (replace.loc[replace["step"] > 0, "mean_length"] == 5.0).all()
    assert replace["label_consistency"].iloc[1:].between(0, 1).all()
    assert math.isnan(replace["label_consistency"].iloc[0])  # nothing written yet
    assert replace[histogram_columns()].sum(axis=1).to_numpy() == pytest.approx(np.ones(4))
    current = run(tiny, "replace", lengths="current")
    # The first generation draws the same lengths either way (the real corpus is current).
    timing = ["fit_seconds", "generate_seconds"]
    pd.testing.assert_series_equal(replace.drop(columns=timing).iloc[1],
                                   current.drop(columns=timing).iloc[1])  # fmt: skip


def test_the_text_figures_are_drawn_from_the_results(tiny):
    frames = [run(tiny, regime).assign(regime=regime, repeat=0, experiment="gen",
                                       kind="generative", rate=np.nan)
              for regime in ("replace", "accumulate")]  # fmt: skip
    study = Study("gen", "gen", "generative", pd.concat(frames, ignore_index=True))
    for name in ("perplexity-histograms", "rank-frequency-tail", "text-measures"):
        plot = FIGURES.get(name)(study)
        assert plot is not None and plot.figure.axes, name
    old = study.data.drop(columns=list(TEXT_COLUMNS))  # a run from before these columns
    assert FIGURES.get("perplexity-histograms")(Study("gen", "gen", "generative", old)) is None


def test_config_declares_the_designs_and_the_plan_carries_them():
    from modelcollapse.errors import UserError
    from modelcollapse.experiments.config import validate_config
    from modelcollapse.experiments.plan import build_plan

    base = {"name": "g", "kind": "generative", "sample_size": 10, "repeats": 1}
    with pytest.raises(UserError, match="keep_real_share"):
        validate_config({"study": [{**base, "keep_real_share": 1.5}]}, "t")
    with pytest.raises(UserError, match="lengths"):
        validate_config({"study": [{**base, "lengths": "longest"}]}, "t")
    config = validate_config({"study": [{**base, "regimes": ["keep-real", "mixture"],
                                         "keep_real_share": 0.2, "mixture_lambda": 0.5}]}, "t")
    plan = build_plan(config, 1000)
    assert [t.key for t in plan] == ["g/regime=keep-real/repeat=0", "g/regime=mixture/repeat=0"]
    assert plan[0].setting("keep_real_share") == 0.2 and plan[1].setting("mixture_lambda") == 0.5
    assert plan[0].setting("lengths") == "generation-0"
