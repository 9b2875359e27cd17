"""Speech quality (DNSMOS P.808, and the opt-in P.835) and distortion against known degradations of
one espeak-ng clip: hard clipping at known levels, MP3 at known bitrates (lame), low-passes at known
cut-offs and white noise at known SNRs. Each score must order the clips as the degradation orders
them, where the score is meant to see that degradation: distortion orders clipping, low-passes and
MP3; DNSMOS orders noise and rates heavy clipping lower, and P.808 also orders low-passes and MP3.
P.835 rates espeak-ng's low-passed and MP3 versions *higher* than the buzzy original
(features.quality's docstring has the figures), which is why distortion is measured from the
signal. The DNSMOS front end and scores are checked against the reference implementation (librosa,
speechmos' own code) where those are installed."""

from __future__ import annotations

import io
import math
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import firwin, lfilter, resample_poly
from speech_fixtures import SR, tone, white_noise

from speechsift.features.distortion import measure_distortion
from speechsift.features.quality import P808_SAMPLES, log_mel, measure_quality, measure_quality_p835, windows

SENTENCE = "Please call Stella and ask her to bring these things with her from the store."
CLIP_LEVELS = (0.5, 0.25, 0.1, 0.05)  # the ceiling, as a share of the clean peak
BITRATES = (64, 32, 16, 8)  # kbit/s
CUTOFFS_HZ = (6000, 4000, 2000, 1000)
SNRS_DB = (30, 20, 10, 0)


@pytest.fixture(scope="module")
def clean(speech):
    x = speech(SENTENCE)
    return x * (0.9 / np.abs(x).max())


def clipped(x, level):
    ceiling = level * np.abs(x).max()
    return np.clip(x, -ceiling, ceiling)


def lowpass(x, cutoff_hz):
    return lfilter(firwin(511, cutoff_hz, fs=SR), 1.0, x)


def noisy(x, snr_db):
    active = x[np.abs(x) > 0.01 * np.abs(x).max()]
    return x + white_noise(x.size, float(np.mean(active**2)) / 10 ** (snr_db / 10), seed=3)


def mp3(x, kbps):
    """``x`` through lame at ``kbps`` and back, at 16 kHz (lame resamples the low rates itself)."""
    buffer = io.BytesIO()
    sf.write(buffer, x, SR, format="WAV", subtype="PCM_16")
    encoded = subprocess.run(["lame", "--quiet", "-b", str(kbps), "-", "-"], input=buffer.getvalue(),
                             capture_output=True, check=True).stdout
    decoded = subprocess.run(["lame", "--quiet", "--decode", "--mp3input", "-", "-"], input=encoded,
                             capture_output=True, check=True).stdout
    y, sr = sf.read(io.BytesIO(decoded))
    return resample_poly(y, SR, sr) if sr != SR else y


def sdr(x):
    return measure_distortion(x, SR)["distortion_sdr_db"]


def strictly_decreasing(values):
    return all(a > b for a, b in zip(values, values[1:]))


def test_distortion_orders_clipping_levels(clean):
    scores = [sdr(clean)] + [sdr(clipped(clean, level)) for level in CLIP_LEVELS]
    assert strictly_decreasing(scores), scores
    ratio = measure_distortion(clipped(clean, 0.1), SR)["clipping_ratio"]
    assert scores[3] == pytest.approx(-10 * math.log10(ratio))  # clipping alone: SDR = -10 log10(share)
    assert scores[0] >= 35 and scores[-1] < 10


def test_distortion_orders_low_passes_and_reads_the_bandwidth(clean):
    scores = [sdr(clean)] + [sdr(lowpass(clean, cutoff)) for cutoff in CUTOFFS_HZ]
    assert strictly_decreasing(scores), scores
    for cutoff in CUTOFFS_HZ:
        assert measure_distortion(lowpass(clean, cutoff), SR)["bandwidth_hz"] == pytest.approx(cutoff, rel=0.1)


@pytest.mark.skipif(shutil.which("lame") is None, reason="lame is not installed (apt-get install lame): MP3 skipped")
def test_distortion_orders_mp3_bitrates(clean):
    scores = [sdr(clean)] + [sdr(mp3(clean, kbps)) for kbps in BITRATES]
    # 64 and 32 kbit/s keep the same band at 16 kHz: a tie is right there, the rest is ordered
    assert scores[0] > scores[1] >= scores[2] - 0.5 and strictly_decreasing(scores[2:]), scores


def test_noise_is_not_distortion(clean):
    assert sdr(noisy(clean, 10)) > sdr(lowpass(clean, 4000)) and sdr(noisy(clean, 10)) >= 35


def p808(x):
    return measure_quality(x, SR)["dnsmos_p808"]


def test_quality_orders_noise_levels(clean):
    scores = [p808(clean)] + [p808(noisy(clean, snr)) for snr in SNRS_DB]
    assert strictly_decreasing(scores) and all(1.0 <= s <= 5.0 for s in scores), scores


def test_quality_is_lower_for_heavy_clipping(clean):
    assert p808(clipped(clean, CLIP_LEVELS[-1])) < p808(clipped(clean, CLIP_LEVELS[0])) < p808(clean)


def test_quality_orders_low_passes(clean):
    scores = [p808(clean)] + [p808(lowpass(clean, cutoff)) for cutoff in CUTOFFS_HZ]
    assert strictly_decreasing(scores), scores


@pytest.mark.skipif(shutil.which("lame") is None, reason="lame is not installed (apt-get install lame): MP3 skipped")
def test_quality_orders_mp3_bitrates(clean):
    scores = [p808(clean)] + [p808(mp3(clean, kbps)) for kbps in BITRATES]
    assert strictly_decreasing(scores), scores


def test_p835_orders_noise_levels(clean):
    scores = [measure_quality_p835(clean, SR)] + [measure_quality_p835(noisy(clean, snr), SR) for snr in SNRS_DB]
    for column in ("dnsmos_ovrl", "dnsmos_bak"):
        assert strictly_decreasing([s[column] for s in scores]), (column, scores)
    assert all(1.0 <= v <= 5.0 for s in scores for v in s.values())


def test_log_mel_is_the_reference_front_end(clean):
    """DNSMOS' audio_melspec: librosa's mel spectrogram (n_fft 321, hop 160, 120 mels), dB to the
    maximum, (dB + 40) / 40."""
    librosa = pytest.importorskip("librosa", reason="librosa (the dev extra) is the reference to compare with")
    segment = next(windows(clean))[:P808_SAMPLES].astype(np.float64)
    mel = librosa.feature.melspectrogram(y=segment, sr=SR, n_fft=321, hop_length=160, n_mels=120)
    reference = ((librosa.power_to_db(mel, ref=np.max) + 40) / 40).T
    ours = log_mel(segment)
    assert ours.shape == reference.shape == (900, 120) and ours.dtype == np.float32
    assert np.max(np.abs(ours - reference)) < 1e-4


def test_one_window_scores_as_the_reference_script(clean):
    """A clip exactly one window long: the reference scores it once, as speechsift does."""
    dnsmos = pytest.importorskip("speechmos.dnsmos", reason="speechmos' own code needs librosa (the dev extra)")
    x = next(windows(clean)).astype(np.float64)
    reference = dnsmos.run(x, SR)
    assert p808(x) == pytest.approx(float(reference["p808_mos"]), abs=1e-3)
    p835 = measure_quality_p835(x, SR)
    for ours, theirs in (("dnsmos_sig", "sig_mos"), ("dnsmos_bak", "bak_mos"), ("dnsmos_ovrl", "ovrl_mos")):
        assert p835[ours] == pytest.approx(float(reference[theirs]), abs=1e-3)


def test_windows_follow_the_reference_procedure():
    length = 144_160  # 9.01 s at 16 kHz
    assert np.stack(list(windows(np.ones(SR)))).shape == (1, length)  # a short clip repeated into one window
    assert np.stack(list(windows(np.ones(length)))).shape == (1, length)
    long = np.arange(20 * SR, dtype=np.float64)
    cut = np.stack(list(windows(long)))
    assert cut.shape == (3, length) and cut[-1, -1] == long[-1] and cut[1, 0] == long[length]


@pytest.mark.parametrize("wave", [np.zeros(SR), np.zeros(800), tone(200.0, seconds=0.05), np.array([0.2])])
def test_silence_and_short_clips_give_nan(wave):
    for value in [*measure_quality(wave, SR).values(), *measure_quality_p835(wave, SR).values(),
                  *measure_distortion(wave, SR).values()]:
        assert math.isnan(value)


def test_full_scale_clipped_tone_is_measured():
    square = np.clip(tone(150.0, amplitude=4.0), -1, 1)
    got = measure_distortion(square, SR)
    assert got["clipping_ratio"] > 0.5 and got["distortion_sdr_db"] < 5
    assert all(math.isfinite(v) for v in measure_quality(square, SR).values())
    assert all(math.isfinite(v) for v in measure_quality_p835(square, SR).values())


def test_without_the_quality_extra_the_error_says_what_to_install(monkeypatch):
    import importlib.util

    from speechsift.errors import ConfigError
    from speechsift.features import check_features, quality

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "speechmos" else real(name, *a))
    quality.check_available.cache_clear()
    try:
        for name in ("quality", "quality_p835"):
            with pytest.raises(ConfigError, match=rf"features: {name} .*speechsift\[quality\]"):
                check_features(["pitch", name])
        assert check_features(["reverb", "distortion"]) == ("reverb", "distortion")
    finally:
        quality.check_available.cache_clear()
