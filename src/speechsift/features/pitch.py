"""Fundamental frequency (F0): Praat's autocorrelation pitch tracker, in numpy.

The algorithm is Boersma (1993), "Accurate short-term analysis of the fundamental frequency and
the harmonics-to-noise ratio of a sampled sound", IFA Proceedings 17: 97-110, as Praat's
``Sound: To Pitch (ac)...`` runs it with its default settings (the constants below are Praat's
defaults and names). It is implemented here from the paper and the Praat manual, not from Praat's
GPL source, so speechsift needs no GPL package at run time; ``tests/features/test_pitch.py``
checks it against Praat itself (``praat-parselmouth``, a development-only dependency) when that
is installed.

Per frame (a Hann window of 3 periods of the pitch floor, every 0.75 / floor seconds):

1. subtract the local mean; window; autocorrelate by FFT; divide by the window's own
   autocorrelation, which removes the window's taper from the lag domain (the paper's key step);
2. candidates: the local maxima of that normalized autocorrelation between the lags of the
   pitch ceiling and floor, above half the voicing threshold, refined by parabolic
   interpolation; a strength above 1 (an artefact of the division) is folded back as 1/r;
3. an "unvoiced" candidate whose strength rises as the frame gets quieter relative to the
   loudest sample of the clip (silence threshold) and otherwise equals the voicing threshold.

A Viterbi path through the candidates of all frames then picks the track, paying an octave
cost (favouring higher candidates slightly, against sub-octave errors), an octave-jump cost for
frequency jumps between voiced frames and a voiced/unvoiced cost for each switch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import fft as sp_fft

from speechsift.features.base import NAN, frame_blocks, prepare_wave, sample_blocks

# Praat's defaults for "To Pitch (ac)..." (Praat manual, Sound: To Pitch (ac)...).
PITCH_FLOOR_HZ = 75.0
PITCH_CEILING_HZ = 600.0
PERIODS_PER_WINDOW = 3.0  # window = 3 / floor = 40 ms
TIME_STEP_PERIODS = 0.75  # time step = 0.75 / floor = 10 ms
MAX_CANDIDATES = 15  # including the unvoiced candidate
SILENCE_THRESHOLD = 0.03
VOICING_THRESHOLD = 0.45
OCTAVE_COST = 0.01
OCTAVE_JUMP_COST = 0.35
VOICED_UNVOICED_COST = 0.14

# Fewer voiced frames than this leave the spread (std) undefined: NaN.
MIN_VOICED_FRAMES_FOR_SPREAD = 3


@dataclass(frozen=True, slots=True)
class PitchTrack:
    """F0 per analysis frame: ``f0_hz`` is NaN where the frame is unvoiced."""

    times_s: np.ndarray
    f0_hz: np.ndarray

    @property
    def voiced(self) -> np.ndarray:
        return ~np.isnan(self.f0_hz)


def _hann(n: int) -> np.ndarray:
    """Hann window without its zero end points (every sample carries weight)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(1, n + 1) / (n + 1))


@dataclass(frozen=True, slots=True)
class _Analysis:
    """What every frame's candidates need: the frame geometry, the lag range, the window and its
    own autocorrelation, and the clip's peak (the reference of the silence threshold)."""

    sr: int
    ceiling: float
    win: int
    min_lag: int
    max_lag: int
    n_fft: int
    window: np.ndarray  # float32
    inv_norm: np.ndarray  # float32: the window's autocorrelation at lag 0 over that at each lag
    global_peak: float

    @classmethod
    def of(cls, x: np.ndarray, sr: int, floor: float, ceiling: float, win: int) -> _Analysis:
        window = _hann(win)
        max_lag = min(math.ceil(sr / floor) + 1, win - 2)
        n_fft = sp_fft.next_fast_len(win + max_lag + 1, real=True)
        w_spec = sp_fft.rfft(window, n=n_fft)
        w_ac = sp_fft.irfft(w_spec.real ** 2 + w_spec.imag ** 2, n=n_fft)[: max_lag + 2]
        mean = sum(float(block.sum()) for block in sample_blocks(x)) / x.size
        global_peak = max(float(x.max()) - mean, mean - float(x.min()))  # of the clip less its mean
        return cls(sr, ceiling, win, max(2, math.floor(sr / ceiling)), max_lag, n_fft, window.astype(np.float32),
                   (w_ac[0] / w_ac).astype(np.float32), global_peak)


def _candidates(frames: np.ndarray, a: _Analysis) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(freq (m, K), strength (m, K), unvoiced_strength (m,))`` of a block of float32 frames;
    missing candidates NaN (freq) and -inf (strength).

    K is the largest number of voiced candidates a frame of the block has (at most MAX_CANDIDATES - 1).
    """
    # single precision throughout: peak picking needs ~1e-4 relative accuracy, float32 gives ~1e-6
    frames = frames - frames.mean(axis=1, keepdims=True, dtype=np.float64).astype(np.float32)
    local_peak = np.maximum(frames.max(axis=1), -frames.min(axis=1)).astype(np.float64)
    min_lag, max_lag = a.min_lag, a.max_lag
    frames *= a.window
    spectrum = sp_fft.rfft(frames, n=a.n_fft, axis=1)
    ac = sp_fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, n=a.n_fft, axis=1)[:, : max_lag + 2]
    energy = ac[:, 0].astype(np.float64)
    n_frames = ac.shape[0]

    # normalize: r(lag) = ac(lag) / ac(0) / (window autocorrelation at lag, relative to its lag 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # frames with (next to) no energy have no candidates; the bound keeps 1/energy in float32 range
        inv_energy = np.where(energy > 1e-30, 1.0 / energy, 0.0).astype(np.float32)
    r = ac * a.inv_norm
    r *= inv_energy[:, None]
    # local maxima inside [min_lag, max_lag], above half the voicing threshold
    mid = r[:, min_lag : max_lag + 1]
    is_peak = (mid > r[:, min_lag - 1 : max_lag]) & (mid >= r[:, min_lag + 1 : max_lag + 2])
    is_peak &= mid > 0.5 * VOICING_THRESHOLD
    rows, cols = np.nonzero(is_peak)
    lags = cols + min_lag
    r_mid = r[rows, lags].astype(np.float64)
    r_left = r[rows, lags - 1].astype(np.float64)
    r_right = r[rows, lags + 1].astype(np.float64)
    # parabolic interpolation of the peak position and height
    denom = r_left - 2.0 * r_mid + r_right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(denom < 0, 0.5 * (r_left - r_right) / denom, 0.0)
    shift = np.clip(shift, -0.5, 0.5)
    value = r_mid - 0.25 * (r_left - r_right) * shift
    with np.errstate(divide="ignore"):
        value = np.where(value > 1.0, 1.0 / value, value)
    freq = a.sr / (lags + shift)
    # strength as the path sees it: r minus the octave cost; keep the strongest per frame
    score = value - OCTAVE_COST * np.log2(a.ceiling / freq)
    order = np.lexsort((-score, rows))
    rows, freq, score = rows[order], freq[order], score[order]
    first = np.searchsorted(rows, rows, side="left")
    rank = np.arange(rows.size) - first
    top = rank < MAX_CANDIDATES - 1
    rows, rank, freq, score = rows[top], rank[top], freq[top], score[top]
    k = int(rank.max()) + 1 if rank.size else 0
    cand_freq = np.full((n_frames, k), np.nan)
    cand_strength = np.full((n_frames, k), -np.inf)
    cand_freq[rows, rank] = freq
    cand_strength[rows, rank] = score

    peak = a.global_peak
    intensity = np.minimum(local_peak / peak, 1.0) if peak > 0 else np.zeros_like(local_peak)
    unvoiced = VOICING_THRESHOLD + np.maximum(
        0.0, 2.0 - intensity / (SILENCE_THRESHOLD / (1.0 + VOICING_THRESHOLD)))
    return cand_freq, cand_strength, unvoiced


class _PathSearch:
    """Best path through (unvoiced + voiced candidates) per frame, fed a block of frames at a time;
    ``finish()`` gives F0 per frame (NaN unvoiced).

    A frame with no voiced candidate forces every path through "unvoiced", so the track splits
    there into independent stretches; only stretches of frames with candidates need the search.
    A stretch is searched as its frames arrive and traced back when it ends, so what is held is the
    stretch still open (its candidates' frequencies and back pointers), never the whole clip's.
    The number of candidates may differ from block to block: a state a frame does not have scores
    -inf, as it would in a matrix padded to the clip's largest number.
    """

    def __init__(self, n_frames: int, time_step: float) -> None:
        correction = 0.01 / time_step  # Praat scales the transition costs to a 10 ms step
        self.jump_cost = OCTAVE_JUMP_COST * correction
        self.vu_cost = VOICED_UNVOICED_COST * correction
        self.f0 = np.full(n_frames, np.nan)
        self.psi: np.ndarray | None = None  # scores at the open stretch's last frame
        self.last_log_f = np.zeros(0)  # that frame's candidate frequencies, log2
        self.start = 0  # the open stretch's first frame
        self.parts: list[tuple[np.ndarray, np.ndarray]] = []  # its (freq, back pointers), block by block

    def _transitions(self, log_from: np.ndarray, log_to: np.ndarray) -> np.ndarray:
        """``(n, states_from, states_to)`` costs between consecutive frames (state 0 = unvoiced)."""
        trans = np.empty((log_from.shape[0], log_from.shape[1] + 1, log_to.shape[1] + 1))
        trans[:, 0, 0] = 0.0
        trans[:, 0, 1:] = self.vu_cost
        trans[:, 1:, 0] = self.vu_cost
        np.abs(log_from[:, :, None] - log_to[:, None, :], out=trans[:, 1:, 1:])
        trans[:, 1:, 1:] *= self.jump_cost
        return trans

    def feed(self, i0: int, freq: np.ndarray, strength: np.ndarray, unvoiced: np.ndarray) -> None:
        """The candidates of frames ``i0 ...`` (``_candidates``)."""
        m, k = freq.shape
        delta = np.concatenate([unvoiced[:, None], strength], axis=1)  # (m, k+1); state 0 = unvoiced
        log_f = np.log2(np.where(np.isnan(freq), 1.0, freq))
        has_voiced = np.isfinite(strength[:, 0]) if k else np.zeros(m, dtype=bool)
        edges = np.diff(np.concatenate(([0], has_voiced.astype(np.int8), [0])))
        runs = list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))
        if self.psi is not None and (not runs or runs[0][0] > 0):
            self._trace_back(into_unvoiced=True)  # the open stretch ended on the last block's last frame
        columns = np.arange(k + 1)
        for start, end in runs:
            n = end - start
            back = np.zeros((n, k + 1), dtype=np.uint8)
            if self.psi is not None:  # the open stretch goes on from the block before
                scores = self.psi[:, None] - self._transitions(self.last_log_f[None], log_f[start : start + 1])[0]
                back[0] = scores.argmax(axis=0)
                psi = scores[back[0], columns] + delta[start]
            else:
                # entering from an unvoiced-only frame (or the clip start): voiced states pay the switch
                psi = delta[start].copy()
                if i0 + start > 0:
                    psi[1:] -= self.vu_cost
                self.start = i0 + start
            trans = self._transitions(log_f[start : end - 1], log_f[start + 1 : end])
            scores = np.empty((k + 1, k + 1))
            for i in range(1, n):
                np.subtract(psi[:, None], trans[i - 1], out=scores)
                best = scores.argmax(axis=0)
                back[i] = best
                psi = scores[best, columns] + delta[start + i]
            self.psi, self.last_log_f = psi, log_f[end - 1]
            self.parts.append((freq[start:end], back))
            if end < m:
                self._trace_back(into_unvoiced=True)

    def _trace_back(self, *, into_unvoiced: bool) -> None:
        assert self.psi is not None
        psi = self.psi
        if into_unvoiced:  # leaving into an unvoiced-only frame
            psi = psi.copy()
            psi[1:] -= self.vu_cost
        state = int(psi.argmax())
        frame = self.start + sum(len(back) for _, back in self.parts)
        for freq, back in reversed(self.parts):
            for i in range(len(back) - 1, -1, -1):
                frame -= 1
                if state > 0:
                    self.f0[frame] = freq[i, state - 1]
                state = int(back[i, state])
        self.psi, self.parts = None, []

    def finish(self) -> np.ndarray:
        if self.psi is not None:  # a stretch that reaches the clip's last frame
            self._trace_back(into_unvoiced=False)
        return self.f0


def track_pitch(wave: np.ndarray, sr: int, *, floor_hz: float = PITCH_FLOOR_HZ,
                ceiling_hz: float = PITCH_CEILING_HZ) -> PitchTrack:
    """F0 track of a clip with Praat's autocorrelation method (module docstring).

    The frames are centred in the clip as Praat centres them and analysed a block at a time
    (``base.frame_blocks``). A clip shorter than one analysis window (3 / ``floor_hz`` = 40 ms by
    default) gives an empty track. Raises FeatureError for a wave that is not audio, ValueError for
    a bad floor/ceiling.
    """
    if not 0 < floor_hz < ceiling_hz:
        raise ValueError(f"need 0 < floor_hz < ceiling_hz, got {floor_hz} and {ceiling_hz}")
    x = prepare_wave(wave, sr)
    ceiling = min(ceiling_hz, sr / 2.0)
    win = round(PERIODS_PER_WINDOW / floor_hz * sr)
    hop = max(1, round(TIME_STEP_PERIODS / floor_hz * sr))
    if x.size < win or win < 8:
        return PitchTrack(np.zeros(0), np.zeros(0))
    n_frames = (x.size - win) // hop + 1
    first = (x.size - ((n_frames - 1) * hop + win)) // 2
    analysis = _Analysis.of(x, sr, floor_hz, ceiling, win)
    search = _PathSearch(n_frames, hop / sr)
    for i0, frames in frame_blocks(x, win, hop, n_frames, first=first, dtype=np.float32):
        search.feed(i0, *_candidates(frames, analysis))
    starts = first + hop * np.arange(n_frames)
    return PitchTrack((starts + win / 2.0) / sr, search.finish())


def pitch_statistics(track: PitchTrack) -> dict[str, float]:
    """Clip-level columns from a track (NaN where there are too few voiced frames)."""
    f0 = track.f0_hz[track.voiced]
    n_frames = track.f0_hz.size
    out = {
        "f0_median_hz": NAN,
        "f0_mean_hz": NAN,
        "f0_std_hz": NAN,
        "f0_std_st": NAN,
        "voiced_fraction": f0.size / n_frames if n_frames else NAN,
    }
    if f0.size:
        out["f0_median_hz"] = float(np.median(f0))
        out["f0_mean_hz"] = float(np.mean(f0))
    if f0.size >= MIN_VOICED_FRAMES_FOR_SPREAD:
        out["f0_std_hz"] = float(np.std(f0))
        out["f0_std_st"] = float(np.std(12.0 * np.log2(f0)))
    return out


def measure_pitch(wave: np.ndarray, sr: int, *, floor_hz: float = PITCH_FLOOR_HZ,
                  ceiling_hz: float = PITCH_CEILING_HZ) -> dict[str, float]:
    """F0 columns of a clip.

    - ``f0_median_hz``, ``f0_mean_hz``: over voiced frames (NaN when none is voiced);
    - ``f0_std_hz``: standard deviation in Hz; ``f0_std_st``: in semitones (12 log2 f0), the
      gender-neutral measure of pitch variation (NaN under 3 voiced frames);
    - ``voiced_fraction``: voiced frames / all analysis frames (NaN for a clip shorter than one
      40 ms window).
    """
    return pitch_statistics(track_pitch(wave, sr, floor_hz=floor_hz, ceiling_hz=ceiling_hz))
