"""Generations of models: mutation, selection by validation, the stop rule, a CLI run."""

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from modelcollapse.cli import main
from modelcollapse.data.demo import make_demo_corpus
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import load_config, validate_config
from modelcollapse.experiments.generations import (
    PARAM_SPACES,
    GenerationalSearch,
    check_mutable,
    mutate,
    param_space,
)
from modelcollapse.experiments.plan import build_plan
from modelcollapse.models import MODELS, ModelSpec, get_model
from modelcollapse.runner import prepare_run


def test_every_registered_model_has_a_parameter_space():
    # Models that read documents too (tests/test_documents_generational.py).
    for name, spec in MODELS.items():
        assert param_space(spec.make(0)), name
    logreg = param_space(get_model("logreg").make(0))
    assert [r.name for r in logreg] == ["logisticregression__C"]  # the pipeline's last step
    assert param_space(LinearSVC()) is None


def test_an_unknown_estimator_is_refused_at_planning_time():
    svm = ModelSpec.from_estimator(LinearSVC(), name="svm")
    with pytest.raises(UserError, match="--model"):
        check_mutable(svm)
    config = load_config("generations")
    with pytest.raises(UserError, match=r"--model.*'svm'"):
        build_plan(config, 10_000_000, model=svm)


@pytest.mark.parametrize("family", list(PARAM_SPACES), ids=lambda f: f.__name__)
def test_mutation_stays_within_bounds(family):
    space = PARAM_SPACES[family]
    rng = np.random.default_rng(0)
    starts = [{r.name: int(v) if r.integer else v for r in space} for v in (1e-9, 1e9)]
    if family.__name__ == "RandomForestClassifier":  # seed-rf as made: "sqrt", and no depth limit
        starts.append({"n_estimators": 1000, "max_depth": None, "max_features": "sqrt",
                       "min_samples_leaf": 1})  # fmt: skip
    for params in starts:
        seen = []
        for _ in range(300):
            params = mutate(params, space, rng, n_features=5000)
            for r in space:
                assert r.low <= params[r.name] <= r.high
                assert isinstance(params[r.name], int if r.integer else float)
            seen.append(params)
        for r in space:  # and it moves
            values = [p[r.name] for p in seen]
            assert len(set(values)) > 3, r.name


def _toy_data(n=2400, n_features=60, seed=0):
    """Two classes whose word counts differ a little: accuracy well above chance, not perfect."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(np.int8)
    rates = np.where(
        y[:, None] == 1, np.linspace(0.5, 1.5, n_features), np.linspace(1.5, 0.5, n_features)
    )
    X = sp.csr_matrix(rng.poisson(rates * 0.3).astype(np.int32))
    return X, y


def _search(rate=0.5, seed=3, y=None, population=5, keep=2, generations=4, size=200):
    X, y_toy = _toy_data()
    y = y_toy if y is None else y
    rows = np.random.default_rng(seed).permutation(len(y))
    validation, test = rows[:300], rows[300:700]
    samples = [rows[700 + g * size : 700 + (g + 1) * size] for g in range(generations + 1)]
    priority = np.random.default_rng(seed + 1).random(size)
    search = GenerationalSearch(get_model("nb"), rate, population, keep, random_state=seed)
    search.fit(X, y, samples, validation, test, priority)
    return pd.DataFrame(search.records_), search


@pytest.fixture(scope="module")
def runs():
    return {(rate, seed): _search(rate, seed)[0] for rate in (0.0, 0.5) for seed in (3, 4)}


def test_the_best_by_validation_are_kept_and_parent_the_next_generation(runs):
    for table in runs.values():
        children = table[~table["stopped"]]
        for g, gen in children.groupby("generation"):
            assert len(gen) == 5
            ranked = gen.sort_values("validation_accuracy", ascending=False, kind="stable")
            assert set(ranked["child_id"][:2]) == set(gen.loc[gen["kept"], "child_id"])
            later = children[children["generation"] == g + 1]
            if len(later):
                assert set(later["parent_id"]) <= set(gen.loc[gen["kept"], "child_id"])
        first = children[children["generation"] == 0]
        assert first["parent_id"].isna().all()
        assert json.loads(first["hyperparameters"].iloc[0]) == {"alpha": 1.0}  # the model as made


def test_the_search_stops_when_no_child_beats_its_parent(runs):
    for table in runs.values():
        children = table[~table["stopped"]].set_index("child_id")
        later = children[children["generation"] > 0]
        parent_accuracy = children.loc[later["parent_id"], "validation_accuracy"].to_numpy()
        assert (later["beats_parent"] == (later["validation_accuracy"] > parent_accuracy)).all()
        improved = later.groupby("generation")["beats_parent"].any()
        stop = table[table["stopped"]]
        assert len(stop) == 1 and stop["generation"].iloc[0] == children["generation"].max()
        assert improved.iloc[:-1].all()  # every generation before the last had a better child
        reason = "max_generations" if improved.iloc[-1] else "no child beat its parent"
        assert stop["stop_reason"].iloc[0] == reason
    # Generation 1 improves on seed 3 (the run above went on to generation 2): the cap stops it.
    table, _ = _search(0.0, 3, generations=1)
    assert table.loc[table["stopped"], ["generation", "stop_reason"]].values.tolist() == [
        [1, "max_generations"]
    ]
    # Every model ties (one class: each predicts it): no child can beat its parent.
    table, search = _search(y=np.ones(2400, dtype=np.int8))
    assert table["generation"].max() == 1
    assert table.loc[table["stopped"], "stop_reason"].item() == "no child beat its parent"
    assert search.final_id_ == "g1.0"  # ties go to the earliest: the children come first


def test_same_seed_same_search_and_rates_pair(runs):
    again, _ = _search(0.5, 3)
    timing = ["fit_seconds"]
    pd.testing.assert_frame_equal(again.drop(columns=timing), runs[(0.5, 3)].drop(columns=timing))
    a, b = runs[(0.0, 3)], runs[(0.5, 3)]
    first = ["child_id", "hyperparameters", "validation_accuracy", "accuracy"]
    pd.testing.assert_frame_equal(
        a.loc[a["generation"] == 0, first], b.loc[b["generation"] == 0, first]
    )
    labelled = b.loc[(b["generation"] > 0) & ~b["stopped"], "n_model_labelled"]
    assert (labelled == 100).all() and (a["n_model_labelled"] == 0).all()


SMALL = """
name = "gens-small"
model = "nb"
tokenizer = "fast"

[[study]]
name = "breed"
kind = "generations"
sample_size = 150
validation_size = 200
population = 4
keep = 2
max_generations = 3
rates = [0.0, 1.0]
test_size = 300
repeats = 2
"""


def test_cli_runs_a_generations_study(tmp_path, small_reviews, capsys):
    config = tmp_path / "gens.toml"
    config.write_text(SMALL)
    out = tmp_path / "run"
    argv = ["run", str(config), "--data", str(small_reviews), "--out", str(out)]
    assert main(argv) == 0
    table = pd.read_parquet(out / "results")
    # The summary: per rate, generation 0's best model and the model each search ends with.
    printed = capsys.readouterr().out
    assert "mean test accuracy of bred models" in printed
    children = table.loc[~table["stopped"].astype(bool)]
    for rate in (0.0, 1.0):
        rows = children.loc[(children["rate"] == rate) & (children["generation"] == 0)]
        best = rows.loc[rows.groupby("trajectory")["validation_accuracy"].idxmax(), "accuracy"]
        final = table.loc[table["stopped"].astype(bool) & (table["rate"] == rate)]
        line = next(
            line for line in printed.splitlines() if line.split()[:2] == ["breed", f"{rate:g}"]
        )
        assert line.split() == [
            "breed", f"{rate:g}", "2", "150", f"{best.mean():.4f}",
            f"{final['generation'].mean():.3g}", f"{final['accuracy'].mean():.4f}",
        ]  # fmt: skip
    assert table["trajectory"].nunique() == 4
    assert table.groupby("trajectory")["stopped"].sum().eq(1).all()
    for column in ["experiment", "kind", "rate", "step", "train_size", "accuracy",
                   "predicted_positive_rate", "test_positive_rate", "n_test", "fit_seconds",
                   "generation", "parent_id", "child_id", "hyperparameters",
                   "validation_accuracy", "kept", "stopped", "stop_reason"]:  # fmt: skip
        assert column in table.columns, column
    assert (table["train_size"] == 150).all() and set(table["rate"]) == {0.0, 1.0}
    # Resolved config round-trips: the run directory resumes with nothing left to do.
    assert (
        main(["run", str(out / "config.toml"), "--out", str(out), "--data", str(small_reviews)])
        == 0
    )


def test_config_validates_generational_kinds():
    base = {"name": "s", "repeats": 1}
    with pytest.raises(UserError, match="needs sample_size"):
        validate_config({"study": [{**base, "kind": "generations"}]}, "t")
    with pytest.raises(UserError, match="keep"):
        validate_config({"study": [{**base, "kind": "generations", "sample_size": 10,
                                    "population": 2, "keep": 3}]}, "t")  # fmt: skip
    with pytest.raises(UserError, match="max_size does not apply"):
        validate_config({"study": [{**base, "kind": "generative", "sample_size": 10,
                                    "max_size": 10}]}, "t")  # fmt: skip
    with pytest.raises(UserError, match="population does not apply"):
        validate_config({"study": [{**base, "kind": "rates", "initial_size": 1, "increment": 1,
                                    "max_size": 2, "population": 3}]}, "t")  # fmt: skip
    with pytest.raises(UserError, match="no labelling rates"):
        validate_config({"study": [{**base, "kind": "generative", "sample_size": 10,
                                    "rates": [0.5]}]}, "t")  # fmt: skip
    study = validate_config({"study": [{**base, "kind": "generations", "sample_size": 10}]}, "t")
    assert (study.study[0].population, study.study[0].keep) == (6, 2)


def test_plan_keys_and_pools():
    plan = build_plan(load_config("generations"), 15_980)
    assert len(plan) == 4 * 5 and plan[1].key == "generations/rate=0.1/repeat=0"
    assert plan[0].pool_size == 1500 + 11 * 1000
    assert plan[0].seed == plan[3].seed != plan[4].seed  # the rates of a repeat are paired
    with pytest.raises(UserError, match="needs 15,500 reviews"):
        build_plan(load_config("generations"), 15_000)
    plan = build_plan(load_config("generative"), 15_980)
    assert plan[0].key == "generative/regime=replace/repeat=0" and np.isnan(plan[0].rate)
    assert plan[0].seed == plan[1].seed  # the regimes of a repeat are paired


def test_a_model_that_cannot_be_bred_is_refused_before_anything_is_written(tmp_path):
    # The spec passed to the run (not the config's model name) is the one checked.
    svm = ModelSpec.from_estimator(LinearSVC(), name="svm")
    config = load_config("generations").model_copy(update={"scale": 0.1})
    out = tmp_path / "run"
    with pytest.raises(UserError, match=r"--model.*'svm'"):
        prepare_run(config, out, data=make_demo_corpus(n=4000, seed=1), model=svm)
    assert not out.exists()
    named_like_logreg = ModelSpec.from_estimator(LinearSVC(), name="logreg")
    with pytest.raises(UserError, match="--model"):
        prepare_run(config, out, data=make_demo_corpus(n=4000, seed=1), model=named_like_logreg)
    assert not out.exists()


def test_the_generations_preset_prints_a_summary_per_rate(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "generations", "--data", "demo", "--scale", "0.1", "--repeats", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "generations: mean test accuracy of bred models" in printed
    rows = [line.split() for line in printed.splitlines() if line.startswith("  generations ")]
    assert [row[1] for row in rows] == ["0", "0.1", "0.5", "1"]
    assert all(row[3] == "100" for row in rows)  # 1,000 reviews per generation x 0.1
    first = {row[4] for row in rows}
    assert len(first) == 1  # generation 0 is trained on human labels at every rate: paired
