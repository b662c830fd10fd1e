"""Text generators for the generative study: class-conditional language models that write
reviews, listed by name in :data:`GENERATORS`.

Each entry is a factory (usually the class) that returns a
:class:`~modelcollapse.generators.base.TextGenerator`; ``trigram`` (the fast default, numpy
only) and ``neural`` (an LSTM in JAX, the optional extra ``modelcollapse[neural]``) are
built in. JAX is imported only when a neural generator is fitted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from modelcollapse.core.parameters import Option
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
    "check_generator_options",
    "draw",
    "filtered_probabilities",
    "generator_options",
    "generator_options_table",
]


class ClassConditional:
    """A registered generator behind :class:`modelcollapse.generative.ClassConditionalLM`'s
    interface (``fit(docs, labels)``, ``generate(labels, lengths, rng)``,
    ``perplexity(docs, labels)``), with its sampling options and its own ``options`` (the
    factory's keyword arguments) fixed: what the generative loop calls."""

    def __init__(
        self,
        name: str,
        vocabulary: list[str] | None = None,
        seed: int = 0,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        options: Mapping[str, object] | None = None,
    ) -> None:
        factory = GENERATORS.get(name)
        # The trigram model scores a fixed vocabulary (the real reviews'), as the loop's own does.
        if factory is TrigramGenerator:
            self.generator = factory(vocabulary, **(options or {}))
        else:
            self.generator = factory(**(options or {}))
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

    def _per_token(self, method: str, docs, labels):
        import numpy as np

        labels = np.asarray(labels)
        out = []
        for c in np.unique(labels):
            texts = [d for d, y in zip(docs, labels, strict=True) if y == c]
            out.extend(getattr(self.generator, method)(texts, int(c)))
        return np.concatenate(out) if out else np.zeros(0)

    def token_log_probs(self, docs, labels):
        """Every token's log-probability under its review's class, class by class (the order
        of :meth:`in_vocabulary`); NotImplementedError if the generator scores texts only."""
        return self._per_token("token_log_probs", docs, labels)

    def in_vocabulary(self, docs, labels):
        """Per token, in :meth:`token_log_probs`'s order: a word of the generator's vocabulary."""
        return self._per_token("in_vocabulary", docs, labels).astype(bool)

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


def generator_options(name: str) -> tuple[Option, ...]:
    """The options the generator registered as ``name`` declares (none for the trigram)."""
    return tuple(getattr(GENERATORS.get(name), "options", ()))


def check_generator_options(name: str, given: Mapping[str, object]) -> dict[str, object]:
    """``given`` validated against the options of generator ``name`` (each value converted to
    its option's type; "none" is None where an option takes none); a ValueError naming the
    option otherwise."""
    from pydantic import TypeAdapter, ValidationError

    declared = {o.name: o for o in generator_options(name)}
    out: dict[str, object] = {}
    for key, value in given.items():
        if key not in declared:
            takes = ", ".join(declared) or "none"
            raise ValueError(f"generator option '{key}' does not apply to generator '{name}' "
                             f"(its options: {takes})")  # fmt: skip
        option = declared[key]
        if option.nullable and isinstance(value, str) and value.strip().lower() == "none":
            value = None
        try:
            out[key] = TypeAdapter(option.annotation()).validate_python(value)
        except ValidationError as exc:
            message = exc.errors()[0]["msg"]
            raise ValueError(f"generator option '{key}': {message[:1].lower()}{message[1:]}, "
                             f"got {value!r}") from None  # fmt: skip
    return out


def generator_options_table() -> str:
    """The docs table of every registered generator's options (docs/options.md)."""
    lines = [
        "| Generator | `[study.generator_options]` key | Values | Default | Meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in GENERATORS.names():
        options = generator_options(name)
        if not options:
            lines.append(f"| `{name}` | - | - | - | No options. |")
        for o in options:
            default = o.default_text if o.default is None else f"`{o.default}`"
            lines.append(f"| `{name}` | `{o.name}` | {o.allowed()} | {default} | {o.help} |")
    return "\n".join(lines) + "\n"
