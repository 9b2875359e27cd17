"""Speaking rate against ground truth: espeak-ng at known words-per-minute settings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from speech_fixtures import SR, TEXT, tone

from speechsift.features import phonemes
from speechsift.features.rate import measure_rate

FRENCH = "Bonjour à tous. Aujourd'hui nous allons parler du temps qu'il fait dans les montagnes."


def test_espeak_speed_orders_the_measured_rate(speech):
    speeds = (80, 130, 200, 320)
    rates = [measure_rate(speech(speed=s), SR, TEXT)["speaking_rate"] for s in speeds]
    syllables = [measure_rate(speech(speed=s), SR, TEXT)["syllables_per_s"] for s in speeds]
    assert rates == sorted(rates) and len(set(rates)) == len(rates)
    assert syllables == sorted(syllables)


def test_measured_rate_scales_with_the_words_per_minute(speech):
    slow = measure_rate(speech(speed=120), SR, TEXT)["speaking_rate"]
    fast = measure_rate(speech(speed=240), SR, TEXT)["speaking_rate"]
    assert fast / slow == pytest.approx(240 / 120, rel=0.25)


def test_default_espeak_rate_is_in_the_range_of_read_speech(speech):
    got = measure_rate(speech(), SR, TEXT)
    assert 10 < got["speaking_rate"] < 16  # phonemes per second of speech
    assert 3.5 < got["syllables_per_s"] < 6.5


def test_silence_around_the_speech_does_not_change_the_rate(speech):
    x = speech()
    padded = np.concatenate([np.zeros(2 * SR), x, np.zeros(SR)])
    plain = measure_rate(x, SR, TEXT)["speaking_rate"]
    assert measure_rate(padded, SR, TEXT)["speaking_rate"] == pytest.approx(plain, rel=0.02)


def test_french_rate_through_espeak(speech):
    slow = measure_rate(speech(FRENCH, voice="fr", speed=110), SR, FRENCH, "fr")
    fast = measure_rate(speech(FRENCH, voice="fr", speed=260), SR, FRENCH, "fr")
    assert 4 < slow["speaking_rate"] < fast["speaking_rate"] < 30
    assert slow["syllables_per_s"] < fast["syllables_per_s"]


@pytest.mark.parametrize("text", [None, "", "   ", "?!"])
def test_no_countable_transcript_gives_nan(text):
    got = measure_rate(tone(seconds=1.0), SR, text)
    assert math.isnan(got["speaking_rate"]) and math.isnan(got["syllables_per_s"])


def test_too_little_speech_gives_nan():
    assert math.isnan(measure_rate(np.zeros(SR), SR, "hello")["speaking_rate"])
    assert math.isnan(measure_rate(tone(seconds=0.05), SR, "hello")["speaking_rate"])


def test_language_without_a_voice_gives_nan():
    assert math.isnan(measure_rate(tone(seconds=1.0), SR, "hello", "xx-unknown")["speaking_rate"])


def test_without_espeak_other_languages_are_missing_and_english_still_works(monkeypatch, caplog):
    monkeypatch.setattr(phonemes, "espeak_binary", lambda: None)
    monkeypatch.setattr(phonemes, "_warned", set())
    x = tone(seconds=1.0)
    assert math.isnan(measure_rate(x, SR, FRENCH, "fr")["speaking_rate"])
    assert "espeak-ng is not installed" in caplog.text
    assert measure_rate(x, SR, "hello world", "en")["speaking_rate"] == pytest.approx(8 / 1.0, rel=0.05)
