"""Cost of extension: a label policy with one option and a regime, registered from outside the
package by the code of docs/extending.md, run end to end (config file, library, CLI)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from extending_docs import section_code

from modelcollapse.cli import main
from modelcollapse.core.options import option_names
from modelcollapse.core.policies import LABEL_POLICIES
from modelcollapse.core.regimes import REGIMES
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import load_config
from modelcollapse.runner import run_experiment


@pytest.fixture
def extended():
    try:
        for title in ("A label policy", "A regime"):
            exec(compile(section_code(title), f"docs/extending.md: {title}", "exec"), {})
        yield
    finally:
        LABEL_POLICIES.unregister("coin")
        REGIMES.unregister("newest-half")


CONFIG = """
name = "extended"
model = "nb"
tokenizer = "fast"

[[study]]
name = "coin"
kind = "rates"
initial_size = 200
increment = 100
max_size = 600
rates = [0.0, 1.0]
test_size = "rest"
repeats = 1
[study.loop]
label_policy = "coin"
coin_bias = {bias}
regime = "newest-half"
"""


def test_a_registered_policy_and_regime_run_from_a_config_file(extended, tmp_path, small_reviews):
    assert "coin_bias" in option_names()
    path = tmp_path / "extended.toml"
    path.write_text(CONFIG.format(bias=1.0))
    config = load_config(str(path))
    config = config.model_copy(update={"data": str(small_reviews)})
    run_experiment(config, tmp_path / "run")
    table = pd.read_parquet(tmp_path / "run" / "results")
    assert set(table["label_policy"]) == {"coin"} and set(table["coin_bias"]) == {1.0}
    assert set(table["regime"]) == {"newest-half"}
    # newest half: the rows at or after size // 2
    assert (table["n_train"] == table["train_size"] - table["train_size"] // 2).all()
    # A coin of bias 1 labels every model-labelled row positive: the labels it makes are
    # right exactly for the positive rows, and the share of positives it gives is 1.
    coin = table.loc[(table["rate"] == 1.0) & (table["step"] > 0)]
    assert (coin["n_model_labelled"] > 0).all()
    assert coin["model_label_accuracy"].between(0.2, 0.8).all()  # the batch's positive share
    stored = (tmp_path / "run" / "config.toml").read_text()
    assert 'label_policy = "coin"' in stored and "coin_bias = 1.0" in stored


def test_the_coin_labels_with_its_bias(extended):
    from modelcollapse.core.options import LoopOptions
    from modelcollapse.loop import MODEL, SelfLabellingLoop

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 1500)
    X = sp.csr_matrix(rng.poisson(np.where(y[:, None] == 1, [2.0, 0.5], [0.5, 2.0])))
    sizes = [100, 200, 300, 400]
    shares = {}
    for bias in (0.0, 0.3, 1.0):
        options = LoopOptions(label_policy="coin", coin_bias=bias)
        loop = SelfLabellingLoop("nb", sizes, 1.0, 0, options)
        loop.fit(X[:1000], y[:1000], X[1000:], y[1000:])
        made = loop.training_labels_[loop.row_state_ == MODEL]
        assert len(made) == sizes[-1] - sizes[0]
        shares[bias] = made.mean()
    assert shares[0.0] == 0 and shares[1.0] == 1 and 0.2 < shares[0.3] < 0.4  # sd 0.026


def test_the_new_option_is_validated_where_it_is_declared(extended, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(CONFIG.format(bias=1.5))
    with pytest.raises(UserError, match=r"\[study\.0\.loop\.coin_bias\] Input should be less"):
        load_config(str(path))
    path.write_text(CONFIG.format(bias=0.7).replace('label_policy = "coin"', ""))
    with pytest.raises(UserError, match="coin_bias applies to label_policy = 'coin' only"):
        load_config(str(path))


def test_the_cli_takes_the_new_flags(extended, tmp_path, capsys, small_config, small_reviews):
    code = main(["run", "--help"])
    assert code == 0 and "--coin-bias" in capsys.readouterr().out
    out = tmp_path / "run"
    argv = [
        "run", str(small_config), "--data", str(small_reviews), "--out", str(out),
        "--repeats", "1", "--rates", "0,1", "--label-policy", "coin", "--coin-bias", "0",
        "--regime", "newest-half",
    ]  # fmt: skip
    code = main(argv)
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    table = pd.read_parquet(out / "results")
    assert set(table["coin_bias"]) == {0.0} and set(table["regime"]) == {"newest-half"}
    assert (table["n_train"] == table["train_size"] - table["train_size"] // 2).all()
    code = main([*argv[:5], str(tmp_path / "bad"), "--label-policy", "coin", "--coin-bias", "2"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--coin-bias" in err and "2" in err and len(err.splitlines()) == 1


def test_unregistered_parts_leave_no_trace(capsys):
    assert "coin" not in LABEL_POLICIES and "newest-half" not in REGIMES
    assert "coin_bias" not in option_names()
    assert main(["run", "--help"]) == 0
    assert "--coin-bias" not in capsys.readouterr().out


def test_compare_takes_the_new_option_as_a_design_column(extended, tmp_path, small_reviews):
    from modelcollapse.compare import compare_results, design_candidates, design_columns

    # Two studies in one seed group that differ only in the plug-in's option.
    studies = [
        CONFIG.split("[[study]]")[1]
        .replace('name = "coin"', f'name = "coin{bias}"\nseed_group = "coin"')
        .replace("rates = [0.0, 1.0]", "rates = [1.0]")
        .replace("repeats = 1", "repeats = 2")
        .format(bias=bias)
        for bias in (0.0, 1.0)
    ]
    path = tmp_path / "two.toml"
    path.write_text(CONFIG.split("[[study]]")[0] + "".join(f"[[study]]{s}" for s in studies))
    config = load_config(str(path)).model_copy(update={"data": str(small_reviews)})
    run_experiment(config, tmp_path / "run")
    table = pd.read_parquet(tmp_path / "run" / "results")
    assert "coin_bias" in design_candidates()
    assert design_columns(table) == ["coin_bias"]
    groups = {"coin0.0": "coin", "coin1.0": "coin"}
    out = compare_results(table, baseline="coin_bias=0", seed_groups=groups)
    assert len(out) == 1 and out["coin_bias"].tolist() == [1.0]
    assert out["n_pairs"].tolist() == [2]
