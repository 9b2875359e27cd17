"""What every measurement shares: the input check, the typed error, and how a missing value looks.

A measurement takes decoded samples (``audio.load``: float32 mono, 16 kHz by default) and returns
flat ``{column: float}`` columns named with their unit. A value that cannot be measured (no speech,
no voiced frame, no transcript) is ``NaN``, never an exception: every call returns the same
columns, so a batch stays one schema. Only a wave that is not audio at all raises
``FeatureError``, whose ``reason`` is a reject code the pipeline can count.
"""

from __future__ import annotations

import math

import numpy as np

from speechsift.errors import SpeechsiftError

NAN = float("nan")


class FeatureError(SpeechsiftError):
    """A wave that cannot be measured at all; ``reason`` is the reject code.

    Codes: ``empty_audio`` (no samples), ``non_finite_audio`` (NaN or infinite samples),
    ``bad_audio_shape`` (not 1-D or 2-D samples x channels), ``bad_sampling_rate``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def prepare_wave(wave: np.ndarray, sr: int) -> np.ndarray:
    """Validated float64 mono copy of ``wave`` (channels of a 2-D array are averaged).

    Raises FeatureError for an empty wave, non-finite samples, a wrong shape or a sampling rate
    that is not a positive integer.
    """
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise FeatureError("bad_sampling_rate", f"sampling rate must be a positive integer, got {sr!r}")
    x = np.asarray(wave)
    if x.ndim == 2:
        x = x.mean(axis=1)
    elif x.ndim != 1:
        raise FeatureError("bad_audio_shape", f"wave must be 1-D or 2-D (samples, channels), got shape {x.shape}")
    if x.size == 0:
        raise FeatureError("empty_audio", "the wave holds no samples")
    if np.issubdtype(x.dtype, np.integer):  # PCM integers onto [-1, 1)
        x = x.astype(np.float64) / float(np.iinfo(x.dtype).max + 1)
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise FeatureError("non_finite_audio", "the wave holds NaN or infinite samples")
    return x


def finite_or_nan(value: float) -> float:
    """``value`` as a float, or NaN when it is infinite or NaN (e.g. -inf dB of digital silence)."""
    value = float(value)
    return value if math.isfinite(value) else NAN
