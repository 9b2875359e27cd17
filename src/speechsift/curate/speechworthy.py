"""Speech suitability (Speechworthy, Cho et al., EMNLP 2024; REFERENCE.md §4): what a voice cannot
say. The paper counts unspeakable characters (slash, backslash, braces, parentheses, brackets,
hyphen, pipe, asterisk, underscore, caret, ampersand, percent, dollar, hash, at, tilde, backtick)
plus the list markers "1." … "20."; a speech-friendly answer has neither. Its other measures are
elsewhere: word count is ``length_words``, Flesch reading ease ``readability_flesch``.
"""

from __future__ import annotations

import re
from typing import ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import ResponseText
from speechsift.records import Example

UNSPEAKABLE_CHARS = "/\\{}()[]-|*_^&%$#@~`"
_UNSPEAKABLE = re.compile("[" + re.escape(UNSPEAKABLE_CHARS) + "]")
# "1." ... "20." as list markers: not part of a longer number ("3.5", "120.") and not a version.
_LIST_MARKER = re.compile(r"(?<![\w.])(?:[1-9]|1[0-9]|20)\.(?!\d)")


class SpeechworthyScorer(Scorer):
    """``speech_unspeakable_chars``, ``speech_list_markers`` and ``speech_unspeakable`` (their sum,
    the paper's measure)."""

    name = "speech"
    columns: ClassVar[dict[str, ColumnType]] = {
        "speech_unspeakable_chars": "float",
        "speech_list_markers": "float",
        "speech_unspeakable": "float",
    }

    def score(self, example: Example, text: ResponseText) -> Scores:
        body = text.text
        chars = len(_UNSPEAKABLE.findall(body))
        markers = len(_LIST_MARKER.findall(body)) if "." in body else 0
        return {"speech_unspeakable_chars": chars, "speech_list_markers": markers,
                "speech_unspeakable": chars + markers}
