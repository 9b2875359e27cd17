"""Examples for the curation tests, built the way the pipeline builds them: a Clip (tests/factories
make_clip), the task's ``build``, and for LLM tasks the task's ``finish`` with the response."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from factories import make_clip

from speechsift.records import Example, Generation
from speechsift.tasks import TaskSettings, get_task

LLM = Generation(backend="openai", model="test-model")


def make_example(response: str | None, *, task: str = "sit_ssp", meta: dict[str, str] | None = None,
                 text: str | None = "i got the job", language: str | None = "en", clip_id: str = "src/c1",
                 **changes: Any) -> Example:
    """An example of ``task`` for a clip with ``meta`` and transcript ``text``, answered ``response``.

    Corpus tasks (transcription) take ``response`` as their target instead of the transcript when
    it is given. ``changes`` are applied last (``dataclasses.replace``), e.g. ``audios=[]``.
    """
    clip = make_clip(clip_id, text=text, meta=meta or {})
    clip.language = language
    built = get_task(task).build(clip, TaskSettings())
    example = built[0] if isinstance(built, list) else built
    if example.request is not None:
        [example] = get_task(task).finish(example, response, LLM)
    elif response is not None:
        example = replace(example, response=response)
    return replace(example, **changes) if changes else example


MALE = {"gender": "male", "emotion": "happy", "age": "young adult", "pace": "fast"}
FEMALE = {"gender": "female", "emotion": "happy", "age": "young adult", "pace": "fast"}
