"""Every preset's results at a small scale are those recorded before the redesign (issue #11).

A failure names the preset, the corpus and the columns that moved. A change that moves them
must be a fix explained in CHANGELOG.md, recorded again with ``python tests/golden.py``.
"""

from __future__ import annotations

import json

import pytest
from golden import CASES, CORPORA, HASHES, column_hashes, run_case

RECORDED = json.loads(HASHES.read_text())


@pytest.mark.parametrize("corpus", CORPORA)
@pytest.mark.parametrize("case", list(CASES))
def test_results_are_the_recorded_ones(case, corpus, tmp_path, request):
    data = "demo" if corpus == "demo" else str(request.getfixturevalue("real_data_path"))
    now = column_hashes(run_case(case, data, tmp_path / "run"))
    then = RECORDED[case][corpus]
    assert now["rows"] == then["rows"], f"{case} on {corpus}: row count moved"
    moved = sorted(name for name, digest in then.items() if now.get(name) != digest)
    assert not moved, f"{case} on {corpus}: columns moved or gone: {moved}"
