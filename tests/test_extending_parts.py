"""Cost of extension, from outside the package: docs/extending.md's "A model" and "A data
format" examples, executed as written, register a model and a data format; a study then runs
with them end to end, through the library and the command line, and they are unregistered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from extending_docs import section_code

from modelcollapse.cli import main
from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.data.readers import DATA_FORMATS, read_corpus
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.models import MODELS, get_model, models_table
from modelcollapse.runner import run_experiment
from modelcollapse.store import RunStore

STUDY = """
name = "extended"
model = "nb"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 200
increment = 200
max_size = 600
rates = [0.0, 1.0]
test_size = "rest"
repeats = 2
"""


@pytest.fixture
def svm_and_psv() -> Iterator[None]:
    assert "svm" not in MODELS and "psv" not in DATA_FORMATS
    try:
        for title in ("A model", "A data format"):
            code = compile(section_code(title), f"docs/extending.md ({title})", "exec")
            exec(code, {"__name__": "extension"})
        yield
    finally:
        MODELS.unregister("svm")
        DATA_FORMATS.unregister("psv")


@pytest.fixture
def psv_reviews(tmp_path: Path) -> Path:
    """The demo corpus as ``label|text`` lines, labels spelled neg/pos."""
    corpus = make_demo_corpus(n=1500, seed=7)
    path = tmp_path / "reviews.psv"
    lines = [
        f"{'pos' if y else 'neg'}|{text}\n"
        for text, y in zip(corpus.texts, corpus.labels, strict=True)
    ]
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_the_new_format_reads_like_the_built_in_ones(svm_and_psv, psv_reviews, tmp_path):
    demo = make_demo_corpus(n=1500, seed=7)
    corpus = read_corpus(psv_reviews)  # recognised by its suffix
    assert corpus.meta["format"] == "psv" and corpus.label_names == ("neg", "pos")
    assert corpus.texts == demo.texts and corpus.labels.tolist() == demo.labels.tolist()
    renamed = tmp_path / "reviews.dat"
    renamed.write_bytes(psv_reviews.read_bytes())
    assert read_corpus(renamed, fmt="psv").fingerprint == corpus.fingerprint

    broken = tmp_path / "broken.psv"
    broken.write_text("pos|fine\n\nno bar here\nneg|bad\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"broken\.psv:3: expected 'label\|text'"):
        read_corpus(broken)
    skipped = read_corpus(broken, on_error="skip")
    assert skipped.labels.tolist() == [1, 0] and skipped.meta["skipped"] == {"malformed": 1}
    assert skipped.meta["blank_lines"] == 1


def test_the_new_model_and_format_run_a_study_from_python_and_the_cli(
    svm_and_psv, psv_reviews, tmp_path, capsys
):
    assert "svm" in models_table() and get_model("svm").ngram_range == (1, 2)
    study = tmp_path / "extended.toml"
    study.write_text(STUDY, encoding="utf-8")
    config = apply_overrides(load_config(str(study)), data=str(psv_reviews), model="svm")
    run_experiment(config, tmp_path / "lib")
    table = pd.read_parquet(tmp_path / "lib" / "results")
    assert set(table["model"]) == {"svm"} and table["trajectory"].nunique() == 4
    clean = table[(table["rate"] == 0) & (table["step"] == table["step"].max())]
    assert clean["accuracy"].min() > 0.6  # the demo corpus is learnable: the SVM learned it
    model = RunStore(tmp_path / "lib").read_manifest()["model"]
    assert model["name"] == "svm" and "LinearSVC(C=0.5" in model["estimator"]

    out = tmp_path / "cli"
    argv = ["run", str(study), "--model", "svm", "--data", str(psv_reviews)]
    code = main([*argv, "--repeats", "1", "--out", str(out), "--no-report"])
    assert code == 0, capsys.readouterr().err
    cli = pd.read_parquet(out / "results")
    assert set(cli["model"]) == {"svm"} and cli["trajectory"].nunique() == 2
    # Repeat 0 is the same trajectories with the same seeds, whichever way the run started.
    keep = ["trajectory", "step", "accuracy"]
    lib0 = table[table["repeat"] == 0][keep].sort_values(keep[:2], ignore_index=True)
    pd.testing.assert_frame_equal(cli[keep].sort_values(keep[:2], ignore_index=True), lib0)


def test_unregistered_parts_are_unknown_again(psv_reviews):
    """Runs after the fixture's clean-up: nothing of the examples stays registered."""
    assert "svm" not in MODELS and "psv" not in DATA_FORMATS
    with pytest.raises(UserError, match="unknown model 'svm'"):
        get_model("svm")
    with pytest.raises(UserError, match="cannot tell the format"):
        read_corpus(psv_reviews)
