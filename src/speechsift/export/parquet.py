"""``OUT/data/<task>/part-*.parquet``: loads with ``datasets.load_dataset("parquet", ...)``.

The audio is an ``Audio`` column (``audio`` for one-clip tasks, ``audios`` for several): the
encoded file bytes embedded by default (portable), or only the path (``output.audio: path``):
relative to OUT for a file inside OUT (``OUT/audio/``), absolute otherwise.
The features are declared in the file's ``huggingface`` metadata, as ``datasets`` itself writes.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from speechsift import audio
from speechsift.export.audio_files import AudioPaths
from speechsift.export.base import Exporter, register_exporter
from speechsift.layout import OutputLayout
from speechsift.records import EXAMPLE_SCHEMA, Example, example_to_row
from speechsift.storage import OutPath, Storage

HF_AUDIO_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
# Rows per Parquet row group: with embedded audio (~100-500 kB a clip) a group stays in the tens of
# MB, and a reader that wants a few rows (the report's sample browser) reads only their groups.
ROW_GROUP_ROWS = 100
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


def parquet_schema(audio_column: str, extra: list[pa.Field] | None = None) -> pa.Schema:
    """EXAMPLE_SCHEMA with its AudioRef list replaced by an HF Audio column, features in metadata."""
    fields = [f for f in EXAMPLE_SCHEMA if f.name != "audios"] + list(extra or [])
    audio_type = HF_AUDIO_TYPE if audio_column == "audio" else pa.list_(HF_AUDIO_TYPE)
    fields.insert(6, pa.field(audio_column, audio_type))
    features = {f.name: hf_feature(f.type) for f in fields}
    audio_feature = {"_type": "Audio"}
    features[audio_column] = audio_feature if audio_column == "audio" else [audio_feature]
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema(fields, metadata=metadata)


class AudioCells:
    """Audio cells for one shard; each clip's bytes are read once even when several tasks use it."""

    def __init__(self, mode: str, paths: AudioPaths) -> None:
        self.mode = mode
        self.paths = paths
        self._cache: dict[tuple, dict[str, Any]] = {}

    def cell(self, ref: Any) -> dict[str, Any]:
        key = (ref.path, ref.offset_s, ref.duration_s, ref.channel, id(ref.bytes))
        if key not in self._cache:
            if self.mode == "embed":
                data, name = audio.encoded(ref)
                self._cache[key] = {"bytes": data, "path": name}
            else:
                self._cache[key] = {"bytes": None, "path": self.paths.reference(ref, self.paths.root)}
        return self._cache[key]


def write_parquet_part(examples: list[Example], path: OutPath, cells: AudioCells, storage: Storage,
                       extra: dict[str, tuple[pa.DataType, list]] | None = None) -> None:
    """One task's examples of one shard as a Parquet file, written atomically; ``extra`` adds
    columns (name -> (type, one value per example)), e.g. quality scores."""
    multi = any(len(e.audios) != 1 for e in examples)
    audio_column = "audios" if multi else "audio"
    extra = extra or {}
    rows = []
    for index, example in enumerate(examples):
        row = example_to_row(example)
        for name, (_type, values) in extra.items():
            row[name] = values[index]
        del row["audios"]
        audio_cells = [cells.cell(ref) for ref in example.audios]
        row[audio_column] = audio_cells if multi else audio_cells[0]
        rows.append(row)
    schema = parquet_schema(audio_column, [pa.field(name, t) for name, (t, _v) in extra.items()])
    table = pa.Table.from_pylist(rows, schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    storage.write_bytes(path, buffer.getvalue())


def quality_columns(examples: list[Example]) -> dict[str, tuple[pa.DataType, list]]:
    """The ``quality`` column of curated examples (their scores), for ``write_parquet_part``."""
    from speechsift.curate import quality_arrow_type, quality_row

    return {"quality": (quality_arrow_type(), [quality_row(e.quality) for e in examples])}


@register_exporter
class ParquetExport(Exporter):
    """``data/<task>/<split>-part-*.parquet``: a shard's examples per task and split, audio as
    ``output.audio`` says, with the quality scores when the recipe curates."""

    name = "parquet"

    def write_part(self, examples: list[Example], layout: OutputLayout, shard: int,
                   audio: AudioPaths) -> list[OutPath]:
        recipe = self.recipe
        cells = AudioCells(recipe.output.audio, audio)
        groups: dict[tuple[str, str], list[Example]] = defaultdict(list)
        for example in examples:
            groups[(example.task, example.split)].append(example)
        written = []
        for (task, split), group in groups.items():
            target = layout.data_part(task, split, shard)
            write_parquet_part(group, target, cells, layout.storage,
                               quality_columns(group) if recipe.curate is not None else None)
            written.append(target)
        return written
