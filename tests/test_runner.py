"""Runs end to end: the paired design, determinism across workers, resuming, refusing."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.naive_bayes import MultinomialNB

from modelcollapse.errors import UserError
from modelcollapse.experiments.config import apply_overrides, load_config
from modelcollapse.experiments.plan import fitted_rows
from modelcollapse.models import ModelSpec
from modelcollapse.runner import execute, prepare_run, run_experiment
from modelcollapse.store import RunStore

TIMING = ["fit_seconds", "predict_seconds"]


def config_for(small_config, small_reviews, **overrides):
    return apply_overrides(load_config(str(small_config)), data=str(small_reviews), **overrides)


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=TIMING).sort_values(["trajectory", "step"], ignore_index=True)


def test_results_table_layout(tmp_path, small_config, small_reviews):
    result = run_experiment(config_for(small_config, small_reviews), tmp_path / "run")
    table = pd.read_parquet(tmp_path / "run" / "results")
    assert result.n_trajectories == 12 and table["trajectory"].nunique() == 12
    for column in ["experiment", "trajectory", "repeat", "seed", "model", "rate", "initial_size",
                   "step", "train_size", "n_model_labelled", "accuracy",
                   "predicted_positive_rate", "fit_seconds"]:  # fmt: skip
        assert column in table.columns
    rates = table[table.experiment == "rates"]
    assert sorted(rates.train_size.unique()) == [200, 300, 400, 500, 600]
    last = rates[rates.step == 4].groupby("rate")["n_model_labelled"].first()
    assert last.to_dict() == {0.0: 0, 0.5: 200, 1.0: 400}
    assert (tmp_path / "run" / "config.toml").exists()
    manifest = RunStore(tmp_path / "run").read_manifest()
    assert manifest["data"]["rows"] == 1500 and len(manifest["data"]["fingerprint"]) == 64
    assert manifest["versions"]["scikit-learn"]


def test_paired_design_shares_the_first_step(tmp_path, small_config, small_reviews):
    table = run_experiment(config_for(small_config, small_reviews), tmp_path / "run").results
    first = table[(table.experiment == "rates") & (table.step == 0)]
    per_repeat = first.groupby("repeat")["accuracy"].nunique()
    assert (per_repeat == 1).all()
    assert first.groupby("repeat")["accuracy"].first().nunique() == 2  # repeats differ
    # Total collapse: a run starting at size s matches the no-collapse curve at s.
    tc = table[table.experiment == "collapse"]
    starts = tc[(tc.rate == 1.0) & (tc.step == 0)].set_index(["repeat", "train_size"])["accuracy"]
    curve = tc[tc.rate == 0.0].set_index(["repeat", "train_size"])["accuracy"]
    assert (curve.loc[starts.index] == starts).all()


def test_same_seed_same_table_for_any_jobs(tmp_path, small_config, small_reviews):
    config = config_for(small_config, small_reviews)
    one = run_experiment(config, tmp_path / "one", jobs=1).results
    two = run_experiment(config, tmp_path / "two", jobs=2).results
    pd.testing.assert_frame_equal(comparable(one), comparable(two))
    other = run_experiment(
        config_for(small_config, small_reviews, seed=1), tmp_path / "three"
    ).results
    assert not comparable(one)["accuracy"].equals(comparable(other)["accuracy"])


def test_resume_skips_finished_and_refuses_another_config(tmp_path, small_config, small_reviews):
    config = config_for(small_config, small_reviews)
    full = run_experiment(config, tmp_path / "run").results
    store = RunStore(tmp_path / "run")
    removed = sorted(store.results.glob("*.parquet"))[:5]
    for path in removed:
        path.unlink()
    resumed = run_experiment(config, tmp_path / "run")
    assert resumed.n_skipped == 7
    pd.testing.assert_frame_equal(comparable(full), comparable(resumed.results))
    with pytest.raises(
        UserError, match=r"different config \(study\[0\].repeats: 2 stored, 3 requested\)"
    ):
        run_experiment(config_for(small_config, small_reviews, repeats=3), tmp_path / "run")
    assert len(list(store.results.glob("*.parquet"))) == 12


def test_resume_refuses_another_definition_of_the_same_model(tmp_path, small_config, small_reviews):
    # Same config and model name, another estimator (as a new package version might define it).
    config = config_for(small_config, small_reviews)
    run_experiment(config, tmp_path / "run", model=ModelSpec.from_estimator(MultinomialNB(), "nb"))
    store = RunStore(tmp_path / "run")
    assert store.read_manifest()["model"] == {"name": "nb", "estimator": "MultinomialNB()"}
    removed = sorted(store.results.glob("*.parquet"))[0]
    removed.unlink()
    changed = ModelSpec.from_estimator(MultinomialNB(alpha=0.5), "nb")
    refused = r"another definition of model 'nb' \(MultinomialNB\(\), now"
    with pytest.raises(UserError, match=refused):
        run_experiment(config, tmp_path / "run", model=changed)
    assert not removed.exists() and len(list(store.results.glob("*.parquet"))) == 11
    # The registered nb builds the same estimator, so the run resumes.
    assert run_experiment(config, tmp_path / "run").n_skipped == 11


def test_a_run_of_0_1_with_logreg_is_not_resumed_with_the_new_solver(
    tmp_path, small_config, small_reviews
):
    config = config_for(small_config, small_reviews, model="logreg", repeats=1)
    run_experiment(config, tmp_path / "run")
    store = RunStore(tmp_path / "run")
    manifest = store.read_manifest()
    del manifest["model"]  # as 0.1 wrote it
    manifest["versions"]["modelcollapse"] = "0.1.0"
    store.manifest_path.write_text(json.dumps(manifest))
    next(store.results.glob("*.parquet")).unlink()
    with pytest.raises(UserError, match=r"started by modelcollapse 0\.1\.0, whose logreg used"):
        run_experiment(config, tmp_path / "run")
    assert len(list(store.results.glob("*.parquet"))) == 5


def test_a_run_is_not_resumed_with_other_tokens_or_counts(
    tmp_path, small_config, small_reviews, monkeypatch
):
    from modelcollapse.features import vectorize

    config = config_for(small_config, small_reviews, repeats=1)
    run_experiment(config, tmp_path / "run")
    store = RunStore(tmp_path / "run")
    next(store.results.glob("*.parquet")).unlink()
    # As a run started before the features version changed (1 -> 2 did for #17).
    monkeypatch.setattr(vectorize, "FEATURES_VERSION", vectorize.FEATURES_VERSION + 1)
    with pytest.raises(UserError, match=r"was started with other tokens or counts"):
        run_experiment(config, tmp_path / "run")
    assert len(list(store.results.glob("*.parquet"))) == 5
    monkeypatch.undo()
    assert run_experiment(config, tmp_path / "run").n_skipped == 5


def test_longest_trajectories_run_first(tmp_path, small_config, small_reviews):
    prepared = prepare_run(config_for(small_config, small_reviews), tmp_path / "run")
    done = [traj for traj, _ in execute(prepared.plan, prepared.features, prepared.model, "fast")]
    work = [fitted_rows(traj) for traj in done]
    assert work == sorted(work, reverse=True) and work[0] > work[-1]
    assert sorted(t.key for t in done) == sorted(t.key for t in prepared.plan)


def test_second_writer_is_refused(tmp_path, small_config, small_reviews):
    config = config_for(small_config, small_reviews)
    run_experiment(config, tmp_path / "run")
    holder = RunStore(tmp_path / "run")
    holder.open(holder.read_config(), holder.read_manifest())
    try:
        with pytest.raises(UserError, match="another run is writing"):
            run_experiment(config, tmp_path / "run")
    finally:
        holder.close()


def test_resume_after_sigkill_matches_an_uninterrupted_run(
    tmp_path, small_config, small_reviews, kill_mid_run
):
    # Many small steps make each trajectory take long enough to kill the run between them.
    config = config_for(small_config, small_reviews, increment=10, model="logreg")
    reference = run_experiment(config, tmp_path / "reference").results

    run_dir = tmp_path / "killed"
    command = [sys.executable, "-m", "modelcollapse.cli", "run", str(small_config),
               "--data", str(small_reviews), "--out", str(run_dir), "--increment", "10",
               "--model", "logreg"]  # fmt: skip
    results = run_dir / "results"
    stored = kill_mid_run(command, results)
    assert 3 <= stored < 12, "the kill should land mid-run"

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed: {stored} of 12" in resumed.stdout
    table = pd.read_parquet(results)
    assert table["trajectory"].nunique() == 12
    assert not table.duplicated(["trajectory", "step"]).any()
    pd.testing.assert_frame_equal(comparable(reference), comparable(table))


def test_a_corpus_with_its_own_test_split_tests_on_it(tmp_path, small_config, small_reviews):
    from modelcollapse.data.readers import read_corpus
    from modelcollapse.runner import load_data

    base = read_corpus(small_reviews)
    mask = np.zeros(len(base), dtype=bool)
    mask[-300:] = True
    corpus = type(base)(base.texts, base.labels, "split", base.label_names, {}, mask)
    config = config_for(small_config, small_reviews)
    table = run_experiment(config, tmp_path / "run", data=corpus).results
    assert set(table["n_test"]) == {300}
    assert corpus.fingerprint != load_data(str(small_reviews)).fingerprint
    expected = "needs 600 training and 400 test reviews but split has 1,200 and 300"
    with pytest.raises(UserError, match=expected):
        run_experiment(
            config_for(small_config, small_reviews, test_size=400), tmp_path / "x", data=corpus
        )


def test_a_run_written_before_the_mixture_option_resumes_as_one_design(
    tmp_path, small_config, small_reviews
):
    config = config_for(small_config, small_reviews)
    full = run_experiment(config, tmp_path / "run").results
    store = RunStore(tmp_path / "run")
    # As the previous version wrote it: no mixture in config.toml nor in the result files.
    store.config_path.write_text(store.config_path.read_text().replace('mixture = "batch"\n', ""))
    old = sorted(store.results.glob("*.parquet"))
    for path in old[:6]:
        pd.read_parquet(path).drop(columns="mixture").to_parquet(path)
    for path in old[6:]:
        path.unlink()
    resumed = run_experiment(config, tmp_path / "run")
    assert resumed.n_skipped == 6
    results = store.read_results()
    assert results.loc[results["kind"] == "rates", "mixture"].eq("batch").all()
    pd.testing.assert_frame_equal(comparable(full), comparable(results), check_like=True)


@pytest.mark.parametrize(
    ("option", "changed"),
    [
        ({"regime": "fresh", "fresh_share": 0.5}, "regime 'fresh'"),
        ({"verified_share": 0.5}, "verified_share"),
        ({"model_weight": 0.0}, "model_weight 0"),
    ],
)
def test_a_run_whose_design_changed_meaning_is_not_resumed(
    tmp_path, small_config, small_reviews, option, changed
):
    config = config_for(small_config, small_reviews)
    study = config.study[0]
    loop = study.loop.replace(**option)
    config = config.model_copy(update={"study": [study.model_copy(update={"loop": loop})]})
    run_experiment(config, tmp_path / "run")
    store = RunStore(tmp_path / "run")
    # As 0.2.0.dev0 wrote it, before fresh, verified_share and model_weight 0 changed meaning.
    store.config_path.write_text(store.config_path.read_text().replace('mixture = "batch"\n', ""))
    before = sorted(p.name for p in store.results.glob("*.parquet"))
    with pytest.raises(UserError, match=f"before study .*{changed} changed meaning"):
        run_experiment(config, tmp_path / "run")
    assert sorted(p.name for p in store.results.glob("*.parquet")) == before


def test_the_cost_function_orders_the_trajectories(tmp_path, small_config, small_reviews):
    prepared = prepare_run(config_for(small_config, small_reviews), tmp_path / "run")
    shortest_first = execute(
        prepared.plan, prepared.features, prepared.model, "fast", cost=lambda t: -fitted_rows(t)
    )
    work = [fitted_rows(traj) for traj, _ in shortest_first]
    assert work == sorted(work) and work[0] < work[-1]
