"""Assembling the release: the global pass after generation, as two streaming passes.

Generation writes each shard's examples to ``.work/examples/part-*.parquet`` (audio by
reference). The release is made from them in two passes that never hold the dataset in memory:

1. **Decisions**, from compact keys. With ``curate``, every part is scored and filtered
   (``.work/scored/``) and its examples' dedup keys go to a spilled index whose duplicates are
   worked out partition by partition (``curate/dedup.py``). Then each part's keys (id, speaker,
   language, task category, task, source, and curation's verdict) are written to
   ``.work/release/keys/``; the held-out splits by speaker (``engine/splits.py``) and the
   training mixture (``engine/mixing.py``) are decided from those keys, reading them a few times
   and keeping a few numbers per speaker and per stratum; and each part's decisions (split and
   copies, or why the example is left out) are written to ``.work/release/decisions/``.
2. **Writing**, part by part and in parallel (``engine/release_part.py``): ``data/<split>-part-*``, the
   exports, ``complete/`` and each part's rejects, from (the part's examples, its decisions).

The pass is cheap next to generation and runs in full on every run, so changing the splits or the
mixture never asks the LLM anything again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from speechsift.engine.counts import StageStats
from speechsift.engine.mixing import MixCounts, MixCut, MixSelection, mix_hashes, plan_targets
from speechsift.engine.progress import ProgressReporter
from speechsift.engine.release_part import DECISION_SCHEMA, PartJob, PartResult, ReleaseSettings, write_part
from speechsift.engine.splits import EvalChoice, SpeakerCells, plan_speakers
from speechsift.export import ExportCounts, make_exporters
from speechsift.layout import OutputLayout
from speechsift.memory import release_memory
from speechsift.recipe import Recipe
from speechsift.records import examples_from_arrow
from speechsift.spill import fresh_folder
from speechsift.storage import OutPath
from speechsift.tasks import get_task

KEY_COLUMNS = ["id", "task", "source", "language", "speaker_id", "clip_ids"]
# A part's compact keys (``.work/release/keys/``): what the splits and the mixture are decided from,
# and curation's verdict on each example (one row per example of the part, in its order).
KEYS_SCHEMA = pa.schema([
    ("id", pa.string()), ("speaker", pa.string()), ("language", pa.string()), ("category", pa.string()),
    ("task", pa.string()), ("source", pa.string()),
    ("reason", pa.string()), ("message", pa.string()),  # curation left it out: the filter's reason, a message
    ("dedup_kind", pa.string()), ("dedup_of", pa.string()), ("dedup_similarity", pa.float64()),
])
# Columns curation adds to a scored part beside ``quality``: the first filter that dropped the
# example (before dedup), and why.
CURATE_REASON, CURATE_MESSAGE = "curate_reason", "curate_message"


def task_category(task: str) -> str:
    try:
        return get_task(task).category
    except KeyError:
        return "omni"


@dataclass
class Assembly:
    """What the assemble pass decided and wrote, for run.json and the card."""

    stages: dict[str, StageStats] = field(default_factory=dict)
    examples: Counter = field(default_factory=Counter)  # (task, split) -> rows written
    languages: set[str] = field(default_factory=set)
    splits: dict[str, Any] = field(default_factory=dict)
    mix: dict[str, Any] = field(default_factory=dict)
    pairing: dict[str, Any] = field(default_factory=dict)  # per pair task: strategy and what could not pair
    # per task: who wrote the responses and how they sampled (each distinct setting once)
    sampling: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    exports: dict[str, ExportCounts] = field(default_factory=dict)  # per JSONL export: rows written, left out
    files: list[OutPath] = field(default_factory=list)
    reject_files: list[OutPath] = field(default_factory=list)  # per part: the examples the release left out

    @classmethod
    def from_run_json(cls, run: dict[str, Any], stage_names: tuple[str, ...] = ("curate", "split", "mix")) -> "Assembly":
        """What an earlier run's assemble pass decided, as its run.json tells it."""
        assembly = cls(splits=run.get("split_plan", {}), mix=run.get("mix", {}), pairing=run.get("pairing", {}),
                       sampling=run.get("sampling", {}), warnings=run.get("warnings", []))
        for key, n in run.get("splits", {}).items():
            task, _, split = key.rpartition("/")
            assembly.examples[(task, split)] = n
        for name in stage_names:
            if name in run.get("counts", {}):
                assembly.stages[name] = StageStats.from_dict(run["counts"][name])
        assembly.exports = {name: ExportCounts.from_dict(data) for name, data in run.get("exports", {}).items()}
        return assembly

    def by_task(self) -> Counter:
        counts: Counter = Counter()
        for (task, _split), n in self.examples.items():
            counts[task] += n
        return counts

    def add_part(self, result: PartResult) -> None:
        """What one written part adds (counts, languages, sampling settings in part order, files)."""
        self.examples.update(result.examples)
        self.languages |= result.languages
        for task, settings in result.sampling.items():
            seen = self.sampling.setdefault(task, [])
            seen += [s for s in settings if s not in seen]
        self.files += result.files


def _stats(assembly: Assembly, name: str) -> StageStats:
    return assembly.stages.setdefault(name, StageStats())


def part_number(path: OutPath) -> int:
    """The shard number of a ``part-NNNNN.parquet`` file."""
    return int(path.name.split(".")[0].removeprefix("part-"))


# --- pass 1: curation ---------------------------------------------------------------------------


def curate(parts: list[OutPath], curator: Any, layout: OutputLayout, assembly: Assembly,
           progress: ProgressReporter, examples_total: int | None = None) -> tuple[list[OutPath], Any]:
    """Score every example and filter it, part by part, feeding the survivors to a dedup index that
    spills under ``.work/release/dedup/``; then work the duplicates out (speechsift.curate).

    Returns the scored parts (the examples with ``quality``, ``curate_reason`` and
    ``curate_message``) and the index, which ``scan_keys`` asks for each part's duplicates. Scores
    are kept for every example; ``complete/`` shows them all.
    """
    from speechsift.curate import quality_array

    index = curator.dedup_index(layout.release_work / "dedup", expected=examples_total or 0)
    scored: list[OutPath] = []
    storage = layout.storage
    stats = _stats(assembly, "curate")
    progress.phase("curating", total=examples_total, unit="examples")
    for part_index, path in enumerate(parts):
        table = pq.read_table(storage.source(path))
        examples = examples_from_arrow(table)
        curator.score(examples)
        kept, dropped = curator.filter(examples)
        index.add(kept, part=part_index)
        verdict = {example.id: (reason, message) for example, reason, message in dropped}
        reasons = [verdict.get(e.id, (None, None)) for e in examples]
        table = (table.append_column("quality", quality_array([e.quality for e in examples]))
                 .append_column(CURATE_REASON, pa.array([r for r, _ in reasons], pa.string()))
                 .append_column(CURATE_MESSAGE, pa.array([m for _, m in reasons], pa.string())))
        target = layout.scored_part(part_number(path))
        with storage.writer(target) as sink:
            pq.write_table(table, sink, compression="zstd")
        scored.append(target)
        stats.inputs += len(examples)
        progress.advance(len(examples))
    progress.phase("deduplicating", unit="")
    len(index)  # works the duplicates out now, under its own progress line
    return scored, index


def _duplicate_verdicts(table: pa.Table, rows: list[int], found: dict[str, Any], curator: Any) -> dict[int, tuple[str, str]]:
    """The dedup filters' verdict on the duplicates among ``rows`` of a scored part."""
    from speechsift.curate.dedup import annotated

    chosen = table.take(pa.array(rows))
    examples = examples_from_arrow(chosen.drop_columns(["quality", CURATE_REASON, CURATE_MESSAGE]))
    for example, quality in zip(examples, chosen.column("quality").to_pylist()):
        example.quality = annotated({k: v for k, v in (quality or {}).items() if v is not None}, found[example.id])
    _, dropped = curator.filter(examples)
    row_of = dict(zip((e.id for e in examples), rows))
    return {row_of[example.id]: (reason, message) for example, reason, message in dropped}


# --- pass 1: keys and decisions -----------------------------------------------------------------


def scan_keys(parts: list[OutPath], layout: OutputLayout, curator: Any = None, index: Any = None) -> list[Path]:
    """Each part's compact keys, with curation's verdict (a filter's, or a duplicate's), written to
    ``.work/release/keys/``; returns the key files, in part order."""
    folder = fresh_folder(layout.release_work / "keys")
    written = []
    for part_index, path in enumerate(parts):
        curated = index is not None
        columns = KEY_COLUMNS + ([CURATE_REASON, CURATE_MESSAGE] if curated else [])
        table = pq.read_table(layout.storage.source(path), columns=columns)
        n = table.num_rows
        speaker = table.column("speaker_id").combine_chunks()
        by_clip = pc.binary_join_element_wise("clip:", pc.binary_join(table.column("clip_ids"), ","), "")
        speaker = pc.if_else(pc.fill_null(pc.not_equal(speaker, ""), False), speaker, by_clip)
        language = table.column("language").combine_chunks()
        language = pc.if_else(pc.fill_null(pc.not_equal(language, ""), False), language, "und")
        tasks = table.column("task").to_pylist()
        categories = {task: task_category(task) for task in set(tasks)}
        reason = pa.nulls(n, pa.string())
        message = pa.nulls(n, pa.string())
        dedup: dict[str, list] = {"dedup_kind": [None] * n, "dedup_of": [None] * n, "dedup_similarity": [None] * n}
        if curated:
            reason = table.column(CURATE_REASON).combine_chunks()
            message = table.column(CURATE_MESSAGE).combine_chunks()
            found = index.duplicates_in(part_index)
            if found:
                ids = table.column("id").to_pylist()
                rows = [i for i, example_id in enumerate(ids) if example_id in found]
                full = pq.read_table(layout.storage.source(path))
                verdicts = _duplicate_verdicts(full, rows, found, curator)
                reasons, messages = reason.to_pylist(), message.to_pylist()
                for i in rows:
                    duplicate = found[ids[i]]
                    dedup["dedup_kind"][i], dedup["dedup_of"][i] = duplicate.kind, duplicate.kept_id
                    dedup["dedup_similarity"][i] = duplicate.similarity
                    if i in verdicts:
                        reasons[i], messages[i] = verdicts[i]
                reason, message = pa.array(reasons, pa.string()), pa.array(messages, pa.string())
        keys = pa.table({
            "id": table.column("id"), "speaker": speaker, "language": language,
            "category": pa.array([categories[t] for t in tasks], pa.string()), "task": table.column("task"),
            "source": table.column("source"), "reason": reason, "message": message,
            "dedup_kind": pa.array(dedup["dedup_kind"], pa.string()), "dedup_of": pa.array(dedup["dedup_of"], pa.string()),
            "dedup_similarity": pa.array(dedup["dedup_similarity"], pa.float64()),
        }, schema=KEYS_SCHEMA)
        target = folder / f"{layout.part_name(part_number(path))}.parquet"
        pq.write_table(keys, target)  # a working file of this release: nothing reads it after a kill
        written.append(target)
    return written


def _eligible(keys: pa.Table) -> pa.Table:
    """The keys of the examples curation kept."""
    return keys.filter(pc.is_null(keys.column("reason")))


def _read_keys(paths: list[Path], columns: list[str] | None = None) -> Iterator[pa.Table]:
    for path in paths:
        yield _eligible(pq.read_table(path, columns=None if columns is None else [*columns, "reason"]))


def decide(key_files: list[Path], recipe: Recipe, layout: OutputLayout, assembly: Assembly) -> list[OutPath]:
    """Splits and the mixture from the parts' keys; writes each part's decisions file and returns them."""
    splits = recipe.splits
    cells = SpeakerCells()
    for keys in _read_keys(key_files, ["id", "speaker", "language", "category"]):
        cells.add(keys.select(["speaker", "language", "category"]))
    speakers = plan_speakers(cells.table(), eval_per_cell=splits.eval.per_cell if splits.eval else None,
                             dev_fraction=splits.dev.fraction if splits.dev else 0.0, seed=splits.seed)
    del cells
    choice = EvalChoice(speakers)
    if speakers.eval_speakers:
        for keys in _read_keys(key_files, ["id", "speaker", "language", "category"]):
            choice.add(keys)
    speakers = choice.finish()
    assembly.splits = {"eval_speakers": len(speakers.eval_speakers), "dev_speakers": len(speakers.dev_speakers),
                       "unfilled_eval_cells": speakers.unfilled_cells}
    mix = recipe.mix
    counts = MixCounts()
    planned = fresh_folder(layout.release_work / "splits")
    split_stats = _stats(assembly, "split")
    plan_files = []
    for key_file in key_files:  # each eligible example's split; for train, its stratum and seeded hash
        keys = pq.read_table(key_file)
        eligible = np.flatnonzero(np.asarray(pc.is_null(keys.column("reason")).to_numpy(zero_copy_only=False)))
        chosen = keys.take(pa.array(eligible))
        split = speakers.assign(chosen)
        strata = np.full(len(eligible), -1, np.int32)
        hashes = np.zeros(len(eligible), np.uint64)
        if mix is not None:
            train = np.flatnonzero(np.asarray(pc.fill_null(pc.equal(split, "train"), False).to_numpy(zero_copy_only=False)))
            picked = chosen.take(pa.array(train))
            strata[train] = counts.index(picked.column("task").to_pylist(), picked.column("source").to_pylist())
            hashes[train] = mix_hashes(picked.column("id").to_pylist(), mix.seed)
            counts.add(strata[train], hashes[train])
        held_out = split.null_count
        split_stats.inputs += len(eligible)
        split_stats.outputs += len(eligible) - held_out
        split_stats.rejected["held_out_speaker"] += held_out
        target = planned / key_file.name
        pq.write_table(pa.table({"row": pa.array(eligible, pa.int32()), "split": split,
                                 "stratum": pa.array(strata), "hash": pa.array(hashes)}), target)
        plan_files.append(target)
    if not split_stats.rejected["held_out_speaker"]:
        del split_stats.rejected["held_out_speaker"]
    selection = None
    if mix is not None:
        plan, base, extra = plan_targets(counts, size=mix.size, weights=mix.weights, upsample=mix.upsample)
        cut = MixCut(counts, extra)
        if cut.want:
            for plan_file in plan_files:
                planned_part = _train(pq.read_table(plan_file))
                cut.add(planned_part[0], planned_part[1])
        selection = MixSelection(base, cut.cuts())
        assembly.mix = plan.to_dict()
    mix_stats = _stats(assembly, "mix") if mix is not None else None
    written = []
    for key_file, plan_file in zip(key_files, plan_files):
        keys = pq.read_table(key_file)
        planned_part = pq.read_table(plan_file)
        decisions = _decisions(keys, planned_part, selection, mix_stats)
        target = layout.decisions_part(int(key_file.stem.removeprefix("part-")))
        with layout.storage.writer(target) as sink:
            pq.write_table(decisions, sink)
        written.append(target)
    if mix_stats is not None and not mix_stats.rejected["not_sampled"]:
        del mix_stats.rejected["not_sampled"]
    return written


def _train(planned: pa.Table) -> tuple[np.ndarray, np.ndarray]:
    """(stratum, hash) of a part's train examples."""
    strata = np.asarray(planned.column("stratum").to_numpy())
    train = strata >= 0
    return strata[train], np.asarray(planned.column("hash").to_numpy())[train]


def _decisions(keys: pa.Table, planned: pa.Table, selection: MixSelection | None,
               mix_stats: StageStats | None) -> pa.Table:
    """One part's decisions (``release.DECISION_SCHEMA``), one row per example, in part order."""
    n = keys.num_rows
    split: list[str | None] = [None] * n
    copies = np.zeros(n, np.int32)
    stage: list[str | None] = ["curate" if r is not None else None for r in keys.column("reason").to_pylist()]
    reason = keys.column("reason").to_pylist()
    message = keys.column("message").to_pylist()
    rows = planned.column("row").to_numpy()
    planned_split = planned.column("split").to_pylist()
    planned_copies = np.ones(len(rows), np.int32)
    if selection is not None:
        strata = np.asarray(planned.column("stratum").to_numpy())
        train = strata >= 0
        planned_copies[train] = selection.copies(strata[train], np.asarray(planned.column("hash").to_numpy())[train])
        sampled = int((planned_copies[train] > 0).sum())
        mix_stats.inputs += int(train.sum())
        mix_stats.outputs += sampled
        mix_stats.rejected["not_sampled"] += int(train.sum()) - sampled
    for row, s, c in zip(rows.tolist(), planned_split, planned_copies.tolist()):
        if s is None:
            stage[row], reason[row], message[row] = ("split", "held_out_speaker",
                                                     "its speaker is held out for evaluation and its cell is full")
        elif c == 0:
            stage[row], reason[row], message[row] = "mix", "not_sampled", "left out of the training mixture"
        else:
            split[row], copies[row] = s, c
    return pa.table({"split": pa.array(split, pa.string()), "copies": pa.array(copies), "stage": pa.array(stage, pa.string()),
                     "reason": pa.array(reason, pa.string()), "message": pa.array(message, pa.string()),
                     "dedup_kind": keys.column("dedup_kind"), "dedup_of": keys.column("dedup_of"),
                     "dedup_similarity": keys.column("dedup_similarity")}, schema=DECISION_SCHEMA)


# --- pass 2: writing, part by part ----------------------------------------------------------------


def release_settings(recipe: Recipe, layout: OutputLayout) -> ReleaseSettings:
    return ReleaseSettings(layout.location, recipe)


PartMapper = Callable[[list[PartJob], int], Iterable[PartResult]]


def map_parts(jobs: list[PartJob], workers: int) -> Iterator[PartResult]:
    """``write_part`` over the jobs, on ``workers`` processes (here when one is enough), in order:
    the local executor's way of writing the release (``Executor.write_parts``)."""
    if workers <= 1 or len(jobs) <= 1:
        yield from map(write_part, jobs)
        return
    from speechsift.engine.enrich import measuring_pool

    with measuring_pool(min(workers, len(jobs))) as pool:
        yield from pool.map(write_part, jobs)


def write_release(parts: list[OutPath], decisions: list[OutPath], recipe: Recipe, layout: OutputLayout,
                  assembly: Assembly, progress: ProgressReporter, workers: int, mapper: PartMapper = map_parts) -> None:
    """Every part of the release, written in parallel (``mapper``); their counts merged into ``assembly``."""
    settings = release_settings(recipe, layout)
    exporters = make_exporters(recipe)  # each part's exporters are merged into these, then closed
    jobs = [PartJob(part_number(path), path, decision, settings) for path, decision in zip(parts, decisions)]
    for result in mapper(jobs, workers):
        assembly.add_part(result)
        for exporter, part in zip(exporters, result.exporters):
            exporter.merge(part)
        assembly.reject_files.append(layout.release_rejects(result.part))
        progress.advance(result.rows)
    assembly.exports = {e.name: e.counts for e in exporters if e.counts is not None}
    for exporter in exporters:
        assembly.files += exporter.close(layout, assembly)


def make_curator(recipe: Recipe) -> Any:
    """The recipe's curator (scorers, filters, dedup index), or None without a ``curate`` section.
    Built before generation, so a missing package or model stops the run before it spends anything."""
    if recipe.curate is None:
        return None
    from speechsift.curate import Curator

    return Curator(recipe.curate)


def assemble(parts: list[OutPath], recipe: Recipe, layout: OutputLayout, curator: Any = None,
             progress: ProgressReporter | None = None, examples: int | None = None,
             mapper: PartMapper = map_parts) -> Assembly:
    """Curate, decide splits and the mixture, write the release (its parts through ``mapper``);
    ``examples`` (the number of generated examples, when known) is the progress lines' total."""
    from speechsift.engine.enrich import default_workers

    progress = progress or ProgressReporter(enabled=False)
    assembly = Assembly()
    fresh_folder(layout.release_work)
    index = None
    if recipe.curate is not None:
        curator = curator or make_curator(recipe)
        parts, index = curate(parts, curator, layout, assembly, progress, examples)
        release_memory()  # each phase below starts from what is in use, not from what the last one kept
    progress.phase("deciding", unit="")
    key_files = scan_keys(parts, layout, curator, index)
    if index is not None:
        curate_stats = _stats(assembly, "curate")
        for keys in (pq.read_table(path, columns=["reason"]) for path in key_files):
            for reason, n in Counter(r for r in keys.column("reason").to_pylist() if r is not None).items():
                curate_stats.rejected[reason] += n
        curate_stats.outputs = curate_stats.inputs - sum(curate_stats.rejected.values())
        index.close()
    release_memory()
    decisions = decide(key_files, recipe, layout, assembly)
    release_memory()
    progress.phase("writing", total=examples, unit="examples")
    write_release(parts, decisions, recipe, layout, assembly, progress, recipe.engine.workers or default_workers(),
                  mapper)
    return assembly


def remove_stale(layout: OutputLayout, written: list[OutPath]) -> None:
    """Delete release files no longer written (tasks, splits or shards gone since the last run),
    then the folders left empty (``data/<task>/`` of an older output's layout)."""
    storage = layout.storage
    keep = {str(p) for p in written}
    for folder, suffix in ((layout.data, ".parquet"), (layout.complete, ".parquet"), (layout.exports, ".jsonl"),
                           (layout.audio, "")):
        for path in storage.files(folder, suffix):
            if str(path) not in keep and (folder != layout.exports or path.name.startswith("part-")):
                storage.delete(path)
        storage.prune(folder)


def gather_rejects(layout: OutputLayout, shards: int, assembly: Assembly) -> None:
    """``rejects.jsonl``: every shard's rejects, then the release's, streamed file by file."""
    storage = layout.storage
    sources = [layout.shard_rejects(shard) for shard in range(shards)] + assembly.reject_files
    with storage.writer(layout.rejects) as sink:
        for path in sources:
            if storage.is_file(path):
                sink.write(storage.read_bytes(path))
