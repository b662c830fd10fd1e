"""The report's summary tables show the k-class metrics (balanced accuracy, macro-F1, the
class-share TV distance) at the last model beside accuracy, for every kind, read from the
engines' ``summary_metrics``; results without those columns keep the accuracy-only table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from modelcollapse.report.figures import split_studies
from modelcollapse.report.html import _summary_html
from modelcollapse.report.tables import summary_table

METRICS = ("balanced_accuracy", "macro_f1", "pred_tv_distance")


def grid_results(repeats: int = 3) -> pd.DataFrame:
    """A 3-class `rates` study: rates 0 and 0.5, three steps; metrics that differ by rate,
    repeat and step so that only the last step's mean matches."""
    rng = np.random.default_rng(7)
    rows = []
    for repeat in range(repeats):
        for rate in (0.0, 0.5):
            for step, size in enumerate((100, 200, 300)):
                rows.append(
                    {"experiment": "rates", "kind": "rates", "repeat": repeat,
                     "trajectory": f"rates/rate={rate}/repeat={repeat}", "model": "nb",
                     "tokenizer": "fast", "rate": rate, "initial_size": 100, "step": step,
                     "train_size": size, "accuracy": 0.7 - rate * step * 0.1 + rng.normal(0, 0.01),
                     "balanced_accuracy": 0.6 - rate * step * 0.1 + rng.normal(0, 0.01),
                     "macro_f1": 0.55 - rate * step * 0.05 + rng.normal(0, 0.01),
                     "pred_tv_distance": 0.05 + rate * step * 0.1 + rng.normal(0, 0.01),
                     "predicted_share_0": 0.3, "predicted_share_1": 0.3,
                     "predicted_share_2": 0.4, "test_share_0": 1 / 3, "test_share_1": 1 / 3,
                     "test_share_2": 1 / 3}
                )  # fmt: skip
    return pd.DataFrame(rows)


def generative_results() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for repeat in range(2):
        for regime in ("accumulate", "replace"):
            for generation in range(3):
                worse = generation * (0.1 if regime == "replace" else 0.02)
                rows.append(
                    {"experiment": "gen", "kind": "generative", "repeat": repeat,
                     "trajectory": f"gen/regime={regime}/repeat={repeat}", "model": "nb",
                     "tokenizer": "fast", "rate": np.nan, "initial_size": 200, "regime": regime,
                     "step": generation, "train_size": 200,
                     "vocabulary_size": 500 - 50 * generation,
                     "accuracy": 0.7 - worse + rng.normal(0, 0.01),
                     "balanced_accuracy": 0.65 - worse + rng.normal(0, 0.01),
                     "macro_f1": 0.6 - worse + rng.normal(0, 0.01),
                     "pred_tv_distance": 0.02 + worse + rng.normal(0, 0.01)}
                )  # fmt: skip
    return pd.DataFrame(rows)


def last_means(results: pd.DataFrame, by: str) -> pd.DataFrame:
    last = results.loc[results["step"] == results["step"].max()]
    return last.groupby(by)[list(METRICS)].mean()


@pytest.mark.parametrize(
    ("results", "by"), [(grid_results(), "rate"), (generative_results(), "regime")]
)
def test_summary_tables_hold_the_k_class_metrics_at_the_last_model(results, by):
    (study,) = split_studies(results)
    table = summary_table(study)
    key = "rate" if by == "rate" else "label"
    expected = last_means(results, by)
    for metric in METRICS:
        got = table.set_index(key)[f"{metric}_last_mean"]
        np.testing.assert_allclose(got.to_numpy(), expected[metric].to_numpy(), rtol=1e-12)
        assert (table[f"{metric}_last_low"] < table[f"{metric}_last_mean"]).all()
        assert (table[f"{metric}_last_mean"] < table[f"{metric}_last_high"]).all()
    html = _summary_html(study, table)
    head = re.findall(r"<th>(.*?)</th>", html)
    assert head[-3:] == [
        "Balanced accuracy, last",
        "Macro-F1, last",
        "Class-share TV distance, last",
    ]
    first_row = re.search(r"<tbody><tr>(.*?)</tr>", html).group(1)
    cells = re.findall(r'<td class="num">(.*?)</td>', first_row)
    first_value = expected[METRICS[0]].iloc[0] * 100
    assert cells[-3].startswith(f"{first_value:.1f} [")
    assert "lower is better" in html


def test_results_without_the_metrics_keep_the_accuracy_table():
    results = grid_results().drop(columns=list(METRICS))
    results["pred_tv_distance"] = np.nan  # a column that exists but holds nothing
    (study,) = split_studies(results)
    table = summary_table(study)
    assert not [c for c in table.columns if c.endswith("_last_mean")]
    html = _summary_html(study, table)
    assert "Balanced accuracy" not in html and "TV distance" not in html
