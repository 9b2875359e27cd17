"""DeSTA descriptions: the request (seed description + question) and finish."""

from __future__ import annotations

import pytest
from factories import make_clip

from speechsift.errors import ConfigError, Reject
from speechsift.llm.types import SamplingParams
from speechsift.records import Generation, Part
from speechsift.tasks import TaskSettings, get_task, prompts_sift
from speechsift.tasks.desta import seed_description

GEN = Generation(backend="openai", model="m")


def _clip(clip_id="src/c1", language="en"):
    clip = make_clip(clip_id, text="the belts needed cleaning", meta={"gender": "male", "emotion": "neutral"})
    clip.language = language
    clip.features = {"duration_s": 4.0}
    return clip


class Settings:
    def __init__(self, **options):
        self.sampling = SamplingParams()
        self.options = options


def test_request_is_the_seed_description_and_a_question():
    task = get_task("desta")
    example = task.build(_clip(), Settings(desta={"prompt": "fixed"}))
    assert example.instruction == "What can you hear from the audio?"
    assert example.request.messages[1]["content"] == (
        '[00:00:00 - 00:00:04] "the belts needed cleaning" (Gender: Male, Emotion: neutral, Duration: 4s)'
        "\n\nWhat can you hear from the audio?"
    )
    assert "in English." in example.request.messages[0]["content"]
    assert example.request.sampling.max_tokens == 384
    assert seed_description(example).startswith("[00:00:00 - 00:00:04]")


def test_pool_questions_are_seeded_per_clip_and_in_the_clips_language():
    task = get_task("desta")
    questions = {task.build(_clip(f"src/c{i}"), TaskSettings()).instruction for i in range(30)}
    assert questions <= set(prompts_sift.DESTA_QUESTIONS["en"]) and len(questions) > 2
    assert task.build(_clip(language="it"), TaskSettings()).instruction in prompts_sift.DESTA_QUESTIONS["it"]
    with pytest.raises(ConfigError, match="prompt must be 'pool' or 'fixed'"):
        task.build(_clip(), Settings(desta={"prompt": "random"}))


def test_finish_keeps_the_answer_and_the_seed_description():
    task = get_task("desta")
    example = task.build(_clip(), TaskSettings())
    (final,) = task.finish(example, "I hear a man calmly saying that the belts needed cleaning.", GEN)
    assert final.response == "I hear a man calmly saying that the belts needed cleaning."
    assert final.messages[0].content == [Part.of_audio(0), Part.of_text(final.instruction)]
    assert final.messages[1].content == [Part.of_text(final.response)]
    assert final.request is None
    final.generation = Generation(backend="openai", llm_messages=list(example.request.messages))
    assert seed_description(final) == seed_description(example)


@pytest.mark.parametrize("answer, reason", [
    ("According to the description, a man speaks.", "metadata_leak"),
    ("[00:00:00 - 00:00:04] a man speaks (Gender: Male).", "metadata_leak"),
    ("A woman says the belts needed cleaning.", "contradicts_labels"),
])
def test_finish_rejects(answer, reason):
    task = get_task("desta")
    with pytest.raises(Reject) as rejected:
        task.finish(task.build(_clip(), TaskSettings()), answer, GEN)
    assert rejected.value.reason == reason


def test_nothing_to_describe():
    with pytest.raises(Reject) as rejected:
        get_task("desta").build(make_clip(text=None, meta={}), TaskSettings())
    assert rejected.value.reason == "empty_context"
