"""The tiny-audio "omni" audio context (REFERENCE.md §1):

``<audio><meta>age: young adult, gender: female, volume: loud, pace: fast, emotion: happy</meta><text>i got the job!</text></audio>``

Corpus text and labels are untrusted: anything that would open or close one of the context's tags
is neutralized, so a rendered context always holds exactly one audio element.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Field order of the seed's metadata line (REFERENCE.md §1); missing fields are left out.
OMNI_FIELD_ORDER: tuple[str, ...] = ("age", "gender", "volume", "pace", "emotion", "accent")

# "<audio", "</meta >", "< text" ... in any case; the "<" is swapped for a look-alike so the words
# stay readable to the LLM but can no longer form a tag.
_TAG_OPENING = re.compile(r"<(?=\s*/?\s*(?:audio|meta|text)\b)", re.IGNORECASE)
_TAG_LOOKALIKE = "\u2039"  # SINGLE LEFT-POINTING ANGLE QUOTATION MARK


def neutralize_tags(value: str) -> str:
    """``value`` with every opening of an ``audio``/``meta``/``text`` tag defused."""
    if "<" not in value:
        return value
    return _TAG_OPENING.sub(_TAG_LOOKALIKE, value)


def render_meta_line(meta: dict[str, str]) -> str:
    """``k: v, ...`` in the seed's field order; empty when no field is known."""
    return _meta_line(_omni_values(meta))


def _omni_values(meta: dict[str, str]) -> tuple[str | None, ...]:
    """``meta``'s values in ``OMNI_FIELD_ORDER`` (spelled out: this runs for every clip)."""
    get = meta.get
    return get("age"), get("gender"), get("volume"), get("pace"), get("emotion"), get("accent")


@lru_cache(maxsize=65_536)
def _meta_line(values: tuple[str | None, ...]) -> str:
    # Cached: a corpus has few distinct label combinations, and this runs for every clip.
    return ", ".join(f"{field}: {neutralize_tags(v)}" for field, v in zip(OMNI_FIELD_ORDER, values) if v)


# "<meta>line</meta>" per label combination; a plain dict is the cheapest cache to consult.
_META_ELEMENTS: dict[tuple[str | None, ...], str] = {}
_META_ELEMENTS_LIMIT = 65_536


def _meta_element(values: tuple[str | None, ...]) -> str:
    element = _META_ELEMENTS.get(values)
    if element is None:
        line = _meta_line(values)
        element = f"<meta>{line}</meta>" if line else ""
        if len(_META_ELEMENTS) >= _META_ELEMENTS_LIMIT:
            _META_ELEMENTS.clear()
        _META_ELEMENTS[values] = element
    return element


def one_line(text: str) -> str:
    """``text`` stripped, every run of whitespace made one space.

    The usual transcript is already one printable line with single spaces: that is checked in C
    and returned as is (every whitespace character but the ASCII space is unprintable).
    """
    text = text.strip()
    if "  " in text or not text.isprintable():
        return " ".join(text.split())
    return text


def render_audio_context(meta: dict[str, str], text: str | None) -> str:
    """The audio context the SIFT prompts give the LLM in place of the audio."""
    meta_element = _meta_element(_omni_values(meta))
    transcript = one_line(text).lower() if text else ""
    if transcript:
        if "<" in transcript:
            transcript = neutralize_tags(transcript)
        return f"<audio>{meta_element}<text>{transcript}</text></audio>"
    return f"<audio>{meta_element}</audio>"
