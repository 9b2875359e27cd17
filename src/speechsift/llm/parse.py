"""Turning raw model output into a usable response."""

from __future__ import annotations

import json
import re
from typing import Any

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


class ParseError(ValueError):
    """Model output that cannot be read as what the task asked for; ``reason`` is the reject code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)


def strip_fences(text: str) -> str:
    """The body of a Markdown code fence, when the whole answer is one."""
    match = _FENCE.match(text)
    return match.group(1) if match else text


def parse_json(text: str) -> Any:
    """One JSON value from a model's answer (think blocks and a code fence around it allowed)."""
    body = strip_fences(strip_think(text)).strip()
    if not body:
        raise ParseError("empty_response", "the answer is empty")
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:
        raise ParseError("unparseable_json", f"the answer is not JSON: {exc}") from None


def parse_json_lines(text: str, required_keys: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """JSON objects, one per line, each with ``required_keys``.

    A single JSON array of objects is accepted too (models often wrap lines in one). Lines that are
    not objects with the required keys are skipped; when no line is usable the whole answer is
    rejected as ``unparseable_json`` (nothing parsed) or ``missing_keys`` (objects without them).
    """
    body = strip_fences(strip_think(text)).strip()
    if not body:
        raise ParseError("empty_response", "the answer is empty")
    candidates: list[Any] = []
    if body.startswith("["):
        try:
            value = json.loads(body)
            candidates = value if isinstance(value, list) else []
        except json.JSONDecodeError:
            candidates = []
    if not candidates:
        for line in body.splitlines():
            line = line.strip().rstrip(",")
            if not line:
                continue
            try:
                candidates.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    objects = [c for c in candidates if isinstance(c, dict)]
    if not objects:
        raise ParseError("unparseable_json", "no line of the answer is a JSON object")
    usable = [o for o in objects if all(isinstance(o.get(k), str) and o[k].strip() for k in required_keys)]
    if not usable:
        raise ParseError("missing_keys", f"no JSON object in the answer has the keys {', '.join(required_keys)}")
    return usable
