"""Pairs of clips for the comparison tasks, formed over the pairing index the clip shards write.

Every clip shard writes the clips that passed its clip stages (labels normalized, audio probed,
measurements taken with ``features:``) to ``.work/clips/part-N.parquet`` (``layout.clips_part``),
audio by reference. After the clip shards, pairing reads from that index only the columns the
strategies need (``PAIRING_COLUMNS``), each pair task's strategy forms its pairs, and the clips that
ended up in a pair are read back in full, part by part, into a spill filed by pair shard
(``PairPlan``): a pair shard reads its own clips when it runs, and memory holds a few ids per pair,
never the clips. So a pair task sees the same measured clips as the single-clip tasks, and each
clip is decoded and measured once. Only corpus clips are paired, never
text records (``sources.text``), voiced or not. Pairs that cannot be formed (a corpus with one
speaker) are reported, never invented.
"""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from speechsift.records import Clip, clips_from_arrow, clips_to_arrow
from speechsift.sources.text import EXTRA_KEY as TEXT_RECORD
from speechsift.spill import MAX_PARTITIONS, Spill, fresh_folder
from speechsift.tasks import get_task
from speechsift.tasks.pairing import TEXT_STRATEGIES, PairingEntry, form_pairs

if TYPE_CHECKING:
    from speechsift.recipe import Recipe, TaskSpec
    from speechsift.storage import Storage

# What a pairing strategy needs to know of a clip (speechsift.tasks.pairing.PairingEntry).
PAIRING_COLUMNS = ["clip_id", "source", "speaker_id", "text", "language", "meta", "extra"]


@dataclass(frozen=True, slots=True)
class PairItem:
    """One pair a pair task will compare: ``a`` is audio 0, ``b`` audio 1."""

    task: str
    a: Clip
    b: Clip

    @property
    def pair_id(self) -> str:
        return f"{self.a.clip_id}|{self.b.clip_id}"


def pair_specs(recipe: "Recipe") -> list["TaskSpec"]:
    from speechsift.tasks.comparison import PairTask

    return [s for s in recipe.task_specs if isinstance(get_task(s.name), PairTask)]


def write_clip_index(clips: list[Clip], path: PurePath, storage: "Storage") -> None:
    """A clip shard's clips (after its clip stages), written atomically."""
    buffer = io.BytesIO()
    pq.write_table(clips_to_arrow(clips), buffer, compression="zstd")
    storage.write_bytes(path, buffer.getvalue())


def _interned(value: str | None) -> str | None:
    return value if value is None else sys.intern(value)


def _entries(parts: Sequence[PurePath], storage: "Storage", with_text: bool) -> tuple[list[PairingEntry], pa.Table]:
    """The pairing entry of every corpus clip of the index, and where each clip is: a table of
    ``clip_id`` and ``part`` (its index part's position in ``parts``). Labels repeat across
    millions of clips, so each distinct value is held once; the text only when a strategy needs it."""
    entries = []
    located = []
    for number, path in enumerate(parts):
        table = pq.read_table(storage.source(path), columns=PAIRING_COLUMNS)
        ids = []
        for row in table.to_pylist():
            if TEXT_RECORD in json.loads(row["extra"] or "{}"):
                continue  # a text record (voiced or not) is no corpus clip to compare
            meta = row["meta"] or {}
            entries.append(PairingEntry(row["clip_id"], _interned(row["source"]), _interned(row["speaker_id"]),
                                        row["text"] if with_text else None, _interned(meta.get("emotion")),
                                        _interned(meta.get("gender")), _interned(row["language"])))
            ids.append(row["clip_id"])
        located.append(pa.table({"clip_id": pa.array(ids, pa.string()),
                                 "part": pa.array(np.full(len(ids), number, np.int32))}))
    return entries, pa.concat_tables(located) if located else pa.table({"clip_id": pa.array([], pa.string()),
                                                                          "part": pa.array([], pa.int32())})


@dataclass
class PairPlan:
    """Every pair of every pair task, in order (``pairs``: ``task``, ``a``, ``b``), and the clips
    of the pairs spilled to disk by shard, so that a pair shard's clips are read when it comes up
    (``shards``) and the plan holds a few ids per pair, never the clips (a million clips in pairs
    would be gigabytes of ``Clip`` records)."""

    pairs: pa.Table
    size: int  # pairs per shard (``engine.shard_size``)
    spill: Spill | None

    def __len__(self) -> int:
        return self.pairs.num_rows

    def shards(self) -> Iterator[list[PairItem]]:
        """Each shard's pairs, with their clips (each spill partition read once: it holds
        consecutive shards)."""
        per_partition = _shards_per_partition(math.ceil(len(self) / self.size))
        partition, held = -1, None
        for start in range(0, len(self), self.size):
            end = min(start + self.size, len(self))
            if start // self.size // per_partition != partition:
                partition = start // self.size // per_partition
                held = self.spill.read(partition)
            pair = held.column("pair")
            table = held.filter(pc.and_(pc.greater_equal(pair, start), pc.less(pair, end)))
            clips = clips_from_arrow(table.drop_columns(["pair", "side"]))
            at = {(p, side): clip for p, side, clip in zip(table.column("pair").to_pylist(),
                                                           table.column("side").to_pylist(), clips)}
            tasks = self.pairs.column("task").slice(start, end - start).to_pylist()
            yield [PairItem(task, at[(start + i, 0)], at[(start + i, 1)]) for i, task in enumerate(tasks)]

    def remove(self) -> None:
        if self.spill is not None:
            self.spill.remove()


def _shards_per_partition(shards: int) -> int:
    """Pair shards filed in one spill partition: one each, up to ``MAX_PARTITIONS`` partitions."""
    return max(1, math.ceil(shards / MAX_PARTITIONS))


def _spill_clips(pairs: pa.Table, located: pa.Table, parts: Sequence[PurePath], storage: "Storage",
                 folder: Path, size: int) -> Spill:
    """The clips of ``pairs`` (each clip once per side it takes in a pair), read from the index
    part by part and filed by shard: consecutive shards share a partition (``_shards_per_partition``)."""
    number = pa.array(np.arange(pairs.num_rows, dtype=np.int64))
    wanted = pa.concat_tables([
        pa.table({"pair": number, "side": pa.array(np.full(pairs.num_rows, side, np.int8)), "clip_id": pairs.column(column)})
        for side, column in ((0, "a"), (1, "b"))
    ]).join(located, "clip_id", use_threads=False)
    wanted = wanted.take(pc.sort_indices(wanted, [("part", "ascending")]))
    where = np.asarray(wanted.column("part").to_numpy())
    per_partition = _shards_per_partition(math.ceil(pairs.num_rows / size))
    spill = Spill(fresh_folder(folder), math.ceil(math.ceil(pairs.num_rows / size) / per_partition))
    for part in np.unique(where).tolist():
        first, last = np.searchsorted(where, part, "left"), np.searchsorted(where, part, "right")
        want = wanted.slice(first, last - first)
        table = pq.read_table(storage.source(parts[part]))
        rows = pa.table({"clip_id": table.column("clip_id"), "row": pa.array(np.arange(table.num_rows))})
        want = want.join(rows, "clip_id", use_threads=False)
        chosen = table.take(want.column("row")).append_column("pair", want.column("pair")).append_column(
            "side", want.column("side"))
        spill.add(chosen, np.asarray(want.column("pair").to_numpy()).astype(np.uint64) // np.uint64(size * per_partition))
    spill.close()
    return spill


def plan_pairs(recipe: "Recipe", parts: Sequence[PurePath], storage: "Storage", folder: Path) -> tuple[PairPlan, dict[str, Any]]:
    """Every pair of every pair task over the clip index ``parts`` (files of ``storage``), in a
    deterministic order, with their clips spilled under ``folder``, and a report per task."""
    specs = pair_specs(recipe)
    size = recipe.engine.shard_size
    empty = pa.table({"task": pa.array([], pa.string()), "a": pa.array([], pa.string()), "b": pa.array([], pa.string())})
    if not specs:
        return PairPlan(empty, size, None), {}
    with_text = any(s.pairing is not None and s.pairing.strategy in TEXT_STRATEGIES for s in specs)
    entries, located = _entries(parts, storage, with_text)
    chosen: list[pa.Table] = []
    report: dict[str, Any] = {}
    for spec in specs:
        pairing = spec.pairing
        strategy = pairing.strategy if pairing else "random_within_corpus"
        allowed = set(spec.sources) if spec.sources else None
        pool = [entry for entry in entries if allowed is None or entry.source in allowed]
        result = form_pairs(pool, strategy, seed=pairing.seed if pairing else 0,
                            max_pairs_per_group=pairing.max_pairs_per_group if pairing else None)
        del pool
        chosen.append(pa.table({"task": pa.array([spec.name] * len(result.pairs), pa.string()),
                                "a": pa.array([a for a, _ in result.pairs], pa.string()),
                                "b": pa.array([b for _, b in result.pairs], pa.string())}))
        report[spec.name] = {"strategy": strategy, **result.report.to_dict()}
    del entries
    pairs = pa.concat_tables(chosen)
    spill = _spill_clips(pairs, located, parts, storage, folder, size) if pairs.num_rows else None
    return PairPlan(pairs, size, spill), report
