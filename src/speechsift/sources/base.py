"""What every source shares: corpus column names onto speechsift fields, and one row -> one Clip.

A source yields ``Clip``s, or ``RejectedRow``s for rows it cannot read; the engine counts both, so
no row is lost without a line in ``rejects.jsonl``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from speechsift.errors import CorpusError
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
    "alignment": ("alignment", "alignment_path", "textgrid", "ctm"),  # word timings: TextGrid, CTM or JSON
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
    columns: Iterable[str], mapping: Mapping[str, str], origin: str, *, need_audio: bool = True,
    aliases: Mapping[str, tuple[str, ...]] = FIELD_ALIASES,
) -> dict[str, str]:
    """Our field -> the column holding it: the recipe's ``fields`` first, then the usual names
    (``aliases``: the manifests' by default; the text source has its own).

    Names match in any letter case and with surrounding spaces (``Audio``, ``TEXT``, `` Speaker``);
    a column spelled exactly as asked wins over one that matches only so.
    """
    present = list(columns)
    folded: dict[str, str] = {}
    for column in present:
        folded.setdefault(column.strip().casefold(), column)

    def find(name: str) -> str | None:
        return name if name in present else folded.get(name.strip().casefold())

    unknown = sorted(set(mapping) - set(aliases))
    if unknown:
        raise CorpusError(
            f"{origin}: fields maps unknown field(s) {', '.join(unknown)}; "
            f"the fields are {', '.join(aliases)}."
        )
    resolved: dict[str, str] = {}
    for field, names in aliases.items():
        if field in mapping:
            column = find(mapping[field])
            if column is None:
                raise CorpusError(
                    f"{origin}: fields.{field} names column {mapping[field]!r}, which is not there; "
                    f"the columns are {', '.join(present)}."
                )
            resolved[field] = column
            continue
        for alias in names:
            column = find(alias)
            if column is not None:
                resolved[field] = column
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
    if isinstance(value, (list, tuple)):  # strings, or answer structs ({"text", "answer_start"})
        return [answer for v in value for answer in (parse_answers(v) if isinstance(v, dict) else [str(v)])
                if not is_missing(answer)]
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
    if value.__class__ is str:  # CSV cells: the common case first
        return value if value.strip() else None
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and value != value:  # NaN
        return None
    return str(value)


class RowReader:
    """Turns one row's cells into a Clip (or a RejectedRow). Column positions are worked out once
    per source from its header, so reading a row is a few list lookups.

    Rows come as lists in header order (CSV) or as mappings (JSONL, datasets), which ``values``
    puts in header order.
    """

    def __init__(
        self, header: Sequence[str], mapping: Mapping[str, str], origin: str, *, source: str,
        language: str | None, base_dir: str | None, need_audio: bool = True,
        aliases: Mapping[str, tuple[str, ...]] = FIELD_ALIASES,
    ) -> None:
        self.header = list(header)
        columns = resolve_columns(self.header, mapping, origin, need_audio=need_audio, aliases=aliases)
        index = {field: self.header.index(column) for field, column in columns.items()}
        self.index = index  # field -> position in the header
        self.width = len(self.header)
        self.origin = origin
        self.source = source
        self.language = language
        self.base_dir = base_dir
        self.labels = [(field, index[field]) for field in LABEL_FIELDS if field in index]
        # Where id, audio, text, speaker, language and alignment sit (None: no such column).
        self.positions = tuple(index.get(field) for field in ("id", "audio", "text", "speaker", "language", "alignment"))
        self.id_at = index.get("id")
        self.audio_at = index.get("audio")
        self.answers_at = index.get("answers")
        self.audio_prefix = os.path.join(base_dir, "") if base_dir else ""

    def values(self, row: Mapping[str, Any]) -> list[Any]:
        return [row.get(column) for column in self.header]

    def native_id(self, values: Sequence[Any], number: int) -> str:
        given = _cell(values[self.id_at]) if self.id_at is not None and self.id_at < len(values) else None
        return given.strip() if given else f"row{number}"

    def clip(self, values: Sequence[Any], number: int, audio: AudioRef | None = None) -> Clip | RejectedRow:
        """The row's Clip; ``audio`` given by the caller (datasets) or read from the audio cell.

        Written for speed (it runs once per row): cells are fetched by position in one pass.
        """
        if len(values) < self.width:  # a short row: the cells it lacks are empty
            values = [*values, *([None] * (self.width - len(values)))]
        given_id, audio_cell, text, speaker, language, alignment = [  # _cell, its str case inlined
            None if at is None else (cell if cell.strip() else None) if (cell := values[at]).__class__ is str
            else _cell(cell) for at in self.positions
        ]
        native_id = given_id.strip() if given_id else f"row{number}"
        clip_id = f"{self.source}/{native_id}"
        if audio is None:
            if audio_cell is None:
                return RejectedRow(clip_id, self.source, "missing_audio",
                                   f"{self.origin} row {number}: row {native_id} has an empty audio cell")
            path = audio_cell.strip()
            if _POSIX and not path.startswith(_NOT_RELATIVE):  # relative: audio_path's common case, inlined
                audio = AudioRef(self.audio_prefix + path)
            else:
                audio = AudioRef(audio_path(path, self.audio_prefix))
        raw = self.raw_labels(values)
        extra: dict[str, Any] = {}
        if self.answers_at is not None:
            answers = parse_answers(values[self.answers_at])
            if answers:
                extra["answers"] = answers
        if alignment is not None:
            extra.update(self._words(alignment, native_id))
        return Clip(clip_id, self.source, audio, language or self.language, speaker, text, raw, {}, {}, extra)

    def raw_labels(self, values: Sequence[Any]) -> dict[str, str]:
        """The row's label cells that are not empty, keyed by field (``LABEL_FIELDS``)."""
        raw: dict[str, str] = {}
        for field, at in self.labels:
            value = values[at]
            if value.__class__ is not str:
                value = _cell(value)
            if value and not value.isspace():
                raw[field] = value
        return raw

    def _words(self, cell: str, native_id: str) -> dict[str, Any]:
        """``{"words": [...]}`` from the row's alignment file, or ``{"alignment_error": why}``.

        An unreadable alignment does not refuse the clip: only word-level tasks need it, and they
        reject the clip with their own reason.
        """
        from speechsift.sources.alignments import read_alignment

        path = cell.strip()
        if not os.path.isabs(path) and self.base_dir:
            path = os.path.join(self.base_dir, path)
        try:
            return {"words": read_alignment(path, utterance=native_id)}
        except (OSError, CorpusError, ValueError) as exc:
            return {"alignment_error": f"{path}: {exc}"}


_POSIX = os.sep == "/"  # where a path is absolute exactly when it starts with "/"
_NOT_RELATIVE = ("/", "~")  # on POSIX: an absolute path, or one under a home folder


def audio_path(cell: str, prefix: str) -> str:
    """An audio cell as a path: a relative path is relative to the manifest's folder, which
    ``prefix`` names with its trailing separator (``os.path.join(folder, "")``)."""
    path = cell.strip()
    if _POSIX and not path.startswith(_NOT_RELATIVE):  # relative: the common case, kept cheap
        return prefix + path
    path = os.path.expanduser(path)
    return path if os.path.isabs(path) else prefix + path
