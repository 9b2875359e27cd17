"""Binning engine: fixed rules, per-dataset fits, per-gender pitch, the JSON file, and measured clips."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

from speechsift.labels.bins import (
    BINS_FORMAT_VERSION,
    FIXED_BINS,
    INTENSITY_LEVELS,
    NOISE_LEVELS,
    PITCH_BINS_BY_GENDER,
    PITCH_LEVELS,
    PITCH_VARIATION_LEVELS,
    SIFT_FIELDS,
    SPEAKING_SPEED_LEVELS,
    BinFitError,
    Bins,
    BinSet,
    BinsFileError,
    FieldBins,
    load_bins,
    save_bins,
)
from speechsift.labels.normalize import pace_from_rate, volume_from_db

# --- fixed rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [0.0, 5.99, 6.0, 6.01, 7.5, 8.99, 9.0, 9.01, 30.0])
def test_pace_rule_is_the_seed_rule(rate):
    assert FIXED_BINS.label("pace", rate) == pace_from_rate(rate)


@pytest.mark.parametrize("db", [-60.0, -16.41, -16.4, -16.39, -12.0, -10.01, -10.0, -9.99, 0.0])
def test_volume_rule_is_the_seed_rule(db):
    assert FIXED_BINS.label("volume", db) == volume_from_db(db)


def test_sift_pitch_table_reproduces_the_published_bin():
    male, female = PITCH_BINS_BY_GENDER["male"], PITCH_BINS_BY_GENDER["female"]
    for hz in (125.0, 130.0, 137.9):
        assert FIXED_BINS.label("pitch", hz, "male") == "slightly low"
    for hz in (166.0, 174.0, 181.9):
        assert FIXED_BINS.label("pitch", hz, "female") == "slightly low"
    assert set(np.diff(male.edges)) == {13.0} and set(np.diff(female.edges)) == {16.0}
    assert male.labels == female.labels == PITCH_LEVELS
    # the same voice is low for a woman and high for a man
    assert FIXED_BINS.label("pitch", 180.0, "male") == "very high"
    assert FIXED_BINS.label("pitch", 140.0, "female") == "very low"


def test_pitch_without_a_known_gender_has_no_label():
    assert FIXED_BINS.label("pitch", 150.0) is None
    assert FIXED_BINS.label("pitch", 150.0, "nonbinary") is None


# --- Bins ----------------------------------------------------------------------------------------

def test_values_outside_the_edges_get_the_extreme_labels_and_missing_get_none():
    bins = Bins(("low", "mid", "high"), (1.0, 2.0))
    assert [bins.label(v) for v in (-1e9, 0.5, 1.5, 2.5, 1e9, math.inf, -math.inf)] == \
        ["low", "low", "mid", "high", "high", "high", "low"]
    assert bins.label(None) is None and bins.label(math.nan) is None


def test_values_on_an_edge_go_toward_the_middle():
    bins = Bins(tuple("abcdefg"), (1, 2, 3, 4, 5, 6))
    assert [bins.label(v) for v in (1, 2, 3, 4, 5, 6)] == ["b", "c", "d", "d", "e", "f"]
    flat = Bins(tuple("abcdefg"), (3, 3, 3, 3, 3, 3))  # all values equal: one "moderate" class
    assert flat.label(3) == "d" and flat.label(2) == "a" and flat.label(4) == "g"


@pytest.mark.parametrize("labels,edges", [(("a",), ()), (("a", "b"), (1, 2)), (("a", "b", "c"), (2, 1)),
                                          (("a", "b"), (math.nan,))])
def test_invalid_bins_are_rejected(labels, edges):
    with pytest.raises(ValueError):
        Bins(labels, edges)


def test_equal_width_fit_is_numpy_histogram_after_the_outlier_cut():
    values = np.random.default_rng(0).normal(100, 10, 5000)
    values[:3] = [1e6, -1e6, 5e5]  # outliers that would stretch the range
    bins = Bins.fit(values, PITCH_LEVELS, trim_std=4.0)
    kept = values[np.abs(values - values.mean()) < 4.0 * values.std()]
    assert bins.edges == pytest.approx(tuple(np.histogram(kept, bins=7)[1][1:-1]))
    assert bins.n_values == kept.size and bins.value_range == (kept.min(), kept.max())
    assert 60 < bins.edges[0] < bins.edges[-1] < 140


def test_quantile_fit_puts_equal_counts_in_each_bin():
    values = np.random.default_rng(1).lognormal(0, 1, 7000)
    bins = Bins.fit(values, NOISE_LEVELS, method="quantile")
    counts = np.bincount([bins.index(v) for v in values], minlength=7)
    assert counts.min() >= 990 and counts.max() <= 1010


def test_fit_skips_missing_values_and_needs_two():
    assert Bins.fit([1.0, None, math.nan, 3.0, math.inf], INTENSITY_LEVELS).n_values == 2
    with pytest.raises(BinFitError):
        Bins.fit([1.0, None], INTENSITY_LEVELS)


def test_per_gender_fit():
    rng = np.random.default_rng(2)
    male, female = rng.normal(120, 20, 500), rng.normal(210, 25, 500)
    values = np.concatenate([male, female]).tolist()
    genders = ["male"] * 500 + ["female"] * 500
    field = FieldBins.fit("f0_median_hz", values, PITCH_LEVELS, genders=genders, trim_std=2.0)
    assert set(field.by_gender) == {"male", "female"}
    assert field.label(120, "male") == "moderate" and field.label(210, "female") == "moderate"
    assert field.label(165, "male") in ("quite high", "very high")
    assert field.label(165, "female") in ("very low", "quite low")
    assert field.label(165) is None


def test_binset_fit_leaves_out_fields_it_cannot_fit(caplog):
    rows = [{"relative_db": -20.0 + i, "snr_db": 10.0 + i} for i in range(20)]
    with caplog.at_level(logging.WARNING):
        bins = BinSet.fit(rows, name="tiny")
    assert set(bins.fields) == {"intensity", "noise"}  # no pitch, rate or variation values
    assert "speaking_speed" in caplog.text
    assert bins.labels({"relative_db": -20.0, "snr_db": 29.0}) == {"intensity": "softly", "noise": "very clean"}


# --- the JSON file -------------------------------------------------------------------------------

def fitted_binset() -> BinSet:
    rng = np.random.default_rng(3)
    n = 400
    rows = [
        {"f0_median_hz": f0, "f0_std_st": st, "speaking_rate": r, "relative_db": db, "snr_db": s,
         "dnsmos_p808": q, "c50_db": c, "distortion_sdr_db": d}
        for f0, st, r, db, s, q, c, d in zip(
            np.concatenate([rng.normal(120, 15, n // 2), rng.normal(200, 20, n // 2)]),
            rng.gamma(4, 0.8, n), rng.normal(13, 2, n), rng.normal(-20, 4, n), rng.normal(35, 10, n),
            rng.normal(3.0, 0.4, n), rng.normal(15, 6, n), rng.normal(30, 8, n))
    ]
    genders = ["male"] * (n // 2) + ["female"] * (n // 2)
    return BinSet.fit(rows, genders, name="synthetic"), rows, genders


def test_json_round_trip_keeps_every_label(tmp_path):
    bins, rows, genders = fitted_binset()
    path = save_bins(bins, tmp_path / "bins" / "dataset.json")
    loaded = load_bins(path)
    assert loaded == bins
    assert [loaded.labels(r, g) for r, g in zip(rows, genders)] == [bins.labels(r, g) for r, g in zip(rows, genders)]
    data = json.loads(path.read_text())
    assert data["format"] == "speechsift.bins" and data["version"] == BINS_FORMAT_VERSION
    assert data["fields"]["pitch"]["by_gender"]["male"]["method"] == "equal_width"
    assert set(data["fields"]) == {spec.field for spec in SIFT_FIELDS}


def test_fixed_bins_round_trip_including_omitted_labels(tmp_path):
    loaded = load_bins(save_bins(FIXED_BINS, tmp_path / "fixed.json"))
    assert loaded == FIXED_BINS
    assert loaded.label("volume", -12.0) is None and loaded.label("volume", -5.0) == "loud"


def test_bins_fitted_on_one_dataset_label_another(tmp_path):
    bins, _, _ = fitted_binset()
    path = save_bins(bins, tmp_path / "a.json")
    other = {"f0_median_hz": 95.0, "f0_std_st": 0.5, "speaking_rate": 22.0, "relative_db": -5.0, "snr_db": 0.0,
             "dnsmos_p808": 1.2, "c50_db": 40.0, "distortion_sdr_db": 50.0}
    assert load_bins(path).labels(other, "male") == {
        "pitch": "very low", "pitch_variation": "very monotone", "speaking_speed": "very fast",
        "intensity": "loudly", "noise": "very noisy", "speech_quality": "very bad speech quality",
        "reverberation": "very close-sounding", "distortion_level": "no distortion",
    }


@pytest.mark.parametrize(
    "content,match",
    [
        ("not json", "cannot read bins file"),
        ('{"format": "something else"}', "not a speechsift bins file"),
        ('{"format": "speechsift.bins", "version": 99, "fields": {}}', "newer than this speechsift"),
        (('{"format": "speechsift.bins", "version": 1, "fields": {"pitch": {"feature": "f0_median_hz", '
          '"bins": {"labels": ["a", "b"], "edges": [1, 2]}}}}'), "field 'pitch' is invalid"),
        ('{"format": "speechsift.bins", "version": 1, "fields": {"pitch": {"bins": {}}}}', "field 'pitch'"),
    ],
)
def test_bad_files_raise_a_config_error_naming_the_file(tmp_path, content, match):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(BinsFileError, match=match) as info:
        load_bins(path)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(BinsFileError, match="not found"):
        load_bins(tmp_path / "nope.json")


def test_bins_from_another_measurement_version_warn(tmp_path, caplog):
    bins, _, _ = fitted_binset()
    path = save_bins(BinSet(bins.fields, "old", measurement_version=0), tmp_path / "old.json")
    with caplog.at_level(logging.WARNING):
        load_bins(path)
    assert "refit" in caplog.text


# --- measured clips land in the right bins --------------------------------------------------------

@pytest.fixture(scope="module")
def espeak():
    from features.speech_fixtures import SKIP_REASON, espeak_available
    from features.speech_fixtures import espeak as synth

    if not espeak_available():
        pytest.skip(SKIP_REASON)
    return synth


def test_measured_espeak_clips_fall_into_the_right_bins(espeak):
    """A small 'dataset' of espeak clips varied in speed, pitch, level and noise, binned on itself."""
    from features.speech_fixtures import TEXT, white_noise

    from speechsift.features import measure

    rng_seed = iter(range(1000))
    clips: dict[str, tuple[np.ndarray, str]] = {}
    for speed in (90, 130, 175, 220, 280):
        for pitch, voice, gender in ((25, "en-us+m3", "male"), (50, "en-us+m3", "male"), (75, "en-us+m3", "male"),
                                     (25, "en-us+f3", "female"), (50, "en-us+f3", "female"),
                                     (75, "en-us+f3", "female")):
            clips[f"s{speed}-p{pitch}-{gender}"] = (espeak(voice=voice, speed=speed, pitch=pitch), gender)
    base = espeak()
    for gain_db in (-20, -10, 0, 6, 14):  # espeak speaks at about -20 dB relative_db; +14 dB clips
        clips[f"gain{gain_db}"] = (np.clip(base * 10 ** (gain_db / 20), -1.0, 1.0), "male")
    for snr_db in (0, 10, 20, 40):
        power = float(np.mean(base**2))
        clips[f"snr{snr_db}"] = (base + white_noise(base.size, power / 10 ** (snr_db / 10), next(rng_seed)), "male")

    names = list(clips)
    features = [measure(clips[n][0], 16_000, text=TEXT) for n in names]
    genders = [clips[n][1] for n in names]
    bins = BinSet.fit(features, genders, name="espeak")
    label = {n: bins.labels(f, g) for n, f, g in zip(names, features, genders)}

    slow = [label[n]["speaking_speed"] for n in names if n.startswith("s90-")]
    fast = [label[n]["speaking_speed"] for n in names if n.startswith("s280-")]
    assert all(SPEAKING_SPEED_LEVELS.index(w) <= 1 for w in slow), slow
    assert all(SPEAKING_SPEED_LEVELS.index(w) >= 5 for w in fast), fast
    for gender in ("male", "female"):
        low = [label[n]["pitch"] for n in names if n.endswith(f"p25-{gender}")]
        high = [label[n]["pitch"] for n in names if n.endswith(f"p75-{gender}")]
        assert max(PITCH_LEVELS.index(w) for w in low) < min(PITCH_LEVELS.index(w) for w in high), (low, high)
    assert label["gain-20"]["intensity"] == "softly" and label["gain14"]["intensity"] == "loudly"
    assert NOISE_LEVELS.index(label["snr0"]["noise"]) <= 1
    assert NOISE_LEVELS.index(label["snr40"]["noise"]) > NOISE_LEVELS.index(label["snr10"]["noise"])
    assert all(label[n].get("pitch_variation") in PITCH_VARIATION_LEVELS for n in names)

    # the seed's fixed volume rule on the same measurements
    fixed = {n: FIXED_BINS.labels(f, g) for n, f, g in zip(names, features, genders)}
    assert fixed["gain-20"].get("volume") == "quiet"
    assert "volume" not in fixed["gain6"]  # normal volume is left out of meta
    assert fixed["gain14"].get("volume") == "loud"
