"""SIFT-50M metadata JSON (REFERENCE.md §2): ``{"acoustic_level": {...}, "content_level": {...}}``.

What the LLM reads in place of the audio. ``acoustic_level`` holds who speaks and how it sounds
(gender, age, accent, emotion, and the binned words for pitch, pitch variation, speaking speed,
intensity, noise, speech quality, reverberation and distortion, plus the duration); ``content_level`` what is said (the transcript) and in
which language. Only fields the clip has are written; a section with no field is left out.

Binned words are preferred over the coarse omni labels that cover the same thing: the binned
``speaking_speed`` (7 levels) over ``pace`` (3), ``intensity`` over ``volume``, so the LLM never
reads two scales that may disagree. Numbers are not given (SIFT-50M gives categories; numbers
invite answers like "182 Hz" that a listener cannot give), except the duration.

Keys and values are translated with the phrase tables of ``labels.i18n`` (SIFT-50M does the same
for non-English data); a value the tables do not know is passed through as the corpus wrote it.

Corpus text and labels are untrusted: ``clean_text`` removes control characters, collapses
whitespace, defuses tag-like markup and caps the length, and the JSON encoder escapes the rest, so a
transcript can never close its string or add a key.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from speechsift.labels import i18n
from speechsift.records import Clip

# acoustic_level fields in the order they are written, each with the meta fields that may
# hold it (first found wins; a later one is used only when no earlier one is present).
ACOUSTIC_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gender", ("gender",)),
    ("age", ("age",)),
    ("accent", ("accent",)),
    ("emotion", ("emotion",)),
    ("pitch", ("pitch",)),
    ("pitch_variation", ("pitch_variation",)),
    ("speaking_speed", ("speaking_speed", "pace")),
    ("intensity", ("intensity", "volume")),
    ("noise", ("noise",)),
    ("speech_quality", ("speech_quality",)),
    ("reverberation", ("reverberation",)),
    ("distortion_level", ("distortion_level",)),
)
MAX_LABEL_CHARS = 80  # a label longer than this is not a label (a corpus column mix-up)
MAX_TRANSCRIPT_CHARS = 2000  # about 30 s of fast speech is under 600 characters

# Markup a model could read as structure: tags of any name ("<audio>", "</metadata>", "<|im_end|>").
_TAG_START = re.compile(r"<(?=\s*[/|!?]?\s*[A-Za-z|])")
_TAG_LOOKALIKE = "\u2039"  # SINGLE LEFT-POINTING ANGLE QUOTATION MARK, as render.audio_context uses


def clean_text(value: Any, max_chars: int = MAX_TRANSCRIPT_CHARS) -> str:
    """Untrusted corpus text made safe to place in a prompt: one line, no control characters,
    no tag openings, at most ``max_chars`` characters (cut at a word boundary, with "…")."""
    text = str(value)
    if not text.isascii() or any(ch < " " for ch in text):
        text = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in text)
    text = " ".join(text.split())
    if "<" in text:
        text = _TAG_START.sub(_TAG_LOOKALIKE, text)
    if len(text) > max_chars:
        cut = text[:max_chars].rsplit(" ", 1)[0]
        text = (cut or text[:max_chars]) + "…"
    return text


def acoustic_labels(clip: Clip, language: str) -> dict[str, str]:
    """``{field: word}`` for the acoustic fields the clip has, keyed by our English field name
    (``pace`` and ``volume`` keep their names when they stand in for the binned fields)."""
    out: dict[str, str] = {}
    for field, sources in ACOUSTIC_FIELDS:
        for source in sources:
            value = i18n.meta_value(clip.meta, source)
            if value is None:
                continue
            word = i18n.label_word(source, value, language)
            out[source] = word if word is not None else clean_text(value, MAX_LABEL_CHARS)
            break
    return out


def duration_text(seconds: float | None) -> str | None:
    if seconds is None or not seconds > 0:
        return None
    return f"{seconds:.1f} s"


def clip_duration(clip: Clip) -> float | None:
    duration = clip.features.get("duration_s")
    if duration is None:
        duration = clip.audio.duration_s
    return float(duration) if duration is not None and math.isfinite(duration) else None


def sift_metadata(clip: Clip, language: str | None = None, *, transcript: bool = True) -> dict[str, dict[str, str]]:
    """The clip's metadata as SIFT-50M gives it to the LLM, in ``language`` (default: the clip's)."""
    lang = language or i18n.output_language(clip.language)
    acoustic = {i18n.field_name(f, lang): v for f, v in acoustic_labels(clip, lang).items()}
    duration = duration_text(clip_duration(clip))
    if duration:
        acoustic[i18n.field_name("duration", lang)] = duration
    content: dict[str, str] = {}
    text = clean_text(clip.text) if clip.text else ""
    if transcript and text:
        content[i18n.field_name("transcript", lang)] = text
    spoken = i18n.label_word("language", clip.language, lang) if clip.language else None
    if spoken:
        content[i18n.field_name("language", lang)] = spoken
    out: dict[str, dict[str, str]] = {}
    if acoustic:
        out["acoustic_level"] = acoustic
    if content:
        out["content_level"] = content
    return out


def render_sift_json(clip: Clip, language: str | None = None, *, transcript: bool = True) -> str:
    """``sift_metadata`` as one line of JSON (non-ASCII kept, so the LLM reads the words as written)."""
    return json.dumps(sift_metadata(clip, language, transcript=transcript), ensure_ascii=False)


__all__ = ["ACOUSTIC_FIELDS", "acoustic_labels", "clean_text", "clip_duration", "render_sift_json", "sift_metadata"]
