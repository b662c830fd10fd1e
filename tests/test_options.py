"""The loop options table is the one definition: LoopOptions, [study.loop], the CLI flags and
docs/options.md all follow it."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from modelcollapse.cli import main
from modelcollapse.core.options import (
    LoopOptions,
    docs_with_table,
    loop_options,
    option_names,
)
from modelcollapse.core.parameters import Option
from modelcollapse.core.policies import LABEL_POLICIES, label_policy
from modelcollapse.errors import UserError
from modelcollapse.experiments.config import load_config

DOCS = Path(__file__).parents[1] / "docs" / "options.md"


def test_the_docs_table_is_the_generated_one():
    text = DOCS.read_text(encoding="utf-8")
    assert docs_with_table(text) == text, "run: python -m modelcollapse.core.options"
    for entry in loop_options():
        assert f"| `{entry.name}` |" in text


def test_stored_columns_are_unchanged():
    # The result columns of the options, in order, as runs before the table stored them.
    assert LoopOptions().record() == {
        "regime": "accumulate", "window": -1, "fresh_share": 0.0, "mixture": "batch",
        "labeller": "current", "teacher_model": "logreg", "teacher_size": 2000,
        "labels_file": "", "missing_labels": "refuse",  # new with the labellers (#16)
        "label_policy": "argmax", "threshold": 0.9,
        "below_threshold": "drop", "verified_share": 0.0, "keep_correct": 1.0,
        "keep_wrong": 1.0, "model_weight": 1.0, "arms": False,
    }  # fmt: skip
    assert LoopOptions(regime="replace", window=150).record()["window"] == 150


def _outside(option: Option) -> object | None:
    """A value just outside the option's bounds or choices."""
    if option.choices is not None:
        return "no-such-choice"
    for bound, step in (("ge", -0.5), ("gt", 0.0), ("le", 0.5), ("lt", 0.0)):
        value = getattr(option, bound)
        if value is not None:
            return option.type(value + step) if option.type is float else int(value + 2 * step)
    return None


BOUNDED = [e for e in loop_options() if _outside(e.option) is not None]


@pytest.mark.parametrize("entry", BOUNDED, ids=lambda e: e.name)
def test_every_bound_and_choice_is_checked_in_library_config_and_cli(
    entry, tmp_path, capsys, small_config
):
    bad = _outside(entry.option)
    context = {entry.applies[0]: entry.applies[1][0]} if entry.applies else {}
    with pytest.raises(ValueError, match=entry.name):
        LoopOptions(**context, **{entry.name: bad})
    config = small_config.read_text().replace(
        'repeats = 2\n', f"repeats = 2\n[study.loop]\n{entry.name} = {bad!r}\n".replace("'", '"'), 1
    )  # fmt: skip
    path = tmp_path / "bad.toml"
    path.write_text(config)
    with pytest.raises(UserError, match=rf"\[study\.0\.loop\.{entry.name}\] Input should be"):
        load_config(str(path))
    flag_value = str(bad)
    code = main(["run", str(small_config), "--out", str(tmp_path / "run"), entry.option.flag,
                 flag_value])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and entry.option.flag in err and flag_value in err, err
    assert len(err.splitlines()) == 1


def test_a_part_option_applies_only_to_its_part(tmp_path):
    with pytest.raises(ValueError, match="threshold applies to label_policy = 'threshold' only"):
        LoopOptions(threshold=0.8)
    with pytest.raises(ValueError, match="window applies to regime = 'replace', "):
        LoopOptions(window=100)
    LoopOptions(threshold=0.9)  # its default: nothing set
    assert LoopOptions(label_policy="threshold", threshold=0.8).threshold == 0.8


def test_every_option_is_a_flag_of_run(capsys):
    assert main(["run", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "Loop design" in help_text
    for entry in loop_options():
        assert entry.option.flag in help_text, entry.name


def test_options_are_values():
    a = LoopOptions(regime="fresh", fresh_share=0.5)
    assert a == pickle.loads(pickle.dumps(a)) and hash(a) == hash(a.replace())
    assert a != LoopOptions() and a.replace(fresh_share=0.25).fresh_share == 0.25
    with pytest.raises(AttributeError):
        a.regime = "replace"  # type: ignore[misc]


def test_an_option_declared_twice_differently_is_refused():
    clash = Option("threshold", float, 0.5, "Another threshold.", ge=0, le=1)
    label_policy("clash", help="x", parameters=[clash])(lambda request: request.predict())
    try:
        with pytest.raises(ValueError, match="'threshold' is declared twice"):
            option_names()
    finally:
        LABEL_POLICIES.unregister("clash")
    assert "threshold" in option_names()
