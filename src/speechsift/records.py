"""The record model: where the audio is (``AudioRef``), what one utterance is (``Clip``) and what one
training example is (``Example``), with their Arrow schemas.

Records point at audio and never hold decoded samples (an ``AudioRef`` may hold the encoded file
bytes when a dataset ships them that way). Stages return changed copies (``dataclasses.replace``)
or build new records; they never share mutable state between records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from hashlib import blake2b as _blake2b
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

# Normalized label fields every Clip.meta and Example.meta may carry; one nullable string column
# each in Parquet, so that every part file of every run shares one schema.
# The SIFT-50M binned fields (pitch ... distortion_level) come from measurements (labels.bins);
# label_sources records, for a measured run, which fields came from the corpus or the audio.
META_FIELDS: tuple[str, ...] = (
    "emotion", "gender", "age", "pace", "volume", "accent",
    "pitch", "pitch_variation", "speaking_speed", "intensity", "noise", "label_sources",
    "speech_quality", "reverberation", "distortion_level",
)

# Numeric measurements (Clip.features), named with their unit (features.FEATURE_COLUMNS).
FEATURE_FIELDS: tuple[str, ...] = (
    "duration_s", "speech_duration_s", "rms_db", "relative_db", "clipped_fraction",
    "f0_median_hz", "f0_mean_hz", "f0_std_hz", "f0_std_st", "voiced_fraction",
    "speaking_rate", "syllables_per_s", "snr_db",
    "dnsmos_p808", "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "c50_db", "distortion_sdr_db", "clipping_ratio",
    "bandwidth_hz",
)


def stable_id(*parts: str, length: int = 16) -> str:
    """A short hex digest of ``parts``: the same inputs give the same id on every machine.

    BLAKE2b with a digest of ``length`` hex characters: unkeyed and stable across versions, and
    the cheapest of hashlib's hashes at this size (it runs for every example).
    """
    return _blake2b("\x1f".join(parts).encode(), digest_size=length // 2).hexdigest()  # encode(): UTF-8


class stable_ids:  # noqa: N801 - used as a function
    """``stable_id`` with its first part fixed (a task's name): the same ids, with that part
    hashed once. Copying a primed BLAKE2b state costs less than setting one up, and this runs for
    every example. Pickles as its arguments (a BLAKE2b state does not pickle), so a task holding one
    travels to a worker process or a Ray task."""

    __slots__ = ("_args", "_primed")

    def __init__(self, first: str, length: int = 16) -> None:
        self._args = (first, length)
        self._primed = _blake2b(f"{first}\x1f".encode(), digest_size=length // 2)

    def __call__(self, *rest: str) -> str:
        digest = self._primed.copy()
        digest.update("\x1f".join(rest).encode())
        return digest.hexdigest()

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return stable_ids, self._args


@dataclass(slots=True)
class AudioRef:
    """Where a clip's audio is: a file ``path`` or the encoded ``bytes`` of one, plus a window."""

    path: str | None = None
    bytes: "bytes | None" = None
    sampling_rate: int | None = None
    offset_s: float = 0.0
    duration_s: float | None = None
    channel: int | None = None

    def describe(self) -> str:
        """A short human name for messages (the path, or the size of the embedded bytes)."""
        if self.path:
            return self.path
        return f"<{len(self.bytes or b'')} embedded bytes>"


@dataclass(slots=True)
class Clip:
    """One utterance. ``raw`` keeps the corpus's labels as given; ``meta`` the normalized ones."""

    clip_id: str
    source: str
    audio: AudioRef
    language: str | None = None
    speaker_id: str | None = None
    text: str | None = None
    raw: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    features: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Part:
    """One piece of a message's content: text, or a reference to the example's ``audios[index]``."""

    type: Literal["text", "audio"]
    text: str | None = None
    audio: int | None = None

    @staticmethod
    def of_text(text: str) -> "Part":
        return Part("text", text=text)

    @staticmethod
    def of_audio(index: int) -> "Part":
        return Part("audio", audio=index)


@dataclass(slots=True)
class Message:
    """One turn of a training conversation; audio is referenced by index, never by a placeholder."""

    role: Literal["system", "user", "assistant"]
    content: list[Part]

    def text(self) -> str:
        """The text parts joined, audio parts left out."""
        return "".join(p.text or "" for p in self.content if p.type == "text")


@dataclass(slots=True)
class Generation:
    """Provenance of an example's response: who wrote it and exactly what was asked."""

    backend: str  # "direct" when the target comes from the corpus, "template", "openai", ...
    model: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    sample_index: int = 0
    llm_messages: list[dict[str, str]] = field(default_factory=list)
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    truncated: bool = False


@dataclass(slots=True)
class Example:
    """One training example. ``request`` is transient: the LLM request still to be answered."""

    id: str
    task: str
    clip_ids: list[str]
    audios: list[AudioRef]
    instruction: str
    response: str | None
    messages: list[Message]
    source: str
    language: str | None
    meta: dict[str, str] = field(default_factory=dict)
    speaker_id: str | None = None
    transcript: str | None = None
    duration_s: float | None = None
    split: str = "train"
    generation: Generation | None = None
    quality: dict[str, float] = field(default_factory=dict)
    request: Any = None
    # Each audio's transcript, in the order of ``audios``, where the example has several (pairs);
    # ``audio_transcripts`` gives every audio's.
    transcripts: list[str | None] = field(default_factory=list)

    def audio_transcripts(self) -> list[str | None]:
        """The transcript of each audio, in the order of ``audios``: ``transcripts`` where given,
        the turn's text for the audio of a spoken response, else ``transcript``."""
        spoken = {p.audio: m.text() for m in self.messages if m.role == "assistant" and m.text()
                  for p in m.content if p.type == "audio"}
        return [self.transcripts[i] if i < len(self.transcripts) else spoken.get(i, self.transcript)
                for i in range(len(self.audios))]

    # Task-specific facts of any shape (JSON in Parquet): a synthesized instruction's lineage (seed,
    # round, mutation, who wrote it), a preference pair's rejected response, configs and verdict.
    extra: dict[str, Any] = field(default_factory=dict)


# --- Arrow schemas ---------------------------------------------------------------------------

AUDIO_REF_TYPE = pa.struct(
    [
        ("path", pa.string()),
        ("bytes", pa.binary()),
        ("sampling_rate", pa.int32()),
        ("offset_s", pa.float64()),
        ("duration_s", pa.float64()),
        ("channel", pa.int32()),
    ]
)
META_TYPE = pa.struct([(name, pa.string()) for name in META_FIELDS])
FEATURES_TYPE = pa.struct([(name, pa.float64()) for name in FEATURE_FIELDS])
PART_TYPE = pa.struct([("type", pa.string()), ("text", pa.string()), ("audio", pa.int32())])
MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.list_(PART_TYPE))])
LLM_MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.string())])
GENERATION_TYPE = pa.struct(
    [
        ("backend", pa.string()),
        ("model", pa.string()),
        ("temperature", pa.float64()),
        ("top_p", pa.float64()),
        ("max_tokens", pa.int32()),
        ("seed", pa.int64()),
        ("sample_index", pa.int32()),
        ("llm_messages", pa.list_(LLM_MESSAGE_TYPE)),
        ("finish_reason", pa.string()),
        ("prompt_tokens", pa.int64()),
        ("completion_tokens", pa.int64()),
        ("truncated", pa.bool_()),
    ]
)

CLIP_SCHEMA = pa.schema(
    [
        ("clip_id", pa.string()),
        ("source", pa.string()),
        ("language", pa.string()),
        ("audio", AUDIO_REF_TYPE),
        ("speaker_id", pa.string()),
        ("text", pa.string()),
        ("raw", pa.map_(pa.string(), pa.string())),
        ("meta", META_TYPE),
        ("features", FEATURES_TYPE),
        ("extra", pa.string()),  # JSON: task-specific values of any shape
    ]
)

EXAMPLE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("task", pa.string()),
        ("source", pa.string()),
        ("language", pa.string()),
        ("split", pa.string()),
        ("clip_ids", pa.list_(pa.string())),
        ("audios", pa.list_(AUDIO_REF_TYPE)),
        ("instruction", pa.string()),
        ("response", pa.string()),
        ("messages", pa.list_(MESSAGE_TYPE)),
        ("meta", META_TYPE),
        ("speaker_id", pa.string()),
        ("transcript", pa.string()),
        ("transcripts", pa.list_(pa.string())),
        ("duration_s", pa.float64()),
        ("generation", GENERATION_TYPE),
        ("extra", pa.string()),  # JSON: task-specific values of any shape (Example.extra)
    ]
)


def _audio_row(ref: AudioRef) -> dict[str, Any]:
    return {
        "path": ref.path,
        "bytes": ref.bytes,
        "sampling_rate": ref.sampling_rate,
        "offset_s": ref.offset_s,
        "duration_s": ref.duration_s,
        "channel": ref.channel,
    }


def _audio_from_row(row: dict[str, Any]) -> AudioRef:
    return AudioRef(
        path=row["path"],
        bytes=row["bytes"],
        sampling_rate=row["sampling_rate"],
        offset_s=row["offset_s"] or 0.0,
        duration_s=row["duration_s"],
        channel=row["channel"],
    )


def _meta_row(meta: dict[str, str]) -> dict[str, str | None]:
    return {name: meta.get(name) for name in META_FIELDS}


def _drop_none(row: dict[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (row or {}).items() if v is not None}


def clip_to_row(clip: Clip) -> dict[str, Any]:
    return {
        "clip_id": clip.clip_id,
        "source": clip.source,
        "language": clip.language,
        "audio": _audio_row(clip.audio),
        "speaker_id": clip.speaker_id,
        "text": clip.text,
        "raw": list(clip.raw.items()),
        "meta": _meta_row(clip.meta),
        "features": {name: clip.features.get(name) for name in FEATURE_FIELDS},
        "extra": json.dumps(clip.extra, ensure_ascii=False, sort_keys=True),
    }


def clip_from_row(row: dict[str, Any]) -> Clip:
    return Clip(
        clip_id=row["clip_id"],
        source=row["source"],
        language=row["language"],
        audio=_audio_from_row(row["audio"]),
        speaker_id=row["speaker_id"],
        text=row["text"],
        raw=dict(row["raw"] or []),
        meta=_drop_none(row["meta"]),
        features=_drop_none(row["features"]),
        extra=json.loads(row["extra"] or "{}"),
    )


def clips_to_arrow(clips: list[Clip]) -> pa.Table:
    return pa.Table.from_pylist([clip_to_row(c) for c in clips], schema=CLIP_SCHEMA)


def clips_from_arrow(table: pa.Table) -> list[Clip]:
    return [clip_from_row(row) for row in table.to_pylist()]


def _message_row(message: Message) -> dict[str, Any]:
    return {
        "role": message.role,
        "content": [{"type": p.type, "text": p.text, "audio": p.audio} for p in message.content],
    }


def _message_from_row(row: dict[str, Any]) -> Message:
    return Message(row["role"], [Part(p["type"], p["text"], p["audio"]) for p in row["content"]])


def _generation_row(gen: Generation | None) -> dict[str, Any] | None:
    if gen is None:
        return None
    return {
        "backend": gen.backend,
        "model": gen.model,
        "temperature": gen.temperature,
        "top_p": gen.top_p,
        "max_tokens": gen.max_tokens,
        "seed": gen.seed,
        "sample_index": gen.sample_index,
        "llm_messages": gen.llm_messages,
        "finish_reason": gen.finish_reason,
        "prompt_tokens": gen.prompt_tokens,
        "completion_tokens": gen.completion_tokens,
        "truncated": gen.truncated,
    }


def example_to_row(example: Example) -> dict[str, Any]:
    return {
        "id": example.id,
        "task": example.task,
        "source": example.source,
        "language": example.language,
        "split": example.split,
        "clip_ids": example.clip_ids,
        "audios": [_audio_row(a) for a in example.audios],
        "instruction": example.instruction,
        "response": example.response,
        "messages": [_message_row(m) for m in example.messages],
        "meta": _meta_row(example.meta),
        "speaker_id": example.speaker_id,
        "transcript": example.transcript,
        "transcripts": example.audio_transcripts(),
        "duration_s": example.duration_s,
        "generation": _generation_row(example.generation),
        "extra": json.dumps(example.extra, ensure_ascii=False, sort_keys=True) if example.extra else None,
    }


def example_from_row(row: dict[str, Any]) -> Example:
    gen = row.get("generation")
    return Example(
        id=row["id"],
        task=row["task"],
        source=row["source"],
        language=row["language"],
        split=row["split"],
        clip_ids=list(row["clip_ids"]),
        audios=[_audio_from_row(a) for a in row["audios"]],
        instruction=row["instruction"],
        response=row["response"],
        messages=[_message_from_row(m) for m in row["messages"]],
        meta=_drop_none(row["meta"]),
        speaker_id=row["speaker_id"],
        transcript=row["transcript"],
        duration_s=row["duration_s"],
        generation=Generation(**gen) if gen else None,
        transcripts=list(row.get("transcripts") or []),
        extra=json.loads(row["extra"]) if row.get("extra") else {},
    )


def examples_to_arrow(examples: list[Example]) -> pa.Table:
    return pa.Table.from_pylist([example_to_row(e) for e in examples], schema=EXAMPLE_SCHEMA)


def examples_from_arrow(table: pa.Table) -> list[Example]:
    """The examples of a table of ``EXAMPLE_SCHEMA``'s columns (``generation``, ``transcripts``,
    ``extra`` may be left out), the same as ``example_from_row`` on each row, decoded column by
    column: a nested column becomes flat Python lists and the records are cut from them by
    offsets, instead of a dict per row and per nested value (about twice as fast; the release
    decodes every example it curates and every one it exports)."""
    n = table.num_rows
    if n == 0:
        return []
    names = set(table.column_names)

    def column(name: str) -> pa.Array:
        chunked = table.column(name)
        return chunked.chunk(0) if chunked.num_chunks == 1 else chunked.combine_chunks()

    def values(name: str) -> list:
        return column(name).to_pylist() if name in names else [None] * n

    def lists(array: pa.Array) -> tuple[list[int], pa.Array]:
        """A list array's offsets (into its unsliced ``values``; a null list is empty) and values."""
        if array.null_count:
            array = pc.fill_null(array, pa.scalar([], array.type))
        return array.offsets.to_pylist(), array.values

    offsets, flat = lists(column("audios"))
    fields = [flat.field(name).to_pylist() for name in ("path", "bytes", "sampling_rate", "offset_s", "duration_s",
                                                        "channel")]
    refs = [AudioRef(path, data, rate, start or 0.0, length, channel) for path, data, rate, start, length, channel
            in zip(*fields)]
    audios = [refs[offsets[i]:offsets[i + 1]] for i in range(n)]
    offsets, flat = lists(column("messages"))
    roles = flat.field("role").to_pylist()
    part_offsets, parts = lists(flat.field("content"))
    content = [Part(kind, text, audio) for kind, text, audio
               in zip(*(parts.field(name).to_pylist() for name in ("type", "text", "audio")))]
    turns = [Message(role, content[part_offsets[j]:part_offsets[j + 1]]) for j, role in enumerate(roles)]
    messages = [turns[offsets[i]:offsets[i + 1]] for i in range(n)]
    meta = column("meta")
    keys = [f.name for f in meta.type]
    valid = meta.is_valid().to_pylist() if meta.null_count else [True] * n
    rows = zip(*(field.to_pylist() for field in meta.flatten())) if keys else [()] * n
    metas = [{k: v for k, v in zip(keys, row) if v is not None} if ok else {} for ok, row in zip(valid, rows)]
    generations, extras, transcripts = values("generation"), values("extra"), values("transcripts")
    return [
        Example(id=id_, task=task, source=source, language=language, split=split, clip_ids=list(clips),
                audios=audios[i], instruction=instruction, response=response, messages=messages[i], meta=metas[i],
                speaker_id=speaker, transcript=transcript, duration_s=duration,
                generation=Generation(**generations[i]) if generations[i] else None,
                transcripts=list(transcripts[i] or []), extra=json.loads(extras[i]) if extras[i] else {})
        for i, (id_, task, source, language, split, clips, instruction, response, speaker, transcript, duration)
        in enumerate(zip(*(values(name) for name in ("id", "task", "source", "language", "split", "clip_ids",
                                                      "instruction", "response", "speaker_id", "transcript",
                                                      "duration_s"))))
    ]
