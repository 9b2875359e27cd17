"""Garbage-collection settings for streaming batches of records.

A shard keeps tens of thousands of young objects alive until it is written; with CPython's default
threshold (700 allocations) the collector scans them over and over and takes a third of the time
of preparing examples (benchmarks/bench_prepare.py). Freezing what exists at the start (modules,
tables) and raising the threshold keeps collections rare and cheap; reference counting still frees
records as soon as a shard is done, so memory stays flat.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# (young, middle, old) thresholds while streaming; young = allocations between collections.
STREAMING_THRESHOLDS = (50_000, 20, 50)


@contextmanager
def streaming_gc() -> Iterator[None]:
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*STREAMING_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()
