"""Numbers as the tables print them, in plain text: the terminal's rich tables (``compare``,
``answer``), the HTML report (its summary, statistics, answers and theory tables) format through
these, so a value reads the same in all of them.

No rich and no HTML here: a caller escapes or styles the text it gets.
"""

from __future__ import annotations

import math

import pandas as pd

MISSING = "–"  # an en dash: a value that does not exist, not a zero
MINUS = "\u2212"  # a true minus sign: it is as wide as "+", so signed columns line up


def format_number(
    value: object,
    percent: bool,
    signed: bool = False,
    suffix: str = "",
    *,
    decimals: int = 2,
    digits: int = 4,
) -> str:
    """A value for a table: fractions in % (differences in points) to ``decimals`` decimals,
    else ``digits`` significant digits; a true minus sign; "–" if missing, "∞" if infinite.

    ``signed``: a "+" before positive values (and before a percentage that rounds to zero).
    """
    if value is None or pd.isna(value):
        return MISSING
    v = float(value) * (100 if percent else 1)
    if math.isinf(v):
        text = ("+" if signed and v > 0 else "-" if v < 0 else "") + "∞"
    elif percent:
        text = f"{v:+.{decimals}f}" if signed else f"{v:.{decimals}f}"
    else:
        text = f"{v:.{digits}g}"
        if signed and v > 0:
            text = "+" + text
    return text.replace("-", MINUS) + suffix


def format_interval(
    low: float,
    high: float,
    percent: bool,
    signed: bool = True,
    *,
    decimals: int = 2,
    digits: int = 4,
) -> str:
    """``[low, high]``, both as :func:`format_number` prints them; "–" if missing."""
    if low is None or pd.isna(low):
        return MISSING
    ends = (
        format_number(v, percent, signed, decimals=decimals, digits=digits) for v in (low, high)
    )
    return "[{}, {}]".format(*ends)


def format_mean_ci(
    mean: float, low: float, high: float, signed: bool = False, decimals: int = 1
) -> str:
    """A mean of fractions in % (percentage points when ``signed``) with its interval, e.g.
    "81.2 [80.1, 82.3]"; without an interval "81.2 (1 repeat, no CI)"; "–" if missing."""
    if mean is None or pd.isna(mean):
        return MISSING
    text = format_number(mean, True, signed, decimals=decimals)
    if low is None or pd.isna(low):
        return f"{text} (1 repeat, no CI)"
    return f"{text} {format_interval(low, high, True, signed, decimals=decimals)}"


def format_p(value: float) -> str:
    """A p-value for a table: three decimals, "<0.001" below, "–" if missing."""
    if pd.isna(value):
        return MISSING
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def format_percent(fraction: float) -> str:
    """0.015 -> '1.5 %': enough digits to tell neighbouring rates apart, no trailing zeros."""
    return f"{fraction * 100:.4g} %"


def format_count(n: float) -> str:
    """A count or a size with thousands separators, no decimals: 12,800."""
    return f"{n:,.0f}"


__all__ = [
    "MINUS", "MISSING", "format_count", "format_interval", "format_mean_ci", "format_number",
    "format_p", "format_percent",
]  # fmt: skip
