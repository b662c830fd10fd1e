"""Give the C heap's free memory back to the operating system (glibc's ``malloc_trim``).

Reading and featurising a corpus makes millions of Python strings of a few hundred bytes each;
glibc serves those from its heap, and freeing them leaves the pages with the process (issue
#15: the 4 million texts of the full corpus are gigabytes). Large NumPy arrays are mapped
separately and never reuse them, so without a trim they stay in the process's resident memory
through every fit of the run.
"""

from __future__ import annotations

import ctypes
import gc


def trim() -> bool:
    """Collect garbage, then return the heap's free pages; False where the C library has no
    ``malloc_trim`` (not glibc)."""
    gc.collect()
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False
