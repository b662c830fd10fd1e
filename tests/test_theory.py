"""Theory beside the data: verdicts on synthetic tables whose truth is set, interval coverage,
and one tiny run end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from modelcollapse.cli import main
from modelcollapse.theory import (
    CHANGE_TOLERANCE,
    PI2_6,
    equal_verdict,
    kept_accuracy_predicted,
    t_interval,
    theory,
)

STEPS = 30


def trajectories(
    rng: np.random.Generator,
    experiment: str,
    *,
    rate: float = 1.0,
    repeats: int = 5,
    error: callable,
    loop: dict | None = None,
    labels: tuple[float, float, float] | None = None,
    real_only_error: float | None = None,
) -> pd.DataFrame:
    """Rows of one family: ``error(step, repeat_effect)`` gives the mean test error;
    ``labels`` = (labeller accuracy, ϕ, ψ) simulates 300 model labels per step and a
    verifier keeping correct ones with ϕ and wrong ones with ψ."""
    rows = []
    for k in range(repeats):
        effect = rng.normal()
        for step in range(STEPS):
            acc = 1 - error(step, effect) + rng.normal(0, 0.003)
            row = dict(
                experiment=experiment,
                kind="rates",
                seed_group="g",
                model="logreg",
                tokenizer="fast",
                initial_size=1000,
                rate=rate,
                repeat=k,
                step=step,
                train_size=1000 + 300 * step,
                accuracy=acc,
                model_label_accuracy=np.nan,
                kept_label_accuracy=np.nan,
                accuracy_real_only=np.nan,
            )
            if real_only_error is not None:
                row["accuracy_real_only"] = 1 - real_only_error
            if labels is not None and step > 0:
                a, phi, psi = labels
                right = rng.binomial(300, a)
                kept_right = rng.binomial(right, phi)
                kept_wrong = rng.binomial(300 - right, psi)
                row["model_label_accuracy"] = right / 300
                row["kept_label_accuracy"] = kept_right / max(kept_right + kept_wrong, 1)
            row.update(loop or {})
            rows.append(row)
    return pd.DataFrame(rows)


def verdicts(table: pd.DataFrame) -> dict[str, str]:
    return dict(zip(table["check"] + " | " + table["family"], table["verdict"], strict=True))


def test_t_interval_is_scipys_and_kept_accuracy_formula():
    x = np.array([0.1, 0.3, 0.2, 0.5, 0.4])
    mean, low, high = t_interval(x)
    half = st.t.ppf(0.975, 4) * x.std(ddof=1) / np.sqrt(5)
    assert mean == pytest.approx(0.3) and (low, high) == pytest.approx((0.3 - half, 0.3 + half))
    assert np.isnan(t_interval([0.2])[1]) and t_interval([0.2, 0.2])[1:] == (0.2, 0.2)
    # e = 0.2, ϕ = 1, ψ = 0.25: kept right 0.8 / (0.8 + 0.05); at ψ/ϕ = (1−e)/e exactly one half
    assert kept_accuracy_predicted(0.8, 1.0, 0.25) == pytest.approx(0.8 / 0.85)
    assert kept_accuracy_predicted(0.8, 0.25, 1.0) == pytest.approx(0.5)
    assert equal_verdict(-0.01, 0.01, 0.0, 0.02) == "holds"
    assert equal_verdict(0.03, 0.05, 0.0, 0.02) == "violated"
    assert equal_verdict(0.01, 0.03, 0.0, 0.02) == "cannot tell"


def flat(level: float) -> callable:
    return lambda step, effect: level + 0.005 * effect


def test_feng_verdicts_follow_the_truth():
    rng = np.random.default_rng(1)
    below = trajectories(  # e = 0.2, ψ/ϕ = 0.1 < 4: kept labels ~ 0.976 right
        rng, "below", error=flat(0.15), labels=(0.8, 1.0, 0.1),
        loop=dict(keep_correct=1.0, keep_wrong=0.1),
    )  # fmt: skip
    above = trajectories(  # ψ/ϕ = 5 > 4: kept labels 0.8·0.2/(0.16+0.2) = 0.44 right; falls
        rng, "above", error=lambda s, e: 0.15 + 0.01 * s + 0.005 * e, labels=(0.8, 0.2, 1.0),
        loop=dict(keep_correct=0.2, keep_wrong=1.0),
    )  # fmt: skip
    # Recorded as ψ = 0.1, but the verifier really kept wrong labels with ψ = 0.6, and the
    # kept labels are worse than chance although the recorded ψ/ϕ is below the transition.
    lying = trajectories(
        rng, "lying", error=lambda s, e: 0.15 + 0.01 * s + 0.005 * e, labels=(0.3, 1.0, 0.6),
        loop=dict(keep_correct=1.0, keep_wrong=0.1),
    )  # fmt: skip
    plain = trajectories(rng, "plain", error=flat(0.2), labels=(0.8, 1.0, 1.0))
    table = theory(pd.concat([below, above, lying, plain])).table
    v = verdicts(table)
    assert v["Feng: kept-label accuracy | below · rate 1"] == "holds"
    assert v["Feng: breakdown point | below · rate 1"] == "holds"
    assert v["Feng: accuracy trend | below · rate 1"] == "holds"
    assert v["Feng: kept-label accuracy | above · rate 1"] == "holds"
    assert v["Feng: breakdown point | above · rate 1"] == "holds"
    assert v["Feng: accuracy trend | above · rate 1"] == "holds"
    assert v["Feng: kept-label accuracy | lying · rate 1"] == "violated"
    # e = 0.7 → (1−e)/e = 0.43 > 0.1: predicted above 0.5; measured 0.3/(0.3+0.42) = 0.42
    assert v["Feng: breakdown point | lying · rate 1"] == "violated"
    assert v["Feng: accuracy trend | lying · rate 1"] == "violated"
    feng = table.loc[table["check"].str.startswith("Feng"), "family"]
    assert not feng.str.startswith("plain").any()  # no verifier (ϕ = ψ = 1): not a Feng family
    row = table.loc[
        table["check"].eq("Feng: breakdown point") & table["family"].str.startswith("above")
    ]
    assert "above the transition" in row["prediction"].iloc[0]


def test_dey_donoho_verdicts_follow_the_truth_and_say_their_reference():
    rng = np.random.default_rng(2)
    sample = dict(label_policy="sample")
    holds = trajectories(rng, "holds", error=flat(0.24), loop=sample, real_only_error=0.2)
    broken = trajectories(rng, "broken", error=flat(0.40), loop=sample, real_only_error=0.2)
    # No arms: the rate-0 twin's first fit is the reference (error 0.2 there).
    no_arms = trajectories(rng, "twin", error=lambda s, e: 0.2 + 0.004 * s, loop=sample)
    twin = trajectories(rng, "twin", rate=0.0, error=flat(0.2), loop=sample)
    argmax = trajectories(rng, "argmax", error=flat(0.5), real_only_error=0.2)
    table = theory(pd.concat([holds, broken, no_arms, twin, argmax])).table
    v = verdicts(table)
    assert v["Dey & Donoho: risk ratio, at the last step | holds · rate 1"] == "holds"
    assert v["Dey & Donoho: risk ratio, max over steps | holds · rate 1"] == "holds"
    assert v["Dey & Donoho: risk ratio, at the last step | broken · rate 1"] == "violated"
    # 0.2 + 0.004·29 = 0.316 → ratio 1.58 at the end, just below π²/6
    last = table.loc[table["family"].eq("twin · rate 1") & table["check"].str.contains("last")]
    assert last["estimate"].iloc[0] == pytest.approx(0.316 / 0.2, abs=0.03)
    assert "rate-0 twin" in last["quantity"].iloc[0]
    assert "argmax · rate 1" not in set(table.loc[table["check"].str.startswith("Dey"), "family"])
    assert pytest.approx(1.6449, abs=1e-4) == PI2_6


def test_gerstgrasser_verdicts_follow_the_truth():
    rng = np.random.default_rng(3)
    replace = dict(regime="replace")
    grows = trajectories(rng, "grows", error=lambda s, e: 0.2 + 0.005 * s + 0.01 * e, loop=replace)
    still = trajectories(rng, "still", error=lambda s, e: 0.3 - 0.002 * s + 0.01 * e, loop=replace)
    bounded = trajectories(rng, "bounded", error=lambda s, e: 0.2 + 0.1 * (1 - 0.7**s))
    climbing = trajectories(rng, "climbing", error=lambda s, e: 0.2 + 0.003 * s)
    v = verdicts(theory(pd.concat([grows, still, bounded, climbing])).table)
    assert v["Gerstgrasser: replace, error grows | grows · rate 1"] == "holds"
    assert v["Gerstgrasser: replace, error grows | still · rate 1"] == "violated"
    assert v["Gerstgrasser: accumulate, error bounded | bounded · rate 1"] == "holds"
    assert v["Gerstgrasser: accumulate, error bounded | climbing · rate 1"] == "violated"
    assert CHANGE_TOLERANCE < 0.003 * 14  # the climbing case's true increase breaks the bound


def test_interval_of_the_replace_growth_covers_the_truth():
    """Seeds 0–99: per repeat the error's slope is 0.004 + 0.003·N(0, 1) per step, so the
    fitted change over the 30 steps has mean 0.004 × 29 = 0.116; the t-interval over 5 repeats
    must hold it in at least 90 % of seeds (it should in about 95 %)."""
    truth = 0.004 * (STEPS - 1)
    hits = 0
    seeds = range(100)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        table = trajectories(
            rng, "r", error=lambda s, e: 0.2 + (0.004 + 0.003 * e) * s, loop=dict(regime="replace")
        )
        row = theory(table).table.iloc[-2]  # replace row; accumulate is "not run"
        assert row["check"] == "Gerstgrasser: replace, error grows"
        hits += row["low"] <= truth <= row["high"]
    assert hits / len(seeds) >= 0.90


def test_absent_designs_are_listed_as_not_run():
    rng = np.random.default_rng(4)
    table = theory(trajectories(rng, "acc", error=flat(0.2))).table
    not_run = table.loc[table["verdict"] == "not run"]
    assert set(not_run["check"]) == {
        "Feng: breakdown point",
        "Dey & Donoho: risk ratio",
        "Gerstgrasser: replace, error grows",
    }
    assert not_run["note"].str.startswith("needs ").all()
    assert "keep_wrong" in not_run.loc[not_run["check"].str.startswith("Feng"), "note"].iloc[0]
    # One step (a total-collapse start at the largest size): no change to fit, not a family.
    one_step = trajectories(rng, "short", error=flat(0.2)).query("step == 0")
    short = theory(one_step).table
    assert (short["verdict"] == "not run").all()
    assert "3 steps" in short["note"].iloc[-1]
    empty = theory(pd.DataFrame({"experiment": [], "kind": []})).table
    assert (empty["verdict"] == "not run").all() and len(empty) == 4


TINY = """
name = "tiny-theory"
data = "demo"
model = "logreg"
tokenizer = "fast"

[[study]]
name = "sampled"
kind = "rates"
initial_size = 200
increment = 200
max_size = 1000
rates = [0.0, 1.0]
test_size = 400
repeats = 3
seed_group = "t"
[study.loop]
label_policy = "sample"
arms = true

[[study]]
name = "replace"
kind = "rates"
initial_size = 200
increment = 200
max_size = 1000
rates = [1.0]
test_size = 400
repeats = 3
seed_group = "t"
[study.loop]
regime = "replace"

[[study]]
name = "verified"
kind = "rates"
initial_size = 200
increment = 200
max_size = 1000
rates = [1.0]
test_size = 400
repeats = 3
seed_group = "t"
[study.loop]
keep_correct = 1.0
keep_wrong = 0.2
labeller = "generation0"
"""


def test_theory_command_and_report_on_a_demo_run(tmp_path, capsys, monkeypatch):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    run = tmp_path / "run"
    assert main(["run", str(config), "--out", str(run), "--no-report"]) == 0
    capsys.readouterr()
    assert main(["theory", str(run)]) == 0
    text = capsys.readouterr().out
    for check in ("Feng: kept-label accuracy", "Dey & Donoho", "Gerstgrasser: replace"):
        assert check in text
    assert "not run" not in text and "cannot tell" in text  # the notes say what it cannot tell
    assert main(["theory", str(run), "--study", "replace"]) == 0
    text = capsys.readouterr().out
    assert "Gerstgrasser: replace, error grows — replace" in text
    assert "Feng: breakdown point: not run: needs" in text
    assert main(["theory", str(run), "--study", "nope"]) == 2
    assert "--study" in capsys.readouterr().err
    from modelcollapse.report import build, build_report

    # The figures at 300 dpi take most of a report's time and are tested elsewhere.
    monkeypatch.setattr(build, "build_plots", lambda studies, groups: [])
    monkeypatch.setattr(build, "worth_plot", lambda answered: None)
    html = build_report(run).read_text(encoding="utf-8")
    assert html.index('id="answers"') < html.index('id="theory"') < html.index('id="summary"')
    assert "Dey &amp; Donoho" in html and "π²/6" in html
