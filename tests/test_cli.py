"""The command line as a user meets it: one-line errors, exit status 2, nothing half-written."""

from pathlib import Path

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
        (GOOD * 50 + "__label__3 Meh: it is fine\n", ["reviews.txt:101:", "__label__3"]),
        (GOOD * 50 + "__label__2 \n", ["reviews.txt:101:", "empty"]),
        ("", ["reviews.txt", "no reviews"]),
        ("__label__2 Great: works well\n" * 100, ["reviews.txt", "positive", "both classes"]),
    ],
    ids=["malformed-line", "unknown-label", "empty-text", "empty-file", "one-class"],
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
    resolved = (out / "config.toml").read_text()
    assert 'model = "logreg"' in resolved


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
    for name in ["learning-curve", "total-collapse", "collapse-rates", "lower-rates", "demo"]:
        assert name in stdout


def test_help_exits_zero(capsys):
    code, stdout, _ = run_cli(capsys, "--help")
    assert code == 0 and "run" in stdout


def test_package_entry_point_is_importable():
    import modelcollapse

    assert Path(modelcollapse.__file__).exists()
    assert modelcollapse.tokenize(["Not bad at all!"], "fast") == [["not", "bad", "at", "all"]]
