"""``transcription``: audio, then "Transcribe:"; the target is the transcript (REFERENCE.md §1)."""

from __future__ import annotations

from speechsift.records import Clip, Example
from speechsift.tasks.base import Task, TaskSettings, register_task, transcript_of
from speechsift.tasks.prompts import TRANSCRIBE_INSTRUCTION


@register_task
class Transcription(Task):
    name = "transcription"
    target_from_clip = True  # the transcript

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        return self.example(clip, instruction=TRANSCRIBE_INSTRUCTION, response=transcript_of(clip))
