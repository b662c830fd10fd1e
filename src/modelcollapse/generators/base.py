"""The interface every text generator implements, and the sampling filters they share.

A generator is fitted on texts grouped by class (each text a review's tokens joined by single
spaces), writes texts of a given class and given lengths, and scores texts: the natural
log-probability of each text's tokens given its class, ``sum_t log p(w_t | class, w_<t)``
(no end-of-text term: lengths are chosen outside the model, the same for every generator).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

import numpy as np

from modelcollapse.core.parameters import Option
from modelcollapse.errors import UserError


class TextGenerator(ABC):
    """A class-conditional language model that writes reviews.

    ``supports_filters``: whether :meth:`sample` honours ``temperature``, ``top_k`` and
    ``top_p``; a generator that does not rejects anything but the plain distribution.
    ``options``: the settings its factory takes as keyword arguments (sizes, training), each
    declared once as an :class:`~modelcollapse.core.parameters.Option`; a study sets them
    under ``[study.generator_options]`` or with ``--generator-option NAME=VALUE``.
    """

    name: str = ""
    supports_filters: bool = False
    options: tuple[Option, ...] = ()

    @abstractmethod
    def fit(self, texts: Mapping[int, Sequence[str]], seed: int = 0) -> TextGenerator:
        """Fit on ``texts[c]``, the texts of class ``c``; all randomness flows from ``seed``."""

    @abstractmethod
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
        """``len(lengths)`` texts of class ``label``, text i of ``lengths[i]`` tokens."""

    @abstractmethod
    def log_probs(self, texts: Sequence[str], label: int) -> np.ndarray:
        """Natural log-probability of each text under the model of class ``label``."""

    def token_log_probs(self, texts: Sequence[str], label: int) -> list[np.ndarray]:
        """Per text: the natural log-probability of each token. Optional: a generator that
        scores whole texts only leaves the in-vocabulary perplexity and OOV rate empty."""
        raise NotImplementedError

    def in_vocabulary(self, texts: Sequence[str], label: int) -> list[np.ndarray]:
        """Per text: whether each token is a word of the model (not scored as ``<unk>``),
        aligned with :meth:`token_log_probs`. Optional, as it is."""
        raise NotImplementedError

    def perplexity(self, texts: Sequence[str], label: int) -> float:
        """Per-token perplexity of ``texts`` under class ``label``: exp(−Σ log p / Σ tokens)."""
        n_tokens = sum(len(t.split()) for t in texts)
        if not n_tokens:
            return float("nan")
        return float(np.exp(-np.sum(self.log_probs(texts, label)) / n_tokens))

    def text_perplexities(self, texts: Sequence[str], label: int) -> np.ndarray:
        """Each text's own perplexity (Shumailov et al.'s histogram is of these)."""
        n = np.fromiter((len(t.split()) for t in texts), dtype=float, count=len(texts))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.exp(-self.log_probs(texts, label) / n)


def check_filters(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """One-line errors for sampling options outside their ranges."""
    if not np.isfinite(temperature) or temperature < 0:
        raise UserError(f"expected a temperature ≥ 0, got {temperature}", "temperature")
    if top_k is not None and top_k < 1:
        raise UserError(f"expected top_k ≥ 1 (or none), got {top_k}", "top_k")
    if top_p is not None and not 0 < top_p <= 1:
        raise UserError(f"expected 0 < top_p ≤ 1 (or none), got {top_p}", "top_p")


def filtered_probabilities(
    logits: np.ndarray,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """Next-token probabilities (one row per context) after temperature, top-k and top-p.

    Temperature 0 puts all mass on the argmax (the first one on ties); top-k keeps the k
    most probable tokens; top-p (nucleus sampling, Holtzman et al. 2020) keeps the fewest
    most probable tokens whose mass reaches p. Filters apply in that order, each to the
    renormalised output of the one before; ties at a cut-off are broken by token id.
    """
    check_filters(temperature, top_k, top_p)
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2:
        raise ValueError("logits must be (contexts, vocabulary)")
    rows = np.arange(len(logits))[:, None]
    if temperature == 0 or top_k == 1:
        out = np.zeros_like(logits)
        out[np.arange(len(logits)), np.argmax(logits, axis=1)] = 1.0
        return out
    z = logits / temperature
    z = z - np.max(z, axis=1, keepdims=True)
    p = np.exp(z)
    cut_k = top_k is not None and top_k < p.shape[1]
    if not cut_k and (top_p is None or top_p >= 1):
        # Nothing to cut: no sort (a writer calls this at every token of every text).
        return p / p.sum(axis=1, keepdims=True)
    # Stable descending order: ties keep token-id order, so a cut is reproducible.
    order = np.argsort(-p, axis=1, kind="stable")
    if cut_k:
        p[rows, order[:, top_k:]] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    if top_p is not None and top_p < 1:
        sorted_p = p[rows, order]
        before = np.cumsum(sorted_p, axis=1) - sorted_p
        # Keep a token while the mass before it is short of p (the first always stays).
        drop = before >= top_p
        drop[:, 0] = False
        p[rows, order] = np.where(drop, 0.0, sorted_p)
        p /= p.sum(axis=1, keepdims=True)
    return p


def draw(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One token id per row of ``probabilities``, by inverse CDF on one uniform per row."""
    cum = np.cumsum(probabilities, axis=1)
    u = rng.random(len(cum)) * cum[:, -1]
    out = (cum <= u[:, None]).sum(axis=1)
    # Rounding can leave u at the very top: take the last token with mass.
    last = probabilities.shape[1] - 1 - np.argmax(probabilities[:, ::-1] > 0, axis=1)
    return np.minimum(out, last)
