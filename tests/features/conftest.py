"""Fixtures for the measurement tests (helpers in speech_fixtures.py)."""

from __future__ import annotations

import pytest
from speech_fixtures import SKIP_REASON, espeak, espeak_available


@pytest.fixture(scope="session")
def speech():
    """The ``espeak`` synthesizer; skips the test, with the reason, when espeak-ng is not installed."""
    if not espeak_available():
        pytest.skip(SKIP_REASON)
    return espeak
