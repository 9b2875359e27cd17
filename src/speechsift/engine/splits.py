"""Held-out splits, disjoint from train by speaker, decided over the whole dataset.

Speakers are taken in a seeded hash order. A speaker joins the evaluation split while any
(language, category) cell it has examples in still needs examples (EvalSIFT: a fixed number per
language and category); each cell then keeps exactly ``per_cell`` of its eval speakers' examples,
chosen at random with the seed, and the rest of those speakers' examples are dropped
(``held_out_speaker``): they may not go to train. Of the remaining speakers, a fraction forms the
dev split. A clip without a speaker id counts as its own speaker.

The decision streams over the parts' compact keys (``id``, ``speaker``, ``language``,
``category``, one Arrow table per part), in three steps that each read the parts once:

1. ``SpeakerCells``: examples per (speaker, language, category), summed part by part;
2. ``plan_speakers``: the eval and dev speakers, from those counts; ``EvalChoice`` then keeps,
   per eval cell, the ``per_cell`` examples of eval speakers with the smallest seeded hashes;
3. ``SpeakerSplits.assign``: each part's examples get their split.

Memory: a few numbers per speaker and the chosen eval examples, never a row per example.
``plan_splits`` runs the same steps over one list of keys.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from speechsift.records import stable_ids

# Never hold out more than this share of the speakers for evaluation: a small corpus keeps a
# train split (and run.json says the eval cells could not be filled).
MAX_EVAL_SPEAKER_FRACTION = 0.5
# SpeakerCells merges its per-part counts once they hold this many rows.
COMPACT_ROWS = 1_000_000
CELL_COLUMNS = ["speaker", "language", "category"]


@dataclass(frozen=True, slots=True)
class SplitKey:
    """What the split decision needs to know of one example."""

    id: str
    speaker: str
    language: str
    category: str


@dataclass
class SplitPlan:
    split: list[str | None]  # per example: "train", "dev", "eval", or None (dropped)
    eval_speakers: int
    dev_speakers: int
    unfilled_cells: dict[str, int]  # "lang/category" -> examples it got, where below per_cell


class SpeakerCells:
    """Examples per (speaker, language, category), added part by part."""

    def __init__(self) -> None:
        self._tables: list[pa.Table] = []
        self._rows = 0

    def add(self, keys: pa.Table) -> None:
        counted = keys.group_by(CELL_COLUMNS, use_threads=False).aggregate([([], "count_all")])
        self._tables.append(counted.rename_columns([*CELL_COLUMNS, "count"]))
        self._rows += counted.num_rows
        if self._rows >= COMPACT_ROWS:
            self._tables = [self.table()]
            self._rows = self._tables[0].num_rows

    def table(self) -> pa.Table:
        if not self._tables:
            return pa.table({name: pa.array([], pa.string()) for name in CELL_COLUMNS} | {"count": pa.array([], pa.int64())})
        merged = pa.concat_tables(self._tables)
        summed = merged.group_by(CELL_COLUMNS, use_threads=False).aggregate([("count", "sum")])
        return summed.rename_columns([*CELL_COLUMNS, "count"])


@dataclass
class SpeakerSplits:
    """Which speakers go where; ``chosen`` (filled by ``EvalChoice``) the eval examples kept."""

    eval_speakers: set[str]
    dev_speakers: pa.Array
    per_cell: int | None
    seed: int
    chosen: set[str] = field(default_factory=set)
    unfilled_cells: dict[str, int] = field(default_factory=dict)

    def eval_rows(self, keys: pa.Table) -> pa.Table:
        """The keys of eval speakers' examples."""
        if not self.eval_speakers:
            return keys.slice(0, 0)
        return keys.filter(pc.is_in(keys.column("speaker"), value_set=pa.array(sorted(self.eval_speakers), pa.string())))

    def assign(self, keys: pa.Table) -> pa.Array:
        """Each example's split: eval (chosen), dev, train, or null (an eval speaker's surplus)."""
        speaker = keys.column("speaker")
        is_dev = pc.is_in(speaker, value_set=self.dev_speakers)
        split = pc.if_else(is_dev, "dev", "train")
        if self.eval_speakers:
            is_eval = pc.is_in(speaker, value_set=pa.array(sorted(self.eval_speakers), pa.string()))
            chosen = pc.is_in(keys.column("id"), value_set=pa.array(sorted(self.chosen), pa.string()))
            split = pc.if_else(is_eval, pc.if_else(chosen, "eval", pa.scalar(None, pa.string())), split)
        return split.combine_chunks() if isinstance(split, pa.ChunkedArray) else split


def plan_speakers(cells: pa.Table, *, eval_per_cell: int | None, dev_fraction: float, seed: int) -> SpeakerSplits:
    """The eval speakers (in seeded hash order, while a cell of theirs needs examples, at most
    ``MAX_EVAL_SPEAKER_FRACTION`` of them) and the dev speakers (the first ``dev_fraction`` of the
    others), from the examples per (speaker, language, category)."""
    speakers = pc.unique(cells.column("speaker").combine_chunks()) if cells.num_rows else pa.array([], pa.string())
    hash_of = stable_ids(str(seed))
    order = pc.sort_indices(pa.array([hash_of("speaker", s) for s in speakers.to_pylist()], pa.string()))
    ranked = speakers.take(order)
    eval_speakers: set[str] = set()
    if eval_per_cell and len(ranked):
        rank = pa.table({"speaker": ranked, "rank": pa.array(np.arange(len(ranked)))})
        by_rank = cells.join(rank, "speaker", use_threads=False)
        by_rank = by_rank.take(pc.sort_indices(by_rank, sort_keys=[("rank", "ascending")]))
        all_cells = cells.group_by(["language", "category"], use_threads=False).aggregate([]).to_pylist()
        all_cells = [(c["language"], c["category"]) for c in all_cells]
        filled: dict[tuple[str, str], int] = defaultdict(int)
        limit = int(len(ranked) * MAX_EVAL_SPEAKER_FRACTION)
        for speaker, cells_of in _speaker_groups(by_rank):
            if len(eval_speakers) >= limit or all(filled[c] >= eval_per_cell for c in all_cells):
                break
            if any(filled[c] < eval_per_cell for c in cells_of):
                eval_speakers.add(speaker)
                for cell, count in cells_of.items():
                    filled[cell] += count
    rest = ranked.filter(pc.invert(pc.is_in(ranked, value_set=pa.array(sorted(eval_speakers), pa.string()))))
    dev_speakers = rest.slice(0, int(len(rest) * dev_fraction))
    return SpeakerSplits(eval_speakers, dev_speakers, eval_per_cell, seed)


def _speaker_groups(by_rank: pa.Table) -> Iterator[tuple[str, dict[tuple[str, str], int]]]:
    """(speaker, {(language, category): examples}) in the table's order (rows of a speaker together)."""
    current, cells_of = None, {}
    for batch in by_rank.to_batches(max_chunksize=65_536):
        for speaker, language, category, count in zip(*(batch.column(n).to_pylist() for n in (*CELL_COLUMNS, "count"))):
            if speaker != current:
                if current is not None:
                    yield current, cells_of
                current, cells_of = speaker, {}
            cells_of[(language, category)] = count
    if current is not None:
        yield current, cells_of


class EvalChoice:
    """Per eval cell, the ``per_cell`` examples of eval speakers with the smallest seeded hashes."""

    def __init__(self, plan: SpeakerSplits) -> None:
        self.plan = plan
        self._hash = stable_ids(str(plan.seed))
        self._heaps: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)  # max-heaps of (-hash, id)

    def add(self, keys: pa.Table) -> None:
        rows = self.plan.eval_rows(keys)
        per_cell = self.plan.per_cell or 0
        for example_id, language, category in zip(*(rows.column(n).to_pylist() for n in ("id", "language", "category"))):
            heap = self._heaps[(language, category)]
            item = (_Descending(self._hash("eval", example_id)), example_id)
            if len(heap) < per_cell:
                heapq.heappush(heap, item)
            elif per_cell and item > heap[0]:
                heapq.heapreplace(heap, item)

    def finish(self) -> SpeakerSplits:
        plan = self.plan
        plan.chosen = {example_id for heap in self._heaps.values() for _, example_id in heap}
        plan.unfilled_cells = {f"{cell[0]}/{cell[1]}": len(heap) for cell, heap in self._heaps.items()
                               if len(heap) < (plan.per_cell or 0)}
        return plan


class _Descending(str):
    """A string that sorts backwards: a min-heap of these keeps the largest hashes on top."""

    __slots__ = ()

    def __lt__(self, other: str) -> bool:
        return str.__gt__(self, other)

    def __gt__(self, other: str) -> bool:
        return str.__lt__(self, other)


def keys_table(keys: Iterable[SplitKey]) -> pa.Table:
    keys = list(keys)
    return pa.table({"id": [k.id for k in keys], "speaker": [k.speaker for k in keys],
                     "language": [k.language for k in keys], "category": [k.category for k in keys]},
                    schema=pa.schema([(name, pa.string()) for name in ("id", *CELL_COLUMNS)]))


def plan_splits(keys: Sequence[SplitKey], *, eval_per_cell: int | None, dev_fraction: float, seed: int) -> SplitPlan:
    """The splits of ``keys`` (the streaming steps above, over one table)."""
    table = keys_table(keys)
    cells = SpeakerCells()
    cells.add(table)
    plan = plan_speakers(cells.table(), eval_per_cell=eval_per_cell, dev_fraction=dev_fraction, seed=seed)
    choice = EvalChoice(plan)
    choice.add(table)
    plan = choice.finish()
    return SplitPlan(plan.assign(table).to_pylist(), len(plan.eval_speakers), len(plan.dev_speakers), plan.unfilled_cells)
