"""Tables in the docs that are generated from a registry, so they cannot drift from the code.

A generated table sits between two markers in a Markdown file::

    <!-- begin models: python -m modelcollapse.doctables -->
    | ... |
    <!-- end models -->

``python -m modelcollapse.doctables`` rewrites every table in place; the tests check that
the committed text equals the generated one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _models() -> str:
    from modelcollapse.models import models_table

    return models_table()


def _data_formats() -> str:
    from modelcollapse.data.readers import formats_table

    return formats_table()


def _corpora() -> str:
    from modelcollapse.data.hub import corpora_table

    return corpora_table()


def _generator_options() -> str:
    from modelcollapse.generators import generator_options_table

    return generator_options_table()


# table name -> (file under the repository root, generator)
TABLES: dict[str, tuple[str, Callable[[], str]]] = {
    "models": ("README.md", _models),
    "generator-options": ("docs/options.md", _generator_options),
    "data-formats": ("docs/data.md", _data_formats),
    "corpora": ("docs/data.md", _corpora),
}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- begin {re.escape(name)}: [^\n]*-->\n)(.*?)(<!-- end {re.escape(name)} -->)",
        re.DOTALL,
    )


def committed(name: str, root: Path = ROOT) -> str:
    """The table ``name`` as the docs hold it now."""
    path = root / TABLES[name][0]
    match = _pattern(name).search(path.read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(f"{path}: no '<!-- begin {name}: ... -->' ... '<!-- end {name} -->'")
    return match.group(2)


def generated(name: str) -> str:
    """The table ``name`` as the registry gives it."""
    return TABLES[name][1]()


def rewrite(root: Path = ROOT) -> list[str]:
    """Write every generated table into its file; the names of the files that changed."""
    changed = []
    for name, (file, _) in TABLES.items():
        path = root / file
        text = path.read_text(encoding="utf-8")
        committed(name, root)  # the markers must be there
        table = generated(name)
        new = _pattern(name).sub(lambda m, table=table: m.group(1) + table + m.group(3), text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(file)
    return changed


if __name__ == "__main__":
    for file in rewrite():
        print(f"rewrote {file}")
