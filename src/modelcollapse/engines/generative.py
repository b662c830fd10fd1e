"""``generative``: models that write the reviews (class-conditional trigram models), for
``generations`` generations of ``sample_size`` reviews, under each of ``regimes``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelcollapse.engines.base import ENGINES, GenerationalEngine, split_rows


class GenerativeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_size: int = Field(ge=1)
    generations: int = Field(default=10, ge=1)
    regimes: list[Literal["replace", "accumulate"]] = Field(
        default_factory=lambda: ["replace", "accumulate"], min_length=1
    )

    @field_validator("regimes")
    @classmethod
    def _regimes_once(cls, regimes: list[str]) -> list[str]:
        if len(set(regimes)) != len(regimes):
            raise ValueError("regimes repeat")
        return regimes


class GenerativeEngine(GenerationalEngine):
    name = "generative"
    Settings = GenerativeSettings
    has_rates = False
    series = ("experiment", "regime")
    position = "step"  # generations pair by number: sizes differ between regimes
    result_columns = ("regime", "vocabulary_size")

    def check(self, study) -> None:
        if study.rates != [0.0]:
            raise ValueError("a generative study has no labelling rates (every text is written)")

    def variants(self, study):
        return [
            (f"regime={regime}", float("nan"),
             (("regime", regime), ("generations", study.generations)))
            for regime in study.regimes
        ]  # fmt: skip

    def cost(self, traj) -> int:
        # A classifier per generation; accumulate trains generation g on g + 1 samples.
        n = traj.setting("generations") + 1
        grown = n * (n + 1) // 2 if traj.setting("regime") == "accumulate" else n
        return grown * traj.sizes[0]

    def run(self, traj, features, model, tokenizer):
        import pandas as pd

        from modelcollapse.generative import GenerativeLoop

        pool, test, _ = split_rows(traj, features.n_rows, features.test_mask)
        docs, y = features.documents, features.labels
        regime = traj.setting("regime")
        loop = GenerativeLoop(
            model, traj.setting("generations"), regime, traj.seed, tokenizer=features.tokenizer
        )
        loop.fit([docs[i] for i in pool], y[pool], [docs[i] for i in test], y[test])
        frame = pd.DataFrame(loop.history_records())
        frame["n_train"] = frame["train_size"]
        frame["regime"] = regime
        return frame


ENGINES.register(GenerativeEngine.name, GenerativeEngine())
