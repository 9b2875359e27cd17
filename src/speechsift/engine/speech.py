"""The speech-synthesis stages: text records given a voice, and responses spoken.

- ``Synthesize`` (stage ``tts``, on clips, before the audio is probed): a text record
  (``sources.text``) of a source that feeds a task taking spoken records (``Task.inputs``) gets a
  voice from the pool (``tts.voices``) and its user turns spoken. The record becomes a clip like any
  other: its audio is the first user turn, its speaker ``tts/<voice>``, its labels the voice's
  (``gender``, ``accent``, ``age``; ``label_sources`` says ``synthesized``), so the probe and
  enrich stages check and measure it as they do a corpus clip. The other user turns (and the
  context, where a task voices it) are in ``extra["speech"]``.
- ``SpeakResponses`` (stage ``tts_response``, on examples, after generation): for the tasks with
  ``speak_response: true``, every assistant text turn gets an audio part beside its text, spoken by
  a voice of ``tts.response_voices`` (default: the pool).

Both send their utterances through one ``Synthesizer`` (cache, dedup, checks); a record or example
whose speech fails is a reject with the synthesizer's reason, and its counters go to
``run.json``'s ``tts``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from speechsift.engine.context import ShardContext
from speechsift.engine.stages import Stage, record_id
from speechsift.errors import Reject
from speechsift.records import AudioRef, Clip, Example, Message, Part
from speechsift.sources.text import SPEECH_KEY, TextRecord, record_kind
from speechsift.tasks import get_task
from speechsift.tts import SpeechRequest, Synthesizer, UtteranceCache, Voice, VoicePool, make_tts_backend, make_voices

if TYPE_CHECKING:
    from speechsift.engine.layout import OutputLayout
    from speechsift.recipe import Recipe, TTSConfig

# What a stage's record becomes: (its voice, the audio of each of its texts), or a reject.
Spoken = tuple[Voice, list[AudioRef]]


class SpeechStage(Stage):
    """The plumbing both speech stages share: a voice per record from the pool, every record's
    texts synthesized in one batch, and each record's outcome. A subclass picks the records and
    their texts, and builds what a voiced record becomes."""

    def __init__(self, synthesizer: Synthesizer, pool: VoicePool, field: str) -> None:
        self.synthesizer = synthesizer
        self.pool = pool
        self.field = field  # the recipe field that holds the pool, for messages

    def speak(self, items: Sequence[tuple[int, str, str | None, list[str]]], ctx: ShardContext) -> dict[int, Spoken | Reject]:
        """``(index, record id, language, texts)`` each -> its voice and audio, or a Reject."""
        voices = self.pool.assign([(record_id, language) for _, record_id, language, _ in items])
        plans: dict[int, tuple[Voice, int, int]] = {}  # index -> voice, first request, count
        requests: list[SpeechRequest] = []
        outcomes: dict[int, Spoken | Reject] = {}
        for (index, record_id, language, texts), voice in zip(items, voices):
            if voice is None:
                outcomes[index] = self._no_voice(language)
                continue
            settings = voice.settings(record_id, self.pool.seed)
            plans[index] = (voice, len(requests), len(texts))
            requests += [SpeechRequest(text, voice.id, settings, language) for text in texts]
        spoken = self.synthesizer.synthesize(requests, ctx.tts)
        for index, (voice, start, count) in plans.items():
            mine = spoken[start:start + count]
            failed = next((u for u in mine if u.audio is None), None)
            outcomes[index] = (voice, [u.audio for u in mine]) if failed is None else Reject(  # type: ignore[misc]
                failed.reason or "tts_failed", failed.message or "")
        return outcomes

    def _no_voice(self, language: str | None) -> Reject:
        if not language:
            return Reject("unknown_language", f"the text has no language, so no voice of {self.field} can be "
                                              "chosen; set the source's `language`")
        return Reject("no_voice_for_language", f"no voice of {self.field} speaks {language!r} (the pool speaks "
                                               f"{', '.join(self.pool.languages)}); add one to {self.field}")

    def run(self, records: list[Any], ctx: ShardContext) -> list[Any]:
        stats = ctx.stats(self.name)
        stats.inputs += len(records)
        items = [item for index, record in enumerate(records) if (item := self.texts(index, record)) is not None]
        outcomes = self.speak(items, ctx) if items else {}
        kept = []
        for index, record in enumerate(records):
            outcome = outcomes.get(index)
            if isinstance(outcome, Reject):
                ctx.reject(self.name, record_id(record), outcome.reason, outcome.message, **self.reject_extra(record))
                continue
            kept.append(record if outcome is None else self.voiced(record, *outcome))
        stats.outputs += len(kept)
        return kept

    def texts(self, index: int, record: Any) -> tuple[int, str, str | None, list[str]] | None:
        """``(index, record id, language, texts to speak)``, or None for a record left as it is."""
        raise NotImplementedError

    def voiced(self, record: Any, voice: Voice, audios: list[AudioRef]) -> Any:
        raise NotImplementedError


class Synthesize(SpeechStage):
    name = "tts"

    def __init__(self, synthesizer: Synthesizer, pool: VoicePool, sources: frozenset[str],
                 context_sources: frozenset[str]) -> None:
        super().__init__(synthesizer, pool, "tts.voices")
        self.sources = sources  # the text sources whose records are voiced
        self.context_sources = context_sources  # where an instruction's context is spoken too

    def texts(self, index: int, clip: Clip) -> tuple[int, str, str | None, list[str]] | None:
        """What the record's speaker says: its user turns, then its context where that is voiced."""
        if record_kind(clip) != "text" or clip.source not in self.sources:
            return None
        record = TextRecord.of(clip)
        turns = [t["content"] for t in record.messages if t["role"] == "user"] or [record.instruction]
        if record.input and clip.source in self.context_sources:
            turns.append(record.input)
        return index, clip.clip_id, clip.language, turns

    def voiced(self, clip: Clip, voice: Voice, audios: list[AudioRef]) -> Clip:
        record = TextRecord.of(clip)
        turns = sum(1 for t in record.messages if t["role"] == "user") or 1
        speech: dict[str, Any] = {"voice": voice.name, "settings": dict(voice.settings(clip.clip_id, self.pool.seed)),
                                  "turns": [a.path for a in audios[1:turns]]}
        if len(audios) > turns:
            speech["context"] = audios[turns].path
        meta = {**clip.meta, **dict(voice.labels)}
        if voice.labels:
            meta["label_sources"] = ",".join(f"{field}:synthesized" for field, _ in voice.labels)
        return Clip(clip.clip_id, clip.source, audios[0], clip.language, f"tts/{voice.name}", clip.text, clip.raw,
                    meta, clip.features, {**clip.extra, SPEECH_KEY: speech})


class SpeakResponses(SpeechStage):
    name = "tts_response"

    def __init__(self, synthesizer: Synthesizer, pool: VoicePool, tasks: frozenset[str]) -> None:
        super().__init__(synthesizer, pool, "tts.response_voices")
        self.tasks = tasks

    def texts(self, index: int, example: Example) -> tuple[int, str, str | None, list[str]] | None:
        if example.task not in self.tasks:
            return None
        return index, example.id, example.language, [m.text() for m in example.messages if self._spoken(m)]

    @staticmethod
    def _spoken(message: Message) -> bool:
        return message.role == "assistant" and bool(message.text().strip())

    def voiced(self, example: Example, voice: Voice, audios: list[AudioRef]) -> Example:
        return with_spoken_turns(example, [t for t, m in enumerate(example.messages) if self._spoken(m)], audios)

    def reject_extra(self, example: Example) -> dict[str, Any]:
        return {"source": example.source, "task": example.task}


def with_spoken_turns(example: Example, turns: list[int], audios: Sequence[AudioRef]) -> Example:
    """``example`` with an audio part after the text of each of ``turns`` (its messages' indices).
    Audio indices are renumbered in the order the parts appear, as exports that count
    placeholders (the messages format) expect."""
    spoken = dict(zip(turns, audios))
    refs: list[AudioRef] = []
    messages = []
    for index, message in enumerate(example.messages):
        content = []
        for part in message.content:
            if part.type == "audio":
                refs.append(example.audios[part.audio or 0])
                part = Part.of_audio(len(refs) - 1)
            content.append(part)
        if index in spoken:
            refs.append(spoken[index])
            content.append(Part.of_audio(len(refs) - 1))
        messages.append(Message(message.role, content))
    return replace(example, messages=messages, audios=refs)


def _spoken_sources(recipe: "Recipe") -> frozenset[str] | None:
    """The text sources whose records are voiced: those feeding a task that takes spoken records."""
    text_sources = {s.name for s in recipe.sources if s.kind == "text"}
    voiced: set[str] = set()
    for spec in recipe.task_specs:
        if "spoken" in get_task(spec.name).inputs:
            voiced |= text_sources if spec.sources is None else text_sources & set(spec.sources)
    return frozenset(voiced)


def _context_sources(recipe: "Recipe") -> frozenset[str]:
    """The sources where a task voices the context of an instruction (``spoken_instruction``'s
    ``context: voiced``)."""
    names: set[str] = set()
    for spec in recipe.task_specs:
        if spec.options.get("context") == "voiced" and "spoken" in get_task(spec.name).inputs:
            names |= {s.name for s in recipe.sources} if spec.sources is None else set(spec.sources)
    return frozenset(names)


def tts_config(recipe: "Recipe") -> "TTSConfig":
    from speechsift.recipe import TTSConfig

    return recipe.tts or TTSConfig()


def speech_stages(recipe: "Recipe", layout: "OutputLayout") -> tuple[Synthesize | None, SpeakResponses | None]:
    """The recipe's speech stages (None where it needs none); voices are checked to be installed
    here, before any work (a ``ConfigError`` naming the voice and how to install it)."""
    voiced = _spoken_sources(recipe)
    speaking = frozenset(spec.name for spec in recipe.task_specs if spec.speak_response)
    if not voiced and not speaking:
        return None, None
    config = tts_config(recipe)
    backend = make_tts_backend(config)
    pool = VoicePool(make_voices(config, backend), config.seed)
    synthesizer = Synthesizer(backend, UtteranceCache(config.cache or layout.work / "tts"), max_chars=config.max_chars,
                              split=config.long_text == "split")
    synthesize = Synthesize(synthesizer, pool, voiced, _context_sources(recipe)) if voiced else None
    speak = SpeakResponses(synthesizer, pool.subset(config.response_voices, "tts.response_voices"), speaking) if speaking else None
    return synthesize, speak


__all__ = ["SpeakResponses", "Synthesize", "speech_stages", "with_spoken_turns"]
