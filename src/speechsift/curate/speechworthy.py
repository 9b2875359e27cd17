"""Speech suitability (Speechworthy, Cho et al., EMNLP 2024; REFERENCE.md §4): what a voice cannot
say. The paper counts unspeakable characters (slash, backslash, braces, parentheses, brackets,
hyphen, pipe, asterisk, underscore, caret, ampersand, percent, dollar, hash, at, tilde, backtick)
plus the list markers "1." … "20."; a speech-friendly answer has neither. It also measures the
mean dependency depth (how deeply sentences nest, hard to follow by ear): here with spaCy, only
when spaCy and an English pipeline (``en_core_web_sm`` …) are installed, since the pipelines are
not on PyPI (REFERENCE.md §8); otherwise the column is left out and the report says why. Its other
measures are elsewhere: word count is ``length_words``, Flesch reading ease ``readability_flesch``.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from typing import Any, ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import ResponseText
from speechsift.records import Example

UNSPEAKABLE_CHARS = "/\\{}()[]-|*_^&%$#@~`"
_UNSPEAKABLE = re.compile("[" + re.escape(UNSPEAKABLE_CHARS) + "]")
# "1." ... "20." as list markers: not part of a longer number ("3.5", "120.") and not a version.
_LIST_MARKER = re.compile(r"(?<![\w.])(?:[1-9]|1[0-9]|20)\.(?!\d)")


# English spaCy pipelines tried in turn for dependency depth (none ships with speechsift).
SPACY_PIPELINES = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")


def load_parser() -> Any:
    """An installed English spaCy pipeline with a parser, or None."""
    try:
        import spacy
    except ImportError:
        return None
    for name in SPACY_PIPELINES:
        try:
            return spacy.load(name, disable=["ner", "lemmatizer"])
        except (OSError, ImportError):
            continue
    return None


def token_depth(token: Any) -> int:
    """Arcs from ``token`` up to its sentence's root (a spaCy root is its own head)."""
    depth = 0
    while token.head is not token and token.head.i != token.i:
        token = token.head
        depth += 1
    return depth


def mean_dependency_depth(sentences: Iterable[Sequence[Any]]) -> float | None:
    """The mean over sentences of each parse tree's depth (its deepest token's arcs to the root)."""
    depths = [max(token_depth(t) for t in sentence) for sentence in sentences if len(sentence)]
    return sum(depths) / len(depths) if depths else None


class SpeechworthyScorer(Scorer):
    """``speech_unspeakable_chars``, ``speech_list_markers``, ``speech_unspeakable`` (their sum, the
    paper's measure) and, for English with a spaCy parser installed, ``speech_dependency_depth``."""

    name = "speech"
    columns: ClassVar[dict[str, ColumnType]] = {
        "speech_unspeakable_chars": "float",
        "speech_list_markers": "float",
        "speech_unspeakable": "float",
        "speech_dependency_depth": "float",
    }

    def __init__(self, parser: Any = "auto") -> None:
        self.parser = load_parser() if parser == "auto" else parser

    def memo_key(self, example: Example, text: ResponseText) -> Hashable:
        return text.raw, example.language

    def score(self, example: Example, text: ResponseText) -> Scores:
        body = text.text
        chars = len(_UNSPEAKABLE.findall(body))
        markers = len(_LIST_MARKER.findall(body)) if "." in body else 0
        scores: Scores = {"speech_unspeakable_chars": chars, "speech_list_markers": markers,
                          "speech_unspeakable": chars + markers}
        if self.parser is not None and not text.empty and (example.language or "en").startswith("en"):
            scores["speech_dependency_depth"] = mean_dependency_depth(self.parser(body).sents)
        return scores
