"""Readability: Flesch reading ease (language-adjusted) and the Flesch-Kincaid grade, as textstat
0.7.8 computes them (Speechworthy, REFERENCE.md §4, uses Flesch reading ease to judge whether an
answer is easy to follow by ear; §5 uses a Flesch threshold as a quality filter).

The numbers are textstat's own: its word splitting and sentence rules (the same expressions),
its syllable counts (``count_syllables``: CMUdict for English, Pyphen hyphenation otherwise) and
its per-language Flesch constants. Only the order of work differs: textstat counts the syllables
of every word of every text anew (its caches are keyed by whole texts, which never repeat across
a dataset), while we cache them per word, which makes scoring several times faster on a corpus.
tests/curate/test_curate_text_scorers.py checks the results
are identical to ``textstat.flesch_reading_ease`` and ``textstat.flesch_kincaid_grade``.

textstat is pinned to 0.7.8 (constraints.txt): later releases download data at run time.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from functools import cache
from typing import ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.language import base_language
from speechsift.curate.text import ResponseText, require, written_language
from speechsift.records import Example

# textstat's language codes: English uses the US dictionary; the others their bare code. Only
# languages with Flesch constants in textstat (LANG_CONFIGS) get a reading-ease score.
_TEXTSTAT_LANG = {"en": "en_US", "de": "de", "es": "es", "fr": "fr", "it": "it", "nl": "nl", "pl": "pl",
                  "ru": "ru", "hu": "hu"}


# textstat 0.7.8's own expressions (backend/utils/constants.py, transformations, counts): punctuation
# is removed except apostrophes of English contractions; sentences are runs ending in . ! or ?.
_NONCONTRACTION_APOSTROPHE = re.compile(r"\'(?![tsd]|ve|ll|re)")
_PUNCTUATION = re.compile(r"[^\w\s\']")
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
_WORD_CHAR = re.compile(r"\w")
_MAX_CACHED_WORDS = 500_000

_syllable_cache: dict[str, dict[str, int]] = {}


def _short(sentence: str) -> bool:
    """At most two of textstat's words (``list_words``: punctuation removed), without building them: removing punctuation
    never splits a token, and a token survives it exactly when it holds a word character."""
    count = 0
    for token in sentence.split():
        if _WORD_CHAR.search(token):
            count += 1
            if count > 2:
                return False
    return True


def _textstat_sentences(text: str) -> int:
    """textstat's ``count_sentences``: sentences of three words or more (at least one)."""
    if not text:
        return 0
    sentences = _SENTENCE.findall(text)
    short = sum(1 for sentence in sentences if _short(sentence))
    return max(1, len(sentences) - short)


def _syllables(words: list[str], lang: str) -> int:
    """textstat's ``count_syllables`` over ``words`` (already lower-cased), cached per word."""
    cache = _syllable_cache.get(lang)
    if cache is None:
        cache = _syllable_cache[lang] = {}
    total = 0
    for word in words:
        count = cache.get(word)
        if count is None:
            from textstat.backend.counts import count_syllables

            if len(cache) >= _MAX_CACHED_WORDS:
                cache.clear()
            count = cache[word] = count_syllables(word, lang)
        total += count
    return total


@cache
def _flesch_constants(lang: str) -> tuple[float, float, float]:
    from textstat.backend.utils import get_lang_cfg

    return (get_lang_cfg(lang, "fre_base"), get_lang_cfg(lang, "fre_sentence_length"),
            get_lang_cfg(lang, "fre_syll_per_word"))


def flesch_scores(text: str, lang: str = "en_US") -> tuple[float, float]:
    """``(flesch_reading_ease, flesch_kincaid_grade)`` of ``text``, equal to textstat 0.7.8's."""
    stripped = _PUNCTUATION.sub("", _NONCONTRACTION_APOSTROPHE.sub("", text))
    words = stripped.lower().split()
    if not words:
        return 0.0, 0.0
    sentences = _textstat_sentences(text)
    words_per_sentence = len(words) / sentences if sentences else 0.0
    syllables_per_word = _syllables(words, lang) / len(words)
    if words_per_sentence == 0 or syllables_per_word == 0:
        return 0.0, 0.0
    base, per_sentence, per_syllable = _flesch_constants(lang)
    ease = base - per_sentence * words_per_sentence - per_syllable * syllables_per_word
    grade = 0.39 * words_per_sentence + 11.8 * syllables_per_word - 15.59
    return ease, grade


class ReadabilityScorer(Scorer):
    """``readability_flesch`` (Flesch reading ease with the constants of the example's language;
    null for languages textstat has none for), ``readability_grade`` (Flesch-Kincaid grade
    level; English only: its constants are calibrated on English) and, for text tasks' English
    responses, ``complexity_score`` (textstat's ``text_standard``: the consensus grade level of its
    readability formulas, the SFT card's complexity measure; REFERENCE.md §5)."""

    name = "readability"
    columns: ClassVar[dict[str, ColumnType]] = {"readability_flesch": "float", "readability_grade": "float",
                                                "complexity_score": "float"}

    def __init__(self) -> None:
        require("textstat", "textstat==0.7.8", "curate readability")

    def memo_key(self, example: Example, text: ResponseText) -> Hashable:
        return text.raw, written_language(example), example.task

    def score(self, example: Example, text: ResponseText) -> Scores:
        if text.empty:
            return {}
        language = base_language(written_language(example)) or "en"
        lang = _TEXTSTAT_LANG.get(language)
        if lang is None:
            return {}
        ease, grade = flesch_scores(text.text, lang)
        scores = {"readability_flesch": ease, "readability_grade": grade if language == "en" else None}
        from speechsift.tasks.text import is_text_task  # tasks import curate: not at import time

        if language == "en" and is_text_task(example.task):  # the card's measure, for instruction data
            from textstat import text_standard

            scores["complexity_score"] = float(text_standard(text.text, float_output=True))
        return scores
