"""Speech duration against ground truth: tone bursts with known on-times, gaps and padding."""

from __future__ import annotations

import numpy as np
import pytest
from speech_fixtures import SR, tone, white_noise

from speechsift.features.vad import MIN_PAUSE_S, detect_speech, measure_duration


def burst(on_s: float, before_s: float = 1.0, after_s: float = 1.0) -> np.ndarray:
    return np.concatenate([np.zeros(int(before_s * SR)), tone(200.0, on_s), np.zeros(int(after_s * SR))])


def test_duration_is_the_sample_count():
    assert measure_duration(np.zeros(12_345), SR)["duration_s"] == pytest.approx(12_345 / SR)


@pytest.mark.parametrize("on_s", [0.3, 1.0, 2.5])
def test_tone_burst_speech_duration(on_s):
    got = measure_duration(burst(on_s), SR)
    assert got["speech_duration_s"] == pytest.approx(on_s, abs=0.035)


def test_tone_burst_in_noise_speech_duration():
    x = burst(1.0, 1.0, 1.0)
    noisy = x + white_noise(x.size, 0.045 / 10)  # 10 dB below the tone
    assert measure_duration(noisy, SR)["speech_duration_s"] == pytest.approx(1.0, abs=0.05)


def test_short_gaps_are_speech_long_pauses_are_not():
    short_gap, long_gap = 0.1, 0.6
    assert short_gap < MIN_PAUSE_S < long_gap
    a = np.concatenate([tone(200.0, 0.5), np.zeros(int(short_gap * SR)), tone(200.0, 0.5)])
    b = np.concatenate([tone(200.0, 0.5), np.zeros(int(long_gap * SR)), tone(200.0, 0.5)])
    assert measure_duration(a, SR)["speech_duration_s"] == pytest.approx(1.1, abs=0.035)
    assert measure_duration(b, SR)["speech_duration_s"] == pytest.approx(1.0, abs=0.05)


def test_silence_and_steady_noise_hold_no_speech():
    assert measure_duration(np.zeros(SR), SR)["speech_duration_s"] == 0.0
    assert measure_duration(white_noise(3 * SR, 0.01), SR)["speech_duration_s"] == 0.0
    assert measure_duration(np.full(SR, 1e-5), SR)["speech_duration_s"] == 0.0  # DC only, below -70 dBFS


def test_noise_floor_of_white_noise():
    vad = detect_speech(white_noise(5 * SR, 1e-4), SR)
    assert vad.noise_power == pytest.approx(1e-4, rel=0.05)


def test_padding_a_clip_with_silence_keeps_its_speech_duration(speech):
    x = speech()
    padded = np.concatenate([np.zeros(SR), x, np.zeros(2 * SR)])
    plain, longer = measure_duration(x, SR), measure_duration(padded, SR)
    assert longer["duration_s"] == pytest.approx(plain["duration_s"] + 3.0)
    assert longer["speech_duration_s"] == pytest.approx(plain["speech_duration_s"], abs=0.035)
    assert 0.6 * plain["duration_s"] < plain["speech_duration_s"] < plain["duration_s"]


def test_word_gaps_are_pauses(speech):
    # espeak's -g adds a gap between words (10 ms units): 400 ms gaps are pauses, left out
    plain = measure_duration(speech(), SR)["speech_duration_s"]
    gapped = measure_duration(speech(gap=40), SR)["speech_duration_s"]
    assert gapped == pytest.approx(plain, rel=0.15)
