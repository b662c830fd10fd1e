"""``generations``: bred models (the original's side study).

Generations of ``population`` models, each trained on a fresh sample of ``sample_size`` reviews
whose share ``rate`` its parent labels, with hyper-parameters mutated from the parent; the best
``keep`` by accuracy on ``validation_size`` held-out reviews parent the next generation, until no
child beats its parent or after ``max_generations``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelcollapse.engines.base import (
    ENGINES,
    GenerationalEngine,
    GenerationalSummary,
    SummaryTable,
    rate_label,
    scaled,
    split_rows,
)


class GenerationsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sample_size: int = Field(ge=1)
    validation_size: int = Field(default=1000, ge=1)
    population: int = Field(default=6, ge=1)
    keep: int = Field(default=2, ge=1)
    max_generations: int = Field(default=10, ge=1)

    @model_validator(mode="after")
    def _keep_within_population(self) -> GenerationsSettings:
        if self.keep > self.population:
            raise ValueError(f"keep ({self.keep}) exceeds population ({self.population})")
        return self


def _summary_cells(row) -> tuple[str, ...]:
    return (row.experiment, f"{row.rate:g}", str(row.repeats),
            f"{row.first_size:,}", f"{row.first_accuracy:.4f}",
            f"{row.last_step:.3g}", f"{row.last_accuracy:.4f}")  # fmt: skip


class GenerationsEngine(GenerationalEngine):
    name = "generations"
    Settings = GenerationsSettings
    series = ("experiment", "rate")
    result_columns = (
        "generation", "child_id", "parent_id", "hyperparameters", "validation_accuracy",
        "kept", "beats_parent", "stopped", "stop_reason",
    )  # fmt: skip
    summary_table = SummaryTable(
        title="mean test accuracy of bred models",
        caption="gen 0: generation 0's best model (by validation accuracy); final: the model "
        "each search ends with, after 'generations' generations (mean over repeats)",
        columns=("study", "rate", "reps", "n", "gen 0 acc", "generations", "final acc"),
        cells=_summary_cells,
    )

    figures = ("best-by-generation", "generation-calibration")
    generational_summary = GenerationalSummary(
        intro="Best of generation 0: test accuracy of generation 0's best model by validation "
        "accuracy; final model: the model each search ends with, once no child beats its "
        "parent. Δ: their difference within each repeat (percentage points).",
        headings=("Repeats", "Generations (mean)", "Sample size", "Best of generation 0",
                  "Final model", "Δ final − first"),
    )  # fmt: skip

    def generation_rows(self, rows):
        """Each generation's best model by validation accuracy, as the search picks parents."""
        from modelcollapse.results import best_per_generation

        return best_per_generation(rows)

    def endpoint_rows(self, rows):
        """First: generation 0's best child by validation accuracy; last: the model the
        search ends with (its stop row)."""
        from modelcollapse.results import best_per_generation, final_models, first_rows

        best = best_per_generation(rows)
        return first_rows(best.loc[best["step"] == 0]), final_models(rows)

    def pool_size(self, study, scale):
        """The validation set, then a fresh sample for each generation 0 … max_generations."""
        sample = scaled(study.sample_size, scale)
        return study.validation_size + (study.max_generations + 1) * sample

    def check_model(self, model) -> None:
        from modelcollapse.experiments.generations import check_mutable

        check_mutable(model)

    def variants(self, study):
        settings = tuple(
            (name, getattr(study, name))
            for name in ("population", "keep", "validation_size", "max_generations")
        )
        return [(f"rate={rate_label(r)}", r, settings) for r in study.rates]

    def cost(self, traj) -> int:
        # At most population children per generation, each fitted on one sample.
        n_fits = traj.setting("population") * (traj.setting("max_generations") + 1)
        return n_fits * traj.sizes[0]

    def run(self, traj, features, model, tokenizer):
        """Pool = the validation rows, then one fresh sample per generation, in draw order."""
        import pandas as pd

        from modelcollapse.experiments.generations import GenerationalSearch
        from modelcollapse.inputs import model_input

        pool, test, priority = split_rows(traj, features.n_rows, features.test_mask)
        n_validation, size = traj.setting("validation_size"), traj.sizes[0]
        samples = [
            pool[n_validation + g * size : n_validation + (g + 1) * size]
            for g in range(traj.setting("max_generations") + 1)
        ]
        search = GenerationalSearch(
            model, traj.rate, traj.setting("population"), traj.setting("keep"), traj.seed
        )
        # One priority per position in a sample: which rows a rate model-labels, every generation.
        search.fit(
            model_input(features, model), features.labels, samples, pool[:n_validation], test,
            priority[n_validation : n_validation + size], n_classes=features.n_classes,
        )  # fmt: skip
        frame = pd.DataFrame(search.records_)
        frame.insert(0, "step", frame["generation"])
        frame["n_train"] = frame["train_size"]
        for name in ("parent_id", "child_id", "hyperparameters", "stop_reason"):
            frame[name] = frame[name].astype("string")
        for name in ("kept", "beats_parent", "stopped"):
            frame[name] = frame[name].astype("boolean")
        return frame


ENGINES.register(GenerationsEngine.name, GenerationsEngine())
