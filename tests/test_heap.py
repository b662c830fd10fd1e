"""Freed heap memory goes back to the operating system (run.heap.trim)."""

from __future__ import annotations

import ctypes

import psutil
import pytest

from modelcollapse.run import heap


def _glibc() -> bool:
    try:
        return hasattr(ctypes.CDLL(None), "malloc_trim")
    except OSError:
        return False


@pytest.mark.skipif(not _glibc(), reason="malloc_trim is glibc's")
def test_trim_gives_back_the_pages_of_freed_strings():
    process = psutil.Process()
    # Review-sized strings: glibc serves them from its heap, not from separate mappings.
    texts = [f"review {i} " * 40 for i in range(300_000)]  # about 150 MB
    keep = texts[::1000]  # a few survivors scattered over the heap, as in a real run
    held = process.memory_info().rss
    del texts
    assert heap.trim()
    after = process.memory_info().rss
    assert held - after > 100e6, (held, after)
    assert len(keep) == 300
