"""Each omni task's example (REFERENCE.md §1)."""

from __future__ import annotations

import pytest
from factories import make_clip

from speechsift.errors import Reject
from speechsift.records import Part, stable_id, stable_ids
from speechsift.tasks import TaskSettings, get_task, prompts, task_names

META = {"age": "young adult", "gender": "female", "volume": "loud", "pace": "fast", "emotion": "happy"}
SETTINGS = TaskSettings()


def test_registry_lists_the_omni_and_sift_tasks():
    assert task_names() == [
        "answer_extraction", "closed_ended_acoustic", "closed_ended_content", "closed_ended_template", "comparison",
        "comparison_template", "constrained", "controllable", "controllable_template", "desta", "evol_instruct",
        "magpie", "open_ended", "preference_pairs", "self_instruct", "sift_s", "sift_ssp", "sit_ssp", "speech_response",
        "spoken_instruction", "transcription", "word_align", "word_align_timestamps",
    ]


def test_transcription():
    example = get_task("transcription").build(make_clip(text="  I got the JOB!  "), SETTINGS)
    assert example.instruction == "Transcribe:"
    assert example.messages[0].content == [Part.of_audio(0), Part.of_text("Transcribe:")]
    assert example.response == "i got the job!"
    assert example.messages[1].text() == "i got the job!"
    assert example.request is None and example.generation.backend == "direct"
    with pytest.raises(Reject) as rejected:
        get_task("transcription").build(make_clip(text="   "), SETTINGS)
    assert rejected.value.reason == "empty_transcript"


def test_answer_extraction():
    example = get_task("answer_extraction").build(make_clip(answers=["", "Paris", "paris"]), SETTINGS)
    assert example.instruction == "" and example.messages[0].content == [Part.of_audio(0)]
    assert example.response == "paris"
    with pytest.raises(Reject) as rejected:
        get_task("answer_extraction").build(make_clip(), SETTINGS)
    assert rejected.value.reason == "no_answer"


def test_sift_s_sends_only_the_transcript():
    example = get_task("sift_s").build(make_clip(text="I got the job!", meta=META), SETTINGS)
    assert example.response is None and example.messages[0].content == [Part.of_audio(0)]
    assert example.request.messages == [
        {"role": "system", "content": prompts.SIFT_S_SYSTEM + "\n\nReply in English."},
        {"role": "user", "content": "i got the job!"},
    ]
    assert example.request.sampling.temperature == 0.8 and example.request.sampling.top_p == 0.92
    with pytest.raises(Reject):
        get_task("sift_s").build(make_clip(text=None, meta=META), SETTINGS)


def test_sift_ssp_and_sit_ssp_send_the_audio_context():
    context = (
        "<audio><meta>age: young adult, gender: female, volume: loud, pace: fast, emotion: happy</meta>"
        "<text>i got the job!</text></audio>"
    )
    ssp = get_task("sift_ssp").build(make_clip(text="I got the job!", meta=META), SETTINGS)
    assert ssp.request.messages[1]["content"] == context and ssp.instruction == ""
    sit = get_task("sit_ssp").build(make_clip(text="I got the job!", meta=META), SETTINGS)
    assert sit.request.messages[1]["content"] == context
    assert sit.instruction == "Describe all information you can hear:"
    assert sit.messages[0].content == [Part.of_audio(0), Part.of_text("Describe all information you can hear:")]
    assert sit.id != ssp.id and sit.id == get_task("sit_ssp").build(make_clip(text="x"), SETTINGS).id


@pytest.mark.parametrize("language, name, opening, describe, transcribe", [
    ("en", "English", "Sounds like", "Describe all information you can hear:", "Transcribe:"),
    ("de", "German", "Klingt nach", "Beschreibe alle Informationen, die du hören kannst:", "Transkribiere:"),
    ("fr", "French", "On dirait", "Décris toutes les informations que tu peux entendre :", "Transcris :"),
    ("it", "Italian", "Sembra", "Descrivi tutte le informazioni che riesci a sentire:", "Trascrivi:"),
    ("es", "Spanish", "Parece", "Describe toda la información que puedes oír:", "Transcribe:"),
    ("pt", "English", "Sounds like", "Describe all information you can hear:", "Transcribe:"),  # outside the five
])
def test_omni_tasks_are_written_in_the_clips_language(language, name, opening, describe, transcribe):
    clip = make_clip(text="I got the job!", meta=META)
    clip.language = language
    for task in ("sift_s", "sift_ssp"):
        system = get_task(task).build(clip, SETTINGS).request.messages[0]["content"]
        assert system.endswith(f"Reply in {name}."), task
    sit = get_task("sit_ssp").build(clip, SETTINGS)
    assert sit.request.messages[0]["content"].endswith(f'Write the sentence in {name}, beginning with "{opening}".')
    assert sit.instruction == describe and sit.messages[0].content[1] == Part.of_text(describe)
    assert get_task("transcription").build(clip, SETTINGS).instruction == transcribe


def test_context_tasks_refuse_a_clip_with_nothing_to_say():
    with pytest.raises(Reject) as rejected:
        get_task("sit_ssp").build(make_clip(text=None, meta={}), SETTINGS)
    assert rejected.value.reason == "empty_context"


@pytest.mark.parametrize("name", task_names())
def test_example_ids_are_the_stable_hash_of_task_clip_ids_and_variant(name):
    # Tasks hash their name once (stable_ids) for speed; the ids must stay those of stable_id.
    task = get_task(name)
    assert task.example_id("demo/clip_01", "0") == stable_id(name, "demo/clip_01", "0")
    assert task.example_id("demo/a", "demo/b", "2") == stable_id(name, "demo/a", "demo/b", "2")
    assert stable_ids("x", length=8)("é") == stable_id("x", "é", length=8)


def test_a_built_example_carries_that_id():
    example = get_task("transcription").build(make_clip(clip_id="demo/clip_07", text="hi"), SETTINGS)
    assert example.id == stable_id("transcription", "demo/clip_07", "0")
