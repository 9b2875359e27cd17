"""Every Speech-IFEval / IFEval checker on a text that follows it and one that does not; the sentence
splitter; the constrained family's phrases read back in every language."""

from __future__ import annotations

import random

import pytest

from speechsift.eval import constraints
from speechsift.eval.ifeval import CHECKERS, follows, ifeval_scores, split_sentences
from speechsift.eval.scoring import Failure

# id -> (kwargs, a following response, a response that breaks it)
CASES = {
    "change_case:english_capital": ({}, "THE VOICE IS CALM.", "The voice is calm."),
    "change_case:english_lowercase": ({}, "the voice is calm.", "the voice is Calm."),
    "change_case:capital_word_frequency": ({"capital_frequency": 2, "capital_relation": "at least"},
                                           "A VERY LOUD and CLEAR voice", "a loud voice"),
    "detectable_format:json_format": ({}, '```json\n{"answer": "sad"}\n```', "answer: sad"),
    "detectable_format:title": ({}, "<<Mood>>\nSad.", "<< >>\nSad."),
    "detectable_format:number_bullet_lists": ({"num_bullets": 2}, "* one\n* two", "* one\n* two\n- three"),
    "detectable_format:number_highlighted_sections": ({"num_highlights": 2}, "*a* and *b*", "*a* only"),
    "detectable_format:multiple_sections": ({"section_spliter": "Section", "num_sections": 2},
                                            "Section 1\nhi\nSection 2\nthere", "Section 1\nhi"),
    "detectable_format:constrained_response": ({}, "My answer is yes.", "Yes."),
    "detectable_content:postscript": ({"postscript_marker": "P.S."}, "Hello.\nP.S. Bye.", "Hello. Bye."),
    "detectable_content:number_placeholders": ({"num_placeholders": 2}, "Dear [name] at [address]", "Dear [name]"),
    "startend:quotation": ({}, '"She is happy."', 'She is "happy".'),
    "startend:end_checker": ({"end_phrase": "Any other questions?"}, "Sad. Any other questions?",
                             "Any other questions? Sad."),
    "startend:start_checker": ({"start_phrase": "Answer:"}, "Answer: sad", "The answer: sad"),
    "combination:repeat_prompt": ({"prompt_to_repeat": "What is the mood?"}, "What is the mood? Sad.", "Sad."),
    "combination:two_responses": ({}, "Sad.\n******\nUnhappy.", "Sad.\n******\nSad."),
    "keywords:existence": ({"keywords": ["voice", "calm"]}, "A calm voice.", "A quiet voice."),
    "keywords:forbidden_words": ({"forbidden_words": ["angry"]}, "Not an anger at all.", "She is Angry."),
    "keywords:frequency": ({"keyword": "calm", "frequency": 2, "relation": "at least"}, "calm, so calm", "calm"),
    "keywords:letter_frequency": ({"letter": "z", "let_frequency": 2, "let_relation": "less than"}, "buz", "buzz"),
    "length_constraints:number_words": ({"num_words": 4, "relation": "less than"}, "Sad and slow.",
                                        "Sad and very slow."),
    "length_constraints:number_sentences": ({"num_sentences": 2, "relation": "at least"}, "Mr. Lee is sad. He cries.",
                                            "Mr. Lee is sad and cries."),
    "length_constraints:number_paragraphs": ({"num_paragraphs": 2}, "One.\n***\nTwo.", "One.\n***\n\n***\nTwo."),
    "length_constraints:nth_paragraph_first_word": ({"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
                                                    "First.\n\nThen, second.", "First.\n\nAnd second."),
    "punctuation:no_comma": ({}, "Sad and slow.", "Sad, slow."),
    "language:response_language": ({"language": "de"}, "Die Stimme klingt heute sehr traurig und müde.",
                                   "The voice sounds very sad and tired today."),
}


def test_every_checker_has_a_case():
    assert set(CASES) == set(CHECKERS)


@pytest.mark.parametrize("instruction_id", sorted(CASES))
def test_checker_passes_and_fails(instruction_id):
    kwargs, good, bad = CASES[instruction_id]
    if instruction_id == "language:response_language":
        pytest.importorskip("lingua")
    assert follows(instruction_id, good, kwargs) is True
    assert follows(instruction_id, bad, kwargs) is False


def test_unknown_instruction_and_bad_kwargs_are_failures_not_wrong_answers():
    with pytest.raises(Failure) as unknown:
        follows("detectable_format:haiku", "text")
    assert unknown.value.reason == "unknown_instruction"
    with pytest.raises(Failure) as bad:
        follows("length_constraints:number_words", "text", {"num_words": 3, "relation": "around"})
    assert bad.value.reason == "bad_kwargs"


def test_split_sentences_keeps_abbreviations_decimals_and_initials():
    assert split_sentences("Dr. J. Smith paid $3.50 today. Was it fair? Yes! e.g. this stays.") == [
        "Dr. J. Smith paid $3.50 today.", "Was it fair?", "Yes! e.g. this stays."]
    assert split_sentences("") == [] and split_sentences("no end") == ["no end"]


def test_instruction_and_prompt_level_scores_per_group():
    scores = ifeval_scores("THE VOICE", ["change_case:english_capital", "keywords:existence"], [{}, {"keywords": ["x"]}])
    assert scores["if_followed"] == 1 and scores["if_instructions"] == 2 and scores["if_strict_prompt"] == 0
    assert scores["if_followed.change_case"] == 1 and scores["if_followed.keywords"] == 0


@pytest.mark.parametrize("language", ["en", "de", "fr", "it", "es"])
def test_constraint_phrases_are_read_back_and_rewritten_targets_pass(language):
    target = "the quick brown fox jumps over the lazy dog. it was sunny."
    for constraint_id in constraints.CONSTRAINT_IDS:
        rewritten = constraints.rewrite(constraint_id, target, language, random.Random(3))
        assert rewritten is not None, constraint_id
        phrase = constraints.render(constraint_id, rewritten.kwargs, language)
        assert constraints.parse_constraints(f"Transcribe:\n{phrase}", language) == [(constraint_id, rewritten.kwargs)]
        assert follows(constraint_id, rewritten.target, rewritten.kwargs)
