"""The one number formatter the terminal tables and the HTML report share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from modelcollapse.formatting import (
    format_count,
    format_interval,
    format_mean_ci,
    format_number,
    format_p,
    format_percent,
)


@pytest.mark.parametrize(
    ("value", "kwargs", "text"),
    [
        (0.81234, {"percent": True}, "81.23"),
        (-0.0123, {"percent": True, "signed": True}, "−1.23"),
        (0.0, {"percent": True, "signed": True}, "+0.00"),
        (0.0004, {"percent": True, "signed": True, "suffix": " pp"}, "+0.04 pp"),
        (-0.000123456, {"percent": False}, "−0.0001235"),
        (1.5, {"percent": False, "signed": True}, "+1.5"),
        (0.0, {"percent": False, "signed": True}, "0"),  # no sign on a zero that is not a %
        (12.3456, {"percent": False, "digits": 3}, "12.3"),
        (0.81234, {"percent": True, "decimals": 1}, "81.2"),
        (math.inf, {"percent": False}, "∞"),
        (-math.inf, {"percent": True, "signed": True}, "−∞"),
        (None, {"percent": True}, "–"),
        (np.nan, {"percent": False}, "–"),
    ],
)
def test_format_number(value, kwargs, text) -> None:
    assert format_number(value, **kwargs) == text


def test_interval_and_mean_with_interval() -> None:
    assert format_interval(-0.01, 0.02, percent=True) == "[−1.00, +2.00]"
    assert format_interval(-0.01, 0.02, percent=False, signed=False) == "[−0.01, 0.02]"
    assert format_interval(np.nan, 0.02, percent=True) == "–"
    # The report's summary cells: %, one decimal, points signed, a true minus.
    assert format_mean_ci(0.81234, 0.80149, 0.82351) == "81.2 [80.1, 82.4]"
    assert format_mean_ci(-0.0123, -0.0204, -0.0042, signed=True) == "−1.2 [−2.0, −0.4]"
    assert format_mean_ci(0.015, 0.0, 0.03, signed=True) == "+1.5 [+0.0, +3.0]"
    assert format_mean_ci(0.8, np.nan, np.nan) == "80.0 (1 repeat, no CI)"
    assert format_mean_ci(np.nan, np.nan, np.nan) == "–"


def test_p_percent_and_count() -> None:
    assert [format_p(p) for p in (0.0004, 0.0123, np.nan)] == ["<0.001", "0.012", "–"]
    assert [format_percent(r) for r in (0.015, 0.1, 0.0)] == ["1.5 %", "10 %", "0 %"]
    assert [format_count(n) for n in (12800, 999.6)] == ["12,800", "1,000"]
