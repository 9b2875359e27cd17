"""Comparison tasks: PairTask examples, the template comparisons, and the LLM variant's finish."""

from __future__ import annotations

import json

import pytest
from factories import make_clip

from speechsift.errors import ConfigError, Reject
from speechsift.records import Generation, Part
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.comparison import PairTask

GEN = Generation(backend="openai", model="m")


def _clip(clip_id, gender="female", emotion="happy", text="hello there", language="en", **features):
    clip = make_clip(clip_id, text=text, meta={"gender": gender, "emotion": emotion})
    clip.language = language
    clip.features = {"duration_s": 1.5, **features}
    return clip


def test_template_asks_only_about_clear_differences():
    task = get_task("comparison_template")
    assert isinstance(task, PairTask)
    a = _clip("s/a", f0_median_hz=180.0, speaking_rate=12.0, relative_db=-20.0)
    b = _clip("s/b", f0_median_hz=240.0, speaking_rate=12.5, relative_db=-27.0)  # +4.98 st; x1.04; -7 dB
    examples = task.build_pair(a, b, TaskSettings())
    assert [e.id for e in examples] == [e.id for e in task.build_pair(a, b, TaskSettings())]
    assert len(examples) == 2  # pitch and loudness; the rate differs by 4 %, under the 15 % minimum
    answers = {}
    for example in examples:
        assert example.clip_ids == ["s/a", "s/b"] and example.audios == [a.audio, b.audio]
        assert example.messages[0].content == [Part.of_audio(0), Part.of_audio(1), Part.of_text(example.instruction)]
        assert example.generation.backend == "template" and example.duration_s == 3.0
        answers[example.instruction] = example.response
    expected = {
        "In which recording is the voice higher-pitched, the first or the second?": "In the second recording.",
        "In which recording is the voice lower-pitched, the first or the second?": "In the first recording.",
        "In which recording is the speech louder, the first or the second?": "In the first recording.",
        "In which recording is the speech quieter, the first or the second?": "In the second recording.",
    }
    for question, answer in answers.items():
        assert expected[question] == answer


def test_template_in_the_clips_language_and_refusals():
    task = get_task("comparison_template")
    a = _clip("s/a", language="es", relative_db=-10.0)
    b = _clip("s/b", language="es", relative_db=-20.0)
    (example,) = task.build_pair(a, b, TaskSettings())
    assert example.instruction.startswith("¿En qué grabación se habla más")
    assert example.response in ("En la primera grabación.", "En la segunda grabación.")
    with pytest.raises(Reject) as rejected:
        task.build_pair(_clip("s/a", relative_db=-10.0), _clip("s/b", relative_db=-11.0), TaskSettings())
    assert rejected.value.reason == "no_clear_difference"
    with pytest.raises(Reject) as rejected:
        task.build_pair(_clip("s/a"), _clip("s/b"), TaskSettings())
    assert rejected.value.reason == "not_measured"
    with pytest.raises(ConfigError, match="build_pair"):
        task.build(_clip("s/a"), TaskSettings())


def test_llm_comparison_request_and_finish():
    task = get_task("comparison")
    a = _clip("s/a", gender="male", emotion="sad", text="I lost my keys", f0_median_hz=110.0)
    b = _clip("s/b", gender="male", emotion="happy", text="I found my keys", f0_median_hz=140.0)
    example = task.build_pair(a, b, TaskSettings())
    context = json.loads(example.request.messages[1]["content"])
    assert context["measured"] == {"higher_pitch": "audio_2"}
    assert context["audio_1"]["content_level"]["transcript"] == "I lost my keys"
    assert example.clip_ids == ["s/a", "s/b"] and example.speaker_id == "spk1"
    response = "\n".join(json.dumps(p) for p in (
        {"q": "Which speaker sounds happier?", "a": "The man in the second recording sounds happier."},
        {"q": "How do audio_1 and audio_2 differ?", "a": "In pitch."},
        {"q": "What did the first speaker lose?", "a": "His keys."},
    ))
    examples = task.finish(example, response, GEN)
    assert [e.instruction for e in examples] == ["Which speaker sounds happier?", "What did the first speaker lose?"]
    assert examples[0].messages[0].content == [Part.of_audio(0), Part.of_audio(1), Part.of_text(examples[0].instruction)]
    assert examples[0].quality["dropped.metadata_leak"] == 1.0 and examples[0].task == "comparison"
    with pytest.raises(Reject) as rejected:
        task.finish(example, json.dumps({"q": "Who speaks first?", "a": "A woman."}), GEN)
    assert rejected.value.reason == "contradicts_labels"


def test_gender_is_not_checked_when_the_speakers_differ():
    task = get_task("comparison")
    example = task.build_pair(_clip("s/a", gender="male"), _clip("s/b", gender="female"), TaskSettings())
    (finished,) = task.finish(example, json.dumps({"q": "Who speaks in the second?", "a": "A woman."}), GEN)
    assert finished.response == "A woman."
    assert (task.category, task.sub, task.needs_llm, task.checks_language) == ("closed_ended", "comparison", True, True)
