"""Every path of an output folder, computed in one place.

The shard writer and the resume check both call these, so a skip check can never look for a file
the writer names differently. OUT may be a local folder or an object store (``s3://bucket/prefix``):
the paths are of OUT's filesystem (``storage.Storage``: ``Path`` locally, ``PurePosixPath`` on an
object store), and every file is written and read through ``layout.storage``.

What must stay on this machine whatever OUT is (the request ledger, a SQLite file; the lock; the
speech cache that examples reference by path) lives in ``local``: ``OUT/.work`` for a local OUT,
and for an object store a cache folder of this machine (``engine.cache_dir``, default
``~/.cache/speechsift/out-<hash of OUT>``).
"""

from __future__ import annotations

import hashlib
import os
from functools import cached_property
from pathlib import Path, PurePath

from speechsift.storage import OutPath, Storage, atomic_write_bytes, atomic_write_text


def default_cache_dir(uri: str) -> Path:
    """This machine's folder for what an object-store OUT cannot hold (``engine.cache_dir`` by default)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "speechsift" / f"out-{hashlib.sha256(uri.encode()).hexdigest()[:16]}"


class OutputLayout:
    """``OutputLayout(OUT)``: OUT a local folder or an object-store URI; ``cache_dir`` is where the
    local state of an object-store OUT goes (default ``default_cache_dir``)."""

    def __init__(self, location: str | PurePath, cache_dir: Path | None = None) -> None:
        self.storage = Storage(location)
        self.root: OutPath = self.storage.root
        self._cache_dir = cache_dir

    def __repr__(self) -> str:
        return f"OutputLayout({self.storage.uri!r})"

    @property
    def uri(self) -> str:
        """OUT as the user named it (a local path, or ``s3://bucket/prefix``)."""
        return self.storage.uri

    @property
    def location(self) -> str:
        """OUT as given, to open it again: an object store's URI keeps its query (endpoint_override=...)."""
        return self.storage.location

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OutputLayout) and other.storage.uri == self.storage.uri

    def __hash__(self) -> int:
        return hash(self.storage.uri)

    @property
    def remote(self) -> bool:
        return self.storage.remote

    @cached_property
    def local(self) -> Path:
        """This machine's state of the run: ``OUT/.work`` for a local OUT, a cache folder otherwise."""
        if not self.remote:
            return Path(self.work)
        return Path(self._cache_dir or default_cache_dir(self.storage.uri)).absolute()

    @property
    def data(self) -> OutPath:
        return self.root / "data"

    @property
    def exports(self) -> OutPath:
        return self.root / "exports"

    @property
    def audio(self) -> OutPath:
        """Audio files materialized for exports when a clip has no file of its own."""
        return self.root / "audio"

    @property
    def work(self) -> OutPath:
        return self.root / ".work"

    @property
    def lock(self) -> Path:
        """Held by the run writing this folder (``engine/lock.py``): pid, host and start time. On
        this machine: an object store has no locks (two machines writing one OUT are not stopped)."""
        return self.local / "lock"

    @property
    def ledger(self) -> Path:
        """The request ledger (SQLite, so on this machine); ``ledger_copy`` is its copy beside OUT."""
        return self.local / "ledger.sqlite"

    @property
    def ledger_copy(self) -> OutPath:
        return self.work / "ledger.sqlite"

    @property
    def tts_cache(self) -> Path:
        """Synthesized speech (examples reference the files by path, so on this machine)."""
        return self.local / "tts"

    @property
    def clips(self) -> OutPath:
        """The pairing index: a clip shard's clips after the clip stages (labels, measurements)."""
        return self.work / "clips"

    def clips_part(self, shard: int) -> OutPath:
        return self.clips / f"{self.part_name(shard)}.parquet"

    @property
    def rejects(self) -> OutPath:
        return self.root / "rejects.jsonl"

    @property
    def run_json(self) -> OutPath:
        return self.root / "run.json"

    @property
    def card(self) -> OutPath:
        return self.root / "README.md"

    @staticmethod
    def part_name(shard: int) -> str:
        return f"part-{shard:05d}"

    def data_part(self, split: str, shard: int) -> OutPath:
        """One split of one release part: every task, rows sorted by clip (``export/parquet.py``)."""
        return self.data / f"{split}-{self.part_name(shard)}.parquet"

    def data_parts(self, split: str = "*") -> list[OutPath]:
        """The release's Parquet files of ``split`` (every split with ``*``), in part order; also
        the per-task files (``data/<task>/<split>-part-*.parquet``) of older outputs."""
        found = self.storage.files(self.data, ".parquet")
        if split == "*":
            return [p for p in found if "-part-" in p.name]
        return [p for p in found if p.name.startswith(f"{split}-part-")]

    @property
    def complete(self) -> OutPath:
        """Every example with its quality scores (the unfiltered release) when curation is on."""
        return self.root / "complete"

    def complete_part(self, shard: int) -> OutPath:
        return self.complete / f"{self.part_name(shard)}.parquet"

    @property
    def pair_work(self) -> Path:
        """The clips of the planned pairs, filed by pair shard (``engine/pairs.py``), on this
        machine. Made anew by every run; nothing in it is resume state."""
        return self.local / "pairs"

    @property
    def release_work(self) -> Path:
        """The release's working files on this machine: compact keys, split plans, spilled
        group-bys (``OUT/.work/release`` for a local OUT). Made anew by every release; nothing in
        it is resume state."""
        return self.local / "release"

    def decisions_part(self, shard: int) -> OutPath:
        """What the release does with each example of a part: its split and copies, or why it is
        left out. In OUT, so that whoever writes the part (a worker process, a Ray task) reads it."""
        return self.work / "release" / "decisions" / f"{self.part_name(shard)}.parquet"

    def release_rejects(self, shard: int) -> OutPath:
        """The examples of a part the release leaves out (rejects.jsonl gathers them)."""
        return self.work / "release" / "rejects" / f"{self.part_name(shard)}.jsonl"

    def scored_part(self, shard: int) -> OutPath:
        return self.work / "scored" / f"{self.part_name(shard)}.parquet"

    @property
    def examples(self) -> OutPath:
        """Generated shards' examples, audio by reference: the input of the assemble pass."""
        return self.work / "examples"

    def examples_part(self, shard: int) -> OutPath:
        return self.examples / f"{self.part_name(shard)}.parquet"

    @property
    def shards(self) -> OutPath:
        """Shards' done-markers and rejects."""
        return self.work / "shards"

    def shard_marker(self, shard: int) -> OutPath:
        """Written last, after all of a shard's outputs: its presence means the shard is done."""
        return self.shards / f"{self.part_name(shard)}.json"

    def shard_rejects(self, shard: int) -> OutPath:
        return self.shards / f"{self.part_name(shard)}.rejects.jsonl"

    @staticmethod
    def part_index(path: PurePath) -> int:
        """The shard a part file belongs to (``part-00012.json`` -> 12)."""
        return int(path.name.split(".")[0].removeprefix("part-"))


__all__ = ["OutputLayout", "atomic_write_bytes", "atomic_write_text", "default_cache_dir"]
