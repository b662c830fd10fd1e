"""The answers (trend, tolerable rate, worth of a model label, learning curves) recover a known
truth from synthetic result tables, and `modelcollapse answer` runs end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelcollapse.answers import (
    answers,
    dose_response,
    fit_power_law,
    jackknife,
    learning_curves,
    worth_of_labels,
)
from modelcollapse.cli import main
from modelcollapse.errors import UserError

SIZES = np.arange(1000, 10001, 500)
INITIAL = 1000


def err_curve(n, a=2.0, b=0.5, c=0.10):
    return a * np.asarray(n, dtype=float) ** (-b) + c


def synthetic_table(rng, rates=(0.0, 0.1, 0.3), worth=0.5, repeats=5, repeat_sd=0.01, noise=0.002):
    """A results table as the store holds it: rate r accumulates round(r × batch) model rows per
    batch, and its accuracy is rate 0's curve at human + worth × model rows (true worth)."""
    rows = []
    for k in range(repeats):
        shift = rng.normal(0, repeat_sd)
        for rate in rates:
            for step, n in enumerate(SIZES):
                model = round(rate * (n - INITIAL))
                acc = 1 - err_curve(n - model + worth * model) + shift + rng.normal(0, noise)
                rows.append(
                    dict(
                        experiment="s",
                        kind="rates",
                        trajectory=f"r{rate}-{k}",
                        repeat=k,
                        seed_group="s",
                        model="logreg",
                        tokenizer="fast",
                        initial_size=INITIAL,
                        rate=rate,
                        step=step,
                        train_size=n,
                        n_train=n,
                        n_model_labelled=model,
                        model_labelled_share=model / n,
                        accuracy=acc,
                    )
                )
    return pd.DataFrame(rows)


def test_jackknife_of_a_mean_is_the_t_interval():
    from scipy import stats

    x = np.array([0.3, -0.1, 0.5, 0.2, 0.9])
    est, _se, low, high, _ = jackknife(lambda keep: np.array([x[keep].mean()]), len(x))
    ci = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert est[0] == pytest.approx(x.mean())
    assert (low[0], high[0]) == pytest.approx(ci)


def test_trend_reaches_a_verdict_at_5_repeats_and_holds_its_level():
    """Power and false-positive rate of the slope test at 5 repeats, 11 rates 0-0.30, pair
    noise sd 0.4 pp per rate and per-repeat slope sd 1 pp per unit rate (300 simulations each)."""
    rng = np.random.default_rng(1)
    rates = np.round(np.arange(0, 0.31, 0.03), 2)

    def p_value(slope):
        u = rng.normal(0, 0.01, size=(5, 1))
        diffs = (slope + u) * rates + rng.normal(0, 0.004, size=(5, len(rates)))
        diffs[:, 0] = 0
        return dose_response(rates, diffs, margin=0.005)["p"]

    false_positive = np.mean([p_value(0.0) < 0.05 for _ in range(300)])
    power = np.mean([p_value(-0.03) < 0.05 for _ in range(300)])  # −0.9 pp at rate 0.30
    assert false_positive <= 0.085  # 0.05 + 2.8 binomial standard errors
    assert power >= 0.8


def test_tolerable_rate_covers_the_truth_and_is_censored_without_harm():
    """100 seeds: a line of slope −0.05 per unit rate and a 0.5 pp margin → tolerable rate 0.10."""
    rng = np.random.default_rng(2)
    rates = np.round(np.arange(0, 0.31, 0.03), 2)
    covered = 0
    for _ in range(100):
        diffs = (-0.05 + rng.normal(0, 0.01, (5, 1))) * rates + rng.normal(0, 0.003, (5, 11))
        out = dose_response(rates, diffs, margin=0.005)
        covered += out["tolerable_low"] <= 0.10 <= out["tolerable_high"]
    assert covered >= 90
    flat = dose_response(rates, rng.normal(0, 0.0001, (5, 11)) + 0.001 * rates, margin=0.005)
    assert flat["tolerable"] == np.inf and flat["tolerable_high"] == np.inf


def worth_coverage(worth, seeds, rate=0.3, repeats=5, repeat_sd=0.01, noise=0.002):
    """Per size 1,500-10,000: in how many of ``seeds`` tables of ``synthetic_table``'s model
    (built as arrays, which is faster) the interval, or the bound when censored, holds the
    true worth."""
    model = np.round(rate * (SIZES - INITIAL))
    human = SIZES - model
    covered = np.zeros(len(SIZES) - 1, dtype=int)
    for seed in range(seeds):
        rng = np.random.default_rng(100 + seed)
        shift = rng.normal(0, repeat_sd, (repeats, 1))
        base = 1 - err_curve(SIZES) + shift + rng.normal(0, noise, (repeats, len(SIZES)))
        dose = 1 - err_curve(human + worth * model) + shift
        dose = dose + rng.normal(0, noise, (repeats, len(SIZES)))
        w = worth_of_labels(SIZES, base, dose[:, 1:], human[1:], model[1:], top=1.0)
        covered += np.where(
            w["bound"] == "≥",
            w["worth"] <= worth,
            np.where(
                w["bound"] == "≤", w["worth"] >= worth, (w["low"] <= worth) & (worth <= w["high"])
            ),
        )
    return covered


@pytest.mark.parametrize("worth", [0.5, 1.0])
def test_worth_covers_the_true_worth_at_every_size(worth):
    """200 seeds of a 5-repeat table, rate 0.3, true worth 0.5 (n_eff 8,650 at the last size)
    and 1.0 (n_eff = n: the truth sits on dose 0's last point there): the interval or bound
    holds the truth in at least 90 % of seeds at every size 1,500-10,000, the last included
    (before the power-law continuation past the isotonic fit's end: 174 and 141 of 200 there,
    through noise-made "≥" bounds and jackknife fits stuck at the end)."""
    covered = worth_coverage(worth, seeds=200)
    assert covered.min() >= 180, dict(zip(SIZES[1:].tolist(), covered.tolist(), strict=True))


def test_worth_past_dose_0s_last_point_is_an_estimate_unless_its_interval_is():
    """Two repeats whose dose matches dose 0 at 9,000 and 11,500 rows (their mean past dose 0's
    last size, 10,000): an estimate with an interval reaching back inside, not a "≥" bound; and
    the continuation of an exact power law lands on the size that reaches the target."""
    from modelcollapse.answers import _continue

    base = np.tile(1 - err_curve(SIZES), (2, 1))
    target = (1 - err_curve(np.array([[9000.0], [11500.0]]))).reshape(2, 1)
    w = worth_of_labels(SIZES, base, target, np.array([7300.0]), np.array([2700.0]), top=1.0)
    row = w.iloc[0]
    assert row["bound"] == "" and row["n_eff"] > 10000 and row["n_beyond"] == 1
    assert row["low"] < 1.0 < row["high"]  # 1.0: the worth at dose 0's last size
    end = (np.log(10000.0), 1 - err_curve(10000))
    log_n = _continue(end, 1 - err_curve(np.array([11500.0, 1e6])), 1.0, 0.5, 0.10)
    np.testing.assert_allclose(np.exp(log_n), [11500.0, 1e6], rtol=1e-9)
    assert _continue(end, np.array([0.95]), 1.0, 0.5, 0.10)[0] == np.inf  # past the plateau


def test_worth_is_one_for_human_labels_and_bounded_out_of_range():
    rng = np.random.default_rng(3)
    table = synthetic_table(rng, rates=(0.0, 0.3), worth=1.0, noise=0.0, repeat_sd=0.0)
    ans = answers(table)
    inside = ans.worth.loc[ans.worth["bound"] == ""]
    assert len(inside) > 10
    np.testing.assert_allclose(inside["worth"], 1.0, atol=0.02)
    # Worth 3: rate 0.3 beats rate 0's last point, so the worth there is only a lower bound.
    better = answers(synthetic_table(rng, rates=(0.0, 0.3), worth=3.0, noise=0.0, repeat_sd=0.0))
    last = better.worth.iloc[-1]
    assert last["bound"] == "≥" and np.isnan(last["low"]) and last["worth"] < 3.0


def test_exponent_covers_the_truth():
    """50 seeds of 5 repeats on 15 sizes from 100 to 100,000, err = 1.5·n^−0.4 + 0.05: b's
    jackknife interval holds 0.4 in at least 90 % of seeds."""
    sizes = np.geomspace(100, 100_000, 15).round()
    truth = 1.5 * sizes**-0.4 + 0.05
    covered = 0
    for seed in range(50):
        rng = np.random.default_rng(200 + seed)
        err = truth + rng.normal(0, 0.004, (5, 1)) + rng.normal(0, 0.002, (5, len(sizes)))
        frame = learning_curves(sizes, {0.0: err}, extrapolate=1e6)
        covered += frame["b_low"].iloc[0] <= 0.4 <= frame["b_high"].iloc[0]
    assert covered >= 45


def test_power_law_fit_recovers_parameters_exactly():
    sizes = np.geomspace(100, 100_000, 12)
    a, b, c = fit_power_law(sizes, 1.5 * sizes**-0.4 + 0.05)
    assert b == pytest.approx(0.4, abs=1e-3) and c == pytest.approx(0.05, abs=1e-3)
    assert a * (100 / 1) ** 0 == pytest.approx(1.5 * 100**-0.4, rel=1e-3)  # a at n₀ = 100


def test_power_law_fit_matches_scipy_curve_fit():
    """The variable-projection fit reaches the least-squares optimum curve_fit finds from a
    generic start (or a lower one)."""
    from scipy.optimize import curve_fit

    rng = np.random.default_rng(6)
    sizes = np.arange(1000, 10001, 100, dtype=float)
    for _ in range(5):
        err = 2.0 * sizes ** -rng.uniform(0.2, 0.7) + rng.uniform(0.02, 0.2)
        err += rng.normal(0, 0.002, len(sizes))
        mine = fit_power_law(sizes, err)
        u = sizes / sizes.min()

        def f(u, a, b, c):
            return a * u ** (-b) + c

        start = (err[0] - 0.9 * err.min(), 0.5, 0.9 * err.min())
        ref, _ = curve_fit(f, u, err, p0=start, bounds=([0, 1e-3, 0], [np.inf, 5, 1]))
        sse_mine = np.sum((f(u, *mine) - err) ** 2)
        sse_ref = np.sum((f(u, *ref) - err) ** 2)
        assert sse_mine <= sse_ref * (1 + 1e-6)


def test_changed_plateau_is_detected_against_rate_0():
    rng = np.random.default_rng(4)
    sizes = np.geomspace(100, 100_000, 15).round()
    shift = rng.normal(0, 0.004, (5, 1))
    base = 1.5 * sizes**-0.4 + 0.05 + shift + rng.normal(0, 0.001, (5, 15))
    worse = 1.5 * sizes**-0.4 + 0.09 + shift + rng.normal(0, 0.001, (5, 15))
    same = 1.5 * sizes**-0.4 + 0.05 + shift + rng.normal(0, 0.001, (5, 15))
    frame = learning_curves(sizes, {0.0: base, 0.5: worse, 0.1: same}, extrapolate=1e6)
    by = frame.set_index("dose")
    assert by.loc[0.5, "p_c_vs_0"] < 0.01
    assert by.loc[0.1, "p_c_vs_0"] > 0.01
    assert by.loc[0.5, "c"] == pytest.approx(0.09, abs=0.01)


def test_answers_orders_and_flags_families():
    rng = np.random.default_rng(5)
    table = synthetic_table(rng, rates=(0.0, 0.1, 0.3), worth=0.0)
    lonely = table.loc[table["rate"] > 0].assign(seed_group="t", experiment="t")
    ans = answers(pd.concat([table, lonely]))
    assert list(ans.trend["family"]) == ["s"]
    assert ans.trend["verdict"].iloc[0] == "worse with dose"
    assert any("t: no rate 0" in n for n in ans.notes)
    assert set(ans.long()["section"]) == {"trend", "tolerable", "effect", "worth", "curve"}
    with pytest.raises(UserError, match="margin"):
        answers(table, metric="accuracy", margin=-1)


TINY = """
name = "tiny"
data = "demo"
model = "logreg"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 200
increment = 200
max_size = 1000
rates = [0.0, 0.5, 1.0]
test_size = 400
repeats = 3
"""


def test_answer_command_on_a_demo_run(tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    run = tmp_path / "run"
    assert main(["run", str(config), "--out", str(run), "--no-report"]) == 0
    capsys.readouterr()
    out_csv = tmp_path / "answers.csv"
    assert main(["answer", str(run), "--study", "rates", "--out", str(out_csv)]) == 0
    text = capsys.readouterr().out
    assert text.index("Dose–response") < text.index("Tolerable") < text.index("Worth")
    assert text.index("Learning curves") < text.index("cannot tell")
    saved = pd.read_csv(out_csv)
    assert {"trend", "tolerable", "worth", "curve"} <= set(saved["section"])
    worth = saved.loc[saved["section"] == "worth"]
    assert set(worth["dose"]) == {0.5, 1.0}
    from modelcollapse.report import build_report

    html = build_report(run).read_text(encoding="utf-8")
    assert html.index('id="answers"') < html.index('id="summary"')
    assert "Worth of a model label" in html and "answers-worth.png" in html
    capsys.readouterr()
    # compare leads with the answers (trend, tolerable rate, worth), then its per-rate table
    assert main(["compare", str(run)]) == 0
    text = capsys.readouterr().out
    assert text.index("Dose–response") < text.index("Tolerable") < text.index("Worth")
    assert text.index("Worth") < text.index("paired difference to rate=0")
    assert "Learning curves:" not in text and "modelcollapse answer" in text
    assert main(["compare", str(run), "--baseline", "rate=0.5"]) == 0
    assert "Dose–response" not in capsys.readouterr().out
    assert main(["compare", str(run), "--metric", "predicted_positive_rate"]) == 0
    assert "answers: none for this run" in capsys.readouterr().out
    assert main(["answer", str(run), "--metric", "nope"]) == 2
    assert "--metric" in capsys.readouterr().err
    assert main(["answer", str(run), "--study", "nope"]) == 2
    assert "--study" in capsys.readouterr().err
