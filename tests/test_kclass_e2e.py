"""Issue #12, "Done when" 1 and 2, through the command line: a spam/ham CSV and a 4-class corpus
of real text run every study kind, ``compare`` and ``report``; bad classes are one line.

The 4-class corpus is the standard library's docstrings (tests/kclass_corpus.py) written as a
JSONL file, as a user would bring it.
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_calls import cli, one_line_error
from kclass_corpus import TOPICS, kclass_corpus
from test_data_labels import spam_csv, topic_jsonl

from modelcollapse.data.corpus import Corpus
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import load_config
from modelcollapse.runner import prepare_run

# Every study kind, each at a few hundred rows: a run of seconds.
EVERY_KIND = """
name = "kclass"
model = "nb"
tokenizer = "fast"

[[study]]
name = "curve"
kind = "learning-curve"
spacing = "geometric"
max_size = 600
ratio = 0.5
n_sizes = 3
test_size = 0.2
repeats = 2

[[study]]
name = "collapse"
kind = "total-collapse"
spacing = "geometric"
max_size = 600
ratio = 0.5
n_sizes = 2
rates = [1.0]
test_size = 0.2
repeats = 2

[[study]]
name = "rates"
kind = "rates"
initial_size = 100
increment = 250
max_size = 600
rates = [0.0, 1.0]
test_size = "rest"
repeats = 2

[[study]]
name = "gens"
kind = "generations"
sample_size = 200
validation_size = 200
population = 3
keep = 1
max_generations = 2
rates = [0.0, 1.0]
test_size = 300
repeats = 2

[[study]]
name = "written"
kind = "generative"
sample_size = 400
generations = 2
regimes = ["replace"]
test_size = 300
repeats = 2
"""


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("MODELCOLLAPSE_DATA", str(home))
    return home


def captions(html: str) -> list[str]:
    found = re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", c)) for c in found]


def topics_file(path: Path) -> Path:
    corpus = kclass_corpus()
    with path.open("w", encoding="utf-8") as fh:
        for text, label in zip(corpus.texts, corpus.labels, strict=True):
            fh.write(json.dumps({"text": text, "topic": corpus.label_names[label]}) + "\n")
    return path


# --------------------------------------------------------------------------- Done when 1


def test_spam_csv_runs_data_info_run_compare_and_report(tmp_path: Path, capsys) -> None:
    path, _ = spam_csv(tmp_path / "sms.csv")
    code, out, err = cli(capsys, "data", "info", str(path))
    assert code == 0, err
    assert "spam (class 1" in out
    run = tmp_path / "run"
    code, out, err = cli(
        capsys, "run", "lower-rates", "--data", str(path), "--model", "nb", "--tokenizer", "fast",
        "--scale", "0.1", "--rates", "0,0.5,1", "--repeats", "2", "--max-size", "1000",
        "--out", str(run), "--report",
    )  # fmt: skip
    assert code == 0, err
    results = pd.read_parquet(run / "results")
    assert set(results["rate"]) == {0.0, 0.5, 1.0}
    # Binary: the "positive" columns count class 1, spam.
    np.testing.assert_allclose(
        results["pred_tv_distance"],
        (results["predicted_positive_rate"] - results["test_positive_rate"]).abs(),
    )

    code, out, err = cli(capsys, "compare", str(run), "--metric", "balanced_accuracy")
    assert code == 0, err
    assert "balanced_accuracy: paired difference to rate=0" in out
    assert "classes: 2: ham, spam ('positive' columns count 'spam')" in out

    html = (run / "report" / "report.html").read_text(encoding="utf-8")
    assert "2: ham, spam (&#x27;positive&#x27; columns count &#x27;spam&#x27;)" in html
    drift = [c for c in captions(html) if c.startswith("Share of test reviews")]
    assert drift and "predicts 'spam' (of the classes ham, spam, 'spam' is class 1)" in drift[0]
    assert "predicts positive" not in html and "positive class" not in html
    assert (run / "report" / "positive-rate-lower-rates.png").is_file()


# --------------------------------------------------------------------------- Done when 2


def test_four_classes_run_every_kind_then_compare_and_report(tmp_path: Path, capsys) -> None:
    data = topics_file(tmp_path / "topics.jsonl")
    names = tuple(sorted(TOPICS))  # JSONL labels are read in alphabetical order
    code, out, err = cli(capsys, "data", "info", str(data))
    assert code == 0 and "4, alphabetical order" in out, err
    config = tmp_path / "kclass.toml"
    config.write_text(EVERY_KIND)
    run = tmp_path / "run"
    code, out, err = cli(capsys, "run", str(config), "--data", str(data), "--out", str(run),
                         "--report", "--seed", "3")  # fmt: skip
    assert code == 0, err

    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["data"]["label_names"] == list(names)
    assert manifest["data"]["positive"] is None and manifest["data"]["positive_class"] is None
    results = pd.read_parquet(run / "results")
    assert set(results["kind"]) == {
        "learning-curve", "total-collapse", "rates", "generations", "generative"
    }  # fmt: skip
    assert results["predicted_positive_rate"].isna().all()
    shares = results[[f"predicted_share_{j}" for j in range(4)]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)
    for column in ("pred_tv_distance", "balanced_accuracy", "macro_f1", "log_loss", "brier", "ece"):
        assert results[column].notna().all(), column
    # Trained on true labels the model tells the topics apart (one class alone: at most 0.31).
    rates = results.loc[results["experiment"] == "rates"]
    last = rates.loc[rates["step"] == rates["step"].max()]
    assert last.loc[last["rate"] == 0.0, "accuracy"].min() > 0.5

    html = (run / "report" / "report.html").read_text(encoding="utf-8")
    assert f"4: {', '.join(names)}" in html
    texts = captions(html)
    drift = [c for c in texts if c.startswith("Class-balance drift over the 4 classes")]
    assert len(drift) == 3  # learning curve, total collapse, rates
    assert all(f"({', '.join(names)})" in c for c in drift)
    assert any("mean of the recall on each of the 4 classes" in c for c in texts)
    assert any("summed over the 4 classes" in c for c in texts)  # Brier, rates and generational
    assert "predicted positive" not in html and "positive class" not in html
    figures = {p.name for p in (run / "report").iterdir()}
    assert {"class-drift-rates.png", "balance-rates.png", "calibration-gens.png"} <= figures
    assert not any(name.startswith("positive-rate") for name in figures)

    code, out, err = cli(capsys, "compare", str(run), "--study", "rates")
    assert code == 0, err
    assert "classes: 4: " + ", ".join(names) in out and "--metric balanced_accuracy" in out
    for metric in ("pred_tv_distance", "macro_f1", "brier"):
        code, out, err = cli(capsys, "compare", str(run), "--study", "rates", "--metric", metric)
        assert code == 0, err
        assert f"{metric}: paired difference to rate=0" in out
    code, _, err = cli(capsys, "compare", str(run), "--metric", "predicted_positive_rate")
    one_line_error(code, err, "--metric", "no positive class", "pred_tv_distance")
    code, out, err = cli(capsys, "answer", str(run), "--study", "rates", "--metric",
                         "pred_tv_distance")  # fmt: skip
    assert code == 0, err
    assert "does pred_tv_distance change with rate" in out


# --------------------------------------------------------------------------- bad classes


@pytest.mark.parametrize(
    ("labels", "fragments"),
    [
        ("World,Sports,Business", ["news.jsonl:", "is not one of --labels World,Sports,Business"]),
        ("World,Sports,Business,Sci/Tech,Health", ["news.jsonl", "no row has label 'Health'"]),
    ],
)
def test_bad_labels_for_four_classes_are_one_line_and_write_nothing(
    tmp_path: Path, capsys, labels: str, fragments: list[str]
) -> None:
    path, _ = topic_jsonl(tmp_path / "news.jsonl", n=80)
    run = tmp_path / "run"
    code, _, err = cli(capsys, "run", "lower-rates", "--data", str(path), "--labels", labels,
                       "--out", str(run))  # fmt: skip
    one_line_error(code, err, *fragments)
    assert not run.exists()


def test_a_label_only_in_the_test_split_is_one_line_and_writes_nothing(
    tmp_path: Path, capsys, data_home: Path
) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    topic_jsonl(folder / "train.jsonl", n=80)
    test, _ = topic_jsonl(folder / "test.jsonl", n=20)
    with test.open("a") as fh:
        fh.write(json.dumps({"sentence": "a new topic", "topic": "Health"}) + "\n")
    code, _, err = cli(capsys, "data", "import", str(folder), "--name", "news")
    one_line_error(code, err, "test.jsonl:21:", "label 'Health' is not a class of the train split")
    assert not (data_home / "news").exists()
    # A corpus handed to the library directly is checked when the run is prepared.
    texts = [f"text {i} about topic {i % 3}" for i in range(60)]
    labels = np.array([i % 3 for i in range(60)], dtype=np.int8)
    mask = np.zeros(60, dtype=bool)
    mask[-10:] = True
    labels[-1] = 3
    corpus = Corpus(texts, labels, "news", ("a", "b", "c", "d"), test_mask=mask)
    out = tmp_path / "run"
    with pytest.raises(UserError) as info:
        prepare_run(load_config("demo"), out, data=corpus, use_cache=False)
    assert info.value.where == "--data"
    assert "label 'd' is only in the test split of news (1 row)" in str(info.value)
    assert not out.exists()
    empty = Corpus(texts, np.array([i % 3 for i in range(60)], dtype=np.int8), "news",
                   ("a", "b", "c", "d"))  # fmt: skip
    with pytest.raises(UserError, match="class 'd' of news has no rows"):
        prepare_run(load_config("demo"), out, data=empty, use_cache=False)
    assert not out.exists()


def test_k_class_corpora_by_name_are_switched_on() -> None:
    # download.py refuses ag-news and yelp-review-full unless the readers keep k classes.
    from modelcollapse.data.download import reader_keeps_k_classes

    assert reader_keeps_k_classes()
