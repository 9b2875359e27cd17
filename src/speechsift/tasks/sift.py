"""The three SIFT modes of the omni recipe (REFERENCE.md §1), each one LLM call per clip.

- ``sift_s``: the LLM hears only the words and replies as a friend; audio-only user turn.
- ``sift_ssp``: the LLM reads the audio context and replies with empathy; audio-only user turn.
- ``sit_ssp``: the LLM describes the clip in one "Sounds like" sentence; the user turn is the audio
  and "Describe all information you can hear:".

Each is written in the clip's language (``prompts``' language policy): the system prompt ends with
a line asking for it, the ``sit_ssp`` instruction is in it, and the template backend writes
``sit_ssp`` in it (``llm.template``).
"""

from __future__ import annotations

from speechsift.errors import Reject
from speechsift.labels import i18n
from speechsift.llm.template import PHRASINGS
from speechsift.llm.types import ChatRequest
from speechsift.records import Clip, Example
from speechsift.render import render_audio_context
from speechsift.tasks import prompts
from speechsift.tasks.base import PerLanguage, Task, TaskSettings, register_task, transcript_of
from speechsift.tasks.prompts_sift import fill


class _SiftTask(Task):
    needs_llm = True
    system_prompt: str
    language_line: str = prompts.REPLY_LANGUAGE_LINE
    instructions: dict[str, str] | None = None  # per language; None: an audio-only user turn

    def llm_user_message(self, clip: Clip) -> str:
        return render_audio_context(clip.meta, clip.text)

    def __init__(self) -> None:
        super().__init__()
        # Per clip language: the output language, one shared system message (requests are never
        # changed in place) and the instruction.
        self.per_language = PerLanguage(self._in_language)

    def _in_language(self, language: str) -> tuple[str, dict[str, str], str]:
        line = fill(self.language_line, language=i18n.LANGUAGE_NAMES["en"][language],
                    opening=PHRASINGS[language].opening)
        system = {"role": "system", "content": f"{self.system_prompt}\n\n{line}"}
        return language, system, self.instructions[language] if self.instructions else ""

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        if not clip.meta and not (clip.text or "").strip():
            raise Reject("empty_context", f"clip {clip.clip_id} has neither labels nor a transcript to write from")
        language, system, instruction = self.per_language[clip.language]
        request = ChatRequest(
            [system, {"role": "user", "content": self.llm_user_message(clip)}],
            settings.sampling,
            self.name,
            {"meta": clip.meta, "text": clip.text, "language": language},
        )
        return self.example(clip, instruction=instruction, response=None, request=request)


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
    language_line = prompts.SIT_SSP_LANGUAGE_LINE
    instructions = prompts.DESCRIBE_INSTRUCTIONS
