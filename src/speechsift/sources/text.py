"""The ``text`` source: instruction data that has no audio (yet).

Reads JSONL, JSON (an array of objects, or JSON lines), CSV and TSV files, and Hugging Face
datasets (a ``save_to_disk`` folder, Parquet/Arrow files, or a hub id the user names). A row is
an instruction (``instruction``, optional ``input``/``context``, ``response``, ``category``) or a
conversation (``messages`` / ShareGPT ``conversations``). Columns are found by their usual names
(``TEXT_FIELD_ALIASES``) or mapped with the recipe's ``fields``; label columns (``gender``,
``emotion``, ...) and ``language``/``speaker``/``id`` are read exactly as manifests read them
(``sources.base.RowReader``), so the normalize stage treats them the same way.

Records. A text row becomes a ``Clip`` without audio (``AudioRef()``: no path, no bytes), so the
engine keeps DESIGN.md's two records and every clip stage, shard and resume rule applies as is:

- ``clip.text`` is the instruction: the (first) user turn, the words a speaker would say;
- ``clip.extra["text_record"]`` holds the row's instruction fields (``TextRecord``: read them with
  ``TextRecord.of(clip)``; ``TextRecord.turns()`` gives every row as role/content turns);
- ``clip.raw`` / ``clip.meta`` hold its labels, as for any clip.

``record_kind(clip)`` tells the three kinds of record apart: ``"audio"`` (a clip of a speech
corpus), ``"text"`` (a text record as read) and ``"spoken"`` (a text record that speech synthesis
gave audio: its instruction, spoken). A task says which kinds it builds from (``Task.inputs``);
the stages that need audio pass text records through untouched.

Rows refused: ``missing_instruction`` (neither an instruction nor a conversation),
``bad_messages`` (a conversation that is not a list of user/assistant turns), and the file-level
``bad_row`` / ``undecodable_text`` of manifests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsift.errors import CorpusError
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import FIELD_ALIASES, LABEL_FIELDS, RejectedRow, RowReader, _cell

EXTRA_KEY = "text_record"  # where a text record keeps its instruction fields in Clip.extra
SPEECH_KEY = "speech"  # where a voiced text record keeps its voice and its other spoken turns (engine.speech)

# Column names recognized without a `fields` mapping, per field, in order of preference. From the
# instruction sets users bring: Alpaca and Dolly (instruction, input/context, output/response,
# category), OpenAI/LLaMA-Factory chat data (messages), ShareGPT (conversations), question sets.
TEXT_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": FIELD_ALIASES["id"],
    "instruction": ("instruction", "prompt", "question", "query", "text"),
    "input": ("input", "context"),
    "response": ("response", "output", "completion", "answer", "target"),
    "category": ("category",),
    "messages": ("messages", "conversations", "conversation"),
    "speaker": FIELD_ALIASES["speaker"],
    "language": FIELD_ALIASES["language"],
    **{field: FIELD_ALIASES[field] for field in LABEL_FIELDS},
}

# Conversation roles as datasets spell them (OpenAI "role", ShareGPT "from") -> ours.
ROLES: dict[str, str] = {
    "user": "user", "human": "user",
    "assistant": "assistant", "gpt": "assistant", "model": "assistant", "bot": "assistant", "chatgpt": "assistant",
    "system": "system",
}


@dataclass(frozen=True, slots=True)
class TextRecord:
    """A text record's instruction fields (``Clip.extra["text_record"]``).

    Attributes:
        instruction: the (first) user turn.
        input: context that goes with the instruction (Alpaca ``input``, Dolly ``context``).
        response: the target: the row's response, or a conversation's last assistant turn.
        category: the row's category (Dolly's ``open_qa``, ``brainstorming``, ...).
        messages: a conversation's turns in order, ``{"role", "content"}`` each (empty for a
            single instruction).
    """

    instruction: str
    input: str | None = None
    response: str | None = None
    category: str | None = None
    messages: tuple[dict[str, str], ...] = ()

    @classmethod
    def of(cls, clip: Clip) -> "TextRecord":
        """The record of a text clip; ``KeyError`` for a clip that is not one."""
        data = clip.extra[EXTRA_KEY]
        return cls(data["instruction"], data.get("input"), data.get("response"), data.get("category"),
                   tuple(data.get("messages") or ()))

    def to_extra(self) -> dict[str, Any]:
        data: dict[str, Any] = {"instruction": self.instruction}
        for name in ("input", "response", "category"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.messages:
            data["messages"] = [dict(turn) for turn in self.messages]
        return data

    def turns(self) -> list[dict[str, str]]:
        """The record as role/content turns: a conversation as given; an instruction as one user
        turn (its input after a blank line) and, when there is one, the response."""
        if self.messages:
            return [dict(turn) for turn in self.messages]
        user = self.instruction if not self.input else f"{self.instruction}\n\n{self.input}"
        turns = [{"role": "user", "content": user}]
        if self.response is not None:
            turns.append({"role": "assistant", "content": self.response})
        return turns


def is_text_record(clip: Clip) -> bool:
    return EXTRA_KEY in clip.extra


def record_kind(clip: Clip) -> str:
    """``"audio"`` (a corpus clip), ``"text"`` (a text record) or ``"spoken"`` (a text record with
    synthesized audio)."""
    if EXTRA_KEY not in clip.extra:
        return "audio"
    return "text" if clip.audio.path is None and clip.audio.bytes is None else "spoken"


def spoken_turns(clip: Clip) -> tuple[list[AudioRef], AudioRef | None]:
    """A voiced text record's audio for each user turn (the first is ``clip.audio``), and its
    context's when that was voiced."""
    speech = clip.extra.get(SPEECH_KEY) or {}
    context = speech.get("context")
    return [clip.audio, *(AudioRef(path) for path in speech.get("turns", []))], AudioRef(context) if context else None


def parse_messages(value: Any) -> list[dict[str, str]]:
    """A conversation cell as ``[{"role", "content"}, ...]``; ``ValueError`` saying what is wrong.

    Takes a list (or its JSON text) of OpenAI-style ``{"role", "content"}`` turns (content a string
    or a list of ``{"type": "text", "text"}`` parts) or ShareGPT ``{"from", "value"}`` turns.
    System turns may only open the conversation; then user and assistant turns alternate, user
    first.
    """
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError("not a non-empty list of turns")
    turns: list[dict[str, str]] = []
    for number, turn in enumerate(value, start=1):
        if not isinstance(turn, Mapping):
            raise ValueError(f"turn {number} is not an object")
        spelled = turn.get("role", turn.get("from"))
        role = ROLES.get(str(spelled).strip().lower()) if spelled is not None else None
        if role is None:
            raise ValueError(f"turn {number} has role {spelled!r}; the roles are {', '.join(sorted(set(ROLES)))}")
        content = _turn_text(turn.get("content", turn.get("value")))
        if content is None:
            raise ValueError(f"turn {number} ({role}) has no text content")
        expected = "user" if not turns or turns[-1]["role"] in ("system", "assistant") else "assistant"
        if role != expected and not (role == "system" and all(t["role"] == "system" for t in turns)):
            raise ValueError(f"turn {number} is a {role} turn where a {expected} turn belongs "
                             "(system turns open a conversation, then user and assistant alternate)")
        turns.append({"role": role, "content": content})
    if not any(t["role"] == "user" for t in turns):
        raise ValueError("it has no user turn")
    return turns


def _turn_text(content: Any) -> str | None:
    """A turn's text: a string, or the text parts of a list of content parts; None if empty or
    if it holds parts that are not text (images, audio, tool calls)."""
    if isinstance(content, (list, tuple)):
        texts = []
        for part in content:
            if not isinstance(part, Mapping) or part.get("type", "text") != "text" or not isinstance(part.get("text"), str):
                return None
            texts.append(part["text"])
        content = "".join(texts)
    if not isinstance(content, str) or not content.strip():
        return None
    return content.strip()


class TextRowReader(RowReader):
    """One row of instruction data -> a text record (a ``Clip`` without audio) or a RejectedRow."""

    def __init__(self, header: Sequence[str], mapping: Mapping[str, str], origin: str, *, source: str,
                 language: str | None) -> None:
        super().__init__(header, mapping, origin, source=source, language=language, base_dir=None,
                         need_audio=False, aliases=TEXT_FIELD_ALIASES)
        if "instruction" not in self.index and "messages" not in self.index:
            raise CorpusError(
                f"{origin}: no instruction column; name it `instruction` (or `prompt`, `question`), give a "
                f"conversation column `messages`, or map yours with `fields: {{instruction: <column>}}` "
                f"(the columns are {', '.join(self.header)})."
            )

    def _text(self, values: Sequence[Any], field: str) -> str | None:
        at = self.index.get(field)
        value = _cell(values[at]) if at is not None else None
        return value.strip() if value is not None else None

    def clip(self, values: Sequence[Any], number: int, audio: AudioRef | None = None) -> Clip | RejectedRow:
        if len(values) < self.width:  # a short row: the cells it lacks are empty
            values = [*values, *([None] * (self.width - len(values)))]
        native_id = self.native_id(values, number)
        clip_id = f"{self.source}/{native_id}"
        where = f"{self.origin} row {number}"
        messages_at = self.index.get("messages")
        conversation = values[messages_at] if messages_at is not None else None
        if conversation is not None and not (isinstance(conversation, str) and not conversation.strip()):
            try:
                turns = parse_messages(conversation)
            except ValueError as exc:
                return RejectedRow(clip_id, self.source, "bad_messages", f"{where}: unusable conversation: {exc}")
            instruction = next(t["content"] for t in turns if t["role"] == "user")
            response = turns[-1]["content"] if turns[-1]["role"] == "assistant" else None
            record = TextRecord(instruction, None, response, self._text(values, "category"), tuple(turns))
        else:
            instruction = self._text(values, "instruction")
            if not instruction:
                return RejectedRow(clip_id, self.source, "missing_instruction",
                                   f"{where}: row {native_id} has neither an instruction nor a conversation")
            record = TextRecord(instruction, self._text(values, "input") or None, self._text(values, "response"),
                                self._text(values, "category"))
        language = self._text(values, "language") or self.language
        return Clip(clip_id, self.source, AudioRef(), language, self._text(values, "speaker"), record.instruction,
                    self.raw_labels(values), {}, {}, {EXTRA_KEY: record.to_extra()})


def _json_array_rows(path: Path, make_reader, encoding: str) -> Iterator[Clip | RejectedRow]:
    """A ``.json`` file holding one array of objects (Alpaca's ``alpaca_data.json``)."""
    from speechsift.sources.manifest import text_codec

    try:
        rows = json.loads(path.read_text(encoding=text_codec(encoding)))
    except UnicodeDecodeError:
        raise CorpusError(f"{path}: the file is not {encoding} text; set `encoding:` on the source.") from None
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
    header: list[str] = []
    for row in rows[:100]:
        if isinstance(row, dict):
            header.extend(k for k in row if k not in header)
    if not header:
        raise CorpusError(f"{path}: the array holds no JSON objects.")
    reader: RowReader = make_reader(header)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            yield RejectedRow(f"{reader.source}/row{number}", reader.source, "bad_row",
                              f"{path} item {number} is not a JSON object")
            continue
        yield reader.clip(reader.values(row), number)


def _starts_with_array(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def read_text(
    *, source: str, path: str | Path | None = None, dataset: str | None = None, config: str | None = None,
    split: str = "train", language: str | None = None, fields: dict[str, str] | None = None,
    encoding: str = "utf-8", delimiter: str | None = None,
) -> Iterator[Clip | RejectedRow]:
    """Text records from a file, a local dataset folder or a hub dataset; unreadable rows come out
    as ``RejectedRow``s. Files are read as manifests are (``manifest.read_rows``: ``encoding``, a
    sniffed or given CSV ``delimiter``, oversized cells and unreadable rows as rejects)."""
    from speechsift.sources.manifest import read_rows

    local = Path(path) if path is not None else None
    origin = str(local) if local is not None else f"hub dataset {dataset}"

    def make_reader(header: Sequence[str]) -> TextRowReader:
        return TextRowReader(header, fields or {}, origin, source=source, language=language)

    suffix = local.suffix.lower() if local is not None else ""
    if local is None or local.is_dir() or suffix in (".parquet", ".arrow"):
        return _dataset_rows(local, dataset, config, split, make_reader)
    if not local.is_file():
        raise CorpusError(f"{local}: no such file (source {source!r}); check sources[].path.")
    if suffix == ".json" and _starts_with_array(local):
        return _json_array_rows(local, make_reader, encoding)
    if suffix in (".jsonl", ".json", ".ndjson", ".csv", ".tsv"):
        return read_rows(local, make_reader, source=source, encoding=encoding, delimiter=delimiter)
    raise CorpusError(f"{local}: text data is a .jsonl, .json, .csv or .tsv file, or a dataset folder "
                      f"(source {source!r}).")


def _dataset_rows(path: Path | None, dataset: str | None, config: str | None, split: str,
                  make_reader) -> Iterator[Clip | RejectedRow]:
    from speechsift.sources.hf import load_hf_dataset

    ds = load_hf_dataset(path=path, dataset=dataset, config=config, split=split)
    reader = make_reader(ds.column_names)
    for number, row in enumerate(ds, start=1):
        yield reader.clip(reader.values(row), number)


__all__ = ["TEXT_FIELD_ALIASES", "TextRecord", "TextRowReader", "is_text_record", "parse_messages", "read_text",
           "record_kind", "spoken_turns"]
