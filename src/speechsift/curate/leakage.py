"""Metadata leakage: the response mentions the metadata it was written from (tags like ``<meta>``,
field names like "emotion:", "the transcript", "according to the description") instead of
speaking as a listener, or says it cannot hear the audio at all.

The patterns are a data table (``data/curate/leakage.tsv``). Quoted spans are removed first, so a
description quoting the speaker ("saying \\"read the label\\"") is judged by its own words, and a
match whose key noun the speaker said too ("the transcript", when the clip is someone asking for
the transcript) is not a leak. Only responses written by a backend are checked: a corpus
transcript may say anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import WORD, ResponseText, data_path, is_generated, load_rules
from speechsift.records import Example

KINDS = ("tag", "field", "source_mention", "format", "denies_hearing")

# Nouns that name the prompt's data; a match built on one the speaker also said is an echo.
KEY_NOUNS = frozenset({
    "transcript", "transcription", "text", "metadata", "meta", "data", "label", "labels", "tag", "tags",
    "annotation", "annotations", "description", "information", "context", "input", "json", "details",
})


def _echoes_speaker(match: str, example: Example) -> bool:
    nouns = KEY_NOUNS.intersection(WORD.findall(match))
    if not nouns or not example.transcript:
        return False
    return not nouns.isdisjoint(WORD.findall(example.transcript.lower()))


class LeakageScorer(Scorer):
    """``leakage_flag`` (the response leaks), ``leakage_kind`` (tag, field, source_mention, format,
    denies_hearing) and ``leakage_match`` (the phrase found). Null for corpus targets."""

    name = "leakage"
    columns: ClassVar[dict[str, ColumnType]] = {"leakage_flag": "bool", "leakage_kind": "str", "leakage_match": "str"}

    def __init__(self, path: Path | None = None) -> None:
        self.rules = load_rules(path or data_path("leakage.tsv"), KINDS)

    def score(self, example: Example, text: ResponseText) -> Scores:
        if not is_generated(example) or text.empty:
            return {}
        for rule in self.rules:
            # Tags count wherever they are; everything else only in the response's own words.
            kind = rule.kind
            body = text.lower if kind == "tag" else text.unquoted_lower
            if not rule.applies(body):
                continue
            for match in rule.pattern.finditer(body):
                found = match.group(0)
                if kind == "source_mention" and _echoes_speaker(found, example):
                    continue
                return {"leakage_flag": True, "leakage_kind": kind, "leakage_match": found.strip()}
        return {"leakage_flag": False, "leakage_kind": None, "leakage_match": None}
