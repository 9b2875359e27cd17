"""Closed-ended tasks: the template variant, and the LLM variants' requests and finish (scripted answers)."""

from __future__ import annotations

import json
import random

import pytest
from factories import make_clip

from speechsift.errors import ConfigError, Reject
from speechsift.labels import i18n, tables
from speechsift.llm.types import SamplingParams
from speechsift.records import Generation, Part
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.closed_ended_template import Fact, choice_options
from speechsift.tasks.screen import dropped_counts

META = {"gender": "male", "emotion": "happy", "age": "young adult", "pitch": "quite high",
        "speaking_speed": "slightly fast", "intensity": "loudly", "accent": "Scottish"}
SETTINGS = TaskSettings()
GEN = Generation(backend="openai", model="m")


class Settings:
    """TaskSettings plus the per-task options the lead will add (``options[task name]``)."""

    def __init__(self, **options):
        self.sampling = SamplingParams()
        self.options = options


def _clip(language="en", text="I got the job!", meta=META, clip_id="src/c1"):
    clip = make_clip(clip_id, text=text, meta=meta)
    clip.language = language
    clip.features = {"duration_s": 2.0}
    return clip


def _lines(*pairs):
    return "\n".join(json.dumps({"q": q, "a": a}) for q, a in pairs)


# --- template -------------------------------------------------------------------------------


def test_template_questions_are_deterministic_per_clip_and_answer_from_the_labels():
    task = get_task("closed_ended_template")
    first = task.build(_clip(), SETTINGS)
    assert [e.id for e in first] == [e.id for e in task.build(_clip(), SETTINGS)]
    assert [e.instruction for e in first] == [e.instruction for e in task.build(_clip(), SETTINGS)]
    assert len(first) == 3 and len({e.id for e in first}) == 3
    for example in first:
        assert example.generation.backend == "template" and example.generation.model is None
        assert example.request is None
        assert example.messages[0].content == [Part.of_audio(0), Part.of_text(example.instruction)]
        assert example.messages[1].text() == example.response
    answers = {e.id: e.response for e in first}
    assert set(answers.values()) <= {
        "The voice is male.", "The speaker sounds happy.", "The speaker sounds like a young adult.",
        "The speaker's accent is Scottish.", "The speaker talks slightly fast.", "The speaker talks loudly.",
        "The pitch of the voice is quite high.", "The speaker is talking in English.",
    }
    others = {tuple(e.instruction for e in task.build(_clip(clip_id=f"src/c{i}"), SETTINGS)) for i in range(20)}
    assert len(others) > 5  # the seeded choice differs across clips


def test_template_every_attribute_open_and_multiple_choice_in_every_language():
    task = get_task("closed_ended_template")
    for language in ("en", "de", "fr", "it", "es"):
        for share in (0.0, 1.0):
            settings = Settings(closed_ended_template={"questions_per_clip": 8, "choice_share": share})
            examples = task.build(_clip(language), settings)
            assert len(examples) == 8  # gender, emotion, age, accent, pace, volume, pitch, language
            for example in examples:
                assert "$" not in example.instruction and "$" not in example.response
            if share == 1.0:
                # every closed attribute is multiple choice; its options include the right answer
                assert sum(("," in e.instruction) or (" or " in e.instruction) or (" oder " in e.instruction)
                           or (" ou " in e.instruction) or (" o " in e.instruction) for e in examples) >= 6


def test_template_multiple_choice_distractors_are_far_on_a_scale():
    task = get_task("closed_ended_template")
    settings = Settings(closed_ended_template={"attributes": ["pitch"], "choice_share": 1.0, "questions_per_clip": 1})
    for i in range(30):
        (example,) = task.build(_clip(clip_id=f"src/p{i}"), settings)
        assert example.response == "The pitch of the voice is quite high."
        options = example.instruction.split(" voice ", 1)[1].rstrip("?").replace(" or ", ", ").split(", ")
        assert "quite high" in options and len(options) == 3
        assert not {"slightly high", "very high", "slightly low"} & set(options)


# Every field a template question can be about (clip_facts reads pace from speaking_speed or pace,
# volume from intensity or volume).
CHOICE_FIELDS = ("gender", "emotion", "age", "pitch", "speaking_speed", "pace", "intensity", "volume",
                 "speech_quality", "reverberation", "distortion_level")


def _both_true(field, a, b):
    """What may never stand beside the answer (or each other): two values one clip can have."""
    if a == b:
        return True
    if field == "age":  # a group and a decade inside it; or two scales in one question
        group = {k: v for k, v in tables.AGE_MAP.items()}
        return group.get(a) == b or group.get(b) == a or ((a in tables.AGE_GROUPS) != (b in tables.AGE_GROUPS))
    levels = len(i18n.ORDINAL_WORDS.get(field, {"en": ()})["en"])
    if levels > 3:  # finer scales: the same side of the middle ("very low", "quite low"), or neighbours
        middle = (levels - 1) / 2
        return (a - middle) * (b - middle) > 0 or abs(a - b) == 1
    return False


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("field", CHOICE_FIELDS)
def test_multiple_choice_options_never_overlap_the_answer(field, language):
    ordinal = field in i18n.ORDINAL_WORDS
    forms = i18n.ORDINAL_WORDS[field][language] if ordinal else i18n.NOMINAL_WORDS[field][language].values()
    keys_of = {word: key for key, word in (enumerate(forms) if ordinal else
                                           zip(i18n.NOMINAL_WORDS[field][language], forms))}
    assert len(keys_of) == len(list(forms)), f"two values of {field} read the same in {language}"
    for word, key in keys_of.items():
        fact = Fact(field, field, key, word)
        seen = set()
        for seed in range(40):
            options = choice_options(fact, language, random.Random(seed))
            seen.add(tuple(options))
            assert fact.word in options and len(set(options)) == len(options) >= 2, (word, options)
            keys = [keys_of[o] for o in options]
            for i, a in enumerate(keys):
                for b in keys[i + 1:]:
                    assert not _both_true(field, a, b), (language, word, options)
            if ordinal:
                assert keys == sorted(keys)
            if field in ("pace", "intensity", "volume", "emotion", "age") or (field in ("pitch", "speaking_speed")
                                                                              and key in (0, 3, 6)):
                assert len(options) == (2 if field == "gender" else 3), (word, options)
        assert len(seen) > 1 or ordinal or field == "gender", (field, word)  # the draw varies where it can


def test_a_young_adult_is_never_offered_a_decade():
    task = get_task("closed_ended_template")
    settings = Settings(closed_ended_template={"attributes": ["age"], "choice_share": 1.0, "questions_per_clip": 1})
    for language in i18n.LANGUAGES:
        decades = [w for k, w in i18n.AGE_WORDS[language].items() if k not in tables.AGE_GROUPS]
        for i in range(40):
            (example,) = task.build(_clip(language, clip_id=f"src/a{i}"), settings)
            assert not any(d in example.instruction for d in decades), example.instruction


def test_template_refuses_a_clip_without_labels_and_checks_its_options():
    task = get_task("closed_ended_template")
    clip = _clip(meta={})
    clip.language = None
    with pytest.raises(Reject) as rejected:
        task.build(clip, SETTINGS)
    assert rejected.value.reason == "no_labels"
    with pytest.raises(ConfigError, match="unknown attribute"):
        task.build(_clip(), Settings(closed_ended_template={"attributes": ["height"]}))
    with pytest.raises(ConfigError, match="choice_share must be between 0 and 1"):
        task.parse_options({"choice_share": 2})


# --- LLM: requests ---------------------------------------------------------------------------


def test_acoustic_request_holds_the_metadata_json_and_asks_for_the_clips_language():
    example = get_task("closed_ended_acoustic").build(_clip("de"), Settings(closed_ended_acoustic={"max_pairs": 7}))
    system, user = example.request.messages
    assert "up to 7 different questions" in system["content"] and "in German." in system["content"]
    data = json.loads(user["content"])
    assert data["acoustic_level"]["geschlecht"] == "männlich" and data["content_level"]["sprache"] == "Deutsch"
    assert example.request.sampling.max_tokens == 7 * 80  # room for 7 pairs over the recipe's 256
    assert example.response is None and example.messages[0].content == [Part.of_audio(0)]
    assert get_task("closed_ended_acoustic").checks_language is True


def test_llm_tasks_refuse_clips_with_nothing_to_ask():
    with pytest.raises(Reject) as rejected:
        get_task("closed_ended_acoustic").build(_clip(meta={}), SETTINGS)
    assert rejected.value.reason == "no_acoustic_labels"
    with pytest.raises(Reject) as rejected:
        get_task("closed_ended_content").build(_clip(text="  "), SETTINGS)
    assert rejected.value.reason == "empty_transcript"


# --- LLM: finish ----------------------------------------------------------------------------


def _finish(response, task="closed_ended_acoustic", clip=None, settings=SETTINGS):
    t = get_task(task)
    example = t.build(clip or _clip(), settings)
    return t.finish(example, response, GEN)


def test_well_formed_answer_makes_one_example_per_pair():
    response = _lines(
        ("What is the speaker's gender?", "The speaker is a man."),
        ("How does the speaker feel?", "He sounds happy and excited."),
    )
    examples = _finish(response)
    assert [e.instruction for e in examples] == ["What is the speaker's gender?", "How does the speaker feel?"]
    assert [e.response for e in examples] == ["The speaker is a man.", "He sounds happy and excited."]
    for example in examples:
        assert example.messages[0].content == [Part.of_audio(0), Part.of_text(example.instruction)]
        assert example.messages[1].content == [Part.of_text(example.response)]
        assert example.generation is GEN and example.request is None
    assert len({e.id for e in examples}) == 2
    assert examples[0].quality == {"pairs.parsed": 2.0, "pairs.kept": 2.0}


def test_a_fenced_array_is_accepted_too():
    response = '```json\n[{"q": "Is it loud?", "a": "Yes, quite loud."}]\n```'
    assert [e.response for e in _finish(response)] == ["Yes, quite loud."]


@pytest.mark.parametrize("response, reason", [
    ("Sure! Here are some questions: What is the gender?", "unparseable_json"),
    ('{"question": "x", "answer": "y"}', "no_pairs"),
    ("[]", "no_pairs"),
])
def test_malformed_answers_are_rejected(response, reason):
    with pytest.raises(Reject) as rejected:
        _finish(response)
    assert rejected.value.reason == reason


def test_leaking_pairs_are_dropped_and_counted():
    response = _lines(
        ("What is the speaker's gender?", "According to the metadata, the speaker is male."),
        ("What is the speaking_speed?", "Slightly fast."),
        ("How fast does he talk?", "A little faster than usual."),
        ("How fast does he talk?", "Fast."),
    ) + "\nnot json at all"
    examples = _finish(response)
    assert [e.response for e in examples] == ["A little faster than usual."]
    assert examples[0].quality == {"pairs.parsed": 4.0, "pairs.kept": 1.0, "dropped.metadata_leak": 2.0,
                                   "dropped.duplicate": 1.0}
    assert dropped_counts(examples) == {"metadata_leak": 2, "duplicate": 1}


def test_all_pairs_leaking_rejects_with_the_reason():
    with pytest.raises(Reject) as rejected:
        _finish(_lines(("What is the emotion?", "The label says happy.")))
    assert rejected.value.reason == "metadata_leak"


def test_pairs_beyond_max_pairs_are_dropped():
    settings = Settings(closed_ended_acoustic={"max_pairs": 2})
    pairs = [(f"Question {i}?", "Answer.") for i in range(4)]
    examples = _finish(_lines(*pairs), settings=settings)
    assert len(examples) == 2 and examples[0].quality["dropped.over_limit"] == 2.0


@pytest.mark.parametrize("question, answer", [
    ("Who is speaking?", "A woman is speaking."),
    ("Who is speaking?", "She is speaking."),
    ("Why does she sound so cheerful?", "Because of the good news."),
    ("How does the speaker feel?", "The speaker sounds sad."),
    ("Wie klingt die Stimme?", "Die Stimme ist weiblich."),
    ("¿Cómo suena la voz?", "La voz suena triste."),
])
def test_contradicting_answers_reject_the_whole_answer(question, answer):
    response = _lines(("Is the speaker loud?", "Yes, loud."), (question, answer))
    with pytest.raises(Reject) as rejected:
        _finish(response)
    assert rejected.value.reason == "contradicts_labels"


@pytest.mark.parametrize("question, answer", [
    ("Is the speaker a man or a woman?", "A man, not a woman."),
    ("Does the speaker sound angry?", "No, he does not sound angry at all."),
    ("Does the speaker sound angry?", "No, happy."),
    ("What does the speaker say about her?", "That her sister is sad."),  # words of the transcript
])
def test_no_false_contradictions(question, answer):
    clip = _clip(text="My sister told her she is sad")
    assert _finish(_lines((question, answer)), clip=clip)


def test_content_task_finish_and_samples_keep_distinct_ids():
    t = get_task("closed_ended_content")
    example = t.build(_clip(), SETTINGS)
    first = t.finish(example, _lines(("What did the speaker get?", "The job.")), GEN)
    assert first[0].task == "closed_ended_content" and first[0].transcript == "I got the job!"
    from dataclasses import replace
    other = replace(example, id="other", request=replace(example.request, sample_index=1))
    assert t.finish(other, _lines(("What did the speaker get?", "The job.")), GEN)[0].id != first[0].id


def test_task_layout_attributes():
    for name, category, sub in (("closed_ended_acoustic", "closed_ended", "acoustic_level"),
                                ("closed_ended_content", "closed_ended", "content_level"),
                                ("closed_ended_template", "closed_ended", "acoustic_level")):
        task = get_task(name)
        assert (task.category, task.sub) == (category, sub)
