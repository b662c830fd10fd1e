"""Label policies: how a labeller turns its scores for the chosen rows into labels.

A policy is a function of a :class:`LabelRequest` that returns the labels it makes, or
:class:`Labels` when it leaves some rows unlabelled. It is registered in
:data:`LABEL_POLICIES` with the options it reads, which then become config keys, flags and
rows of the docs table (``docs/extending.md`` walks through one)::

    @label_policy("coin", help="...", parameters=[Option("coin_bias", float, 0.5, "...")])
    def coin(request):
        return (request.uniforms < request.options.coin_bias).astype(int)

Verification (``verified_share``, ``keep_correct``, ``keep_wrong``) is the loop's, not the
policy's: it applies to whatever labels a policy makes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from modelcollapse.core.parameters import Option
from modelcollapse.registry import Registry

if TYPE_CHECKING:  # numpy is imported in the functions: `--help` lists parts without it
    import numpy as np


@dataclass(frozen=True)
class Labels:
    """Labels made for the chosen rows; rows where ``keep`` is False get no model label and are
    dropped, or keep their human label (``unsure="human"``)."""

    made: np.ndarray
    keep: np.ndarray | None = None  # None: every row
    unsure: Literal["drop", "human"] = "drop"


@dataclass(frozen=True, eq=False)
class LabelRequest:
    """What a policy may read about the rows it labels, in the order they were chosen.

    ``uniforms`` are per-row uniform draws fixed by the repeat's seed (shared by every
    trajectory of the repeat, so sampled labels pair across rates); ``human_positive_share``
    is the share of positives among the human-labelled start; ``options`` the loop's
    :class:`~modelcollapse.core.options.LoopOptions`, parameters included.
    """

    estimator: Any  # the labeller, fitted on its own vocabulary
    X: Any  # the chosen rows, restricted to the labeller's columns
    uniforms: np.ndarray
    human_positive_share: float
    options: Any
    _positive_proba: Callable[[], np.ndarray]

    def predict(self) -> np.ndarray:
        """The labeller's predicted labels."""
        return self.estimator.predict(self.X)

    @cached_property
    def p_positive(self) -> np.ndarray:
        """The labeller's P(positive) of every row (its predictions when it has no scores)."""
        return self._positive_proba()

    def __len__(self) -> int:
        return len(self.uniforms)


@dataclass(frozen=True)
class LabelPolicy:
    """A registered policy: its function, one-line help and the options it declares."""

    make: Callable[[LabelRequest], Labels | np.ndarray]
    help: str
    parameters: tuple[Option, ...] = ()


LABEL_POLICIES: Registry[LabelPolicy] = Registry("label_policies", "label policy", "--label-policy")


def label_policy(
    name: str, *, help: str, parameters: Sequence[Option] = ()
) -> Callable[[Callable[[LabelRequest], Labels | np.ndarray]], LabelPolicy]:
    """Register the decorated function as the label policy ``name`` (see the module's help)."""

    def add(make: Callable[[LabelRequest], Labels | np.ndarray]) -> LabelPolicy:
        return LABEL_POLICIES.register(name, LabelPolicy(make, help, tuple(parameters)))

    return add


def make_labels(name: str, request: LabelRequest) -> Labels:
    """Run the policy ``name``; a bare array of labels keeps every row."""
    import numpy as np

    made = LABEL_POLICIES[name].make(request)
    return made if isinstance(made, Labels) else Labels(np.asarray(made))


@label_policy("argmax", help="The labeller's predicted class.")
def argmax(request: LabelRequest) -> np.ndarray:
    return request.predict()


@label_policy("sample", help="A label drawn from the labeller's predicted probabilities.")
def sample(request: LabelRequest) -> np.ndarray:
    import numpy as np

    return (request.uniforms < request.p_positive).astype(np.int64)


@label_policy(
    "threshold",
    help="The predicted class where the labeller's confidence reaches --threshold; the rest "
    "are dropped or keep their human label (--below-threshold).",
    parameters=[
        Option("threshold", float, 0.9, "Confidence a model label needs.", ge=0.5, le=1),
        Option(
            "below_threshold",
            str,
            "drop",
            "Rows below the threshold: drop them, or keep their human label (human).",
            choices=("drop", "human"),
        ),
    ],
)
def threshold(request: LabelRequest) -> Labels:
    import numpy as np

    p_pos = request.p_positive
    confident = np.maximum(p_pos, 1.0 - p_pos) >= request.options.threshold
    return Labels((p_pos >= 0.5).astype(np.int64), confident, request.options.below_threshold)


@label_policy(
    "balanced",
    help="The batch's model labels follow the class shares of the human-labelled start, "
    "most confident first.",
)
def balanced(request: LabelRequest) -> np.ndarray:
    import numpy as np

    from modelcollapse.core.training import model_labelled_count

    n_pos = model_labelled_count(request.human_positive_share, len(request))
    made = np.zeros(len(request), dtype=np.int64)
    made[np.argsort(-request.p_positive, kind="stable")[:n_pos]] = 1
    return made
