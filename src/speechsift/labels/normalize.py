"""Corpus labels onto speechsift's vocabularies: small pure functions over the tables.

Each ``normalize_<field>`` returns the label, ``None`` for a missing value (or a known value that
meta leaves out, such as normal volume), and raises ``UnknownLabel`` for a value outside the
vocabulary, which the caller keeps in ``raw`` and counts.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from importlib import resources

from speechsift.labels import tables

_SEPARATORS = re.compile(r"[\s_\-/]+")


class UnknownLabel(ValueError):
    """A label value the tables do not explain. ``kept``: what to use in its place (None: nothing)."""

    kept: str | None = None


def label_key(value: str) -> str:
    """The form table keys are written in: lower case, ``_``, ``-`` and ``/`` as spaces, spaces collapsed."""
    return _SEPARATORS.sub(" ", value.strip().lower()).strip()


def is_missing(value: object) -> bool:
    """True for None, NaN and the sentinel strings corpora use for "no label"."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return label_key(str(value)) in tables.MISSING_VALUES


def _lookup(table: dict[str, str | None], value: str, field: str) -> str | None:
    key = label_key(value)
    if key in tables.MISSING_VALUES:
        return None
    try:
        return table[key]
    except KeyError:
        raise UnknownLabel(f"{field} {value!r} is not in the {field} table") from None


@lru_cache(maxsize=4096)
def normalize_emotion(value: str) -> str | None:
    try:
        return _lookup(tables.EMOTION_MAP, value, "emotion")
    except UnknownLabel:
        folded = _EMOTION_FOLDED.get(fold_accents(label_key(value)))  # "colere", "degout", "alegria"
        if folded is None:
            raise
        return folded


@lru_cache(maxsize=4096)
def normalize_gender(value: str) -> str | None:
    return _lookup(tables.GENDER_MAP, value, "gender")


def age_group(years: float) -> str:
    """A numeric age in years onto the four groups (tables.AGE_BOUNDS)."""
    for upper, group in tables.AGE_BOUNDS:
        if years < upper:
            return group
    raise AssertionError("AGE_BOUNDS ends with infinity")


@lru_cache(maxsize=4096)
def normalize_age(value: str) -> str | None:
    if label_key(value) in tables.MISSING_VALUES:
        return None
    try:
        years = float(value.strip())  # before label_key, which would turn "-5" into "5"
    except ValueError:
        return _lookup(tables.AGE_MAP, value, "age")
    if not 0 < years < 130:
        raise UnknownLabel(f"age {value!r} is not a plausible age in years")
    return age_group(years)


@lru_cache(maxsize=4096)
def normalize_accent(value: str) -> str | None:
    """Accents are passed through as the corpus wrote them, trimmed and with spaces collapsed."""
    if is_missing(value):
        return None
    return " ".join(value.split())


@lru_cache(maxsize=1024)
def normalize_pace(value: str) -> str | None:
    return _lookup(tables.PACE_MAP, value, "pace")


@lru_cache(maxsize=1024)
def normalize_volume(value: str) -> str | None:
    return _lookup(tables.VOLUME_MAP, value, "volume")


def pace_from_rate(speaking_rate: float) -> str:
    """Pace from a speaking rate, with the omni thresholds (tables.PACE_*)."""
    if speaking_rate < tables.PACE_SLOW_BELOW:
        return "slow"
    if speaking_rate > tables.PACE_FAST_ABOVE:
        return "fast"
    return "normal"


def volume_from_db(relative_db: float) -> str | None:
    """Volume from relative_db, with the omni thresholds; normal volume is left out (None)."""
    if relative_db < tables.VOLUME_QUIET_BELOW_DB:
        return "quiet"
    if relative_db > tables.VOLUME_LOUD_ABOVE_DB:
        return "loud"
    return None


def gender_from_f0(f0_median_hz: float | None) -> str | None:
    """An estimated gender from a median F0 (tables.GENDER_F0_BOUNDARY_HZ); None without a pitch."""
    if f0_median_hz is None or not math.isfinite(f0_median_hz) or f0_median_hz <= 0:
        return None
    return "male" if f0_median_hz < tables.GENDER_F0_BOUNDARY_HZ else "female"


def parse_number(value: object) -> float | None:
    """A finite float from a manifest cell, None when missing; UnknownLabel when not a number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        if is_missing(value):
            return None
        raise UnknownLabel(f"{value!r} is not a number") from None
    if math.isfinite(number):
        return number
    if is_missing(value):  # "nan" is a missing-value sentinel
        return None
    raise UnknownLabel(f"{value!r} is not a finite number")


def fold_accents(key: str) -> str:
    """``key`` without combining accents ("colère" -> "colere"), for corpora that strip them."""
    if key.isascii():
        return key
    return "".join(ch for ch in unicodedata.normalize("NFKD", key) if not unicodedata.combining(ch))


def _language_map() -> dict[str, str]:
    """``{label_key(code or name): ISO 639-1 code}`` from ``data/iso639.tsv`` (see
    ``data/build_iso639.py`` for its sources): the two-letter code, the ISO 639-2/T and /B codes,
    and the language's names in English, in itself and in the five languages speechsift writes."""
    table: dict[str, str] = {}
    text = resources.files("speechsift").joinpath("data", "iso639.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith(("#", "code\t")):
            continue
        code, alpha_3, bibliographic, names = line.split("\t")
        for alias in (code, alpha_3, bibliographic, *names.split("|")):
            if alias:
                key = label_key(alias)
                table[key] = code
                table.setdefault(fold_accents(key), code)
    return table


LANGUAGE_MAP = _language_map()
_EMOTION_FOLDED = {fold_accents(key): label for key, label in tables.EMOTION_MAP.items()}
# The first word of a language value ("de" of "de-DE", "spanish" of "Spanish; Castilian"), and the
# shape of a language tag's primary subtag: two or three letters (Common Voice's "kab").
_FIRST_WORD = re.compile(r"[^\W\d_]+")
_LANGUAGE_SUBTAG = re.compile(r"[a-z]{2,3}")


@lru_cache(maxsize=4096)
def normalize_language(value: str) -> str | None:
    """The ISO 639-1 code of a corpus's language value ("German", "de-DE", "de_DE", "DE", "deu",
    "Deutsch" -> "de"); None when missing (``und`` included). ``UnknownLabel`` when no table
    explains it; its ``kept`` is the value to use then: the primary subtag of a tag-shaped value
    (Common Voice's "kab", which has no two-letter code), or None for anything else."""
    key = label_key(value)
    if key in tables.MISSING_VALUES or key in tables.MISSING_LANGUAGES:
        return None
    code = LANGUAGE_MAP.get(key) or LANGUAGE_MAP.get(fold_accents(key))
    if code is not None:
        return code
    first = _FIRST_WORD.match(key)  # "de de", "zh hant tw", "deutsch (schweiz)"
    primary = first.group(0) if first else key
    code = LANGUAGE_MAP.get(primary) or LANGUAGE_MAP.get(fold_accents(primary))
    if code is not None:
        return code
    unknown = UnknownLabel(f"language {value!r} is not an ISO 639 code or language name speechsift knows")
    unknown.kept = primary if _LANGUAGE_SUBTAG.fullmatch(primary) else None
    raise unknown


# Label fields read straight from a corpus value, in the order renderers list them.
LABEL_NORMALIZERS = {
    "age": normalize_age,
    "gender": normalize_gender,
    "volume": normalize_volume,
    "pace": normalize_pace,
    "emotion": normalize_emotion,
    "accent": normalize_accent,
}

# Numeric fields a corpus may give, and the label each one implies when the label itself is absent.
NUMERIC_LABELS = {
    "speaking_rate": ("pace", pace_from_rate),
    "relative_db": ("volume", volume_from_db),
}
