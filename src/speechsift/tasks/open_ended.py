"""SIFT-50M open-ended questions (REFERENCE.md §2): answers inferred from the metadata, not read off it.

``open_ended`` (LLM): the LLM reads the clip's metadata JSON and writes up to ``max_pairs``
questions whose answers need reasoning over several facts and what is said (the situation, the
speaker's attitude, how a listener might respond), with answers of two to four sentences, as JSON
lines ``{"q", "a"}``. ``finish`` and its rejects are those of the closed-ended family
(``closed_ended.QATask``: ``unparseable_json``, ``no_pairs``, ``metadata_leak`` drops the pair,
``contradicts_labels`` rejects the answer).

SIFT-50M files open-ended examples under ``open_ended/`` with no sub-folder; ``sub = ""`` says so.
"""

from __future__ import annotations

from speechsift.errors import Reject
from speechsift.records import Clip
from speechsift.render.sift_json import acoustic_labels
from speechsift.tasks import prompts_sift
from speechsift.tasks.base import register_task
from speechsift.tasks.closed_ended import QATask


@register_task
class OpenEnded(QATask):
    name = "open_ended"
    category = "open_ended"
    sub = ""  # no sub-folder in the SIFT-50M layout
    system_template = prompts_sift.OPEN_ENDED_SYSTEM

    def check_clip(self, clip: Clip) -> None:
        # Inference needs something to reason from: the words, or at least two things about the voice.
        if not (clip.text or "").strip() and len(acoustic_labels(clip, "en")) < 2:
            raise Reject("too_little_context",
                         f"clip {clip.clip_id} has no transcript and fewer than two labels to reason from")
