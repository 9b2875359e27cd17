"""What every measurement shares: the input check, the typed error, how a missing value looks, and
the block iterator that keeps a measurement's memory bounded.

A measurement takes decoded samples (``audio.load``: float32 mono, 16 kHz by default) and returns
flat ``{column: float}`` columns named with their unit. A value that cannot be measured (no speech,
no voiced frame, no transcript) is ``NaN``, never an exception: every call returns the same
columns, so a batch stays one schema. Only a wave that is not audio at all raises
``FeatureError``, whose ``reason`` is a reject code the pipeline can count.

**Bounded memory.** Every measurement reads the wave through ``frame_blocks``: its analysis frames
(each feature's own length and hop) come a block of about ``BLOCK_SAMPLES`` samples at a time, so
frame matrices, spectra and their temporaries never exceed one block, whatever the clip's length.
What a feature keeps across blocks is a per-frame track (frame power, F0, band levels: a few floats
per 10 ms) or a running sum, and it aggregates over the whole track exactly as over a whole-clip
matrix. A statistic over a whole spectrogram (the noise floor's per-bin quantile) is selected
exactly in a few passes (``kth_smallest_per_column``). The wave itself is held whole, as decoded
(float32: 64 KB per second at 16 kHz), never copied: several measurements need whole-clip values
before they can finish a frame (the clip's peak for the pitch tracker's voicing and for clipping,
the loudest frame for the active spectrum), which a second pass over the held wave gives exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator

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
    """Validated mono float samples of ``wave``: a float32 or float64 1-D array is returned as it is
    (not copied), channels of a 2-D array are averaged, PCM integers scaled onto [-1, 1) as float64,
    other types converted to float64.

    Raises FeatureError for an empty wave, non-finite samples, a wrong shape or a sampling rate
    that is not a positive integer.
    """
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise FeatureError("bad_sampling_rate", f"sampling rate must be a positive integer, got {sr!r}")
    x = np.asarray(wave)
    if x.ndim not in (1, 2):
        raise FeatureError("bad_audio_shape", f"wave must be 1-D or 2-D (samples, channels), got shape {x.shape}")
    if x.size == 0:
        raise FeatureError("empty_audio", "the wave holds no samples")
    if np.issubdtype(x.dtype, np.integer):  # PCM integers onto [-1, 1)
        x = x.astype(np.float64) / float(np.iinfo(x.dtype).max + 1)
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.dtype not in (np.float32, np.float64):
        x = np.asarray(x, dtype=np.float64)
    if not (math.isfinite(float(x.max())) and math.isfinite(float(x.min()))):  # NaN propagates; no temporaries
        raise FeatureError("non_finite_audio", "the wave holds NaN or infinite samples")
    return x


def peak_power(x: np.ndarray) -> float:
    """The largest squared sample, ``max(x**2)``, without squaring a copy of the wave."""
    peak = max(float(x.max()), -float(x.min()))
    return peak * peak


# Samples analysed at once: 2^19, 32.8 s at 16 kHz. Every clip within the default
# engine.max_duration_s (30 s) is one block, measured in one pass as a whole; a longer one is walked
# block by block, each feature's working memory staying that of a 33 s clip (tens of MB).
BLOCK_SAMPLES = 1 << 19


def frame_blocks(x: np.ndarray, win: int, hop: int, n_frames: int, *, first: int = 0,
                 dtype: type = np.float64) -> Iterator[tuple[int, np.ndarray]]:
    """The frames ``x[first + i*hop : first + i*hop + win]``, i < ``n_frames``, a block at a time:
    ``(index of the block's first frame, frames (m, win) of dtype)``, about ``BLOCK_SAMPLES // hop``
    frames a block. Samples past the end of ``x`` read as zeros. The frames are a read-only
    strided view of one block's samples (of ``x`` itself when its dtype is ``dtype``); a frame's
    values do not depend on the block it comes in, so per-frame results equal a whole-clip matrix's.
    """
    per_block = max(1, BLOCK_SAMPLES // hop)
    for i0 in range(0, n_frames, per_block):
        m = min(per_block, n_frames - i0)
        start = first + i0 * hop
        stop = start + (m - 1) * hop + win
        segment = x[start:stop].astype(dtype, copy=False)
        if stop > x.size:
            segment = np.concatenate((segment, np.zeros(stop - max(start, x.size), dtype=dtype)))
        yield i0, np.lib.stride_tricks.sliding_window_view(segment, win)[::hop]


def sample_blocks(x: np.ndarray, dtype: type = np.float64) -> Iterator[np.ndarray]:
    """``x`` in consecutive blocks of ``BLOCK_SAMPLES`` samples, as ``dtype``, for running sums and counts."""
    for start in range(0, x.size, BLOCK_SAMPLES):
        yield x[start : start + BLOCK_SAMPLES].astype(dtype, copy=False)


# Radix selection (kth_smallest_per_column): bits of the values' bit patterns resolved per pass
# (1024 buckets per column), and the most values a last pass collects to pick from.
SELECT_BITS = 10
SELECT_CAP = 1 << 20


def kth_smallest_per_column(passes: Callable[[], Iterable[np.ndarray]], k: int) -> np.ndarray:
    """The ``k``-th smallest value (0-based) of each column of a matrix of non-negative float64 that
    ``passes()`` yields as row blocks (each call a new pass over all rows): exactly
    ``np.partition(matrix, k, axis=0)[k]``, without holding the matrix.

    Radix selection: non-negative IEEE floats sort as their bit patterns read as unsigned integers.
    Each pass counts, per column, the values that share the bit prefix found so far by their next
    ``SELECT_BITS`` bits, and the bucket holding the k-th value extends the prefix. Once the values
    sharing each column's prefix are at most ``SELECT_CAP`` in all, one more pass collects them and
    the k-th is picked among them (usually three passes: 2-octave buckets, then 1/512-octave ones).
    A prefix of all 63 bits is the value itself.
    """
    prefix: np.ndarray | None = None
    shift = 63  # bits below the prefix; the sign bit of a non-negative float is 0
    rank = population = None
    while population is None or (population.sum() > SELECT_CAP and shift > 0):
        step = min(SELECT_BITS, shift)
        shift -= step
        counts = None
        for block in passes():
            bits = np.ascontiguousarray(block, dtype=np.float64).view(np.uint64)
            n_cols = bits.shape[1]
            digit = (bits >> np.uint64(shift)) & np.uint64((1 << step) - 1)
            digit += (np.arange(n_cols, dtype=np.uint64) << np.uint64(step))[None, :]
            if prefix is not None:
                digit = digit[(bits >> np.uint64(shift + step)) == prefix[None, :]]
            found = np.bincount(digit.ravel().astype(np.intp), minlength=n_cols << step)
            counts = found if counts is None else counts + found
        assert counts is not None, "no rows to select from"
        counts = counts.reshape(-1, 1 << step)
        cols = np.arange(counts.shape[0])
        if rank is None:
            rank = np.full(counts.shape[0], k, dtype=np.int64)
            prefix = np.zeros(counts.shape[0], dtype=np.uint64)
        cumulative = np.cumsum(counts, axis=1)
        chosen = np.argmax(cumulative > rank[:, None], axis=1)
        population = counts[cols, chosen]
        rank = rank - (cumulative[cols, chosen] - population)
        prefix = (prefix << np.uint64(step)) | chosen.astype(np.uint64)
    assert prefix is not None and rank is not None
    if shift == 0:
        return prefix.view(np.float64)
    columns, values = [], []
    for block in passes():
        bits = np.ascontiguousarray(block, dtype=np.float64).view(np.uint64)
        rows, cols_hit = np.nonzero((bits >> np.uint64(shift)) == prefix[None, :])
        columns.append(cols_hit)
        values.append(block[rows, cols_hit])
    column, value = np.concatenate(columns), np.concatenate(values)
    order = np.lexsort((value, column))
    starts = np.searchsorted(column[order], np.arange(prefix.size))
    return value[order][starts + rank]


def finite_or_nan(value: float) -> float:
    """``value`` as a float, or NaN when it is infinite or NaN (e.g. -inf dB of digital silence)."""
    value = float(value)
    return value if math.isfinite(value) else NAN
