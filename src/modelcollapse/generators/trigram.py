"""The trigram generator: :class:`modelcollapse.generative.TrigramLM`, one per class, behind
the :class:`~modelcollapse.generators.base.TextGenerator` interface (by delegation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from modelcollapse.errors import UserError
from modelcollapse.generative import TrigramLM
from modelcollapse.generators.base import TextGenerator, check_filters


class TrigramGenerator(TextGenerator):
    """Interpolated Kneser–Ney trigram models, one per class (the fast default).

    ``vocabulary``: the words scored (default: every training word); the rest is ``<unk>``.
    Fitting is deterministic (``seed`` is unused). Sampling writes the model's own
    distribution only (conditioned on words seen in training): no temperature, top-k or
    top-p, which would need the whole next-word distribution at every step.
    """

    name = "trigram"
    supports_filters = False

    def __init__(self, vocabulary: Sequence[str] | None = None) -> None:
        self.vocabulary = vocabulary

    def fit(self, texts: Mapping[int, Sequence[str]], seed: int = 0) -> TrigramGenerator:
        self.models_ = {int(c): TrigramLM(self.vocabulary).fit(list(t)) for c, t in texts.items()}
        return self

    def _model(self, label: int) -> TrigramLM:
        try:
            return self.models_[int(label)]
        except KeyError:
            raise ValueError(f"no texts of class {label} were fitted") from None

    def sample(
        self,
        label: int,
        lengths: Sequence[int],
        rng: np.random.Generator,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
    ) -> list[str]:
        check_filters(temperature, top_k, top_p)
        if temperature != 1 or top_k is not None or (top_p is not None and top_p < 1):
            raise UserError(
                "the trigram generator samples its own distribution only "
                "(expected temperature 1, no top_k, no top_p; use the neural generator)",
                "generator",
            )
        return self._model(label).generate(lengths, rng)

    def token_log_probs(self, texts: Sequence[str], label: int) -> list[np.ndarray]:
        return _per_text(self._model(label).token_log_probs(list(texts)), texts)

    def in_vocabulary(self, texts: Sequence[str], label: int) -> list[np.ndarray]:
        return _per_text(self._model(label).in_vocabulary(list(texts)), texts)

    def log_probs(self, texts: Sequence[str], label: int) -> np.ndarray:
        texts = list(texts)
        lengths = np.fromiter((len(t.split()) for t in texts), dtype=np.int64, count=len(texts))
        token = self._model(label).token_log_probs(texts)
        ends = np.cumsum(lengths)
        cum = np.r_[0.0, np.cumsum(token)]
        return cum[ends] - cum[ends - lengths]


def _per_text(values: np.ndarray, texts: Sequence[str]) -> list[np.ndarray]:
    """Per-token values of concatenated texts, split back into one array per text."""
    ends = np.cumsum([len(t.split()) for t in texts], dtype=np.int64)
    return np.split(values, ends[:-1]) if len(texts) else []
