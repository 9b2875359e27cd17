"""The openai speech backend against a real HTTP server on 127.0.0.1 that speaks with espeak-ng
(tests/servers.py ``espeak_speech``: it stands for Kokoro-FastAPI or openedai-speech), and against
the same server injecting faults: retried statuses, dropped connections, bodies that are not audio,
permanent errors."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from servers import RESET, ChatServer, Hang, espeak_speech

from speechsift import audio
from speechsift.errors import ConfigError
from speechsift.features import measure
from speechsift.recipe import TTSConfig
from speechsift.tts import SpeechRequest, Synthesizer, UtteranceCache, make_tts_backend, make_voices


def _config(url, **changes):
    data = {"backend": "openai", "model": "kokoro", "api_base": url, "api_key_env": "TEST_TTS_KEY",
            "voices": [{"voice": "en-us", "language": "en", "gender": "male", "speed": [0.9, 1.1]},
                       {"voice": "en-us+f3", "language": "en", "gender": "female", "instructions": "Speak warmly."}],
            "retry": {"max_attempts": 3, "backoff_base_s": 0.01, "backoff_max_s": 0.02}, "timeout_s": 5}
    data.update(changes)
    return TTSConfig(**data)


def test_speech_server_round_trip(tmp_path, espeak_backend, monkeypatch):
    monkeypatch.setenv("TEST_TTS_KEY", "sk-test-secret")
    with ChatServer(espeak_speech) as server:
        config = _config(server.url)
        backend = make_tts_backend(config)
        male, female = make_voices(config, backend)
        synthesizer = Synthesizer(backend, UtteranceCache(tmp_path), max_chars=1000, split=True)
        text = "Please book a table for two at seven tonight."
        counters = Counter()
        made = synthesizer.synthesize([
            SpeechRequest(text, male.id, (("speed", 1.5),), "en"),
            SpeechRequest(text, female.id, female.settings("r1", 0), "en"),
        ], counters)
        assert counters["synthesized"] == 2 and counters["retries"] == 0
        # the two requests are in flight together: the server may see them in either order
        by_voice = {body["voice"]: body for body in server.requests}
        assert len(by_voice) == 2
        assert by_voice["en-us"] == {"model": "kokoro", "input": text, "voice": "en-us", "response_format": "wav",
                                     "speed": 1.5}
        second = next(body for voice, body in by_voice.items() if voice != "en-us")
        assert second["instructions"] == "Speak warmly." and "speed" not in second
        assert all(h["Authorization"] == "Bearer sk-test-secret" for h in server.headers)
        assert all(h["Accept"] == "audio/wav" for h in server.headers)
        pitches = [measure(*audio.load(u.audio), ("pitch",))["f0_median_hz"] for u in made]
        assert pitches[1] > 1.4 * pitches[0], "each request spoke with its own voice"
        synthesizer.synthesize([SpeechRequest(text, male.id, (("speed", 1.5),), "en")], counters)
        assert len(server.requests) == 2, "a cached utterance is not asked for again"
    assert not any(b"sk-test-secret" in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


class Faults:
    """Per input text: the answers of its first attempts, then real speech."""

    def __init__(self, plan):
        self.plan = {text: list(answers) for text, answers in plan.items()}
        self.lock = threading.Lock()

    def __call__(self, body):
        with self.lock:
            planned = self.plan.get(body["input"])
            answer = planned.pop(0) if planned else None
        return espeak_speech(body) if answer is None else answer


def test_faults_are_retried_then_rejected_with_their_reason(tmp_path, espeak_backend):
    plan = {
        "Busy server.": [(503, {"error": {"message": "overloaded"}}), (429, {"error": "slow down"}, {"Retry-After": "0"})],
        "Dropped connection.": [RESET],
        "A proxy page.": [(200, b"<html>Bad gateway</html>", {"Content-Type": "text/html"})],
        "Too slow once.": [Hang(2.5, (500, {}))],
        "Unknown voice.": [(400, {"error": {"message": "voice not found"}})] * 5,
        "Always down.": [(500, {"error": "down"})] * 5,
    }
    with ChatServer(Faults(plan)) as server:
        config = _config(server.url, timeout_s=1.5)
        backend = make_tts_backend(config)
        synthesizer = Synthesizer(backend, UtteranceCache(tmp_path), max_chars=1000, split=True)
        counters = Counter()
        made = synthesizer.synthesize([SpeechRequest(text, "en-us", (), "en") for text in plan], counters)
    outcomes = {text: (u.origin, u.reason) for text, u in zip(plan, made)}
    assert outcomes == {
        "Busy server.": ("synthesized", None),
        "Dropped connection.": ("synthesized", None),
        "A proxy page.": ("synthesized", None),
        "Too slow once.": ("synthesized", None),
        "Unknown voice.": ("failed", "bad_request"),
        "Always down.": ("failed", "server_error"),
    }
    assert "HTTP 400: voice not found (after 1 attempt)" in made[4].message
    assert "(after 3 attempts)" in made[5].message
    assert counters["retries"] == 2 + 1 + 1 + 1 + 0 + 2
    assert counters["failed.bad_request"] == counters["failed.server_error"] == 1


def test_configuration_errors(monkeypatch):
    with pytest.raises(ConfigError, match="tts.model"):
        make_tts_backend(TTSConfig(backend="openai"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ConfigError, match="tts.api_key_env: the environment variable 'OPENAI_API_KEY' is not set"):
        make_tts_backend(TTSConfig(backend="openai", model="tts-1"))
    backend = make_tts_backend(TTSConfig(backend="openai", model="tts-1", api_base="http://127.0.0.1:9/v1"))
    with pytest.raises(ConfigError, match="tts.voices: the openai backend has no default voices"):
        make_voices(TTSConfig(backend="openai", model="tts-1"), backend)
