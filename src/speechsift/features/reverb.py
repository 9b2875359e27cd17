"""Reverberation of a clip, ``c50_db``: a blind estimate of the clarity index C50 from the signal alone.

C50 is the ratio, in dB, of the sound energy that reaches the microphone within 50 ms of the
direct sound to the energy that arrives later (ISO 3382-1): high for a close microphone in a dry
room ("close-sounding"), low for a distant talker in a reverberant hall ("distant-sounding").
SIFT-50M bins it into its ``reverberation`` words; DataSpeech takes it from Brouhaha, a neural
model. speechsift estimates it from the **distribution of sub-band decay rates**, the method of
Wen, Habets & Naylor (2008, "Blind estimation of reverberation time based on the distribution of
signal decay rates", ICASSP) as made noise-robust and cheap by Eaton, Gaubitch & Naylor (2013,
"Noise-robust reverberation time estimation using spectral decay distributions with reduced
computational cost", ICASSP):

1. Short-time spectra (``FRAME_S`` Hann window, ``HOP_S`` hop) summed into the octave bands of
   ``BANDS_HZ`` (250 Hz to 4 kHz, where speech has its energy), as levels in dB.
2. In each band, the least-squares slope of the level over a sliding ``SLOPE_WINDOW_S`` window.
   Levels below a bound, ``FLOOR_MARGIN_DB`` above the band's noise floor (its ``FLOOR_QUANTILE``
   level) or ``RANGE_DB`` below the band's peak, whichever is higher, are held at the bound, so the
   noise does not decay and a fall into it counts with the part that can be seen. A falling window
   whose middle is above the bound is a decay observation.
3. ``D``, the ``DECAY_QUANTILE`` quantile of all decay rates (dB/s). Reverberation bounds how fast
   the level can fall after a sound stops, so the fast tail of the distribution follows the room's
   early decay, which is what C50 weighs: a dry clip has decays of 500 dB/s and more (the talker's
   own offsets), a reverberant one none faster than the room allows.
4. Polack's statistical model of a room response (energy falling as ``exp(-2 delta t)``, here with
   ``delta = D ln 10 / 20``) gives the clarity of a pure exponential decay,
   ``C50 = 10 log10(exp(0.1 delta) - 1)`` (Polack 1993, Applied Acoustics 38(2-4)).
5. A linear correction ``c50_db = CAL_SLOPE * C50_polack + CAL_INTERCEPT`` fitted on simulated
   shoebox rooms (``scripts/calibrate_reverb.py``: pyroomacoustics image-source rooms, RT60
   0.15-1.2 s, talker 0.3-4 m from the microphone, espeak-ng speech; the true C50 of each room is
   computed from its impulse response). The raw Polack value compresses the scale because speech
   itself does not stop instantly.

Accuracy (``scripts/calibrate_reverb.py --rooms 40``: espeak-ng speech, two voices and two
sentences, in 40 rooms other than the 40 it was fitted on, true C50 -0.1 to 31.4 dB): Spearman
correlation 0.946 with the true C50, mean absolute error 1.1 dB; dry speech reads 32-36 dB, above
every room. tests/features/test_reverb.py checks the correlation on other rooms with a shorter
sentence (about 0.9: fewer syllables, fewer decays). **Noise**: over the rooms, white noise at 30
and 15 dB SNR keeps the correlation (0.89 and 0.86 for that sentence) and moves the estimates by
about 1 dB; a *dry* clip loses its fastest decays into the noise floor: 31 dB at 30 dB SNR, 21 dB
at 20 dB, 10 dB at 10 dB. Read ``c50_db`` together with ``snr_db``. The method estimates the *early* decay:
it does not give a reliable RT60 (in the same rooms its decay time tracked RT60 with a correlation
of only about 0.8 and read short in large reverberant rooms), so no RT60 column is written.

Values are clamped to ``[C50_MIN_DB, C50_MAX_DB]``. NaN for a clip too short for one slope window,
silence, or one with fewer than ``MIN_DECAYS`` decay observations (about 0.2 s of speech).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import fft as sp_fft

from speechsift.features.base import BLOCK_SAMPLES, NAN, frame_blocks, prepare_wave

FRAME_S = 0.032  # analysis window: 512 samples at 16 kHz
HOP_S = 0.008  # 8 ms: resolves decays of up to ~1000 dB/s over the slope window
SLOPE_WINDOW_S = 0.064  # least-squares slope over 64 ms (8 frames)
BANDS_HZ = ((250.0, 500.0), (500.0, 1000.0), (1000.0, 2000.0), (2000.0, 4000.0))
FLOOR_QUANTILE = 0.10  # a band's noise floor: the level it exceeds 90 % of the time
FLOOR_MARGIN_DB = 10.0  # decays must stay this far above the floor (Eaton et al.: noise robustness)
RANGE_DB = 50.0  # ... and within this range of the band's loudest frame
DECAY_QUANTILE = 0.90  # the fast tail of the decay-rate distribution
MIN_DECAYS = 20  # fewer decay observations cannot make a distribution

# Linear correction of Polack's C50, fitted by scripts/calibrate_reverb.py (see the module docstring).
CAL_SLOPE = 1.84
CAL_INTERCEPT = -9.3

# Clamp range. 50 dB is beyond any measured room (a dry booth with a close microphone reads about
# 30 dB); -10 dB is below any talker one can still understand in a reverberant hall.
C50_MAX_DB = 50.0
C50_MIN_DB = -10.0


def band_levels_db(wave: np.ndarray, sr: int) -> np.ndarray:
    """Levels in dB of the ``BANDS_HZ`` octave bands, ``(bands, frames)``; empty when the wave is
    shorter than one analysis window."""
    x = prepare_wave(wave, sr)
    win = max(2, round(FRAME_S * sr))
    hop = max(1, round(HOP_S * sr))
    if x.size < win:
        return np.zeros((len(BANDS_HZ), 0))
    n_frames = (x.size - win) // hop + 1
    window = np.hanning(win)
    freq = np.fft.rfftfreq(win, 1.0 / sr)
    bands = [(freq >= low) & (freq < high) for low, high in BANDS_HZ]
    levels = np.empty((len(BANDS_HZ), n_frames))
    for i0, frames in frame_blocks(x, win, hop, n_frames):
        spectrum = sp_fft.rfft(frames * window, axis=1)
        power = spectrum.real**2 + spectrum.imag**2
        for i, band in enumerate(bands):
            with np.errstate(divide="ignore"):
                levels[i, i0 : i0 + len(frames)] = 10.0 * np.log10(power[:, band].sum(axis=1)) if band.any() else -np.inf
    return levels


def decay_rates(wave: np.ndarray, sr: int) -> np.ndarray:
    """Every decay observation of the clip, in dB/s (positive: how fast the level falls)."""
    levels = band_levels_db(wave, sr)
    n = max(3, round(SLOPE_WINDOW_S / HOP_S))
    if levels.shape[1] < n:
        return np.zeros(0)
    offsets = (np.arange(n) - (n - 1) / 2) * HOP_S
    weights = offsets / np.sum(offsets**2)  # least-squares slope of n equally spaced points
    rates = []
    for level in levels:
        finite = level[np.isfinite(level)]
        if finite.size < n:
            continue
        floor = float(np.quantile(finite, FLOOR_QUANTILE))
        bound = max(floor + FLOOR_MARGIN_DB, float(finite.max()) - RANGE_DB)
        # Below the bound is noise (or digital silence): held at the bound, a decay into it counts
        # with the part of its fall that can be seen, and a window of noise alone is flat.
        windows = np.lib.stride_tricks.sliding_window_view(np.maximum(np.nan_to_num(level, neginf=bound), bound), n)
        for start in range(0, len(windows), BLOCK_SAMPLES // n):  # the slopes a block of windows at a time
            part = windows[start : start + BLOCK_SAMPLES // n]
            slope = part @ weights
            usable = (slope < 0) & (part[:, n // 2] > bound)
            rates.append(-slope[usable])
    return np.concatenate(rates) if rates else np.zeros(0)


def polack_c50_db(decay_db_per_s: float) -> float:
    """C50 of an exponential energy decay falling ``decay_db_per_s`` dB per second (Polack's model)."""
    x = 0.1 * decay_db_per_s * math.log(10) / 20.0  # 0.1 s times delta, the amplitude decay rate
    if x <= 0:
        return -math.inf
    return 10.0 * (x / math.log(10) if x > 50 else math.log10(math.expm1(x)))  # expm1(x) ~ exp(x) there


def estimate_c50_db(wave: np.ndarray, sr: int) -> float:
    """``c50_db`` (see the module docstring); NaN when the clip has too few decays to measure."""
    rates = decay_rates(wave, sr)
    if rates.size < MIN_DECAYS:
        return NAN
    raw = polack_c50_db(float(np.quantile(rates, DECAY_QUANTILE)))
    return min(C50_MAX_DB, max(C50_MIN_DB, CAL_SLOPE * raw + CAL_INTERCEPT))


def measure_reverb(wave: np.ndarray, sr: int) -> dict[str, float]:
    """``c50_db``: the blind clarity estimate in dB (higher: closer-sounding, drier)."""
    return {"c50_db": estimate_c50_db(wave, sr)}
