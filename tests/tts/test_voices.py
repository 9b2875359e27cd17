"""The voice pool: language-matched, balanced by weight, seeded; settings drawn per record; the
recipe's tts section checked at load time."""

from __future__ import annotations

from collections import Counter

import pytest

from speechsift.errors import ConfigError
from speechsift.recipe import TTSConfig, TTSVoice, parse_recipe
from speechsift.tts.voices import VoicePool, language_code, resolve_voice


def _pool(seed=0):
    voices = [
        TTSVoice(name="en-a", voice="en-us", language="en", gender="male", weight=1, rate=(120, 240)),
        TTSVoice(name="en-b", voice="en-us+f3", language=["en", "en-GB"], gender="female", weight=1),
        TTSVoice(name="en-c", voice="en-gb", language="en", gender="male", accent="British", weight=2),
        TTSVoice(name="de-a", voice="de", language="de-DE", gender="female"),
    ]
    return VoicePool([resolve_voice(v, "espeak", v.voice) for v in voices], seed)


def test_choice_is_balanced_by_weight_and_matched_to_language():
    pool = _pool()
    items = [(f"r{i}", ["en", "en-US", "de_DE", "fr", None][i % 5]) for i in range(500)]
    chosen = pool.assign(items)
    counts = Counter(v.name if v else None for v in chosen)
    # 200 English utterances shared 1:1:2, exactly; German has one voice; French and None have none
    assert counts == {"en-a": 50, "en-b": 50, "en-c": 100, "de-a": 100, None: 200}
    assert all(v is None or language_code(lang) in v.languages for (_, lang), v in zip(items, chosen))
    assert chosen == pool.assign(items), "the same batch gets the same voices"
    assert chosen != _pool(seed=1).assign(items), "the seed changes the choice"
    one = Counter(pool.assign([(f"only{i}", "en")])[0].name for i in range(300))
    assert min(one.values()) > 40, f"a batch of one utterance still reaches every voice: {one}"


def test_settings_are_drawn_per_record_within_the_ranges():
    voice = _pool().voices[0]
    draws = [dict(voice.settings(f"r{i}", 0)) for i in range(200)]
    rates = [d["rate"] for d in draws]
    assert all(isinstance(r, int) and 120 <= r <= 240 for r in rates) and max(rates) - min(rates) > 80
    assert voice.settings("r1", 0) == voice.settings("r1", 0) != voice.settings("r1", 1)
    assert dict(voice.labels) == {"gender": "male"}
    assert _pool().voices[2].labels == (("gender", "male"), ("accent", "British"))


def test_response_voices_subset():
    pool = _pool()
    assert [v.name for v in pool.subset(["en-b"], "tts.response_voices").voices] == ["en-b"]
    with pytest.raises(ConfigError, match="tts.response_voices: no voice named nobody"):
        pool.subset(["nobody"], "tts.response_voices")


def test_tts_section_is_checked_at_load_time(tmp_path):
    with pytest.raises(ValueError, match="the espeak backend does not take speed"):
        TTSConfig(voices=[TTSVoice(voice="en-us", language="en", speed=1.2)])
    with pytest.raises(ValueError, match="the openai backend does not take rate"):
        TTSConfig(backend="openai", voices=[TTSVoice(voice="alloy", language="en", rate=(100, 200))])
    with pytest.raises(ValueError, match="a range is"):
        TTSVoice(voice="en-us", language="en", rate=(200, 100))
    data = {"name": "t", "sources": [{"name": "s", "kind": "text", "path": str(tmp_path / "x.jsonl")}],
            "tasks": [{"name": "controllable_template", "speak_response": True}]}
    with pytest.raises(ConfigError, match="speak_response voices a text response, and this task's target is audio"):
        parse_recipe(data)
    data["tasks"] = [{"name": "spoken_instruction", "speak_instruction": True}]
    with pytest.raises(ConfigError, match="speak_instruction voices the instruction of a text task"):
        parse_recipe(data)
    data["tasks"] = ["spoken_instruction"]
    data["tts"] = {"cache": "shared/tts", "voices": [{"voice": "en-us", "language": "en", "pitch": [30, 70]}]}
    recipe = parse_recipe(data)
    assert recipe.tts.voices[0].pitch == (30, 70)
