"""Length of the response (whole, never capped) and whether the example has audio at all."""

from __future__ import annotations

from typing import ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import ResponseText
from speechsift.records import Example


class LengthScorer(Scorer):
    """``length_words`` (whitespace-separated words; the Speechworthy word count, REFERENCE.md §4),
    ``length_chars``, ``length_empty`` (no response, or only whitespace) and ``length_capped``
    (the response is longer than ``max_chars``: the other scorers saw only its beginning)."""

    name = "length"
    columns: ClassVar[dict[str, ColumnType]] = {
        "length_words": "float",
        "length_chars": "float",
        "length_empty": "bool",
        "length_capped": "bool",
    }

    def score(self, example: Example, text: ResponseText) -> Scores:
        raw = text.raw
        return {
            "length_words": len(raw.split()),
            "length_chars": len(raw),
            "length_empty": text.empty,
            "length_capped": text.capped,
        }


class AudioScorer(Scorer):
    """``audio_present``: every audio the example refers to names a file or holds bytes, and there
    is at least one. Whether the file can be decoded is the prepare stage's business."""

    name = "audio"
    columns: ClassVar[dict[str, ColumnType]] = {"audio_present": "bool"}

    def score(self, example: Example, text: ResponseText) -> Scores:
        audios = example.audios
        present = bool(audios) and all(a is not None and (a.path or a.bytes) for a in audios)
        return {"audio_present": present}
