"""The code of docs/extending.md, section by section, for the tests that run it."""

from __future__ import annotations

import re
from pathlib import Path

EXTENDING = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def section_blocks(title: str, language: str = "python") -> list[str]:
    """The fenced ``language`` blocks of the ``## title`` section, in order."""
    text = EXTENDING.read_text(encoding="utf-8")
    assert f"\n## {title}\n" in text, f"docs/extending.md has no '## {title}' section"
    section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)
    assert blocks, f"no {language} block under '## {title}'"
    return blocks


def section_code(title: str) -> str:
    """The Python blocks of the ``## title`` section, joined: what the tests execute."""
    return "\n".join(section_blocks(title))
