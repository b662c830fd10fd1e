"""modelcollapse: measure how fast a classifier degrades on labels it made itself.

The top-level names load lazily, so the command line starts without importing
scikit-learn until a command needs it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0.dev0"

_EXPORTS = {
    "Corpus": "modelcollapse.data.corpus",
    "UserError": "modelcollapse.errors",
    "RunConfig": "modelcollapse.experiments.config",
    "StudyConfig": "modelcollapse.experiments.config",
    "load_config": "modelcollapse.experiments.config",
    "SelfLabellingLoop": "modelcollapse.loop",
    "ModelSpec": "modelcollapse.models",
    "run_experiment": "modelcollapse.runner",
    "tokenize": "modelcollapse.features.tokenize",
    "read_corpus": "modelcollapse.data.readers",
    "make_demo_corpus": "modelcollapse.data.demo",
    "build_report": "modelcollapse.report",
}

__all__ = [
    "Corpus",
    "ModelSpec",
    "RunConfig",
    "SelfLabellingLoop",
    "StudyConfig",
    "UserError",
    "build_report",
    "load_config",
    "make_demo_corpus",
    "read_corpus",
    "run_experiment",
    "tokenize",
]

if TYPE_CHECKING:
    from modelcollapse.data.corpus import Corpus
    from modelcollapse.data.demo import make_demo_corpus
    from modelcollapse.data.readers import read_corpus
    from modelcollapse.errors import UserError
    from modelcollapse.experiments.config import RunConfig, StudyConfig, load_config
    from modelcollapse.features.tokenize import tokenize
    from modelcollapse.loop import SelfLabellingLoop
    from modelcollapse.models import ModelSpec
    from modelcollapse.report import build_report
    from modelcollapse.runner import run_experiment


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'modelcollapse' has no attribute {name!r}")
