"""Pairs of clips for the comparison tasks, formed over the pairing index the clip shards write.

Every clip shard writes the clips that passed its clip stages (labels normalized, audio probed,
measurements taken with ``features:``) to ``.work/clips/part-N.parquet`` (``layout.clips_part``),
audio by reference. After the clip shards, pairing reads from that index only the columns the
strategies need (``PAIRING_COLUMNS``), each pair task's strategy forms its pairs, and the clips that
ended up in a pair are read back in full. So a pair task sees the same measured clips as the
single-clip tasks, and each clip is decoded and measured once. Only corpus clips are paired, never
text records (``sources.text``), voiced or not. Pairs that cannot be formed (a corpus with one
speaker) are reported, never invented.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from speechsift.records import Clip, clips_from_arrow, clips_to_arrow
from speechsift.sources.text import EXTRA_KEY as TEXT_RECORD
from speechsift.tasks import get_task
from speechsift.tasks.pairing import PairingEntry, form_pairs

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


def _entries(parts: Sequence[PurePath], storage: "Storage") -> list[PairingEntry]:
    entries = []
    for path in parts:
        for row in pq.read_table(storage.source(path), columns=PAIRING_COLUMNS).to_pylist():
            if TEXT_RECORD in json.loads(row["extra"] or "{}"):
                continue  # a text record (voiced or not) is no corpus clip to compare
            meta = row["meta"] or {}
            entries.append(PairingEntry(row["clip_id"], row["source"], row["speaker_id"], row["text"],
                                        meta.get("emotion"), meta.get("gender"), row["language"]))
    return entries


def _clips(parts: Sequence[PurePath], wanted: set[str], storage: "Storage") -> dict[str, Clip]:
    found: dict[str, Clip] = {}
    for path in parts:
        table = pq.read_table(storage.source(path))
        chosen = table.filter(pc.is_in(table.column("clip_id"), value_set=pc.cast(list(wanted), "string")))  # type: ignore[arg-type]
        found.update((clip.clip_id, clip) for clip in clips_from_arrow(chosen))
    return found


def plan_pairs(recipe: "Recipe", parts: Sequence[PurePath], storage: "Storage") -> tuple[list[PairItem], dict[str, Any]]:
    """Every pair of every pair task over the clip index ``parts`` (files of ``storage``), in a
    deterministic order, and a report per task."""
    specs = pair_specs(recipe)
    if not specs:
        return [], {}
    entries = _entries(parts, storage)
    chosen: dict[str, list[tuple[str, str]]] = {}
    report: dict[str, Any] = {}
    for spec in specs:
        pairing = spec.pairing
        strategy = pairing.strategy if pairing else "random_within_corpus"
        allowed = set(spec.sources) if spec.sources else None
        pool = [entry for entry in entries if allowed is None or entry.source in allowed]
        result = form_pairs(pool, strategy, seed=pairing.seed if pairing else 0,
                            max_pairs_per_group=pairing.max_pairs_per_group if pairing else None)
        chosen[spec.name] = list(result.pairs)
        report[spec.name] = {"strategy": strategy, **result.report.to_dict()}
    wanted = {clip_id for pairs in chosen.values() for pair in pairs for clip_id in pair}
    by_id = _clips(parts, wanted, storage) if wanted else {}
    items = [PairItem(task, by_id[a], by_id[b]) for task, pairs in chosen.items() for a, b in pairs]
    return items, report
