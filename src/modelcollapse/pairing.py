"""The one pairing: each row of a treatment beside its baseline partner.

Within a seed group and repeat, trajectories share the test set, the initial sample, the order
of additions and the model seeds, so the difference between a row and its partner at the same
step or training size is the effect of what differs between them (a rate, a loop design)
alone. :func:`pair_with_baseline` is that pairing for ``compare``, ``answer``, ``theory`` and the
report; :func:`with_seed_groups` gives every row its seed group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from modelcollapse.stats import parse_conditions, select_rows

GROUP = "seed_group"  # the experiment's name when the study has no seed group, as in the plan


def with_seed_groups(
    results: pd.DataFrame, seed_groups: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """``results`` with a ``seed_group`` column: stored, else from ``seed_groups``, else the
    experiment's name."""
    data = results.copy()
    experiment = data["experiment"].astype(str)
    if GROUP in data.columns:
        data[GROUP] = data[GROUP].where(data[GROUP].notna(), experiment).astype(str)
    else:
        groups = dict(seed_groups or {})
        data[GROUP] = [groups.get(name, name) for name in experiment]
    return data


def pair_with_baseline(
    data: pd.DataFrame,
    baseline: str | Mapping[str, object] | np.ndarray,
    on: Sequence[str] = ("repeat", "train_size"),
    value: str = "accuracy",
    match: Sequence[str] = (),
    *,
    seed_groups: Mapping[str, str] | None = None,
    keep_unpaired: bool = False,
) -> pd.DataFrame:
    """The rows outside the baseline, each with ``baseline`` (its partner's ``value``) and
    ``difference`` = ``value`` − ``baseline``.

    ``baseline`` selects the baseline rows: a filter such as ``"rate=0"`` or
    ``{"regime": "accumulate"}`` (:func:`~modelcollapse.stats.parse_conditions`), or a boolean
    mask. A partner is in the same seed group (``seed_group``, added by
    :func:`with_seed_groups` when ``data`` lacks it) and has the same ``on`` values (the pair:
    repeat and training size, or step) and ``match`` values (e.g. ``rate`` when the baseline is
    a loop design: designs are compared at matched rate). Several baseline rows for one pair
    are averaged. A row without a partner is left out, or kept with NaN ``baseline`` and
    ``difference`` when ``keep_unpaired``. Raises ValueError when a filter matches no rows or
    every row (a mask that does returns no pairs).
    """
    if GROUP not in data.columns and "experiment" in data.columns:
        data = with_seed_groups(data, seed_groups)
    elif GROUP not in data.columns:  # nothing tells groups apart: one group
        data = data.assign(**{GROUP: ""})
    if isinstance(baseline, str | Mapping):
        conditions = parse_conditions(baseline, data) if isinstance(baseline, str) else baseline
        is_base = select_rows(data, conditions)
        text = baseline if isinstance(baseline, str) else _expression(conditions)
        if not is_base.any():
            raise ValueError(f"{text!r} matches no rows")
        if is_base.all():
            raise ValueError(f"{text!r} matches every row: nothing to compare with it")
    else:
        is_base = np.asarray(baseline, dtype=bool)
    keys = list(dict.fromkeys([GROUP, *on, *match]))
    base = (
        data.loc[is_base]
        .groupby(keys, sort=False, dropna=False, observed=True)[value]
        .mean()
        .rename("baseline")
        .reset_index()
    )
    paired = data.loc[~is_base].merge(base, on=keys, how="left" if keep_unpaired else "inner")
    paired["difference"] = paired[value] - paired["baseline"]
    return paired


def _expression(conditions: Mapping[str, object]) -> str:
    return ",".join(f"{k}={v}" for k, v in conditions.items())


__all__ = ["GROUP", "pair_with_baseline", "with_seed_groups"]
