"""Where cached tokens and feature matrices live (moved by ``MODELCOLLAPSE_CACHE``)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache root: ``$MODELCOLLAPSE_CACHE``, else ``$XDG_CACHE_HOME/modelcollapse``."""
    env = os.environ.get("MODELCOLLAPSE_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "modelcollapse"
