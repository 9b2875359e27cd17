"""Controllable generation (SIFT-50M §5, REFERENCE.md §7): the model speaks a text as instructed; the
audio it returns is measured with speechsift's own features (``features.measure``: speaking rate,
pitch, pitch variation, loudness) and binned with the dataset's bins (``labels.bins``: the bins file
the dataset was built with, ``--bins``, or the fixed thresholds), and the measured level is compared
with the instructed one as ordinal codes (0 = the lowest level): ``mae_<field>`` and
``qwk_<field>`` (quadratic weighted kappa) for speaking speed, pitch, pitch variation and intensity.

An item counts for a field when its instruction names the field's level (the label word of the
clip's value, in its language, as the instruction templates write it); an instruction that names
none of them recognizably (an LLM's paraphrase) counts for every field the clip has a level for.

Models that return audio are asked in one of two ways (``eval.audio_output``):

- ``speech``: an OpenAI-style speech endpoint, ``POST {api_base}/audio/speech`` with ``model``,
  ``input`` (the text), ``voice``, ``instructions`` and ``response_format: wav``;
- ``chat``: chat completions with audio output (``modalities: ["text", "audio"]``,
  ``audio: {voice, format: wav}``); the audio is ``choices[0].message.audio.data``.

Either way the answer is kept (and stored in the request ledger) as ``data:audio/wav;base64,...``.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from speechsift import audio as audio_io
from speechsift.errors import AudioLoadError, ConfigError, RetryableGenerationError
from speechsift.eval.model import AudioChatBackend
from speechsift.eval.scoring import CONTROLLABLE_FIELDS, Failure
from speechsift.labels import i18n
from speechsift.labels.bins import FIXED_BINS, BinSet, load_bins
from speechsift.llm.openai_backend import OpenAIBackend
from speechsift.llm.types import ChatRequest, Completion, SamplingParams
from speechsift.records import AudioRef
from speechsift.report.samples import sniff_extension
from speechsift.tasks import prompts_sift

AUDIO_DATA_PREFIX = "data:audio/wav;base64,"
AUDIO_OUTPUTS = ("speech", "chat")
# Each compared field, and the meta fields (with their bins) that hold its level, preferred first:
# the SIFT-50M 7-level fields, else the seed's 3-level pace and volume.
FIELD_SOURCES: dict[str, tuple[str, ...]] = {
    "speaking_speed": ("speaking_speed", "pace"),
    "pitch": ("pitch",),
    "pitch_variation": ("pitch_variation",),
    "intensity": ("intensity", "volume"),
}
MEASURED_FEATURES = ("loudness", "pitch", "rate")
SPEECH_SAMPLING = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=1)  # not used by speech endpoints


def audio_answer(data: bytes) -> str:
    if not data or sniff_extension(data) is None:
        raise RetryableGenerationError("no_audio", "the server's answer holds no audio")
    return AUDIO_DATA_PREFIX + base64.b64encode(data).decode("ascii")


def answer_audio(text: str) -> bytes:
    if not text.startswith(AUDIO_DATA_PREFIX):
        raise Failure("no_audio", "the model's answer holds no audio")
    return base64.b64decode(text[len(AUDIO_DATA_PREFIX):])


def parse_speech(raw: bytes, n: int) -> list[Completion]:
    from speechsift.tts.openai_speech import wav_body  # the speech layer's check of a WAV answer

    return [Completion(text=audio_answer(wav_body(raw)), finish_reason="stop") for _ in range(n)]


def parse_chat_audio(raw: bytes, n: int) -> list[Completion]:
    try:
        choices = json.loads(raw)["choices"]
        data = (choices[0]["message"].get("audio") or {}).get("data")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise RetryableGenerationError("malformed_response", f"the server's body is not a chat completion: {exc}") from None
    if not data:
        raise RetryableGenerationError("no_audio", "the chat completion holds no audio (message.audio.data)")
    return [Completion(text=audio_answer(base64.b64decode(data)), finish_reason=choices[0].get("finish_reason"))
            for _ in range(n)]


class SpeechEndpointBackend(OpenAIBackend):
    """``/v1/audio/speech``: the request's one user message holds ``input``, ``instructions``, ``voice``."""

    name = "openai_speech"
    endpoint = "/audio/speech"
    parse = staticmethod(parse_speech)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.headers["Accept"] = "audio/wav"

    def payload(self, request: ChatRequest, n: int) -> dict[str, Any]:
        fields = request.messages[0]["content"]
        body = {"model": self.model, "input": fields["input"], "voice": fields["voice"], "response_format": "wav"}
        if fields.get("instructions"):
            body["instructions"] = fields["instructions"]
        return body


class ChatAudioBackend(AudioChatBackend):
    """Chat completions with audio output."""

    name = "openai_chat_audio"
    parse = staticmethod(parse_chat_audio)

    def __init__(self, *, voice: str, **options: Any) -> None:
        super().__init__(**options)
        self.voice = voice

    def payload(self, request: ChatRequest, n: int) -> dict[str, Any]:
        body = super().payload(request, n)
        body["modalities"] = ["text", "audio"]
        body["audio"] = {"voice": self.voice, "format": "wav"}
        return body


def text_to_speak(item: Any) -> tuple[str, str]:
    """``(instruction, text)``: the text is the transcript, or the labelled ``Text:`` line of the user turn."""
    language = i18n.output_language(item.language)
    label = prompts_sift.TEXT_LABEL.get(language, prompts_sift.TEXT_LABEL["en"])
    lines = (item.instruction or "").splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith(f"{label}:"):
            text = item.transcript or lines[index][len(label) + 1:].strip()
            return "\n".join(lines[:index]).strip(), " ".join(text.split())
    if not item.transcript:
        raise Failure("no_text_to_speak", "the item has no transcript and its instruction no `Text:` line")
    return (item.instruction or "").strip(), " ".join(item.transcript.split())


def speech_request(item: Any, voice: str) -> ChatRequest:
    instruction, text = text_to_speak(item)
    return ChatRequest([{"role": "user", "content": {"input": text, "instructions": instruction, "voice": voice}}],
                       SPEECH_SAMPLING, item.task, {})


def dataset_bins(data: Path, override: Path | None) -> BinSet:
    """The bins to measure with: ``override``, else the bins file the dataset's recipe names, else
    the fixed thresholds (pace, volume, pitch)."""
    if override is not None:
        return load_bins(override)
    run_json = data / "run.json" if data.is_dir() else None
    if run_json is not None and run_json.is_file():
        recipe = json.loads(run_json.read_text(encoding="utf-8")).get("recipe") or {}
        path = (recipe.get("labels") or {}).get("bins")
        if path:
            if not Path(path).is_file():
                raise ConfigError(f"{run_json}: the dataset was labelled with bins {path}, which is gone; pass the "
                                  "bins file with --bins so the returned audio is binned the same way.")
            return load_bins(path)
    return FIXED_BINS


def levels_of(bins: BinSet) -> dict[str, int]:
    out = {}
    for field, sources in FIELD_SOURCES.items():
        for source in sources:
            if source in bins.fields:
                field_bins = bins.fields[source]
                any_bins = field_bins.bins or next(iter(field_bins.by_gender.values()))
                out[field] = len(any_bins.labels)
                break
    return out


def _target(meta: Mapping[str, str], sources: tuple[str, ...], bins: BinSet) -> tuple[str, int, str] | None:
    """(meta field, target code, value) of the first source with a level and bins."""
    for source in sources:
        value = meta.get(source)
        if not value or source not in bins.fields:
            continue
        field_bins = bins.fields[source]
        labels = (field_bins.bins_for(meta.get("gender")) or next(iter(field_bins.by_gender.values()))).labels
        if value in labels:
            return source, labels.index(value), value
    return None


def controllable_scores(item: Any, audio_text: str, bins: BinSet) -> dict[str, float]:
    """Targets, measured codes and absolute errors for the instructed fields of one item."""
    from speechsift.features import FeatureError, measure

    data = answer_audio(audio_text)
    try:
        wave, sr = audio_io.load(AudioRef(bytes=data))
    except AudioLoadError as exc:
        raise Failure("unreadable_audio", str(exc)) from None
    _instruction, text = text_to_speak(item)
    try:
        features = measure(wave, sr, MEASURED_FEATURES, text=text, language=i18n.language_code(item.language))
    except FeatureError as exc:
        raise Failure(exc.reason, str(exc)) from None
    language = i18n.output_language(item.language)
    targets = {f: t for f, sources in FIELD_SOURCES.items() if (t := _target(item.meta, sources, bins)) is not None}
    if not targets:
        raise Failure("no_target_levels", "the item's labels have no level the bins can compare")
    said = (item.instruction or "").lower()
    named = {f for f, (source, _code, value) in targets.items()
             if (word := i18n.label_word(source, value, language)) and word.lower() in said}
    scores: dict[str, float] = {}
    for field in (named or set(targets)):
        source, code, _value = targets[field]
        field_bins = bins.fields[source]
        value = features.get(field_bins.feature)
        if value is None or not math.isfinite(value):
            continue  # not measurable in this audio (no voiced frames, no speech): left out of the field
        measured = field_bins.bins_for(item.meta.get("gender")).index(value)
        scores[f"target_{field}"] = float(code)
        scores[f"measured_{field}"] = float(measured)
        scores[f"abs_error_{field}"] = float(abs(measured - code))
    if not scores:
        raise Failure("unmeasurable_audio", "none of the instructed characteristics could be measured in the audio")
    return scores


__all__ = ["AUDIO_OUTPUTS", "CONTROLLABLE_FIELDS", "ChatAudioBackend", "SpeechEndpointBackend", "controllable_scores",
           "dataset_bins", "levels_of", "speech_request"]
