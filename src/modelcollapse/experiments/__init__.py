"""Run configurations, the shipped presets and the plans they make."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable


def shipped_presets() -> dict[str, Traversable]:
    """The presets this package ships: every ``presets/NAME.toml``, by name, sorted.

    Discovered, not listed, so a new preset is one file; :data:`config.PRESETS` adds the
    ones that engines and plug-ins register.
    """
    folder = resources.files(__name__) / "presets"
    files = {f.name.removesuffix(".toml"): f for f in folder.iterdir() if f.name.endswith(".toml")}
    return dict(sorted(files.items()))
