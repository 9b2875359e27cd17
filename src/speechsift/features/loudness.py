"""Loudness measures for a clip, in dB relative to digital full scale (pure numpy).

Columns (``measure_loudness``): ``rms_db`` (plain RMS of the whole clip, silences included),
``relative_db`` (the active speech level, below) and ``clipped_fraction``.

**What ``relative_db`` is.** The RMS level, in dBFS, of the 20 ms frames that lie within 30 dB of
the clip's loudest frame: energy is averaged over the frames where someone is talking, and
pauses, breaths and leading/trailing silence are left out, so a clip with long silences is not
called quiet when the talker is not. It is an *active speech level* in the sense of ITU-T P.56
(which uses an adaptive threshold 15.9 dB above the noise instead of a fixed range below the
peak) and, like the gated loudness of ITU-R BS.1770 / EBU R128, it ignores silence. 0 dB is the
RMS of a full-scale square wave; a full-scale sine reads -3.0 dB.

**Why the seed's volume thresholds mean something on it** (quiet < -16.4 dB, loud > -10.0 dB,
otherwise normal; tiny-audio's omni table, ``labels.tables``):

- speech has a crest factor (peak over active RMS) of roughly 12-20 dB (espeak-ng speech ~16 dB,
  see ``scripts/make_demo_corpus.py``), so speech peak-normalized to full scale sits at about
  -12 to -20 dB, and the usual delivery level for spoken word, -16 LUFS (Apple's podcast target;
  AES TD1004 recommends -16 to -20 LUFS), lands within a dB or two of -16 dB on this scale;
- *quiet* (< -16.4 dB) is therefore softer than a normalized, delivered recording: a soft talker, a
  distant microphone or a recording left at low gain;
- *loud* (> -10 dB) leaves less headroom than speech's crest factor needs: only compressed or
  limited speech (broadcast style, shouting into a close microphone) or clipped audio gets there;
- in between is the range of peak-normalized, lightly processed speech.

It is a level of the *recording*, not the talker's vocal effort: a corpus normalized per
utterance reads "normal" throughout, and a shout recorded at low gain can read "quiet".
"""

from __future__ import annotations

import math

import numpy as np

from speechsift.features.base import frame_blocks, sample_blocks

# Frame length for the level measure. 20 ms is short enough to separate words from the pauses
# between them and long enough to hold a couple of pitch periods even for a low voice.
FRAME_S = 0.02

# A sample at or above this magnitude counts as clipped: 0.999 is -0.009 dBFS, within one 10-bit
# step of full scale, where converters and float-to-int exports saturate.
CLIP_LEVEL = 0.999

# A frame counts as active speech when its level is within this many dB of the loudest frame.
# 30 dB keeps soft consonants and word endings (typically 15-25 dB below the vowels) but drops
# pauses, breaths and background floor, which sit far lower in clean speech.
ACTIVE_RANGE_DB = 30.0


def _as_mono_float(wave: np.ndarray) -> np.ndarray:
    """Mono float samples of ``wave`` (float32 and float64 as they are, not copied; anything else as
    float64); channels (last axis of a 2-D array) are averaged."""
    x = np.asarray(wave)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float64)
    elif x.ndim != 1:
        raise ValueError(f"wave must be 1-D or 2-D (samples, channels), got shape {x.shape}")
    return x if x.dtype in (np.float32, np.float64) else x.astype(np.float64)


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
        return np.array([math.sqrt(_mean_square(x))])
    return np.concatenate([np.sqrt(np.mean(frames * frames, axis=1))
                           for _, frames in frame_blocks(x, n, n, x.size // n)])


def _mean_square(x: np.ndarray) -> float:
    """Mean of the squared samples (float64), summed a block at a time."""
    return sum(float(np.sum(block * block)) for block in sample_blocks(x)) / x.size


def active_frames(wave: np.ndarray, sr: int, frame_s: float = FRAME_S) -> np.ndarray:
    """Boolean mask over ``frame_rms`` frames: within ``ACTIVE_RANGE_DB`` of the loudest one.

    Shared by ``relative_db`` and speech-duration measures so that both use the same idea of
    where speech is. All False for a silent (all-zero) wave.
    """
    return _active_mask(frame_rms(wave, sr, frame_s))


def relative_db(wave: np.ndarray, sr: int) -> float:
    """Active speech level in dBFS: RMS over the frames within 30 dB of the loudest frame.

    Energy is averaged over the active frames (not their dB values), so this is the RMS a meter
    would read while the talker is speaking. ``-inf`` for an all-zero or empty wave.
    """
    return _active_level_db(frame_rms(wave, sr))


def _active_mask(rms: np.ndarray) -> np.ndarray:
    """``active_frames`` from the frames' RMS."""
    if rms.size == 0 or not np.any(rms > 0):
        return np.zeros(rms.shape, dtype=bool)
    db = _to_db(rms)
    return db >= float(np.max(db)) - ACTIVE_RANGE_DB


def _active_level_db(rms: np.ndarray) -> float:
    """``relative_db`` from the frames' RMS."""
    mask = _active_mask(rms)
    if not np.any(mask):
        return float("-inf")
    return float(_to_db(math.sqrt(float(np.mean(rms[mask] ** 2)))))


def rms_db(wave: np.ndarray) -> float:
    """Plain whole-clip RMS in dBFS, silences included; ``-inf`` for an all-zero or empty wave."""
    x = _as_mono_float(wave)
    if x.size == 0:
        return float("-inf")
    return float(_to_db(math.sqrt(_mean_square(x))))


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


def clipped_fraction(wave: np.ndarray) -> float:
    """Fraction of samples at or above ``CLIP_LEVEL`` in magnitude (0.0 for an empty wave)."""
    x = _as_mono_float(wave)
    if x.size == 0:
        return 0.0
    return sum(int(np.count_nonzero(np.abs(block) >= CLIP_LEVEL)) for block in sample_blocks(x)) / x.size


def measure_loudness(wave: np.ndarray, sr: int) -> dict[str, float]:
    """``rms_db``, ``relative_db`` (dBFS; NaN for digital silence, whose level is -inf) and
    ``clipped_fraction`` (share of samples at full scale)."""
    x = _as_mono_float(wave)
    rms = rms_db(x)
    active = _active_level_db(frame_rms(x, sr))
    return {
        "rms_db": rms if math.isfinite(rms) else float("nan"),
        "relative_db": active if math.isfinite(active) else float("nan"),
        "clipped_fraction": clipped_fraction(x),
    }
