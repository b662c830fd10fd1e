"""Numbers as the tables print them, in plain text: the terminal's rich tables (``compare``,
``answer``) and the HTML report format through these, so a value reads the same in both.

No rich and no HTML here: a caller escapes or styles the text it gets.
"""

from __future__ import annotations

import pandas as pd

MISSING = "–"  # an en dash: a value that does not exist, not a zero


def format_number(value: object, percent: bool, signed: bool = False, suffix: str = "") -> str:
    """A value for a table: fractions in % (differences in points) to 2 decimals, else 4
    significant digits; a true minus sign (it lines up with "+"); "–" if missing."""
    if value is None or pd.isna(value):
        return MISSING
    v = float(value) * (100 if percent else 1)
    text = f"{v:+.2f}" if signed and percent else f"{v:.2f}" if percent else f"{v:.4g}"
    if signed and not percent and v > 0:
        text = "+" + text
    return text.replace("-", "−") + suffix


def format_interval(low: float, high: float, percent: bool) -> str:
    """``[low, high]``, both signed as :func:`format_number` prints them; "–" if missing."""
    if pd.isna(low):
        return MISSING
    return f"[{format_number(low, percent, True)}, {format_number(high, percent, True)}]"


def format_p(value: float) -> str:
    """A p-value for a table: three decimals, "<0.001" below, "–" if missing."""
    if pd.isna(value):
        return MISSING
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def format_percent(fraction: float) -> str:
    """0.015 -> '1.5 %': enough digits to tell neighbouring rates apart, no trailing zeros."""
    return f"{fraction * 100:.4g} %"


__all__ = ["MISSING", "format_interval", "format_number", "format_p", "format_percent"]
