"""Labellers from outside the loop (issue #16): each kind on data whose answer is known, the
label policies on supplied probabilities, a labels file that does not match the corpus, and a
labeller registered from outside the package by the code of docs/extending.md."""

from __future__ import annotations

import tomllib
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from extending_docs import section_code

from modelcollapse.cli import main
from modelcollapse.core.labellers import (
    LABELLERS,
    LabellerSource,
    check_labeller,
    read_supplied_labels,
    vader_positive,
)
from modelcollapse.core.options import LoopOptions, option_names
from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError
from modelcollapse.loop import HUMAN, MODEL, SelfLabellingLoop

SIZES = [200, 400, 600, 800]


def planted(n: int, share: float) -> np.ndarray:
    """True on exactly round(share × 200) rows of every block of 200 (so of every batch)."""
    right = np.zeros(n, dtype=bool)
    for start in range(0, n, 200):
        right[start : start + round(share * 200)] = True
    rng = np.random.default_rng(1)
    for start in range(0, n, 200):  # shuffled within its block: no pattern in row order
        rng.shuffle(right[start : start + 200])
    return right


def separable(n: int, seed: int = 0) -> tuple[sp.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    X = sp.csr_matrix(rng.poisson(np.where(y[:, None] == 1, [3.0, 0.3], [0.3, 3.0])))
    return X, y


def run_loop(scores, y, rate=1.0, n=800, **options):
    X, _ = separable(n)
    X_test, y_test = separable(300, seed=9)
    opts = LoopOptions(labeller="given", **options)
    loop = SelfLabellingLoop("nb", SIZES, rate, random_state=3, options=opts)
    return loop.fit(X, y, X_test, y_test, labeller_scores=scores)


def batch_accuracies(loop) -> list[float]:
    return [r.model_label_accuracy for r in loop.history_[1:]]


def test_supplied_probabilities_right_on_a_known_share_recover_it():
    n = 800
    y = np.random.default_rng(4).integers(0, 2, n)
    right = planted(n, 0.7)
    made = np.where(right, y, 1 - y)
    loop = run_loop(np.eye(2)[made], y)
    # rate 1: every row of a batch gets the supplied label, 140 of its 200 right
    assert batch_accuracies(loop) == pytest.approx([0.7, 0.7, 0.7])
    assert (loop.training_labels_[200:] == made[200:]).all()


def test_a_fitted_classifier_is_a_labeller():
    from sklearn.naive_bayes import MultinomialNB

    X, y = separable(800)
    teacher = MultinomialNB().fit(*separable(500, seed=5))
    loop = run_loop(teacher, y)
    expected = [np.mean(teacher.predict(X[a:b]) == y[a:b]) for a, b in pairwise(SIZES)]
    assert batch_accuracies(loop) == pytest.approx(expected)


def test_the_sample_policy_draws_from_supplied_probabilities():
    n = 800
    y = np.random.default_rng(4).integers(0, 2, n)
    proba = np.where(y[:, None] == np.arange(2), 0.8, 0.2)  # P(true label) = 0.8 on every row
    loop = run_loop(proba, y, label_policy="sample")
    right = np.mean(loop.training_labels_[200:] == y[200:])
    assert abs(right - 0.8) < 0.05  # 600 draws: sd 0.016


def test_the_threshold_policy_reads_a_supplied_confidence(tmp_path):
    n = 800
    y = np.random.default_rng(4).integers(0, 2, n)
    right = planted(n, 0.7)
    made = np.where(right, y, 1 - y)
    conf = np.where(right, 0.95, 0.6)  # the wrong labels are the unsure ones
    path = tmp_path / "labels.csv"
    pd.DataFrame({"label": made, "confidence": conf}).to_csv(path, index=False)
    proba = read_supplied_labels(path, n, 2)
    assert proba[0, made[0]] == conf[0]
    loop = run_loop(proba, y, label_policy="threshold", below_threshold="human")
    assert batch_accuracies(loop) == pytest.approx([1.0, 1.0, 1.0])
    assert (loop.row_state_[200:] == np.where(right, MODEL, HUMAN)[200:]).all()


def test_a_file_with_planted_errors_and_rows_skipped(tmp_path):
    n = 800
    y = np.random.default_rng(4).integers(0, 2, n)
    right = planted(n, 0.75)
    made = np.where(right, y, 1 - y)
    given = np.arange(0, n, 2)  # labels for the even rows only, by id, in another order
    path = tmp_path / "labels.csv"
    pd.DataFrame({"id": given[::-1], "label": made[given][::-1]}).to_csv(path, index=False)
    with pytest.raises(UserError, match="400 corpus rows have no label"):
        read_supplied_labels(path, n, 2)
    loop = run_loop(read_supplied_labels(path, n, 2, missing="skip"), y)
    for step, (a, b) in enumerate(pairwise(SIZES), start=1):
        rows = given[(given >= a) & (given < b)]
        assert loop.history_[step].model_label_accuracy == pytest.approx(np.mean(right[rows]))
    assert (loop.row_state_[1::2] == HUMAN).all()  # skipped rows keep their human label
    assert (loop.training_labels_[1::2] == y[1::2]).all()


def test_a_teacher_trained_on_other_rows_makes_its_labels():
    # The teacher learns "feature 0 means positive" from rows where that holds; in the pool it
    # holds on exactly 70% of each batch, so the teacher is right on those.
    n_pool, n_spare = 800, 600
    rng = np.random.default_rng(2)
    says = rng.integers(0, 2, n_pool + n_spare)
    X = sp.csr_matrix(np.column_stack([says * 5, (1 - says) * 5]))
    right = np.concatenate([planted(n_pool, 0.7), np.ones(n_spare, dtype=bool)])
    labels = np.where(right, says, 1 - says)
    pool, test = np.arange(n_pool), np.arange(n_pool, n_pool + 100)
    opts = LoopOptions(labeller="teacher", teacher_model="nb", teacher_size=400)
    source = LabellerSource(lambda: [], X, labels, pool, test, 2, opts, seed=0)
    scores = LABELLERS["teacher"].scores(source)
    assert (np.argmax(scores, axis=1) == says[:n_pool]).all()
    loop = SelfLabellingLoop("nb", SIZES, 1.0, 3, LoopOptions(labeller="given"))
    loop.fit(X[pool], labels[pool], X[test], labels[test], labeller_scores=scores)
    assert batch_accuracies(loop) == pytest.approx([0.7, 0.7, 0.7])
    too_many = LoopOptions(labeller="teacher", teacher_size=600)
    with pytest.raises(UserError, match="teacher_size = 600 needs"):
        LABELLERS["teacher"].scores(LabellerSource(lambda: [], X, labels, pool, test, 2,
                                                   too_many, seed=0))  # fmt: skip


def test_vader_is_right_where_its_lexicon_agrees_with_the_label():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    texts = ["great, wonderful, I love it", "awful, I hate it", "a chair"]
    compound = [SentimentIntensityAnalyzer().polarity_scores(t)["compound"] for t in texts]
    p = vader_positive(texts)  # the stated mapping: (compound + 1) / 2
    assert p == pytest.approx((np.array(compound) + 1) / 2) and p[0] > 0.9 and p[1] < 0.15
    assert p[2] == 0.5  # no sentiment word: even odds
    n = 800
    positive = np.random.default_rng(6).integers(0, 2, n)
    texts = np.where(positive == 1, "great, wonderful, I love it", "awful, I hate it").tolist()
    right = planted(n, 0.6)
    y = np.where(right, positive, 1 - positive)  # the human disagrees with VADER on 40%
    opts = LoopOptions(labeller="vader")
    source = LabellerSource(lambda: [], None, y, np.arange(n), np.arange(0), 2, opts, 0,
                            rows=vader_positive(texts))  # fmt: skip
    loop = run_loop(LABELLERS["vader"].scores(source), y)
    assert batch_accuracies(loop) == pytest.approx([0.6, 0.6, 0.6])


def test_vader_reads_the_raw_text_capitals_and_exclamation_marks_included(tmp_path):
    from modelcollapse.experiments.config import validate_config
    from modelcollapse.runner import prepare_run

    corpus = Corpus(["GREAT!!!", "great"] * 400, np.array([1, 0] * 400), "caps")
    opts = LoopOptions(labeller="vader")
    vader = LABELLERS["vader"]
    rows = vader.corpus_rows.compute(corpus, opts)
    source = LabellerSource(lambda: [], None, corpus.labels, np.arange(2), np.arange(0), 2,
                            opts, seed=0, rows=rows)  # fmt: skip
    p = vader.scores(source)[:, 1]
    assert p[0] > p[1] > 0.5
    # A run hands the labeller the scores of the raw texts, not of the lower-cased tokens
    config = validate_config(tomllib.loads(SMALL.replace('"rest"', "0.2")), "small")
    config.study[0].loop = opts
    prepared = prepare_run(config, tmp_path / "run", data=corpus, use_cache=False)
    assert prepared.features.documents[0] == "great"
    scores = prepared.features.row_data[vader.corpus_rows.key(opts)]
    assert scores[0] == p[0] and scores[1] == p[1]


def test_vader_refuses_more_than_two_classes():
    corpus = Corpus(["a", "b", "c"], np.array([0, 1, 2]), "three", ("x", "y", "z"))
    with pytest.raises(UserError, match="vader' is binary only; the data have 3 classes"):
        check_labeller(corpus, LoopOptions(labeller="vader"))


def test_own_models_take_no_scores_and_outside_ones_need_them():
    X, y = separable(800)
    with pytest.raises(ValueError, match="labeller = 'given' needs labeller_scores"):
        SelfLabellingLoop("nb", SIZES, 0.5, options=LoopOptions(labeller="given")).fit(X, y, X, y)
    with pytest.raises(ValueError, match="labeller = 'current' takes no labeller_scores"):
        SelfLabellingLoop("nb", SIZES, 0.5).fit(X, y, X, y, labeller_scores=np.eye(2)[y])


SMALL = """
name = "small"
model = "nb"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 200
increment = 100
max_size = 600
rates = [0.0, 1.0]
test_size = "rest"
repeats = 1
"""


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def run_cli(config, data, out, *flags):
    return main(["run", str(config), "--data", str(data), "--out", str(out), *flags])


def test_a_labels_file_runs_from_the_cli(tmp_path, config, small_reviews, capsys):
    from modelcollapse.data.resolve import load_data

    corpus = load_data(str(small_reviews))
    y = np.asarray(corpus.labels)
    made = np.where(np.arange(len(y)) % 4 == 0, 1 - y, y)  # every 4th row wrong
    path = tmp_path / "labels.csv"
    pd.DataFrame({"label": made}).to_csv(path, index=False)
    out = tmp_path / "run"
    assert run_cli(config, small_reviews, out, "--labeller", "file", "--labels-file",
                   str(path)) == 0, capsys.readouterr().err  # fmt: skip
    table = pd.read_parquet(out / "results")
    steps = table[(table["rate"] == 1.0) & (table["step"] > 0)]
    assert set(table["labeller"]) == {"file"} and set(table["labels_file"]) == {str(path)}
    # 100-row batches, 25% of the corpus's rows wrong: the batches' accuracy is about 0.75
    assert abs(steps["model_label_accuracy"].mean() - 0.75) < 0.08
    assert (steps["n_model_labelled"] == steps["train_size"] - 200).all()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"label": [0, 1, 1]}, "3 rows, the corpus has 1500"),
        ({"id": [0, 1500], "label": [0, 1]}, "line 3: unknown id 1500"),
        ({"id": [0, 1], "label": [0, 2]}, "line 3: unknown class '2'"),
        ({"id": [0, 1], "label": [0, 1]}, "1498 corpus rows have no label"),
        ({"id": [0, 0], "label": [0, 1]}, "line 3: id 0 appears twice"),
        ({"labels": [0, 1]}, "no 'label' column"),
        ({"id": [0, 1], "label": ["__label__1", "good"]}, "line 3: unknown class 'good'"),
        ({"label": ["__label__1"] * 1500, "p___label__1": 1.0}, "leave out __label__2"),
    ],
)
def test_a_labels_file_that_does_not_match_stops_before_writing(
    tmp_path, config, small_reviews, capsys, frame, message
):
    path = tmp_path / "labels.csv"
    pd.DataFrame(frame).to_csv(path, index=False)
    out = tmp_path / "run"
    assert run_cli(config, small_reviews, out, "--labeller", "file", "--labels-file",
                   str(path)) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and str(path) in err
    assert not out.exists()


def test_a_teacher_that_needs_more_rows_than_the_plan_leaves_stops_first(
    tmp_path, config, small_reviews, capsys
):
    out = tmp_path / "run"  # test_size = "rest": no row is left outside the pool and test set
    assert run_cli(config, small_reviews, out, "--labeller", "teacher", "--teacher-size",
                   "500") == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--teacher-size" in err
    assert "teacher_size = 500 needs that many rows" in err and "study 'rates' leaves 0" in err
    assert not out.exists()


NAMES = ("__label__1", "__label__2")


def write(tmp_path, frame) -> str:
    path = tmp_path / "labels.csv"
    pd.DataFrame(frame).to_csv(path, index=False)
    return str(path)


def test_a_labels_file_names_classes_as_the_corpus_spells_them(tmp_path):
    path = write(tmp_path, {"label": ["__label__2", "__label__1", "1", "0"]})
    proba = read_supplied_labels(path, 4, 2, class_names=NAMES)
    assert proba.tolist() == [[0, 1], [1, 0], [0, 1], [1, 0]]  # names and codes
    # Classes spelled as numbers (star ratings, Amazon's CSV "1"/"2"): names only
    stars = write(tmp_path, {"label": ["2", "1"]})
    assert read_supplied_labels(stars, 2, 2, class_names=("1", "2")).tolist() == [[0, 1], [1, 0]]
    zero = write(tmp_path, {"label": ["2", "0"]})
    with pytest.raises(UserError, match=r"line 3: unknown class '0' \(the corpus's classes: "
                       r"1, 2 \(spelled as numbers: names only"):  # fmt: skip
        read_supplied_labels(zero, 2, 2, class_names=("1", "2"))


def test_class_probabilities_from_a_file_feed_the_sample_policy(tmp_path):
    n = 800
    y = np.random.default_rng(4).integers(0, 2, n)
    p_true = 0.8  # the probability of the human label on every row
    p_positive = np.where(y == 1, p_true, 1 - p_true)
    path = write(tmp_path, {"p___label__1": 1 - p_positive, "p___label__2": p_positive})
    proba = read_supplied_labels(path, n, 2, class_names=NAMES)
    assert proba[:, 1] == pytest.approx(p_positive)
    loop = run_loop(proba, y, label_policy="sample")
    assert abs(np.mean(loop.training_labels_[200:] == y[200:]) - p_true) < 0.05  # sd 0.016
    # The threshold policy reads the top probability as the confidence
    unsure = np.where(planted(n, 0.7), 0.95, 0.6)  # of the human label's class
    p_positive = np.where(y == 1, unsure, 1 - unsure)
    path = write(tmp_path, {"p_0": 1 - p_positive, "p_1": p_positive})  # codes work too
    loop = run_loop(read_supplied_labels(path, n, 2, class_names=NAMES), y,
                    label_policy="threshold", threshold=0.9, below_threshold="human")  # fmt: skip
    assert (loop.row_state_[200:] == np.where(unsure > 0.9, MODEL, HUMAN)[200:]).all()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"p___label__1": [0.5, 0.7], "p___label__2": [0.5, 0.4]}, "line 3: the p_<class> values"),
        ({"p___label__1": [0.5], "p_positive": [0.5]}, "column 'p_positive' names no class"),
        ({"label": ["__label__1"], "p___label__1": [0.2], "p___label__2": [0.8]},
         "line 2: label '__label__1' is not a most probable class"),
        ({"label": ["0"], "confidence": [1.0], "p_0": [1.0], "p_1": [0.0]}, "not both"),
    ],
)  # fmt: skip
def test_class_probabilities_that_do_not_fit_are_refused(tmp_path, frame, message):
    path = write(tmp_path, frame)
    with pytest.raises(UserError, match=message) as err:
        read_supplied_labels(path, len(next(iter(frame.values()))), 2, class_names=NAMES)
    assert path in str(err.value)


def test_the_file_labeller_needs_a_file(tmp_path, config, small_reviews, capsys):
    assert run_cli(config, small_reviews, tmp_path / "run", "--labeller", "file") == 2
    assert "needs labels_file" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


@pytest.fixture
def parity():
    try:
        exec(compile(section_code("A labeller"), "docs/extending.md: A labeller", "exec"), {})
        yield LABELLERS["parity"]
    finally:
        LABELLERS.unregister("parity")


def test_a_labeller_registered_from_outside(parity, tmp_path, config, small_reviews, capsys):
    assert "parity_confidence" in option_names()
    # Known answer: the loop's accuracy is the share of even-length texts in each batch.
    n = 800
    texts = ["ab" * (i % 3 + 1) + "c" * (i % 2) for i in range(n)]  # odd length on odd rows
    y = np.random.default_rng(5).integers(0, 2, n)
    opts = LoopOptions(labeller="parity", parity_confidence=0.9)
    source = LabellerSource(lambda: texts, None, y, np.arange(n), np.arange(0), 2, opts, 0)
    loop = run_loop(parity.scores(source), y)
    assert batch_accuracies(loop) == pytest.approx([0.5, 0.5, 0.5])
    assert (loop.training_labels_[200::2] == y[200::2]).all()
    # End to end through the CLI, with its option
    out = tmp_path / "run"
    assert run_cli(config, small_reviews, out, "--labeller", "parity", "--parity-confidence",
                   "0.9") == 0, capsys.readouterr().err  # fmt: skip
    table = pd.read_parquet(out / "results")
    assert set(table["labeller"]) == {"parity"} and set(table["parity_confidence"]) == {0.9}
    steps = table[(table["rate"] == 1.0) & (table["step"] > 0)]
    assert steps["model_label_accuracy"].between(0.2, 0.8).all()


def test_an_unregistered_labeller_leaves_no_trace(capsys):
    assert "parity" not in LABELLERS and "parity_confidence" not in option_names()


@pytest.mark.parametrize("flags", [["--labeller", "vader"],
                                   ["--labeller", "teacher", "--teacher-size", "500"]])  # fmt: skip
def test_vader_and_a_teacher_run_from_the_cli(tmp_path, small_reviews, capsys, flags):
    path = tmp_path / "small.toml"
    path.write_text(SMALL.replace('test_size = "rest"', "test_size = 0.2"))  # 600 rows spare
    out = tmp_path / "run"
    assert run_cli(path, small_reviews, out, *flags) == 0, capsys.readouterr().err
    table = pd.read_parquet(out / "results")
    assert set(table["labeller"]) == {flags[1]}
    steps = table[(table["rate"] == 1.0) & (table["step"] > 0)]
    # Both are far better than chance on the synthetic reviews, and not perfect
    assert steps["model_label_accuracy"].between(0.6, 0.99).all()
    # Where their errors fall is recorded, and compare shows it
    made = steps["n_labels_negated"] + steps["n_labels_other"]
    assert (made == 100).all() and (steps["label_confusion_0_1"] > 0).any()  # batches of 100
    capsys.readouterr()
    assert main(["compare", str(out)]) == 0
    assert "Where the labeller's errors fall" in capsys.readouterr().out
