"""Data regimes: which of the rows drawn so far each model is fitted on.

A regime is a function ``training_rows(rows, step)`` that picks, from the rows drawn so far
that are not dropped (``rows``, sorted), those the next model is fitted on. It is registered
in :data:`REGIMES` with the options it reads (``docs/extending.md`` walks through one)::

    @regime("newest-half", help="...")
    def newest_half(rows, step):
        return rows[rows >= step.size // 2]

A regime may also say which rows a model labels at each step (``labelled_rows``; default:
the batch just drawn) and which rows get their human label back first (``restored_rows``,
as ``fresh`` discards older model labels), whether it takes ``mixture = "fixed"``, and what
it works out once per run from the options and the window (``prepare``; the loop hands it
back as ``step.prepared``, as ``fresh`` sizes its refreshed set).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelcollapse.core.parameters import Option
from modelcollapse.registry import Registry

if TYPE_CHECKING:  # numpy is imported in the functions: `--help` lists parts without it
    import numpy as np


@dataclass(frozen=True)
class RegimeStep:
    """Where the loop is: ``size`` rows drawn (``done`` of them before this step), the
    window (``window`` option, default the first size), the repeat's seed and what the
    regime's ``prepare`` made of the options (``fresh``: the refreshed set's rows)."""

    size: int
    window: int
    seed: int
    prepared: Any = None
    done: int = 0
    options: Any = None  # the loop's options, where the caller has them


def newest_batch(step: RegimeStep) -> np.ndarray:
    import numpy as np

    return np.arange(step.done, step.size)


@dataclass(frozen=True)
class Regime:
    """A registered regime: its rule, one-line help and the options it declares."""

    training_rows: Callable[[np.ndarray, RegimeStep], np.ndarray]
    help: str
    parameters: tuple[Option, ...] = ()
    labelled_rows: Callable[[RegimeStep], np.ndarray] = newest_batch
    restored_rows: Callable[[RegimeStep], np.ndarray] | None = None
    fixed_mixture: bool = False
    prepare: Callable[[Any, int], Any] | None = None

    def prepared(self, options: Any, window: int) -> Any:
        """What the regime works out once per run (None unless it has ``prepare``)."""
        return None if self.prepare is None else self.prepare(options, window)


REGIMES: Registry[Regime] = Registry("regimes", "regime", "--regime")


def regime(
    name: str,
    *,
    help: str,
    parameters: Sequence[Option] = (),
    labelled_rows: Callable[[RegimeStep], np.ndarray] = newest_batch,
    restored_rows: Callable[[RegimeStep], np.ndarray] | None = None,
    fixed_mixture: bool = False,
    prepare: Callable[[Any, int], Any] | None = None,
) -> Callable[[Callable[[np.ndarray, RegimeStep], np.ndarray]], Regime]:
    """Register the decorated function as the regime ``name`` (see the module's help)."""

    def add(training_rows: Callable[[np.ndarray, RegimeStep], np.ndarray]) -> Regime:
        part = Regime(
            training_rows,
            help,
            tuple(parameters),
            labelled_rows,
            restored_rows,
            fixed_mixture,
            prepare,
        )
        return REGIMES.register(name, part)

    return add


# One declaration for the regimes that read it.
WINDOW = Option(
    "window", int, None, "Rows the window regimes train on (default: the first size).",
    ge=1, nullable=True, default_text="first size",
)  # fmt: skip


@regime("accumulate", help="Train on every row drawn so far.", fixed_mixture=True)
def accumulate(rows: np.ndarray, step: RegimeStep) -> np.ndarray:
    return rows


@regime("replace", help="Train on the newest --window rows.", parameters=[WINDOW])
def replace(rows: np.ndarray, step: RegimeStep) -> np.ndarray:
    return rows[rows >= step.size - step.window]


@regime(
    "accumulate-subsample",
    help="Train on a random --window-row subsample of every row so far (a fixed budget).",
    parameters=[WINDOW],
)
def accumulate_subsample(rows: np.ndarray, step: RegimeStep) -> np.ndarray:
    import numpy as np

    if len(rows) <= step.window:
        return rows
    rng = np.random.default_rng([step.seed, step.size, 1])  # the same budget draw for every rate
    return np.sort(rng.choice(rows, step.window, replace=False))


def refreshed_rows(window: int, share: float) -> int:
    """Rows in the refreshed set beside a real set of ``window`` rows: share λ of the fit."""
    from modelcollapse.core.training import model_labelled_count  # imports sklearn

    return model_labelled_count(share / (1.0 - share), window)


def _fresh_rows(options: Any, window: int) -> int:
    return refreshed_rows(window, options.fresh_share)


def _refreshed_set(step: RegimeStep) -> np.ndarray:
    import numpy as np

    return np.arange(max(step.window, step.size - step.prepared), step.size)


def _older_model_rows(step: RegimeStep) -> np.ndarray:
    import numpy as np

    return np.arange(step.window, step.done)


@regime(
    "fresh",
    help="Train on a fixed real set (the first --window rows, human-labelled) beside a "
    "refreshed set of the newest rows, the share --fresh-share of every fit, relabelled at "
    "every step.",
    parameters=[
        WINDOW,
        Option(
            "fresh_share",
            float,
            0.0,
            "λ: share of every fit taken by the refreshed set, beside the fixed real set.",
            ge=0,
            lt=1,
        ),
    ],
    labelled_rows=_refreshed_set,
    restored_rows=_older_model_rows,  # every model label made before this step is discarded
    prepare=_fresh_rows,
)
def fresh(rows: np.ndarray, step: RegimeStep) -> np.ndarray:
    return rows[(rows < step.window) | (rows >= max(step.window, step.size - step.prepared))]
