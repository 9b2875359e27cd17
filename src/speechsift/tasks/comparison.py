"""SIFT-50M comparison questions (REFERENCE.md §2): two clips, one question about how they differ.

``PairTask`` is the contract of a task over two clips: ``build_pair(a, b, settings)`` returns the
example(s) for the pair (or raises ``Reject``); the engine forms the pairs (``tasks.pairing``) and
calls it. Its examples have two audios, and the user turn is audio 0, audio 1, then the question.

- ``comparison`` (LLM): the LLM reads both clips' metadata and what measurably differs
  (``render.pair``) and writes up to ``max_pairs`` comparative questions with free-form answers
  as JSON lines. ``finish`` screens them like the closed-ended family (``closed_ended``): a leak
  drops the pair; a contradiction rejects the answer (gender is checked only when both speakers
  share one; emotion is not checked, since two clips may differ in it).
- ``comparison_template`` (no LLM): which recording has the higher-pitched voice, the faster or
  the louder speech, from ``clip.features`` (``f0_median_hz``, ``speaking_rate``, ``relative_db``).
  A question is asked only when the difference reaches ``render.pair.MIN_DIFFERENCE``; a pair
  with no clear difference is refused (``no_clear_difference``). Whether the question asks for
  more or less ("faster"/"slower") is drawn from an RNG seeded with the pair's ids.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from speechsift.errors import ConfigError, Reject
from speechsift.labels import i18n
from speechsift.llm.types import ChatRequest
from speechsift.records import Clip, Example, Message, Part
from speechsift.render.pair import MEASURES, relation, render_pair_json
from speechsift.render.sift_json import clip_duration
from speechsift.tasks import prompts_sift
from speechsift.tasks.base import DIRECT, TEMPLATE, Task, TaskSettings, register_task
from speechsift.tasks.closed_ended import QATask
from speechsift.tasks.options import Configurable
from speechsift.tasks.pairing import STRATEGIES, seeded_rng
from speechsift.tasks.screen import Screen, words_of


@lru_cache(maxsize=1024)
def pair_user_turn(instruction: str) -> Message:
    """The user turn "audio 0, audio 1, then the instruction" (one shared object per instruction)."""
    parts = [Part("audio", None, 0), Part("audio", None, 1)]
    if instruction:
        parts.append(Part("text", instruction))
    return Message("user", parts)


class PairTask(Configurable, Task):
    """A task over two clips. Subclasses implement ``build_pair``; ``build`` (one clip) is not theirs."""

    # Pairing strategies this task makes sense for (tasks.pairing.STRATEGIES); the engine's choice.
    pair_strategies: ClassVar[tuple[str, ...]] = tuple(STRATEGIES)

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        raise ConfigError(f"task {self.name!r} compares two clips: the engine forms pairs and calls build_pair(a, b, settings)")

    @abstractmethod
    def build_pair(self, a: Clip, b: Clip, settings: TaskSettings) -> Example | list[Example]:
        """The example(s) for the pair (``a`` is audio 0, ``b`` audio 1), or ``Reject``."""

    def pair_example(self, a: Clip, b: Clip, *, instruction: str, response: str | None,
                     request: ChatRequest | None = None, variant: str = "0") -> Example:
        messages = [pair_user_turn(instruction)]
        if response is not None:
            messages.append(Message("assistant", [Part("text", response)]))
        durations = [clip_duration(a), clip_duration(b)]
        return Example(
            id=self.example_id(a.clip_id, b.clip_id, variant),
            task=self.name,
            clip_ids=[a.clip_id, b.clip_id],
            audios=[a.audio, b.audio],
            instruction=instruction,
            response=response,
            messages=messages,
            source=a.source if a.source == b.source else f"{a.source}+{b.source}",
            language=a.language,
            meta={},
            speaker_id=a.speaker_id if a.speaker_id == b.speaker_id else None,
            transcript=a.text if a.text == b.text else None,
            duration_s=sum(durations) if None not in durations else None,  # type: ignore[arg-type]
            generation=DIRECT if request is None else None,
            request=request,
            transcripts=[a.text, b.text],
        )


def _shared_gender(a: Clip, b: Clip) -> str | None:
    gender = a.meta.get("gender")
    return gender if gender and gender == b.meta.get("gender") else None


@register_task
class Comparison(PairTask, QATask):
    """Comparative questions with free-form answers, written by the LLM (closed_ended/comparison)."""

    name = "comparison"
    category = "closed_ended"
    sub = "comparison"
    system_template = prompts_sift.COMPARISON_SYSTEM

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        return PairTask.build(self, clip, settings)

    def build_pair(self, a: Clip, b: Clip, settings: TaskSettings) -> Example:
        for clip in (a, b):
            if not clip.meta and not (clip.text or "").strip():
                raise Reject("empty_context", f"clip {clip.clip_id} has neither labels nor a transcript to compare")
        language = i18n.output_language(a.language)
        screen = Screen(_shared_gender(a, b), None)
        request = self.request_for(a, settings, render_pair_json(a, b, language), language, screen,
                                   texts=[a.text or "", b.text or ""])
        return self.pair_example(a, b, instruction="", response=None, request=request)

    def screen_of(self, example: Example) -> Screen:
        context = example.request.context if example.request is not None else {}
        gender = (context.get("screen") or {}).get("gender")
        words = frozenset(w for text in context.get("texts", []) for w in words_of(text))
        return Screen(gender, None, words)

    def pair_messages(self, example: Example, question: str, answer: str) -> list[Message]:
        return [pair_user_turn(question), Message("assistant", [Part("text", answer)])]


@dataclass(frozen=True)
class ComparisonTemplateOptions:
    """Options of ``comparison_template``.

    Attributes:
        max_questions: questions per pair, one per measure with a clear difference (1-3).
    """

    max_questions: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.max_questions <= len(MEASURES):
            raise ValueError(f"max_questions must be 1 to {len(MEASURES)}, got {self.max_questions}")


@register_task
class ComparisonTemplate(PairTask):
    """Which recording is higher-pitched, faster or louder, from the measurements (no LLM)."""

    name = "comparison_template"
    category = "closed_ended"
    sub = "comparison"
    checks_language = False
    target_from_clip = True  # the answer follows from the two clips' measurements
    Options = ComparisonTemplateOptions

    def build_pair(self, a: Clip, b: Clip, settings: TaskSettings) -> list[Example]:
        opts = self.options(settings)
        language = i18n.output_language(a.language)
        rng = seeded_rng(self.name, a.clip_id, b.clip_id)
        questions = prompts_sift.COMPARISON_QUESTIONS[language]
        answers = prompts_sift.COMPARISON_ANSWERS[language]
        examples: list[Example] = []
        measured = 0
        for measure in MEASURES:
            rel = relation(measure, a, b)
            if rel is None:
                continue
            measured += 1
            direction = "more" if rng.random() < 0.5 else "less"
            if rel == "similar" or len(examples) >= opts.max_questions:
                continue
            winner = rel if direction == "more" else ("second" if rel == "first" else "first")
            example = self.pair_example(a, b, instruction=questions[measure.key][direction],
                                        response=answers[winner], variant=measure.key)
            example.generation = TEMPLATE
            examples.append(example)
        if not examples:
            if not measured:
                raise Reject("not_measured", f"clips {a.clip_id} and {b.clip_id} share no measured pitch, rate or level")
            raise Reject("no_clear_difference",
                         f"clips {a.clip_id} and {b.clip_id} differ by less than the minimum in every measure")
        return examples


__all__ = ["Comparison", "ComparisonTemplate", "PairTask", "pair_user_turn"]
