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
    "ClassConditional",
    "NeuralGenerator",
    "NeuralSettings",
    "TextGenerator",
    "TrigramGenerator",
    "draw",
    "filtered_probabilities",
]


class ClassConditional:
    """A registered generator behind :class:`modelcollapse.generative.ClassConditionalLM`'s
    interface (``fit(docs, labels)``, ``generate(labels, lengths, rng)``,
    ``perplexity(docs, labels)``), with its sampling options fixed: what the generative loop
    calls."""

    def __init__(
        self,
        name: str,
        vocabulary: list[str] | None = None,
        seed: int = 0,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
    ) -> None:
        factory = GENERATORS.get(name)
        # The trigram model scores a fixed vocabulary (the real reviews'), as the loop's own does.
        self.generator = factory(vocabulary) if factory is TrigramGenerator else factory()
        self.seed = seed
        self.options = {"temperature": temperature, "top_k": top_k, "top_p": top_p}

    def fit(self, docs, labels) -> ClassConditional:
        import numpy as np

        labels = np.asarray(labels)
        texts = {int(c): [d for d, y in zip(docs, labels, strict=True) if y == c]
                 for c in np.unique(labels)}  # fmt: skip
        self.generator.fit(texts, self.seed)
        return self

    def generate(self, labels, lengths, rng) -> list[str]:
        import numpy as np

        labels, lengths = np.asarray(labels), np.asarray(lengths)
        out = [""] * len(labels)
        for c in np.unique(labels):
            rows = np.flatnonzero(labels == c)
            for row, doc in zip(
                rows, self.generator.sample(int(c), lengths[rows], rng, **self.options), strict=True
            ):
                out[row] = doc
        return out

    def text_log_perplexities(self, docs, labels):
        """Per text, in the order of ``docs``: its mean negative log-probability per token
        under its class's model (NaN when empty)."""
        import numpy as np

        labels = np.asarray(labels)
        out = np.full(len(docs), np.nan)
        for c in np.unique(labels):
            rows = np.flatnonzero(labels == c)
            texts = [docs[i] for i in rows]
            sums = np.asarray(self.generator.log_probs(texts, int(c)), dtype=float)
            n = np.array([len(t.split()) for t in texts], dtype=float)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[rows] = -sums / np.where(n > 0, n, np.nan)
        return out

    def perplexity(self, docs, labels) -> float:
        """Per-token perplexity of ``docs``, each under the model of its own class."""
        import numpy as np

        labels = np.asarray(labels)
        total, n = 0.0, 0
        for c in np.unique(labels):
            texts = [d for d, y in zip(docs, labels, strict=True) if y == c]
            total += float(np.sum(self.generator.log_probs(texts, int(c))))
            n += sum(len(t.split()) for t in texts)
        return float(np.exp(-total / n)) if n else float("nan")
