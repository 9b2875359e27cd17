"""Preference pairs for DPO trainers (``output.formats: [dpo_llamafactory, dpo_trl]``).

Only examples that hold a preference (``extra.rejected``: the ``preference_pairs`` task, and
annotations imported by ``speechsift annotations import``) are written, one folder per split:

- ``exports/dpo_llamafactory/<split>/part-*.jsonl``: LLaMA-Factory's ranking form of sharegpt data,
  ``{"messages": [...], "chosen": {role, content}, "rejected": {role, content}, "audios": [...]}``,
  registered in ``exports/dpo_llamafactory/dataset_info.json`` with ``ranking: true``. A spoken
  instruction is an ``<audio>`` placeholder in the user turn with its path in ``audios``.
- ``exports/dpo_trl/<split>/part-*.jsonl``: TRL's conversational preference form,
  ``{"prompt": [{role, content}], "chosen": [{role: assistant, ...}], "rejected": [...]}``.

Both carry ``id``, ``margin``, ``chosen_config`` and ``rejected_config`` beside the trainer's
columns, and ``chosen_audio``/``rejected_audio`` (paths) when speech synthesis voiced the responses
(``speak_response``); trainers ignore the columns they do not read. A spoken instruction
(``speak_instruction``) is LLaMA-Factory's ``<audio>`` + ``audios`` and TRL's ``prompt_audio``.
Paths to files inside OUT are relative to the export's folder (``audio_files.AudioPaths``;
LLaMA-Factory's ``media_dir`` defaults to its ``dataset_dir``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from speechsift.export.audio_files import AudioPaths
from speechsift.export.base import Exporter, register_exporter
from speechsift.export.jsonl import write_jsonl
from speechsift.export.messages import placeholder_text
from speechsift.layout import OutputLayout
from speechsift.records import AudioRef, Example
from speechsift.storage import OutPath

PathOf = Callable[[AudioRef], str]  # the path a record writes for an audio


def is_preference(example: Example) -> bool:
    return isinstance(example.extra.get("rejected"), str) and example.response is not None


def prompt_audios(example: Example) -> list[AudioRef]:
    """The audio of the turns before the chosen response (a spoken instruction), in order."""
    return [example.audios[p.audio or 0] for m in example.messages[:-1] for p in m.content if p.type == "audio"]


def chosen_audio(example: Example) -> AudioRef | None:
    """The chosen response's own audio (``speak_response`` voiced it), if any."""
    last = example.messages[-1] if example.messages else None
    parts = [p for p in last.content if p.type == "audio"] if last is not None and last.role == "assistant" else []
    return example.audios[parts[0].audio or 0] if parts else None


def rejected_audio(example: Example) -> AudioRef | None:
    """The rejected response's audio (``speak_response`` voiced it: ``extra.rejected_audio`` is its
    index in ``audios``), if any."""
    index = example.extra.get("rejected_audio")
    return example.audios[index] if isinstance(index, int) and 0 <= index < len(example.audios) else None


def pair_fields(example: Example, path_of: PathOf) -> dict[str, Any]:
    """What both formats carry beside the trainer's columns: id, margin, the two configurations and
    the responses' audio paths where they were voiced."""
    extra = example.extra
    record: dict[str, Any] = {"id": example.id, "margin": extra.get("margin"),
                              "chosen_config": extra.get("chosen_config"), "rejected_config": extra.get("rejected_config")}
    for side, ref in (("chosen", chosen_audio(example)), ("rejected", rejected_audio(example))):
        if ref is not None:
            record[f"{side}_audio"] = path_of(ref)
    return record


def prompt_turns(example: Example) -> list[dict[str, str]]:
    """Every turn before the chosen response, ``<audio>`` where a spoken part stands."""
    return [{"role": m.role, "content": placeholder_text(m)} for m in example.messages[:-1]]


def llamafactory_record(example: Example, path_of: PathOf) -> dict[str, Any]:
    audios = [path_of(ref) for ref in prompt_audios(example)]  # one per <audio> in the prompt
    return {
        "messages": prompt_turns(example),
        "chosen": {"role": "assistant", "content": example.response},
        "rejected": {"role": "assistant", "content": example.extra["rejected"]},
        "audios": audios,
        **pair_fields(example, path_of),
    }


def trl_record(example: Example, path_of: PathOf) -> dict[str, Any]:
    record = {
        "prompt": prompt_turns(example),
        "chosen": [{"role": "assistant", "content": example.response}],
        "rejected": [{"role": "assistant", "content": example.extra["rejected"]}],
        **pair_fields(example, path_of),
    }
    spoken = prompt_audios(example)
    if spoken:
        record["prompt_audio"] = [path_of(ref) for ref in spoken]
    return record


class DpoExport(Exporter):
    """One preference format: ``record`` makes one row of its trainer's form."""

    record: ClassVar[Callable[[Example, PathOf], dict[str, Any]]]

    def write_part(self, examples: list[Example], layout: OutputLayout, shard: int,
                   audio: AudioPaths) -> list[OutPath]:
        """One shard's preference examples, one file per split."""
        groups: dict[OutPath, list[dict[str, Any]]] = defaultdict(list)
        root = layout.exports / self.name
        path_of = partial(audio.reference, root=root)
        for example in examples:
            if is_preference(example):
                groups[root / example.split / f"{layout.part_name(shard)}.jsonl"].append(self.record(example, path_of))
        for path, records in groups.items():
            write_jsonl(layout.storage, path, records)
        return list(groups)


@register_exporter
class LlamaFactoryDpoExport(DpoExport):
    name = "dpo_llamafactory"
    record = staticmethod(llamafactory_record)

    def close(self, layout: OutputLayout, assembly: Any) -> list[OutPath]:
        splits = sorted({split for task, split in assembly.examples if task == "preference_pairs"})
        return [write_llamafactory_info(layout, layout.exports / self.name, splits, self.recipe.name)]


@register_exporter
class TrlDpoExport(DpoExport):
    name = "dpo_trl"
    record = staticmethod(trl_record)


DPO_EXPORTS: tuple[type[DpoExport], ...] = (LlamaFactoryDpoExport, TrlDpoExport)


def write_llamafactory_info(layout: OutputLayout, root: OutPath, splits: list[str], prefix: str) -> OutPath:
    """``dataset_info.json`` registering each split folder as a ranking (preference) dataset."""
    info = {
        (f"{prefix}_dpo" if split == "train" else f"{prefix}_dpo_{split}"): {
            "file_name": split,
            "formatting": "sharegpt",
            "ranking": True,
            "columns": {"messages": "messages", "chosen": "chosen", "rejected": "rejected", "audios": "audios"},
            "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
                     "system_tag": "system"},
        }
        for split in splits
    }
    path = root / "dataset_info.json"
    layout.storage.write_text(path, json.dumps(info, indent=2) + "\n")
    return path
