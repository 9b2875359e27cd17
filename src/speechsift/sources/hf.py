"""The ``hf`` source: a Hugging Face dataset, local or (only when the user names one) from the hub.

Audio columns are read with ``Audio(decode=False)``: we take the encoded bytes or the path and
decode with soundfile when a stage needs samples, never through ``datasets``' own decoding.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from speechsift.errors import ConfigError, CorpusError
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import RejectedRow, RowReader

_DATA_SUFFIXES = {"parquet": "parquet", "arrow": "arrow"}


def _import_datasets() -> Any:
    try:
        import datasets
    except ImportError:
        raise ConfigError(
            "the hf source needs the `datasets` package: pip install 'speechsift[hf]'."
        ) from None
    return datasets


def load_hf_dataset(
    *, path: Path | None = None, dataset: str | None = None, config: str | None = None, split: str = "train"
) -> Any:
    """A ``datasets.Dataset`` from a save_to_disk folder, a folder of Parquet/Arrow files, or a hub id."""
    datasets = _import_datasets()
    if dataset is not None:
        return datasets.load_dataset(dataset, config, split=split)
    assert path is not None
    if not path.exists():
        raise CorpusError(f"{path}: no such dataset folder or file.")
    if (path / "dataset_dict.json").is_file() or (path / "state.json").is_file():
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            if split not in loaded:
                raise CorpusError(f"{path}: no split {split!r}; the splits are {', '.join(loaded)}.")
            return loaded[split]
        return loaded
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix[1:] in _DATA_SUFFIXES)
    if not files:
        raise CorpusError(f"{path}: found neither a save_to_disk dataset nor .parquet/.arrow files.")
    builder = _DATA_SUFFIXES.get(files[0].suffix[1:])
    if builder is None:
        raise CorpusError(f"{path}: a dataset file is .parquet or .arrow.")
    return datasets.load_dataset(builder, data_files=[str(f) for f in files], split="train")


def read_hf(
    *,
    source: str,
    path: Path | None = None,
    dataset: str | None = None,
    config: str | None = None,
    split: str = "train",
    language: str | None = None,
    audio_column: str = "audio",
    fields: dict[str, str] | None = None,
) -> Iterator[Clip | RejectedRow]:
    datasets = _import_datasets()
    ds = load_hf_dataset(path=path, dataset=dataset, config=config, split=split)
    origin = str(path) if path is not None else f"hub dataset {dataset}"
    mapping = dict(fields or {})
    mapping.setdefault("audio", audio_column)
    reader = RowReader(ds.column_names, mapping, origin, source=source, language=language, base_dir=None)
    audio_col = reader.header[reader.audio_at]
    if isinstance(ds.features.get(audio_col), datasets.Audio):
        ds = ds.cast_column(audio_col, datasets.Audio(decode=False))
    base_dir = path if path is not None and path.is_dir() else None
    for index, row in enumerate(ds):
        audio = _audio_ref(row.get(audio_col), base_dir)
        if audio is None:
            native_id = reader.native_id(reader.values(row), index)
            yield RejectedRow(f"{source}/{native_id}", source, "missing_audio", f"{origin} row {index} has no audio")
            continue
        yield reader.clip(reader.values(row), index, audio=audio)


def _audio_ref(value: Any, base_dir: Path | None) -> AudioRef | None:
    """An undecoded Audio cell ({bytes, path}) or a plain path string as an AudioRef."""
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        if data:
            return AudioRef(path=path, bytes=data)
        value = path
    if isinstance(value, str) and value:
        candidate = Path(value)
        if not candidate.is_absolute() and base_dir is not None:
            candidate = base_dir / candidate
        return AudioRef(path=str(candidate))
    return None
