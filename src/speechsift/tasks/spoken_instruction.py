"""``spoken_instruction``: text instruction data as speech in, text out.

Built from text records (``kind: text``) that the ``tts`` stage voiced: the user turn is the
spoken instruction (``audios[0]``), the target is the row's response. An instruction's context
(``input``/``context``) follows the audio as text, or as a second audio with the option
``context: voiced``. A conversation keeps its turns: every user turn is its own audio, system and
assistant turns stay text, and the target is the last assistant turn. Rows without a response
(or conversations ending on a user turn) are rejected ``missing_response``.

``speak_response: true`` on the task also voices the target (``engine.speech.SpeakResponses``).
"""

from __future__ import annotations

from dataclasses import dataclass

from speechsift.errors import Reject
from speechsift.records import AudioRef, Clip, Example, Message, Part
from speechsift.sources.text import TextRecord, spoken_turns
from speechsift.tasks.base import DIRECT, Task, TaskSettings, register_task
from speechsift.tasks.options import Configurable


@dataclass(frozen=True)
class SpokenInstructionOptions:
    """Options of ``spoken_instruction``.

    Attributes:
        context: an instruction's context stays ``text`` after the spoken instruction, or is
            ``voiced`` too (a second audio).
    """

    context: str = "text"

    def __post_init__(self) -> None:
        if self.context not in ("text", "voiced"):
            raise ValueError(f"context is text or voiced, got {self.context!r}")


@register_task
class SpokenInstruction(Configurable, Task):
    name = "spoken_instruction"
    category = "spoken_instruction"
    sub = ""  # {split}/spoken_instruction/{lang}/ in the SIFT layout
    inputs = frozenset({"spoken"})
    Options = SpokenInstructionOptions

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        record = TextRecord.of(clip)
        if record.response is None:
            raise Reject("missing_response", f"{clip.clip_id} has no response to train on"
                         + (" (the conversation ends on a user turn)" if record.messages else ""))
        turns, context = spoken_turns(clip)
        audios: list[AudioRef] = list(turns)
        instruction = ""
        if record.messages:
            spoken = iter(range(len(turns)))
            messages = [Message(t["role"], [Part.of_audio(next(spoken)) if t["role"] == "user" else Part.of_text(t["content"])])
                        for t in record.messages]
        else:
            parts = [Part.of_audio(0)]
            if record.input and context is not None and self.options(settings).context == "voiced":
                parts.append(Part.of_audio(len(audios)))
                audios.append(context)
            elif record.input:
                instruction = record.input
                parts.append(Part.of_text(record.input))
            messages = [Message("user", parts), Message("assistant", [Part.of_text(record.response)])]
        return Example(self.example_id(clip.clip_id), self.name, [clip.clip_id], audios, instruction, record.response,
                       messages, clip.source, clip.language, clip.meta, clip.speaker_id, clip.text,
                       clip.features.get("duration_s"), generation=DIRECT)


__all__ = ["SpokenInstruction", "SpokenInstructionOptions"]
