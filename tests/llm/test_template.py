"""The template backend: deterministic, metadata-grounded sit_ssp descriptions, refusals for the rest."""

from __future__ import annotations

import re

import pytest
from factories import make_clip

from speechsift.llm.base import Backend, generate, make_backend
from speechsift.llm.template import TemplateBackend, describe_sit_ssp, template_tasks
from speechsift.llm.types import ChatRequest, Completion, SamplingParams
from speechsift.recipe import LLMConfig
from speechsift.render import render_audio_context

GENDER_WORDS = {"man", "woman", "boy", "girl", "male", "female", "he", "she", "his", "her", "him", "lady", "guy"}
AGE_WORDS = {"young", "older", "old", "teenage", "teenager", "middle-aged", "senior", "elderly", "boy", "girl",
             "child", "adult"}
EMOTION_WORDS = {"angry", "happy", "upbeat", "sad", "surprised", "neutral", "calm", "fearful", "disgusted"}
MANNER_WORDS = {"slowly", "quickly", "pace", "loudly", "quietly", "fast", "slow", "loud", "quiet"}

FULL_META = {"age": "young adult", "gender": "female", "volume": "loud", "pace": "fast", "emotion": "happy",
             "accent": "American"}


def words(sentence: str) -> set[str]:
    """The sentence's words outside the quoted transcript, lower case."""
    outside = re.sub(r'"[^"]*"', " ", sentence)
    return set(re.findall(r"[a-z]+(?:-[a-z]+)*", outside.lower()))


def assert_one_sounds_like_sentence(sentence: str) -> None:
    assert sentence.startswith("Sounds like ")
    assert sentence.endswith(".")
    assert "\n" not in sentence
    outside = re.sub(r'"[^"]*"', '""', sentence)
    assert not re.search(r"[.!?]\s", outside), sentence  # no second sentence outside the quote
    assert "  " not in sentence and " ," not in sentence and ",," not in sentence


def sit_request(meta: dict[str, str], text: str | None, *, task: str = "sit_ssp", index: int = 0) -> ChatRequest:
    clip = make_clip(text=text, meta=meta)
    return ChatRequest(
        messages=[{"role": "system", "content": "Describe the clip in one sentence starting 'Sounds like'."},
                  {"role": "user", "content": render_audio_context(clip.meta, clip.text)}],
        sampling=SamplingParams(),
        task=task,
        context={"meta": dict(clip.meta), "text": clip.text},
        sample_index=index,
    )


# --- describe_sit_ssp ------------------------------------------------------------------------------------


def test_full_description_mentions_every_label():
    sentence = describe_sit_ssp({"meta": FULL_META, "text": "  I Got The JOB!  "})
    assert_one_sounds_like_sentence(sentence)
    assert sentence.startswith("Sounds like a young woman ")
    assert '"i got the job!"' in sentence
    assert "I Got" not in sentence
    assert "happy" in sentence
    assert "quickly" in sentence and "loudly" in sentence
    assert "American accent" in sentence


def test_descriptions_are_deterministic():
    context = {"meta": dict(FULL_META), "text": "hello there"}
    first = describe_sit_ssp(context)
    assert all(describe_sit_ssp({"meta": dict(FULL_META), "text": "hello there"}) == first for _ in range(5))
    assert context == {"meta": FULL_META, "text": "hello there"}  # context left untouched


@pytest.mark.parametrize(
    "age, gender, phrase",
    [
        (None, "male", "a man"),
        (None, "female", "a woman"),
        ("teenager", "male", "a boy"),
        ("teenager", "female", "a girl"),
        ("young adult", "male", "a young man"),
        ("young adult", "female", "a young woman"),
        ("middle-age adult", "male", "a middle-aged man"),
        ("middle-age adult", "female", "a middle-aged woman"),
        ("senior", "male", "an older man"),
        ("senior", "female", "an older woman"),
    ],
)
def test_speaker_words_from_age_and_gender(age, gender, phrase):
    meta = {"gender": gender, **({"age": age} if age else {})}
    sentence = describe_sit_ssp({"meta": meta, "text": "hi"})
    assert sentence.startswith(f"Sounds like {phrase} ")
    assert_one_sounds_like_sentence(sentence)


@pytest.mark.parametrize(
    "age, phrase",
    [("teenager", "a teenage speaker"), ("young adult", "a young speaker"),
     ("middle-age adult", "a middle-aged speaker"), ("senior", "an older speaker")],
)
def test_age_without_gender_claims_no_gender(age, phrase):
    sentence = describe_sit_ssp({"meta": {"age": age}, "text": "hi"})
    assert sentence.startswith(f"Sounds like {phrase} ")
    assert not words(sentence) & GENDER_WORDS


@pytest.mark.parametrize("gender", ["male", "female"])
def test_gender_without_age_claims_no_age(gender):
    sentence = describe_sit_ssp({"meta": {"gender": gender}, "text": "hi"})
    assert not words(sentence) & (AGE_WORDS - {"boy", "girl"})
    assert not words(sentence) & {"boy", "girl"}


def test_no_labels_claims_nothing():
    sentence = describe_sit_ssp({"meta": {}, "text": "Where is the station"})
    assert_one_sounds_like_sentence(sentence)
    assert '"where is the station"' in sentence
    found = words(sentence)
    assert not found & (GENDER_WORDS | AGE_WORDS | EMOTION_WORDS | MANNER_WORDS)
    assert "accent" not in found


def test_no_labels_and_no_text_still_one_sentence():
    sentence = describe_sit_ssp({"meta": {}, "text": None})
    assert_one_sounds_like_sentence(sentence)
    assert '"' not in sentence
    assert not words(sentence) & (GENDER_WORDS | AGE_WORDS | EMOTION_WORDS | MANNER_WORDS)


@pytest.mark.parametrize("text", [None, "", "   "])
def test_no_transcript_no_quote(text):
    sentence = describe_sit_ssp({"meta": {"gender": "male", "emotion": "sad"}, "text": text})
    assert_one_sounds_like_sentence(sentence)
    assert '"' not in sentence
    assert "saying" not in sentence


def test_context_without_keys():
    sentence = describe_sit_ssp({})
    assert_one_sounds_like_sentence(sentence)


@pytest.mark.parametrize(
    "emotion, word",
    [("angry", "angry"), ("happy", "happy"), ("sad", "sad"), ("surprise", "surprised"), ("neutral", "neutral"),
     ("fear", "fearful"), ("disgust", "disgusted")],
)
def test_each_emotion_is_mentioned(emotion, word):
    sentence = describe_sit_ssp({"meta": {"gender": "female", "emotion": emotion}, "text": "ok"})
    assert_one_sounds_like_sentence(sentence)
    assert word in words(sentence)
    others = {w for e, w in [("angry", "angry"), ("happy", "happy"), ("sad", "sad"), ("surprise", "surprised"),
                             ("fear", "fearful"), ("disgust", "disgusted"), ("neutral", "neutral")] if e != emotion}
    assert not words(sentence) & others


@pytest.mark.parametrize(
    "meta, present, absent",
    [
        ({"pace": "slow"}, {"slowly"}, {"quickly", "loudly", "quietly"}),
        ({"pace": "fast"}, {"quickly"}, {"slowly", "loudly", "quietly"}),
        ({"pace": "normal"}, {"pace"}, {"slowly", "quickly", "loudly", "quietly"}),
        ({"volume": "quiet"}, {"quietly"}, {"slowly", "quickly", "loudly"}),
        ({"volume": "loud"}, {"loudly"}, {"slowly", "quickly", "quietly"}),
        ({"pace": "slow", "volume": "quiet"}, {"slowly", "quietly"}, {"quickly", "loudly"}),
        ({"pace": "fast", "volume": "loud"}, {"quickly", "loudly"}, {"slowly", "quietly"}),
    ],
)
def test_pace_and_volume(meta, present, absent):
    sentence = describe_sit_ssp({"meta": {"gender": "male", **meta}, "text": "ok"})
    assert_one_sounds_like_sentence(sentence)
    assert present <= words(sentence)
    assert not words(sentence) & absent


def test_no_pace_or_volume_means_no_manner_words():
    sentence = describe_sit_ssp({"meta": {"gender": "male", "emotion": "sad", "accent": "Welsh English"},
                                 "text": "ok"})
    assert not words(sentence) & MANNER_WORDS


@pytest.mark.parametrize(
    "accent, phrase",
    [
        ("American", "an American accent"),
        ("England English", "an England English accent"),
        ("Irish English", "an Irish English accent"),
        ("Scottish English", "a Scottish English accent"),
        ("United States English", "a United States English accent"),
        ("European", "a European accent"),
        ("India and South Asia (India, Sri Lanka)", "an India and South Asia (India, Sri Lanka) accent"),
        # "US" and "Ukrainian" are said with a consonant sound ("you-"): "a", not "an"
        ("US English", "a US English accent"),
        ("Ukrainian", "a Ukrainian accent"),
    ],
)
def test_accent_with_its_article(accent, phrase):
    sentence = describe_sit_ssp({"meta": {"gender": "female", "accent": accent}, "text": "hello"})
    assert_one_sounds_like_sentence(sentence)
    assert f"with {phrase}" in sentence


def test_quoted_transcript_is_stripped_and_lowercased():
    sentence = describe_sit_ssp({"meta": {"gender": "male"}, "text": "\n  WHERE Are You Going  \t"})
    assert '"where are you going"' in sentence


def test_labels_outside_the_template_vocabulary_are_not_invented():
    sentence = describe_sit_ssp({"meta": {"emotion": "contempt", "pace": "zoomy", "volume": "normal"},
                                 "text": "hi"})
    assert_one_sounds_like_sentence(sentence)
    assert not words(sentence) & (EMOTION_WORDS | MANNER_WORDS | {"contempt", "zoomy", "normal"})


# --- the backend -----------------------------------------------------------------------------------------


def test_supports():
    backend = TemplateBackend()
    assert backend.supports("sit_ssp")
    for task in ("sift_s", "sift_ssp", "transcription", "qa", "", "SIT_SSP"):
        assert not backend.supports(task), task
    assert template_tasks() == ["sit_ssp"]


def test_backend_identity():
    backend = TemplateBackend(model="gpt-4o")
    assert backend.name == "template"
    assert backend.model is None  # never pretends to be a model
    assert isinstance(backend, Backend)
    built = make_backend(LLMConfig(backend="template", model="something"))
    assert isinstance(built, TemplateBackend)
    assert built.model is None


def test_generate_end_to_end():
    backend = TemplateBackend()
    requests = [
        sit_request(FULL_META, "I Got The Job!"),
        sit_request({"gender": "male"}, "hi", task="sift_s"),
        sit_request({"age": "senior", "emotion": "sad"}, None),
        sit_request({"gender": "female"}, "hello", task="sift_ssp"),
    ]
    completions = generate(backend, requests)
    assert len(completions) == len(requests)
    assert all(isinstance(c, Completion) for c in completions)

    ok, refused_s, ok_no_text, refused_ssp = completions
    assert ok.ok and ok.error is None and ok.error_reason is None
    assert ok.finish_reason == "template"
    assert ok.text == describe_sit_ssp(requests[0].context)
    assert ok.text.startswith("Sounds like a young woman ") and '"i got the job!"' in ok.text

    assert ok_no_text.ok
    assert ok_no_text.text == describe_sit_ssp({"meta": {"age": "senior", "emotion": "sad"}, "text": None})
    assert not words(ok_no_text.text) & GENDER_WORDS

    for refused, task in ((refused_s, "sift_s"), (refused_ssp, "sift_ssp")):
        assert not refused.ok
        assert refused.text is None
        assert refused.error_reason == "unsupported_task"
        assert refused.error and task in refused.error


def test_generate_is_deterministic_across_calls_and_sample_indexes():
    backend = TemplateBackend()
    first = generate(backend, [sit_request(FULL_META, "hello", index=i) for i in range(3)])
    second = generate(backend, [sit_request(FULL_META, "hello", index=i) for i in range(3)])
    assert [c.text for c in first] == [c.text for c in second]
    assert len({c.text for c in first}) == 1


def test_generate_with_no_requests():
    assert generate(TemplateBackend(), []) == []


def test_only_unsupported_requests():
    completions = generate(TemplateBackend(), [sit_request({}, "x", task="sift_s")] * 3)
    assert [c.error_reason for c in completions] == ["unsupported_task"] * 3
    assert not any(c.ok for c in completions)
