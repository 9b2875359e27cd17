"""Clips as Parquet (``speechsift ingest``, ``speechsift features``): one row per clip with
``clip_id``, ``source``, ``language``, ``audio``, ``speaker_id``, ``text``, ``raw``, ``meta``,
``features`` and ``extra``, written in streaming batches so memory stays flat."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq

from speechsift.records import CLIP_SCHEMA, Clip, clips_to_arrow

BATCH = 10_000


class ClipWriter:
    """Streams clips into one Parquet file; the file appears (atomically) when the writer closes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self._writer = pq.ParquetWriter(self._tmp, CLIP_SCHEMA, compression="zstd")
        self._batch: list[Clip] = []
        self.count = 0

    def add(self, clip: Clip) -> None:
        self._batch.append(clip)
        self.count += 1
        if len(self._batch) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            self._writer.write_table(clips_to_arrow(self._batch))
            self._batch = []

    def __enter__(self) -> "ClipWriter":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self._flush()
        self._writer.close()
        if exc_type is None:
            os.replace(self._tmp, self.path)
        else:
            self._tmp.unlink(missing_ok=True)


def read_clips(path: Path) -> list[Clip]:
    from speechsift.records import clips_from_arrow

    return clips_from_arrow(pq.read_table(path))
