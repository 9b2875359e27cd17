"""The task contract and registry: a task turns one clip (or a pair, see ``PairTask``) into
examples, or a reject; LLM tasks then turn the model's answer into final examples (``finish``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, ClassVar

from speechsift.errors import Reject
from speechsift.labels import i18n
from speechsift.llm.types import ChatRequest, SamplingParams
from speechsift.records import Clip, Example, Generation, Message, Part, stable_ids

DIRECT = Generation(backend="direct")  # provenance of targets taken from the corpus (never mutated)
# Provenance of targets written by a template in ``build`` (never mutated; backend "template",
# no model: a template never pretends to be one).
TEMPLATE = Generation(backend="template")


@dataclass(frozen=True, slots=True)
class TaskSettings:
    """What a task needs from the recipe to build its examples."""

    sampling: SamplingParams = SamplingParams()
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # task name -> its options
    voice: Any = None  # curate.voice_suitability (VoiceSuitabilityConfig): text tasks screen instructions
    models: Mapping[str, str | None] = field(default_factory=dict)  # LLM name (default, llms:) -> its model


class Task(ABC):
    """One task family. Subclasses set ``name`` and implement ``build``.

    ``needs_llm`` tasks attach a ``ChatRequest`` to the example and leave ``response`` empty; the
    generate stage fills it. Other tasks take their target straight from the corpus.
    """

    name: ClassVar[str]
    needs_llm: ClassVar[bool] = False
    # The records the task builds from (speechsift.sources.text.record_kind): "audio" (clips of
    # speech corpora), "text" (text instruction records, voiced or not), "spoken" (text records
    # that speech synthesis voiced). Records of other kinds are not the task's inputs.
    inputs: ClassVar[frozenset[str]] = frozenset({"audio"})
    # The target is audio (controllable generation: the clip's own audio), not text; the text a
    # backend wrote is then the instruction. Curation scores that (``written_text``) and skips the
    # response-text filters.
    audio_target: ClassVar[bool] = False
    # Whether the target follows from the clip alone: its transcript or answers, a template over its
    # labels or measurements, its own audio; not what a model wrote about it. Text dedup never calls
    # two such examples about different audio duplicates (``target_from_clip``).
    target_from_clip: ClassVar[bool] = False
    # Where the task's examples go in the SIFT-50M export layout: {split}/{category}/{sub}/{lang}/
    category: ClassVar[str] = "omni"
    sub: ClassVar[str | None] = None  # defaults to the task name

    def __init__(self) -> None:
        self.example_id = stable_ids(self.name)  # stable_id(name, clip ids..., variant), cheaper

    @abstractmethod
    def build(self, clip: Clip, settings: TaskSettings) -> Example | list[Example]:
        """The example(s) for ``clip``, or ``Reject`` when the clip cannot make one."""

    def finish(self, example: Example, response: str, generation: Generation) -> list[Example]:
        """The final example(s) from the model's cleaned answer (``<think>`` removed).

        The default keeps the answer as the assistant turn. Tasks whose answer holds several
        items (question/answer pairs as JSON lines) return one example per item, and raise
        ``Reject`` for an answer they cannot use (unparseable, leaking, contradicting the labels).
        """
        messages = [*example.messages, Message("assistant", [Part("text", response)])]
        return [replace(example, response=response, messages=messages, generation=generation, request=None)]

    # --- helpers for subclasses ---------------------------------------------------------------

    def example(
        self,
        clip: Clip,
        *,
        instruction: str,
        response: str | None,
        request: ChatRequest | None = None,
        variant: str = "0",
    ) -> Example:
        """The example for ``clip``: the user turn is the audio, then the instruction if any."""
        messages = [user_turn(instruction)]
        if response is not None:
            messages.append(Message("assistant", [Part("text", response)]))
        # Positional construction (this runs for every clip and task); meta is shared with the
        # clip, which no later stage changes.
        return Example(
            self.example_id(clip.clip_id, variant),
            self.name,
            [clip.clip_id],
            [clip.audio],
            instruction,
            response,
            messages,
            clip.source,
            clip.language,
            clip.meta,
            clip.speaker_id,
            clip.text,
            clip.features.get("duration_s"),
            "train",
            DIRECT if request is None else None,
            {},
            request,
        )


@lru_cache(maxsize=1024)
def user_turn(instruction: str) -> Message:
    """The user turn "audio, then the instruction": one shared object per instruction string.

    Shared across examples (records are never changed in place), because building it anew for
    every clip and task is a measurable part of preparing examples.
    """
    parts = [Part("audio", None, 0)]
    if instruction:
        parts.append(Part("text", instruction))
    return Message("user", parts)


class PerLanguage(dict):
    """``per_language[clip.language]``: what ``make`` gives for the language an example of such a
    clip is written in (``i18n.output_language``), worked out once per language value: this runs
    for every clip, and a run has a handful of language values."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, language: str | None) -> Any:
        value = self[language] = self.make(i18n.output_language(language))
        return value


def takes(task: Task, clip: Clip) -> bool:
    """Whether ``task`` builds from ``clip``, by the record's kind (``Task.inputs``)."""
    from speechsift.sources.text import record_kind

    kind = record_kind(clip)
    return kind in task.inputs or (kind == "spoken" and "text" in task.inputs)


def transcript_of(clip: Clip) -> str:
    """The clip's transcript, stripped and lowercased (the omni target form); rejects an empty one."""
    text = (clip.text or "").strip().lower()
    if not text:
        raise Reject("empty_transcript", f"clip {clip.clip_id} has no transcript")
    return text


_TASKS: dict[str, Task] = {}


def written_text(example: Example) -> str:
    """The text a backend (or the corpus) wrote for ``example``, which curation scores: the
    response, or the instruction when the target is audio."""
    return (example.instruction if is_audio_target(example) else example.response) or ""


def written_language(example: Example) -> str | None:
    """The language ``written_text`` is in: the clip's own for a target taken from the corpus (a
    transcript), else the language every task writes in, prompts and templates alike
    (``i18n.output_language``: the clip's language when it is one of en, de, fr, it, es, else
    English)."""
    generation = example.generation
    if generation is not None and generation.backend == "direct" and not is_audio_target(example):
        return example.language
    return i18n.output_language(example.language)


def is_audio_target(example: Example) -> bool:
    """Whether ``example``'s assistant turn is audio (``Task.audio_target``)."""
    task = _TASKS.get(example.task)
    return task is not None and task.audio_target


def target_from_clip(example: Example) -> bool:
    """Whether ``example``'s target follows from its clip(s) alone: its task says so
    (``Task.target_from_clip``), or its provenance does: taken from the corpus (backend
    ``direct``: a transcript, a text record's response) or written by a template (an LLM task
    answered from the labels, such as ``sit_ssp`` with ``llm.backend: template``)."""
    task = _TASKS.get(example.task)
    if task is not None and task.target_from_clip:
        return True
    generation = example.generation
    return generation is not None and generation.backend in ("direct", "template")


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task available to recipes under ``cls.name``."""
    _TASKS[cls.name] = cls()
    return cls


def get_task(name: str) -> Task:
    return _TASKS[name]


def task_names() -> list[str]:
    return sorted(_TASKS)


