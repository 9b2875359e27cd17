"""The one place audio is read: headers for probing, bytes for embedding, samples for features.

Decoding goes through soundfile (libsndfile: WAV, FLAC, OGG, MP3), mono float32 at 16 kHz unless
asked otherwise. Nothing else in speechsift opens audio files.
"""

from __future__ import annotations

import io
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


def _resample(wave: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling by a rational factor (scipy's polyphase filter)."""
    if sr == target_sr:
        return wave
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(sr, target_sr)
    return resample_poly(wave, target_sr // g, sr // g).astype(np.float32)


def load(ref: AudioRef, sampling_rate: int | None = TARGET_SR, mono: bool = True) -> tuple[np.ndarray, int]:
    """Decode the clip's window: float32 samples (mono by default) and their sampling rate."""
    target = _open_target(ref)
    try:
        with sf.SoundFile(target) as f:
            sr = f.samplerate
            start = int(round(ref.offset_s * sr))
            frames = -1 if ref.duration_s is None else int(round(ref.duration_s * sr))
            f.seek(start)
            wave = f.read(frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioLoadError("unreadable_audio", f"cannot decode audio {ref.describe()}: {exc}") from None
    if wave.shape[0] == 0:
        raise AudioLoadError("empty_audio", f"audio {ref.describe()} holds no samples")
    if ref.channel is not None:
        wave = wave[:, ref.channel]
    elif mono:
        wave = wave.mean(axis=1)
    if sampling_rate is not None and sr != sampling_rate:
        wave = _resample(wave, sr, sampling_rate)
        sr = sampling_rate
    return wave, sr


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
