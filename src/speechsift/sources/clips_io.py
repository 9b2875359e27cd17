"""Clips as Parquet (``speechsift ingest``, ``speechsift features``): one row per clip with
``clip_id``, ``source``, ``language``, ``audio``, ``speaker_id``, ``text``, ``raw``, ``meta``,
``features`` and ``extra``, written in streaming batches so memory stays flat.

Audio paths are written relative to the clips file's folder and resolved against it when read,
as a manifest's are: the file reads the same from any working directory, and moves with the
corpus when both move together.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pyarrow.parquet as pq

from speechsift.records import CLIP_SCHEMA, Clip, clips_to_arrow
from speechsift.sources.base import audio_path

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
        self._folder = os.path.abspath(self.path.parent)
        self._relative_folders: dict[str, str] = {}  # an audio folder -> itself relative to the file's

    def _relative(self, path: str) -> str:
        """``path`` (absolute, or relative to the working directory) relative to the clips file's folder."""
        folder, _, name = path.rpartition(os.sep)
        relative = self._relative_folders.get(folder)
        if relative is None:
            absolute = os.path.abspath(os.path.expanduser(folder or os.curdir))
            try:
                relative = os.path.relpath(absolute, self._folder)
            except ValueError:  # another drive (Windows): no relative path exists
                relative = absolute
            self._relative_folders[folder] = relative
        return name if relative == os.curdir else os.path.join(relative, name)

    def add(self, clip: Clip) -> None:
        if clip.audio.path:
            clip = replace(clip, audio=replace(clip.audio, path=self._relative(clip.audio.path)))
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
    """The clips of a clips file, relative audio paths resolved against the file's folder."""
    from speechsift.records import clips_from_arrow

    prefix = os.path.join(os.path.abspath(Path(path).parent), "")
    clips = clips_from_arrow(pq.read_table(path))
    for clip in clips:
        if clip.audio.path:
            clip.audio.path = audio_path(clip.audio.path, prefix)
    return clips
