"""What is asked of an LLM (``ChatRequest``) and what comes back (``Completion``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class SamplingParams:
    """Decoding settings; defaults are the omni generator's (REFERENCE.md §1)."""

    temperature: float = 0.8
    top_p: float = 0.92
    max_tokens: int = 256
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "seed": self.seed,
        }


@dataclass(slots=True)
class ChatRequest:
    """One chat completion to ask for.

    ``context`` holds the structured inputs the prompt was rendered from (normalized labels and the
    transcript) so that the template backend can write from facts, never from parsing prose.
    """

    messages: list[dict[str, str]]
    sampling: SamplingParams
    task: str
    context: dict[str, Any] = field(default_factory=dict)
    sample_index: int = 0

    def key(self, backend: str, model: str | None) -> str:
        """A hash of everything that determines the answer: the request-ledger key."""
        payload = {
            "backend": backend,
            "model": model,
            "messages": self.messages,
            "sampling": self.sampling.as_dict(),
            "sample_index": self.sample_index,
        }
        if backend == "template":
            payload["context"] = self.context
            payload["task"] = self.task
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass(slots=True)
class Completion:
    """A backend's answer to one request: text and finish reason, or an error with a reject code."""

    text: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    error_reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None
