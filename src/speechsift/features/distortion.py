"""Distortion of a clip: clipping and band-limiting, measured from the signal alone, as one
signal-to-distortion ratio ``distortion_sdr_db`` (plus ``clipping_ratio`` and ``bandwidth_hz``).

SIFT-50M bins an SI-SDR-like score into its six ``distortion_level`` words. SI-SDR needs the clean
signal; speechsift estimates, without it, the distortion energy the two commonest recording and
transcoding faults leave, each with a stated model, and adds them:

- **Clipping.** ``clipping_ratio`` is the share of active-speech samples (the 20 ms frames within
  30 dB of the loudest, ``loudness.active_frames``) whose magnitude is within ``CLIP_TOLERANCE`` of
  the clip's own peak: a clipped waveform piles samples up at its ceiling whatever level it was
  scaled to afterwards (the amplitude-histogram test of clipping, as in Aleinik, Matveev & Raev
  2014, "Detection of clipped fragments in speech signals"). Speech
  samples are close to Laplacian (Paez & Glisson 1972, IEEE Trans. Commun. 20(2)); for a Laplacian
  signal clipped at any level, the mean square of what is cut off equals the signal's mean square
  times the share of samples clipped (the overshoot beyond the ceiling is again exponential with
  the same scale), so the clipping alone gives ``SDR = -10 log10(clipping_ratio)``: 1 % clipped
  samples is 20 dB, 10 % is 10 dB.
- **Band-limiting** (a telephone channel, a low-pass, a low-bitrate codec's cut-off).
  ``bandwidth_hz`` is the highest frequency where the long-term spectrum of the active frames is
  within ``BANDWIDTH_RANGE_DB`` of its peak. The energy missing above it is estimated by carrying
  the spectrum on, from the cut-off to the Nyquist frequency, at speech's typical tilt
  (``SPEECH_TILT_DB_PER_OCTAVE``) from its mean level over the octave ``[bandwidth/4,
  bandwidth/2]``, below the filter's transition band; the missing share of the energy is the
  band-limiting's distortion. A clip whose band reaches
  ``FULL_BAND_SHARE`` of the Nyquist frequency is not band-limited.

``distortion_sdr_db = -10 log10(clipping share + missing-band share)``, clamped to
``[SDR_MIN_DB, SDR_MAX_DB]``: higher is cleaner, as with SI-SDR. Noise is not distortion here
(``snr_db`` measures it), and codec artefacts other than the cut-off (quantization noise, pre-echo)
are rated by DNSMOS' SIG score (the opt-in ``quality_p835`` feature, ``dnsmos_sig``: P.835's
speech-distortion rating), not by this measure.

Accuracy (tests/features/test_quality_distortion.py, espeak-ng speech): clipping at 50 %, 25 %,
10 % and 5 % of the peak, low-passes at 6, 4, 2 and 1 kHz and MP3 at 64, 32, 16 and 8 kbit/s give
scores ordered as the degradation (MP3 at 64 and 32 kbit/s keep the same band at 16 kHz and tie).
NaN for silence or a clip shorter than ``MIN_DURATION_S``.
"""

from __future__ import annotations

import math

import numpy as np

from speechsift.features.base import NAN, frame_blocks, peak_power, prepare_wave
from speechsift.features.loudness import ACTIVE_RANGE_DB, FRAME_S, active_frames
from speechsift.features.vad import SILENCE_DBFS, Spectrogram

CLIP_TOLERANCE = 0.02  # within 2 % of the peak: flat tops that resampling or coding rippled a little
BANDWIDTH_RANGE_DB = 50.0  # the band ends where the long-term spectrum is 50 dB below its peak
FULL_BAND_SHARE = 0.95  # a band reaching 95 % of Nyquist is the full band of the recording
# The long-term spectrum of speech above ~500 Hz falls about 6 dB per octave: the glottal source's
# -12 dB/octave plus the +6 dB/octave of radiation from the lips (Fant 1960, Acoustic Theory of
# Speech Production).
SPEECH_TILT_DB_PER_OCTAVE = -6.0
SDR_MAX_DB = 50.0  # ~ a handful of samples at the peak in a few seconds of clean speech
SDR_MIN_DB = -10.0
MIN_DURATION_S = 0.1  # a few analysis frames; shorter clips have no long-term spectrum

COLUMNS = ("distortion_sdr_db", "clipping_ratio", "bandwidth_hz")


def clipping_ratio(wave: np.ndarray, sr: int) -> float:
    """Share of active-speech samples within ``CLIP_TOLERANCE`` of the clip's peak magnitude.

    Two passes over the active frames: each frame's peak, then, in the frames that reach the
    threshold, the samples that do.
    """
    x = prepare_wave(wave, sr)
    frame = max(1, round(FRAME_S * sr))
    mask = active_frames(x, sr)
    if not mask.any():
        return NAN
    if x.size < frame:  # one short frame: the whole clip
        magnitude = np.abs(x.astype(np.float64))
        return float(np.count_nonzero(magnitude >= (1.0 - CLIP_TOLERANCE) * float(magnitude.max()))) / x.size
    frame_peak = np.concatenate([np.abs(frames).max(axis=1) for _, frames in frame_blocks(x, frame, frame, mask.size)])
    threshold = (1.0 - CLIP_TOLERANCE) * float(frame_peak[mask].max())
    reaching = mask & (frame_peak >= threshold)
    clipped = sum(int(np.count_nonzero(np.abs(frames[reaching[i0 : i0 + len(frames)]]) >= threshold))
                  for i0, frames in frame_blocks(x, frame, frame, mask.size) if reaching[i0 : i0 + len(frames)].any())
    return clipped / (int(np.count_nonzero(mask)) * frame)


def long_term_spectrum(wave: np.ndarray, sr: int, *, spectrogram: Spectrogram | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``(freq_hz, power)``: the mean power spectrum of the frames within 30 dB of the loudest
    (``spectrogram``: the clip's, when the caller has it)."""
    spectrogram = spectrogram if spectrogram is not None else Spectrogram(wave, sr)
    frame_power = spectrogram.frame_power
    active = frame_power >= frame_power.max() * 10 ** (-ACTIVE_RANGE_DB / 10)
    total = sum(spectra[active[i0 : i0 + len(spectra)]].sum(axis=0) for i0, spectra in spectrogram.blocks())
    return spectrogram.freq_hz, total / int(np.count_nonzero(active))


def band_limit(freq: np.ndarray, power: np.ndarray) -> tuple[float, float]:
    """``(bandwidth_hz, missing share of the energy)`` from a long-term spectrum (module docstring)."""
    with np.errstate(divide="ignore"):
        level = 10.0 * np.log10(power)
    top = float(level.max())
    bandwidth = float(freq[np.flatnonzero(level >= top - BANDWIDTH_RANGE_DB)[-1]])
    nyquist = float(freq[-1])
    reference = (freq >= bandwidth / 4) & (freq <= bandwidth / 2)
    if bandwidth >= FULL_BAND_SHARE * nyquist or not reference.any():
        return bandwidth, 0.0
    # The octave [bandwidth/4, bandwidth/2] stands at its geometric centre; above the cut-off the
    # spectrum is carried on at SPEECH_TILT_DB_PER_OCTAVE from there.
    centre = bandwidth / (2 * math.sqrt(2))
    above = freq > bandwidth
    carried = float(np.mean(power[reference])) * 10 ** (SPEECH_TILT_DB_PER_OCTAVE * np.log2(freq[above] / centre) / 10)
    missing = float(np.sum(carried))
    return bandwidth, missing / (float(np.sum(power[~above])) + missing)


def measure_distortion(wave: np.ndarray, sr: int, *, spectrogram: Spectrogram | None = None) -> dict[str, float]:
    """``distortion_sdr_db`` (higher: cleaner), ``clipping_ratio`` and ``bandwidth_hz``
    (``spectrogram``: the clip's ``vad.Spectrogram``, when the caller has it)."""
    x = prepare_wave(wave, sr)
    if x.size < MIN_DURATION_S * sr or peak_power(x) <= 10 ** (SILENCE_DBFS / 10):
        return dict.fromkeys(COLUMNS, NAN)
    clipped = clipping_ratio(x, sr)
    bandwidth, missing = band_limit(*long_term_spectrum(x, sr, spectrogram=spectrogram))
    share = (0.0 if math.isnan(clipped) else clipped) + missing
    sdr = SDR_MAX_DB if share <= 0 else min(SDR_MAX_DB, max(SDR_MIN_DB, -10.0 * math.log10(share)))
    return {"distortion_sdr_db": sdr, "clipping_ratio": clipped, "bandwidth_hz": bandwidth}
