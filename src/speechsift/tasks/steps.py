"""Multi-step LLM work on one example: a ``Step`` asks several requests at once and hands their
answers to ``then``, which returns the finished example(s), or examples holding the next ``Step``.

A plain ``ChatRequest`` on an example is one answer for ``Task.finish``. Tasks that need more
(an instruction evolved over rounds, a Magpie conversation turn by turn, a preference pair's two
candidates and then the judge) put a ``Step`` there instead. The executor sends every pending
step's requests through the generation service (ledger, in-flight dedup, retries) and applies the
answers until no example holds a step, so each request is cached and resumable like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from speechsift.llm.types import ChatRequest, Completion
from speechsift.records import Example, Generation

if TYPE_CHECKING:
    StepResult = Union[Example, list[Union[Example, "Dropped"]]]


@dataclass(slots=True)
class Reply:
    """One answer of a step: the cleaned text (``<think>`` removed; None when the request failed
    or the answer was empty), the completion, and its provenance."""

    text: str | None
    completion: Completion
    generation: Generation

    @property
    def failure(self) -> tuple[str, str]:
        """``(reason, message)`` of a failed reply."""
        if not self.completion.ok:
            return self.completion.error_reason or "llm_error", self.completion.error or "the backend gave no text"
        return "empty_response", "the model's answer was empty after removing <think> blocks"


@dataclass(frozen=True, slots=True)
class Dropped:
    """One item of a step's answer left out (a duplicate instruction among several written at
    once): ``then`` returns it beside the examples it keeps; it goes to ``rejects.jsonl``."""

    id: str
    reason: str
    message: str


@dataclass(slots=True)
class Step:
    """Requests to answer together; ``then(example, replies)`` makes what comes next."""

    requests: list[ChatRequest]
    then: Callable[[Example, list[Reply]], "StepResult"]
