"""``OUT/data/<split>-part-*.parquet``: every task of a release part in one file, one row per example,
loading with ``datasets.load_dataset("parquet", ...)``.

Rows are sorted by clip, so the examples of one clip (its transcription, its description, its
questions, its controllable instruction) sit next to each other; ``task`` says which task a row
belongs to (``load_dataset(..., filters=[("task", "==", name)])`` loads one task). The audio is
the ``audios`` column, a list of ``Audio`` (one per audio the example uses, in order): the encoded
file bytes embedded by default (portable), or only the path (``output.audio: path``): relative to
OUT for a file inside OUT (``OUT/audio/``), absolute otherwise. The audio bytes are dictionary
encoded within each row group, and row groups end at clip boundaries, so a clip's audio is stored
once in its row group however many examples use it (a comparison's second clip is stored again
with its pair): the issue-13 task mix with 4 s clips takes 1.7x the source audio, where one file
per task held a copy per example (4.0x; ``benchmarks/bench_scale.py``). The features are declared in the file's ``huggingface`` metadata, as ``datasets``
itself writes.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from speechsift import audio
from speechsift.export.audio_files import AudioPaths
from speechsift.export.base import Exporter, register_exporter
from speechsift.layout import OutputLayout
from speechsift.records import EXAMPLE_SCHEMA, AudioRef, Example, examples_to_arrow
from speechsift.storage import OutPath, Storage

HF_AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
AUDIO_COLUMN = "audios"
# Rows per Parquet row group (a group ends at the next clip boundary after this many rows): with
# embedded audio (~100-500 kB a clip) a group stays in the tens of MB, and a reader that wants a
# few rows (the report's sample browser) reads only their groups.
ROW_GROUP_ROWS = 100
# With audio by path a row is a few hundred bytes: groups this long (the metadata and codec calls of
# every column chunk, a hundred columns with the scores, cost more than the rows in groups of 100).
PATH_ROW_GROUP_ROWS = 10_000
# A row group's dictionary of distinct audio files must never fall back to plain encoding (which
# would store a clip's bytes once per example); pyarrow's default limit is 1 MB.
DICTIONARY_PAGE_LIMIT = 2**30
_HF_DTYPES = {
    pa.string(): "string",
    pa.binary(): "binary",
    pa.int32(): "int32",
    pa.int64(): "int64",
    pa.float64(): "float64",
    pa.bool_(): "bool",
}


def hf_feature(arrow_type: pa.DataType) -> Any:
    """The ``datasets`` feature description of an Arrow type (lists as ``[feature]``)."""
    if pa.types.is_struct(arrow_type):
        return {f.name: hf_feature(f.type) for f in arrow_type}
    if pa.types.is_list(arrow_type):
        return [hf_feature(arrow_type.value_type)]
    return {"dtype": _HF_DTYPES[arrow_type], "_type": "Value"}


def parquet_schema(extra: list[pa.Field] | None = None) -> pa.Schema:
    """EXAMPLE_SCHEMA with its AudioRef list replaced by a list of HF Audio, features in metadata."""
    fields = [pa.field(AUDIO_COLUMN, pa.list_(HF_AUDIO_TYPE)) if f.name == "audios" else f for f in EXAMPLE_SCHEMA]
    fields += list(extra or [])
    features = {f.name: hf_feature(f.type) for f in fields}
    features[AUDIO_COLUMN] = [{"_type": "Audio"}]
    return pa.schema(fields, metadata={"huggingface": json.dumps({"info": {"features": features}})})


def _ref_key(ref: dict[str, Any]) -> tuple:
    data = ref.get("bytes")
    return (ref.get("path"), ref.get("offset_s"), ref.get("duration_s"), ref.get("channel"),
            hash(data) if data is not None else None)


class AudioCells:
    """The Audio cell (bytes embedded, or a path) of each clip's audio: a path is worked out once per
    clip and part; embedded bytes once per clip and row group (``_audio_column``), so that a part
    never holds every clip's audio at once."""

    def __init__(self, mode: str, paths: AudioPaths) -> None:
        self.mode = mode
        self.paths = paths
        self._paths: dict[tuple, dict[str, Any]] = {}

    def cell(self, ref: dict[str, Any], key: tuple | None = None) -> dict[str, Any]:
        """``ref``: one AudioRef as an Arrow row (``records.AUDIO_REF_TYPE``); ``key``: its ``_ref_key``."""
        if self.mode != "embed":
            key = key or _ref_key(ref)
            found = self._paths.get(key)
            if found is None:
                found = self._paths[key] = {"bytes": None, "path": self.paths.reference(_audio_ref(ref), self.paths.root)}
            return found
        data, name = audio.encoded(_audio_ref(ref))
        return {"bytes": data, "path": name}


def _audio_ref(ref: dict[str, Any]) -> AudioRef:
    return AudioRef(path=ref.get("path"), bytes=ref.get("bytes"), sampling_rate=ref.get("sampling_rate"),
                    offset_s=ref.get("offset_s") or 0.0, duration_s=ref.get("duration_s"), channel=ref.get("channel"))


def clip_order(table: pa.Table) -> np.ndarray:
    """Row indices sorting ``table`` by its first clip id (a clip's rows together), ties in row order."""
    first = pc.list_element(table.column("clip_ids").combine_chunks(), 0) if table.num_rows else pa.array([], pa.string())
    keyed = pa.table({"clip": first, "row": pa.array(np.arange(table.num_rows))})
    return pc.sort_indices(keyed, sort_keys=[("clip", "ascending"), ("row", "ascending")]).to_numpy()


def _row_groups(clips: list[str | None], rows: int = ROW_GROUP_ROWS) -> list[tuple[int, int]]:
    """(start, end) of each row group: about ``rows`` rows, ending where the clip changes."""
    groups, start = [], 0
    for i in range(1, len(clips) + 1):
        if i == len(clips) or (i - start >= rows and clips[i] != clips[i - 1]):
            groups.append((start, i))
            start = i
    return groups


def _audio_column(refs: pa.ListArray, cells: AudioCells) -> pa.ListArray:
    """The HF Audio list of each row, from its AudioRef list: one cell per distinct clip."""
    flat = refs.flatten()
    made: dict[tuple, int] = {}
    unique: list[dict[str, Any]] = []
    index = np.empty(len(flat), dtype=np.int64)
    for i, ref in enumerate(flat.to_pylist()):
        key = _ref_key(ref)
        j = made.get(key)
        if j is None:
            j = made[key] = len(unique)
            unique.append(cells.cell(ref, key))
        index[i] = j
    values = pa.array(unique, HF_AUDIO_TYPE).take(pa.array(index)) if len(flat) else pa.array([], HF_AUDIO_TYPE)
    offsets = pc.subtract(refs.offsets, refs.offsets[0]) if len(refs) else pa.array([0], pa.int32())
    return pa.ListArray.from_arrays(offsets, values, type=pa.list_(HF_AUDIO_TYPE))


def write_parquet_part(table: pa.Table, path: OutPath, cells: AudioCells, storage: Storage) -> None:
    """One release part's rows as a Parquet file, written atomically: ``table`` has the columns of
    ``EXAMPLE_SCHEMA`` (``audios`` as AudioRefs), then any others (quality scores, ...), and is
    sorted by clip (``clip_order``)."""
    extra = [f for f in table.schema if f.name not in EXAMPLE_SCHEMA.names]
    schema = parquet_schema(extra)
    clips = pc.list_element(table.column("clip_ids").combine_chunks(), 0).to_pylist() if table.num_rows else []
    with storage.writer(path) as sink, pq.ParquetWriter(sink, schema, compression="zstd", use_dictionary=True,
                                                        dictionary_pagesize_limit=DICTIONARY_PAGE_LIMIT) as writer:
        for start, end in _row_groups(clips, ROW_GROUP_ROWS if cells.mode == "embed" else PATH_ROW_GROUP_ROWS):
            group = table.slice(start, end - start)
            columns = [_audio_column(group.column("audios").combine_chunks(), cells) if f.name == AUDIO_COLUMN
                       else group.column(f.name) for f in schema]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema), row_group_size=end - start)
        if not clips:
            writer.write_table(schema.empty_table())


@register_exporter
class ParquetExport(Exporter):
    """``data/<split>-part-*.parquet``: every task of a release part in one file per split, sorted by
    clip, audio as ``output.audio`` says (and the quality scores when the recipe curates)."""

    name = "parquet"

    def write_table(self, table: pa.Table, layout: OutputLayout, shard: int, audio: AudioPaths) -> list[OutPath]:
        """The part's released rows as Arrow (``EXAMPLE_SCHEMA``, audio as AudioRefs, then any other
        columns), written without turning them into records."""
        cells = AudioCells(self.recipe.output.audio, audio)
        table = table.take(pa.array(clip_order(table)))
        written = []
        for split in sorted(pc.unique(table.column("split")).to_pylist()):
            target = layout.data_part(split, shard)
            write_parquet_part(table.filter(pc.equal(table.column("split"), split)), target, cells, layout.storage)
            written.append(target)
        return written

    def write_part(self, examples: list[Example], layout: OutputLayout, shard: int,
                   audio: AudioPaths) -> list[OutPath]:
        return self.write_table(examples_to_arrow(examples), layout, shard, audio)
