"""Refusals and assistant boilerplate: "As an AI ...", "I'm sorry, but I can't ...", "Certainly!
Here is ...", "I hope this helps". None of these belongs in a voice assistant's spoken answer.

The phrases are a data table (``data/curate/boilerplate.tsv``, with the source of each row). Only
responses written by a backend are checked: corpus targets (transcripts) may say anything.
"""

from __future__ import annotations

from pathlib import Path
from collections.abc import Hashable
from typing import ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import ResponseText, data_path, is_generated, load_rules
from speechsift.records import Example

KINDS = ("refusal", "ai_identity", "opener", "closer")


class BoilerplateScorer(Scorer):
    """``boilerplate_refusal`` (the response refuses), ``boilerplate_assistant`` (it talks like a
    chat assistant: AI self-reference, "Certainly! Here is", "I hope this helps"),
    ``boilerplate_match`` (the first phrase found). Null for corpus targets."""

    name = "boilerplate"
    columns: ClassVar[dict[str, ColumnType]] = {
        "boilerplate_refusal": "bool",
        "boilerplate_assistant": "bool",
        "boilerplate_match": "str",
    }

    def __init__(self, path: Path | None = None) -> None:
        rules = load_rules(path or data_path("boilerplate.tsv"), KINDS)
        self.refusals = [r for r in rules if r.kind == "refusal"]
        self.assistant = [r for r in rules if r.kind != "refusal"]

    def memo_key(self, example: Example, text: ResponseText) -> Hashable:
        return text.raw, is_generated(example)

    def score(self, example: Example, text: ResponseText) -> Scores:
        if not is_generated(example) or text.empty:
            return {}
        body = text.unquoted_lower
        first = None
        refusal = False
        for rule in self.refusals:
            match = rule.pattern.search(body) if rule.applies(body) else None
            if match:
                refusal, first = True, match.group(0)
                break
        assistant = False
        for rule in self.assistant:
            match = rule.pattern.search(body) if rule.applies(body) else None
            if match:
                assistant = True
                first = first or match.group(0)
                break
        return {"boilerplate_refusal": refusal, "boilerplate_assistant": assistant,
                "boilerplate_match": first.strip() if first else None}
