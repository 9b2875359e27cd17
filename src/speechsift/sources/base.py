"""What every source shares: corpus column names onto speechsift fields, and one row -> one Clip.

A source yields ``Clip``s, or ``RejectedRow``s for rows it cannot read; the engine counts both, so
no row is lost without a line in ``rejects.jsonl``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsift.errors import CorpusError, Reject
from speechsift.labels.normalize import is_missing
from speechsift.records import AudioRef, Clip


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row a source could not turn into a clip."""

    id: str
    source: str
    reason: str
    message: str


# Column names recognized without a `fields` mapping, in order of preference, per field.
# From the manifests and hub copies users bring: tiny-audio's omni sets (major_emotion,
# speaking_rate, relative_db), Common Voice (sentence, client_id, locale, accents), NeMo
# (audio_filepath), HF datasets (audio, transcription).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "clip_id", "utt_id", "key"),
    "audio": ("audio", "audio_path", "audio_filepath", "path", "file", "filename", "wav"),
    "text": ("text", "transcript", "transcription", "sentence", "normalized_text"),
    "speaker": ("speaker", "speaker_id", "client_id", "spk"),
    "language": ("language", "lang", "locale"),
    "answers": ("answers", "answer"),
    "emotion": ("emotion", "major_emotion"),
    "gender": ("gender", "sex"),
    "age": ("age",),
    "accent": ("accent", "accents"),
    "speaking_rate": ("speaking_rate",),
    "relative_db": ("relative_db",),
    "pace": ("pace",),
    "volume": ("volume",),
}
LABEL_FIELDS = ("emotion", "gender", "age", "accent", "speaking_rate", "relative_db", "pace", "volume")


def resolve_columns(
    columns: Iterable[str], mapping: Mapping[str, str], origin: str, *, need_audio: bool = True
) -> dict[str, str]:
    """Our field -> the column holding it: the recipe's ``fields`` first, then the usual names."""
    present = list(columns)
    unknown = sorted(set(mapping) - set(FIELD_ALIASES))
    if unknown:
        raise CorpusError(
            f"{origin}: fields maps unknown field(s) {', '.join(unknown)}; "
            f"the fields are {', '.join(FIELD_ALIASES)}."
        )
    resolved: dict[str, str] = {}
    for field, aliases in FIELD_ALIASES.items():
        if field in mapping:
            if mapping[field] not in present:
                raise CorpusError(
                    f"{origin}: fields.{field} names column {mapping[field]!r}, which is not there; "
                    f"the columns are {', '.join(present)}."
                )
            resolved[field] = mapping[field]
            continue
        for alias in aliases:
            if alias in present:
                resolved[field] = alias
                break
    if need_audio and "audio" not in resolved:
        raise CorpusError(
            f"{origin}: no audio column; name it `audio` or map it with `fields: {{audio: <column>}}` "
            f"(the columns are {', '.join(present)})."
        )
    return resolved


def parse_answers(value: Any) -> list[str]:
    """Answers as a list: a JSON list, a list, or a single answer string."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if not is_missing(v)]
    if isinstance(value, dict) and "text" in value:  # SQuAD's {"text": [...], "answer_start": [...]}
        return parse_answers(value["text"])
    text = str(value).strip()
    if text.startswith("["):
        try:
            return parse_answers(json.loads(text))
        except json.JSONDecodeError:
            pass
    return [] if is_missing(text) else [text]


def _cell(value: Any) -> str | None:
    """A manifest cell as a raw label string, None when empty."""
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and value != value:  # NaN
        return None
    return str(value)


def clip_from_row(
    row: Mapping[str, Any],
    columns: Mapping[str, str],
    *,
    source: str,
    native_id: str,
    language: str | None,
    audio: AudioRef,
) -> Clip:
    """One manifest/dataset row as a Clip; ``raw`` keyed by our field names, values as given."""
    raw: dict[str, str] = {}
    for field in LABEL_FIELDS:
        column = columns.get(field)
        if column is not None:
            value = _cell(row.get(column))
            if value is not None:
                raw[field] = value
    extra: dict[str, Any] = {}
    if "answers" in columns:
        answers = parse_answers(row.get(columns["answers"]))
        if answers:
            extra["answers"] = answers
    lang_column = columns.get("language")
    row_language = _cell(row.get(lang_column)) if lang_column else None
    speaker_column = columns.get("speaker")
    text_column = columns.get("text")
    return Clip(
        clip_id=f"{source}/{native_id}",
        source=source,
        audio=audio,
        language=row_language or language,
        speaker_id=_cell(row.get(speaker_column)) if speaker_column else None,
        text=_cell(row.get(text_column)) if text_column else None,
        raw=raw,
        extra=extra,
    )


def audio_path(value: Any, base_dir: Path, native_id: str) -> str:
    """An audio cell as a path: relative paths are relative to the manifest's folder."""
    text = _cell(value)
    if text is None:
        raise Reject("missing_audio", f"row {native_id} has an empty audio cell")
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else base_dir / path)
