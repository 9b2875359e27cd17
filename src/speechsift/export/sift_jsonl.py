"""``OUT/exports/sift_jsonl/``: the SIFT-50M record schema (REFERENCE.md §2).

``{"id", "messages": [{"role", "content": [{"text"} | {"audio_path"}]}], "task", "data_source"}``
with ``data_source = {source}_{language}``, one file per shard under
``{split}/{category}/{sub}/{lang}/`` (the omni tasks: ``{split}/omni/{task}/{lang}/``).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from speechsift.engine.layout import OutputLayout
from speechsift.export.audio_files import audio_file
from speechsift.export.jsonl import write_jsonl
from speechsift.records import Example
from speechsift.tasks import get_task


def sift_record(example: Example, audio_paths: list[str]) -> dict[str, Any]:
    messages = []
    for message in example.messages:
        content: list[dict[str, str]] = []
        for part in message.content:
            if part.type == "audio":
                content.append({"audio_path": audio_paths[part.audio or 0]})
            else:
                content.append({"text": part.text or ""})
        messages.append({"role": message.role, "content": content})
    return {
        "id": example.id,
        "messages": messages,
        "task": example.task,
        "data_source": f"{example.source}_{example.language or 'und'}",
    }


def sift_folder(example: Example) -> Path:
    """``{split}/{category}/{sub}/{lang}``, the SIFT-50M layout (REFERENCE.md §2)."""
    task = get_task(example.task)
    sub = task.sub if task.sub is not None else task.name  # "" means no sub-folder (open_ended)
    return Path(example.split, task.category, sub, example.language or "und")


def write_sift_jsonl_part(examples: list[Example], layout: OutputLayout, shard: int) -> list[Path]:
    groups: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for example in examples:
        folder = layout.exports / "sift_jsonl" / sift_folder(example)
        paths = [audio_file(ref, layout) for ref in example.audios]
        groups[folder / f"{layout.part_name(shard)}.jsonl"].append(sift_record(example, paths))
    for path, records in groups.items():
        write_jsonl(path, records)
    return list(groups)
