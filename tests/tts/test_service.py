"""The synthesizer: text checks, the cache (a second call synthesizes nothing), identical texts
synthesized once, long texts sentence by sentence, and bad audio from a backend refused."""

from __future__ import annotations

import asyncio
import io
from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from speechsift import audio
from speechsift.tts import Speech, SpeechRequest, Synthesizer, UtteranceCache


def test_cache_dedup_and_rerun(synthesizer):
    requests = [SpeechRequest("Good morning, everyone.", "en-us", (("rate", 170),), "en"),
                SpeechRequest("  Good   morning,\neveryone. ", "en-us", (("rate", 170),), "en"),  # same words
                SpeechRequest("Good morning, everyone.", "en-us", (("rate", 200),), "en"),  # other settings
                SpeechRequest("Guten Morgen zusammen.", "de", (), "de")]
    counters = Counter()
    first = synthesizer.synthesize(requests, counters)
    assert [u.origin for u in first] == ["synthesized", "dedup", "synthesized", "synthesized"]
    assert first[0].audio.path == first[1].audio.path != first[2].audio.path
    assert counters["synthesized"] == 3 and counters["deduplicated"] == 1 and counters["requests"] == 4
    again = Counter()
    second = synthesizer.synthesize(requests, again)
    assert again["synthesized"] == 0 and again["cache_hits"] == 4, "a rerun synthesizes nothing"
    assert [u.audio.path for u in second] == [u.audio.path for u in first]
    wave, sr = audio.load(first[3].audio, sampling_rate=None)
    assert sr == 22_050 and 0.8 < len(wave) / sr < 3.0, "the cache holds the utterance itself (FLAC)"


@pytest.mark.parametrize(("text", "reason"), [
    ("   \n ", "empty_text"),
    ("!!! ??? ...", "no_speakable_text"),
    ("Как дела? Всё хорошо.", "unsupported_script"),
    ("東京は日本の首都です", "unsupported_script"),
])
def test_text_a_voice_cannot_speak_is_refused(synthesizer, text, reason):
    counters = Counter()
    [utterance] = synthesizer.synthesize([SpeechRequest(text, "en-us", (), "en")], counters)
    assert utterance.audio is None and utterance.reason == reason and utterance.message
    assert counters[f"failed.{reason}"] == 1 and counters["synthesized"] == 0


def test_a_few_foreign_words_are_fine(synthesizer):
    [utterance] = synthesizer.synthesize([SpeechRequest("Say Tokyo, that is 東京, slowly.", "en-us", (), "en")],
                                         Counter())
    assert utterance.audio is not None


def test_long_text_is_split_at_sentences_or_refused(espeak_backend, tmp_path):
    text = "This is the first sentence. Here comes the second one! And is this the third? Yes, the fourth."
    split = Synthesizer(espeak_backend, UtteranceCache(tmp_path / "a"), max_chars=40, split=True)
    whole = Synthesizer(espeak_backend, UtteranceCache(tmp_path / "b"), max_chars=1000, split=True)
    [pieces], [one] = split.synthesize([SpeechRequest(text, "en-us")], Counter()), whole.synthesize(
        [SpeechRequest(text, "en-us")], Counter())
    seconds = [len(w) / sr for w, sr in (audio.load(u.audio, sampling_rate=None) for u in (pieces, one))]
    assert seconds[0] > seconds[1] + 0.5, "the pieces are spoken one after another, with pauses"
    refuse = Synthesizer(espeak_backend, UtteranceCache(tmp_path / "c"), max_chars=40, split=False)
    [refused] = refuse.synthesize([SpeechRequest(text, "en-us")], Counter())
    assert refused.reason == "text_too_long" and "tts.long_text: split" in refused.message
    [sentence] = split.synthesize([SpeechRequest("A " * 30 + "very long sentence.", "en-us")], Counter())
    assert sentence.reason == "text_too_long" and "a sentence" in sentence.message


def _wav(wave: np.ndarray, sr: int = 16_000) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format="WAV")
    return buffer.getvalue()


class ScriptedBackend:
    """A backend that answers from a script: it stands for a synthesizer that misbehaves (silence,
    audio cut short, an unreadable file, an error), which no real program does on demand."""

    name = "scripted"
    model = None

    def __init__(self, answers: dict[str, Speech]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def resolve(self, voice, field):
        return voice.voice

    async def asynthesize(self, requests):
        self.calls += [r.text for r in requests]
        await asyncio.sleep(0)
        return [self.answers[r.text] for r in requests]


def test_bad_audio_is_tts_failed_and_never_cached(tmp_path):
    t = np.arange(16_000) / 16_000
    speech = (0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32)
    backend = ScriptedBackend({
        "A fine sentence.": Speech(audio=_wav(speech)),
        "A silent sentence.": Speech(audio=_wav(np.zeros(16_000, dtype=np.float32))),
        "A sentence whose audio was cut off after a tiny fraction of a second.": Speech(audio=_wav(speech[:800])),
        "An unreadable one.": Speech(audio=b"RIFF\x00\x00\x00\x00WAVEjunk"),
        "A server error.": Speech(error="HTTP 500: boom (after 6 attempts)", error_reason="server_error", retries=5),
    })
    synthesizer = Synthesizer(backend, UtteranceCache(tmp_path), max_chars=1000, split=True)
    counters = Counter()
    made = synthesizer.synthesize([SpeechRequest(text, "v") for text in backend.answers], counters)
    assert [(u.origin, u.reason) for u in made] == [
        ("synthesized", None), ("failed", "tts_failed"), ("failed", "tts_failed"), ("failed", "tts_failed"),
        ("failed", "server_error")]
    assert "silent" in made[1].message and "far too short" in made[2].message and "not readable" in made[3].message
    assert counters["retries"] == 5 and counters["failed.tts_failed"] == 3
    assert len(list(tmp_path.rglob("*.flac"))) == 1, "failures are not cached"
    backend.calls.clear()
    synthesizer.synthesize([SpeechRequest(text, "v") for text in backend.answers], Counter())
    assert backend.calls == list(backend.answers)[1:], "a rerun tries the failures again, and only them"
