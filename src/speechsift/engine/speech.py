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
from speechsift.engine.stages import Stage
from speechsift.records import AudioRef, Clip, Example, Message, Part
from speechsift.sources.text import SPEECH_KEY, TextRecord, record_kind
from speechsift.tasks import get_task
from speechsift.tts import SpeechRequest, Synthesizer, UtteranceCache, Voice, VoicePool, make_tts_backend, make_voices

if TYPE_CHECKING:
    from speechsift.engine.layout import OutputLayout
    from speechsift.recipe import Recipe, TTSConfig

def no_voice(language: str | None, pool: VoicePool, field: str) -> tuple[str, str]:
    if not language:
        return "unknown_language", f"the text has no language, so no voice of {field} can be chosen; set the source's `language`"
    return "no_voice_for_language", (f"no voice of {field} speaks {language!r} (the pool speaks "
                                     f"{', '.join(pool.languages)}); add one to {field}")


class Synthesize(Stage):
    name = "tts"

    def __init__(self, synthesizer: Synthesizer, pool: VoicePool, sources: frozenset[str] | None,
                 context_sources: frozenset[str] | None) -> None:
        self.synthesizer = synthesizer
        self.pool = pool
        self.sources = sources  # None: every source
        self.context_sources = context_sources  # where the context is spoken too (None: everywhere)

    def _mine(self, clip: Clip) -> bool:
        return record_kind(clip) == "text" and (self.sources is None or clip.source in self.sources)

    def run(self, clips: list[Clip], ctx: ShardContext) -> list[Clip]:
        stats = ctx.stats(self.name)
        stats.inputs += len(clips)
        todo = [i for i, clip in enumerate(clips) if self._mine(clip)]
        if not todo:
            stats.outputs += len(clips)
            return clips
        voices = self.pool.assign([(clips[i].clip_id, clips[i].language) for i in todo])
        plans: dict[int, tuple[Voice, int, int, bool]] = {}  # clip index -> voice, first request, turns, context
        requests: list[SpeechRequest] = []
        refused: dict[int, tuple[str, str]] = {}
        for i, voice in zip(todo, voices):
            clip = clips[i]
            if voice is None:
                refused[i] = no_voice(clip.language, self.pool, "tts.voices")
                continue
            turns, context = self._texts(clip)
            settings = voice.settings(clip.clip_id, self.pool.seed)
            plans[i] = (voice, len(requests), len(turns), context is not None)
            requests += [SpeechRequest(text, voice.id, settings, clip.language)
                         for text in (*turns, *([context] if context else []))]
        spoken = self.synthesizer.synthesize(requests, ctx.tts)
        kept: list[Clip] = []
        for i, clip in enumerate(clips):
            if i in plans:
                voice, start, turns, context = plans[i]
                mine = spoken[start:start + turns + context]
                failed = next((u for u in mine if u.audio is None), None)
                if failed is None:
                    audios = [u.audio for u in mine]
                    kept.append(self._voiced(clip, voice, audios[:turns], audios[turns] if context else None))  # type: ignore[arg-type]
                    continue
                refused[i] = (failed.reason or "tts_failed", failed.message or "")
            if i in refused:
                reason, message = refused[i]
                ctx.reject(self.name, clip.clip_id, reason, message, source=clip.source)
                continue
            kept.append(clip)
        stats.outputs += len(kept)
        return kept

    def _texts(self, clip: Clip) -> tuple[list[str], str | None]:
        """What the record's speaker says: its user turns, and its context where that is voiced."""
        record = TextRecord.of(clip)
        turns = [t["content"] for t in record.messages if t["role"] == "user"] or [record.instruction]
        voiced = self.context_sources is None or clip.source in self.context_sources
        return turns, record.input if record.input and voiced else None

    def _voiced(self, clip: Clip, voice: Voice, turns: Sequence[AudioRef], context: AudioRef | None) -> Clip:
        speech: dict[str, Any] = {"voice": voice.name, "settings": dict(voice.settings(clip.clip_id, self.pool.seed)),
                                  "turns": [a.path for a in turns[1:]]}
        if context is not None:
            speech["context"] = context.path
        meta = {**clip.meta, **dict(voice.labels)}
        if voice.labels:
            meta["label_sources"] = ",".join(f"{field}:synthesized" for field, _ in voice.labels)
        return Clip(clip.clip_id, clip.source, turns[0], clip.language, f"tts/{voice.name}", clip.text, clip.raw,
                    meta, clip.features, {**clip.extra, SPEECH_KEY: speech})


class SpeakResponses(Stage):
    name = "tts_response"

    def __init__(self, synthesizer: Synthesizer, pool: VoicePool, tasks: frozenset[str]) -> None:
        self.synthesizer = synthesizer
        self.pool = pool
        self.tasks = tasks

    def run(self, examples: list[Example], ctx: ShardContext) -> list[Example]:
        stats = ctx.stats(self.name)
        stats.inputs += len(examples)
        todo = [i for i, example in enumerate(examples) if example.task in self.tasks]
        voices = self.pool.assign([(examples[i].id, examples[i].language) for i in todo])
        plans: dict[int, tuple[list[int], int]] = {}  # example index -> assistant turns spoken, first request
        requests: list[SpeechRequest] = []
        refused: dict[int, tuple[str, str]] = {}
        for i, voice in zip(todo, voices):
            example = examples[i]
            if voice is None:
                refused[i] = no_voice(example.language, self.pool, "tts.response_voices")
                continue
            turns = [t for t, m in enumerate(example.messages) if m.role == "assistant" and m.text().strip()]
            settings = voice.settings(example.id, self.pool.seed)
            plans[i] = (turns, len(requests))
            requests += [SpeechRequest(example.messages[t].text(), voice.id, settings, example.language) for t in turns]
        spoken = self.synthesizer.synthesize(requests, ctx.tts)
        kept: list[Example] = []
        for i, example in enumerate(examples):
            if i in plans:
                turns, start = plans[i]
                mine = spoken[start:start + len(turns)]
                failed = next((u for u in mine if u.audio is None), None)
                if failed is None:
                    kept.append(with_spoken_turns(example, turns, [u.audio for u in mine]))  # type: ignore[misc]
                    continue
                refused[i] = (failed.reason or "tts_failed", failed.message or "")
            if i in refused:
                reason, message = refused[i]
                ctx.reject(self.name, example.id, reason, message, source=example.source, task=example.task)
                continue
            kept.append(example)
        stats.outputs += len(kept)
        return kept


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
