"""Acoustic measurements of a clip: duration, loudness, pitch, speaking rate, SNR, quality, reverberation,
distortion.

One entry point, ``measure(wave, sr, features, text, language)``, over decoded samples
(``audio.load``: mono float32, 16 kHz), and ``measure_clip(clip, features)``, which decodes the
clip once and calls it. Every feature name gives a fixed set of flat columns named with their
unit (``FEATURE_COLUMNS``); a value that cannot be measured is NaN, never a missing key, so every
clip of a batch has the same columns. Only a wave that is not audio at all (empty, NaN samples)
raises ``FeatureError``, whose ``reason`` is a reject code.

| feature      | columns                                                               | module              |
|--------------|-----------------------------------------------------------------------|---------------------|
| duration     | duration_s, speech_duration_s                                         | features.vad        |
| loudness     | rms_db, relative_db, clipped_fraction                                 | features.loudness   |
| pitch        | f0_median_hz, f0_mean_hz, f0_std_hz, f0_std_st, voiced_fraction       | features.pitch      |
| rate         | speaking_rate (phonemes/s of speech), syllables_per_s                 | features.rate       |
| snr          | snr_db                                                                | features.snr        |
| quality      | dnsmos_p808 (DNSMOS P.808 MOS, 1-5)                                   | features.quality    |
| quality_p835 | dnsmos_sig, dnsmos_bak, dnsmos_ovrl (DNSMOS P.835, 1-5; opt-in, slow) | features.quality    |
| reverb       | c50_db (blind clarity estimate)                                       | features.reverb     |
| distortion   | distortion_sdr_db, clipping_ratio, bandwidth_hz                       | features.distortion |

Everything is numpy/scipy plus the bundled CMU Pronouncing Dictionary; non-English speaking
rates also need the espeak-ng program (missing -> NaN rate, one warning). ``quality`` and
``quality_p835`` need the ``quality`` extra (onnxruntime and the speechmos package, which ships the
DNSMOS models): ``check_features`` raises ConfigError with the install command when it is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from speechsift.errors import ConfigError
from speechsift.features.base import FeatureError, finite_or_nan, prepare_wave
from speechsift.features.distortion import measure_distortion
from speechsift.features.loudness import measure_loudness
from speechsift.features.pitch import measure_pitch
from speechsift.features.rate import measure_rate
from speechsift.features.reverb import measure_reverb
from speechsift.features.snr import measure_snr
from speechsift.features.vad import Spectrogram, detect_speech, measure_duration

if TYPE_CHECKING:
    from speechsift.records import Clip

# Bumped whenever a definition changes in a way that moves values (a threshold, an algorithm):
# bin edges fitted on one version's values (labels.bins) record it and warn on another.
MEASUREMENT_VERSION = 1

FEATURE_COLUMNS: dict[str, tuple[str, ...]] = {
    "duration": ("duration_s", "speech_duration_s"),
    "loudness": ("rms_db", "relative_db", "clipped_fraction"),
    "pitch": ("f0_median_hz", "f0_mean_hz", "f0_std_hz", "f0_std_st", "voiced_fraction"),
    "rate": ("speaking_rate", "syllables_per_s"),
    "snr": ("snr_db",),
    "quality": ("dnsmos_p808",),
    "quality_p835": ("dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl"),
    "reverb": ("c50_db",),
    "distortion": ("distortion_sdr_db", "clipping_ratio", "bandwidth_hz"),
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURE_COLUMNS)
# The features that run DNSMOS and need the quality extra (features.quality).
_DNSMOS = frozenset({"quality", "quality_p835"})
# What `speechsift features` measures when no feature is named: all but the DNSMOS ones, which need
# the quality extra (README "Measured labels").
DEFAULT_FEATURES: tuple[str, ...] = tuple(name for name in FEATURE_NAMES if name not in _DNSMOS)

# The features that share the voice-activity analysis (computed once per clip), and those that
# share its spectrogram.
_USES_VAD = frozenset({"duration", "rate", "snr"})
_USES_SPECTROGRAM = _USES_VAD | {"distortion"}


def check_features(features: Sequence[str]) -> tuple[str, ...]:
    """The requested feature names, validated and de-duplicated in order; ConfigError names the
    unknown ones and lists the valid ones, or says what to install for ``quality``/``quality_p835``."""
    if isinstance(features, str):
        features = [features]
    unknown = [name for name in features if name not in FEATURE_COLUMNS]
    if unknown:
        raise ConfigError(f"unknown feature(s) {', '.join(map(repr, unknown))}: choose from "
                          f"{', '.join(FEATURE_NAMES)}")
    for name in [name for name in features if name in _DNSMOS]:
        from speechsift.features.quality import check_available

        check_available(name)
    return tuple(dict.fromkeys(features))


def columns_for(features: Sequence[str]) -> tuple[str, ...]:
    """The columns ``measure`` returns for these feature names, in order."""
    return tuple(column for name in check_features(features) for column in FEATURE_COLUMNS[name])


def measure(wave: np.ndarray, sr: int, features: Sequence[str] = FEATURE_NAMES, text: str | None = None,
            language: str | None = None) -> dict[str, float]:
    """Measure ``features`` on one decoded clip; returns ``{column: float}`` (NaN = not measurable).

    Args:
        wave: samples, 1-D (or 2-D samples x channels, averaged), float in [-1, 1] or PCM integers.
        sr: sampling rate in Hz (any; speechsift decodes at 16 kHz).
        features: names from ``FEATURE_NAMES``; unknown names raise ConfigError.
        text: the transcript, for ``rate`` (NaN rate without it).
        language: the transcript's language code; None means English.

    Raises:
        FeatureError: the wave is empty, holds NaN/inf samples or has a bad shape (``reason`` is
            the reject code).
        ConfigError: an unknown feature name.
    """
    names = check_features(features)
    x = prepare_wave(wave, sr)  # the wave as it is (float32 from audio.load), not copied
    spectrogram = Spectrogram(x, sr) if _USES_SPECTROGRAM.intersection(names) else None
    vad = detect_speech(x, sr, spectrogram=spectrogram) if _USES_VAD.intersection(names) else None
    out: dict[str, float] = {}
    for name in names:
        if name == "duration":
            out.update(measure_duration(x, sr, vad=vad))
        elif name == "loudness":
            out.update(measure_loudness(x, sr))
        elif name == "pitch":
            out.update(measure_pitch(x, sr))
        elif name == "rate":
            out.update(measure_rate(x, sr, text, language, vad=vad))
        elif name == "snr":
            out.update(measure_snr(x, sr, vad=vad))
        elif name == "quality":
            from speechsift.features.quality import measure_quality  # onnxruntime: the quality extra

            out.update(measure_quality(x, sr))
        elif name == "quality_p835":
            from speechsift.features.quality import measure_quality_p835

            out.update(measure_quality_p835(x, sr))
        elif name == "reverb":
            out.update(measure_reverb(x, sr))
        elif name == "distortion":
            out.update(measure_distortion(x, sr, spectrogram=spectrogram))
    return {column: finite_or_nan(value) for column, value in out.items()}


def measure_clip(clip: Clip, features: Sequence[str] = FEATURE_NAMES) -> dict[str, float]:
    """Decode ``clip`` once (mono, 16 kHz, ``audio.load``) and ``measure`` it with its text and language.

    Raises AudioLoadError (from ``audio.load``) and FeatureError, both with a ``reason`` code.
    """
    from speechsift import audio

    wave, sr = audio.load(clip.audio)
    return measure(wave, sr, features, text=clip.text, language=clip.language)


__all__ = [
    "FEATURE_COLUMNS",
    "DEFAULT_FEATURES",
    "FEATURE_NAMES",
    "MEASUREMENT_VERSION",
    "FeatureError",
    "check_features",
    "columns_for",
    "measure",
    "measure_clip",
]
