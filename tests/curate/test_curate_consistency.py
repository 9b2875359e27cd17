"""Consistency with the clip: described gender, emotion, age, pace and volume against the labels;
quoted words against the transcript."""

from __future__ import annotations

import pytest
from curate_helpers import FEMALE, MALE, make_example

from speechsift.curate import score_examples
from speechsift.curate.consistency import bag_f1, quote_overlap


def scored(example):
    score_examples([example])
    return example.quality


@pytest.mark.parametrize(("response", "meta", "field"), [
    ('Sounds like a woman saying "i got the job" happily.', MALE, "gender"),
    ('Sounds like someone saying "i got the job"; she sounds thrilled.', MALE, "gender"),
    ('Sounds like a man saying "i got the job" in a deep male voice.', FEMALE, "gender"),
    ('Sounds like a young man saying "i got the job", furious and bitter.', MALE, "emotion"),
    ('Sounds like an older man saying "i got the job" quickly.', {**MALE, "age": "teenager"}, "age"),
    ('Sounds like a teenage boy saying "i got the job".', {**MALE, "age": "senior"}, "age"),
    ('Sounds like a young man slowly saying "i got the job".', MALE, "pace"),
    ('Sounds like a young man whispering "i got the job".', {**MALE, "volume": "loud"}, "volume"),
])
def test_descriptions_that_contradict_the_labels(response, meta, field):
    q = scored(make_example(response, meta=meta))
    assert q["consistency_contradiction"] is True
    assert q[f"consistency_{field}_conflict"] is True, q["consistency_evidence"]
    assert q["consistency_evidence"].startswith(f"{field}=")


@pytest.mark.parametrize("response", [
    'Sounds like a young man saying "i got the job" quickly, in a happy, upbeat tone.',
    'Sounds like a young man saying "she told me i got the job" quickly and happily.',  # "she" is quoted
    'Sounds like a young man who does not sound angry at all, saying "i got the job" fast.',  # negated
    "Sounds like a guy in his twenties, excited, talking fast about his new job.",
])
def test_descriptions_that_agree(response):
    q = scored(make_example(response, meta=MALE, text="she told me i got the job"))
    assert q["consistency_contradiction"] is False, q["consistency_evidence"]


def test_unlabelled_fields_are_not_checked():
    q = scored(make_example('Sounds like a woman saying "i got the job".', meta={"emotion": "happy"}))
    assert "consistency_gender_conflict" not in q and q["consistency_emotion_conflict"] is False


def test_replies_are_checked_only_where_they_describe_the_listener():
    # sift_ssp talks *to* the speaker: other people's pronouns are fine ...
    q = scored(make_example("I'm so sorry about your sister, she must be devastated.", task="sift_ssp", meta=MALE))
    assert q["consistency_contradiction"] is False
    # ... but not calling a man ma'am, or a happy clip sad.
    q = scored(make_example("Oh no, you sound so sad. I'm here for you, ma'am.", task="sift_ssp", meta=MALE))
    assert q["consistency_gender_conflict"] is True and q["consistency_emotion_conflict"] is True
    q = scored(make_example("You must be thrilled, congratulations!", task="sift_ssp", meta=MALE))
    assert q["consistency_contradiction"] is False


def test_misquoted_transcript():
    meta = {"gender": "female"}
    q = scored(make_example('Sounds like a woman saying "I got the JOB!"', meta=meta, text="i got the job"))
    assert q["consistency_has_quote"] is True and q["consistency_quote_overlap"] == 1.0  # case and punctuation
    q = scored(make_example('Sounds like a woman saying "you lost the game".', meta=meta, text="i got the job"))
    assert q["consistency_quote_overlap"] < 0.5
    q = scored(make_example("Sounds like a woman speaking happily.", meta=meta, text="i got the job"))
    assert q["consistency_has_quote"] is False and q["consistency_quote_overlap"] is None
    q = scored(make_example('Sounds like a woman saying \u201ci got\u201d and then \u201cthe job\u201d.', meta=meta))
    assert q["consistency_quote_overlap"] == 1.0  # two pieces joined
    q = scored(make_example('Sounds like a woman saying \u00ab\u00a0j\u2019ai eu le poste\u00a0\u00bb.', meta=meta,
                            text="j'ai eu le poste", language="fr"))
    assert q["consistency_quote_overlap"] == 1.0  # guillemets, curly apostrophe


def test_bag_f1_and_quote_overlap():
    assert bag_f1(["a", "b"], ["b", "a"]) == 1.0
    assert bag_f1(["a", "b", "c", "d"], ["a", "b"]) == pytest.approx(2 / 3)
    assert bag_f1([], ["a"]) == 0.0
    assert quote_overlap(["happy"], "i got the job") == 0.0
