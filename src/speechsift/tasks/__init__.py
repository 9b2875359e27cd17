"""Task families: each expands a clip into training examples. Importing this package registers them."""

from speechsift.tasks import answer_extraction, sift, transcription  # noqa: F401  (registration)
from speechsift.tasks.base import Task, TaskSettings, get_task, register_task, task_names

__all__ = ["Task", "TaskSettings", "get_task", "register_task", "task_names"]
