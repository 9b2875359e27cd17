"""Task families: each expands a clip into training examples. Importing this package registers them."""

from speechsift.tasks import (  # noqa: F401  (registration)  # noqa: F401
    answer_extraction,
    closed_ended,
    closed_ended_template,
    comparison,
    constrained,
    controllable,
    desta,
    open_ended,
    sift,
    speechworthy,
    spoken_instruction,
    synthesis,
    transcription,
    word_align,
)
from speechsift.tasks.base import Task, TaskSettings, get_task, register_task, task_names

__all__ = ["Task", "TaskSettings", "get_task", "register_task", "task_names"]
