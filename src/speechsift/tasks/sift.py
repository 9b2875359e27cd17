"""The three SIFT modes of the omni recipe (REFERENCE.md §1), each one LLM call per clip.

- ``sift_s``: the LLM hears only the words and replies as a friend; audio-only user turn.
- ``sift_ssp``: the LLM reads the audio context and replies with empathy; audio-only user turn.
- ``sit_ssp``: the LLM describes the clip in one "Sounds like" sentence; the user turn is the audio
  and "Describe all information you can hear:".
"""

from __future__ import annotations

from speechsift.errors import Reject
from speechsift.llm.types import ChatRequest
from speechsift.records import Clip, Example
from speechsift.render import render_audio_context
from speechsift.tasks import prompts
from speechsift.tasks.base import Task, TaskSettings, register_task, transcript_of


class _SiftTask(Task):
    needs_llm = True
    system_prompt: str
    instruction: str = ""

    def llm_user_message(self, clip: Clip) -> str:
        return render_audio_context(clip.meta, clip.text)

    def __init__(self) -> None:
        super().__init__()
        # One shared system message per task (requests are never changed in place).
        self.system_message = {"role": "system", "content": self.system_prompt}

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        if not clip.meta and not (clip.text or "").strip():
            raise Reject("empty_context", f"clip {clip.clip_id} has neither labels nor a transcript to write from")
        request = ChatRequest(
            [self.system_message, {"role": "user", "content": self.llm_user_message(clip)}],
            settings.sampling,
            self.name,
            {"meta": clip.meta, "text": clip.text},
        )
        return self.example(clip, instruction=self.instruction, response=None, request=request)


@register_task
class SiftS(_SiftTask):
    name = "sift_s"
    system_prompt = prompts.SIFT_S_SYSTEM

    def llm_user_message(self, clip: Clip) -> str:
        return transcript_of(clip)


@register_task
class SiftSSP(_SiftTask):
    name = "sift_ssp"
    system_prompt = prompts.SIFT_SSP_SYSTEM


@register_task
class SitSSP(_SiftTask):
    name = "sit_ssp"
    system_prompt = prompts.SIT_SSP_SYSTEM
    instruction = prompts.DESCRIBE_INSTRUCTION
