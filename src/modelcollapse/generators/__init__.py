"""Text generators for the generative study: class-conditional language models that write
reviews, listed by name in :data:`GENERATORS`.

Each entry is a factory (usually the class) that returns a
:class:`~modelcollapse.generators.base.TextGenerator`; ``trigram`` (the fast default, numpy
only) and ``neural`` (an LSTM in JAX, the optional extra ``modelcollapse[neural]``) are
built in. JAX is imported only when a neural generator is fitted.
"""

from __future__ import annotations

from collections.abc import Callable

from modelcollapse.generators.base import TextGenerator, draw, filtered_probabilities
from modelcollapse.registry import Registry

GENERATORS: Registry[Callable[..., TextGenerator]] = Registry(
    "generators", "text generator", "generator"
)

from modelcollapse.generators.neural import NeuralGenerator, NeuralSettings  # noqa: E402
from modelcollapse.generators.trigram import TrigramGenerator  # noqa: E402

GENERATORS.register("trigram", TrigramGenerator)
GENERATORS.register("neural", NeuralGenerator)

__all__ = [
    "GENERATORS",
    "NeuralGenerator",
    "NeuralSettings",
    "TextGenerator",
    "TrigramGenerator",
    "draw",
    "filtered_probabilities",
]
