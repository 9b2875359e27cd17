"""Word-align: per-word categories, phrases, the LLM request, and the timestamp partition."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from factories import make_clip

from speechsift.errors import ConfigError, Reject
from speechsift.llm.types import SamplingParams
from speechsift.records import Generation
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.word_align import phrases, word_prosody, word_table

GEN = Generation(backend="openai", model="m")

WORDS = [
    {"word": "I", "start_s": 0.00, "end_s": 0.12, "f0_median_hz": 120.0, "relative_db": -20.0},
    {"word": "never", "start_s": 0.14, "end_s": 0.50, "f0_median_hz": 160.0, "relative_db": -15.0},  # +4.98 st, +5 dB
    {"word": "said", "start_s": 0.52, "end_s": 0.80, "f0_median_hz": 121.0, "relative_db": -21.0},
    {"word": "that", "start_s": 1.20, "end_s": 1.50, "f0_median_hz": 100.0, "relative_db": -26.0},  # after a pause
    {"word": "tomorrow", "start_s": 1.52, "end_s": 2.00, "relative_db": -19.0},  # unvoiced: no pitch
]


def _clip(words=WORDS, **features):
    clip = make_clip(text="I never said that tomorrow", meta={"gender": "male"}, words=words)
    clip.features = {"f0_median_hz": 120.0, "relative_db": -20.0, **features}
    return clip


def test_word_categories_relative_to_the_clip():
    prosody = word_prosody(WORDS, 120.0, -20.0)
    assert [(w.word, w.pitch, w.loudness, w.position) for w in prosody] == [
        ("I", "similar", "similar", "beginning"),
        ("never", "higher", "louder", "beginning"),
        ("said", "similar", "similar", "middle"),
        ("that", "lower", "softer", "middle"),
        ("tomorrow", None, "similar", "end"),
    ]
    # without clip features, the medians of the words are the reference
    assert [w.pitch for w in word_prosody(WORDS)][:2] == ["similar", "higher"]


def test_phrases_split_at_pauses_and_long_runs():
    prosody = word_prosody(WORDS, 120.0, -20.0)
    assert [[w.word for w in g] for g in phrases(prosody)] == [["I", "never", "said"], ["that", "tomorrow"]]
    many = [{"word": f"w{i}", "start_s": i * 0.2, "end_s": i * 0.2 + 0.15, "f0_median_hz": 100.0} for i in range(20)]
    assert [len(g) for g in phrases(word_prosody(many))] == [7, 7, 6]


def test_word_table_for_the_llm():
    table = word_table(_clip())
    assert table["words"][1] == {"word": "never", "position": "beginning", "start": 0.1, "end": 0.5,
                                 "pitch": "higher", "loudness": "louder"}
    assert table["phrases"][0]["text"] == "I never said" and table["phrases"][0]["pitch_movement"] == "level"
    assert "pitch_movement" not in table["phrases"][1]  # one voiced word: no movement
    assert table["notable"] == {"highest_pitch_word": "never", "lowest_pitch_word": "that",
                                "loudest_word": "never", "softest_word": "that"}
    untimed = word_table(_clip(), include_times=False)
    assert "start" not in untimed["words"][0] and "start" not in untimed["phrases"][0]


def test_clips_without_words_or_prosody_are_refused():
    task = get_task("word_align")
    with pytest.raises(Reject) as rejected:
        task.build(make_clip(), TaskSettings())
    assert rejected.value.reason == "no_word_alignment"
    bare = [{"word": w["word"], "start_s": w["start_s"], "end_s": w["end_s"]} for w in WORDS]
    with pytest.raises(Reject) as rejected:
        task.build(_clip(bare), TaskSettings())
    assert rejected.value.reason == "no_word_prosody"


def test_timestamp_questions_go_to_their_own_partition():
    task = get_task("word_align")
    example = task.build(_clip(), TaskSettings())
    assert json.loads(example.request.messages[1]["content"])["words"][0]["word"] == "I"
    response = "\n".join(json.dumps(p) for p in (
        {"q": "Which word does the speaker stress most?", "a": "The word 'never'."},
        {"q": "What word is spoken at 1.2 seconds?", "a": "'that'."},
        {"q": "Where does the pitch drop?", "a": "On 'that', around 0:01."},
        {"q": "What is the pitch of 'never'?", "a": "The metadata says higher."},
    ))
    examples = task.finish(example, response, GEN)
    assert [e.task for e in examples] == ["word_align", "word_align_timestamps", "word_align_timestamps"]
    assert examples[0].quality == {"pairs.parsed": 4.0, "pairs.kept": 3.0, "dropped.metadata_leak": 1.0,
                                   "pairs.timestamps": 2.0}
    partition = get_task("word_align_timestamps")
    assert (partition.category, partition.sub, partition.partition_of) == ("closed_ended", "word_align_timestamps", "word_align")
    with pytest.raises(ConfigError, match="list 'word_align' instead"):
        partition.build(_clip(), TaskSettings())


def test_options():
    class Settings:
        sampling = SamplingParams()
        options: ClassVar = {"word_align": {"include_times": False, "max_pairs": 3}}

    example = get_task("word_align").build(_clip(), Settings())
    assert "start" not in json.loads(example.request.messages[1]["content"])["words"][0]
    assert "up to 3 different questions" in example.request.messages[0]["content"]
