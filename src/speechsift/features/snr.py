"""Signal-to-noise ratio of a clip, ``snr_db``: speech power while talking over the noise floor.

Definition (an *active-speech* SNR, as a listener judges a noisy recording and as frame-level
estimators such as Brouhaha, used by DataSpeech, report it)::

    snr_db = 10 * log10( E_signal / (n_speech_frames * noise_power) )
    E_signal = sum over all frames of (frame_power - noise_power)

``noise_power`` is the spectral noise floor of ``features.vad`` (per-bin 10 % quantile over time,
median-smoothed across frequency), and ``n_speech_frames`` counts the VAD's speech frames.
The numerator sums over *every* frame, so it is the clip's signal energy with no dependence on
where the VAD put its boundaries: noise-only frames add zero on average. Only the denominator (how
long the talker spoke) comes from the VAD. For a steady signal over the whole clip (a tone in
noise) this is the ordinary global SNR.

Accuracy (tests/features/test_snr.py): within 3 dB, typically 1 dB, for tones and espeak-ng
speech in white or pink noise at 0-30 dB. Limits, by construction: the noise must be roughly
stationary over the clip (a floor that rises and falls is averaged at its quieter end); noise
concentrated below ~100 Hz (rumble) fluctuates enough to pass for speech and reads about 0 dB;
a perfectly steady signal with no noise at all (a synthetic tone) reads ~40 dB, the leakage floor
of the Hann window. Values are clamped to ``[SNR_MIN_DB, SNR_MAX_DB]``; digitally clean audio
(zero noise floor) reads ``SNR_MAX_DB``.
NaN when the clip is shorter than ``vad.NOISE_MIN_FRAMES`` frames (~0.18 s) or holds no speech.
"""

from __future__ import annotations

import math

import numpy as np

from speechsift.features.base import NAN
from speechsift.features.vad import NOISE_FLOOR_EPS, VoiceActivity, detect_speech

# Clamp range. 100 dB is the top of WADA-SNR's table (Kim & Stern 2008) and beyond any real
# recording chain; -20 dB is where speech is no longer audible to a listener in white noise.
SNR_MAX_DB = 100.0
SNR_MIN_DB = -20.0


def snr_from_activity(vad: VoiceActivity) -> float:
    """``snr_db`` from a finished voice-activity analysis (NaN when it cannot be measured)."""
    n_speech = int(np.count_nonzero(vad.speech))
    if not vad.has_noise_estimate or n_speech == 0:
        return NAN
    noise = vad.noise_power
    signal_energy = float(np.sum(vad.frame_power - noise))
    if noise <= NOISE_FLOOR_EPS:
        return SNR_MAX_DB
    if signal_energy <= 0:
        return SNR_MIN_DB
    snr = 10.0 * math.log10(signal_energy / (n_speech * noise))
    return min(SNR_MAX_DB, max(SNR_MIN_DB, snr))


def measure_snr(wave: np.ndarray, sr: int, *, vad: VoiceActivity | None = None) -> dict[str, float]:
    """``snr_db``: active-speech SNR in dB (see the module docstring)."""
    vad = vad if vad is not None else detect_speech(wave, sr)
    return {"snr_db": snr_from_activity(vad)}
