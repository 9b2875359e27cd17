"""spoken_instruction on voiced text records: the context as text or as audio, conversations, and
records it cannot train on."""

from __future__ import annotations

import pytest

from speechsift.errors import Reject
from speechsift.records import AudioRef, Clip, Part
from speechsift.sources.text import SPEECH_KEY, TextRecord
from speechsift.tasks import TaskSettings, get_task

TASK = get_task("spoken_instruction")


def _voiced(record: TextRecord, turns=(), context=None) -> Clip:
    speech = {"voice": "v", "turns": list(turns), **({"context": context} if context else {})}
    return Clip("s/1", "s", AudioRef("/cache/instruction.flac"), "en", "tts/v", record.instruction,
                meta={"gender": "female"}, features={"duration_s": 1.5},
                extra={"text_record": record.to_extra(), SPEECH_KEY: speech})


def test_context_stays_text_or_is_voiced():
    record = TextRecord("Summarize this.", "A long paragraph.", "A summary.")
    as_text = TASK.build(_voiced(record), TaskSettings())
    assert [p for p in as_text.messages[0].content] == [Part.of_audio(0), Part.of_text("A long paragraph.")]
    assert as_text.instruction == "A long paragraph." and as_text.response == "A summary."
    assert [a.path for a in as_text.audios] == ["/cache/instruction.flac"]
    assert as_text.speaker_id == "tts/v" and as_text.transcript == "Summarize this." and as_text.duration_s == 1.5
    settings = TaskSettings(options={"spoken_instruction": {"context": "voiced"}})
    voiced = TASK.build(_voiced(record, context="/cache/context.flac"), settings)
    assert voiced.messages[0].content == [Part.of_audio(0), Part.of_audio(1)] and voiced.instruction == ""
    assert [a.path for a in voiced.audios] == ["/cache/instruction.flac", "/cache/context.flac"]


def test_conversation_voices_every_user_turn():
    turns = ({"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."},
             {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Bye!"})
    example = TASK.build(_voiced(TextRecord("Hi", response="Bye!", messages=turns), turns=["/cache/2.flac"]),
                         TaskSettings())
    assert [m.content for m in example.messages] == [
        [Part.of_audio(0)], [Part.of_text("Hello.")], [Part.of_audio(1)], [Part.of_text("Bye!")]]
    assert example.response == "Bye!" and len(example.audios) == 2


def test_no_response_is_rejected():
    with pytest.raises(Reject) as refused:
        TASK.build(_voiced(TextRecord("Tell me a joke.")), TaskSettings())
    assert refused.value.reason == "missing_response"
    with pytest.raises(Exception, match="context is text or voiced"):
        TASK.parse_options({"context": "sung"})
