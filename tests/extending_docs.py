"""The code of docs/extending.md (or another page of docs/), section by section, for the tests
that run it."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
EXTENDING = DOCS / "extending.md"


def section_blocks(title: str, language: str = "python", page: Path = EXTENDING) -> list[str]:
    """The fenced ``language`` blocks of the ``## title`` section of ``page``, in order."""
    text = page.read_text(encoding="utf-8")
    assert f"\n## {title}\n" in text, f"docs/{page.name} has no '## {title}' section"
    section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)
    assert blocks, f"no {language} block under '## {title}'"
    return blocks


def section_code(title: str, page: Path = EXTENDING) -> str:
    """The Python blocks of the ``## title`` section, joined: what the tests execute."""
    return "\n".join(section_blocks(title, page=page))
