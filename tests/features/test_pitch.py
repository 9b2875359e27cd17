"""F0 against ground truth: pure tones, glides, tones in noise, espeak-ng voices, and Praat itself."""

from __future__ import annotations

import math

import numpy as np
import pytest
from speech_fixtures import SR, tone, white_noise

from speechsift.features.pitch import PITCH_FLOOR_HZ, measure_pitch, track_pitch


@pytest.mark.parametrize("freq", [80.0, 100.0, 150.0, 220.0, 300.0, 440.0, 580.0])
def test_pure_tone_f0_within_2_percent(freq):
    got = measure_pitch(tone(freq), SR)
    assert got["f0_median_hz"] == pytest.approx(freq, rel=0.02)
    assert got["f0_mean_hz"] == pytest.approx(freq, rel=0.02)
    assert got["voiced_fraction"] > 0.95
    assert got["f0_std_st"] < 0.05


@pytest.mark.parametrize("freq", [120.0, 250.0])
def test_tone_in_noise_at_10_db_within_2_percent(freq):
    x = tone(freq, amplitude=0.3)
    noisy = x + white_noise(x.size, float(np.mean(x**2)) / 10)
    got = measure_pitch(noisy, SR)
    assert got["f0_median_hz"] == pytest.approx(freq, rel=0.02)
    assert got["voiced_fraction"] > 0.9


def test_octave_glide_has_the_analytic_semitone_spread():
    # f0 rises exponentially from 150 to 300 Hz: semitones uniform over [0, 12],
    # so their std is 12 / sqrt(12) and the median is the geometric mean, 150 * sqrt(2)
    seconds = 3.0
    t = np.arange(int(seconds * SR)) / SR
    f0 = 150.0 * 2 ** (t / seconds)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    got = measure_pitch(0.3 * np.sin(phase), SR)
    assert got["f0_std_st"] == pytest.approx(12 / math.sqrt(12), rel=0.05)
    assert got["f0_median_hz"] == pytest.approx(150 * math.sqrt(2), rel=0.02)


def test_silence_and_noise_are_unvoiced():
    silent = measure_pitch(np.zeros(SR), SR)
    assert silent["voiced_fraction"] == 0.0
    assert math.isnan(silent["f0_median_hz"]) and math.isnan(silent["f0_std_st"])
    noise = measure_pitch(white_noise(SR, 0.01), SR)
    assert noise["voiced_fraction"] < 0.1


def test_shorter_than_one_window_gives_an_empty_track():
    short = tone(200.0, seconds=0.03)  # the window is 3 / 75 Hz = 40 ms
    track = track_pitch(short, SR)
    assert track.f0_hz.size == 0
    got = measure_pitch(short, SR)
    assert all(math.isnan(v) for v in got.values())


def test_track_times_are_frame_centres_inside_the_clip():
    track = track_pitch(tone(200.0, seconds=1.0), SR)
    assert np.all(np.diff(track.times_s) == pytest.approx(0.75 / PITCH_FLOOR_HZ))
    assert track.times_s[0] >= 0.02 and track.times_s[-1] <= 1.0 - 0.02


def test_other_sampling_rates_and_integer_samples():
    for sr in (8_000, 22_050, 44_100):
        assert measure_pitch(tone(180.0, sr=sr), sr)["f0_median_hz"] == pytest.approx(180.0, rel=0.01)
    pcm = (tone(180.0) * 32767).astype(np.int16)
    assert measure_pitch(pcm, SR)["f0_median_hz"] == pytest.approx(180.0, rel=0.01)


def test_bad_floor_and_ceiling_are_rejected():
    with pytest.raises(ValueError):
        track_pitch(tone(), SR, floor_hz=300, ceiling_hz=200)


def test_espeak_pitch_setting_orders_the_measured_f0(speech):
    medians = [measure_pitch(speech(pitch=p), SR)["f0_median_hz"] for p in (20, 50, 80)]
    assert medians[0] < medians[1] < medians[2]


def test_espeak_female_voice_is_higher_than_male_voice(speech):
    male = measure_pitch(speech(voice="en-us+m3"), SR)["f0_median_hz"]
    female = measure_pitch(speech(voice="en-us+f3"), SR)["f0_median_hz"]
    assert 80 < male < 160 < female < 300


@pytest.mark.parametrize("voice,pitch", [("en-us", 30), ("en-us", 70), ("en-us+f3", 50)])
def test_agrees_with_praat(speech, voice, pitch):
    """Same algorithm as Praat's To Pitch (ac) with its defaults: same frames, same F0 (dev-only check)."""
    parselmouth = pytest.importorskip("parselmouth", reason="praat-parselmouth (dev extra) not installed")
    wave = speech(voice=voice, pitch=pitch)
    ours = track_pitch(wave, SR)
    praat = parselmouth.Sound(wave, SR).to_pitch_ac()
    praat_f0 = praat.selected_array["frequency"]
    praat_f0 = np.where(praat_f0 > 0, praat_f0, np.nan)
    assert praat_f0.size == ours.f0_hz.size
    assert np.allclose(praat.xs(), ours.times_s, atol=1e-3)
    both = ~np.isnan(praat_f0) & ~np.isnan(ours.f0_hz)
    cents = 1200 * np.abs(np.log2(ours.f0_hz[both] / praat_f0[both]))
    assert np.median(cents) < 5
    assert np.mean(cents > 50) < 0.03  # octave and gross errors are rare
    voicing_agreement = np.mean(np.isnan(praat_f0) == np.isnan(ours.f0_hz))
    assert voicing_agreement > 0.9
    assert np.nanmedian(ours.f0_hz) == pytest.approx(np.nanmedian(praat_f0), rel=0.02)
