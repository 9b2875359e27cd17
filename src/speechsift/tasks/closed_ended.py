"""SIFT-50M closed-ended questions written by an LLM (REFERENCE.md §2), and the Q/A task the other
families share.

Tasks:

- ``closed_ended_acoustic`` / ``closed_ended_content`` (LLM): the LLM reads the clip's metadata
  JSON (``render.sift_json``) and writes up to ``max_pairs`` question/answer pairs as JSON lines
  (``{"q", "a"}``), about how the clip sounds or about what is said. ``finish`` makes one example
  per pair: the user turn is the audio and the question, the assistant turn the answer.

``finish`` screens the pairs (``tasks/screen.py``: what is refused, and why). ``QATask`` (an LLM
task whose answer is JSON-lines Q/A) is what the other SIFT families reuse; ``closed_ended_template``
(no LLM) is in ``tasks/closed_ended_template.py``. Task options: see each ``Options`` class.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, ClassVar

from speechsift.errors import Reject
from speechsift.labels import i18n
from speechsift.llm.types import ChatRequest
from speechsift.records import Clip, Example, Generation, Message, Part, stable_id
from speechsift.render.sift_json import acoustic_labels, render_sift_json
from speechsift.tasks import prompts_sift
from speechsift.tasks.base import Task, TaskSettings, register_task, user_turn
from speechsift.tasks.options import Configurable, sampling_for
from speechsift.tasks.screen import Screen, Screened, drop_quality, parse_pairs, screen_pairs

MAX_PAIRS_LIMIT = 10  # SIFT-50M asks for up to N <= 10 pairs per clip
TOKENS_PER_PAIR = 80  # room one JSON line of q/a needs; max_tokens defaults to max(recipe, n x this)


@dataclass(frozen=True)
class QAOptions:
    """Options of the JSON-lines Q/A tasks.

    Attributes:
        max_pairs: how many question/answer pairs to ask for per clip (1-10, SIFT-50M's N).
        max_tokens: the answer's token budget; None: the recipe's ``llm.max_tokens`` or
            ``max_pairs x 80``, whichever is larger.
    """

    max_pairs: int = 5
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_pairs <= MAX_PAIRS_LIMIT:
            raise ValueError(f"max_pairs must be 1 to {MAX_PAIRS_LIMIT}, got {self.max_pairs}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")


@lru_cache(maxsize=256)
def _system_message(template: str, language: str, n: int) -> dict[str, str]:
    text = prompts_sift.fill(template, n=n, language=i18n.LANGUAGE_NAMES["en"][language])
    return {"role": "system", "content": text}


class QATask(Configurable, Task):
    """An LLM task whose answer is JSON-lines Q/A pairs about one clip; one example per pair.

    Subclasses set ``name``, ``system_template`` and may override ``check_clip`` (refuse a clip
    with nothing to ask about) and ``context_json`` (what the LLM reads).
    """

    needs_llm = True
    checks_language = True  # answers must be in the clip's language (i18n.output_language)
    Options = QAOptions
    system_template: ClassVar[str]

    def check_clip(self, clip: Clip) -> None:
        if not clip.meta and not (clip.text or "").strip():
            raise Reject("empty_context", f"clip {clip.clip_id} has neither labels nor a transcript to ask about")

    def context_json(self, clip: Clip, language: str) -> str:
        return render_sift_json(clip, language)

    def request_for(self, clip: Clip, settings: TaskSettings, user: str, language: str, screen: Screen,
                    **context: Any) -> ChatRequest:
        opts = self.options(settings)
        return ChatRequest(
            [_system_message(self.system_template, language, opts.max_pairs), {"role": "user", "content": user}],
            sampling_for(settings.sampling, opts.max_tokens, opts.max_pairs * TOKENS_PER_PAIR),
            self.name,
            {"language": language, "max_pairs": opts.max_pairs, "screen": screen.to_context(),
             "prompt_version": prompts_sift.PROMPT_VERSION, **context},
        )

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        self.check_clip(clip)
        language = i18n.output_language(clip.language)
        screen = Screen.of(clip.meta, None)
        request = self.request_for(clip, settings, self.context_json(clip, language), language, screen)
        return self.example(clip, instruction="", response=None, request=request)

    def screen_of(self, example: Example) -> Screen:
        return Screen.of(example.meta, example.transcript)

    def finish(self, example: Example, response: str, generation: Generation) -> list[Example]:
        context = example.request.context if example.request is not None else {}
        screened = screen_pairs(parse_pairs(response), self.screen_of(example),
                                int(context.get("max_pairs", MAX_PAIRS_LIMIT)))
        return self.pair_examples(example, screened, generation)

    def pair_examples(self, example: Example, screened: Screened, generation: Generation,
                      task_of: Any = None, extra_drops: Mapping[str, int] | None = None) -> list[Example]:
        """One example per kept pair; ``task_of(pair)`` may route a pair to another task name."""
        out = []
        for i, pair in enumerate(screened.kept):
            task = task_of(pair) if task_of is not None else example.task
            messages = self.pair_messages(example, pair["q"], pair["a"])
            out.append(replace(
                example,
                id=stable_id(example.id, "pair", str(i)),
                task=task,
                instruction=pair["q"],
                response=pair["a"],
                messages=messages,
                generation=generation,
                quality=drop_quality(screened, extra_drops) if i == 0 else {},
                request=None,
            ))
        return out

    def pair_messages(self, example: Example, question: str, answer: str) -> list[Message]:
        return [user_turn(question), Message("assistant", [Part("text", answer)])]


@register_task
class ClosedEndedAcoustic(QATask):
    """Closed-ended questions about how the clip sounds (SIFT-50M closed_ended/acoustic_level)."""

    name = "closed_ended_acoustic"
    category = "closed_ended"
    sub = "acoustic_level"
    system_template = prompts_sift.CLOSED_ACOUSTIC_SYSTEM

    def check_clip(self, clip: Clip) -> None:
        if not acoustic_labels(clip, "en"):
            raise Reject("no_acoustic_labels", f"clip {clip.clip_id} has no acoustic labels to ask about")


@register_task
class ClosedEndedContent(QATask):
    """Closed-ended questions about what is said (SIFT-50M closed_ended/content_level)."""

    name = "closed_ended_content"
    category = "closed_ended"
    sub = "content_level"
    system_template = prompts_sift.CLOSED_CONTENT_SYSTEM

    def check_clip(self, clip: Clip) -> None:
        if not (clip.text or "").strip():
            raise Reject("empty_transcript", f"clip {clip.clip_id} has no transcript to ask about")


__all__ = ["ClosedEndedAcoustic", "ClosedEndedContent", "MAX_PAIRS_LIMIT", "QAOptions", "QATask"]
