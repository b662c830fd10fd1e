"""Tables in the docs generated from the registries are the committed ones; the CLI's help
lists what the registries hold."""

from __future__ import annotations

import re

import pytest

from modelcollapse import doctables
from modelcollapse.cli import main
from modelcollapse.data.readers import DATA_FORMATS
from modelcollapse.models import MODELS


@pytest.mark.parametrize("name", sorted(doctables.TABLES))
def test_committed_table_is_the_generated_one(name):
    file = doctables.TABLES[name][0]
    assert doctables.committed(name) == doctables.generated(name), (
        f"{file} is stale: run 'python -m modelcollapse.doctables'"
    )


def test_every_part_has_a_line_in_its_table():
    models = doctables.generated("models")
    for name, spec in MODELS.items():
        assert spec.name == name and spec.description, name
        assert f"| `{name}` |" in models
    formats = doctables.generated("data-formats")
    for name, spec in DATA_FORMATS.items():
        assert spec.description and f"| `{name}`" in formats, name


def test_rewrite_fills_an_emptied_table(tmp_path):
    for name, (file, _) in doctables.TABLES.items():
        text = (doctables.ROOT / file).read_text(encoding="utf-8")
        emptied = text.replace(doctables.committed(name), "| stale |\n")
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / file).write_text(emptied, encoding="utf-8")
    assert sorted(doctables.rewrite(tmp_path)) == sorted({f for f, _ in doctables.TABLES.values()})
    for name in doctables.TABLES:
        assert doctables.committed(name, tmp_path) == doctables.generated(name)
    assert doctables.rewrite(tmp_path) == []


def test_help_lists_every_model_and_format(capsys):
    # Rich wraps the help in a box: compare without whitespace and box edges.
    def bare(text: str) -> str:
        return re.sub(r"[\s│]", "", text)

    assert main(["run", "--help"]) == 0
    run_help = bare(capsys.readouterr().out)
    assert bare(", ".join(MODELS.names())) in run_help
    assert "importedcorpus" in run_help
    assert main(["data", "import", "--help"]) == 0
    import_help = bare(capsys.readouterr().out)
    assert bare(", ".join(DATA_FORMATS.names())) in import_help
