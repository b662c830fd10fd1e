"""Where a labeller's errors fall, from a run's results (issue #16).

Every loop step records the confusion of the labels it made (``label_confusion_<t>_<m>``:
human class t, label made m) and, in runs that bring a labeller from outside the loop on two
classes, how those labels did on negated reviews and on the others
(:data:`modelcollapse.core.labellers.NEGATION_COLUMNS`;
:func:`~modelcollapse.core.labellers.negated_reviews` says which reviews are negated).
:func:`label_error_summary` pools them per study and rate; ``compare``, ``answer`` and the
report show it.

The negation gap is a per-repeat quantity: in each repeat, the error rate of the labels made
on negated reviews minus that on the others (all steps pooled); the estimate is its mean over
repeats, with a t-interval over repeats (repeats draw their rows independently; the rows of
one repeat share its labeller, so they are not independent draws). It says where the errors
fall, not why: negated reviews also differ otherwise (length, mixed opinions).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from modelcollapse.stats import t_interval

if TYPE_CHECKING:
    import pandas as pd

_CONFUSION = re.compile(r"^label_confusion_(\d+)_(\d+)$")

#: What :func:`label_error_summary` cannot tell, said beside every table of it.
CAVEAT = (
    "Negated: a word of VADER's negation list (not, no, never, n't, ...) within the 3 words "
    "before a VADER lexicon word. Gap: error rate on negated reviews minus on the others, "
    "per repeat, mean and 95 % t-interval over repeats; it says where errors fall, not why "
    "(negated reviews also differ otherwise)."
)


def confusion_columns(results: pd.DataFrame) -> dict[tuple[int, int], str]:
    """The confusion columns of ``results`` by (human class, label made)."""
    found = {}
    for column in results.columns:
        match = _CONFUSION.match(str(column))
        if match:
            found[(int(match[1]), int(match[2]))] = str(column)
    return found


def has_negation_split(results: pd.DataFrame) -> bool:
    """Whether ``results`` record the negation split with some labels made."""
    return "n_labels_negated" in results and bool(
        (results["n_labels_negated"].fillna(0) + results["n_labels_other"].fillna(0)).gt(0).any()
    )


def label_error_summary(results: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per (study, rate > 0) whose steps made labels: repeats, labels made per repeat,
    their accuracy, the confusion as shares of each human class (``wrong_<t>``: share of the
    rows of human class t given another label; ``worst``: the commonest error, as "t→m"), and
    where the negation split was recorded: the share of labels on negated reviews, the error
    rates on negated and other reviews (means over repeats) and their gap with its interval
    (``gap``, ``gap_low``, ``gap_high``; NaN below 2 repeats)."""
    import pandas as pd

    cells = confusion_columns(results)
    if not cells:
        return pd.DataFrame()
    k = max(max(t, m) for t, m in cells) + 1
    split = "n_labels_negated" in results
    made = results.loc[results["rate"] > 0]
    order = [(t, m) for t in range(k) for m in range(k)]
    columns = [cells[c] for c in order]
    if split:  # labels right, per step (a step without such labels made none: 0)
        made = made.assign(
            _right_negated=(made["label_accuracy_negated"] * made["n_labels_negated"]).fillna(0),
            _right_other=(made["label_accuracy_other"] * made["n_labels_other"]).fillna(0),
        )
        columns += ["n_labels_negated", "n_labels_other", "_right_negated", "_right_other"]
    # One sum per repeat of each (study, rate), then numpy per group: a run has many steps.
    sums = made.groupby(["experiment", "rate", "repeat"], sort=True)[columns].sum()
    keys = sums.index.droplevel("repeat")
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else []
    rows = []
    for start, values in zip(starts, np.split(sums.to_numpy(float), starts[1:]), strict=True):
        study, rate = keys[start]
        matrix = values[:, : k * k].reshape(-1, k, k)  # repeat × human × made
        n_made = matrix.sum(axis=(1, 2))
        if not (n_made > 0).any():
            continue
        pooled = matrix.sum(axis=0)
        row: dict[str, object] = {
            "experiment": study,
            "rate": float(rate),
            "repeats": int((n_made > 0).sum()),
            "labels_per_repeat": float(n_made.mean()),
            "accuracy": float(np.trace(pooled) / pooled.sum()),
        }
        for t in range(k):
            total = pooled[t].sum()
            row[f"wrong_{t}"] = float((total - pooled[t, t]) / total) if total else np.nan
        off = pooled.copy()
        np.fill_diagonal(off, -1)
        t, m = np.unravel_index(np.argmax(off), off.shape)
        row["worst"] = f"{t}→{m}"
        row["worst_share"] = float(pooled[t, m] / pooled.sum())
        if split:
            row.update(_negation_gap(values[:, k * k :], confidence))
        rows.append(row)
    return pd.DataFrame(rows)


def _negation_gap(sums: np.ndarray, confidence: float) -> dict[str, float]:
    """From per-repeat sums of (labels on negated, on others, right on negated, on others)."""
    n_neg, n_other, right_neg, right_other = sums.T
    with np.errstate(invalid="ignore", divide="ignore"):
        err_neg = 1.0 - right_neg / n_neg
        err_other = 1.0 - right_other / n_other
    gap = err_neg - err_other
    low, high = t_interval(gap, confidence)
    total = n_neg.sum() + n_other.sum()

    def mean(x: np.ndarray) -> float:
        return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")

    return {
        "negated_share": float(n_neg.sum() / total) if total else float("nan"),
        "error_negated": mean(err_neg),
        "error_other": mean(err_other),
        "gap": mean(gap),
        "gap_low": low,
        "gap_high": high,
    }


def format_label_errors(summary: pd.DataFrame, names: tuple[str, ...] = ()) -> list[object]:
    """The summary as a rich table and its caveat (nothing for an empty summary)."""
    from rich.table import Table

    if summary.empty:
        return []
    k = sum(str(c).startswith("wrong_") for c in summary.columns)

    def name(j: int) -> str:
        return names[j] if j < len(names) else str(j)

    def pct(x: float) -> str:
        return "–" if not np.isfinite(x) else f"{100 * x:.1f} %"

    def pp(x: float) -> str:
        return "–" if not np.isfinite(x) else f"{100 * x:+.1f}".replace("-", "−")

    split = "gap" in summary
    t = Table(title="Where the labeller's errors fall (labels made, all steps)",
              title_justify="left")  # fmt: skip
    columns = ["study", "rate", "reps", "labels/rep", "accuracy"]
    columns += [f"{name(j)} given another" for j in range(k)] if k <= 3 else ["commonest error"]
    if split:
        columns += ["on negated", "error negated", "error other", "gap pp", "95% CI pp"]
    for c in columns:
        t.add_column(c, justify="left" if c == "study" else "right")
    for r in summary.to_dict("records"):
        cells = [str(r["experiment"]), f"{r['rate']:g}", str(r["repeats"]),
                 f"{r['labels_per_repeat']:,.0f}", pct(r["accuracy"])]  # fmt: skip
        if k <= 3:
            cells += [pct(r[f"wrong_{j}"]) for j in range(k)]
        else:
            t_, m_ = (int(x) for x in r["worst"].split("→"))
            cells.append(f"{name(t_)}→{name(m_)} {pct(r['worst_share'])}")
        if split:
            ci = ("–" if not np.isfinite(r["gap_low"])
                  else f"[{pp(r['gap_low'])}, {pp(r['gap_high'])}]")  # fmt: skip
            cells += [pct(r["negated_share"]), pct(r["error_negated"]), pct(r["error_other"]),
                      pp(r["gap"]), ci]  # fmt: skip
        t.add_row(*cells)
    t.caption = (
        "Accuracy: of the labels the labeller made, against the human ones, pooled over "
        "repeats. '<class> given another': share of the rows of that human class labelled "
        "otherwise. " + (CAVEAT if split else "")
    )
    t.caption_justify = "left"
    return [t]
