"""``transcription``: audio, then "Transcribe:" (in the clip's language, ``prompts``); the target is
the transcript (REFERENCE.md §1)."""

from __future__ import annotations

from speechsift.records import Clip, Example
from speechsift.tasks.base import PerLanguage, Task, TaskSettings, register_task, transcript_of
from speechsift.tasks.prompts import TRANSCRIBE_INSTRUCTIONS


@register_task
class Transcription(Task):
    name = "transcription"
    target_from_clip = True  # the transcript

    def __init__(self) -> None:
        super().__init__()
        self.instructions = PerLanguage(TRANSCRIBE_INSTRUCTIONS.__getitem__)

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        return self.example(clip, instruction=self.instructions[clip.language], response=transcript_of(clip))
