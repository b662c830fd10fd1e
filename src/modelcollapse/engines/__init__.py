"""Study kinds as engines, registered in :data:`ENGINES` (see :mod:`modelcollapse.engines.base`).

Importing this package registers the built-in kinds, in the order ``modelcollapse presets`` and
error messages list them.
"""

# Each module registers its engine; in this order (the original study's) kinds are listed.
# isort: off
from modelcollapse.engines import learning_curve  # noqa: F401
from modelcollapse.engines import total_collapse  # noqa: F401
from modelcollapse.engines import rates  # noqa: F401
from modelcollapse.engines import generations  # noqa: F401
from modelcollapse.engines import generative  # noqa: F401

# isort: on
from modelcollapse.engines.base import (
    ENGINES,
    Engine,
    GenerationalEngine,
    GenerationalSummary,
    SummaryTable,
    Trajectory,
    engine_of,
    generational_kinds,
    kinds_paired_by_step,
    kinds_recording,
)

__all__ = [
    "ENGINES", "Engine", "GenerationalEngine", "GenerationalSummary", "SummaryTable", "Trajectory",
    "engine_of", "generational_kinds", "kinds_paired_by_step", "kinds_recording",
]  # fmt: skip
