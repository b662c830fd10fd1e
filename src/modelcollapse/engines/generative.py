"""``generative``: models that write the reviews (class-conditional trigram models, or a
registered generator such as ``neural``), for
``generations`` generations of ``sample_size`` reviews, under each of ``regimes``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from modelcollapse.engines.base import (
    ENGINES,
    GenerationalEngine,
    GenerationalSummary,
    SummaryTable,
    split_rows,
)
from modelcollapse.textmetrics import TEXT_COLUMNS  # rank_freq_*: NaN past a small vocabulary


class GenerativeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_size: int = Field(ge=1)
    generations: int = Field(default=10, ge=1)
    regimes: list[Literal["replace", "accumulate", "keep-real", "mixture"]] = Field(
        default_factory=lambda: ["replace", "accumulate"],
        min_length=1,
        description="replace: each generation trains on the last one's texts; accumulate: on "
        "every generation so far; keep-real: a fresh draw of keep_real_share real reviews plus "
        "written ones (same size); mixture: all real reviews plus mixture_lambda times as many "
        "written ones.",
    )
    keep_real_share: float = Field(
        default=0.1,
        gt=0,
        lt=1,
        description="keep-real: the share of each generation's corpus that is real reviews.",
    )
    mixture_lambda: float = Field(
        default=1.0,
        gt=0,
        description="mixture: written reviews per real review in each generation's corpus.",
    )
    lengths: Literal["generation-0", "current"] = Field(
        default="generation-0",
        description="Where written reviews take their lengths: the real reviews of their class, "
        "or the current corpus (which drifts under replace).",
    )

    # The model that writes the reviews (modelcollapse.generators.GENERATORS) and how it samples.
    generator: str = "trigram"
    temperature: float = Field(default=1.0, ge=0)
    top_k: int | None = Field(default=None, ge=1)
    top_p: float | None = Field(default=None, gt=0, le=1)
    generator_options: dict[str, Any] = Field(
        default_factory=dict,
        description="The generator's own options (sizes, training: docs/options.md), "
        "e.g. [study.generator_options] hidden = 128.",
    )

    @field_validator("generator")
    @classmethod
    def _known_generator(cls, name: str) -> str:
        from modelcollapse.generators import GENERATORS

        if name not in GENERATORS:
            raise ValueError(f"unknown generator {name!r} (expected one of: "
                             f"{', '.join(GENERATORS.names())})")  # fmt: skip
        return name

    @model_validator(mode="after")
    def _options_of_generator(self) -> GenerativeSettings:
        from modelcollapse.generators import check_generator_options

        self.generator_options = check_generator_options(self.generator, self.generator_options)
        return self

    @field_validator("regimes")
    @classmethod
    def _regimes_once(cls, regimes: list[str]) -> list[str]:
        if len(set(regimes)) != len(regimes):
            raise ValueError("regimes repeat")
        return regimes


def _summary_cells(row) -> tuple[str, ...]:
    return (row.experiment, row.series.removeprefix("regime="), str(row.repeats),
            f"{row.first_accuracy:.4f}", f"{row.last_step:g}",
            f"{row.last_size:,}", f"{row.last_accuracy:.4f}",
            f"{row.first_vocabulary:,.0f}→{row.last_vocabulary:,.0f}")  # fmt: skip


class GenerativeEngine(GenerationalEngine):
    name = "generative"
    Settings = GenerativeSettings
    has_rates = False
    series = ("experiment", "regime")
    position = "step"  # generations pair by number: sizes differ between regimes
    result_columns = ("regime", "vocabulary_size", *TEXT_COLUMNS)
    design_columns = ("keep_real_share", "mixture_lambda")  # NaN outside their regime
    summary_table = SummaryTable(
        title="mean test accuracy by generation (models write the reviews)",
        caption="gen 0: trained on the real reviews; gen: the last generation; vocab: "
        "distinct words written, gen 0 → last",
        columns=("study", "regime", "reps", "acc gen 0", "gen", "n", "acc", "vocab"),
        cells=_summary_cells,
        left=("study", "regime"),
        pad_edge=False,
    )

    figures = (
        "regime-curves",
        "diversity",
        "perplexity-histograms",
        "rank-frequency-tail",
        "text-measures",
        "generation-calibration",
    )
    generational_summary = GenerationalSummary(
        intro="Generation 0 is trained on the real reviews; every later one on reviews written "
        "by the study's generator (trigram models unless it names another). Δ: the change "
        "from generation 0 to the last, within each repeat (percentage points).",
        headings=("Repeats", "Generations", "Training size", "Accuracy, generation 0",
                  "Accuracy, last generation", "Δ last − first"),
    )  # fmt: skip

    def check(self, study) -> None:
        if study.rates != [0.0]:
            raise ValueError("a generative study has no labelling rates (every text is written)")
        filtered = study.temperature != 1 or study.top_k is not None or study.top_p is not None
        if filtered and study.generator == "trigram":
            raise ValueError("temperature, top_k and top_p need generator = 'neural' (the "
                             "trigram generator samples its own distribution only)")  # fmt: skip

    def variants(self, study):
        return [
            (f"regime={regime}", float("nan"),
             (("regime", regime), ("generations", study.generations),
              *_design(study, regime), ("lengths", study.lengths),
              *((name, getattr(study, name))
                for name in ("generator", "temperature", "top_k", "top_p")),
              # Only when set: the trigram designs' settings stay as they were.
              *((("generator_options", tuple(sorted(study.generator_options.items()))),)
                if study.generator_options else ())))
            for regime in study.regimes
        ]  # fmt: skip

    def cost(self, traj) -> int:
        # A classifier per generation; accumulate trains generation g on g + 1 samples.
        n = traj.setting("generations") + 1
        regime = traj.setting("regime")
        if regime == "accumulate":
            return n * (n + 1) // 2 * traj.sizes[0]
        if regime == "mixture":
            return round(n * (1 + dict(traj.settings)["mixture_lambda"]) * traj.sizes[0])
        return n * traj.sizes[0]

    def run(self, traj, features, model, tokenizer):
        import pandas as pd

        from modelcollapse.generative import GenerativeLoop

        pool, test, _ = split_rows(traj, features.n_rows, features.test_mask)
        docs, y = features.documents, features.labels
        regime = traj.setting("regime")
        design = dict(traj.settings)
        sampling = {k: design[k] for k in ("temperature", "top_k", "top_p") if k in design}
        loop = GenerativeLoop(
            model,
            traj.setting("generations"),
            regime,
            traj.seed,
            tokenizer=features.tokenizer,
            keep_real_share=design.get("keep_real_share", 0.1),
            mixture_lambda=design.get("mixture_lambda", 1.0),
            lengths=design.get("lengths", "generation-0"),
            generator=design.get("generator", "trigram"),
            generator_options=dict(design.get("generator_options", ())),
            sampling=None if sampling in ({}, {"temperature": 1.0, "top_k": None, "top_p": None})
            else sampling,
        )
        loop.fit(
            [docs[i] for i in pool], y[pool], [docs[i] for i in test], y[test],
            n_classes=features.n_classes,
        )  # fmt: skip
        frame = pd.DataFrame(loop.history_records())
        frame["n_train"] = frame["train_size"]
        frame["regime"] = regime
        for name in self.design_columns:
            frame[name] = float(design.get(name, float("nan")))
        return frame


def _design(study, regime: str) -> tuple[tuple[str, float], ...]:
    """The regime's own parameter, so that a key and the settings name the design run."""
    if regime == "keep-real":
        return (("keep_real_share", study.keep_real_share),)
    if regime == "mixture":
        return (("mixture_lambda", study.mixture_lambda),)
    return ()


ENGINES.register(GenerativeEngine.name, GenerativeEngine())
