"""The entry point: columns, one decode per clip, and clips that are hard to measure."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
from factories import make_clip, write_tone
from speech_fixtures import SR, TEXT, tone

from speechsift.errors import AudioLoadError, ConfigError
from speechsift.features import (
    FEATURE_COLUMNS,
    FEATURE_NAMES,
    FeatureError,
    columns_for,
    measure,
    measure_clip,
)
from speechsift.records import AudioRef


def finite_or_nan(values: dict[str, float]) -> bool:
    return all(isinstance(v, float) and (math.isfinite(v) or math.isnan(v)) for v in values.values())


@pytest.mark.parametrize("features", [[name] for name in FEATURE_NAMES] + [list(FEATURE_NAMES), ["snr", "pitch"]])
def test_columns_are_exactly_those_of_the_requested_features(features):
    got = measure(tone(), SR, features, text="hello there")
    assert tuple(got) == columns_for(features)
    assert finite_or_nan(got)


def test_public_api_is_pinned():
    from speechsift import features

    assert sorted(features.__all__) == sorted([
        "DEFAULT_FEATURES", "FEATURE_COLUMNS", "FEATURE_NAMES", "MEASUREMENT_VERSION", "FeatureError", "check_features",
        "columns_for", "measure", "measure_clip",
    ])
    assert FEATURE_NAMES == ("duration", "loudness", "pitch", "rate", "snr", "quality", "quality_p835", "reverb",
                             "distortion")


def test_unknown_feature_names_are_a_config_error():
    with pytest.raises(ConfigError, match="'pich'.*choose from duration, loudness, pitch, rate, snr, quality, "
                                          "quality_p835, reverb, distortion"):
        measure(tone(), SR, ["pich"])


def test_duplicates_are_measured_once():
    assert tuple(measure(tone(), SR, ["snr", "snr", "duration"])) == ("snr_db", "duration_s", "speech_duration_s")


@pytest.mark.parametrize(
    "name,wave",
    [
        ("silent", np.zeros(SR)),
        ("one sample", np.array([0.25])),
        ("50 ms tone", tone(200.0, seconds=0.05)),
        ("50 ms silence", np.zeros(800)),
        ("hard-clipped tone", np.clip(tone(150.0, amplitude=4.0), -1, 1)),
        ("DC only", np.full(SR, 0.5)),
        ("denormal-level noise", np.random.default_rng(1).standard_normal(SR) * 1e-300),
        ("speech-level noise at -200 dB", np.random.default_rng(2).standard_normal(SR) * 1e-10),
        ("full-scale noise", np.clip(np.random.default_rng(0).standard_normal(SR), -1, 1)),
    ],
)
def test_hard_clips_give_every_column_finite_or_nan(name, wave):
    got = measure(wave, SR, text="hello there")
    assert tuple(got) == columns_for(FEATURE_NAMES)
    assert finite_or_nan(got)


def test_silent_clip_values():
    got = measure(np.zeros(SR), SR, text="hello")
    assert got["duration_s"] == 1.0 and got["speech_duration_s"] == 0.0
    assert got["voiced_fraction"] == 0.0 and got["clipped_fraction"] == 0.0
    for column in ("rms_db", "relative_db", "f0_median_hz", "speaking_rate", "snr_db"):
        assert math.isnan(got[column]), column


def test_50_ms_tone_values():
    got = measure(tone(200.0, seconds=0.05), SR, text="hi")
    assert got["duration_s"] == pytest.approx(0.05)
    assert got["f0_median_hz"] == pytest.approx(200.0, rel=0.02)
    assert math.isnan(got["snr_db"]) and math.isnan(got["speaking_rate"])  # too short for either


def test_clipped_speech_is_measured_and_flagged(speech):
    clipped = np.clip(speech() * 8, -1, 1)
    got = measure(clipped, SR, text=TEXT)
    assert got["clipped_fraction"] > 0.01
    assert got["relative_db"] > -10
    assert 60 < got["f0_median_hz"] < 200 and 8 < got["speaking_rate"] < 18


@pytest.mark.parametrize(
    "wave,reason",
    [
        (np.zeros(0), "empty_audio"),
        (np.array([0.1, np.nan, 0.2]), "non_finite_audio"),
        (np.array([0.1, np.inf]), "non_finite_audio"),
        (np.zeros((2, 2, 2)), "bad_audio_shape"),
    ],
)
def test_waves_that_are_not_audio_raise_a_typed_error(wave, reason):
    with pytest.raises(FeatureError) as info:
        measure(wave, SR)
    assert info.value.reason == reason


def test_bad_sampling_rate_raises():
    with pytest.raises(FeatureError) as info:
        measure(tone(), 0)
    assert info.value.reason == "bad_sampling_rate"


def test_stereo_and_integer_input_match_mono_float():
    x = tone(220.0)
    mono = measure(x, SR, ["loudness", "pitch"])
    stereo = measure(np.stack([x, x], axis=1), SR, ["loudness", "pitch"])
    pcm = measure((x * 32767).astype(np.int16), SR, ["loudness", "pitch"])
    assert stereo == pytest.approx(mono)
    assert pcm == pytest.approx(mono, abs=1e-3)


def test_measure_clip_decodes_the_file_once_at_16_khz(tmp_path):
    path = write_tone(tmp_path / "a.flac", seconds=1.0, sr=44_100, freq=180.0, amplitude=0.5)
    clip = make_clip(text="hello world", path=str(path))
    got = measure_clip(clip)
    assert got["duration_s"] == pytest.approx(1.0)
    assert got["f0_median_hz"] == pytest.approx(180.0, rel=0.01)
    assert got["speaking_rate"] == pytest.approx(8.0, rel=0.05)  # 8 phonemes over 1 s of tone
    assert tuple(got) == columns_for(FEATURE_COLUMNS)


def test_measure_clip_reports_unreadable_audio(tmp_path):
    with pytest.raises(AudioLoadError) as info:
        measure_clip(make_clip(path=str(tmp_path / "missing.wav")))
    assert info.value.reason == "missing_audio"
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    with pytest.raises(AudioLoadError):
        measure_clip(make_clip(path=str(bad)))


def test_measure_clip_window(tmp_path):
    path = tmp_path / "two.wav"
    sf.write(path, np.concatenate([tone(150.0, 1.0), tone(300.0, 1.0)]), SR)
    clip = make_clip(path=str(path))
    clip.audio = AudioRef(path=str(path), offset_s=1.0, duration_s=1.0)
    assert measure_clip(clip, ["pitch"])["f0_median_hz"] == pytest.approx(300.0, rel=0.01)
