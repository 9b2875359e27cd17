"""The task contract and registry: a task turns one clip into one example (or a reject)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from speechsift.errors import Reject
from speechsift.llm.types import ChatRequest, SamplingParams
from speechsift.records import Clip, Example, Generation, Message, Part, stable_id


@dataclass(frozen=True, slots=True)
class TaskSettings:
    """What a task needs from the recipe to build its examples."""

    sampling: SamplingParams = SamplingParams()


class Task(ABC):
    """One task family. Subclasses set ``name`` and implement ``build``.

    ``needs_llm`` tasks attach a ``ChatRequest`` to the example and leave ``response`` empty; the
    generate stage fills it. Other tasks take their target straight from the corpus.
    """

    name: ClassVar[str]
    needs_llm: ClassVar[bool] = False

    @abstractmethod
    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        """The example for ``clip``, or ``Reject`` when the clip cannot make one."""

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
        user_parts = [Part.of_audio(0)]
        if instruction:
            user_parts.append(Part.of_text(instruction))
        messages = [Message("user", user_parts)]
        if response is not None:
            messages.append(Message("assistant", [Part.of_text(response)]))
        return Example(
            id=stable_id(self.name, clip.clip_id, variant),
            task=self.name,
            clip_ids=[clip.clip_id],
            audios=[clip.audio],
            instruction=instruction,
            response=response,
            messages=messages,
            source=clip.source,
            language=clip.language,
            meta=dict(clip.meta),
            speaker_id=clip.speaker_id,
            transcript=clip.text,
            duration_s=clip.features.get("duration_s"),
            generation=Generation(backend="direct") if request is None else None,
            request=request,
        )


def transcript_of(clip: Clip) -> str:
    """The clip's transcript, stripped and lowercased (the omni target form); rejects an empty one."""
    text = (clip.text or "").strip().lower()
    if not text:
        raise Reject("empty_transcript", f"clip {clip.clip_id} has no transcript")
    return text


_TASKS: dict[str, Task] = {}


def register_task(cls: type[Task]) -> type[Task]:
    """Class decorator: make a task available to recipes under ``cls.name``."""
    _TASKS[cls.name] = cls()
    return cls


def get_task(name: str) -> Task:
    return _TASKS[name]


def task_names() -> list[str]:
    return sorted(_TASKS)


