"""Cost of extension, from outside the package: docs/extending.md's "A text generator" example,
executed as written, registers a unigram generator; it is fitted, writes and scores texts
through the registry (checked against counts by hand), and is unregistered."""

from __future__ import annotations

import numpy as np
import pytest
from extending_docs import section_code

from modelcollapse.generators import GENERATORS

TEXTS = {0: ["bad bad food", "cold food"], 1: ["good food", "good good good"]}


@pytest.fixture
def unigram():
    namespace: dict[str, object] = {}
    exec(section_code("A text generator"), namespace)
    try:
        yield GENERATORS.get("unigram")
    finally:
        GENERATORS.unregister("unigram")
    assert "unigram" not in GENERATORS


def test_the_documented_generator_registers_writes_and_scores(unigram):
    gen = unigram().fit(TEXTS, seed=0)
    # Class 1 counts over [bad, cold, food, good] + unseen, add-one: 1, 1, 2, 5, 1 of 10.
    expected = np.log([5 / 10, 2 / 10]).sum(), np.log(1 / 10) * 2
    np.testing.assert_allclose(gen.log_probs(["good food", "zebra zebra"], 1), expected)
    written = gen.sample(1, [4, 2], np.random.default_rng(0), temperature=0.0)
    assert written == ["good good good good", "good good"]
    written = gen.sample(0, [50], np.random.default_rng(1), top_k=2)
    assert set(written[0].split()) == {"bad", "food"}
    assert gen.perplexity(["good food"], 1) == pytest.approx(np.exp(-expected[0] / 2))


def test_a_generative_loop_writes_with_the_registered_generator(unigram):
    from modelcollapse.generative import GenerativeLoop

    rng = np.random.default_rng(0)
    words = {0: ["awful", "bad", "poor", "meh"], 1: ["great", "good", "fine", "nice"]}
    labels = rng.integers(0, 2, 240)
    docs = [" ".join(rng.choice(words[y] + ["the", "it"], size=6)) for y in labels]
    args = (docs[:160], labels[:160], docs[160:], labels[160:])
    loop = GenerativeLoop("nb", 2, "replace", random_state=1, generator="unigram",
                          sampling={"temperature": 0.0}).fit(*args)  # fmt: skip
    records = loop.history_records()
    # Temperature 0 writes each class's most frequent word only: one word per class is left.
    assert [r["vocabulary_size"] for r in records][1:] == [2, 2]
    assert records[0]["vocabulary_size"] == 10
