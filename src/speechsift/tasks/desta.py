"""DeSTA2 / DeSTA2.5 descriptions (REFERENCE.md §3): the LLM answers a question from the seed description.

``desta`` (LLM): the LLM reads the clip's seed description (``render.desta``: one timestamped line
per segment, with what is said and how it sounds) and a question, and answers as if it had
listened; its answer is the target. The question is DeSTA2's "What can you hear from the audio?"
(option ``prompt: fixed``) or, by default, one drawn from the instruction pool
(``prompts_sift.DESTA_QUESTIONS``, DeSTA2.5's approach) with an RNG seeded by the clip id. Both are
in the clip's language, and the LLM is asked to answer in it.

The final example: user turn audio + question, assistant turn the answer. ``finish`` rejects an
answer that mentions the description or its format (``metadata_leak``: "metadata", "according to
the description", "[00:00:00", "Gender:") or contradicts the labels (``contradicts_labels``).

The seed description travels with the example: it is the first paragraph of the LLM's user
message (``generation.llm_messages``), which the Parquet rows keep; ``seed_description(example)``
reads it back (and prefers ``example.extra["seed_description"]`` once records have that field).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from speechsift.errors import Reject
from speechsift.labels import i18n
from speechsift.llm.types import ChatRequest
from speechsift.records import Clip, Example, Generation, Message, Part
from speechsift.render.desta import render_seed_description, segments_of
from speechsift.tasks import prompts_sift
from speechsift.tasks.base import Task, TaskSettings, register_task, user_turn
from speechsift.tasks.options import Configurable, sampling_for
from speechsift.tasks.pairing import seeded_rng
from speechsift.tasks.screen import Screen, leaks_metadata

SEPARATOR = "\n\n"  # between the seed description and the question in the LLM's user message
ANSWER_TOKENS = 384  # DeSTA answers run to a paragraph
# The description's own format showing through an answer.
_FORMAT_LEAK = re.compile(
    r"\[\d{2}:\d{2}(?::\d{2})?\s*-|\b(?:gender|emotion|accent|age|pitch|volume|speaking speed|duration|snr)\s*:",
    re.IGNORECASE,
)
_DESCRIPTION_WORDS = re.compile(r"\b(?:seed description|the description|text description)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DestaOptions:
    """Options of ``desta``.

    Attributes:
        prompt: ``pool`` (a question drawn from the instruction pool, DeSTA2.5) or ``fixed`` (DeSTA2's
            single question, the pool's first).
        max_tokens: the answer's token budget (None: the recipe's, at least 384).
    """

    prompt: str = "pool"
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if self.prompt not in ("pool", "fixed"):
            raise ValueError(f"prompt must be 'pool' or 'fixed', got {self.prompt!r}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")


@lru_cache(maxsize=16)
def _system_message(language: str) -> dict[str, str]:
    text = prompts_sift.fill(prompts_sift.DESTA_SYSTEM, language=i18n.LANGUAGE_NAMES["en"][language])
    return {"role": "system", "content": text}


def seed_description(example: Example) -> str | None:
    """The seed description a ``desta`` example was written from (None for other examples)."""
    extra = getattr(example, "extra", None)
    if isinstance(extra, dict) and isinstance(extra.get("seed_description"), str):
        return extra["seed_description"]
    generation = example.generation
    request = example.request
    messages = (request.messages if request is not None else None) or (generation.llm_messages if generation else None)
    for message in messages or []:
        if message.get("role") == "user" and example.instruction:
            content = message.get("content") or ""
            suffix = SEPARATOR + example.instruction
            if content.endswith(suffix):
                return content[: -len(suffix)]
    return None


@register_task
class Desta(Configurable, Task):
    name = "desta"
    category = "desta"
    sub = None
    needs_llm = True
    checks_language = True
    Options = DestaOptions

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        opts = self.options(settings)
        language = i18n.output_language(clip.language)
        if not (clip.text or "").strip() and not clip.meta and not segments_of(clip):
            raise Reject("empty_context", f"clip {clip.clip_id} has neither labels nor a transcript to describe")
        description = render_seed_description(clip)
        pool = prompts_sift.DESTA_QUESTIONS[language]
        question = pool[0] if opts.prompt == "fixed" else seeded_rng(self.name, clip.clip_id).choice(pool)
        request = ChatRequest(
            [_system_message(language), {"role": "user", "content": description + SEPARATOR + question}],
            sampling_for(settings.sampling, opts.max_tokens, ANSWER_TOKENS),
            self.name,
            {"language": language, "prompt_version": prompts_sift.PROMPT_VERSION},
        )
        return self.example(clip, instruction=question, response=None, request=request)

    def finish(self, example: Example, response: str, generation: Generation) -> list[Example]:
        answer = response.strip()
        if leaks_metadata(answer) or _FORMAT_LEAK.search(answer) or _DESCRIPTION_WORDS.search(answer):
            raise Reject("metadata_leak", f"the answer mentions the description or its format: {answer[:200]!r}")
        why = Screen.of(example.meta, example.transcript).contradiction("", answer)
        if why is not None:
            raise Reject("contradicts_labels", f"{why}: {answer[:200]!r}")
        messages = [user_turn(example.instruction), Message("assistant", [Part("text", answer)])]
        return [replace(example, response=answer, messages=messages, generation=generation, request=None)]


__all__ = ["Desta", "DestaOptions", "seed_description"]
