"""Shared fixtures."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def real_data_path() -> Path:
    """The real Amazon sample named by MODELCOLLAPSE_REAL_DATA.

    Skips when it is not there, except under CI (env var CI set), where missing data
    must fail loudly instead of silently skipping the only test on real reviews.
    Use with ``@pytest.mark.realdata``.
    """
    value = os.environ.get("MODELCOLLAPSE_REAL_DATA", "")
    if value and Path(value).is_file():
        return Path(value)
    reason = f"{value} not found" if value else "MODELCOLLAPSE_REAL_DATA is not set"
    if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
        pytest.fail(f"real data required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep each test session's token and feature caches out of the user's cache."""
    monkeypatch.setenv("MODELCOLLAPSE_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="session")
def small_reviews(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 synthetic reviews as a Kaggle-style fastText file."""
    from modelcollapse.data.demo import make_demo_corpus

    corpus = make_demo_corpus(n=1500, seed=7)
    path = tmp_path_factory.mktemp("data") / "reviews.ft.txt"
    with path.open("w", encoding="utf-8") as fh:
        for text, label in zip(corpus.texts, corpus.labels, strict=True):
            fh.write(f"__label__{int(label) + 1} {text}\n")
    return path


SMALL_CONFIG = """
name = "small"
model = "nb"
tokenizer = "fast"

[[study]]
name = "rates"
kind = "rates"
initial_size = 200
increment = 100
max_size = 600
rates = [0.0, 0.5, 1.0]
test_size = "rest"
repeats = 2

[[study]]
name = "collapse"
kind = "total-collapse"
spacing = "geometric"
max_size = 800
ratio = 0.5
n_sizes = 3
rates = [1.0]
test_size = 0.2
repeats = 2
"""


@pytest.fixture
def small_config(tmp_path: Path) -> Path:
    """A two-study config: 6 rate trajectories and 6 total-collapse trajectories."""
    path = tmp_path / "small.toml"
    path.write_text(SMALL_CONFIG)
    return path


@pytest.fixture
def kill_mid_run() -> Callable[[list[str], Path], int]:
    """Start a ``modelcollapse run`` command, SIGKILL it once it stored 3 trajectories (or
    after 120 s, or when it ended); returns how many trajectories it had stored."""

    def run(command: list[str], results: Path) -> int:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                if results.exists() and len(list(results.glob("*.parquet"))) >= 3:
                    break
                time.sleep(0.01)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        return len(list(results.glob("*.parquet")))

    return run
