"""The one audio helper: probing (direct WAV/FLAC headers agree with soundfile), decoding, windows."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from factories import write_tone

from speechsift import audio
from speechsift.audio_headers import read_header
from speechsift.errors import AudioLoadError
from speechsift.records import AudioRef

FORMATS = [
    ("a.wav", "WAV", "PCM_16", 16_000, 1),
    ("b.wav", "WAV", "PCM_24", 44_100, 2),
    ("c.wav", "WAV", "FLOAT", 8_000, 1),
    ("d.flac", "FLAC", "PCM_16", 16_000, 1),
    ("e.flac", "FLAC", "PCM_24", 48_000, 2),
    ("f.ogg", "OGG", "VORBIS", 16_000, 1),
]


@pytest.mark.parametrize(("name", "fmt", "subtype", "sr", "channels"), FORMATS)
def test_probe_agrees_with_soundfile(tmp_path, name, fmt, subtype, sr, channels):
    path = tmp_path / name
    wave = np.random.default_rng(0).uniform(-0.5, 0.5, size=(int(0.37 * sr), channels)).astype(np.float32)
    sf.write(path, wave, sr, format=fmt, subtype=subtype)
    info = sf.info(path)
    probed = audio.probe(AudioRef(str(path)))
    assert (probed.sampling_rate, probed.frames, probed.channels) == (info.samplerate, info.frames, info.channels)
    from_bytes = audio.probe(AudioRef(bytes=path.read_bytes()))
    assert from_bytes.frames == info.frames


def test_header_reader_defers_to_soundfile_on_formats_it_does_not_know(tmp_path):
    path = tmp_path / "f.ogg"
    sf.write(path, np.zeros(1600, dtype=np.float32), 16_000, format="OGG")
    assert read_header(str(path)) is None


def test_truncated_wav_counts_what_is_there(tmp_path):
    path = write_tone(tmp_path / "t.wav", seconds=1.0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    sr, frames, _ = read_header(str(path))
    assert sr == 16_000 and 0 < frames < 16_000


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "missing_audio"), (b"RIFF\x00\x00\x00\x00WAVEjunkjunk", "unreadable_audio"), (b"not audio at all", "unreadable_audio")],
)
def test_probe_rejects(tmp_path, content, reason):
    path = tmp_path / "x.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioLoadError) as error:
        audio.probe(AudioRef(str(path)))
    assert error.value.reason == reason


def test_empty_and_windowed(tmp_path):
    empty = write_tone(tmp_path / "e.wav", seconds=0.0)
    with pytest.raises(AudioLoadError) as error:
        audio.probe(AudioRef(str(empty)))
    assert error.value.reason == "empty_audio"
    path = write_tone(tmp_path / "w.flac", seconds=1.0, sr=8_000)
    window = AudioRef(str(path), offset_s=0.25, duration_s=0.5)
    assert audio.probe(window).frames == 4_000
    wave, sr = audio.load(window)
    assert sr == 16_000 and len(wave) == 8_000
    data, name = audio.encoded(window)
    cut, cut_sr = sf.read(io.BytesIO(data))
    assert name == "w.flac" and cut_sr == 8_000 and len(cut) == 4_000
    with pytest.raises(AudioLoadError):
        audio.probe(AudioRef(str(path), offset_s=2.0))  # a window past the end holds nothing


@pytest.mark.parametrize(("sr", "channels", "seconds"), [(48_000, 2, 4.1), (44_100, 1, 3.3), (8_000, 1, 9.0), (16_000, 2, 0.01)])
def test_decoding_block_by_block_gives_what_the_whole_file_would(sr, channels, seconds):
    """Mixing down and resampling happen per block (``BLOCK_FRAMES``); the result is the one
    ``resample_poly`` gives over the whole signal, sample for sample."""
    from scipy.signal import resample_poly

    wave = np.random.default_rng(1).uniform(-0.5, 0.5, size=(int(seconds * sr), channels)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format="WAV", subtype="FLOAT")
    ref = AudioRef(bytes=buffer.getvalue())
    g = np.gcd(sr, 16_000)
    mono = wave.mean(axis=1, dtype=np.float32)
    expected = mono if sr == 16_000 else resample_poly(mono, 16_000 // g, sr // g).astype(np.float32)
    got, got_sr = audio.load(ref)
    assert got_sr == 16_000 and got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    kept, _ = audio.load(ref, mono=False)
    assert kept.shape == (len(expected), channels)
    native, native_sr = audio.load(ref, sampling_rate=None)
    assert native_sr == sr
    np.testing.assert_array_equal(native, mono)
    window = AudioRef(bytes=ref.bytes, offset_s=seconds / 3, duration_s=seconds / 2, channel=channels - 1)
    start = int(round(seconds / 3 * sr))
    cut, _ = audio.load(window, sampling_rate=None)
    np.testing.assert_array_equal(cut, wave[start : start + int(round(seconds / 2 * sr)), channels - 1])


def test_decoding_a_long_file_holds_the_result_and_a_block_not_the_file(tmp_path):
    """A minute of 48 kHz stereo is 23 MB as float32; decoding it to 16 kHz mono (3.8 MB) used to
    hold it whole, then its mono mix and the resampler's float64 copies."""
    import tracemalloc

    sr, seconds = 48_000, 60
    path = tmp_path / "long.flac"
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr)).astype(np.float32)
    with sf.SoundFile(path, "w", sr, 2, format="FLAC") as f:
        for _ in range(seconds):
            f.write(np.stack([tone, tone], axis=1))
    tracemalloc.start()
    try:
        wave, _ = audio.load(AudioRef(str(path)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(wave) == 16_000 * seconds
    assert peak < 3 * wave.nbytes, f"peak {peak / 2**20:.1f} MiB for a {wave.nbytes / 2**20:.1f} MiB result"


def test_verify_decodes_everything_and_keeps_nothing(tmp_path):
    path = write_tone(tmp_path / "v.flac", seconds=3.0)
    audio.verify(AudioRef(str(path)))
    with pytest.raises(AudioLoadError) as error:
        audio.verify(AudioRef(str(write_tone(tmp_path / "e.wav", seconds=0.0))))
    assert error.value.reason == "empty_audio"
    data = path.read_bytes()
    path.write_bytes(data[:200] + bytes(len(data) - 200))  # a good header, then no FLAC frames at all
    with pytest.raises(AudioLoadError):
        audio.verify(AudioRef(str(path)))
