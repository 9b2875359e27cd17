"""SIFT-50M controllable generation (REFERENCE.md §2): speak this text with these characteristics.

The user turn is an instruction ("Say the following text quickly, in a female voice.") followed by
the text to speak on its own line (``Text: ...``); the instruction never quotes the text. The
target is the clip's own audio: the assistant turn holds one audio part (``audios[0]``), and
``response`` is empty.

- ``controllable`` (LLM): the LLM reads the clip's voice labels (``render.sift_json``, without
  the noise, duration and, unless the ``show_transcript`` option is on, the transcript) and writes
  one concise instruction using ``traits`` of them. ``finish`` rejects an instruction that quotes
  the transcript (``quotes_transcript``: a run of ``QUOTE_NGRAM`` words of it, or all of a shorter
  one, or a one-word transcript in quotation marks), leaks metadata (``metadata_leak``),
  contradicts any of the clip's labels (``contradicts_labels``: gender, emotion, and a pace,
  volume or pitch the other way round, in any of the five languages), is empty
  (``empty_instruction``) or longer than ``MAX_INSTRUCTION_WORDS`` words (``instruction_too_long``).
- ``controllable_template`` (no LLM): an instruction from a pool with ``traits`` characteristics
  phrased from the labels (``prompts_sift.CONTROL_*``), chosen with an RNG seeded by the clip id.

SIFT-50M files these under ``controllable_generation/`` with no sub-folder; ``sub = ""`` says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from functools import lru_cache

from speechsift.errors import Reject
from speechsift.labels import i18n
from speechsift.llm.parse import strip_fences
from speechsift.llm.types import ChatRequest
from speechsift.records import Clip, Example, Generation, Message, Part
from speechsift.render.sift_json import acoustic_labels, clean_text
from speechsift.tasks import prompts_sift
from speechsift.tasks.base import DIRECT, TEMPLATE, Task, TaskSettings, register_task
from speechsift.tasks.options import Configurable, sampling_for
from speechsift.tasks.pairing import seeded_rng
from speechsift.tasks.screen import Screen, leaks_metadata, words_of

# Voice characteristics an instruction may ask for, in the order they are phrased (accent last:
# its phrase ends with the free-text accent name).
VOICE_FIELDS: tuple[str, ...] = ("gender", "emotion", "pitch", "pitch_variation", "speaking_speed", "pace",
                                 "intensity", "volume", "accent")
# Corpus clips, and text records voiced by speech synthesis: the synthesized speech is the target
# when the data has no audio of its own (tts section; the voice's labels and the measured ones).
SPEECH_INPUTS = frozenset({"audio", "spoken"})
QUOTE_NGRAM = 4  # this many consecutive transcript words in the instruction count as quoting it
MAX_INSTRUCTION_WORDS = 60  # the prompt asks for at most 30; twice that is not "concise"
INSTRUCTION_TOKENS = 96  # an instruction of 30 words fits with room to spare

# A preamble models put before the instruction ("Instruction: ...") in each language.
_PREAMBLE = re.compile(r"^\s*(?:instruction|anweisung|consigne|istruzione|instrucción)\s*:\s*", re.IGNORECASE)
_QUOTES = "\"'“”„«»‘’‹›"


@dataclass(frozen=True)
class ControllableOptions:
    """Options of ``controllable`` and ``controllable_template``.

    Attributes:
        traits: how many characteristics one instruction asks for (1-4; fewer when the clip has
            fewer labels).
        show_transcript: give the LLM the transcript (``controllable`` only). Off by default: an
            LLM that never sees the text cannot quote it.
        max_tokens: the LLM's token budget (None: the recipe's, at least 96).
    """

    traits: int = 2
    show_transcript: bool = False
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.traits <= 4:
            raise ValueError(f"traits must be 1 to 4, got {self.traits}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")


def voice_labels(clip: Clip, language: str) -> dict[str, str]:
    """The clip's voice characteristics (``VOICE_FIELDS``), in ``language``."""
    labels = acoustic_labels(clip, language)
    return {field: labels[field] for field in VOICE_FIELDS if field in labels}


def text_to_speak(clip: Clip) -> str:
    text = " ".join((clip.text or "").split())
    if not text:
        raise Reject("empty_transcript", f"clip {clip.clip_id} has no transcript to speak")
    return text


def control_user_turn(instruction: str, text: str, language: str) -> Message:
    """The instruction, then the text to speak on its own line, labelled (``Text: ...``)."""
    label = prompts_sift.TEXT_LABEL.get(language, prompts_sift.TEXT_LABEL["en"])
    return Message("user", [Part("text", f"{instruction}\n{label}: {text}")])


def control_example(task: Task, clip: Clip, instruction: str, language: str, *,
                    request: ChatRequest | None = None, variant: str = "0") -> Example:
    """The example for ``clip``: user turn instruction + text, assistant turn the clip's audio."""
    text = text_to_speak(clip)
    messages = [control_user_turn(instruction, text, language)]
    if request is None:
        messages.append(Message("assistant", [Part("audio", None, 0)]))
    return Example(
        id=task.example_id(clip.clip_id, variant),
        task=task.name,
        clip_ids=[clip.clip_id],
        audios=[clip.audio],
        instruction=instruction,
        response="" if request is None else None,
        messages=messages,
        source=clip.source,
        language=clip.language,
        meta=clip.meta,
        speaker_id=clip.speaker_id,
        transcript=clip.text,
        duration_s=clip.features.get("duration_s"),
        generation=DIRECT if request is None else None,
        request=request,
    )


def quotes_transcript(instruction: str, transcript: str) -> bool:
    """True when ``instruction`` quotes ``transcript`` (see the module docstring)."""
    said = words_of(transcript)
    if not said:
        return False
    written = words_of(instruction)
    if len(said) == 1:
        pattern = rf"[{re.escape(_QUOTES)}]\s*{re.escape(said[0])}\s*[{re.escape(_QUOTES)}]"
        return re.search(pattern, instruction.casefold()) is not None
    n = min(QUOTE_NGRAM, len(said))
    grams = {tuple(said[i:i + n]) for i in range(len(said) - n + 1)}
    return any(tuple(written[i:i + n]) in grams for i in range(len(written) - n + 1))


def clean_instruction(response: str) -> str:
    """The instruction from the model's answer: the first non-empty line, without a fence, a
    preamble ("Instruction:") or surrounding quotation marks."""
    body = strip_fences(response).strip()
    line = next((line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("```")), "")
    line = _PREAMBLE.sub("", line).strip()
    if len(line) >= 2 and line[0] in _QUOTES and line[-1] in _QUOTES:
        line = line[1:-1].strip()
    return " ".join(line.split())


@lru_cache(maxsize=256)
def _system_message(language: str, count: int, fields: tuple[str, ...]) -> dict[str, str]:
    names = ", ".join(i18n.FIELD_NAMES["en"][f].replace("_", " ") for f in fields)
    text = prompts_sift.fill(prompts_sift.CONTROLLABLE_SYSTEM, count=count, fields=names,
                             language=i18n.LANGUAGE_NAMES["en"][language])
    return {"role": "system", "content": text}


@register_task
class Controllable(Configurable, Task):
    """An LLM-written instruction to speak the clip's text with some of its characteristics."""

    name = "controllable"
    category = "controllable_generation"
    sub = ""  # no sub-folder in the SIFT-50M layout
    needs_llm = True
    inputs = SPEECH_INPUTS
    audio_target = True
    checks_language = True
    target_from_clip = True
    Options = ControllableOptions

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        opts = self.options(settings)
        language = i18n.output_language(clip.language)
        text_to_speak(clip)
        labels = voice_labels(clip, language)
        if not labels:
            raise Reject("no_voice_labels", f"clip {clip.clip_id} has no voice characteristics to ask for")
        acoustic = {i18n.field_name(f, language): v for f, v in labels.items()}
        context: dict[str, dict[str, str]] = {"acoustic_level": acoustic}
        if opts.show_transcript:
            context["content_level"] = {i18n.field_name("transcript", language): clean_text(clip.text)}
        system = _system_message(language, min(opts.traits, len(labels)), tuple(labels))
        request = ChatRequest(
            [system, {"role": "user", "content": json.dumps(context, ensure_ascii=False)}],
            sampling_for(settings.sampling, opts.max_tokens, INSTRUCTION_TOKENS),
            self.name,
            {"language": language, "screen": Screen.of(clip.meta, None).to_context(),
             "prompt_version": prompts_sift.PROMPT_VERSION},
        )
        return control_example(self, clip, "", language, request=request)

    def finish(self, example: Example, response: str, generation: Generation) -> list[Example]:
        instruction = clean_instruction(response)
        if not instruction:
            raise Reject("empty_instruction", "the answer holds no instruction")
        if len(instruction.split()) > MAX_INSTRUCTION_WORDS:
            raise Reject("instruction_too_long", f"the instruction has {len(instruction.split())} words")
        transcript = example.transcript or ""
        if quotes_transcript(instruction, transcript):
            raise Reject("quotes_transcript", f"the instruction quotes the text to speak: {instruction!r}")
        if leaks_metadata(instruction):
            raise Reject("metadata_leak", f"the instruction mentions metadata: {instruction!r}")
        why = Screen.of(example.meta, None, voice=True).contradiction("", instruction)
        if why is not None:
            raise Reject("contradicts_labels", f"{why}: {instruction!r}")
        language = (example.request.context if example.request is not None else {}).get(
            "language", i18n.output_language(example.language))
        text = " ".join(transcript.split())
        messages = [control_user_turn(instruction, text, language), Message("assistant", [Part("audio", None, 0)])]
        return [replace(example, instruction=instruction, response="", messages=messages, generation=generation,
                        quality=dict(example.quality), request=None)]


@register_task
class ControllableTemplate(Configurable, Task):
    """An instruction from a pool, with characteristics phrased from the labels (no LLM)."""

    name = "controllable_template"
    category = "controllable_generation"
    sub = ""
    inputs = SPEECH_INPUTS
    audio_target = True
    checks_language = False
    target_from_clip = True
    Options = ControllableOptions

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        opts = self.options(settings)
        language = i18n.output_language(clip.language)
        text_to_speak(clip)
        phrases = trait_phrases(clip, language)
        if not phrases:
            raise Reject("no_voice_labels", f"clip {clip.clip_id} has no voice characteristics to ask for")
        rng = seeded_rng(self.name, clip.clip_id)
        # the emotion phrase last: "quickly and sounding sad", never "sounding sad and quickly"
        fields = sorted(rng.sample(list(phrases), min(opts.traits, len(phrases))),
                        key=lambda f: (f == "emotion", VOICE_FIELDS.index(f)))
        traits = i18n.join_words([phrases[f] for f in fields], language, conjunction="and")
        instruction = prompts_sift.fill(rng.choice(prompts_sift.CONTROL_INSTRUCTIONS[language]), traits=traits)
        example = control_example(self, clip, instruction, language)
        example.generation = TEMPLATE
        return example


def trait_phrases(clip: Clip, language: str) -> dict[str, str]:
    """``{field: phrase}`` for each voice characteristic the tables can phrase in ``language``."""
    templates = prompts_sift.CONTROL_TRAITS[language]
    out: dict[str, str] = {}
    gender = clip.meta.get("gender")
    if gender in prompts_sift.CONTROL_GENDER[language]:
        out["gender"] = prompts_sift.CONTROL_GENDER[language][gender]
    for field in VOICE_FIELDS:
        if field in ("gender", "accent") or field not in templates:
            continue
        if field in ("pace", "volume") and ({"pace": "speaking_speed", "volume": "intensity"}[field] in out):
            continue
        value = i18n.meta_value(clip.meta, field)
        word = i18n.label_word(field, value, language) if value else None
        if word:
            out[field] = prompts_sift.fill(templates[field], value=word)
    accent = clip.meta.get("accent")
    if accent and accent.strip():
        out["accent"] = prompts_sift.fill(templates["accent"], value=clean_text(accent, 80))
    return out


__all__ = ["Controllable", "ControllableOptions", "ControllableTemplate", "clean_instruction", "quotes_transcript",
           "trait_phrases", "voice_labels"]
