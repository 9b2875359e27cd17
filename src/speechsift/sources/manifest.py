"""The ``manifest`` source: a CSV, TSV or JSONL file, one row per clip.

The ``audio`` column holds a path relative to the manifest's folder (or an absolute one). Other
columns are recognized by their usual names (``sources.base.FIELD_ALIASES``) or mapped with the
recipe's ``fields``. Rows are read as text and never touch the audio, so listing is cheap.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from speechsift.errors import CorpusError
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow, RowReader


def _has_undecodable(values: list[str]) -> bool:
    """True when a cell holds bytes that were not UTF-8 (read back as lone surrogates)."""
    for value in values:
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _undecodable(source: str, path: Path, number: int) -> RejectedRow:
    return RejectedRow(f"{source}/row{number}", source, "undecodable_text", f"{path} row {number} holds bytes that are not UTF-8")


def _csv_clips(path: Path, make_reader) -> Iterator[Clip | RejectedRow]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    with path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        rows = csv.reader(handle, dialect=dialect)
        header = next(rows, None)
        if not header:
            raise CorpusError(f"{path}: the manifest is empty or has no header row.")
        reader: RowReader = make_reader(header)
        clip = reader.clip
        for number, values in enumerate(rows, start=1):
            if not values:
                continue
            if not "".join(values).isascii() and _has_undecodable(values):  # an ASCII row: one check in C
                yield _undecodable(reader.source, path, number)
                continue
            yield clip(values, number)


def _jsonl_header(path: Path, sample: int = 100) -> list[str]:
    """The union of the keys of the first rows: enough to resolve columns (later rows may omit some)."""
    header: list[str] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number > sample:
                break
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(obj, dict):
                header.extend(k for k in obj if k not in header)
    return header


def _jsonl_clips(path: Path, make_reader) -> Iterator[Clip | RejectedRow]:
    header = _jsonl_header(path)
    if not header:
        raise CorpusError(f"{path}: the manifest is empty or holds no JSON objects.")
    reader: RowReader = make_reader(header)
    source = reader.source
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError:
                yield _undecodable(source, path, number)
                continue
            except json.JSONDecodeError:
                obj = None
            if not isinstance(obj, dict):
                yield RejectedRow(f"{source}/row{number}", source, "bad_row", f"{path} line {number} is not a JSON object")
                continue
            yield reader.clip(reader.values(obj), number)


def read_manifest(
    path: str | Path, *, source: str, language: str | None = None, fields: dict[str, str] | None = None
) -> Iterator[Clip | RejectedRow]:
    """Clips from a CSV/TSV/JSONL manifest; unreadable rows come out as ``RejectedRow``s."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: manifest not found (source {source!r}); check sources[].path.")
    base_dir = str(path.resolve().parent)

    def make_reader(header: list[str]) -> RowReader:
        return RowReader(header, fields or {}, str(path), source=source, language=language, base_dir=base_dir)

    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        return _jsonl_clips(path, make_reader)
    if suffix in (".csv", ".tsv"):
        return _csv_clips(path, make_reader)
    raise CorpusError(f"{path}: a manifest is a .csv, .tsv or .jsonl file (source {source!r}).")


__all__ = ["read_manifest"]
