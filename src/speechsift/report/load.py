"""Reading a run's output folder for the report: run.json, rejects.jsonl and the Parquet parts.

Parts are read with pyarrow one at a time, only the columns the statistics need (nested fields by
dotted path, so ``generation.llm_messages`` and the audio bytes are never read for the whole
dataset); the sampled rows are read again in full later, by (part, row).
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger(__name__)

# Names under which an example's response embedding may be stored (a list of floats per row).
EMBEDDING_COLUMNS = ("embedding", "response_embedding", "embeddings")
REJECT_EXAMPLES_PER_REASON = 3
# Parts are read by a few threads at once: pyarrow decompresses and decodes without the GIL, and one
# column (the audio bytes) of one part is decoded by one thread, so parts are the unit of parallelism.
READ_THREADS = min(8, os.cpu_count() or 1)


def _parallel(function: Callable[[int], object], count: int) -> list:
    """``[function(i) for i in range(count)]``, run on :data:`READ_THREADS` threads, in order."""
    if count <= 1 or READ_THREADS <= 1:
        return [function(i) for i in range(count)]
    with ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="report-read") as pool:
        return list(pool.map(function, range(count)))


@dataclass(frozen=True)
class Part:
    """One Parquet file of a task folder."""

    path: Path
    task: str | None  # the folder's task (older outputs); None: the rows' ``task`` column says
    rows: int
    schema: pa.Schema
    # The footer itself is not kept: a part's metadata describes every column of every row group
    # (about 2 MB for a curated part of 4,500 rows in row groups of 100), so holding every part's
    # took 1.2 GB at 100k clips; a part is opened again when it is read.

    def open(self) -> pq.ParquetFile:
        return pq.ParquetFile(self.path)


def find_parts(folder: Path) -> list[Part]:
    """Every ``<folder>/*.parquet`` (every task of a part in one file, a ``task`` column) and
    ``<folder>/<task>/**/*.parquet`` (older outputs, one folder per task), hidden temp files
    skipped, in a stable order."""
    if not folder.is_dir():
        return []
    parts = []
    for path in sorted(folder.rglob("*.parquet")):
        relative = path.relative_to(folder)
        if any(p.startswith(".") for p in relative.parts):
            continue
        task = relative.parts[0] if len(relative.parts) > 1 else None
        # schema_arrow, not metadata.schema.to_arrow_schema(): pyarrow's ParquetSchema and its
        # FileMetaData form a reference cycle holding the decoded footer (MBs for a curated part)
        # until a full garbage collection, which hundreds of parts can outrun
        with pq.ParquetFile(path) as file:
            parts.append(Part(path, task, file.metadata.num_rows, file.schema_arrow))
    return parts


def _available(schema: pa.Schema, column: str) -> bool:
    head, _, rest = column.partition(".")
    if head not in schema.names:
        return False
    if not rest:
        return True
    kind = schema.field(head).type
    return pa.types.is_struct(kind) and kind.get_field_index(rest) >= 0


def read_part(part: Part, columns: Iterable[str]) -> pa.Table:
    """The given columns of one part (those it lacks left out), with its ``task`` column."""
    present = [c for c in columns if _available(part.schema, c)]
    table = part.open().read(columns=present)
    if "task" not in table.column_names:
        table = table.append_column("task", pa.array([part.task] * table.num_rows, pa.string()))
    return table


def embedding_column(parts: list[Part]) -> str | None:
    """The name of a list-of-floats embedding column every part has, if any."""
    for name in EMBEDDING_COLUMNS:
        if parts and all(name in p.schema.names for p in parts):
            kind = parts[0].schema.field(name).type
            if (
                pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind) or pa.types.is_large_list(kind)
            ) and pa.types.is_floating(kind.value_type):
                return name
    return None


def read_rows(
    parts: list[Part], locations: list[tuple[int, int]], columns: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Rows by (part index, row index), in the given order; only the row groups holding them are read."""
    wanted = None if columns is None else list(columns)
    by_part: dict[int, list[int]] = {}
    for part_index, row in locations:
        by_part.setdefault(part_index, []).append(row)
    jobs: list[tuple[int, int, int, list[int]]] = []  # (part, row group, its first row, rows wanted in it)
    for part_index, rows in by_part.items():
        metadata = parts[part_index].open().metadata
        starts = np.cumsum([0] + [metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)])
        groups: dict[int, list[int]] = {}
        for r in sorted(set(rows)):
            groups.setdefault(int(np.searchsorted(starts, r, side="right") - 1), []).append(r)
        jobs += [(part_index, g, int(starts[g]), in_group) for g, in_group in sorted(groups.items())]

    def read(job_index: int) -> list[dict[str, Any]]:
        part_index, group, first, rows = jobs[job_index]
        part = parts[part_index]
        present = None if wanted is None else [c for c in wanted if _available(part.schema, c)]
        table = part.open().read_row_group(group, columns=present, use_threads=False)
        records = table.take(pa.array([r - first for r in rows], pa.int64())).to_pylist()
        del table
        # a row group's audio column can be hundreds of MB; hand it back to the OS now, not at exit
        pa.default_memory_pool().release_unused()
        for record in records:
            if record.get("task") is None:
                record["task"] = part.task
        return records

    found: dict[tuple[int, int], dict[str, Any]] = {}
    for (part_index, _, _, rows), records in zip(jobs, _parallel(read, len(jobs))):
        found.update({(part_index, r): record for r, record in zip(rows, records)})
    return [found[loc] for loc in locations]


def read_embeddings(parts: list[Part], name: str, locations: list[tuple[int, int]]) -> np.ndarray:
    """The embedding column at the given rows, as a float32 matrix (n x dim)."""
    by_part: dict[int, list[int]] = {}
    for position, (part_index, _row) in enumerate(locations):
        by_part.setdefault(part_index, []).append(position)
    vectors: list[np.ndarray | None] = [None] * len(locations)
    for part_index, positions in by_part.items():
        column = parts[part_index].open().read(columns=[name]).column(name).combine_chunks()
        picked = column.take(pa.array([locations[p][1] for p in positions], pa.int64()))
        for p, value in zip(positions, picked.to_pylist()):
            vectors[p] = np.asarray(value if value is not None else [], dtype=np.float32)
    dim = max((v.size for v in vectors if v is not None), default=0)
    matrix = np.zeros((len(locations), dim), dtype=np.float32)
    for i, v in enumerate(vectors):
        if v is not None and v.size == dim:
            matrix[i] = v
    return matrix


def read_run_json(path: Path) -> dict[str, Any] | None:
    """run.json as a dict, or None when it is missing or unreadable (the report says so)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        log.warning("cannot read %s (%s); the report leaves the run summary out", path, error)
        return None


@dataclass
class Rejects:
    """rejects.jsonl tallied: counts per (stage, reason), a few examples each, reasons of chosen ids."""

    present: bool = False
    total: int = 0
    counts: Counter = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    reasons_by_id: dict[str, list[str]] = field(default_factory=dict)
    unreadable_lines: int = 0


def read_rejects(path: Path, wanted_ids: set[str] | None = None) -> Rejects:
    """Stream ``rejects.jsonl`` once; keep counts, :data:`REJECT_EXAMPLES_PER_REASON` examples per reason."""
    result = Rejects()
    if not path.is_file():
        return result
    result.present = True
    wanted_ids = wanted_ids or set()
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key = (str(record.get("stage") or "?"), str(record.get("reason") or "?"))
            except (ValueError, AttributeError):
                result.unreadable_lines += 1
                continue
            result.total += 1
            result.counts[key] += 1
            examples = result.examples.setdefault(key, [])
            if len(examples) < REJECT_EXAMPLES_PER_REASON:
                examples.append(record)
            if record.get("id") in wanted_ids:
                message = str(record.get("message") or "")
                result.reasons_by_id.setdefault(record["id"], []).append(
                    f"{key[0]}: {key[1]}" + (f" ({message})" if message else "")
                )
    return result
