"""Label normalization: corpus values onto speechsift's vocabularies."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from math import isfinite
from typing import Any

from speechsift.labels.normalize import (
    LABEL_NORMALIZERS,
    NUMERIC_LABELS,
    UnknownLabel,
    is_missing,
    normalize_language,
    parse_number,
)
from speechsift.records import Clip

# What a categorical cell comes to, besides a label: no label given, a known label that meta
# leaves out (normal volume), or a value no table explains.
_MISSING = None
_OMITTED = ("omitted",)
_UNKNOWN = ("unknown",)
_NOT_SEEN = ("not seen",)

# Outcomes already worked out, per categorical field: value -> label or one of the markers above.
# A corpus repeats a few spellings (unknown ones too) over and over, and this runs for every label
# of every clip; plain dicts per field are the cheapest cache to consult. Bounded per field.
_SEEN: dict[str, dict[str, str | tuple[str] | None]] = {field: {} for field in LABEL_NORMALIZERS}
_SEEN_LIMIT = 65_536


def _categorical(field: str, value: str) -> str | tuple[str] | None:
    """One categorical cell's outcome, remembered in ``_SEEN``."""
    try:
        outcome = LABEL_NORMALIZERS[field](value)
    except UnknownLabel:
        outcome = _UNKNOWN
    else:
        if outcome is None and not is_missing(value):
            outcome = _OMITTED
    seen = _SEEN[field]
    if len(seen) >= _SEEN_LIMIT:
        seen.clear()
    seen[value] = outcome
    return outcome


# Languages already worked out: corpus value -> (ISO 639-1 code or what is kept, known?). A
# corpus has a handful of language values; this runs for every clip.
_LANGUAGES: dict[str, tuple[str | None, bool]] = {}


def clip_language(value: str) -> tuple[str | None, bool]:
    """``(language, known)`` for a clip's language value: the ISO 639-1 code and True, or (the kept
    subtag or None, False) for a value no table explains (``normalize.normalize_language``)."""
    outcome = _LANGUAGES.get(value)
    if outcome is None:
        try:
            outcome = (normalize_language(value), True)
        except UnknownLabel as unknown:
            outcome = (unknown.kept, False)
        if len(_LANGUAGES) >= _SEEN_LIMIT:
            _LANGUAGES.clear()
        _LANGUAGES[value] = outcome
    return outcome


def normalize_labels(raw: dict[str, str]) -> tuple[dict[str, str], dict[str, float], list[tuple[str, str]]]:
    """Normalized ``meta`` and numeric ``features`` from a clip's raw labels.

    ``raw`` is keyed by speechsift field name (sources map corpus columns onto fields). Returns
    ``(meta, features, unknown)``, where ``unknown`` lists ``(field, value)`` pairs that no table
    explains: they stay in ``raw`` and are counted, never guessed.

    A label the corpus gives wins over one implied by a number (a ``pace`` column over
    ``speaking_rate``), even when the given label is one meta leaves out (normal volume), in
    whichever order the fields come.
    """
    meta: dict[str, str] = {}
    features: dict[str, float] = {}
    unknown: list[tuple[str, str]] = []
    given: list[str] = []  # categorical fields the corpus gave (a label, or one meta leaves out)
    for field, value in raw.items():
        seen = _SEEN.get(field)
        if seen is not None:  # a categorical field
            label = seen.get(value, _NOT_SEEN)
            if label is _NOT_SEEN:
                label = _categorical(field, value)
            if label.__class__ is str:
                meta[field] = label  # over a label a number implied
                given.append(field)
            elif label is _OMITTED:
                meta.pop(field, None)
                given.append(field)
            elif label is _UNKNOWN:
                unknown.append((field, value))
            continue
        implies = NUMERIC_LABELS.get(field)
        if implies is None:
            continue
        try:  # a plain finite number, the common case, without parse_number's call
            number = float(value)
            if not isfinite(number):
                raise ValueError(value)
        except (TypeError, ValueError):
            try:
                number = parse_number(value)
            except UnknownLabel:
                unknown.append((field, value))
                continue
            if number is None:
                continue
        features[field] = number
        label_field, to_label = implies
        if label_field not in given:
            label = to_label(number)
            if label is not None:
                meta[label_field] = label
    return meta, features, unknown


def with_labels(clip: Clip) -> tuple[Clip, list[tuple[str, str]]]:
    """The clip with ``meta``/``features`` filled from its raw labels (labels already in ``meta``
    win), its language as an ISO 639-1 code (the corpus's value, when it differs, kept in
    ``raw["language"]``), and the raw values no table explains."""
    meta, features, unknown = normalize_labels(clip.raw)
    if clip.meta:
        meta.update(clip.meta)
    if clip.features:
        features = {**clip.features, **features}
    language, raw = clip.language, clip.raw
    if language is not None:
        code, known = _LANGUAGES.get(language) or clip_language(language)  # the common case inlined
        if not known:
            unknown.append(("language", language))
        if code != language:
            if not is_missing(language):
                raw = {**raw, "language": language}
            language = code
    # positional construction: dataclasses.replace costs more than the whole normalization
    return Clip(clip.clip_id, clip.source, clip.audio, language, clip.speaker_id, clip.text,
                raw, meta, features, clip.extra), unknown


def normalized_clips(items: Iterable[Any]) -> Iterator[Clip]:
    """The clips among a source's items (rows it could not read are skipped), labels normalized."""
    for item in items:
        if isinstance(item, Clip):
            yield with_labels(item)[0]


__all__ = ["UnknownLabel", "clip_language", "normalize_labels", "normalized_clips", "with_labels"]
