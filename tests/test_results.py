"""The one results reader and the one first/last summary (issue #11).

Every entry point (the store, the report, compare/answer/theory) reads a run directory into
the same table, whatever mix of schemas its files hold; a row is dropped only with a warning
that names its file.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelcollapse.compare import read_run
from modelcollapse.core.options import LoopOptions
from modelcollapse.errors import ModelCollapseWarning, UserError
from modelcollapse.report.load import load_run
from modelcollapse.results import (
    SERIES_SUMMARY_COLUMNS,
    read_results,
    series_summary,
    trajectory_endpoints,
)
from modelcollapse.store import RunStore

LOOP = {name: (-1 if v is None else v) for name, v in LoopOptions().asdict().items()}
CONFIG = """
[[study]]
name = "rates"
seed_group = "shared"
[[study]]
name = "gen"
"""


def trajectory(experiment: str, kind: str, rate: float, repeat: int, accuracy, **extra):
    steps = len(accuracy)
    frame = pd.DataFrame(
        {
            "experiment": experiment,
            "kind": kind,
            "trajectory": f"{experiment}/rate={rate:g}/repeat={repeat}",
            "repeat": repeat,
            "model": "nb",
            "tokenizer": "words",
            "seed": 7,
            "rate": rate,
            "initial_size": 100,
            "step": np.arange(steps),
            "train_size": 100 * 2 ** np.arange(steps),
            "accuracy": np.asarray(accuracy, dtype=float),
            "predicted_positive_rate": 0.5,
            "test_positive_rate": 0.5,
        }
    )
    for name, value in extra.items():
        frame[name] = value
    return frame


def write(run: Path, frames: dict[str, pd.DataFrame]) -> Path:
    (run / "results").mkdir(parents=True)
    for name, frame in frames.items():
        frame.to_parquet(run / "results" / name, index=False)
    (run / "config.toml").write_text(CONFIG, encoding="utf-8")
    return run


@pytest.fixture
def mixed_run(tmp_path: Path) -> Path:
    """A new loop trajectory, one written before most loop options existed (and before
    model/tokenizer/seed were recorded), a generative one whose ``arms`` holds only NaN
    floats, and files no reader may take for results."""
    new = trajectory("rates", "rates", 0.0, 0, [0.7, 0.8, 0.82], **{**LOOP, "arms": True})
    old = trajectory("rates", "rates", 0.5, 0, [0.7, 0.75, 0.7], regime="replace")
    old = old.drop(columns=["model", "tokenizer", "seed"])
    generative = trajectory(
        "gen", "generative", float("nan"), 0, [0.8, 0.7], regime="replace", arms=np.nan,
        vocabulary_size=[900.0, 500.0],
    )  # fmt: skip
    run = write(
        tmp_path / "run",
        {"rates~a.parquet": new, "rates~b.parquet": old, "gen~a.parquet": generative},
    )
    (run / "results" / ".tmp-x.partial").write_bytes(b"half a file")
    (run / "results" / ".tmp-y.parquet").write_bytes(b"half a file")
    (run / "results" / "rates~c.error.json").write_text('{"error": "boom"}')
    return run


def entry_points(run: Path) -> dict[str, pd.DataFrame]:
    return {
        "results": read_results(run),
        "store": RunStore(run).read_results(),
        "report": load_run(run).results,
        "compare": read_run(run)[0],
    }


def test_every_entry_point_reads_the_same_table(mixed_run: Path) -> None:
    frames = entry_points(mixed_run)
    first = frames.pop("results")
    for name, frame in frames.items():
        pd.testing.assert_frame_equal(frame, first, check_exact=True, obj=name)
    assert len(first) == 3 + 3 + 2
    assert list(first["trajectory"].drop_duplicates()) == [
        "gen/rate=nan/repeat=0",
        "rates/rate=0.5/repeat=0",  # sorted as text: "." before "/"
        "rates/rate=0/repeat=0",
    ]
    assert load_run(mixed_run).n_files == 3


def test_old_and_null_typed_columns_are_unified(mixed_run: Path) -> None:
    frame = read_results(mixed_run)
    old = frame.loc[frame["rate"] == 0.5]
    # The old file's missing loop options read as their defaults; its own regime is kept.
    assert (old["regime"] == "replace").all()
    for name, default in LOOP.items():
        if name != "regime":
            assert (old[name] == default).all(), name
    assert (old["window"] == -1).all()
    # Missing identity columns get a constant, so grouping by them still works.
    assert old["model"].tolist() == [""] * 3 and old["seed"].tolist() == [-1] * 3
    # arms: bool where a loop wrote it, missing where the generative kind had none.
    arms = frame.set_index("trajectory")["arms"]
    assert arms.loc["rates/rate=0/repeat=0"].tolist() == [True] * 3
    assert arms.loc["rates/rate=0.5/repeat=0"].tolist() == [False] * 3
    assert arms.loc["gen/rate=nan/repeat=0"].isna().all()
    # A generative trajectory is not a loop design: no loop defaults are made up for it.
    gen = frame.loc[frame["kind"] == "generative"]
    assert gen["label_policy"].isna().all()


def test_a_dropped_row_is_named_with_its_file(mixed_run: Path) -> None:
    broken = trajectory("rates", "rates", 1.0, 0, [0.7, np.nan, 0.6], **LOOP)
    broken.to_parquet(mixed_run / "results" / "rates~d.parquet", index=False)
    with pytest.warns(ModelCollapseWarning, match=r"1 row of results/rates~d.parquet left out"):
        frame = read_results(mixed_run)
    assert len(frame) == 8 + 2
    assert frame.attrs["dropped"] == [
        "1 row of results/rates~d.parquet left out: no accuracy or no training size"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelCollapseWarning)
        frames = entry_points(mixed_run)
    for name, other in frames.items():
        pd.testing.assert_frame_equal(other, frame, check_exact=True, obj=name)


def test_what_is_not_a_run_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a directory"):
        read_results(tmp_path / "missing")
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "a.error.json").write_text("{}")
    with pytest.raises(UserError, match="no results"):
        read_results(tmp_path)
    (tmp_path / "results" / "a.parquet").write_bytes(b"not parquet")
    with pytest.raises(UserError, match=r"cannot read a\.parquet") as err:
        read_results(tmp_path)
    assert err.value.where == str(tmp_path)


def test_endpoints_and_series_summary() -> None:
    frames = [
        trajectory("rates", "rates", rate, repeat, acc, **LOOP)
        for rate, repeat, acc in [
            (0.0, 0, [0.70, 0.80, 0.90]),
            (0.0, 1, [0.60, 0.70, 0.80]),
            (1.0, 0, [0.70, 0.60]),  # a shorter trajectory ends at its own last step
            (1.0, 1, [0.60, 0.50]),
        ]
    ]
    generative = [
        trajectory("gen", "generative", np.nan, r, [0.8, 0.7 - r / 10], regime=regime,
                   vocabulary_size=[900.0 + r, 500.0 + r])
        for r in (0, 1)
        for regime in ("replace",)
    ]  # fmt: skip
    results = pd.concat([*frames, *generative], ignore_index=True)
    ends = trajectory_endpoints(results).set_index("trajectory")
    row = ends.loc["rates/rate=1/repeat=0"]
    assert (row["first_step"], row["last_step"], row["last_size"]) == (0, 1, 200)
    assert (row["first_accuracy"], row["last_accuracy"]) == (0.7, 0.6)
    assert np.isnan(row["last_vocabulary"]) and pd.isna(row["regime"])
    gen = ends.loc["gen/rate=nan/repeat=1"]
    assert (gen["regime"], gen["first_vocabulary"], gen["last_vocabulary"]) == (
        "replace", 901.0, 501.0,
    )  # fmt: skip

    summary = series_summary(results)
    assert tuple(summary.columns) == SERIES_SUMMARY_COLUMNS
    by = summary.set_index("series")
    assert by.loc["rate=0", "kind"] == "rates" and by.loc["rate=0", "repeats"] == 2
    assert by.loc["rate=0", "last_accuracy"] == pytest.approx(0.85)
    assert by.loc["rate=1", "last_accuracy"] == pytest.approx(0.55)
    assert by.loc["rate=1", "last_size"] == 200
    assert by.loc["regime=replace", "last_accuracy"] == pytest.approx(0.65)
    assert by.loc["regime=replace", "first_vocabulary"] == pytest.approx(900.5)
    assert np.isnan(by.loc["regime=replace", "rate"])


def test_the_cli_and_the_report_say_which_rows_were_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelcollapse.cli import main
    from modelcollapse.report.build import build_report

    frames = {
        f"r~{rate:g}~{repeat}.parquet": trajectory(
            "rates", "rates", rate, repeat, [0.7, 0.8 - rate / 10, 0.85 - rate / 5], **LOOP
        )
        for rate in (0.0, 1.0)
        for repeat in (0, 1)
    }
    frames["r~1~0.parquet"].loc[1, "accuracy"] = np.nan
    run = write(tmp_path / "run", frames)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        code = main(["compare", str(run)])
    err = capsys.readouterr().err
    assert code == 0
    assert "modelcollapse: warning: " in err and "1 row of results/r~1~0.parquet left out" in err
    with pytest.warns(ModelCollapseWarning, match="left out"):
        html = build_report(run).read_text(encoding="utf-8")
    assert "1 row of results/r~1~0.parquet left out: no accuracy or no training size." in html
