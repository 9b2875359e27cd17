"""``answer_extraction``: a spoken question (audio only); the target is its first answer, lowercased.

HeySQuAD-style: the clip's ``extra["answers"]`` lists the accepted answers (REFERENCE.md §1).
"""

from __future__ import annotations

from speechsift.errors import Reject
from speechsift.records import Clip, Example
from speechsift.tasks.base import Task, TaskSettings, register_task


def first_answer(clip: Clip) -> str:
    for answer in clip.extra.get("answers") or []:
        text = str(answer).strip().lower()
        if text:
            return text
    raise Reject("no_answer", f"clip {clip.clip_id} has no answer to extract")


@register_task
class AnswerExtraction(Task):
    name = "answer_extraction"
    target_from_clip = True  # the corpus's answer

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        return self.example(clip, instruction="", response=first_answer(clip))
