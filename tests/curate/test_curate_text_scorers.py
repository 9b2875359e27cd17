"""Length, repetition, boilerplate, leakage, speech suitability and readability, on crafted examples."""

from __future__ import annotations

import random
import string
import time

import pytest
import textstat
from curate_helpers import FEMALE, MALE, make_example

from speechsift.curate import CurateConfig, Curator, score_examples
from speechsift.curate.base import Scorer
from speechsift.curate.readability import flesch_scores
from speechsift.curate.repetition import duplicate_ngram_fraction


def scored(example, config: CurateConfig | None = None):
    score_examples([example], config)
    return example.quality


# --- length and audio -----------------------------------------------------------------------------


def test_length_counts_the_whole_response_and_flags_empty_and_capped():
    q = scored(make_example("Sounds like a man saying hi.", meta=MALE))
    assert (q["length_words"], q["length_chars"], q["length_empty"], q["length_capped"]) == (6, 28, False, False)
    assert scored(make_example("  \n\t ", task="sift_s"))["length_empty"] is True
    assert scored(make_example("", task="sift_s"))["length_words"] == 0


def test_an_enormous_response_is_scored_on_its_beginning_only():
    huge = ("Sounds like a man talking about the weather and his long walk home. " * 50_000)  # ~3.4 MB
    example = make_example(huge, meta=MALE)
    started = time.perf_counter()
    q = scored(example)
    assert time.perf_counter() - started < 2.0
    assert q["length_capped"] is True and q["length_words"] == 13 * 50_000 and q["length_chars"] == len(huge)
    assert q["repetition_score"] > 0.3  # the same sentence over and over, seen in the first 4000 characters
    assert "readability_flesch" in q and "language_detected" in q


def test_audio_present_needs_a_path_or_bytes():
    assert scored(make_example("Sounds like a man.", meta=MALE))["audio_present"] is True
    assert scored(make_example("Sounds like a man.", meta=MALE, audios=[]))["audio_present"] is False


# --- repetition -----------------------------------------------------------------------------------


def test_duplicate_ngram_fraction_follows_gopher():
    words = ["the", "cat"] * 3
    lengths = [len(w) for w in words]
    # (the cat) seen, (cat the) seen, (the cat) repeat: +6, jump 2, (the cat) repeat: +6 -> 12 of 18
    assert duplicate_ngram_fraction(words, lengths, sum(lengths), 2) == pytest.approx(12 / 18)
    assert duplicate_ngram_fraction(["a", "b", "c"], [1, 1, 1], 3, 2) == 0.0


def test_repetition_scores():
    q = scored(make_example("That's great great great great great great great great great great news", task="sift_s"))
    assert q["repetition_score"] > 0.5 and q["repetition_dup_3gram"] > 0.5
    q = scored(make_example("I'm so happy for you, and I'm so proud of you!", task="sift_s"))
    assert q["repetition_dup_2gram"] > 0 and q["repetition_score"] == 0.0  # ordinary speech
    q = scored(make_example("Congratulations on the job!\nCongratulations on the job!", task="sift_s"))
    assert q["repetition_dup_line"] == pytest.approx(27 / 55)


# --- boilerplate ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("response", "refusal", "assistant"), [
    ("As an AI language model, I cannot feel emotions, but congratulations!", False, True),
    ("I'm sorry, but I can't help with that request.", True, False),
    ("I cannot assist with this.", True, False),
    ("Certainly! Here is a warm reply: congratulations on the job!", False, True),
    ("Here's a possible response: that sounds amazing!", False, True),
    ("Congratulations! I hope this helps.", False, True),
    ("I'm sorry to hear that, but I can't wait to see you again.", False, False),
    ("I cannot believe you got the job! I can't help smiling.", False, False),
    ("Sure, we can go to the park tomorrow.", False, False),
])
def test_boilerplate(response, refusal, assistant):
    q = scored(make_example(response, task="sift_s"))
    assert (q["boilerplate_refusal"], q["boilerplate_assistant"]) == (refusal, assistant)
    assert (q["boilerplate_match"] is not None) == (refusal or assistant)


def test_corpus_targets_are_not_judged_for_style():
    q = scored(make_example("i'm sorry, but i can't help you with the transcript", task="transcription"))
    assert "boilerplate_refusal" not in q and "leakage_flag" not in q and "consistency_contradiction" not in q


# --- leakage --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("response", "kind"), [
    ("According to the metadata, the speaker is a happy young woman.", "source_mention"),
    ("Sounds like a woman; the description says she is happy.", "source_mention"),
    ("Based on the provided information, you sound thrilled!", "source_mention"),
    ("Sounds like <meta>gender: female</meta> a woman.", "tag"),
    ("Sounds like a woman (emotion: happy) saying hello.", "field"),
    ("Output: Sounds like a woman saying hello.", "format"),
    ("I can't hear the audio, but congratulations!", "denies_hearing"),
    ("The labels say you are happy, so congratulations!", "source_mention"),
    ("From the transcript, it seems you got the job!", "source_mention"),
])
def test_leaking_responses(response, kind):
    q = scored(make_example(response, meta=FEMALE, task="sift_ssp"))
    assert q["leakage_flag"] is True and q["leakage_kind"] == kind, q


@pytest.mark.parametrize(("response", "text"), [
    ('Sounds like a young woman saying "read the label on the transcript" quickly.',
     "read the label on the transcript"),
    ("Sure, I'll send you the transcript tonight.", "can you send me the transcript"),
    ("Don't forget to check the label on the bottle!", "i bought new medicine"),
    ("Congratulations, you earned it!", "i got the job"),
])
def test_non_leaking_responses(response, text):
    q = scored(make_example(response, meta=FEMALE, text=text, task="sift_ssp"))
    assert q["leakage_flag"] is False, q


# --- speech suitability ---------------------------------------------------------------------------


def test_speechworthy_counts_unspeakable_characters_and_list_markers():
    q = scored(make_example("Try these:\n1. Apples (red)\n2. Pears / plums\n3. 3.5 kg of #rice", task="sift_s"))
    # ( ) / #  -> 4 characters; "1." "2." "3." -> 3 markers ("3.5" is a number)
    assert (q["speech_unspeakable_chars"], q["speech_list_markers"], q["speech_unspeakable"]) == (4, 3, 7)
    q = scored(make_example("Sounds like a middle-aged man saying hello.", meta=MALE))
    assert q["speech_unspeakable"] == 1  # the hyphen counts, as in the paper


# --- readability ----------------------------------------------------------------------------------


def test_readability_equals_textstat_on_random_texts():
    rng = random.Random(7)
    alphabet = string.ascii_letters + "     .,!?'-\u2014\u2019\"()\u00e9\u00e0\u00fc0123456789_"
    samples = ["Sounds like a young woman saying \"i got the job\" quickly, in a happy, upbeat tone.",
               "DON'T YOU DARE! I'LL GO.", "'Tis the dogs' bone. Don't x-ray it.", "", "...", "a. b. c."]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90))) for _ in range(3000)]
    for text in samples:
        assert flesch_scores(text) == (textstat.flesch_reading_ease(text), textstat.flesch_kincaid_grade(text)), text


def test_readability_columns_by_language():
    reply = "Oh no, that sounds really hard. I'm here for you."
    q = scored(make_example(reply, task="sift_s"))
    assert q["readability_flesch"] == pytest.approx(textstat.flesch_reading_ease(reply))
    assert q["readability_grade"] is not None
    q = scored(make_example("Herzlichen Glückwunsch zum neuen Job, das ist wirklich toll!", task="sift_s",
                            language="de"))
    assert q["readability_flesch"] is not None and q["readability_grade"] is None  # FK grade is English-only
    q = scored(make_example("Поздравляю с новой работой!", task="transcription", language="uk"))
    assert "readability_flesch" not in q  # a Ukrainian transcript: no Flesch constants for Ukrainian in textstat


def test_curator_accepts_examples_without_transcript_meta_or_language():
    example = make_example("Sounds like someone speaking slowly.", meta={"pace": "slow"}, text=None, language=None)
    Curator().score([example])
    assert not any(k.endswith("_error") for k in example.quality), example.quality


def test_scorers_with_a_memo_key_score_each_distinct_key_once_and_give_the_same_columns():
    """A corpus repeats short answers across clips: the text scorers keep what they computed by
    the fields they read (``memo_key``), and the columns are those a scorer without memo gives."""
    answers = ["Happy.", "The speaker sounds happy and calm.", "Sie klingt fröhlich und ruhig, sagt sie.",
               "Happy.", "Happy.", "I'm sorry, but as an AI I cannot hear audio."]
    examples = [make_example(answer, task=task, clip_id=f"src/c{i}", language=language,
                             meta=FEMALE if i % 2 else MALE)
                for i, (answer, task, language) in enumerate(
                    (answer, task, language) for answer in answers for task in ("sit_ssp", "transcription")
                    for language in ("en", "de"))]
    memoized = Curator(CurateConfig())
    calls: dict[str, int] = {}
    for scorer in memoized.scorers:
        if type(scorer).memo_key is not Scorer.memo_key:
            inner = scorer.score

            def counted(example, text, inner=inner, name=scorer.name):
                calls[name] = calls.get(name, 0) + 1
                return inner(example, text)

            scorer.score = counted
    memoized.score(examples)
    assert set(calls) == {"repetition", "boilerplate", "language", "readability", "speech"}
    distinct = len({(e.response, e.language) for e in examples})
    assert calls["language"] <= distinct < len(examples)
    one_by_one = Curator(CurateConfig())
    for example in examples:
        alone = make_example(example.response, task=example.task, clip_id=example.clip_ids[0],
                             language=example.language, meta=example.meta)
        one_by_one.score([alone])
        for scorer in one_by_one.scorers:
            scorer._memo = None  # nothing remembered: each example scored from scratch
        # Lingua's confidences differ in the last digits from call to call: floats to 1e-9
        assert {k: round(v, 9) if isinstance(v, float) else v for k, v in alone.quality.items()} == \
            {k: round(v, 9) if isinstance(v, float) else v for k, v in example.quality.items()}
