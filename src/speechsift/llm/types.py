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
    json_schema: dict[str, Any] | None = None  # ask for output matching this schema
    # Raw completion (Magpie): this exact text is the whole prompt, sent with no chat template and
    # no special tokens added (``messages`` then holds no turns). Backends without raw completion
    # refuse it (``raw_completion_unsupported``).
    prompt: str | None = None
    stop: tuple[str, ...] = ()  # strings that end the answer (cut off there, stop string excluded)
    # Which of the recipe's named LLMs (``llms:``) answers; None: the recipe's ``llm``.
    route: str | None = None

    def _payload(self, backend: str, model: str | None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "backend": backend,
            "model": model,
            "messages": self.messages,
            "sampling": self.sampling.as_dict(),
        }
        if self.json_schema is not None:
            payload["json_schema"] = self.json_schema
        if self.prompt is not None:
            payload["prompt"] = self.prompt
        if self.stop:
            payload["stop"] = list(self.stop)
        if backend == "template":
            payload["context"] = self.context
            payload["task"] = self.task
        return payload

    @staticmethod
    def _hash(payload: dict[str, Any]) -> str:
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def key(self, backend: str, model: str | None) -> str:
        """A hash of everything that determines the answer: the request-ledger key."""
        return self._hash({**self._payload(backend, model), "sample_index": self.sample_index})

    def prompt_key(self, backend: str, model: str | None) -> str:
        """The key without the sample index: requests that differ only in it share one prompt."""
        return self._hash(self._payload(backend, model))


@dataclass(slots=True)
class Completion:
    """A backend's answer to one request: text and finish reason, or an error with a reject code.

    ``transient`` marks a failure that may well succeed later (the server was down, overloaded or
    too slow, the retries ran out): it is never stored as an answer, and a rerun asks again. A
    failure that is not transient (a bad request, a prompt too long) stays rejected.
    """

    text: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None
    error_reason: str | None = None
    retries: int = 0  # attempts beyond the first
    transient: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.text is not None
