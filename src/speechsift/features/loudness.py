"""Loudness measures for a clip, in dB relative to digital full scale (pure numpy).

``relative_db`` is the level speechsift uses for the volume labels (quiet < -16.4 dB,
loud > -10.0 dB, otherwise normal; see ``labels.tables``). It is an *active speech level*:
pauses and leading/trailing silence are left out, so a clip with long silences is not
called quiet when the talker is not.
"""

from __future__ import annotations

import math

import numpy as np

# Frame length for the level measure. 20 ms is short enough to separate words from the pauses
# between them and long enough to hold a couple of pitch periods even for a low voice.
FRAME_S = 0.02

# A frame counts as active speech when its level is within this many dB of the loudest frame.
# 30 dB keeps soft consonants and word endings (typically 15-25 dB below the vowels) but drops
# pauses, breaths and background floor, which sit far lower in clean speech.
ACTIVE_RANGE_DB = 30.0


def _as_mono_float(wave: np.ndarray) -> np.ndarray:
    """Float64 mono view of ``wave``; channels (last axis of a 2-D array) are averaged."""
    x = np.asarray(wave, dtype=np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    elif x.ndim != 1:
        raise ValueError(f"wave must be 1-D or 2-D (samples, channels), got shape {x.shape}")
    return x


def _to_db(amplitude: np.ndarray | float) -> np.ndarray | float:
    """20*log10 of an RMS amplitude; zero becomes -inf without a warning."""
    with np.errstate(divide="ignore"):
        return 20.0 * np.log10(amplitude)


def frame_rms(wave: np.ndarray, sr: int, frame_s: float = FRAME_S) -> np.ndarray:
    """RMS of consecutive non-overlapping frames of ``frame_s`` seconds.

    A trailing partial frame is dropped so every value covers the same time; a clip shorter
    than one frame yields a single frame over the whole clip, so nothing non-empty measures as
    empty. An empty wave gives an empty array.
    """
    if sr <= 0 or frame_s <= 0:
        raise ValueError(f"sr and frame_s must be positive, got sr={sr}, frame_s={frame_s}")
    x = _as_mono_float(wave)
    if x.size == 0:
        return np.zeros(0, dtype=np.float64)
    n = max(1, int(round(frame_s * sr)))
    if x.size < n:
        return np.array([math.sqrt(float(np.mean(x * x)))])
    count = x.size // n
    frames = x[: count * n].reshape(count, n)
    return np.sqrt(np.mean(frames * frames, axis=1))


def active_frames(wave: np.ndarray, sr: int, frame_s: float = FRAME_S) -> np.ndarray:
    """Boolean mask over ``frame_rms`` frames: within ``ACTIVE_RANGE_DB`` of the loudest one.

    Shared by ``relative_db`` and speech-duration measures so that both use the same idea of
    where speech is. All False for a silent (all-zero) wave.
    """
    rms = frame_rms(wave, sr, frame_s)
    if rms.size == 0 or not np.any(rms > 0):
        return np.zeros(rms.shape, dtype=bool)
    db = _to_db(rms)
    return db >= float(np.max(db)) - ACTIVE_RANGE_DB


def relative_db(wave: np.ndarray, sr: int) -> float:
    """Active speech level in dBFS: RMS over the frames within 30 dB of the loudest frame.

    Energy is averaged over the active frames (not their dB values), so this is the RMS a meter
    would read while the talker is speaking. ``-inf`` for an all-zero or empty wave.
    """
    rms = frame_rms(wave, sr)
    mask = active_frames(wave, sr)
    if not np.any(mask):
        return float("-inf")
    return float(_to_db(math.sqrt(float(np.mean(rms[mask] ** 2)))))


def rms_db(wave: np.ndarray) -> float:
    """Plain whole-clip RMS in dBFS, silences included; ``-inf`` for an all-zero or empty wave."""
    x = _as_mono_float(wave)
    if x.size == 0:
        return float("-inf")
    return float(_to_db(math.sqrt(float(np.mean(x * x)))))


def speech_span_s(wave: np.ndarray, sr: int, frame_s: float = FRAME_S) -> float:
    """Seconds from the start of the first active frame to the end of the last one (0.0 if none).

    Used as the speech duration for speaking rate, so leading and trailing silence do not
    lower the rate, while pauses inside the utterance still count as speaking time.
    """
    mask = active_frames(wave, sr, frame_s)
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return 0.0
    n_frames = int(idx[-1] - idx[0] + 1)
    x = _as_mono_float(wave)
    frame_len = max(1, int(round(frame_s * sr)))
    if x.size < frame_len:  # the single short frame covers the whole clip
        return x.size / sr
    return n_frames * frame_len / sr
