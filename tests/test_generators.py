"""Text generators: the registry, the shared sampling filters (against brute force), the
trigram wrapper (against TrigramLM itself) and the neural generator on a tiny model (its
log-probabilities against an independent numpy forward pass, greedy decoding, training,
determinism)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from modelcollapse.errors import UserError
from modelcollapse.generative import TrigramLM
from modelcollapse.generators import (
    GENERATORS,
    NeuralGenerator,
    NeuralSettings,
    TrigramGenerator,
    draw,
    filtered_probabilities,
)

TEXTS = {
    0: ["the food was bad and cold", "bad bad service", "i hate this place", "cold food"] * 6,
    1: ["the food was great", "great service and warm food", "i love this place"] * 8,
}
TINY = NeuralSettings(
    max_vocabulary=12, embedding=8, hidden=16, layers=2, epochs=15, batch_size=8, learning_rate=0.02
)  # 12 of the 15 words: some text is <unk>


@pytest.fixture(scope="module")
def tiny() -> NeuralGenerator:
    return NeuralGenerator(TINY).fit(TEXTS, seed=3)


# -- numpy reference of the model ------------------------------------------------------------
def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _numpy_logits(params, ids: list[int]) -> np.ndarray:
    """Next-token logits after each prefix of ``ids`` (ids[0] is the class token), float64."""
    p = {k: v for k, v in params.items() if k != "lstm"}
    hs = [np.asarray(p["embed"], np.float64)[i] for i in ids]
    for W, b in params["lstm"]:
        W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
        H = W.shape[1] // 4
        h, c, out = np.zeros(H), np.zeros(H), []
        for x in hs:
            z = np.concatenate([x, h]) @ W + b
            i, f, g, o = np.split(z, 4)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            out.append(h)
        hs = out
    return np.array(hs) @ np.asarray(p["out_W"], np.float64) + np.asarray(p["out_b"], np.float64)


def _ids(gen: NeuralGenerator, text: str) -> list[int]:
    index = {w: i + 1 for i, w in enumerate(gen.vocabulary_)}
    return [index.get(w, 0) for w in text.split()]


def _class_token(gen: NeuralGenerator, label: int) -> int:
    return len(gen.vocabulary_) + 1 + sorted(TEXTS).index(label)


# -- registry --------------------------------------------------------------------------------
def test_the_registry_lists_both_generators_and_names_the_option_on_a_typo():
    assert GENERATORS.names()[:2] == ("trigram", "neural")
    assert GENERATORS.get("neural") is NeuralGenerator
    with pytest.raises(UserError, match=r"^generator: unknown text generator 'lstm'"):
        GENERATORS.get("lstm")


def test_without_jax_fitting_a_neural_generator_is_a_one_line_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    with pytest.raises(UserError, match=r"modelcollapse\[neural\]"):
        NeuralGenerator(TINY).fit(TEXTS)


# -- sampling filters ------------------------------------------------------------------------
def _brute_force(logits, temperature, top_k, top_p):
    """One row at a time, by sorting, as the definitions read."""
    out = []
    for row in logits:
        if temperature == 0:
            p = np.zeros_like(row)
            p[np.argmax(row)] = 1
            out.append(p)
            continue
        p = softmax(row / temperature)
        ranked = sorted(range(len(row)), key=lambda j: (-p[j], j))
        keep = ranked[: top_k or len(row)]
        q = np.zeros_like(p)
        q[keep] = p[keep] / p[keep].sum()
        if top_p is not None:
            mass, nucleus = 0.0, []
            for j in ranked:
                if q[j] == 0 or mass >= top_p:
                    break
                nucleus.append(j)
                mass += q[j]
            r = np.zeros_like(q)
            r[nucleus] = q[nucleus] / q[nucleus].sum()
            q = r
        out.append(q)
    return np.array(out)


@pytest.mark.parametrize(
    ("temperature", "top_k", "top_p"),
    [(1.0, None, None), (0.5, None, None), (2.0, 3, None), (1.0, None, 0.6), (0.7, 4, 0.9),
     (0.0, None, None), (1.0, 1, None), (1.3, 20, 1.0)],
)  # fmt: skip
def test_filters_match_their_definitions(temperature, top_k, top_p):
    logits = np.random.default_rng(0).normal(size=(25, 9)) * 2
    logits[3, [1, 5]] = logits[3].max() + 1  # a tie at the top
    got = filtered_probabilities(logits, temperature, top_k, top_p)
    np.testing.assert_allclose(got, _brute_force(logits, temperature, top_k, top_p), atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=1), 1.0)


def test_temperature_zero_and_top_k_one_are_the_argmax():
    logits = np.random.default_rng(1).normal(size=(50, 7))
    for p in (filtered_probabilities(logits, 0.0), filtered_probabilities(logits, 1.5, top_k=1)):
        assert (draw(p, np.random.default_rng(2)) == logits.argmax(axis=1)).all()


def test_draw_follows_the_probabilities():
    p = np.tile([0.1, 0.0, 0.6, 0.3], (40_000, 1))
    counts = np.bincount(draw(p, np.random.default_rng(4)), minlength=4) / len(p)
    np.testing.assert_allclose(counts, p[0], atol=0.01)  # 4 standard errors at most ~0.01


@pytest.mark.parametrize(
    ("option", "value"), [("temperature", -1.0), ("top_k", 0), ("top_p", 0.0), ("top_p", 1.5)]
)
def test_bad_sampling_options_name_the_option(option, value):
    kwargs = {"temperature": 1.0, "top_k": None, "top_p": None, option: value}
    with pytest.raises(UserError, match=f"^{option}: expected"):
        filtered_probabilities(np.zeros((1, 3)), **kwargs)


# -- the trigram wrapper ---------------------------------------------------------------------
def test_the_trigram_generator_delegates_to_trigram_lm():
    gen = TrigramGenerator().fit(TEXTS)
    texts = ["the food was great", "i hate this unseen place", "bad"]
    for c in TEXTS:
        lm = TrigramLM().fit(TEXTS[c])
        expected = [lm.token_log_probs([t]).sum() for t in texts]
        np.testing.assert_allclose(gen.log_probs(texts, c), expected, rtol=1e-12)
        n = sum(len(t.split()) for t in texts)
        assert gen.perplexity(texts, c) == pytest.approx(np.exp(-np.sum(expected) / n))
        lengths = [3, 6, 1]
        assert gen.sample(c, lengths, np.random.default_rng(9)) == lm.generate(
            lengths, np.random.default_rng(9)
        )
    with pytest.raises(UserError, match=r"^generator: the trigram generator samples"):
        gen.sample(0, [3], np.random.default_rng(0), temperature=0.5)


# -- the neural generator --------------------------------------------------------------------
def test_log_probabilities_match_an_independent_numpy_forward_pass(tiny):
    texts = ["the food was great", "i hate this unseen place", "bad", "great great great food"]
    assert "unseen" not in tiny.vocabulary_ and len(tiny.vocabulary_) == 12
    for c in TEXTS:
        expected = []
        for text in texts:
            ids = _ids(tiny, text)
            logp = log_softmax(_numpy_logits(tiny.params_, [_class_token(tiny, c), *ids[:-1]]), 1)
            expected.append(logp[np.arange(len(ids)), ids].sum())
        np.testing.assert_allclose(tiny.log_probs(texts, c), expected, rtol=1e-5)
        n = sum(len(t.split()) for t in texts)
        assert tiny.perplexity(texts, c) == pytest.approx(np.exp(-np.sum(expected) / n), rel=1e-5)


def test_temperature_zero_and_top_k_one_decode_greedily(tiny):
    for c in TEXTS:
        ids = [_class_token(tiny, c)]
        for _ in range(7):
            logits = _numpy_logits(tiny.params_, ids)[-1]
            logits[0] = -np.inf  # <unk> is never written
            ids.append(int(np.argmax(logits)))
        greedy = " ".join(tiny.vocabulary_[i - 1] for i in ids[1:])
        lengths = [7, 3, 7]
        for options in ({"temperature": 0.0}, {"top_k": 1}, {"temperature": 2.0, "top_k": 1}):
            written = tiny.sample(c, lengths, np.random.default_rng(c), **options)
            assert written == [greedy, " ".join(greedy.split()[:3]), greedy]


def test_sampled_texts_have_the_asked_lengths_and_vocabulary_words(tiny):
    lengths = [0, 1, 5, 12]
    written = tiny.sample(1, lengths, np.random.default_rng(0), temperature=1.5, top_p=0.9)
    assert [len(t.split()) for t in written] == lengths
    assert {w for t in written for w in t.split()} <= set(tiny.vocabulary_)


def test_top_k_restricts_every_word_to_the_k_most_probable(tiny):
    written = tiny.sample(0, [6] * 5, np.random.default_rng(1), temperature=3.0, top_k=2)
    for text in written:
        ids = [_class_token(tiny, 0)]
        for word in text.split():
            logits = _numpy_logits(tiny.params_, ids)[-1]
            logits[0] = -np.inf
            top2 = np.argsort(-logits)[:2]
            ids.append(tiny.vocabulary_.index(word) + 1)
            assert ids[-1] in top2


def test_fitting_reduces_the_training_loss(tiny):
    untrained = NeuralGenerator(NeuralSettings(**{**vars(TINY), "epochs": 0})).fit(TEXTS, seed=3)
    for c, texts in TEXTS.items():
        assert tiny.perplexity(texts, c) < 0.6 * untrained.perplexity(texts, c)
    assert tiny.losses_[-1] < tiny.losses_[0]


def test_one_seed_makes_a_run_reproducible(tiny):
    again = NeuralGenerator(TINY).fit(TEXTS, seed=3)
    assert np.array_equal(again.batch_losses_, tiny.batch_losses_)
    for a, b in zip(_leaves(again.params_), _leaves(tiny.params_), strict=True):
        assert np.array_equal(a, b)
    lengths = [5, 9, 2]
    assert again.sample(0, lengths, np.random.default_rng(5), top_p=0.95) == tiny.sample(
        0, lengths, np.random.default_rng(5), top_p=0.95
    )
    other = NeuralGenerator(TINY).fit(TEXTS, seed=4)
    assert not np.array_equal(other.batch_losses_, tiny.batch_losses_)


def _leaves(params):
    return [params["embed"], params["out_W"], params["out_b"]] + [
        a for layer in params["lstm"] for a in layer
    ]


# -- the generative study's options ----------------------------------------------------------
def test_the_generative_study_validates_its_generator_options():
    from modelcollapse.engines import ENGINES
    from modelcollapse.experiments.config import validate_config

    def study(**fields):
        raw = {"study": [{"name": "s", "kind": "generative", "sample_size": 10, "repeats": 1,
                          **fields}]}  # fmt: skip
        return validate_config(raw, "t").study[0]

    default = study()
    assert (default.generator, default.temperature, default.top_k, default.top_p) == (
        "trigram", 1.0, None, None,
    )  # fmt: skip
    neural = study(generator="neural", temperature=0.7, top_p=0.9)
    settings = dict(ENGINES["generative"].variants(neural)[0][2])
    assert (settings["generator"], settings["temperature"], settings["top_p"]) == (
        "neural", 0.7, 0.9,
    )  # fmt: skip
    with pytest.raises(UserError, match="unknown generator 'gpt'"):
        study(generator="gpt")
    with pytest.raises(UserError, match="need generator = 'neural'"):
        study(top_k=5)
    with pytest.raises(UserError, match="top_p"):
        study(generator="neural", top_p=1.5)


def test_neural_sizes_are_generator_options_from_config_and_command_line():
    from modelcollapse.engines import ENGINES
    from modelcollapse.experiments.config import apply_overrides, validate_config
    from modelcollapse.generators import check_generator_options, generator_options

    declared = {o.name: o for o in generator_options("neural")}
    assert set(declared) == {f for f in vars(NeuralSettings())}
    assert declared["hidden"].default == NeuralSettings.hidden and declared["max_length"].nullable
    assert generator_options("trigram") == ()

    def config(**options):
        return validate_config({"study": [{
            "name": "s", "kind": "generative", "sample_size": 10, "repeats": 1,
            "generator": "neural", "generator_options": options,
        }]}, "t")  # fmt: skip

    base = config(hidden=32, max_length=40)
    # The command line's strings become the options' types; its value wins over the file's.
    study = apply_overrides(base, generator_options={"hidden": "48", "epochs": "2"}).study[0]
    assert study.generator_options == {"hidden": 48, "max_length": 40, "epochs": 2}
    settings = dict(ENGINES["generative"].variants(study)[0][2])
    assert dict(settings["generator_options"]) == study.generator_options
    # Unset: the trigram studies' settings (their trajectory keys and seeds) are unchanged.
    plain = config().study[0]
    assert "generator_options" not in dict(ENGINES["generative"].variants(plain)[0][2])
    assert check_generator_options("neural", {"max_length": "none"}) == {"max_length": None}
    with pytest.raises(UserError, match=r"generator option 'hidden': input should be greater"):
        config(hidden=0)
    with pytest.raises(UserError, match=r"'depth' does not apply to generator 'neural'"):
        config(depth=3)
    trigram = validate_config({"study": [{"name": "s", "kind": "generative", "sample_size": 10,
                                          "repeats": 1}]}, "t")  # fmt: skip
    with pytest.raises(UserError, match=r"'hidden' does not apply to generator 'trigram'"):
        apply_overrides(trigram, generator_options={"hidden": "8"})
    labelled = validate_config({"study": [{"name": "s", "kind": "learning-curve", "repeats": 1,
                                           "max_size": 10, "initial_size": 5, "increment": 5}]},
                               "t")  # fmt: skip
    with pytest.raises(UserError, match=r"^--generator-option: applies to generative studies"):
        apply_overrides(labelled, generator_options={"hidden": "8"})


def test_the_options_reach_the_model_and_max_length_truncates_training():
    from modelcollapse.generators import ClassConditional

    docs = [t for c in TEXTS for t in TEXTS[c]]
    labels = np.array([c for c in TEXTS for _ in TEXTS[c]])
    options = {**vars(TINY), "epochs": 1, "max_length": 2}
    cc = ClassConditional("neural", seed=3, options=options).fit(docs, labels)
    assert cc.generator.settings == NeuralSettings(**options)
    # Fitting with max_length 2 is fitting on each text's first two tokens.
    cut = {c: [" ".join(t.split()[:2]) for t in texts] for c, texts in TEXTS.items()}
    plain = NeuralGenerator(NeuralSettings(**{**options, "max_length": None})).fit(cut, seed=3)
    # (The first two tokens hold fewer than 12 words: a vocabulary of whole texts differs.)
    assert cc.generator.vocabulary_ == plain.vocabulary_ and len(plain.vocabulary_) < 12
    assert np.array_equal(cc.generator.batch_losses_, plain.batch_losses_)


def test_oov_split_of_the_neural_model_against_a_hand_computation(tiny):
    """The 12 words the tiny model knows are the 12 most frequent training words (ties
    alphabetical); every other token of a test text is out of vocabulary."""
    from modelcollapse.generators import ClassConditional
    from modelcollapse.textmetrics import oov_split

    counts: dict[str, int] = {}
    for texts in TEXTS.values():
        for t in texts:
            for w in t.split():
                counts[w] = counts.get(w, 0) + 1
    known = sorted(counts, key=lambda w: (-counts[w], w))[:12]
    assert tiny.vocabulary_ == known
    docs = ["the food was great", "i hate this unseen place", "warm and cold zebra"]
    labels = np.array([1, 0, 1])
    cc = ClassConditional("neural")
    cc.generator = tiny
    inside = cc.in_vocabulary(docs, labels)
    # Class by class: class 0's text, then class 1's two.
    by_hand = [w in known for d in (docs[1], docs[0], docs[2]) for w in d.split()]
    assert inside.tolist() == by_hand
    logp = []
    for d, c in ((docs[1], 0), (docs[0], 1), (docs[2], 1)):
        ids = _ids(tiny, d)
        lp = log_softmax(_numpy_logits(tiny.params_, [_class_token(tiny, c), *ids[:-1]]), 1)
        logp.extend(lp[np.arange(len(ids)), ids])
    logp = np.array(logp)
    ppl, oov = oov_split(cc.token_log_probs(docs, labels), inside)
    n_out = sum(not k for k in by_hand)
    assert oov == pytest.approx(n_out / len(by_hand)) and n_out >= 2
    assert ppl == pytest.approx(np.exp(-logp[np.array(by_hand)].mean()), rel=1e-5)
