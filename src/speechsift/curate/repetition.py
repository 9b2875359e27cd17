"""Repetition: how much of the response repeats itself (a model stuck in a loop).

Gopher's repetition measures (Rae et al. 2021, "Scaling Language Models: Methods, Analysis &
Insights from Training Gopher", arXiv:2112.11446, appendix A, table A1; as implemented in
datatrove's ``GopherRepetitionFilter``): the *duplicate n-gram character fraction* is the share of
the text's characters that sit inside an n-gram already seen earlier in the text, scanning left to
right and jumping past each repeat so that no character counts twice. Gopher computes it for
n = 5..10 over web documents; speech responses are one to three sentences, so we compute it for
n = 2, 3 and 4 (a repeated 3-gram in a two-sentence answer is already a loop). Characters are the
words' letters (spaces and punctuation are not counted), so the fractions lie in [0, 1].

``repetition_score`` is the largest of the duplicate 3-gram fraction and the duplicate-line
character fraction (Gopher's "duplicate line character fraction"); the ``max_repetition`` filter
compares against it. The 2-gram fraction is kept as a column but not used by default: "I'm so ...
I'm so ..." is ordinary speech.
"""

from __future__ import annotations

from itertools import pairwise
from collections.abc import Hashable
from typing import ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import ResponseText
from speechsift.records import Example

NGRAM_SIZES = (2, 3, 4)


def duplicate_ngram_fraction(words: list[str], lengths: list[int], total: int, n: int) -> float:
    """Gopher's duplicate n-gram character fraction over ``words`` (``lengths`` their lengths)."""
    last = len(words) - n
    if last < 1 or total == 0:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    duplicate = 0
    i = 0
    while i <= last:
        gram = tuple(words[i:i + n])
        if gram in seen:
            duplicate += sum(lengths[i:i + n])
            i += n
        else:
            seen.add(gram)
            i += 1
    return duplicate / total


def duplicate_line_fraction(text: str) -> float:
    """Characters in lines that repeat an earlier non-empty line, over all characters."""
    if "\n" not in text:
        return 0.0
    seen: set[str] = set()
    duplicate = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line in seen:
            duplicate += len(line)
        else:
            seen.add(line)
    return duplicate / max(1, len(text))


class RepetitionScorer(Scorer):
    name = "repetition"
    columns: ClassVar[dict[str, ColumnType]] = {
        "repetition_dup_2gram": "float",
        "repetition_dup_3gram": "float",
        "repetition_dup_4gram": "float",
        "repetition_dup_line": "float",
        "repetition_score": "float",
    }

    def memo_key(self, example: Example, text: ResponseText) -> Hashable:
        return text.raw

    def score(self, example: Example, text: ResponseText) -> Scores:
        words = text.words
        dup_line = duplicate_line_fraction(text.text)
        fractions = [0.0, 0.0, 0.0]
        # No repeated word, or no repeated 2-gram: no repeated n-gram at all (checked in C first).
        if len(words) > 2 and len(set(words)) < len(words):
            bigrams = list(pairwise(words))
            if len(set(bigrams)) < len(bigrams):
                lengths = [len(w) for w in words]
                total = sum(lengths)
                for k, n in enumerate(NGRAM_SIZES):
                    fractions[k] = duplicate_ngram_fraction(words, lengths, total, n)
                    if fractions[k] == 0.0:  # no repeated n-gram: no repeated longer one either
                        break
        return {
            "repetition_dup_2gram": fractions[0],
            "repetition_dup_3gram": fractions[1],
            "repetition_dup_4gram": fractions[2],
            "repetition_dup_line": dup_line,
            "repetition_score": max(fractions[1], dup_line),
        }
