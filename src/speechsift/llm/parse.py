"""Turning raw model output into a usable response."""

from __future__ import annotations

import re

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_THINK_UNCLOSED = re.compile(r"<think>.*\Z", re.DOTALL | re.IGNORECASE)


def strip_think(text: str) -> str:
    """Remove ``<think>…</think>`` blocks (and a dangling, never-closed one) and trim."""
    text = _THINK_BLOCK.sub("", text)
    text = _THINK_UNCLOSED.sub("", text)
    # A closing tag with no opening one: reasoning that the chat template began for the model.
    if "</think>" in text.lower():
        text = re.split(r"</think>", text, flags=re.IGNORECASE)[-1]
    return text.strip()


def is_truncated(finish_reason: str | None) -> bool:
    """The model stopped because it ran out of tokens, not because it was done."""
    return finish_reason == "length"
