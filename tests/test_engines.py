"""The built-in study kinds as engines: what each declares is what its runs record."""

from __future__ import annotations

import pytest

from modelcollapse.engines import ENGINES
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import validate_config
from modelcollapse.experiments.plan import RESULT_COLUMNS, build_plan, fitted_rows
from modelcollapse.runner import run_experiment

GRID = {"initial_size": 100, "increment": 100, "max_size": 300}
STUDIES = {
    "learning-curve": GRID,
    "total-collapse": {**GRID, "rates": [1.0]},
    "rates": {**GRID, "rates": [0.0, 0.5]},
    "generations": {"sample_size": 100, "validation_size": 100, "population": 2, "keep": 1,
                    "max_generations": 2, "rates": [0.0, 1.0]},
    "generative": {"sample_size": 100, "generations": 2, "test_size": 200},
}  # fmt: skip


def test_every_kind_records_what_its_engine_declares(tmp_path, small_reviews):
    assert set(STUDIES) == set(ENGINES)  # a new built-in kind gets a case here
    raw = {
        "model": "nb",
        "tokenizer": "fast",
        "data": str(small_reviews),
        "study": [{"name": k, "kind": k, "repeats": 1, **v} for k, v in STUDIES.items()],
    }
    results = run_experiment(validate_config(raw, "t"), tmp_path / "run").results
    assert list(results.columns[: len(RESULT_COLUMNS)]) == RESULT_COLUMNS
    for kind, engine in ENGINES.items():
        rows = results.loc[results["kind"] == kind]
        assert len(rows), kind
        own = [*engine.result_columns, *engine.series, engine.position]
        # The table holds every kind's columns: a kind's own must hold its values.
        assert [c for c in own if c not in rows or rows[c].isna().all()] == [], kind
        assert rows[list(engine.series)].notna().all().all(), kind
        assert rows[engine.position].notna().all(), kind
    assert "vocabulary_size" in set(ENGINES["generative"].result_columns)


def test_settings_are_each_kinds_own_with_defaults():
    def study(kind, **fields):
        raw = {"study": [{"name": "s", "kind": kind, "repeats": 1, **fields}]}
        return validate_config(raw, "t").study[0]

    generative = study("generative", sample_size=10)
    assert (generative.generations, generative.regimes) == (10, ["replace", "accumulate"])
    with pytest.raises(UserError, match="regimes repeat"):
        study("generative", sample_size=10, regimes=["replace", "replace"])
    with pytest.raises(UserError, match=r"\[study\.0\.population\] Input should be greater"):
        study("generations", sample_size=10, population=0)
    with pytest.raises(UserError, match="loop options do not apply to kind = 'generations'"):
        study("generations", sample_size=10, loop={"regime": "replace"})
    with pytest.raises(UserError, match="sample_size does not apply to kind = 'rates'"):
        study("rates", **GRID, sample_size=10)
    with pytest.raises(UserError, match="a learning curve uses true labels only"):
        study("learning-curve", **GRID, rates=[0.5])
    # The kind's settings sit where a resolved config.toml has always written them.
    dumped = study("generations", sample_size=10, seed_group="g").model_dump()
    assert list(dumped)[-7:] == [
        "loop", "sample_size", "validation_size", "population", "keep", "max_generations",
        "seed_group",
    ]  # fmt: skip


def test_plans_order_generational_trajectories_by_their_fits():
    raw = {
        "study": [
            {"name": "g", "kind": "generations", "repeats": 1, "sample_size": 1000},
            {"name": "r", "kind": "rates", "repeats": 1, "initial_size": 1000,
             "increment": 1000, "max_size": 3000},
        ]
    }  # fmt: skip
    plan = build_plan(validate_config(raw, "t"), 100_000)
    # 6 children for each of generations 0-10 on 1,000 rows: 66,000 rows, above the loop's 6,000
    assert [fitted_rows(t) for t in plan] == [66_000, 6_000]
