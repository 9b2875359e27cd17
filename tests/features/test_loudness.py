"""Loudness against ground truth: tones of known amplitude, gaps, gains and espeak-ng amplitudes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from speech_fixtures import SR, tone

from speechsift.features.loudness import clipped_fraction, measure_loudness


@pytest.mark.parametrize("amplitude", [1.0, 0.3, 0.01])
def test_tone_level_is_its_rms_in_dbfs(amplitude):
    got = measure_loudness(tone(440.0, amplitude=amplitude), SR)
    expected = 20 * math.log10(amplitude / math.sqrt(2))
    assert got["rms_db"] == pytest.approx(expected, abs=0.01)
    assert got["relative_db"] == pytest.approx(expected, abs=0.01)


def test_relative_db_ignores_silence_and_rms_db_does_not():
    x = tone(440.0, seconds=1.0, amplitude=0.5)
    padded = np.concatenate([np.zeros(SR), x, np.zeros(SR)])
    plain, gapped = measure_loudness(x, SR), measure_loudness(padded, SR)
    assert gapped["relative_db"] == pytest.approx(plain["relative_db"], abs=0.05)
    assert gapped["rms_db"] == pytest.approx(plain["rms_db"] - 10 * math.log10(3), abs=0.05)


def test_clipped_fraction_matches_the_analytic_share():
    # |3 sin| >= 0.999 for a share 1 - (2/pi) asin(0.999/3) of the time
    x = np.clip(tone(150.0, amplitude=3.0), -1.0, 1.0)
    got = measure_loudness(x, SR)
    assert got["clipped_fraction"] == pytest.approx(1 - 2 / math.pi * math.asin(0.999 / 3), abs=0.01)
    assert clipped_fraction(tone(150.0, amplitude=0.5)) == 0.0


def test_digital_silence_has_no_level():
    got = measure_loudness(np.zeros(SR), SR)
    assert math.isnan(got["rms_db"]) and math.isnan(got["relative_db"])
    assert got["clipped_fraction"] == 0.0


def test_gain_moves_relative_db_by_the_gain(speech):
    x = speech()
    base = measure_loudness(x, SR)["relative_db"]
    assert measure_loudness(0.5 * x, SR)["relative_db"] == pytest.approx(base - 6.02, abs=0.01)


def test_espeak_amplitude_orders_the_measured_level(speech):
    levels = [measure_loudness(speech(amplitude=a), SR)["relative_db"] for a in (20, 60, 150)]
    assert levels[0] < levels[1] < levels[2]
