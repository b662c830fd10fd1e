"""What a model declares it can do is checked before a run starts: fastText cannot weight rows,
so a model weight other than 0 or 1 is refused in one line with nothing written."""

from __future__ import annotations

import pytest
from cli_calls import cli, one_line_error

from modelcollapse.errors import UserError
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.experiments.plan import build_plan
from modelcollapse.models import MODELS, check_row_weights


def test_only_fasttext_declares_it_cannot_weight_rows():
    assert [n for n, s in MODELS.items() if not s.supports_row_weights] == ["fasttext"]


@pytest.mark.parametrize("weight", [0.0, 1.0])
def test_weights_of_0_and_1_need_no_row_weights(weight):
    config = apply_overrides(load_config("lower-rates"), loop={"model_weight": weight})
    assert build_plan(config, 10_000_000, model=MODELS["fasttext"])


@pytest.mark.parametrize("weight", [0.5, 2.0])
def test_a_fractional_or_larger_weight_is_refused_for_fasttext_only(weight):
    config = apply_overrides(load_config("lower-rates"), loop={"model_weight": weight})
    with pytest.raises(UserError, match=r"--model-weight.*'fasttext' cannot weight rows"):
        build_plan(config, 10_000_000, model=MODELS["fasttext"])
    assert build_plan(config, 10_000_000, model=MODELS["hashing"])  # SGD weights rows
    check_row_weights(MODELS["logreg"], weight)


def test_the_cli_refuses_it_in_one_line_and_writes_nothing(capsys, tmp_path):
    pytest.importorskip("fasttext")  # else the missing extra is the (also one-line) error
    data = tmp_path / "tiny.ft.txt"
    data.write_text("".join(f"__label__{1 + i % 2} review number {i}\n" for i in range(40)))
    out = tmp_path / "run"
    code, _, err = cli(capsys, "run", "lower-rates", "--data", str(data), "--model", "fasttext",
                       "--model-weight", "0.5", "--out", str(out))  # fmt: skip
    one_line_error(code, err, "--model-weight", "0 or 1", "0.5")
    assert not out.exists()
