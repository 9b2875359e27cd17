"""Fixtures for the speech-synthesis tests: espeak-ng for real (skipped, with the reason, where it
is not installed), and a synthesizer over a temporary cache."""

from __future__ import annotations

import pytest
from features.speech_fixtures import SKIP_REASON, espeak_available

from speechsift.tts import Synthesizer, UtteranceCache
from speechsift.tts.espeak import EspeakBackend


@pytest.fixture
def espeak_backend():
    if not espeak_available():
        pytest.skip(SKIP_REASON)
    return EspeakBackend(workers=2)


@pytest.fixture
def synthesizer(espeak_backend, tmp_path):
    return Synthesizer(espeak_backend, UtteranceCache(tmp_path / "tts"), max_chars=1000, split=True)
