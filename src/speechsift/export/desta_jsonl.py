"""``OUT/exports/desta_jsonl/``: the DeSTA2.5 record layout (REFERENCE.md §3, §6).

One JSON object per example, as DeSTA2.5-Audio's trainer reads it (its data module gathers the
audios of every message and requires one ``<|AUDIO|>`` per audio in the chat text)::

    {"id", "dataset", "seed_description", "prompt", "response",
     "messages": [{"role": "user", "content": "<|AUDIO|>\\nWhat can you hear from the audio?",
                   "audios": [{"audio": "/abs/path.flac", "text": "the transcript"}]}],
     "audios": [{"audio": "/abs/path.flac", "text": "the transcript"}]}

``messages`` holds the input turns only (DeSTA keeps the target in ``response``); each audio part
of a turn becomes ``<|AUDIO|>`` and the turn's parts are joined with newlines. ``audios`` is also
given at the top level, for readers that look there. ``text`` is the clip's transcript (a single
space when unknown, as DeSTA does). ``dataset`` is the source; ``seed_description`` the text the
LLM answered from (``desta`` examples; empty for other tasks); ``prompt`` the instruction.

DeSTA's format has no audio target: examples whose answer is audio (controllable generation) are
not written (``exportable``). Files: ``{split}/{task}/part-NNNNN.jsonl``, one per shard.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from speechsift.engine.layout import OutputLayout
from speechsift.export.audio_files import audio_file
from speechsift.export.jsonl import write_jsonl
from speechsift.records import Example, Message
from speechsift.tasks.desta import seed_description

AUDIO_LOCATOR = "<|AUDIO|>"
_LOCATOR_STANDIN = "<AUDIO>"  # a literal locator inside corpus text would add an audio that is not there
NO_TRANSCRIPT = " "


def exportable(example: Example) -> bool:
    """True when the example has a text target (DeSTA records cannot hold an audio target)."""
    if not isinstance(example.response, str) or not example.response.strip():
        return False
    return not any(p.type == "audio" for m in example.messages if m.role == "assistant" for p in m.content)


def _transcripts(example: Example) -> list[str]:
    """The transcript of each audio: the example's own when it has one clip, or when its clips
    share one text (same-text pairs); a space otherwise."""
    text = (example.transcript or "").strip() or NO_TRANSCRIPT
    return [text] * len(example.audios)


def _turn(message: Message, audios: list[dict[str, str]]) -> dict[str, Any]:
    pieces: list[str] = []
    used: list[dict[str, str]] = []
    for part in message.content:
        if part.type == "audio":
            pieces.append(AUDIO_LOCATOR)
            used.append(audios[part.audio or 0])
        elif part.text:
            pieces.append(part.text.replace(AUDIO_LOCATOR, _LOCATOR_STANDIN))
    turn: dict[str, Any] = {"role": message.role, "content": "\n".join(pieces)}
    if used:
        turn["audios"] = used
    return turn


def desta_record(example: Example, audio_paths: list[str]) -> dict[str, Any]:
    audios = [{"audio": path, "text": text} for path, text in zip(audio_paths, _transcripts(example))]
    return {
        "id": example.id,
        "dataset": example.source,
        "seed_description": seed_description(example) or "",
        "prompt": example.instruction,
        "response": example.response,
        "messages": [_turn(m, audios) for m in example.messages if m.role != "assistant"],
        "audios": audios,
    }


def write_desta_jsonl_part(examples: list[Example], layout: OutputLayout, shard: int) -> list[Path]:
    """Write one shard's examples (those ``exportable``); returns the files written."""
    groups: dict[Path, list[dict[str, Any]]] = defaultdict(list)
    for example in examples:
        if not exportable(example):
            continue
        paths = [audio_file(ref, layout) for ref in example.audios]
        path = layout.exports / "desta_jsonl" / example.split / example.task / f"{layout.part_name(shard)}.jsonl"
        groups[path].append(desta_record(example, paths))
    for path, records in groups.items():
        write_jsonl(path, records)
    return list(groups)


__all__ = ["AUDIO_LOCATOR", "desta_record", "exportable", "write_desta_jsonl_part"]
