"""The one place audio is read: headers for probing, bytes for embedding, samples for features.

Decoding goes through soundfile (libsndfile: WAV, FLAC, OGG, MP3), mono float32 at 16 kHz unless
asked otherwise. Nothing else in speechsift opens audio files.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from speechsift.audio_headers import read_header
from speechsift.errors import AudioLoadError
from speechsift.records import AudioRef

TARGET_SR = 16_000


@dataclass(frozen=True, slots=True)
class AudioInfo:
    sampling_rate: int
    frames: int
    channels: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sampling_rate if self.sampling_rate else 0.0


def _open_target(ref: AudioRef) -> str | io.BytesIO:
    if ref.bytes is not None:
        return io.BytesIO(ref.bytes)
    if not ref.path:
        raise AudioLoadError("missing_audio", "the clip has neither an audio path nor audio bytes")
    if not Path(ref.path).is_file():
        raise AudioLoadError("missing_audio", f"audio file not found: {ref.path}")
    return ref.path


def _header(ref: AudioRef) -> tuple[int, int, int]:
    """``(sampling_rate, frames, channels)``: WAV/FLAC headers read directly, anything else by soundfile."""
    if ref.bytes is None and ref.path:
        try:
            found = read_header(ref.path)
        except FileNotFoundError:
            raise AudioLoadError("missing_audio", f"audio file not found: {ref.path}") from None
        except (IsADirectoryError, PermissionError) as exc:
            raise AudioLoadError("unreadable_audio", f"cannot read audio {ref.path}: {exc}") from None
        if found is not None:
            return found
    target = _open_target(ref)
    try:
        info = sf.info(target)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise AudioLoadError("unreadable_audio", f"cannot read audio {ref.describe()}: {exc}") from None
    return info.samplerate, info.frames, info.channels


def probe(ref: AudioRef) -> AudioInfo:
    """Read the header only; raise AudioLoadError (missing_audio, unreadable_audio, empty_audio)."""
    sampling_rate, frames, channels = _header(ref)
    if ref.duration_s is not None or ref.offset_s:
        start = int(round(ref.offset_s * sampling_rate))
        end = frames if ref.duration_s is None else start + int(round(ref.duration_s * sampling_rate))
        frames = max(0, min(end, frames) - start)
    if frames <= 0:
        raise AudioLoadError("empty_audio", f"audio {ref.describe()} holds no samples")
    return AudioInfo(sampling_rate, frames, channels)


# Frames decoded per read: 2^16 (1.4 s at 48 kHz), so decoding holds one small block at a time
# besides the result, whatever the file's length, rate or channel count.
BLOCK_FRAMES = 1 << 16


def _blocks(ref: AudioRef) -> Iterator[tuple[np.ndarray, int]]:
    """The clip's window as float32 blocks of (frames, channels) with its sampling rate."""
    target = _open_target(ref)
    try:
        with sf.SoundFile(target) as f:
            sr = f.samplerate
            f.seek(int(round(ref.offset_s * sr)))
            left = None if ref.duration_s is None else int(round(ref.duration_s * sr))
            while left is None or left > 0:
                block = f.read(BLOCK_FRAMES if left is None else min(BLOCK_FRAMES, left), dtype="float32",
                               always_2d=True)
                if not block.shape[0]:
                    break
                if left is not None:
                    left -= block.shape[0]
                yield block, sr
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioLoadError("unreadable_audio", f"cannot decode audio {ref.describe()}: {exc}") from None


class _Resampler:
    """Band-limited resampling by a rational factor (scipy's polyphase filter), block by block.

    Each block is filtered with ``context`` input samples of the signal on either side (more than
    the filter's half length), starting on a multiple of ``down`` so the output grid stays the
    same: the result equals ``resample_poly`` over the whole signal, which it never holds at once.
    """

    def __init__(self, sr: int, target_sr: int) -> None:
        from math import ceil, gcd

        g = gcd(sr, target_sr)
        self.up, self.down = target_sr // g, sr // g
        half_len = 10 * max(self.up, self.down)  # resample_poly's default filter half length (up-sampled)
        self.context = ceil((ceil(half_len / self.up) + 2) / self.down) * self.down
        self.past: np.ndarray | None = None  # the input just before `pending`
        self.pending: np.ndarray | None = None  # input whose output is not written yet

    def _filtered(self, segment: np.ndarray, first: int, stop: int | None) -> np.ndarray:
        from scipy.signal import resample_poly

        out = resample_poly(segment, self.up, self.down, axis=0)
        start = first * self.up // self.down
        return out[start : None if stop is None else stop * self.up // self.down].astype(np.float32)

    def feed(self, wave: np.ndarray) -> np.ndarray:
        """Output for as much input as has its right-hand context; the rest waits for more."""
        if self.past is None or self.pending is None:
            self.past = self.pending = wave[:0]
        self.pending = np.concatenate((self.pending, wave))
        ready = (len(self.pending) - self.context) // self.down * self.down
        if ready <= 0:
            return wave[:0]
        segment = np.concatenate((self.past, self.pending[: ready + self.context]))
        out = self._filtered(segment, len(self.past), len(self.past) + ready)
        done = np.concatenate((self.past, self.pending[:ready]))
        self.past = done[max(0, len(done) - self.context):]  # a multiple of `down` long, as `ready` is
        self.pending = self.pending[ready:]
        return out

    def finish(self) -> np.ndarray:
        """The output for the rest of the input (zeros beyond the end, as resample_poly pads)."""
        assert self.past is not None and self.pending is not None  # feed came first
        return self._filtered(np.concatenate((self.past, self.pending)), len(self.past), None)


class _Samples:
    """Decoded blocks written into one array sized from the header's frame count, so that decoding
    never holds the clip twice (its blocks and their concatenation); a header that miscounts (an
    MP3's estimate) costs one copy at the end."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.out: np.ndarray | None = None
        self.filled = 0
        self.beyond: list[np.ndarray] = []  # samples past the header's count

    def add(self, wave: np.ndarray) -> None:
        if self.out is None:
            self.out = np.empty((self.frames, *wave.shape[1:]), dtype=np.float32)
        take = min(len(wave), self.frames - self.filled)
        self.out[self.filled : self.filled + take] = wave[:take]
        self.filled += take
        if take < len(wave):
            self.beyond.append(wave[take:])

    def result(self) -> np.ndarray:
        assert self.out is not None
        if self.beyond:
            return np.concatenate([self.out, *self.beyond])
        return self.out if self.filled == self.frames else self.out[: self.filled].copy()


def load(ref: AudioRef, sampling_rate: int | None = TARGET_SR, mono: bool = True) -> tuple[np.ndarray, int]:
    """Decode the clip's window: float32 samples (mono by default) and their sampling rate.

    Decoded, mixed down and resampled block by block (``BLOCK_FRAMES``) into one array sized from
    the header: the memory it takes is the result's plus one block, never the whole file at its own
    rate and channel count.
    """
    info = probe(ref)
    resampler: _Resampler | None = None
    frames = info.frames
    if sampling_rate is not None and info.sampling_rate != sampling_rate:
        resampler = _Resampler(info.sampling_rate, sampling_rate)
        frames = -(-frames * resampler.up // resampler.down)  # resample_poly's output length
    samples = _Samples(frames)
    sr = 0
    for block, sr in _blocks(ref):
        if ref.channel is not None:
            wave = block[:, ref.channel]
        elif mono:
            wave = block.mean(axis=1, dtype=np.float32)
        else:
            wave = block
        samples.add(wave if resampler is None else resampler.feed(wave))
    if not sr:
        raise AudioLoadError("empty_audio", f"audio {ref.describe()} holds no samples")
    if resampler is not None:
        samples.add(resampler.finish())
        sr = sampling_rate  # type: ignore[assignment]
    return samples.result(), sr


def verify(ref: AudioRef) -> None:
    """Decode the clip's window once, a block at a time, keeping nothing: AudioLoadError when the
    audio data cannot be decoded or holds no samples."""
    if not sum(block.shape[0] for block, _ in _blocks(ref)):
        raise AudioLoadError("empty_audio", f"audio {ref.describe()} holds no samples")


def encoded(ref: AudioRef) -> tuple[bytes, str]:
    """The clip as an encoded file: ``(bytes, file name)``, for embedding in Parquet.

    Whole files are copied byte for byte; a window (offset/duration) or one channel of a file is
    cut out and re-encoded as FLAC.
    """
    windowed = bool(ref.offset_s) or ref.duration_s is not None or ref.channel is not None
    name = Path(ref.path).name if ref.path else "audio.flac"
    if not windowed:
        if ref.bytes is not None:
            return ref.bytes, name
        target = _open_target(ref)
        return Path(target).read_bytes(), name  # type: ignore[arg-type]
    wave, sr = load(ref, sampling_rate=None)
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format="FLAC")
    return buffer.getvalue(), Path(name).with_suffix(".flac").name
