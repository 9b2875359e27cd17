"""``OUT/exports/messages/``: the LLaMA-Factory / ms-swift schema (REFERENCE.md §6).

``{"messages": [{"role", "content"}], "audios": [path, ...]}`` with one ``<audio>`` placeholder in
the text per audio, in order, and a ``dataset_info.json`` registering one dataset per task (each a
folder of JSONL parts under ``{split}/{task}/``, which LLaMA-Factory loads as one dataset).
Spoken responses (``speak_response``) keep only their text here (``text_replies``); their audio is
in the Parquet and SIFT JSONL exports.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any

from speechsift.engine.layout import OutputLayout, atomic_write_text
from speechsift.export.audio_files import audio_file
from speechsift.export.jsonl import write_jsonl
from speechsift.records import AudioRef, Example, Message, Part

AUDIO_PLACEHOLDER = "<audio>"


def placeholder_text(message: Message) -> str:
    """The message's text with ``<audio>`` where each audio part stands."""
    return "".join(AUDIO_PLACEHOLDER if p.type == "audio" else (p.text or "") for p in message.content)


def messages_record(example: Example, audio_paths: list[str]) -> dict[str, Any]:
    return {
        "id": example.id,
        "messages": [{"role": m.role, "content": placeholder_text(m)} for m in example.messages],
        "audios": audio_paths,
    }


def text_replies(example: Example) -> Example:
    """``example`` without the audio parts of assistant turns that also hold text (spoken responses,
    ``speak_response``): the format has no place for assistant audio, and trainers would train its
    placeholder as text. Audios are renumbered in the order their parts remain."""
    if not any(m.role == "assistant" and len(m.content) > 1 for m in example.messages):
        return example
    refs: list[AudioRef] = []
    messages = []
    for message in example.messages:
        spoken_reply = message.role == "assistant" and any(p.type == "text" for p in message.content)
        content = []
        for part in message.content:
            if part.type == "audio":
                if spoken_reply:
                    continue
                refs.append(example.audios[part.audio or 0])
                part = Part.of_audio(len(refs) - 1)
            content.append(part)
        messages.append(Message(message.role, content))
    return replace(example, messages=messages, audios=refs)


def write_messages_part(examples: list[Example], layout: OutputLayout, shard: int) -> list[Path]:
    groups: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for example in map(text_replies, examples):
        paths = [audio_file(ref, layout) for ref in example.audios]
        path = layout.exports / "messages" / example.split / example.task / f"{layout.part_name(shard)}.jsonl"
        groups[path].append(messages_record(example, paths))
    for path, records in groups.items():
        write_jsonl(path, records)
    return list(groups)


def dataset_info(folders: list[tuple[str, str]], prefix: str) -> dict[str, Any]:
    """LLaMA-Factory's registration of each (split, task) folder as a sharegpt-format dataset."""
    return {
        f"{prefix}_{task}" if split == "train" else f"{prefix}_{task}_{split}": {
            "file_name": f"{split}/{task}",
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "audios": "audios"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "system_tag": "system",
            },
        }
        for split, task in folders
    }


def write_dataset_info(layout: OutputLayout, folders: list[tuple[str, str]], prefix: str) -> Path:
    path = layout.exports / "messages" / "dataset_info.json"
    atomic_write_text(path, json.dumps(dataset_info(folders, prefix), indent=2) + "\n")
    return path
