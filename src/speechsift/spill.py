"""Group-bys that spill to disk: rows are hash-partitioned into Arrow IPC files, and each partition
is read back on its own, so a global decision over millions of rows holds one partition at a time.

The release's global passes use it (``engine/assemble.py``): duplicates by hash partitioning and
by LSH band buckets (``curate/dedup.py``), pairing groups (``tasks/pairing.py``), distinct clips
for the report. A writer buffers rows and appends a record batch to each partition's file when
the buffer is full; several writers (processes, later Ray tasks) can fill one spill side by side,
each under its own name, since a partition is every file ``p<NNNN>-*.arrow`` of the folder.

``string_hash64`` hashes a string column without a Python loop: the partition of a key must be
the same in every process and on every machine (so not Python's salted ``hash``).
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

# Rows per partition a spill aims at: a partition of compact keys (ids, digests, a little text) is
# then a few tens of MB in memory while it is grouped.
ROWS_PER_PARTITION = 250_000
MAX_PARTITIONS = 512
# A writer flushes its buffered rows to the partition files once they hold this many bytes.
FLUSH_BYTES = 32 * 2**20

_MULTIPLIER = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime, as a polynomial base


def partitions_for(rows: int, per_partition: int = ROWS_PER_PARTITION) -> int:
    """How many partitions a spill of about ``rows`` rows gets (about ``per_partition`` rows each)."""
    return max(1, min(MAX_PARTITIONS, math.ceil(rows / per_partition)))


def _mix64(x: np.ndarray) -> np.ndarray:
    """The finalizer of MurmurHash3 (fmix64): spreads every input bit over the output."""
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


def string_hash64(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each string (or binary) value, the same on every machine; nulls hash to 0."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pa.types.is_fixed_size_binary(array.type):
        array = array.cast(pa.binary())
    if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type):
        array = array.cast(pa.large_binary())
        offsets_type = np.int64
    else:
        offsets_type = np.int32
    n = len(array)
    if n == 0:
        return np.zeros(0, np.uint64)
    _validity, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=offsets_type)[array.offset: array.offset + n + 1].astype(np.int64)
    start, end = offsets[:-1], offsets[1:]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
    data = data[offsets[0]: offsets[-1]].astype(np.uint64)
    lengths = end - start
    with np.errstate(over="ignore"):
        positions = np.arange(data.size, dtype=np.int64) - np.repeat(start - offsets[0], lengths)
        longest = int(lengths.max()) if n else 0
        powers = np.cumprod(np.full(max(longest, 1), _MULTIPLIER, dtype=np.uint64), dtype=np.uint64)
        terms = (data + np.uint64(1)) * powers[positions]
        sums = np.zeros(n, np.uint64)
        nonempty = lengths > 0
        if data.size:
            sums[nonempty] = np.add.reduceat(terms, (start - offsets[0])[nonempty])
        hashed = _mix64(sums ^ lengths.astype(np.uint64))
    if array.null_count:
        hashed[np.asarray(array.is_null())] = 0
    return hashed


def digest_prefix64(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The first 8 bytes of each fixed-size binary value (a digest) as an unsigned integer."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    width = array.type.byte_width
    raw = np.frombuffer(array.buffers()[1], dtype=np.uint8)[array.offset * width: (array.offset + len(array)) * width]
    return raw.reshape(-1, width)[:, :8].copy().view(">u8").ravel().astype(np.uint64)


class Spill:
    """Rows hash-partitioned into ``partitions`` files under ``folder``.

    ``add(table, keys)`` files each row under ``keys[i] % partitions`` (``keys``: unsigned 64-bit
    hashes); ``close()`` writes what is buffered; ``read(p)`` is partition ``p`` whole (every
    writer's file of it). ``writer`` names this writer's files, so that several can fill one spill.
    """

    def __init__(self, folder: Path, partitions: int, *, writer: str = "0", schema: pa.Schema | None = None) -> None:
        self.folder = Path(folder)
        self.partitions = partitions
        self.writer = writer
        self.schema = schema
        self.rows = 0
        self._buffers: list[list[pa.Table]] = [[] for _ in range(partitions)]
        self._buffered = 0
        self._sinks: dict[int, pa.ipc.RecordBatchStreamWriter] = {}
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, partition: int, writer: str) -> Path:
        return self.folder / f"p{partition:04d}-{writer}.arrow"

    def add(self, table: pa.Table, keys: np.ndarray) -> None:
        if table.num_rows == 0:
            return
        if self.schema is None:
            self.schema = table.schema
        table = table.cast(self.schema) if table.schema != self.schema else table
        partition = (np.asarray(keys, dtype=np.uint64) % np.uint64(self.partitions)).astype(np.int64)
        order = np.argsort(partition, kind="stable")
        counts = np.bincount(partition, minlength=self.partitions)
        ordered = table.take(pa.array(order)) if self.partitions > 1 else table
        start = 0
        for p, count in enumerate(counts.tolist()):
            if count:
                self._buffers[p].append(ordered.slice(start, count))
                start += count
        self.rows += table.num_rows
        self._buffered += ordered.nbytes
        if self._buffered >= FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        for p, tables in enumerate(self._buffers):
            if not tables:
                continue
            sink = self._sinks.get(p)
            if sink is None:
                sink = self._sinks[p] = pa.ipc.new_stream(str(self._path(p, self.writer)), self.schema)
            sink.write_table(pa.concat_tables(tables).combine_chunks())
            tables.clear()
        self._buffered = 0

    def close(self) -> None:
        self.flush()
        for sink in self._sinks.values():
            sink.close()
        self._sinks.clear()

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, partition: int) -> pa.Table:
        """Partition ``partition``: the rows every writer filed under it (an empty table when none)."""
        tables = []
        for path in sorted(self.folder.glob(f"p{partition:04d}-*.arrow")):
            with pa.ipc.open_stream(str(path)) as reader:
                tables.append(reader.read_all())
                if self.schema is None:
                    self.schema = reader.schema
        if not tables:
            if self.schema is None:
                raise ValueError(f"spill {self.folder}: partition {partition} is empty and no schema is known")
            return self.schema.empty_table()
        return pa.concat_tables(tables) if len(tables) > 1 else tables[0]

    def __iter__(self) -> Iterator[tuple[int, pa.Table]]:
        for partition in range(self.partitions):
            yield partition, self.read(partition)

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def fresh_folder(folder: Path) -> Path:
    """``folder`` emptied (a spill of an earlier, killed run is never read)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def process_name() -> str:
    """A name for this process's spill files."""
    return str(os.getpid())
