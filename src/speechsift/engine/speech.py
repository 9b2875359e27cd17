"""The speech-synthesis stages: text records given a voice, and responses spoken.

- ``Synthesize`` (stage ``tts``, on clips, before the audio is probed): a text record
  (``sources.text``) of a source that feeds a task taking spoken records (``Task.inputs``) gets a
  voice from the pool (``tts.voices``) and its user turns spoken. The record becomes a clip like any
  other: its audio is the first user turn, its speaker ``tts/<voice>``, its labels the voice's
  (``gender``, ``accent``, ``age``; ``label_sources`` says ``synthesized``), so the probe and
  enrich stages check and measure it as they do a corpus clip. The other user turns (and the
  context, where a task voices it) are in ``extra["speech"]``.
- ``SpeakInstructions`` (stage ``tts_instruction``, on examples, after generation): for the text
  tasks with ``speak_instruction: true``, every user turn becomes an audio part (its text stays in
  ``instruction`` and ``transcript``), spoken by a voice of the pool; the example takes the voice's
  speaker and labels, as a voiced record does.
- ``SpeakResponses`` (stage ``tts_response``, on examples, after generation): for the tasks with
  ``speak_response: true``, every assistant text turn gets an audio part beside its text, and a
  preference pair's rejected response its audio too (``extra.rejected_audio``: its index in
  ``audios``), in one voice of ``tts.response_voices`` (default: the pool).

A text task's examples take their voices by instruction (``speaker_key``): every pair and strategy
of one instruction is asked in one voice and answered in one voice, so text they share is spoken
once. All stages send their utterances through one ``Synthesizer`` (cache, dedup, checks); a record
or example whose speech fails is a reject with the synthesizer's reason, and its counters go to
``run.json``'s ``tts``. A failure a rerun may well heal (a speech server's timeout, 5xx or dropped
connection) is a transient reject: its shard stays unfinished, and the rerun synthesizes what is
missing (the rest comes from the cache).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from speechsift.engine.stage import Rejected, Stage, StageResult, record_id
from speechsift.errors import Reject
from speechsift.records import AudioRef, Clip, Example, Message, Part, stable_id
from speechsift.sources.text import SPEECH_KEY, TextRecord, record_kind
from speechsift.tasks import get_task
from speechsift.tasks.text import is_text_task
from speechsift.tts import SpeechRequest, Synthesizer, UtteranceCache, Voice, VoicePool, make_tts_backend, make_voices

if TYPE_CHECKING:
    from speechsift.layout import OutputLayout
    from speechsift.recipe import Recipe, TTSConfig

# What a stage's record becomes: (its voice, the audio of each of its texts), or a reject (with
# whether it is transient).
Spoken = tuple[Voice, list[AudioRef]]


class SpeechStage(Stage):
    """The plumbing both speech stages share: a voice per record from the pool, every record's
    texts synthesized in one batch, and each record's outcome. A subclass picks the records and
    their texts, and builds what a voiced record becomes."""

    def __init__(self, synthesizer: Synthesizer, pool: VoicePool, field: str) -> None:
        self.synthesizer = synthesizer
        self.pool = pool
        self.field = field  # the recipe field that holds the pool, for messages

    def speak(self, items: Sequence[tuple[int, str, str | None, list[str]]],
              tts: Counter) -> dict[int, Spoken | tuple[Reject, bool]]:
        """``(index, record id, language, texts)`` each -> its voice and audio, or a Reject and
        whether it is transient. Items of one record id share its voice and settings; ``tts``
        gets the synthesizer's counters."""
        speakers = list(dict.fromkeys((owner, language) for _, owner, language, _ in items))
        voices = dict(zip(speakers, self.pool.assign(speakers)))
        plans: dict[int, tuple[Voice, int, int]] = {}  # index -> voice, first request, count
        requests: list[SpeechRequest] = []
        outcomes: dict[int, Spoken | tuple[Reject, bool]] = {}
        for index, owner, language, texts in items:
            voice = voices[(owner, language)]
            if voice is None:
                outcomes[index] = (self._no_voice(language), False)
                continue
            settings = voice.settings(owner, self.pool.seed)
            plans[index] = (voice, len(requests), len(texts))
            requests += [SpeechRequest(text, voice.id, settings, language) for text in texts]
        spoken = self.synthesizer.synthesize(requests, tts)
        for index, (voice, start, count) in plans.items():
            mine = spoken[start:start + count]
            failed = next((u for u in mine if u.audio is None), None)
            outcomes[index] = (voice, [u.audio for u in mine]) if failed is None else (  # type: ignore[assignment]
                Reject(failed.reason or "tts_failed", failed.message or ""), failed.transient)
        return outcomes

    def _no_voice(self, language: str | None) -> Reject:
        if not language:
            return Reject("unknown_language", f"the text has no language, so no voice of {self.field} can be "
                                              "chosen; set the source's `language`")
        return Reject("no_voice_for_language", f"no voice of {self.field} speaks {language!r} (the pool speaks "
                                               f"{', '.join(self.pool.languages)}); add one to {self.field}")

    def process(self, records: list[Any]) -> StageResult:
        tts: Counter = Counter()
        items = [item for index, record in enumerate(records) if (item := self.texts(index, record)) is not None]
        outcomes = self.speak(items, tts) if items else {}
        kept, rejects = [], []
        for index, record in enumerate(records):
            outcome = outcomes.get(index)
            if outcome is not None and isinstance(outcome[0], Reject):
                refused, transient = outcome
                rejects.append(Rejected(record_id(record), refused.reason, refused.message, transient=transient,
                                        **self.reject_extra(record)))
                continue
            kept.append(record if outcome is None else self.voiced(record, *outcome))
        return StageResult(kept, rejects, tallies={"tts": tts} if tts else None)

    def texts(self, index: int, record: Any) -> tuple[int, str, str | None, list[str]] | None:
        """``(index, record id, language, texts to speak)``, or None for a record left as it is."""
        raise NotImplementedError

    def reject_extra(self, record: Any) -> dict[str, Any]:
        """What a reject line says of the record besides its id (its source)."""
        return {"source": getattr(record, "source", None)}

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
        return Clip(clip.clip_id, clip.source, audios[0], clip.language, f"tts/{voice.name}", clip.text, clip.raw,
                    voice_meta(clip.meta, voice), clip.features, {**clip.extra, SPEECH_KEY: speech})


def voice_meta(meta: dict[str, str], voice: Voice) -> dict[str, str]:
    """``meta`` with the voice's labels (``gender``, ``accent``, ``age``), marked ``synthesized``."""
    labelled = {**meta, **dict(voice.labels)}
    if voice.labels:
        labelled["label_sources"] = ",".join(f"{field}:synthesized" for field, _ in voice.labels)
    return labelled


def speaker_key(example: Example, role: str) -> str:
    """Whose voice speaks ``role``'s turns of ``example``: a text task's instruction (its pairs,
    strategies and tasks share one voice per role, so a prompt or a response they share is spoken
    once, and both responses of a pair in one voice), otherwise the example."""
    if is_text_task(example.task):
        return f"{role}/{stable_id(example.instruction)}"
    return example.id


class SpeakTurns(SpeechStage):
    """Examples' turns of one ``role`` spoken after generation, for the tasks named; a subclass
    builds what a voiced example becomes."""

    role = ""

    def __init__(self, synthesizer: Synthesizer, pool: VoicePool, field: str, tasks: frozenset[str]) -> None:
        super().__init__(synthesizer, pool, field)
        self.tasks = tasks

    def texts(self, index: int, example: Example) -> tuple[int, str, str | None, list[str]] | None:
        texts = self.utterances(example) if example.task in self.tasks else []
        return (index, speaker_key(example, self.role), example.language, texts) if texts else None

    def turns(self, example: Example) -> list[int]:
        """The indices of the messages spoken: the role's turns that have text."""
        return [t for t, m in enumerate(example.messages) if m.role == self.role and m.text().strip()]

    def utterances(self, example: Example) -> list[str]:
        return [example.messages[t].text() for t in self.turns(example)]

    def reject_extra(self, example: Example) -> dict[str, Any]:
        return {"source": example.source, "task": example.task}


class SpeakInstructions(SpeakTurns):
    name = "tts_instruction"
    role = "user"

    def voiced(self, example: Example, voice: Voice, audios: list[AudioRef]) -> Example:
        turns = self.turns(example)
        spoken = with_spoken_turns(example, turns, audios, keep_text=False)
        return replace(spoken, speaker_id=f"tts/{voice.name}", meta=voice_meta(example.meta, voice),
                       transcript=example.messages[turns[0]].text())


class SpeakResponses(SpeakTurns):
    name = "tts_response"
    role = "assistant"

    def utterances(self, example: Example) -> list[str]:
        """The assistant turns, then a preference pair's rejected response (in the same voice)."""
        rejected = example.extra.get("rejected")
        return [*super().utterances(example), *([rejected] if isinstance(rejected, str) else [])]

    def voiced(self, example: Example, voice: Voice, audios: list[AudioRef]) -> Example:
        turns = self.turns(example)
        spoken = with_spoken_turns(example, turns, audios[:len(turns)])
        if len(audios) == len(turns):
            return spoken
        # the rejected response: referenced by no part, so this stage runs after every other that
        # renumbers audios (with_spoken_turns keeps only the audios parts refer to)
        return replace(spoken, audios=[*spoken.audios, audios[-1]],
                       transcripts=[*spoken.transcripts, example.extra["rejected"]],
                       extra={**spoken.extra, "rejected_audio": len(spoken.audios)})


def with_spoken_turns(example: Example, turns: list[int], audios: Sequence[AudioRef], *,
                      keep_text: bool = True) -> Example:
    """``example`` with an audio part after the text of each of ``turns`` (its messages' indices),
    or instead of it (``keep_text=False``); each new audio's transcript is its turn's text. Audio
    indices are renumbered in the order the parts appear, as exports that count placeholders (the
    messages format) expect."""
    spoken = dict(zip(turns, audios))
    before = example.audio_transcripts()
    refs: list[AudioRef] = []
    transcripts: list[str | None] = []
    messages = []
    for index, message in enumerate(example.messages):
        content = []
        for part in message.content:
            if part.type == "audio":
                refs.append(example.audios[part.audio or 0])
                transcripts.append(before[part.audio or 0])
                part = Part.of_audio(len(refs) - 1)
            if part.type == "text" and index in spoken and not keep_text:
                continue
            content.append(part)
        if index in spoken:
            refs.append(spoken[index])
            transcripts.append(message.text())
            content.append(Part.of_audio(len(refs) - 1))
        messages.append(Message(message.role, content))
    return replace(example, messages=messages, audios=refs, transcripts=transcripts)


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


def speech_stages(recipe: "Recipe", layout: "OutputLayout") -> tuple[Synthesize | None, list[SpeakTurns]]:
    """The recipe's speech stages: the one on clips (None where it needs none) and those on
    finished examples, in order; voices are checked to be installed here, before any work (a
    ``ConfigError`` naming the voice and how to install it)."""
    voiced = _spoken_sources(recipe)
    asking = frozenset(spec.name for spec in recipe.task_specs if spec.speak_instruction)
    speaking = frozenset(spec.name for spec in recipe.task_specs if spec.speak_response)
    if not voiced and not asking and not speaking:
        return None, []
    config = tts_config(recipe)
    backend = make_tts_backend(config)
    pool = VoicePool(make_voices(config, backend), config.seed)
    synthesizer = Synthesizer(backend, UtteranceCache(config.cache or layout.tts_cache), max_chars=config.max_chars,
                              split=config.long_text == "split")
    synthesize = Synthesize(synthesizer, pool, voiced, _context_sources(recipe)) if voiced else None
    after: list[SpeakTurns] = []
    if asking:
        after.append(SpeakInstructions(synthesizer, pool, "tts.voices", asking))
    if speaking:  # last: the rejected response's audio is referenced by no part
        after.append(SpeakResponses(synthesizer, pool.subset(config.response_voices, "tts.response_voices"),
                                    "tts.response_voices", speaking))
    return synthesize, after


__all__ = ["SpeakInstructions", "SpeakResponses", "SpeakTurns", "Synthesize", "speaker_key", "speech_stages",
           "voice_meta", "with_spoken_turns"]
