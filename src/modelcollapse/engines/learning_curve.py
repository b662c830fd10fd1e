"""``learning-curve``: the loop over a size grid with true labels only."""

from __future__ import annotations

from modelcollapse.engines.base import ENGINES, Engine


class LearningCurveEngine(Engine):
    name = "learning-curve"
    has_rates = False
    figures = ("repeat-spread", "positive-rate")
    overview_panel = "repeat-spread"
    compares_rates = False
    splits_by_start = False

    def check(self, study) -> None:
        if study.rates != [0.0]:
            raise ValueError("a learning curve uses true labels only (rates = [0.0])")


ENGINES.register(LearningCurveEngine.name, LearningCurveEngine())
