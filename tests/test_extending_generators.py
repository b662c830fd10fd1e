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
