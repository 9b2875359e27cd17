"""Writing one part of the release: a pure function of (the part's examples, the part's decisions).

The assemble pass decides, over the whole dataset and from compact keys, what becomes of every
example (``engine/assemble.py``); each part is then written on its own (``write_part``), so the
parts are written in parallel (a process pool locally; any executor can map ``write_part`` over
``PartJob``s). A part job reads ``.work/examples/part-N`` (or the scored part, with curation) and
``.work/release/decisions/part-N`` and writes:

- ``data/<split>-part-N.parquet``: the released examples (repeated as the mixture asks), every
  task in one file, sorted by clip, each clip's audio stored once (``export/parquet.py``);
- ``complete/part-N.parquet`` (with curation): every example with its scores, ``kept`` (in data/),
  ``drop_stage`` and ``drop_reason`` (curate, split or mix, and its reason code), audio by path;
- every other export's files of the part (the registered exporters of ``output.formats``; each
  part's exporters go back to the driver, which merges what they counted and closes the exports);
- ``.work/release/rejects/part-N.jsonl``: the examples the release leaves out.

Columns that pass through (ids, messages, labels, provenance, scores) stay in Arrow from the part
file to the data file; each distinct clip's audio is read (or its path resolved) once per part.
It returns what the card and run.json need, counted (``PartResult``).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from speechsift.export import Exporter, make_exporters
from speechsift.export.audio_files import AudioPaths
from speechsift.export.parquet import AudioCells, ParquetExport, clip_order, write_parquet_part
from speechsift.export.text import neutral_table
from speechsift.layout import OutputLayout
from speechsift.recipe import Recipe
from speechsift.records import Example, examples_from_arrow
from speechsift.storage import OutPath

# The columns of a part's decisions file (one row per example of the part, in its order).
DECISION_SCHEMA = pa.schema([
    ("split", pa.string()),  # train, dev, eval; null: left out
    ("copies", pa.int32()),  # rows written (the mixture repeats some examples)
    ("stage", pa.string()),  # of an example left out: the stage, the reason code and a message
    ("reason", pa.string()),
    ("message", pa.string()),
    ("dedup_kind", pa.string()),  # curation's duplicate finding, written into the example's quality
    ("dedup_of", pa.string()),
    ("dedup_similarity", pa.float64()),
])
DEDUP_FIELDS = ("dedup_kind", "dedup_of", "dedup_similarity")


@dataclass(frozen=True)
class ReleaseSettings:
    """What of the run writing a part depends on."""

    root: str  # OUT as the user named it (a local path or an object-store URI): workers open it again
    recipe: Recipe  # its output section (formats, audio, copy_audio) and whether it curates

    @property
    def curated(self) -> bool:
        return self.recipe.curate is not None


@dataclass(frozen=True)
class PartJob:
    part: int  # the shard number: names the part's files
    examples: OutPath  # the part's examples (scored, with curation)
    decisions: OutPath
    settings: ReleaseSettings


@dataclass
class PartResult:
    """What one part wrote, counted."""

    part: int
    rows: int = 0  # examples read
    examples: Counter = field(default_factory=Counter)  # (task, split) -> rows written
    languages: set[str] = field(default_factory=set)
    sampling: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # task -> distinct settings
    exporters: list[Exporter] = field(default_factory=list)  # the part's exporters, with what they counted
    files: list[OutPath] = field(default_factory=list)
    rejects: int = 0


def sampling_setting(backend: str, model: str | None, temperature: float | None, top_p: float | None,
                     max_tokens: int | None) -> dict[str, Any]:
    """How a response was written, as the card and run.json list it (templates and corpus text
    have no sampling, unless a task set a token budget)."""
    setting: dict[str, Any] = {"backend": backend, "model": model}
    if backend not in ("direct", "template") or max_tokens is not None:
        setting.update(temperature=temperature, top_p=top_p, max_tokens=max_tokens)
    return setting


def _strings(table: pa.Table, name: str) -> list:
    return table.column(name).to_pylist()


def _write_rejects(table: pa.Table, decisions: pa.Table, left: np.ndarray, layout: OutputLayout, path: OutPath) -> int:
    rows = pa.array(left)
    columns = {name: _strings(table.select(["id", "source", "task"]).take(rows), name) for name in ("id", "source", "task")}
    reasons = {name: _strings(decisions.take(rows), name) for name in ("stage", "reason", "message")}
    lines = [json.dumps({"id": columns["id"][i], "stage": reasons["stage"][i], "reason": reasons["reason"][i],
                         "message": reasons["message"][i], "source": columns["source"][i], "task": columns["task"][i]},
                        ensure_ascii=False) + "\n" for i in range(len(left))]
    layout.storage.write_text(path, "".join(lines))
    return len(lines)


def _with_dedup(table: pa.Table, decisions: pa.Table) -> pa.Table:
    """The ``quality`` column with curation's duplicate findings written into its dedup fields."""
    quality = table.column("quality").combine_chunks()
    fields = [quality.field(f.name) if f.name not in DEDUP_FIELDS else decisions.column(f.name).combine_chunks()
              for f in quality.type]
    merged = pa.StructArray.from_arrays(fields, fields=list(quality.type), mask=quality.is_null() if quality.null_count else None)
    return table.set_column(table.schema.get_field_index("quality"), "quality", merged)


def _released(table: pa.Table, decisions: pa.Table, kept: np.ndarray) -> pa.Table:
    """The kept rows, each as many times as the mixture asks (copies after the first get the id
    ``<id>-r<k>``), with their split."""
    copies = np.asarray(decisions.column("copies").to_numpy(zero_copy_only=False))[kept]
    rows = np.repeat(kept, copies)
    repeat = np.arange(len(rows)) - np.repeat(np.cumsum(copies) - copies, copies)
    released = table.take(pa.array(rows))
    split = decisions.column("split").take(pa.array(rows))
    released = released.set_column(released.schema.get_field_index("split"), "split", split)
    if (repeat > 0).any():
        suffix = pa.array([f"-r{k}" if k else "" for k in repeat.tolist()], pa.string())
        ids = pc.binary_join_element_wise(released.column("id"), suffix, "")
        released = released.set_column(released.schema.get_field_index("id"), "id", ids)
    return released


def _sampling(table: pa.Table) -> dict[str, list[dict[str, Any]]]:
    generation = table.column("generation").combine_chunks()
    keys = pa.table({"task": table.column("task"), "row": pa.array(np.arange(table.num_rows)),
                     **{name: generation.field(name) for name in ("backend", "model", "temperature", "top_p", "max_tokens")}})
    keys = keys.filter(generation.is_valid())
    if not keys.num_rows:
        return {}
    names = ["task", "backend", "model", "temperature", "top_p", "max_tokens"]
    first = keys.group_by(names, use_threads=False).aggregate([("row", "min")])
    first = first.take(pc.sort_indices(first, sort_keys=[("row_min", "ascending")]))
    found: dict[str, list[dict[str, Any]]] = {}
    for row in first.to_pylist():
        setting = sampling_setting(row["backend"], row["model"], row["temperature"], row["top_p"], row["max_tokens"])
        seen = found.setdefault(row["task"], [])
        if setting not in seen:
            seen.append(setting)
    return found


def write_part(job: PartJob) -> PartResult:
    """Write one part of the release (see the module docstring); returns what it wrote, counted."""
    settings = job.settings
    layout = OutputLayout(settings.root)
    result = PartResult(job.part)
    storage = layout.storage
    table = pq.read_table(storage.source(job.examples))
    decisions = pq.read_table(storage.source(job.decisions))
    if decisions.num_rows != table.num_rows:
        raise ValueError(f"{job.decisions}: {decisions.num_rows} decisions for the {table.num_rows} examples of {job.examples}")
    result.rows = table.num_rows
    kept_mask = np.asarray(decisions.column("split").is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    result.rejects = _write_rejects(table, decisions, np.flatnonzero(~kept_mask), layout,
                                   layout.release_rejects(job.part))
    table = neutral_table(table)  # trainer tokens in text, for every format
    paths = AudioPaths(layout, copy=settings.recipe.output.copy_audio)
    if settings.curated:  # every example with its scores and the decision, audio by path
        table = _with_dedup(table, decisions)
        complete = (table.append_column("kept", pa.array(kept_mask))
                    .append_column("drop_stage", decisions.column("stage"))
                    .append_column("drop_reason", decisions.column("reason")))
        complete = complete.take(pa.array(clip_order(complete)))
        write_parquet_part(complete, layout.complete_part(job.part), AudioCells("path", paths), storage)
        result.files.append(layout.complete_part(job.part))
    released = _released(table, decisions, np.flatnonzero(kept_mask))
    for row in released.group_by(["task", "split"], use_threads=False).aggregate([([], "count_all")]).to_pylist():
        result.examples[(row["task"], row["split"])] = row["count_all"]
    result.languages = {language for language in pc.unique(released.column("language")).to_pylist() if language}
    result.sampling = _sampling(released)
    examples: list[Example] | None = None
    result.exporters = make_exporters(settings.recipe)
    for exporter in result.exporters:
        if isinstance(exporter, ParquetExport):  # Arrow to Arrow, the scores with it
            result.files += exporter.write_table(released, layout, job.part, paths)
            continue
        if examples is None:  # records once, for every other export
            examples = examples_from_arrow(released.drop_columns(["generation", "quality"] if settings.curated
                                                                 else ["generation"]))
        result.files += exporter.write_part(examples, layout, job.part, paths)
    result.files += paths.written
    return result
