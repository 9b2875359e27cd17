"""Where the speech is: an energy voice-activity detector with a spectral noise-floor estimate.

One short-time power spectrum serves three measurements: the speech duration (``speech_duration_s``,
the basis of the speaking rate), the noise floor and the SNR (``features.snr``).

**Noise floor.** For each frequency bin, the ``NOISE_QUANTILE`` (10 %) quantile of its power over
time, divided by ``-ln(1 - q)``: for Gaussian noise a bin's periodogram value is exponentially
distributed, so its q-quantile is ``-ln(1 - q)`` times its mean, and the quotient is an unbiased
estimate of the noise power in that bin. A low quantile only needs the bin to be free of speech in
a tenth of the frames (pauses, gaps between words, unvoiced stretches for the low bins), which
makes it a percentile form of minimum statistics (Martin 2001, IEEE TSAP 9(5)). The per-bin
estimates are then median-filtered across ``NOISE_SMOOTH_BINS`` bins, so that a steady tone (a hum,
a test tone) is not mistaken for noise: noise spectra are smooth, tones are a few bins wide.
When the clip has enough pause frames (within ``NOISE_REFINE_MARGIN_DB`` of that estimate), their
mean power replaces it: exact for any stationary noise, where the quantile would overestimate
in clean speech with few pauses. Each frame's mean is removed first, so DC and rumble below
~30 Hz (inaudible) count neither as noise nor as speech.

**Speech frames.** A frame is speech when all of these hold:

1. its power is at least ``VAD_NOISE_MARGIN_DB`` above the noise floor (skipped when the clip is
   too short for a noise estimate, fewer than ``NOISE_MIN_FRAMES`` frames);
2. it is within ``ACTIVE_RANGE_DB`` (30 dB, the same range as ``loudness.relative_db``) of the
   loudest frame, so clean recordings with digital silence keep only the talker;
3. the loudest frame is above ``SILENCE_DBFS``; a clip below it has no speech at all.

Gaps shorter than ``MIN_PAUSE_S`` (250 ms) between speech frames are filled (stop closures and
short breaks are part of speaking), then runs shorter than ``MIN_SPEECH_RUN_S`` are dropped (clicks).
``speech_duration_s`` is therefore the talking time without pauses of 250 ms or more.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import fft as sp_fft
from scipy.ndimage import median_filter

from speechsift.features.base import NAN, frame_blocks, kth_smallest_per_column, prepare_wave
from speechsift.features.loudness import ACTIVE_RANGE_DB

# Analysis frame and hop. 32 ms (512 samples at 16 kHz) resolves the noise spectrum in 31 Hz bins;
# a 16 ms hop gives the speech duration a 16 ms grain.
FRAME_S = 0.032
HOP_S = 0.016

# Noise floor: per-bin low quantile over time (see the module docstring), smoothed across bins.
NOISE_QUANTILE = 0.10
NOISE_SMOOTH_BINS = 15  # 470 Hz at 16 kHz / 512 points; a Hann main lobe is 4 bins wide
NOISE_MIN_FRAMES = 10  # fewer frames (under ~0.18 s) give no noise estimate: SNR is NaN
# Refinement: the quantile is exact only when most of a bin's low tail is noise alone; in clean
# speech with few pauses it overestimates. The pause frames (within 2 dB of the estimate) then give
# the noise power directly as their mean. 2 dB is wide enough for the frame-to-frame scatter of
# coloured noise (white noise scatters by ~0.35 dB, pink by more) and below 3 dB, so a steady
# signal at 0 dB SNR (frames 3 dB above the floor) is never taken for noise.
NOISE_REFINE_MARGIN_DB = 2.0
NOISE_REFINE_ITERATIONS = 3

# A speech frame is this much above the noise floor. The power of a 32 ms frame of white noise
# fluctuates by about 0.35 dB (one standard deviation), so 3 dB is ~9 sigma clear of noise frames,
# while a tone at 0 dB SNR (frames 3.01 dB above the floor) still counts once gaps are filled.
VAD_NOISE_MARGIN_DB = 3.0

# Below this level (dBFS, mean square of the loudest frame) a clip is silence: 16-bit dither and
# the self-noise of a quiet room sit far lower in any usable recording.
SILENCE_DBFS = -70.0

# Pauses shorter than 250 ms are not counted as pauses: the usual threshold for silent pauses in
# speech-rate research since Goldman-Eisler (1968), shorter gaps being mostly stop closures.
MIN_PAUSE_S = 0.25
# Speech runs shorter than this are clicks, not speech (two frames).
MIN_SPEECH_RUN_S = 0.03

# How far a 32 ms Hann window reaches past a sound's edge while the frame still reads as speech
# (within 30 dB of the peak): about 14 ms at each end of a run (measured on tone bursts, 0.05-2.5 s).
EDGE_SPILL_S = 0.014

# Noise power below this (mean square, -150 dBFS) is treated as none: digitally clean audio.
NOISE_FLOOR_EPS = 1e-15


@dataclass(frozen=True, slots=True)
class VoiceActivity:
    """Frame-level analysis of one clip; ``frame_power`` and ``noise_power`` are mean squares."""

    sr: int
    n_samples: int
    hop: int
    win: int
    frame_power: np.ndarray  # (frames,) mean square of each windowed frame
    speech: np.ndarray  # (frames,) bool
    noise_power: float  # NaN when the clip is too short to estimate it

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sr

    @property
    def speech_duration_s(self) -> float:
        """Seconds of speech, summed over runs of speech frames.

        A run of frames ``a..b`` spans from frame ``a``'s centre to frame ``b``'s centre plus one
        hop, less ``EDGE_SPILL_S``: a 32 ms window still sees a sound ~14 ms after it stops and
        before it starts, so a run overshoots the sound by about that much at each end. A run that
        touches the first or last frame extends to that end of the clip instead.
        """
        spill = EDGE_SPILL_S * self.sr
        total = 0.0
        last = self.speech.size - 1
        for a, b in _runs(self.speech):
            centre_a = a * self.hop + self.win / 2
            centre_b = b * self.hop + self.win / 2
            start = 0.0 if a == 0 else centre_a - self.hop / 2 + spill
            end = float(self.n_samples) if b == last else centre_b + self.hop / 2 - spill
            total += max(end - start, float(self.hop))
        return min(total / self.sr, self.duration_s)

    @property
    def has_noise_estimate(self) -> bool:
        return not math.isnan(self.noise_power)


def _frame_length(sr: int, seconds: float) -> int:
    return max(1, round(seconds * sr))


class Spectrogram:
    """Hann-windowed power spectra of a clip, ``(frames, bins)``, computed a block at a time.

    Each frame's spectrum is scaled so that, summed with the one-sided weights, it gives the
    frame's mean square, ``frame_power``, which is kept (one float per frame). The clip is
    zero-padded to cover its tail; a clip shorter than one frame is a single frame of its own
    length. ``blocks()`` hands out the spectra block by block (``base.frame_blocks``): kept when the
    clip is one block (``whole``), computed again on each pass over a longer one, so a long clip
    never holds its spectrogram.
    """

    def __init__(self, wave: np.ndarray, sr: int) -> None:
        self.x = prepare_wave(wave, sr)
        self.sr = sr
        self.win = _frame_length(sr, FRAME_S)
        self.hop = _frame_length(sr, HOP_S)
        if self.x.size < self.win:
            self.win = self.hop = self.x.size
        self.n_frames = 1 + math.ceil(max(0, self.x.size - self.win) / self.hop)
        self.window = np.hanning(self.win + 2)[1:-1] if self.win > 2 else np.ones(self.win)
        weights = np.full(self.win // 2 + 1, 2.0)
        weights[0] = 1.0
        if self.win % 2 == 0:
            weights[-1] = 1.0
        self.scale = weights / (self.win * float(np.sum(self.window * self.window)))
        powers, whole = [], None
        for i0, spectra in self._computed():
            powers.append(spectra.sum(axis=1))
            whole = spectra if i0 == 0 else None
        self.frame_power = np.concatenate(powers)
        self.whole: np.ndarray | None = whole  # the spectra, kept when the clip is one block

    def _computed(self):
        for i0, frames in frame_blocks(self.x, self.win, self.hop, self.n_frames):
            frames = frames - frames.mean(axis=1, keepdims=True)  # a DC offset is neither speech nor noise
            spectrum = sp_fft.rfft(frames * self.window, axis=1)
            yield i0, (spectrum.real ** 2 + spectrum.imag ** 2) * self.scale

    def blocks(self) -> Iterator[tuple[int, np.ndarray]]:
        """``(index of the first frame, spectra (m, bins))`` for every frame, a block at a time."""
        if self.whole is not None:
            yield 0, self.whole
        else:
            yield from self._computed()

    @property
    def freq_hz(self) -> np.ndarray:
        return np.fft.rfftfreq(self.win, 1.0 / self.sr)


def noise_power(spectrogram: Spectrogram) -> float:
    """Mean-square noise power (see the module docstring); NaN when there are fewer than
    ``NOISE_MIN_FRAMES`` frames.

    First the per-bin quantile estimate, then up to ``NOISE_REFINE_ITERATIONS`` refinements: the
    mean power of the frames within ``NOISE_REFINE_MARGIN_DB`` of the current estimate, when
    there are at least ``NOISE_MIN_FRAMES`` of them.
    """
    frame_power = spectrogram.frame_power
    if frame_power.size < NOISE_MIN_FRAMES:
        return NAN
    k = int(NOISE_QUANTILE * (frame_power.size - 1))  # the order statistic at the quantile
    if spectrogram.whole is not None:
        per_bin = np.partition(spectrogram.whole, k, axis=0)[k]
    else:  # the same order statistic, selected over the blocks without holding them
        per_bin = kth_smallest_per_column(lambda: (spectra for _, spectra in spectrogram.blocks()), k)
    per_bin = per_bin / -math.log1p(-NOISE_QUANTILE)
    if per_bin.size >= NOISE_SMOOTH_BINS:
        per_bin = median_filter(per_bin, size=NOISE_SMOOTH_BINS, mode="reflect")
    noise = float(per_bin.sum())
    for _ in range(NOISE_REFINE_ITERATIONS):
        quiet = frame_power[frame_power <= noise * 10 ** (NOISE_REFINE_MARGIN_DB / 10)]
        if quiet.size < NOISE_MIN_FRAMES:
            break
        noise = float(quiet.mean())
    return noise


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` frame index of each run of True values."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return list(zip(np.flatnonzero(edges == 1).tolist(), (np.flatnonzero(edges == -1) - 1).tolist()))


def _fill_gaps(mask: np.ndarray, max_gap: int) -> np.ndarray:
    """``mask`` with False runs of at most ``max_gap`` frames between two True frames set True."""
    idx = np.flatnonzero(mask)
    if idx.size < 2 or max_gap <= 0:
        return mask
    out = mask.copy()
    gaps = np.diff(idx) - 1
    for start, gap in zip(idx[:-1][(gaps > 0) & (gaps <= max_gap)], gaps[(gaps > 0) & (gaps <= max_gap)]):
        out[start + 1 : start + 1 + gap] = True
    return out


def _drop_short_runs(mask: np.ndarray, min_run: int) -> np.ndarray:
    """``mask`` with True runs shorter than ``min_run`` frames set False."""
    if min_run <= 1 or not mask.any():
        return mask
    out = mask.copy()
    for first, last in _runs(mask):
        if last - first + 1 < min_run:
            out[first : last + 1] = False
    return out


def detect_speech(wave: np.ndarray, sr: int, *, spectrogram: Spectrogram | None = None) -> VoiceActivity:
    """Speech frames and noise floor of a clip (rules in the module docstring); ``spectrogram``:
    the clip's, when the caller has it already.

    Raises FeatureError for a wave that is not audio (empty, non-finite samples).
    """
    spectrogram = spectrogram if spectrogram is not None else Spectrogram(wave, sr)
    power, hop = spectrogram.frame_power, spectrogram.hop
    noise = noise_power(spectrogram)
    loudest = float(power.max())
    if loudest <= 10 ** (SILENCE_DBFS / 10):
        speech = np.zeros(power.shape, dtype=bool)
    else:
        speech = power >= loudest * 10 ** (-ACTIVE_RANGE_DB / 10)
        if not math.isnan(noise):
            speech &= power >= max(noise, NOISE_FLOOR_EPS) * 10 ** (VAD_NOISE_MARGIN_DB / 10)
        speech = _fill_gaps(speech, int(MIN_PAUSE_S * sr / hop))
        speech = _drop_short_runs(speech, max(1, math.ceil(MIN_SPEECH_RUN_S * sr / hop)))
    return VoiceActivity(sr, spectrogram.x.size, hop, spectrogram.win, power, speech, noise)


def measure_duration(wave: np.ndarray, sr: int, *, vad: VoiceActivity | None = None) -> dict[str, float]:
    """``duration_s`` (the whole clip) and ``speech_duration_s`` (talking time, pauses >= 250 ms out)."""
    vad = vad if vad is not None else detect_speech(wave, sr)
    return {"duration_s": vad.duration_s, "speech_duration_s": vad.speech_duration_s}
