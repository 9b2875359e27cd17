"""Clips with known properties for the measurement tests: tones, noise, and espeak-ng speech.

espeak-ng speech is synthesized on the spot (``espeak-ng --stdout``) and decoded through
``speechsift.audio`` like any corpus file (16 kHz mono). Tests reach the synthesizer through the
``speech`` fixture (tests/features/conftest.py), which skips them when espeak-ng is missing;
``tests/labels/test_bins.py`` imports this module as ``features.speech_fixtures``.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

import numpy as np

from speechsift import audio
from speechsift.records import AudioRef

SR = 16_000
TEXT = ("The quick brown fox jumps over the lazy dog. Then it runs away into the forest, "
        "and nobody ever sees it again.")


def tone(freq: float = 220.0, seconds: float = 2.0, amplitude: float = 0.3, sr: int = SR) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return amplitude * np.sin(2 * np.pi * freq * t)


def white_noise(n: int, power: float, seed: int = 0) -> np.ndarray:
    """Gaussian white noise with mean square ``power``."""
    return np.random.default_rng(seed).standard_normal(n) * np.sqrt(power)


@cache
def _espeak(text: str, voice: str, speed: int, pitch: int, amplitude: int, gap: int) -> np.ndarray:
    cmd = ["espeak-ng", "--stdout", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amplitude),
           "-g", str(gap), text]
    wav = subprocess.run(cmd, capture_output=True, check=True, timeout=60).stdout
    wave, sr = audio.load(AudioRef(bytes=wav))
    assert sr == SR
    wave = wave.astype(np.float64)
    wave.setflags(write=False)
    return wave


def espeak(text: str = TEXT, *, voice: str = "en-us", speed: int = 175, pitch: int = 50, amplitude: int = 100,
           gap: int = 0) -> np.ndarray:
    """espeak-ng speech at 16 kHz (float64, read-only, cached): -s words/min, -p pitch 0-99, -a amplitude."""
    return _espeak(text, voice, speed, pitch, amplitude, gap)


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


SKIP_REASON = "espeak-ng is not installed (apt-get install espeak-ng): synthesized-speech tests skipped"
