"""The DeSTA2 seed description (REFERENCE.md §3): one timestamped line per speech segment.

``[00:00:00 - 00:00:04] "the transcript" (Gender: Male, Age: young adult, Emotion: neutral, Duration: 4s)``

A clip is one segment, from 0 to its duration. Multi-speaker audio gives its segments in
``clip.extra["segments"]``: a list of ``{"start_s", "end_s", "text", "speaker", "gender", "emotion",
"age", "accent", ...}``; each becomes one line ``[start - end] speaker: "text" (attributes)``, in order
of start time, and the clip-wide measurements (noise, SNR, reverberation, speech quality, distortion,
duration) follow on a last line.

Attribute names are DeSTA's (English, capitalized); values are speechsift's labels. The order
follows DeSTA2's attribute list: gender, age, accent, emotion, pitch, volume, speaking speed,
SNR, C50 (``Reverberation(C50)``: the binned word, or the estimate in dB where the clip has no
word), duration, intent; speech quality and distortion, which DeSTA2 does not list, follow the
C50 (``Speech quality``, ``Distortion``). Untrusted text goes through
``render.sift_json.clean_text``; double quotes inside a transcript become single quotes so the
quoted text has one opening and one closing mark.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from speechsift.labels import i18n
from speechsift.records import Clip
from speechsift.render.sift_json import MAX_LABEL_CHARS, clean_text, clip_duration

# (attribute name, meta fields that may hold it, first found wins), in DeSTA2's order.
SEGMENT_ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Gender", ("gender",)),
    ("Age", ("age",)),
    ("Accent", ("accent",)),
    ("Emotion", ("emotion",)),
    ("Pitch", ("pitch",)),
    ("Pitch variation", ("pitch_variation",)),
    ("Volume", ("intensity", "volume")),
    ("Speaking speed", ("speaking_speed", "speaking_rate", "pace")),
)
CLIP_ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Noise", ("noise",)),
)
# After the SNR: reverberation (a word, else the C50 estimate), speech quality and distortion.
MEASURED_ATTRIBUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Speech quality", ("speech_quality",)),
    ("Distortion", ("distortion_level",)),
)
TRAILING_ATTRIBUTES = ("Intent",)  # DeSTA2 lists intent last; read from meta["intent"] when present


def timestamp(seconds: float) -> str:
    """``HH:MM:SS``, rounded to the nearest second."""
    total = max(0, round(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def duration_words(seconds: float) -> str:
    """DeSTA's ``4s``: whole seconds, at least 1 for any audio."""
    return f"{max(1, round(seconds))}s"


def _value(labels: Mapping[str, Any], fields: tuple[str, ...]) -> str | None:
    for field in fields:
        value = labels.get(field)
        if isinstance(value, str) and value.strip():
            return clean_text(value, MAX_LABEL_CHARS)
    return None


def _attributes(labels: Mapping[str, Any], table: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    out = []
    for name, fields in table:
        value = _value(labels, fields)
        if value is None:
            continue
        if name == "Gender":
            value = value[:1].upper() + value[1:]  # DeSTA writes "Gender: Male"
        out.append(f"{name}: {value}")
    return out


def _quoted(text: str | None) -> str | None:
    cleaned = clean_text(text) if text else ""
    return f'"{cleaned.replace(chr(34), chr(39))}"' if cleaned else None


def _language(clip: Clip) -> str | None:
    """``Language: French`` for a clip in a supported language other than English (DeSTA lists the
    language where it is not the default one)."""
    code = i18n.language_code(clip.language)
    return f"Language: {i18n.LANGUAGE_NAMES['en'][code]}" if code and code != "en" else None


def _snr(clip: Clip) -> str | None:
    snr = clip.features.get("snr_db")
    return f"SNR: {snr:.0f} dB" if snr is not None and math.isfinite(snr) else None


def _measured(clip: Clip) -> list[str]:
    """``Reverberation(C50)``, ``Speech quality``, ``Distortion``: the SNR's measured neighbours."""
    out = []
    reverberation = _value(clip.meta, ("reverberation",))
    c50 = clip.features.get("c50_db")
    if reverberation:
        out.append(f"Reverberation(C50): {reverberation}")
    elif c50 is not None and math.isfinite(c50):
        out.append(f"Reverberation(C50): {c50:.0f} dB")
    return out + _attributes(clip.meta, MEASURED_ATTRIBUTES)


def _line(start: float | None, end: float | None, speaker: str | None, text: str | None, attributes: list[str]) -> str:
    parts = []
    if start is not None and end is not None:
        # whole seconds; a segment with any length spans at least one, as its "Duration: 1s" says
        end_s = max(round(end), round(start) + 1) if end > start else round(start)
        parts.append(f"[{timestamp(start)} - {timestamp(end_s)}]")
    quoted = _quoted(text)
    if speaker and quoted:
        parts.append(f"{clean_text(speaker, MAX_LABEL_CHARS)}: {quoted}")
    elif quoted:
        parts.append(quoted)
    elif speaker:
        parts.append(clean_text(speaker, MAX_LABEL_CHARS))
    if attributes:
        parts.append(f"({', '.join(attributes)})")
    return " ".join(parts)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def segments_of(clip: Clip) -> list[dict[str, Any]]:
    """The clip's usable segments (``extra["segments"]``), sorted by start; [] when none."""
    raw = clip.extra.get("segments") if isinstance(clip.extra, dict) else None
    if not isinstance(raw, list):
        return []
    segments = []
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        start, end = _number(item.get("start_s")), _number(item.get("end_s"))
        if start is None or end is None or end < start:
            continue
        segments.append({**item, "start_s": start, "end_s": end})
    return sorted(segments, key=lambda s: (s["start_s"], s["end_s"]))


def render_seed_description(clip: Clip) -> str:
    """The DeSTA2 seed description of ``clip``: one line, or one line per segment plus a clip line."""
    duration = clip_duration(clip)
    segments = segments_of(clip)
    if not segments:
        attributes = _attributes(clip.meta, SEGMENT_ATTRIBUTES) + _attributes(clip.meta, CLIP_ATTRIBUTES)
        attributes += [a for a in (_language(clip), _snr(clip)) if a] + _measured(clip)
        if duration:
            attributes.append(f"Duration: {duration_words(duration)}")
        attributes += [f"{name}: {v}" for name in TRAILING_ATTRIBUTES if (v := _value(clip.meta, (name.lower(),)))]
        return _line(0.0 if duration else None, duration, None, clip.text, attributes)
    lines = []
    for segment in segments:
        attributes = _attributes(segment, SEGMENT_ATTRIBUTES)
        attributes.append(f"Duration: {duration_words(segment['end_s'] - segment['start_s'])}")
        speaker = segment.get("speaker")
        lines.append(_line(segment["start_s"], segment["end_s"], str(speaker) if speaker is not None else None,
                           segment.get("text"), attributes))
    clip_wide = _attributes(clip.meta, CLIP_ATTRIBUTES) + [a for a in (_language(clip), _snr(clip)) if a]
    clip_wide += _measured(clip)
    speakers = {str(s["speaker"]) for s in segments if s.get("speaker") is not None}
    if len(speakers) > 1:
        clip_wide.insert(0, f"Speakers: {len(speakers)}")
    if duration:
        clip_wide.append(f"Duration: {duration_words(duration)}")
    if clip_wide:
        lines.append(f"({', '.join(clip_wide)})")
    return "\n".join(lines)


__all__ = ["render_seed_description", "segments_of", "timestamp"]
