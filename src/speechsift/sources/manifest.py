"""The ``manifest`` source: a CSV or JSONL file, one row per clip.

The ``audio`` column holds a path relative to the manifest's folder (or an absolute one). Other
columns are recognized by their usual names (``sources.base.FIELD_ALIASES``) or mapped with the
recipe's ``fields``. Rows are read as text and never touch the audio, so listing is cheap.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from speechsift.errors import CorpusError, Reject
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import RejectedRow, audio_path, clip_from_row, resolve_columns


def _has_undecodable(values: Any) -> bool:
    """True when a cell holds bytes that were not UTF-8 (read back as lone surrogates)."""
    for value in values:
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


def _csv_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any] | None]]]:
    handle = path.open("r", encoding="utf-8-sig", errors="surrogateescape", newline="")
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(handle, dialect=dialect)
    header = reader.fieldnames or []

    def rows() -> Iterator[tuple[int, dict[str, Any] | None]]:
        with handle:
            for number, row in enumerate(reader, start=1):
                yield number, row

    return list(header), rows()


def _jsonl_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, Any] | None]]]:
    # The header is the union of keys of the first rows, enough to resolve columns; later rows may
    # omit optional keys.
    header: list[str] = []
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if number > 100:
                break
            try:
                obj = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(obj, dict):
                header.extend(k for k in obj if k not in header)

    def rows() -> Iterator[tuple[int, dict[str, Any] | None]]:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line.decode("utf-8"))
                except UnicodeDecodeError:
                    yield number, {"__undecodable__": True}
                    continue
                except json.JSONDecodeError:
                    yield number, None
                    continue
                yield number, obj if isinstance(obj, dict) else None

    return header, rows()


def read_manifest(
    path: str | Path, *, source: str, language: str | None = None, fields: dict[str, str] | None = None
) -> Iterator[Clip | RejectedRow]:
    """Clips from a CSV/TSV/JSONL manifest; unreadable rows come out as ``RejectedRow``s."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: manifest not found (source {source!r}); check sources[].path.")
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        header, rows = _jsonl_rows(path)
    elif suffix in (".csv", ".tsv"):
        header, rows = _csv_rows(path)
    else:
        raise CorpusError(f"{path}: a manifest is a .csv, .tsv or .jsonl file (source {source!r}).")
    if not header:
        raise CorpusError(f"{path}: the manifest is empty or has no header row.")
    columns = resolve_columns(header, fields or {}, str(path))
    id_column = columns.get("id")
    base_dir = path.resolve().parent
    for number, row in rows:
        native_id = f"row{number}"
        if row is None:
            yield RejectedRow(f"{source}/{native_id}", source, "bad_row", f"{path} line {number} is not a JSON object")
            continue
        if row.get("__undecodable__") or _has_undecodable(row.values()):
            yield RejectedRow(
                f"{source}/{native_id}", source, "undecodable_text", f"{path} row {number} holds bytes that are not UTF-8"
            )
            continue
        if id_column and row.get(id_column) not in (None, ""):
            native_id = str(row[id_column]).strip()
        try:
            audio = AudioRef(path=audio_path(row.get(columns["audio"]), base_dir, native_id))
        except Reject as rejected:
            yield RejectedRow(f"{source}/{native_id}", source, rejected.reason, f"{path} row {number}: {rejected.message}")
            continue
        yield clip_from_row(row, columns, source=source, native_id=native_id, language=language, audio=audio)
