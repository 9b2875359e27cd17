"""Every path of an output folder, computed in one place.

The shard writer and the resume check both call these, so a skip check can never look for a file
the writer names differently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutputLayout:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def audio(self) -> Path:
        """Audio files materialized for exports when a clip has no file of its own."""
        return self.root / "audio"

    @property
    def work(self) -> Path:
        return self.root / ".work"

    @property
    def lock(self) -> Path:
        """Held by the run writing this folder (``engine/lock.py``): pid, host and start time."""
        return self.work / "lock"

    def clips_part(self, shard: int) -> Path:
        """A clip shard's clips after the clip stages (labels, measurements): the pairing index."""
        return self.work / "clips" / f"{self.part_name(shard)}.parquet"

    @property
    def rejects(self) -> Path:
        return self.root / "rejects.jsonl"

    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def card(self) -> Path:
        return self.root / "README.md"

    @staticmethod
    def part_name(shard: int) -> str:
        return f"part-{shard:05d}"

    def data_part(self, task: str, split: str, shard: int) -> Path:
        return self.data / task / f"{split}-{self.part_name(shard)}.parquet"

    @property
    def complete(self) -> Path:
        """Every example with its quality scores (the unfiltered release) when curation is on."""
        return self.root / "complete"

    def complete_part(self, task: str, shard: int) -> Path:
        return self.complete / task / f"{self.part_name(shard)}.parquet"

    def scored_part(self, shard: int) -> Path:
        return self.work / "scored" / f"{self.part_name(shard)}.parquet"

    def examples_part(self, shard: int) -> Path:
        """A generated shard's examples, audio by reference: the input of the assemble pass."""
        return self.work / "examples" / f"{self.part_name(shard)}.parquet"

    def shard_marker(self, shard: int) -> Path:
        """Written last, after all of a shard's outputs: its presence means the shard is done."""
        return self.work / "shards" / f"{self.part_name(shard)}.json"

    def shard_rejects(self, shard: int) -> Path:
        return self.work / "shards" / f"{self.part_name(shard)}.rejects.jsonl"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
