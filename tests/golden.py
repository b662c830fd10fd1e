"""Golden results: every preset at a small scale, hashed column by column.

Recorded before the redesign of issue #11, so that moving code can be shown not to move a
number. Each case is a shipped preset with fixed overrides (one repeat, a small scale; the
forest presets run with ``nb`` except one case that keeps ``seed-rf``, so the suite stays
fast). The table of a case is its results sorted by trajectory and step; each column is
hashed from its values printed to 10 significant digits (timings left out), so a changed
column is named, and a column added later does not disturb the others.

Re-record (only for a change explained in CHANGELOG.md as a fix)::

    MODELCOLLAPSE_REAL_DATA=../shared/data/amazon_polarity_sample.ft.txt.bz2 \\
        python tests/golden.py [CASE ...]   # all cases, or only those named
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HASHES = Path(__file__).with_name("golden.json")
CORPORA = ("demo", "real")

# preset -> overrides of apply_overrides. Scales keep every pool within the demo corpus's and
# the real sample's rows; increments thin the size grids (lower-rates: 91 steps to 10).
CASES: dict[str, dict[str, Any]] = {
    "learning-curve": {"repeats": 1, "scale": 0.003, "model": "nb"},
    "total-collapse": {"repeats": 1, "scale": 0.003, "model": "nb"},
    "collapse-rates": {"repeats": 1, "scale": 0.01, "model": "nb", "increment": 6000},
    "lower-rates": {"repeats": 1, "scale": 0.1, "model": "nb", "increment": 1000},
    "lower-rates-detail": {"repeats": 2, "scale": 0.1, "model": "nb", "increment": 1500},
    "lower-rates-forest": {
        "preset": "lower-rates", "repeats": 1, "scale": 0.03, "increment": 3000,
        "rates": [0.0, 1.0], "model": "fast-rf",
    },
    "seed-study": {"repeats": 1, "scale": 0.002, "model": "nb", "increment": 20000},
    "demo": {"repeats": 1, "scale": 0.05},
    "generations": {"repeats": 1, "scale": 0.1},
    "generative": {"repeats": 1, "scale": 0.05},
    "designs": {"repeats": 1, "scale": 0.05, "increment": 900},
    "theory": {"repeats": 1, "scale": 0.05, "increment": 900},
}  # fmt: skip

SORT = ["experiment", "trajectory", "step"]


def _is_timing(column: str) -> bool:
    return column.endswith("_seconds")


def column_hashes(frame: pd.DataFrame) -> dict[str, str]:
    """One short hash per column (timings left out) of the table sorted by trajectory and step."""
    frame = frame.sort_values(SORT, ignore_index=True)
    out = {"rows": str(len(frame))}
    for name in frame.columns:
        if _is_timing(name):
            continue
        out[name] = hashlib.sha256(_text(frame[name]).encode()).hexdigest()[:16]
    return out


def _text(values: pd.Series) -> str:
    def cell(v: Any) -> str:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return "NA"
        if isinstance(v, (float, np.floating)):
            return f"{float(v):.10g}"
        if isinstance(v, (bool, np.bool_)):
            return str(bool(v))
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        return str(v)

    return "\n".join(cell(v) for v in values.astype(object))


def run_case(name: str, data: str, out: Path) -> pd.DataFrame:
    from modelcollapse.experiments.config import apply_overrides, load_config
    from modelcollapse.runner import run_experiment
    from modelcollapse.store import RunStore

    overrides = dict(CASES[name])
    config = load_config(overrides.pop("preset", name))
    config = apply_overrides(config, data=data, seed=11, **overrides)
    run_experiment(config, out, jobs=1)
    return RunStore(out).read_results()


def data_for(corpus: str) -> str | None:
    if corpus == "demo":
        return "demo"
    path = os.environ.get("MODELCOLLAPSE_REAL_DATA", "")
    return path if path and Path(path).is_file() else None


def record(names: list[str] | None = None) -> dict[str, dict[str, dict[str, str]]]:
    """Every case's hashes; with ``names``, those cases anew and the others as recorded."""
    hashes: dict[str, dict[str, dict[str, str]]] = {}
    if names:
        unknown = sorted(set(names) - set(CASES))
        if unknown:
            sys.exit(f"no golden case {', '.join(unknown)}; cases: {', '.join(CASES)}")
        hashes = json.loads(HASHES.read_text())
    for name in names or CASES:
        hashes[name] = {}
        for corpus in CORPORA:
            data = data_for(corpus)
            if data is None:
                sys.exit("set MODELCOLLAPSE_REAL_DATA to the real sample to record")
            with tempfile.TemporaryDirectory() as tmp:
                hashes[name][corpus] = column_hashes(run_case(name, data, Path(tmp) / "run"))
            print(name, corpus, hashes[name][corpus]["rows"], "rows", flush=True)
    return hashes


if __name__ == "__main__":
    HASHES.write_text(json.dumps(record(sys.argv[1:]), indent=1, sort_keys=True) + "\n")
