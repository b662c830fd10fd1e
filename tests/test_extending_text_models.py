"""Cost of extension, from outside the package: docs/extending.md's "A model that reads text"
example, executed as written, registers a model that reads documents; a study then runs with it
end to end through the library and the command line, builds no count matrix, and the model is
unregistered."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from extending_docs import section_code

from modelcollapse.cli import main
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.features.cache import cache_dir
from modelcollapse.models import MODELS, get_model, models_table
from modelcollapse.runner import run_experiment

STUDY = """
name = "text"
model = "nb"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 200
increment = 200
max_size = 600
rates = [0.0, 1.0]
test_size = 400
repeats = 1
"""


@pytest.fixture
def chars() -> Iterator[None]:
    assert "chars" not in MODELS
    try:
        code = compile(section_code("A model that reads text"), "docs/extending.md", "exec")
        exec(code, {"__name__": "extension"})
        yield
    finally:
        MODELS.unregister("chars")


def test_a_documents_model_runs_a_study_without_a_count_matrix(
    chars, small_reviews, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path / "cache"))
    assert "| `chars` | documents | 2-4 |" in models_table()
    assert get_model("chars").input == "documents"
    study = tmp_path / "text.toml"
    study.write_text(STUDY, encoding="utf-8")
    config = apply_overrides(load_config(str(study)), data=str(small_reviews), model="chars")
    run_experiment(config, tmp_path / "lib")
    table = pd.read_parquet(tmp_path / "lib" / "results")
    assert set(table["model"]) == {"chars"} and table["trajectory"].nunique() == 2
    clean = table[(table["rate"] == 0) & (table["step"] == table["step"].max())]
    assert clean["accuracy"].min() > 0.6  # it learned the demo reviews from their characters
    manifest = json.loads((tmp_path / "lib" / "manifest.json").read_text())
    assert manifest["features"]["shape"] is None and "char_wb" in manifest["model"]["estimator"]
    # The tokens were cached; no count matrix was.
    assert list((cache_dir() / "tokens").iterdir())
    assert not (cache_dir() / "features").exists()

    out = tmp_path / "cli"
    argv = ["run", str(study), "--model", "chars", "--data", str(small_reviews)]
    assert main([*argv, "--out", str(out), "--no-report"]) == 0, capsys.readouterr().err
    keep = ["trajectory", "step", "accuracy", "log_loss"]
    cli = pd.read_parquet(out / "results")[keep].sort_values(keep[:2], ignore_index=True)
    pd.testing.assert_frame_equal(cli, table[keep].sort_values(keep[:2], ignore_index=True))
    assert not (cache_dir() / "features").exists()


def test_the_text_model_is_unknown_again():
    assert "chars" not in MODELS
    with pytest.raises(UserError, match="unknown model 'chars'"):
        get_model("chars")
