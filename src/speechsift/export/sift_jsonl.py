"""``OUT/exports/sift_jsonl/``: the SIFT-50M record schema and layout (REFERENCE.md §2).

``{"id", "messages": [{"role", "content": [{"text", "audio_path"}]}], "task", "data_source"}``
with ``data_source = {source}_{language}``, one file per shard under
``{split}/{category}/{sub}/{lang}/`` (the omni tasks: ``{split}/omni/{task}/{lang}/``). The held-out
split's folder is ``EvalSIFT``, as in SIFT-50M's configs. Every content part carries both keys,
one of them null, so that every ``datasets`` version reads all rows (text, audio, two audios,
audio answers) with one schema. Audio paths are relative to ``OUT/exports/sift_jsonl/`` for files
inside OUT.
"""

from __future__ import annotations

from typing import Any

from speechsift.export.base import register_exporter
from speechsift.export.jsonl import JsonlExport
from speechsift.records import Example
from speechsift.tasks import get_task

# Our split names -> SIFT-50M's folder names (its dataset configs: train, dev, EvalSIFT)
SIFT_SPLITS = {"train": "train", "dev": "dev", "eval": "EvalSIFT"}


@register_exporter
class SiftJsonlExport(JsonlExport):
    name = "sift_jsonl"
    trainers = "SIFT-50M's layout"

    def record(self, example: Example, audio_paths: list[str]) -> dict[str, Any]:
        messages = []
        for message in example.messages:
            content = [
                {"text": None, "audio_path": audio_paths[part.audio or 0]} if part.type == "audio"
                else {"text": part.text or "", "audio_path": None}
                for part in message.content
            ]
            messages.append({"role": message.role, "content": content})
        return {
            "id": example.id,
            "messages": messages,
            "task": example.task,
            "data_source": f"{example.source}_{example.language or 'und'}",
        }

    def folder(self, example: Example) -> tuple[str, ...]:
        """``{split}/{category}/{sub}/{lang}``, the SIFT-50M layout (REFERENCE.md §2)."""
        task = get_task(example.task)
        sub = task.sub if task.sub is not None else task.name  # "" means no sub-folder (open_ended)
        return (SIFT_SPLITS.get(example.split, example.split), task.category, sub, example.language or "und")
