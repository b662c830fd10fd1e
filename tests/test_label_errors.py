"""Where a labeller's errors fall (issue #16): the negation detector, the per-step confusion and
negation split on a labeller with planted errors, and the summary's gap and interval against a
simulation with a known gap."""

from __future__ import annotations

import io
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from rich.console import Console

from modelcollapse.core.labellers import NEGATION_COLUMNS, label_errors, negated_reviews
from modelcollapse.core.options import LoopOptions
from modelcollapse.labelerrors import format_label_errors, label_error_summary
from modelcollapse.loop import SelfLabellingLoop

SIZES = [200, 400, 600, 800]


def test_negation_is_a_negation_word_shortly_before_a_sentiment_word():
    texts = [
        "This is not good.",  # "not" right before a lexicon word
        "I don't like it at all",  # n't
        "Never was I happy",  # "never" 3 words before "happy"
        "It is good.",  # no negation
        "Not a chair, a table, and some more words, then good",  # too far before "good"
        "NOT GOOD!!!",  # capitals: the raw text, lower-cased for the lists
        "no",  # a negation without a sentiment word after it
    ]
    assert negated_reviews(texts).tolist() == [True, True, True, False, False, True, False]


def planted_loop(n: int = 800):
    """A labeller wrong on every negated row (every 4th) and right on the others, at rate 1."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, n)
    negated = np.arange(n) % 4 == 0
    made = np.where(negated, 1 - y, y)
    X = sp.csr_matrix(rng.poisson(1.0, (n, 5)))
    loop = SelfLabellingLoop("nb", SIZES, 1.0, 3, LoopOptions(labeller="given"))
    loop.fit(X, y, X[:100], y[:100], labeller_scores=np.eye(2)[made])
    return loop, y, negated


def test_the_confusion_and_negation_split_recover_planted_errors():
    loop, y, negated = planted_loop()
    cols = label_errors(loop.label_batches_, y, 2, len(loop.history_), negated)
    assert cols["label_confusion_0_0"][0] == 0 and cols["n_labels_negated"][0] == 0
    for step, (a, b) in enumerate(pairwise(SIZES), start=1):
        rows = np.arange(a, b)
        neg = negated[rows]
        assert cols["n_labels_negated"][step] == 50 and cols["n_labels_other"][step] == 150
        assert cols["label_accuracy_negated"][step] == 0.0
        assert cols["label_accuracy_other"][step] == 1.0
        for t in (0, 1):
            assert cols[f"label_confusion_{t}_{1 - t}"][step] == np.sum(neg & (y[rows] == t))
            assert cols[f"label_confusion_{t}_{t}"][step] == np.sum(~neg & (y[rows] == t))
        right = cols["label_confusion_0_0"][step] + cols["label_confusion_1_1"][step]
        assert right / 200 == pytest.approx(loop.history_[step].model_label_accuracy)
    without = label_errors(loop.label_batches_, y, 2, len(loop.history_))
    assert not set(NEGATION_COLUMNS) & set(without)


def simulated_results(gap: float, repeats: int, seed: int, studies: int = 1) -> pd.DataFrame:
    """4 steps of 200 labels per repeat of each study (at rate 1), whose labeller errs on
    negated reviews (binomially about 20 %) with probability 0.1 + gap and on others with 0.1."""
    rng = np.random.default_rng(seed)
    n = studies * repeats * 4
    n_neg = rng.binomial(200, 0.2, n)
    n_other = 200 - n_neg
    right_neg, right_other = rng.binomial(n_neg, 0.9 - gap), rng.binomial(n_other, 0.9)
    right = right_neg + right_other
    with np.errstate(invalid="ignore"):
        accuracy_negated = right_neg / n_neg
    return pd.DataFrame({
        "experiment": np.repeat([f"study{i}" for i in range(studies)], repeats * 4),
        "rate": 1.0, "repeat": np.tile(np.repeat(np.arange(repeats), 4), studies),
        "step": np.tile(np.arange(1, 5), studies * repeats),
        "label_confusion_0_0": right // 2, "label_confusion_1_1": right - right // 2,
        "label_confusion_0_1": 200 - right, "label_confusion_1_0": 0,
        "n_labels_negated": n_neg, "n_labels_other": n_other,
        "label_accuracy_negated": accuracy_negated, "label_accuracy_other": right_other / n_other,
    })  # fmt: skip


def test_the_negation_gap_and_its_interval_cover_the_truth():
    summary = label_error_summary(simulated_results(0.3, 5, seed=0, studies=200))
    assert len(summary) == 200
    assert abs(summary["gap"].mean() - 0.3) < 0.01  # unbiased: sd of the mean about 0.002
    covered = (summary["gap_low"] <= 0.3) & (summary["gap_high"] >= 0.3)
    assert 0.90 <= covered.mean() <= 0.99  # a 95 % interval: 200 draws, sd 0.015


def test_the_summary_table_says_what_it_found():
    summary = label_error_summary(simulated_results(0.3, 3, seed=1))
    (row,) = summary.to_dict("records")
    assert row["repeats"] == 3 and row["labels_per_repeat"] == 800
    assert row["wrong_1"] == 0.0 and row["worst"] == "0→1"
    assert row["error_other"] == pytest.approx(0.1, abs=0.03)
    console = Console(file=io.StringIO(), width=200)
    for part in format_label_errors(summary, ("negative", "positive")):
        console.print(part)
    text = console.file.getvalue()
    assert "negative given another" in text and f"{100 * row['gap']:+.1f}" in text
    assert "not why" in text
    one = label_error_summary(simulated_results(0.3, 1, seed=1))
    assert np.isnan(one["gap_low"].iloc[0])  # one repeat: no interval


def test_the_report_figure_shows_the_gap_and_the_confusion():
    from modelcollapse.report.figures import FIGURES, Study
    from modelcollapse.results import Classes

    data = simulated_results(0.3, 3, seed=1)
    study = Study("vader", "vader", "rates", data, Classes(("negative", "positive")))
    plot = FIGURES["label-errors"](study)
    row = label_error_summary(data).iloc[0]
    assert plot is not None and plot.stem == "label-errors-vader"
    assert f"{100 * row['error_negated']:.1f} % wrong on negated reviews" in plot.caption
    confusion = plot.figure.axes[1].images[0].get_array()
    assert confusion[1, 0] == 0.0 and confusion[0, 1] == pytest.approx(row["wrong_0"])
    no_split = data.drop(columns=list(NEGATION_COLUMNS))
    assert FIGURES["label-errors"](Study("self", "self", "rates", no_split)) is None
