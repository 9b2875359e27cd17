"""Handing freed memory back to the operating system between the phases of a long run.

A run's phases each allocate and free hundreds of MB (curation's Arrow tables and records, dedup's
partitions, the report's reading), and the allocators keep what is freed for later: Arrow's memory
pool (mimalloc, per thread) and glibc's heap (which returns only the memory at its top by itself).
What they keep is carried from one phase into the next, on top of what the next one needs (at the
start of the report of a 100k-clip run the process was 658 MiB resident, 602 MiB once it handed
back what was free; ``benchmarks/bench_scale.py`` samples each phase's peak). ``release_memory()`` at a phase
boundary collects cyclic garbage (some pyarrow objects free their buffers only then), asks Arrow's
pool to return its unused memory, and glibc's ``malloc_trim`` to return its free pages (the same
remedy Dask's workers use for "unmanaged memory"). It frees nothing that is in use; a call takes well
under a second, and a run makes a handful.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import cache


@cache
def _malloc_trim():  # glibc's malloc_trim, or None (musl, macOS, Windows)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def release_memory() -> None:
    """Return the memory this process has freed (and its cyclic garbage) to the operating system."""
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


__all__ = ["release_memory"]
