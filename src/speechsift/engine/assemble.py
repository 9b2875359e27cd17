"""Assembling the release: the global pass after generation.

Generation writes each shard's examples to ``.work/examples/part-*.parquet`` (audio by
reference). Decisions that need the whole dataset are made here, over small per-example keys:
held-out splits by speaker, and the training mixture. Then every part is written out once more
as the release: ``data/<task>/<split>-part-*.parquet`` (audio embedded or by path) and the JSONL
exports, with every example left out recorded in ``rejects.jsonl``. The pass is cheap next to
generation and runs in full on every run, so changing the splits or the mixture never asks the LLM
anything again.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from speechsift.engine.counts import StageStats
from speechsift.engine.mixing import MixKey, plan_mix
from speechsift.engine.progress import ProgressReporter
from speechsift.engine.splits import SplitKey, plan_splits
from speechsift.export import ExportCounts, make_exporters
from speechsift.export.audio_files import AudioPaths
from speechsift.export.parquet import AudioCells, quality_columns, write_parquet_part
from speechsift.export.text import neutral_example
from speechsift.layout import OutputLayout
from speechsift.recipe import Recipe
from speechsift.records import Example, examples_from_arrow, examples_to_arrow
from speechsift.storage import OutPath, Storage
from speechsift.tasks import get_task

KEY_COLUMNS = ["id", "task", "source", "language", "speaker_id", "clip_ids"]


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
    rejects: list[dict[str, Any]] = field(default_factory=list)

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

    def note_sampling(self, example: Example) -> None:
        """Record how the example's response was written, once per distinct setting of its task."""
        g = example.generation
        if g is None:
            return
        setting = {"backend": g.backend, "model": g.model}
        if g.backend not in ("direct", "template") or g.max_tokens is not None:
            setting.update(temperature=g.temperature, top_p=g.top_p, max_tokens=g.max_tokens)
        seen = self.sampling.setdefault(example.task, [])
        if setting not in seen:
            seen.append(setting)


def _scan_keys(parts: list[OutPath], excluded: Mapping[tuple[int, int], Any],
               storage: Storage) -> tuple[list[SplitKey], list[MixKey], list[tuple[int, int]]]:
    """Small keys of every example not excluded, in part order, without reading responses or audio."""
    split_keys, mix_keys, where = [], [], []
    for part_index, path in enumerate(parts):
        table = pq.read_table(storage.source(path), columns=KEY_COLUMNS)
        for row_index, row in enumerate(table.to_pylist()):
            if (part_index, row_index) in excluded:
                continue
            speaker = row["speaker_id"] or "clip:" + ",".join(row["clip_ids"])
            language = row["language"] or "und"
            split_keys.append(SplitKey(row["id"], speaker, language, task_category(row["task"])))
            mix_keys.append(MixKey(row["id"], row["task"], row["source"]))
            where.append((part_index, row_index))
    return split_keys, mix_keys, where


def _stats(assembly: Assembly, name: str) -> StageStats:
    return assembly.stages.setdefault(name, StageStats())


def curate(parts: list[OutPath], curator: Any, layout: OutputLayout, assembly: Assembly,
           progress: ProgressReporter, examples_total: int | None = None) -> tuple[list[OutPath], dict]:
    """Score every example, filter, then deduplicate over the whole dataset (speechsift.curate).

    Returns the scored parts (examples with a ``quality`` column) and, per (part, row) left out,
    ``(reason, message)``. Scores are kept for every example; ``complete/`` shows them all.
    """
    drops: dict[tuple[int, int], tuple[str, str]] = {}
    scored: list[OutPath] = []
    storage = layout.storage
    stats = _stats(assembly, "curate")
    progress.phase("curating", total=examples_total, unit="examples")
    for part_index, path in enumerate(parts):
        examples = examples_from_arrow(pq.read_table(storage.source(path)))
        curator.score(examples)
        row_of = {e.id: i for i, e in enumerate(examples)}
        kept, dropped = curator.filter(examples)
        for example, reason, message in dropped:
            drops[(part_index, row_of[example.id])] = (reason, message)
        curator.index.add(kept)
        target = layout.scored_part(int(path.stem.removeprefix("part-")))
        write_scored(examples, target, storage)
        scored.append(target)
        stats.inputs += len(examples)
        progress.advance(len(examples))
    progress.phase("deduplicating", total=stats.inputs, unit="examples")
    for part_index, path in enumerate(scored):  # duplicates, now that every example is indexed
        examples = read_scored(path, storage)
        row_of = {e.id: i for i, e in enumerate(examples)}
        survivors = [e for i, e in enumerate(examples) if (part_index, i) not in drops]
        curator.index.annotate(survivors)
        _, dropped = curator.filter(survivors)
        for example, reason, message in dropped:
            drops[(part_index, row_of[example.id])] = (reason, message)
        write_scored(examples, path, storage)
        progress.advance(len(examples))
    for reason, _message in drops.values():
        stats.rejected[reason] += 1
    stats.outputs = stats.inputs - len(drops)
    return scored, drops


def write_scored(examples: list[Example], path: OutPath, storage: Storage) -> None:
    from speechsift.curate import quality_arrow_type, quality_row

    table = examples_to_arrow(examples)
    quality = pa.array([quality_row(e.quality) for e in examples], type=quality_arrow_type())
    buffer = io.BytesIO()
    pq.write_table(table.append_column("quality", quality), buffer, compression="zstd")
    storage.write_bytes(path, buffer.getvalue())


def read_scored(path: OutPath, storage: Storage) -> list[Example]:
    table = pq.read_table(storage.source(path))
    examples = examples_from_arrow(table.drop_columns(["quality"]) if "quality" in table.column_names else table)
    if "quality" in table.column_names:
        for example, quality in zip(examples, table.column("quality").to_pylist()):
            example.quality = {k: v for k, v in (quality or {}).items() if v is not None}
    return examples


def decide(parts: list[OutPath], recipe: Recipe, assembly: Assembly, storage: Storage,
           excluded: Mapping[tuple[int, int], tuple[str, str]] | None = None) -> dict[tuple[int, int], Any]:
    """Per (part, row): ``(split, copies)`` for a kept example, ``(None, reason)`` for a left-out one."""
    excluded = excluded or {}
    split_keys, mix_keys, where = _scan_keys(parts, excluded, storage)
    splits = recipe.splits
    plan = plan_splits(
        split_keys,
        eval_per_cell=splits.eval.per_cell if splits.eval else None,
        dev_fraction=splits.dev.fraction if splits.dev else 0.0,
        seed=splits.seed,
    )
    stats = _stats(assembly, "split")
    stats.inputs += len(split_keys)
    decisions: dict[tuple[int, int], Any] = {pos: (None, "curate", reason, message)
                                             for pos, (reason, message) in excluded.items()}
    for position, split in zip(where, plan.split):
        if split is None:
            decisions[position] = (None, "held_out_speaker")
            stats.rejected["held_out_speaker"] += 1
        else:
            decisions[position] = (split, 1)
            stats.outputs += 1
    assembly.splits = {
        "eval_speakers": plan.eval_speakers,
        "dev_speakers": plan.dev_speakers,
        "unfilled_eval_cells": plan.unfilled_cells,
    }
    if recipe.mix is not None:
        train = [i for i, split in enumerate(plan.split) if split == "train"]
        mix = plan_mix([mix_keys[i] for i in train], size=recipe.mix.size, weights=recipe.mix.weights,
                       upsample=recipe.mix.upsample, seed=recipe.mix.seed)
        stats = _stats(assembly, "mix")
        stats.inputs += len(train)
        for i, copies in zip(train, mix.copies):
            if copies:
                decisions[where[i]] = ("train", copies)
                stats.outputs += 1
            else:
                decisions[where[i]] = (None, "not_sampled")
                stats.rejected["not_sampled"] += 1
        assembly.mix = mix.to_dict()
    return decisions


def _repeats(example: Example, copies: int) -> Iterator[Example]:
    yield example
    for k in range(1, copies):
        yield replace(example, id=f"{example.id}-r{k}")


def _left_out(decision: tuple) -> tuple[str, str, str]:
    """(stage, reason, message) of a decision that leaves an example out."""
    if len(decision) == 4:  # curation
        return decision[1], decision[2], decision[3]
    reason = decision[1]
    if reason == "not_sampled":
        return "mix", reason, "left out of the training mixture"
    return "split", reason, "its speaker is held out for evaluation and its cell is full"


def _quality_columns(examples: list[Example], decisions: list[tuple]) -> dict[str, tuple[pa.DataType, list]]:
    """The scores, and whether each example was kept (and why not), for ``complete/``."""
    columns = quality_columns(examples)
    columns["kept"] = (pa.bool_(), [d[0] is not None for d in decisions])
    columns["drop_reason"] = (pa.string(), [None if d[0] is not None else _left_out(d)[1] for d in decisions])
    return columns


def write_release(
    parts: list[OutPath], recipe: Recipe, layout: OutputLayout, assembly: Assembly,
    decisions: dict[tuple[int, int], Any], progress: ProgressReporter,
) -> None:
    curated = recipe.curate is not None
    audio = AudioPaths(layout, copy=recipe.output.copy_audio)
    exporters = make_exporters(recipe)
    for part_index, path in enumerate(parts):
        examples = read_scored(path, layout.storage) if curated else examples_from_arrow(
            pq.read_table(layout.storage.source(path)))
        examples = [neutral_example(e) for e in examples]  # trainer tokens in text, for every format
        part = int(path.stem.removeprefix("part-"))
        kept: list[Example] = []
        for row_index, example in enumerate(examples):
            decision = decisions[(part_index, row_index)]
            split, detail = decision[0], decision[1]
            if split is None:
                stage, reason, message = _left_out(decision)
                assembly.rejects.append({"id": example.id, "stage": stage, "reason": reason, "message": message,
                                         "source": example.source, "task": example.task})
                continue
            kept.extend(_repeats(replace(example, split=split), detail))
        if curated:  # every example with its scores and the decision, audio by path
            by_task: dict[str, list[int]] = defaultdict(list)
            for row_index, example in enumerate(examples):
                by_task[example.task].append(row_index)
            path_cells = AudioCells("path", audio)
            for task, rows in by_task.items():
                group = [examples[i] for i in rows]
                target = layout.complete_part(task, part)
                write_parquet_part(group, target, path_cells, layout.storage,
                                   _quality_columns(group, [decisions[(part_index, i)] for i in rows]))
                assembly.files.append(target)
        for example in kept:
            assembly.examples[(example.task, example.split)] += 1
            if example.language:
                assembly.languages.add(example.language)
            assembly.note_sampling(example)
        for exporter in exporters:
            assembly.files += exporter.write_part(kept, layout, part, audio)
        progress.advance(len(examples))
    assembly.exports = {e.name: e.counts for e in exporters if e.counts is not None}
    for exporter in exporters:
        assembly.files += exporter.close(layout, assembly)
    assembly.files += audio.written


def make_curator(recipe: Recipe) -> Any:
    """The recipe's curator (scorers, filters, dedup index), or None without a ``curate`` section.
    Built before generation, so a missing package or model stops the run before it spends anything."""
    if recipe.curate is None:
        return None
    from speechsift.curate import Curator

    return Curator(recipe.curate)


def assemble(parts: list[OutPath], recipe: Recipe, layout: OutputLayout, curator: Any = None,
             progress: ProgressReporter | None = None, examples: int | None = None) -> Assembly:
    """Curate, decide splits and the mixture, write the release; ``examples`` (the number of
    generated examples, when known) is the progress lines' total."""
    progress = progress or ProgressReporter(enabled=False)
    assembly = Assembly()
    excluded: dict[tuple[int, int], tuple[str, str]] = {}
    if recipe.curate is not None:
        parts, excluded = curate(parts, curator or make_curator(recipe), layout, assembly, progress, examples)
    decisions = decide(parts, recipe, assembly, layout.storage, excluded)
    progress.phase("writing", total=examples, unit="examples")
    write_release(parts, recipe, layout, assembly, decisions, progress)
    return assembly


def remove_stale(layout: OutputLayout, written: list[OutPath]) -> None:
    """Delete release files no longer written (tasks, splits or shards gone since the last run),
    then the folders left empty (``data/<task>/`` of a task no longer in the recipe)."""
    storage = layout.storage
    keep = {str(p) for p in written}
    for folder, suffix in ((layout.data, ".parquet"), (layout.complete, ".parquet"), (layout.exports, ".jsonl"),
                           (layout.audio, "")):
        for path in storage.files(folder, suffix):
            if str(path) not in keep and (folder != layout.exports or path.name.startswith("part-")):
                storage.delete(path)
        storage.prune(folder)
