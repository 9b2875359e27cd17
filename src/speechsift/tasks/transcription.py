"""``transcription``: audio, then "Transcribe:" (in the clip's language, ``prompts``); the target is
the transcript (REFERENCE.md §1)."""

from __future__ import annotations

from speechsift.records import Clip, Example
from speechsift.tasks.base import Task, TaskSettings, in_language, register_task, transcript_of
from speechsift.tasks.prompts import TRANSCRIBE_INSTRUCTIONS


@register_task
class Transcription(Task):
    name = "transcription"
    target_from_clip = True  # the transcript

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        return self.example(clip, instruction=in_language(TRANSCRIBE_INSTRUCTIONS, clip.language),
                            response=transcript_of(clip))
