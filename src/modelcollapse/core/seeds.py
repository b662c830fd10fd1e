"""Seeds derived from a trajectory's one seed: every random choice of a fit flows from it."""

from __future__ import annotations

import numpy as np


def model_seed(base_seed: int, *parts: int) -> int:
    """A model's random_state from a base seed and what identifies its fit: the rates loop
    passes the training size, so every trajectory of a repeat shares it at that size; the
    generational studies pass the generation and the child."""
    return int(np.random.SeedSequence([base_seed, *parts]).generate_state(1)[0] >> 1)


__all__ = ["model_seed"]
