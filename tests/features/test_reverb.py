"""Blind C50 against ground truth: espeak-ng speech convolved with the impulse responses of simulated
shoebox rooms (pyroomacoustics, image-source method), the true C50 computed from each response."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr
from speech_fixtures import SR, tone, white_noise

from speechsift.features.reverb import C50_MAX_DB, decay_rates, measure_reverb, polack_c50_db
from speechsift.labels.bins import REVERBERATION_LEVELS, Bins

ROOMS = 32  # seed 7: none of them is among the calibration rooms (scripts/calibrate_reverb.py, seeds 100-101)
SENTENCE = "Please call Stella and ask her to bring these things with her from the store."


@pytest.fixture(scope="module")
def rooms():
    pytest.importorskip("pyroomacoustics", reason="pyroomacoustics (the dev extra) simulates the rooms")
    from rooms import shoebox_rooms

    return shoebox_rooms(ROOMS, seed=7)


@pytest.fixture(scope="module")
def estimates(rooms, speech):
    from rooms import reverberate

    dry = speech(SENTENCE)
    return dry, [(room.c50_db, measure_reverb(reverberate(dry, room.rir), SR)["c50_db"]) for room in rooms]


def test_estimate_ranks_rooms_as_their_true_c50(estimates):
    _, pairs = estimates
    truth, estimate = np.array(pairs).T
    assert truth.max() - truth.min() > 15, "the rooms span distant to close"
    assert spearmanr(truth, estimate)[0] >= 0.8
    assert np.median(np.abs(estimate - truth)) < 4.0  # in dB, not only in rank


def test_dry_speech_lands_in_the_closest_bins(estimates):
    dry, pairs = estimates
    dry_c50 = measure_reverb(dry, SR)["c50_db"]
    room_c50 = [estimate for _, estimate in pairs]
    bins = Bins.fit([*room_c50, dry_c50], REVERBERATION_LEVELS, trim_std=4.0)
    assert bins.label(dry_c50) in REVERBERATION_LEVELS[-2:]
    assert dry_c50 > np.median(room_c50) + 5


def test_most_reverberant_room_reads_distant(estimates):
    _, pairs = estimates
    truth, estimate = np.array(pairs).T
    bins = Bins.fit(estimate, REVERBERATION_LEVELS, trim_std=4.0)
    assert bins.label(estimate[np.argmin(truth)]) in REVERBERATION_LEVELS[:2]


def test_polack_clarity_of_exponential_decays():
    # RT60 0.5 s: the level falls 120 dB/s; C50 = 10 log10(exp(0.1 * 13.8) - 1) = 4.7 dB
    assert polack_c50_db(120.0) == pytest.approx(4.75, abs=0.05)
    assert polack_c50_db(60.0) < polack_c50_db(120.0) < polack_c50_db(1e6) < math.inf
    assert polack_c50_db(0.0) == -math.inf


@pytest.mark.parametrize("wave", [np.zeros(SR), np.zeros(800), tone(200.0, seconds=0.05), np.array([0.3]),
                                  white_noise(SR, 0.01)])
def test_silence_short_clips_and_steady_noise_give_nan(wave):
    assert math.isnan(measure_reverb(wave, SR)["c50_db"])


def test_clipped_speech_is_measured(speech):
    value = measure_reverb(np.clip(speech(SENTENCE) * 8, -1, 1), SR)["c50_db"]
    assert math.isfinite(value) and value <= C50_MAX_DB
    assert decay_rates(np.zeros(SR), SR).size == 0
