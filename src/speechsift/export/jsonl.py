"""The JSONL exports' shared plumbing: ``JsonlExport`` groups a shard's examples into part files,
resolves their audio paths, counts what it wrote and what it left out (and why).

An export implements ``record`` (one example as the trainer reads it), and where it needs to,
``prepare`` (the example as the format can hold it, e.g. ``text_replies``), ``folder`` (where the
example's part file goes) and ``leaves_out`` (a reason code for an example its trainer cannot
train on, explained in ``reasons``). Audio paths are relative to the export's
root, ``OUT/exports/<name>/``, for files inside OUT (``audio_files.AudioPaths``).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from speechsift.export.audio_files import AudioPaths
from speechsift.export.base import Exporter
from speechsift.layout import OutputLayout
from speechsift.records import AudioRef, Example, Message, Part
from speechsift.storage import OutPath, Storage


def write_jsonl(storage: Storage, path: OutPath, records: Iterable[dict[str, Any]]) -> None:
    """The records as one JSONL file of OUT, written atomically."""
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    storage.write_text(path, "".join(line + "\n" for line in lines))


def has_audio_target(example: Example) -> bool:
    """True when an assistant turn holds audio: after ``text_replies``, an answer that is only audio
    (controllable generation)."""
    return any(p.type == "audio" for m in example.messages if m.role == "assistant" for p in m.content)


def text_replies(example: Example) -> Example:
    """``example`` without the audio parts of assistant turns that also hold text (spoken responses,
    ``speak_response``), for formats with no place for assistant audio: trainers would train its
    placeholder as text. Audios are renumbered in the order their parts remain."""
    if not any(m.role == "assistant" and len(m.content) > 1 for m in example.messages):
        return example
    transcripts = example.audio_transcripts()
    refs: list[AudioRef] = []
    kept: list[str | None] = []
    messages = []
    for message in example.messages:
        spoken_reply = message.role == "assistant" and any(p.type == "text" for p in message.content)
        content = []
        for part in message.content:
            if part.type == "audio":
                if spoken_reply:
                    continue
                refs.append(example.audios[part.audio or 0])
                kept.append(transcripts[part.audio or 0])
                part = Part.of_audio(len(refs) - 1)
            content.append(part)
        messages.append(Message(message.role, content))
    return replace(example, messages=messages, audios=refs, transcripts=kept)


@dataclass
class ExportCounts:
    """What one export wrote (rows per split and task) and left out (rows per task and reason)."""

    rows: Counter = field(default_factory=Counter)  # (split, task) -> rows written
    left_out: Counter = field(default_factory=Counter)  # (task, reason) -> rows not written

    def to_dict(self) -> dict[str, Any]:
        left_out: dict[str, dict[str, int]] = defaultdict(dict)
        for (task, reason), n in sorted(self.left_out.items()):
            left_out[task][reason] = n
        return {
            "rows": sum(self.rows.values()),
            "splits": {f"{task}/{split}": n for (split, task), n in sorted(self.rows.items())},
            "left_out": dict(left_out),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExportCounts":
        counts = cls()
        for key, n in data.get("splits", {}).items():
            task, _, split = key.rpartition("/")
            counts.rows[(split, task)] = n
        for task, reasons in data.get("left_out", {}).items():
            for reason, n in reasons.items():
                counts.left_out[(task, reason)] = n
        return counts


class JsonlExport(Exporter, ABC):
    """One JSONL export under ``OUT/exports/<name>/``: one file per shard and folder; ``counts``
    says what it wrote and left out."""

    name: ClassVar[str]  # the format's name in ``output.formats`` and its folder
    trainers: ClassVar[str]  # who reads it, for the card
    # reason code -> why rows are left out of this export (the card and the README say it)
    reasons: ClassVar[dict[str, str]] = {}

    def __init__(self, recipe: Any = None) -> None:
        super().__init__(recipe)
        self.counts = ExportCounts()

    @abstractmethod
    def record(self, example: Example, audio_paths: list[str]) -> dict[str, Any]:
        """The example as the trainer reads it; ``audio_paths[i]`` is the file of ``audios[i]``."""

    def prepare(self, example: Example) -> Example:
        """The example as this format can hold it (default: as it is)."""
        return example

    def folder(self, example: Example) -> tuple[str, ...]:
        """The example's folder under the export's root, as its parts."""
        return (example.split, example.task)

    def leaves_out(self, example: Example) -> str | None:
        """A reason code (one of ``reasons``) when the example cannot be written, else None."""
        return None

    def root(self, layout: OutputLayout) -> OutPath:
        return layout.exports / self.name

    def write_part(self, examples: list[Example], layout: OutputLayout, shard: int,
                   audio: AudioPaths) -> list[OutPath]:
        """Write one shard's examples; returns the files written."""
        root, counts = self.root(layout), self.counts
        name = f"{layout.part_name(shard)}.jsonl"
        files: dict[tuple[str, ...], OutPath] = {}  # a folder's file, its path made once
        groups: dict[OutPath, list[dict[str, Any]]] = defaultdict(list)
        for example in map(self.prepare, examples):
            reason = self.leaves_out(example)
            if reason is not None:
                counts.left_out[(example.task, reason)] += 1
                continue
            paths = [audio.reference(ref, root) for ref in example.audios]
            folder = self.folder(example)
            path = files.get(folder)
            if path is None:
                path = files[folder] = root.joinpath(*folder, name)
            groups[path].append(self.record(example, paths))
            counts.rows[(example.split, example.task)] += 1
        for path, records in groups.items():
            write_jsonl(layout.storage, path, records)
        return list(groups)
