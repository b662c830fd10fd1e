"""`compare`: paired tests against a baseline agree with scipy, give the right verdicts on
purpose-built runs, pair loop designs within a seed group, and reject bad input in one line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from scipy import stats
from test_report import LOOP_DEFAULTS, SMALL_RUN, simulate_trajectories, write_run

from modelcollapse.cli import main
from modelcollapse.compare import (
    METRICS,
    Metric,
    compare,
    compare_results,
    format_compare_table,
    metric_info,
    wilcoxon_floor,
)
from modelcollapse.errors import UserError
from modelcollapse.stats import (
    detectable_effect,
    min_detectable_difference,
    repeats_needed,
    rule_power,
)

SIZES = (100, 200, 300)


def trajectories(
    effects: dict[float, np.ndarray],
    experiment: str = "lower-rates",
    seed: int = 0,
    **loop: object,
) -> list[pd.DataFrame]:
    """One trajectory per rate and repeat; at the last size, rate r's accuracy is the rate-0
    accuracy plus ``effects[r][repeat]`` exactly (earlier sizes: a third of it).

    Each repeat has its own level (the noise pairing removes), shared by every rate.
    """
    repeats = len(next(iter(effects.values())))
    level = 0.8 + np.random.default_rng(seed).normal(0, 0.03, repeats)
    frames = []
    for rate, effect in {0.0: np.zeros(repeats), **effects}.items():
        for repeat in range(repeats):
            accuracy = level[repeat] + np.array([0.0, effect[repeat] / 3, effect[repeat]])
            frames.append(
                pd.DataFrame(
                    {
                        "experiment": experiment,
                        "kind": "rates",
                        "trajectory": f"{experiment}/rate={rate}/repeat={repeat}",
                        "repeat": repeat,
                        "seed": 100 + repeat,
                        "model": "logreg",
                        "tokenizer": "fast",
                        "rate": rate,
                        "initial_size": SIZES[0],
                        "step": np.arange(len(SIZES)),
                        "train_size": SIZES,
                        "accuracy": accuracy,
                        "ece": 0.05 - accuracy / 10,
                        "predicted_positive_rate": 0.5,
                        "test_positive_rate": 0.5,
                        "n_test": 1000,
                        **(LOOP_DEFAULTS | loop),
                    }
                )
            )
    return frames


def symmetric(n: int, spread: float, centre: float = 0.0) -> np.ndarray:
    """n values around ``centre`` in ± pairs: the Wilcoxon statistic sits exactly in the middle."""
    half = np.linspace(spread / n, spread, n // 2)
    return centre + np.concatenate([half, -half, [0.0] * (n % 2)])


def test_statistics_agree_with_scipy(tmp_path: Path) -> None:
    d = np.array([-0.012, -0.004, -0.009, 0.002, -0.015, -0.007, -0.011, -0.001])
    write_run(tmp_path, trajectories({0.1: d}))
    row = compare(tmp_path, margin=0.005).iloc[0]
    assert (row["seed_group"], row["rate"], row["train_size"], row["n_pairs"]) == (
        "lower-rates",
        0.1,
        300,
        8,
    )
    assert row["mean_diff"] == pytest.approx(d.mean(), abs=1e-12)
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    assert (row["ci_low_t"], row["ci_high_t"]) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert np.isnan(row["ci_low_boot"])  # 8 repeats: too few for a percentile bootstrap
    assert row["p_wilcoxon"] == pytest.approx(stats.wilcoxon(d).pvalue)
    assert row["p_t"] == pytest.approx(stats.ttest_1samp(d, 0.0).pvalue)
    assert row["p_holm"] == pytest.approx(row["p_t"])  # a family of one; t is the default
    tost = max(
        stats.ttest_1samp(d, -0.005, alternative="greater").pvalue,
        stats.ttest_1samp(d, 0.005, alternative="less").pvalue,
    )
    assert row["p_tost"] == pytest.approx(tost)
    # At the minimum detectable effect a paired t-test has 80 % power.
    nc = row["mde"] / (d.std(ddof=1) / np.sqrt(8))
    critical = stats.t.ppf(0.975, 7)
    assert stats.nct.sf(critical, 7, nc) + stats.nct.cdf(-critical, 7, nc) == pytest.approx(0.8)
    assert row["baseline_mean"] == pytest.approx(
        np.mean([f["accuracy"].iloc[-1] for f in trajectories({0.1: d})[:8]])
    )


def test_verdicts_on_purpose_built_effects(tmp_path: Path) -> None:
    n = 10
    tight = symmetric(n, 0.001)
    effects = {
        0.05: tight,  # no effect, tight noise
        0.1: symmetric(n, 0.004, centre=-0.03),  # clearly worse
        0.2: symmetric(n, 0.004, centre=+0.02),  # clearly better
        0.3: symmetric(n, 0.02),  # no effect, but too noisy to say so
        0.4: symmetric(n, 0.0002, centre=-0.002),  # worse, detectably, but within the margin
    }
    write_run(tmp_path, trajectories(effects))
    out = compare(tmp_path, margin=0.005, test="wilcoxon").set_index("rate")
    assert out.loc[0.05, "verdict"] == "equivalent within ±0.005"
    assert out.loc[0.1, "verdict"] == "worse"
    assert out.loc[0.2, "verdict"] == "better"
    assert out.loc[0.3, "verdict"] == "inconclusive"
    assert out.loc[0.4, "verdict"] == "worse (within ±0.005)"
    assert out.loc[0.1, "p_holm"] == pytest.approx(
        min(1.0, 5 * stats.wilcoxon(effects[0.1]).pvalue)
    )
    # Calibration error rises where accuracy falls: a positive difference, and still worse.
    ece = compare(tmp_path, metric="ece", margin=0.0005).set_index("rate")
    assert ece.loc[0.1, "mean_diff"] > 0 and ece.loc[0.1, "verdict"] == "worse"
    assert ece.loc[0.2, "mean_diff"] < 0 and ece.loc[0.2, "verdict"] == "better"


def test_tiny_runs_are_inconclusive(tmp_path: Path) -> None:
    write_run(tmp_path, trajectories({0.1: np.array([-0.02, -0.025, -0.015])}))
    row = compare(tmp_path, test="wilcoxon").iloc[0]
    assert row["n_pairs"] == 3 and row["ci_high_t"] < 0  # the interval sees the effect ...
    assert row["verdict"] == "inconclusive"  # ... but 3 pairs cannot pass the Wilcoxon test
    assert "cannot reach p < 0.05" in row["note"]
    assert compare(tmp_path).iloc[0]["verdict"] == "worse"  # the default t-test can

    one = tmp_path / "one"
    write_run(one, trajectories({0.1: np.array([-0.02])}))
    row = compare(one, test="wilcoxon").iloc[0]
    assert row["n_pairs"] == 1 and np.isnan(row["p_wilcoxon"]) and np.isnan(row["ci_low_boot"])
    assert row["verdict"] == "inconclusive" and "fewer than 2 pairs" in row["note"]


def test_every_step_and_holm_per_step(tmp_path: Path) -> None:
    n = 8
    write_run(tmp_path, trajectories({0.1: symmetric(n, 0.004, -0.03), 0.5: symmetric(n, 0.01)}))
    out = compare(tmp_path, at="all", test="wilcoxon")
    assert out["train_size"].tolist() == [100, 200, 300] * 2
    first = out.loc[out["train_size"] == 100]
    assert (first["mean_diff"] == 0).all() and (first["p_wilcoxon"] == 1).all()
    assert first["verdict"].eq("equivalent within ±0.005").all()  # the paired design's start
    last = out.loc[out["train_size"] == 300].set_index("rate")
    expected = np.sort(last["p_wilcoxon"].to_numpy()) * [2, 1]
    assert np.sort(last["p_holm"].to_numpy()) == pytest.approx(np.maximum.accumulate(expected))


def test_loop_designs_in_a_seed_group_pair_at_matched_rate(tmp_path: Path) -> None:
    d_acc = {0.1: np.array([-0.01, -0.02, -0.03, -0.01, -0.02, -0.03])}
    d_rep = {0.1: np.array([-0.04, -0.05, -0.03, -0.06, -0.05, -0.04])}
    acc = trajectories(d_acc, "acc")
    rep = trajectories(d_rep, "rep", regime="replace", window=100)
    write_run(tmp_path, acc + rep)
    config = "".join(f'[[study]]\nname = "{s}"\nseed_group = "g"\n\n' for s in ("acc", "rep"))
    (tmp_path / "config.toml").write_text(config)

    # Against rate 0, each design is compared with its own rate-0 trajectories.
    by_rate = compare(tmp_path)
    assert by_rate.attrs["match"] == ["experiment", "regime", "window"]
    assert by_rate["seed_group"].eq("g").all()
    got = by_rate.set_index("regime")["mean_diff"]
    assert got["accumulate"] == pytest.approx(d_acc[0.1].mean())
    assert got["replace"] == pytest.approx(d_rep[0.1].mean())

    # Against a design: the other design at the same rate, same repeat, same size.
    by_design = compare(tmp_path, baseline="regime=accumulate").set_index("rate")
    assert by_design.attrs["match"] == ["rate"]
    assert by_design.loc[0.0, "mean_diff"] == pytest.approx(0.0, abs=1e-12)
    expected = d_rep[0.1] - d_acc[0.1]
    assert by_design.loc[0.1, "mean_diff"] == pytest.approx(expected.mean())
    assert by_design.loc[0.1, "p_wilcoxon"] == pytest.approx(stats.wilcoxon(expected).pvalue)

    # Without the config the studies are separate groups, so designs cannot pair.
    (tmp_path / "config.toml").unlink()
    with pytest.raises(UserError, match="no rows pair"):
        compare(tmp_path, baseline="regime=accumulate")


def test_old_run_with_total_collapse(tmp_path: Path) -> None:
    write_run(tmp_path, simulate_trajectories(SMALL_RUN, repeats=3))
    out = compare(tmp_path)
    assert set(out["seed_group"]) == {"collapse-rates", "lower-rates", "total-collapse"}
    tc = out.loc[out["seed_group"] == "total-collapse"].set_index("initial_size")
    assert sorted(tc.index) == [200, 800] and (tc["train_size"] == 3200).all()
    assert (tc["mean_diff"] < 0).all()
    coarse = compare(tmp_path, by=[])  # one row per seed group: rates averaged per repeat
    assert len(coarse) == 3 and (coarse["n_pairs"] == 3).all()
    with pytest.raises(UserError, match="'ece'") as err:
        compare(tmp_path, metric="ece")
    assert err.value.where == "--metric"


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ("foo=1", "unknown column 'foo'"),
        ("rate", "'rate' is not column=value"),
        ("rate=abc", "rate=abc: expected a number"),
        ("rate=0.7", "'rate=0.7' matches no rows"),
        ("model=logreg", "matches every row"),
        ("", "empty baseline"),
    ],
)
def test_bad_baselines_are_user_errors(tmp_path: Path, baseline: str, message: str) -> None:
    write_run(tmp_path, trajectories({0.1: np.zeros(3)}))
    with pytest.raises(UserError) as err:
        compare(tmp_path, baseline=baseline)
    assert err.value.where == "--baseline"
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_run_directories_are_user_errors(tmp_path: Path) -> None:
    for path in (tmp_path / "missing", tmp_path):
        with pytest.raises(UserError) as err:
            compare(path)
        assert err.value.where == str(path)
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="not a directory"):
        compare(tmp_path / "file")


def test_compare_results_is_pure_and_types_values_by_column() -> None:
    frames = trajectories({0.1: np.array([-0.01, -0.02, -0.03])}, arms=True)
    results = pd.concat(frames, ignore_index=True)
    before = results.copy()
    a = compare_results(results, "rate=0.0")
    b = compare_results(results, "rate=0, arms=true")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(results, before)


def test_format_compare_table(tmp_path: Path) -> None:
    write_run(tmp_path, trajectories({0.1: symmetric(10, 0.004, -0.03), 0.2: symmetric(10, 1e-3)}))
    console = Console(record=True, width=250)
    console.print(format_compare_table(compare(tmp_path)))
    text = console.export_text()
    assert "accuracy: paired difference to rate=0 (last step)" in text
    assert re.search(r"10 %.*300.*−3\.00.*worse", text)
    assert re.search(r"20 %.*equivalent within ±0\.005", text)
    assert "p TOST ±0.50" in text and "MDE (pp)" in text


# --- the command ------------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_compare_command_prints_the_table_and_saves_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    effects = {0.1: symmetric(10, 0.004, -0.03), 0.2: symmetric(10, 1e-3)}
    write_run(tmp_path, trajectories(effects))
    csv = tmp_path / "compare.csv"
    code, out, err = run_cli(capsys, "compare", str(tmp_path), "--out", str(csv))
    assert code == 0, err
    assert "accuracy: paired difference to rate=0 (last step)" in out
    assert re.search(r"10 %.*300.*−3\.00.*worse", out)
    assert re.search(r"20 %.*equivalent within ±0\.005", out)
    assert "hint:" not in out  # 10 repeats: the Wilcoxon test can reach significance
    saved = pd.read_csv(csv)
    expected = compare(tmp_path)
    assert (
        saved["verdict"].tolist()
        == expected["verdict"].tolist()
        == [
            "worse",
            "equivalent within ±0.005",
        ]
    )
    assert saved["p_holm"].to_numpy() == pytest.approx(expected["p_holm"].to_numpy())
    assert f"saved: {csv}" in out.replace("\n", "")


def test_compare_command_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 5 repeats: Wilcoxon's smallest two-sided p is 0.0625, so only the t-test says "worse".
    d = np.array([-0.02, -0.025, -0.015, -0.03, -0.02])
    frames = trajectories({0.1: d}) + trajectories({0.1: d / 10}, experiment="other", seed=1)
    write_run(tmp_path, frames)
    argv = ["compare", str(tmp_path), "--study", "lower-rates"]
    code, out, _ = run_cli(capsys, *argv, "--test", "wilcoxon")
    assert code == 0 and re.search(r"10 %.*300.*−2\.25.*inconclusive", out)  # HL shift first
    assert "hint: with 5 repeats the Wilcoxon test" in " ".join(out.split())
    assert "--test t" in out
    assert "needs at least 6 repeats to call anything" in " ".join(out.split())
    code, out, _ = run_cli(capsys, *argv)  # the t-test is the default
    assert code == 0 and re.search(r"10 %.*300.*−2\.20.*worse", out) and "hint:" not in out
    assert "p Holm (t)" in out and "other" not in out
    assert "What this run can detect (paired t-test, 5 repeats, 80 % power)" in out

    code, out, _ = run_cli(capsys, *argv, "--all-steps", "--metric", "ece", "--margin", "0.01")
    assert code == 0 and "ece: paired difference to rate=0 (every step)" in out
    for size in ("100", "200", "300"):
        assert re.search(rf"10 % +│ +{size} ", out), size
    code, out, _ = run_cli(capsys, *argv, "--baseline", "rate=0.1", "--test", "t")
    assert code == 0 and "paired difference to rate=0.1" in out
    assert re.search(r"0 %.*300.*\+2\.20.*better", out)


def test_wilcoxon_floor() -> None:
    assert wilcoxon_floor(5) == pytest.approx(0.0625)
    assert wilcoxon_floor(6) == pytest.approx(0.03125)
    assert wilcoxon_floor(9, 10) == pytest.approx(10 / 256)
    assert wilcoxon_floor(3, 4) == 1.0 and wilcoxon_floor(0) == 1.0


@pytest.mark.parametrize(
    ("args", "where", "fragment"),
    [
        (["--baseline", "rate=0.7"], "--baseline", "matches no rows"),
        (["--baseline", "foo=1"], "--baseline", "unknown column 'foo'"),
        (["--metric", "nope"], "--metric", "no column 'nope'"),
        (["--margin", "-0.01"], "--margin", "0 or more"),
        (["--test", "z"], "--test", "wilcoxon or t"),
        (["--study", "nope"], "--study", "studies: lower-rates"),
        (["--out", "table.txt"], "--out", ".csv"),
        (["--out", "missing/dir/table.csv"], "--out", "no such directory"),
        (["--margin", "abc"], "--margin", "valid number"),
    ],
)
def test_compare_command_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], where: str, fragment: str
) -> None:
    write_run(tmp_path, trajectories({0.1: np.zeros(3)}))
    code, out, err = run_cli(capsys, "compare", str(tmp_path), *args)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert where in lines[0] and fragment in lines[0], lines[0]
    assert out == ""


def test_compare_command_on_what_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file.txt").write_text("")
    for target, fragment in [
        (tmp_path / "missing", "not a directory"),
        (tmp_path, "not a run directory"),
        (tmp_path / "file.txt", "not a directory"),
    ]:
        code, _, err = run_cli(capsys, "compare", str(target))
        assert code == 2 and err.count("\n") == 1 and fragment in err and str(target) in err
    (tmp_path / "results").mkdir()
    code, _, err = run_cli(capsys, "compare", str(tmp_path))
    assert code == 2 and "no results" in err and err.count("\n") == 1


# --- issue #10, defects 1, 2, 3, 6, 7 and the power command ---------------------------------


def test_a_group_without_a_baseline_is_listed_not_dropped(tmp_path: Path) -> None:
    # designs: accumulate and threshold have rate-0 twins, `sampled` has none. Against
    # rate=0 the twins make label_policy a matched column, so `sampled` has no partner.
    d = {1.0: np.array([-0.03, -0.02, -0.04, -0.03, -0.02, -0.03])}
    acc = trajectories(d, "accumulate")
    thr = trajectories(d, "threshold", label_policy="threshold")
    sampled = [f for f in trajectories(d, "sampled", label_policy="sample") if f["rate"][0] > 0]
    write_run(tmp_path, acc + thr + sampled)
    names = ("accumulate", "threshold", "sampled")
    config = "".join(f'[[study]]\nname = "{s}"\nseed_group = "designs"\n\n' for s in names)
    (tmp_path / "config.toml").write_text(config)
    out = compare(tmp_path)
    assert len(out) == 3  # before: 2 rows, `sampled` silently gone
    row = out.set_index("experiment").loc["sampled"]
    assert row["verdict"] == "no baseline" and row["n_pairs"] == 0
    assert row["note"] == "no baseline: no rate=0 row with label_policy=sample"
    assert np.isnan(row["mean_diff"]) and row["train_size"] == 300
    paired = out.loc[out["experiment"] != "sampled"]
    assert paired["verdict"].eq("worse").all() and paired["n_pairs"].eq(6).all()
    table = render(format_compare_table(out))
    assert "no baseline" in table and "label_policy=sample" in table
    assert out.attrs["unpaired"] == 1


def test_verdict_follows_the_estimate_of_the_chosen_test(tmp_path: Path) -> None:
    # Mean negative, median positive: the Wilcoxon test (p = 0.033) is about the shift of the
    # median, so its verdict must say "better"; before, the mean's sign made it "worse".
    d = np.array([-0.20] + [0.01] * 11)
    write_run(tmp_path, trajectories({0.1: d}))
    row = compare(tmp_path, test="wilcoxon").iloc[0]
    assert row["p_wilcoxon"] == pytest.approx(0.0332, abs=1e-4)
    assert row["mean_diff"] < 0 < row["hl_diff"] == pytest.approx(0.01)
    assert row["ci_low_hl"] > 0  # the signed-rank interval agrees with the test
    assert row["verdict"] == "better"
    t_row = compare(tmp_path, test="t").iloc[0]  # the t-test: mean −0.0075, p = 0.55
    assert t_row["verdict"] == "inconclusive" and t_row["ci_low_t"] < 0 < t_row["ci_high_t"]


def test_mde_is_that_of_the_rule_that_decides(tmp_path: Path) -> None:
    # 5 repeats, 10 rates: the Wilcoxon rule can never reject (floor 10 · 2/32), so no MDE;
    # the t rule's MDE is the effect it detects with 80 % power after Holm over 10 groups.
    rng = np.random.default_rng(3)
    effects = {r / 100: rng.normal(-0.01, 0.005, 5) for r in range(1, 11)}
    write_run(tmp_path, trajectories(effects))
    wil = compare(tmp_path, test="wilcoxon")
    assert wil["mde"].isna().all()  # before: a t-test MDE with 0 power under this rule
    assert "needs at least 9 repeats" in wil.attrs["detectable"]
    t = compare(tmp_path, test="t")
    for sd, mde in t[["sd_diff", "mde"]].itertuples(index=False):
        assert rule_power(mde, sd, 5, "t", 10) == pytest.approx(0.8, abs=1e-6)
        # The old, unadjusted MDE has only about a quarter of that power under this rule.
        assert rule_power(min_detectable_difference(sd, 5), sd, 5, "t", 10) < 0.3
    assert "Holm over 10 groups, 5 repeats" in t.attrs["detectable"]


def test_every_step_gives_a_simultaneous_band(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    write_run(tmp_path, trajectories({0.1: rng.normal(-0.02, 0.01, 10)}))
    out = compare(tmp_path, at="all")
    wide = out.dropna(subset=["ci_low_band"])
    assert len(wide) == 2  # the first step has no spread (all differences zero)
    assert (wide["ci_low_band"] < wide["ci_low_t"]).all()
    assert (wide["ci_high_band"] > wide["ci_high_t"]).all()
    assert compare(tmp_path)["ci_low_band"].isna().all()  # last step only: no band
    text = render(format_compare_table(out))
    assert "95% band, all steps" in text and "exploratory" in text


def test_margins_are_in_each_metrics_own_units(tmp_path: Path) -> None:
    frames = trajectories({0.1: symmetric(10, 0.001)})
    for f in frames:
        f["log_loss"] = 0.4 + f["accuracy"] / 1000
        f["perplexity"] = 120.0 + 10 * f["accuracy"]
    write_run(tmp_path, frames)
    assert compare(tmp_path).attrs["margin"] == METRICS["accuracy"].margin == 0.005
    log_loss = compare(tmp_path, metric="log_loss")
    assert log_loss.attrs["margin"] == 0.01 and log_loss["margin"].eq(0.01).all()
    assert log_loss["verdict"].tolist() == ["equivalent within ±0.01"]
    perplexity = compare(tmp_path, metric="perplexity")  # no scale-free default: no TOST
    assert perplexity.attrs["margin"] is None and perplexity["p_tost"].isna().all()
    assert perplexity["verdict"].tolist() == ["inconclusive"]
    assert "no default margin" in render(format_compare_table(perplexity))
    assert compare(tmp_path, metric="perplexity", margin=1.0)["verdict"].tolist() == [
        "equivalent within ±1"
    ]
    assert metric_info("perplexity").direction == -1 and not metric_info("perplexity").percent
    assert metric_info("vocabulary_size") == Metric("vocabulary_size", 1, False, None)
    assert all(m.direction in (-1, 0, 1) for m in METRICS.values())


def test_power_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "power", "--sd", "0.004", "--effect", "0.005", "--groups", "10")
    need = repeats_needed(0.005, 0.004, "t", 10)
    assert code == 0 and len(out.strip().splitlines()) == 1
    assert f": {need} repeats (power" in out and "Holm over 10 groups" in out
    assert (
        rule_power(0.005, 0.004, need, "t", 10) >= 0.8 > rule_power(0.005, 0.004, need - 1, "t", 10)
    )
    code, out, _ = run_cli(capsys, "power", "--sd", "0.004", "--repeats", "5", "--test", "wilcoxon")
    assert code == 0 and "nothing can be detected" in out and "at least 6 repeats" in out
    write_run(tmp_path, trajectories({0.1: np.array([-0.02, -0.025, -0.015, -0.03, -0.02])}))
    code, out, _ = run_cli(capsys, "power", str(tmp_path), "--repeats", "5", "--effect", "0.01")
    sd = float(np.std([-0.02, -0.025, -0.015, -0.03, -0.02], ddof=1))
    mde = detectable_effect(sd, 5, "t", 1)
    assert code == 0 and len(out.strip().splitlines()) == 2
    assert f"is {float(mde) * 100:.3g} pp" in out and f"sd {sd * 100:.3g} pp" in out
    code, _, err = run_cli(capsys, "power", "--effect", "0.01")
    assert code == 2 and "--sd" in err and "Traceback" not in err
    code, _, err = run_cli(capsys, "power", "--sd", "0.01")
    assert code == 2 and "--effect" in err


def render(table: object) -> str:
    console = Console(width=400, record=True)
    console.print(table)
    return console.export_text()
