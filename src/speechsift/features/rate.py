"""Speaking rate from the transcript and the audio: phonemes and syllables per second of speech.

- ``speaking_rate``: phonemes (``features.phonemes``: CMUdict for English, espeak-ng otherwise)
  divided by ``speech_duration_s`` (``features.vad``: talking time, pauses of 250 ms or more left
  out). SIFT-50M and DataSpeech also count phonemes per second; DataSpeech divides by the VAD's
  speech duration as here, SIFT-50M does not say which duration it uses.
- ``syllables_per_s``: vowel phonemes over the same duration.

NaN when there is no transcript, no G2P for its language, no countable word, or less than
``MIN_SPEECH_S`` of speech (a rate over a few frames is noise, not a rate).

Reference points: read English runs at about 10-15 phonemes/s and 4-6 syllables/s of speech;
espeak-ng measures ~6 phonemes/s at 80 words/min, ~12 at its default 175 and ~20 at 300.
"""

from __future__ import annotations

import numpy as np

from speechsift.features.base import NAN
from speechsift.features.phonemes import count_phonemes
from speechsift.features.vad import VoiceActivity, detect_speech

# Below this much speech the rate is NaN: 100 ms is shorter than any word.
MIN_SPEECH_S = 0.1


def measure_rate(wave: np.ndarray, sr: int, text: str | None, language: str | None = None, *,
                 vad: VoiceActivity | None = None) -> dict[str, float]:
    """``speaking_rate`` (phonemes/s of speech) and ``syllables_per_s`` for a clip and its transcript."""
    out = {"speaking_rate": NAN, "syllables_per_s": NAN}
    counts = count_phonemes(text, language)
    if counts is None:
        return out
    vad = vad if vad is not None else detect_speech(wave, sr)
    speech_s = vad.speech_duration_s
    if speech_s < MIN_SPEECH_S:
        return out
    out["speaking_rate"] = counts.phonemes / speech_s
    out["syllables_per_s"] = counts.syllables / speech_s
    return out
