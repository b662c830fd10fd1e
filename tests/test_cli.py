"""The command line as a user meets it: one-line errors, exit status 2, nothing half-written."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelcollapse.cli import main

GOOD = "__label__2 Great: works well\n__label__1 Bad: broke fast\n"


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, *fragments: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (GOOD * 50 + "this line has no label\n", ["reviews.txt:101:", "__label__"]),
        (GOOD * 50 + "__label__2 \n", ["reviews.txt:101:", "empty"]),
        ("", ["reviews.txt", "no reviews"]),
        ("__label__2 Great: works well\n" * 100, ["reviews.txt", "__label__2", "2 classes"]),
    ],
    ids=["malformed-line", "empty-text", "empty-file", "one-class"],
)
def test_bad_data_files(tmp_path, capsys, small_config, content, fragments):
    data = tmp_path / "reviews.txt"
    data.write_text(content)
    out = tmp_path / "run"
    code, _, err = run_cli(capsys, "run", str(small_config), "--data", str(data), "--out", str(out))
    assert_one_line_error(code, err, *fragments)
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--rates", "0,1.5"], ["--rates", "1.5", "[0, 1]"]),
        (["--rates", "0,abc"], ["--rates", "abc"]),
        (["--scale", "20"], ["--scale", "needs", "reviews", "1,500"]),
        (["--max-size", "5000"], ["--max-size", "needs", "1,500"]),
        (["--scale", "-1"], ["--scale", "positive"]),
        (["--repeats", "0"], ["--repeats", "positive"]),
        (["--repeats", "two"], ["--repeats", "integer"]),
        (["--model", "svm"], ["--model", "svm", "seed-rf"]),
        (["--tokenizer", "bert"], ["--tokenizer", "bert"]),
        (["--test-size", "abc"], ["--test-size", "abc"]),
        (["--jobs", "0"], ["--jobs"]),
    ],
)
def test_bad_options(tmp_path, capsys, small_config, small_reviews, args, fragments):
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "run", str(small_config), "--data", str(small_reviews), "--out", str(out), *args
    )
    assert_one_line_error(code, err, *fragments)
    assert not out.exists()


def test_bad_experiment_and_config(tmp_path, capsys):
    code, _, err = run_cli(capsys, "run", "no-such-preset")
    assert_one_line_error(code, err, "no-such-preset", "preset")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\n[[study]]\nname = "s"\nkind = "rates"\nrepeats = 1\nmax_size = 10\n'
    )
    code, _, err = run_cli(capsys, "run", str(bad))
    assert_one_line_error(code, err, "bad.toml", "initial_size")
    bad.write_text("name = [")
    code, _, err = run_cli(capsys, "run", str(bad))
    assert_one_line_error(code, err, "bad.toml", "TOML")
    code, _, err = run_cli(capsys, "run", str(tmp_path / "missing.toml"))
    assert_one_line_error(code, err, "missing.toml", "no such file")


def test_piped_summary_keeps_every_digit(tmp_path, capsys, small_config, small_reviews):
    # Captured output is no terminal: a long study name must not squeeze "0.8552" to "0.85…".
    config = tmp_path / "long.toml"
    text = small_config.read_text().replace('name = "rates"', 'name = "rates-with-a-long-name"')
    config.write_text(text)
    out = tmp_path / "run"
    code, stdout, _ = run_cli(capsys, "run", str(config), "--data", str(small_reviews),
                              "--out", str(out), "--no-report")  # fmt: skip
    assert code == 0 and "…" not in stdout
    table = pd.read_parquet(out / "results")
    last = table.loc[table.step == table.groupby("trajectory").step.transform("max")]
    means = last.loc[last.experiment == "rates-with-a-long-name"].groupby("rate").accuracy.mean()
    for mean in means:
        assert f"{mean:.4f}" in stdout


def test_run_prints_summary_and_resumes(tmp_path, capsys, small_config, small_reviews):
    out = tmp_path / "run"
    argv = [
        "run",
        str(small_config),
        "--data",
        str(small_reviews),
        "--out",
        str(out),
        "--jobs",
        "2",
    ]
    code, stdout, _ = run_cli(capsys, *argv)
    assert code == 0
    assert "mean test accuracy" in stdout
    assert str(out) in stdout.replace("\n", "")
    table = pd.read_parquet(out / "results")
    assert table["trajectory"].nunique() == 12
    code, stdout, _ = run_cli(capsys, *argv)
    assert code == 0 and "resumed: 12 of 12" in stdout
    code, _, err = run_cli(capsys, *argv, "--seed", "3")
    assert_one_line_error(code, err, str(out), "different config", "seed")


def test_config_flags_override_the_file(tmp_path, capsys, small_config, small_reviews):
    out = tmp_path / "run"
    code, _, _ = run_cli(
        capsys, "run", str(small_config), "--data", str(small_reviews), "--out", str(out),
        "--rates", "0,1", "--repeats", "1", "--model", "logreg",
    )  # fmt: skip
    assert code == 0
    table = pd.read_parquet(out / "results")
    assert set(table["model"]) == {"logreg"}
    assert set(table.loc[table.experiment == "rates", "rate"]) == {0.0, 1.0}
    assert set(table["repeat"]) == {0}
    assert (table["seed_group"] == table["experiment"]).all()  # no seed group: its own
    resolved = (out / "config.toml").read_text()
    assert 'model = "logreg"' in resolved


LOOP_FLAGS = [
    "--regime", "replace", "--window", "150", "--labeller", "previous",
    "--label-policy", "threshold", "--threshold", "0.8", "--below-threshold", "human",
    "--verified-share", "0.2", "--keep-correct", "0.9", "--keep-wrong", "0.4",
    "--model-weight", "0.5", "--arms",
]  # fmt: skip


def test_loop_flags_set_the_design_of_every_study(tmp_path, capsys, small_config, small_reviews):
    out = tmp_path / "run"
    code, stdout, err = run_cli(
        capsys, "run", str(small_config), "--data", str(small_reviews), "--out", str(out),
        "--repeats", "1", "--rates", "0,1", *LOOP_FLAGS,
    )  # fmt: skip
    assert code == 0, err
    table = pd.read_parquet(out / "results")
    expected = {
        "regime": "replace", "window": 150, "labeller": "previous", "label_policy": "threshold",
        "threshold": 0.8, "below_threshold": "human", "verified_share": 0.2,
        "keep_correct": 0.9, "keep_wrong": 0.4, "model_weight": 0.5, "arms": True,
        "fresh_share": 0.0,
    }  # fmt: skip
    for column, value in expected.items():
        assert table[column].eq(value).all(), column
    assert table["accuracy_gold"].notna().all()  # --arms fits the references
    replace = table.loc[table["experiment"] == "rates"]
    assert (replace["n_train"] <= 150).all()  # the window, not the whole pool
    resolved = (out / "config.toml").read_text()
    assert resolved.count('regime = "replace"') == 2 and resolved.count("window = 150") == 2
    assert "mean test accuracy" in stdout


def test_only_the_loop_flags_given_override_the_file(tmp_path, capsys, small_reviews):
    config = tmp_path / "fresh.toml"
    config.write_text(
        'name = "fresh"\nmodel = "nb"\ntokenizer = "fast"\n\n'
        '[[study]]\nname = "a"\nkind = "rates"\ninitial_size = 200\nincrement = 200\n'
        'max_size = 600\nrates = [0.0, 1.0]\ntest_size = "rest"\nrepeats = 1\n'
        'seed_group = "pair"\n[study.loop]\nregime = "fresh"\nfresh_share = 0.5\n\n'
        '[[study]]\nname = "b"\nkind = "rates"\ninitial_size = 200\nincrement = 200\n'
        'max_size = 600\nrates = [0.0, 1.0]\ntest_size = "rest"\nrepeats = 1\n'
        'seed_group = "pair"\n[study.loop]\nregime = "fresh"\n'
    )
    out = tmp_path / "run"
    argv = ["run", str(config), "--data", str(small_reviews), "--out", str(out)]
    code, _, err = run_cli(capsys, *argv, "--keep-wrong", "0.5", "--no-arms")
    assert code == 0, err
    table = pd.read_parquet(out / "results")
    assert table["regime"].eq("fresh").all() and table["keep_wrong"].eq(0.5).all()
    shares = table.groupby("experiment")["fresh_share"].first()
    assert shares.to_dict() == {"a": 0.5, "b": 0.0}  # the file's, untouched
    assert table["arms"].eq(False).all()
    # Both studies are one seed group: the column says so, and their repeats pair.
    assert table["seed_group"].eq("pair").all()
    assert table.groupby("experiment")["seed"].first().nunique() == 1
    # --regime replace on a file that sets fresh_share: the combination is refused.
    code, _, err = run_cli(capsys, *argv[:-1], str(tmp_path / "other"), "--regime", "replace")
    assert_one_line_error(code, err, "--regime", "fresh_share")
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--regime", "sideways"], ["--regime", "'accumulate'", "sideways"]),
        (["--window", "0"], ["--window", "greater than or equal to 1"]),
        (["--window", "many"], ["--window", "integer"]),
        (["--fresh-share", "0.5"], ["--fresh-share", "--regime fresh"]),
        (["--fresh-share", "1.5", "--regime", "fresh"], ["--fresh-share", "1.5"]),
        (["--labeller", "oracle"], ["--labeller", "generation0", "oracle"]),
        (["--label-policy", "vote"], ["--label-policy", "balanced", "vote"]),
        (["--threshold", "0.3"], ["--threshold", "0.5", "0.3"]),
        (["--below-threshold", "keep"], ["--below-threshold", "'drop'", "keep"]),
        (["--verified-share", "-0.1"], ["--verified-share", "-0.1"]),
        (["--keep-correct", "2"], ["--keep-correct", "less than or equal to 1"]),
        (["--keep-wrong", "-1"], ["--keep-wrong", "greater than or equal to 0"]),
        (["--model-weight", "-0.5"], ["--model-weight", "-0.5"]),
        (["--mixture", "drift"], ["--mixture", "'fixed'", "drift"]),
        (["--mixture", "fixed", "--regime", "replace"], ["--mixture", "regime = 'accumulate'"]),
        (["--fresh-share", "1", "--regime", "fresh"], ["--fresh-share", "less than 1"]),
    ],
)
def test_bad_loop_flags(tmp_path, capsys, small_config, small_reviews, args, fragments):
    out = tmp_path / "run"
    code, _, err = run_cli(
        capsys, "run", str(small_config), "--data", str(small_reviews), "--out", str(out), *args
    )
    assert_one_line_error(code, err, *fragments)
    assert not out.exists()


def test_loop_flags_do_not_apply_to_generational_studies(tmp_path, capsys):
    for preset in ("generative", "generations"):
        code, _, err = run_cli(capsys, "run", preset, "--out", str(tmp_path / preset), "--arms")
        # The message names the run's kinds, which have no size grid.
        assert_one_line_error(code, err, "--arms", f"do not apply to {preset} studies")
        assert not (tmp_path / preset).exists()


def test_data_info(capsys, small_reviews):
    code, stdout, _ = run_cli(capsys, "data", "info", str(small_reviews))
    assert code == 0
    assert "1,500" in stdout or "1500" in stdout


def test_data_info_missing_file(tmp_path, capsys):
    code, _, err = run_cli(capsys, "data", "info", str(tmp_path / "nope.txt"))
    assert_one_line_error(code, err, "nope.txt")


def test_presets_lists_every_preset(capsys):
    code, stdout, _ = run_cli(capsys, "presets")
    assert code == 0
    for name in ["learning-curve", "total-collapse", "collapse-rates", "lower-rates", "demo",
                 "generations", "generative"]:  # fmt: skip
        assert name in stdout


def test_help_exits_zero(capsys):
    code, stdout, _ = run_cli(capsys, "--help")
    assert code == 0 and "run" in stdout and "compare" in stdout
    code, stdout, _ = run_cli(capsys, "run", "--help")
    text = " ".join(stdout.split())
    assert code == 0 and "generations" in text and "generative" in text
    for flag in LOOP_FLAGS[::2]:
        assert flag in stdout, flag
    assert "--no-arms" in stdout and "--fresh-share" in stdout


def test_package_entry_point_is_importable():
    import modelcollapse

    assert Path(modelcollapse.__file__).exists()
    assert modelcollapse.tokenize(["Not bad at all!"], "fast") == [["not", "bad", "at", "all"]]


def test_rates_that_round_to_the_same_count_are_warned_about(tmp_path, small_reviews, capsys):
    """At --scale 0.1 a batch of 10 turns rates 0.03 and 0.06 into 0 and 1 rows: 0.06 and 0.09
    (1 row each) give identical trajectories, and the user is told before the run."""
    out = tmp_path / "run"
    argv = [
        "run", "lower-rates", "--data", str(small_reviews), "--model", "nb", "--tokenizer", "fast",
        "--scale", "0.1", "--rates", "0,0.06,0.09", "--repeats", "1", "--max-size", "1200",
        "--out", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "rates 0.06 and 0.09 both model-label 1 of every 10 added reviews" in err
    table = pd.read_parquet(out / "results")
    by_rate = {rate: group["accuracy"].to_numpy() for rate, group in table.groupby("rate")}
    np.testing.assert_array_equal(by_rate[0.06], by_rate[0.09])


def test_workers_started_early_are_waited_for_on_an_error(tmp_path, capsys, small_config):
    # --jobs 2 starts the workers while the data loads; a bad --data still ends in one line.
    import threading

    missing = tmp_path / "missing.ft.txt"
    code, _, err = run_cli(capsys, "run", str(small_config), "--data", str(missing),
                           "--jobs", "2", "--out", str(tmp_path / "run"))  # fmt: skip
    assert_one_line_error(code, err, "--data", "missing.ft.txt")
    assert not any(t.name == "modelcollapse-warm-up" for t in threading.enumerate())
    assert not (tmp_path / "run").exists()


def test_mixture_flag_holds_the_share(tmp_path, capsys, small_config, small_reviews):
    out = tmp_path / "run"
    argv = ["run", str(small_config), "--data", str(small_reviews), "--out", str(out)]
    code, _, err = run_cli(capsys, *argv, "--repeats", "1", "--rates", "0.3", "--mixture", "fixed")
    assert code == 0, err
    table = pd.read_parquet(out / "results")
    assert table["mixture"].eq("fixed").all()
    later = table.loc[(table["experiment"] == "rates") & (table["step"] > 0)]
    expected = (0.3 * later["train_size"] + 0.5).floordiv(1) / later["n_train"]
    assert later["model_labelled_share"].to_numpy() == pytest.approx(expected.to_numpy())
