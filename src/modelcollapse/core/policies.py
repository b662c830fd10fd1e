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

Labels are the class codes 0 … k−1 (``request.n_classes``). The built-in policies read
P(positive) for two classes, which keeps every binary label as it always was, and the (n, k)
class probabilities (``request.proba``) for more.
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
    is the share of positives (label 1) among the human-labelled start, ``class_shares``
    the share of every class there (None: two classes, ``[1 - share, share]``);
    ``options`` the loop's :class:`~modelcollapse.core.options.LoopOptions`, parameters
    included; ``n_classes`` the number of classes k.
    """

    estimator: Any  # the labeller, fitted on its own vocabulary
    X: Any  # the chosen rows, restricted to the labeller's columns
    uniforms: np.ndarray
    human_positive_share: float
    options: Any
    _positive_proba: Callable[[], np.ndarray]
    n_classes: int = 2
    class_shares: np.ndarray | None = None
    _class_proba: Callable[[], np.ndarray] | None = None

    def predict(self) -> np.ndarray:
        """The labeller's predicted labels."""
        return self.estimator.predict(self.X)

    @cached_property
    def p_positive(self) -> np.ndarray:
        """The labeller's P(positive) of every row (its predictions when it has no scores)."""
        return self._positive_proba()

    @cached_property
    def proba(self) -> np.ndarray:
        """The labeller's (n, k) class probabilities, column j = label j (0 for a class it
        never saw; its predictions as certain ones when it has no scores)."""
        import numpy as np

        if self._class_proba is not None:
            return self._class_proba()
        p_pos = self.p_positive
        return np.column_stack([1.0 - p_pos, p_pos])

    @property
    def human_class_shares(self) -> np.ndarray:
        """The share of every class among the human-labelled start."""
        import numpy as np

        if self.class_shares is not None:
            return np.asarray(self.class_shares)
        return np.array([1.0 - self.human_positive_share, self.human_positive_share])

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

    if request.n_classes <= 2:
        return (request.uniforms < request.p_positive).astype(np.int64)
    # Inverse CDF over the classes in code order: class j when u falls in its slice of [0, 1).
    cdf = np.cumsum(request.proba, axis=1)
    drawn = (request.uniforms[:, None] >= cdf).sum(axis=1)
    return np.minimum(drawn, request.n_classes - 1).astype(np.int64)  # rounding: cdf[-1] < 1


@label_policy(
    "threshold",
    help="The predicted class where the labeller's confidence (its top class probability) "
    "reaches --threshold; the rest are dropped or keep their human label (--below-threshold).",
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

    if request.n_classes <= 2:
        p_pos = request.p_positive
        confident = np.maximum(p_pos, 1.0 - p_pos) >= request.options.threshold
        made = (p_pos >= 0.5).astype(np.int64)
    else:
        proba = request.proba
        made = np.argmax(proba, axis=1).astype(np.int64)  # ties: the lowest class code
        confident = proba[np.arange(len(made)), made] >= request.options.threshold
    return Labels(made, confident, request.options.below_threshold)


@label_policy(
    "balanced",
    help="The batch's model labels follow the class shares of the human-labelled start, "
    "most confident first.",
)
def balanced(request: LabelRequest) -> np.ndarray:
    import numpy as np

    from modelcollapse.core.training import model_labelled_count

    if request.n_classes <= 2:
        n_pos = model_labelled_count(request.human_positive_share, len(request))
        made = np.zeros(len(request), dtype=np.int64)
        made[np.argsort(-request.p_positive, kind="stable")[:n_pos]] = 1
        return made
    quota = class_quotas(request.human_class_shares, len(request))
    return fill_quotas(request.proba, quota)


def class_quotas(shares: np.ndarray, n: int) -> np.ndarray:
    """Rows per class out of ``n`` in the proportions ``shares``: the floors of n × share,
    the rows left over to the largest remainders (Hamilton's method; ties to the lower code)."""
    import numpy as np

    exact = np.asarray(shares, dtype=float) * n
    quota = np.floor(exact).astype(np.int64)
    left = n - int(quota.sum())
    if left > 0:
        quota[np.argsort(-(exact - quota), kind="stable")[:left]] += 1
    return quota


def fill_quotas(proba: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """Every row gets a class, at most ``quota[j]`` rows class j, most confident first: the
    (row, class) pairs are taken in decreasing probability, a pair skipped once its row has a
    class or its class is full (greedy; for two classes, the top rows by P(positive))."""
    import numpy as np

    n, k = proba.shape
    made = np.full(n, -1, dtype=np.int64)
    room = np.asarray(quota, dtype=np.int64).copy()
    order = np.argsort(-proba.ravel(), kind="stable")
    left = n
    for flat in order:
        row, cls = divmod(int(flat), k)
        if made[row] < 0 and room[cls] > 0:
            made[row] = cls
            room[cls] -= 1
            left -= 1
            if not left:
                break
    return made
