"""Two clips side by side, for comparison tasks: each clip's SIFT metadata and what measurably differs.

``{"audio_1": {...}, "audio_2": {...}, "measured": {"higher_pitch": "audio_1", "faster_speech": "similar", ...}}``

The binned pitch words are relative to each speaker's gender (SIFT-50M bins pitch per gender), so
"very high" for a man may still be lower than "very low" for a woman; which voice is higher,
faster or louder is therefore decided from the measured numbers (``clip.features``), with a
minimum difference below which the two count as similar (``MIN_DIFFERENCE``). The comparison
tasks use the same relation, so the LLM and the templates never disagree.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Literal

from speechsift.labels import i18n
from speechsift.records import Clip
from speechsift.render.sift_json import sift_metadata

Relation = Literal["first", "second", "similar"]


@dataclass(frozen=True, slots=True)
class Measure:
    """One measured quantity compared between two clips."""

    key: str  # the relation's name in the rendered JSON ("higher_pitch")
    feature: str  # the clip.features column
    unit: str  # how the difference is measured: "semitones", "ratio" (relative), "dB"
    min_difference: float  # below this the clips count as similar


# Minimum differences (our choices, conservative on purpose, so that a template answer is one a
# listener would agree with):
# - pitch: 2 semitones between median F0s. Listeners discriminate F0 differences in speech far
#   smaller than this (well under 1 semitone); 2 semitones is a difference people name readily.
# - speaking rate: 15 % (ratio 1.15). The just-noticeable difference in speech tempo is about
#   5 %; 15 % is three times that.
# - loudness: 3 dB between active speech levels (relative_db). The intensity JND is about 1 dB;
#   3 dB is a clearly audible step.
MEASURES: tuple[Measure, ...] = (
    Measure("higher_pitch", "f0_median_hz", "semitones", 2.0),
    Measure("faster_speech", "speaking_rate", "ratio", 1.15),
    Measure("louder", "relative_db", "dB", 3.0),
)
MIN_DIFFERENCE = {m.key: m.min_difference for m in MEASURES}


def _feature(clip: Clip, name: str) -> float | None:
    value = clip.features.get(name)
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def difference(measure: Measure, a: float, b: float) -> float | None:
    """How much ``a`` exceeds ``b`` in the measure's unit (negative: ``b`` exceeds ``a``)."""
    if measure.unit == "dB":
        return a - b
    if a <= 0 or b <= 0:
        return None
    if measure.unit == "semitones":
        return 12.0 * math.log2(a / b)
    return math.log(a / b)  # ratio: compared on a log scale, so 1.15 either way is symmetric


def relation(measure: Measure, a: Clip, b: Clip) -> Relation | None:
    """Which clip has more of ``measure`` ("first", "second"), "similar", or None when unmeasured."""
    va, vb = _feature(a, measure.feature), _feature(b, measure.feature)
    if va is None or vb is None:
        return None
    diff = difference(measure, va, vb)
    if diff is None:
        return None
    threshold = math.log(measure.min_difference) if measure.unit == "ratio" else measure.min_difference
    if diff >= threshold:
        return "first"
    if diff <= -threshold:
        return "second"
    return "similar"


def measured_relations(a: Clip, b: Clip) -> dict[str, Relation]:
    """``{measure key: relation}`` for every measure both clips have."""
    out: dict[str, Relation] = {}
    for measure in MEASURES:
        rel = relation(measure, a, b)
        if rel is not None:
            out[measure.key] = rel
    return out


_RELATION_WORDS = {"first": "audio_1", "second": "audio_2", "similar": "similar"}


def pair_context(a: Clip, b: Clip, language: str | None = None) -> dict[str, object]:
    """Both clips' metadata (in ``language``, default the first clip's) and the measured relations."""
    lang = language or i18n.output_language(a.language)
    context: dict[str, object] = {"audio_1": sift_metadata(a, lang), "audio_2": sift_metadata(b, lang)}
    measured = measured_relations(a, b)
    if measured:
        context["measured"] = {key: _RELATION_WORDS[rel] for key, rel in measured.items()}
    return context


def render_pair_json(a: Clip, b: Clip, language: str | None = None) -> str:
    return json.dumps(pair_context(a, b, language), ensure_ascii=False)


__all__ = ["MEASURES", "MIN_DIFFERENCE", "Measure", "measured_relations", "pair_context", "relation", "render_pair_json"]
