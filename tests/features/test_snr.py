"""SNR against ground truth: tones and espeak-ng speech mixed with white (and pink) noise at known SNRs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from speech_fixtures import SR, tone, white_noise

from speechsift.features.snr import SNR_MAX_DB, measure_snr
from speechsift.features.vad import detect_speech

SNRS_DB = (0.0, 10.0, 20.0)
TOLERANCE_DB = 3.0


def active_power(clean: np.ndarray) -> float:
    """Ground truth signal power while active: the clean signal's energy over its speech frames."""
    vad = detect_speech(clean, SR)
    return float(vad.frame_power.sum() / np.count_nonzero(vad.speech))


def pink_noise(n: int, power: float, seed: int = 1) -> np.ndarray:
    """1/f noise from 50 Hz up (SNR is measured in the audible band: DC and rumble are left out)."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    freq = np.fft.rfftfreq(n, 1 / SR)
    spectrum *= np.where(freq >= 50, 1 / np.sqrt(np.maximum(freq, 50) / 50), 0.0)
    noise = np.fft.irfft(spectrum, n)
    return noise * math.sqrt(power / np.mean(noise**2))


@pytest.mark.parametrize("snr_db", SNRS_DB)
def test_tone_in_white_noise(snr_db):
    x = tone(220.0, seconds=3.0)
    noisy = x + white_noise(x.size, float(np.mean(x**2)) / 10 ** (snr_db / 10))
    assert measure_snr(noisy, SR)["snr_db"] == pytest.approx(snr_db, abs=TOLERANCE_DB)


@pytest.mark.parametrize("snr_db", SNRS_DB)
def test_tone_bursts_in_white_noise_measure_the_active_snr(snr_db):
    x = np.concatenate([np.zeros(SR), tone(220.0, 1.0), np.zeros(SR), tone(330.0, 0.5), np.zeros(SR // 2)])
    power = float(np.mean(tone(220.0, 1.0) ** 2))
    noisy = x + white_noise(x.size, power / 10 ** (snr_db / 10))
    assert measure_snr(noisy, SR)["snr_db"] == pytest.approx(snr_db, abs=TOLERANCE_DB)


@pytest.mark.parametrize("snr_db", SNRS_DB)
def test_speech_in_white_noise(speech, snr_db):
    clean = np.concatenate([np.zeros(SR // 2), speech(), np.zeros(SR // 2)])
    noisy = clean + white_noise(clean.size, active_power(clean) / 10 ** (snr_db / 10))
    assert measure_snr(noisy, SR)["snr_db"] == pytest.approx(snr_db, abs=TOLERANCE_DB)


@pytest.mark.parametrize("snr_db", (5.0, 15.0))
def test_speech_in_pink_noise(speech, snr_db):
    clean = np.concatenate([np.zeros(SR // 2), speech(voice="en-us+f3"), np.zeros(SR // 2)])
    noisy = clean + pink_noise(clean.size, active_power(clean) / 10 ** (snr_db / 10))
    assert measure_snr(noisy, SR)["snr_db"] == pytest.approx(snr_db, abs=TOLERANCE_DB)


def test_more_noise_reads_lower(speech):
    clean = speech()
    power = active_power(clean)
    measured = [measure_snr(clean + white_noise(clean.size, power / 10 ** (s / 10)), SR)["snr_db"]
                for s in (30, 15, 5, -5)]
    assert measured == sorted(measured, reverse=True)


def test_clean_signals_read_very_clean(speech):
    assert measure_snr(speech(), SR)["snr_db"] == SNR_MAX_DB  # espeak pauses are digital silence
    assert measure_snr(speech(voice="en-us+f3"), SR)["snr_db"] >= 50.0  # this voice breathes
    assert measure_snr(tone(), SR)["snr_db"] >= 35.0  # a steady tone: the window's leakage floor


def test_unmeasurable_snr_is_nan():
    assert math.isnan(measure_snr(np.zeros(SR), SR)["snr_db"])  # silence
    assert math.isnan(measure_snr(white_noise(2 * SR, 0.01), SR)["snr_db"])  # no speech in it
    assert math.isnan(measure_snr(tone(seconds=0.1), SR)["snr_db"])  # too short for a noise floor
