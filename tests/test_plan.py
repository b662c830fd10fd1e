"""Each preset's grid, scaling, overrides, keys and seeds."""

import re
from pathlib import Path

import numpy as np
import pytest

from modelcollapse.errors import UserError
from modelcollapse.experiments.config import (
    PRESETS,
    _parse,
    apply_overrides,
    load_config,
    validate_config,
)
from modelcollapse.experiments.plan import build_plan, fitted_rows, split_rows

BIG = 10_000_000  # rows: enough for any preset at scale 1


def plan_of(name, **overrides):
    config = apply_overrides(load_config(name), **overrides) if overrides else load_config(name)
    return config, build_plan(config, BIG)


def test_learning_curve_grid():
    config, plan = plan_of("learning-curve")
    sizes = config.study[0].sizes()
    assert len(sizes) == 30 and sizes[0] == 76 and sizes[-1] == 320_000
    ratios = np.array(sizes[1:]) / np.array(sizes[:-1])
    assert np.allclose(ratios, 4 / 3, atol=0.02)
    assert len(plan) == 10 and {t.rate for t in plan} == {0.0}
    assert config.model == "seed-rf" and config.tokenizer == "seed"
    assert plan[0].test_size == 0.2


def test_total_collapse_grid():
    config, plan = plan_of("total-collapse")
    sizes = config.study[0].sizes()
    assert sizes == [80, 202, 507, 1274, 3200, 8038, 20191, 50717, 127394, 320000]
    per_repeat = [t for t in plan if t.repeat == 0]
    assert len(plan) == 5 * 10  # per repeat: the no-collapse curve + 9 starts
    no_collapse = [t for t in per_repeat if t.rate == 0.0]
    assert len(no_collapse) == 1 and list(no_collapse[0].sizes) == sizes
    starts = sorted(t.sizes[0] for t in per_repeat if t.rate == 1.0)
    assert starts == sizes[:-1]
    assert all(t.sizes[-1] == 320_000 for t in per_repeat)


@pytest.mark.parametrize(
    ("name", "first", "step", "last", "rates", "repeats"),
    [
        ("collapse-rates", 50_000, 1_000, 80_000, np.round(np.arange(0, 1.01, 0.1), 2), 5),
        ("lower-rates", 1_000, 100, 10_000, np.round(np.arange(0, 0.301, 0.03), 2), 5),
        ("lower-rates-detail", 1_000, 100, 10_000, np.round(np.arange(0, 0.091, 0.01), 2), 20),
    ],
)
def test_rate_grids(name, first, step, last, rates, repeats):
    config, plan = plan_of(name)
    study = config.study[0]
    assert study.sizes() == list(range(first, last + 1, step))
    assert study.test_size == "rest"
    assert sorted({t.rate for t in plan}) == rates.tolist()
    assert len(plan) == len(rates) * repeats


def test_seed_study_holds_studies_one_to_five():
    config, plan = plan_of("seed-study")
    assert [s.name for s in config.study] == [
        "learning-curve", "total-collapse", "collapse-rates", "lower-rates", "lower-rates-detail"
    ]  # fmt: skip
    assert len(plan) == 10 + 50 + 55 + 55 + 200


def test_every_preset_loads_and_keys_are_unique():
    for name in PRESETS:
        _config, plan = plan_of(name)
        keys = [t.key for t in plan]
        assert len(keys) == len(set(keys)), name


def test_paired_trajectories_share_the_repeat_seed():
    _, plan = plan_of("lower-rates")
    by_repeat = {}
    for t in plan:
        by_repeat.setdefault(t.repeat, set()).add(t.seed)
    assert all(len(seeds) == 1 for seeds in by_repeat.values())
    assert len({next(iter(s)) for s in by_repeat.values()}) == 5


def test_seed_changes_everything_and_is_stable():
    _, a = plan_of("lower-rates")
    _, b = plan_of("lower-rates")
    _, c = plan_of("lower-rates", seed=1)
    assert [t.seed for t in a] == [t.seed for t in b]
    assert {t.seed for t in a}.isdisjoint({t.seed for t in c})


def test_scale_multiplies_every_size():
    config, plan = plan_of("lower-rates", scale=0.1)
    assert config.study[0].sizes()[:1] == [1000]  # the stored study is unscaled
    assert plan[0].sizes[0] == 100 and plan[0].sizes[1] == 110 and plan[0].sizes[-1] == 1000
    _, lc = plan_of("learning-curve", scale=0.01)
    assert lc[0].sizes[-1] == 3200


def test_overrides_replace_the_grid():
    _config, plan = plan_of(
        "lower-rates", rates=[0.0, 0.5], repeats=2, initial_size=200, increment=50, max_size=400
    )
    assert len(plan) == 4
    assert list(plan[0].sizes) == [200, 250, 300, 350, 400]
    with pytest.raises(UserError, match="--initial-size"):
        apply_overrides(load_config("learning-curve"), initial_size=10)
    with pytest.raises(UserError, match=r"rate 1\.5 is outside"):
        apply_overrides(load_config("lower-rates"), rates=[1.5])


def test_refuses_sizes_beyond_the_data():
    config = load_config("lower-rates")
    with pytest.raises(UserError, match=r"needs 10,001 reviews .* but data has 5,000"):
        build_plan(config, 5_000)


def test_split_rest_and_fraction():
    _, plan = plan_of("lower-rates", scale=0.01)
    pool, test, priority = split_rows(plan[0], 500)
    assert len(pool) == 100 and len(test) == 400 and len(priority) == 100
    assert not set(pool) & set(test)
    _config, plan = plan_of("learning-curve", scale=0.001)
    pool, test, _ = split_rows(plan[0], 1000)
    assert len(test) == 200 and len(pool) == plan[0].sizes[-1]


def test_loop_options_reach_every_trajectory_and_validate():
    _, plan = plan_of("lower-rates", loop={"regime": "replace", "label_policy": "sample"})
    assert {t.options.regime for t in plan} == {"replace"}
    assert {t.options.label_policy for t in plan} == {"sample"}
    with pytest.raises(UserError, match="regime"):
        apply_overrides(load_config("lower-rates"), loop={"regime": "forget"})
    with pytest.raises(UserError, match="fresh_share"):
        apply_overrides(load_config("lower-rates"), loop={"fresh_share": 0.5})


def test_seed_groups_pair_studies():
    from modelcollapse.experiments.config import validate_config

    raw = load_config("lower-rates").model_dump()
    a = {**raw["study"][0], "name": "acc", "seed_group": "g"}
    b = {**raw["study"][0], "name": "rep", "seed_group": "g", "loop": {"regime": "replace"}}
    c = {**raw["study"][0], "name": "alone"}
    config = validate_config({**raw, "study": [a, b, c]}, "test")
    plan = build_plan(config, BIG)
    seeds = {(t.experiment, t.repeat): t.seed for t in plan}
    assert seeds[("acc", 0)] == seeds[("rep", 0)] != seeds[("alone", 0)]


def test_rate_collisions_count_the_rows_each_design_labels():
    config = load_config("lower-rates")
    assert (0.06, 0.09, 1, 10) in config.study[0].rate_collisions(0.1)  # 10-review batches
    # Fixed mixture: round(rate × size) of the data; sizes of 100+ tell every rate apart.
    fixed = apply_overrides(config, loop={"mixture": "fixed"})
    assert fixed.study[0].rate_collisions(0.1) == []
    # Fresh: round(rate × m) of a refreshed set of m = round(0.02/0.98 × 100) = 2 rows.
    fresh = apply_overrides(config, loop={"regime": "fresh", "fresh_share": 0.02})
    assert (0.0, 0.03, 0, 2) in fresh.study[0].rate_collisions(0.1)


def test_presets_are_the_files_and_the_readme_lists_them():
    folder = Path(__file__).parents[1] / "src" / "modelcollapse" / "experiments" / "presets"
    assert set(PRESETS) == {p.stem for p in folder.glob("*.toml")}
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| preset | what it runs", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"^\| `([^`]+)` \|", table, flags=re.M)) == set(PRESETS)
    with pytest.raises(UserError, match="include names unknown preset 'nope'"):
        validate_config(_parse('include = ["nope"]', "t"), "t")


def test_scheduling_cost_counts_every_fit():
    """Longest first needs each trajectory's fits × rows: a generations search fits a whole
    population per generation, a generative one a classifier per generation."""
    _, plan = plan_of("generations")  # population 10, max_generations 10, 1,000 reviews
    assert fitted_rows(plan[0]) == 10 * 11 * 1000
    _, plan = plan_of("generative")  # 10 generations of 4,000 reviews
    costs = {t.setting("regime"): fitted_rows(t) for t in plan if t.repeat == 0}
    assert costs == {"replace": 11 * 4000, "accumulate": sum(range(1, 12)) * 4000}
    _, plan = plan_of("lower-rates")
    assert fitted_rows(plan[0]) == sum(plan[0].sizes)
