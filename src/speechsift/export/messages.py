"""``OUT/exports/messages/``: the LLaMA-Factory / ms-swift schema (REFERENCE.md §6).

``{"id", "messages": [{"role", "content"}], "audios": [path, ...]}`` with one ``<audio>``
placeholder in the user text per audio, in order, one folder of JSONL parts per split and task
(``{split}/{task}/``), and the registration of each folder in the form each trainer reads:

- ``dataset_info.json``: LLaMA-Factory's object keyed by dataset name (``file_name`` is the
  folder, ``formatting: sharegpt``). Relative audio paths resolve against ``media_dir``, which
  defaults to ``dataset_dir``: ``--dataset_dir OUT/exports/messages``.
- ``swift_dataset_info.json``: ms-swift's list of entries (``dataset_name``, ``dataset_path``
  relative to the file), for ``--custom_dataset_info``. ms-swift resolves relative audio paths
  against the working directory or ``ROOT_IMAGE_DIR``: ``ROOT_IMAGE_DIR=OUT/exports/messages``.

Spoken responses (``speak_response``) keep only their text here (``jsonl.text_replies``); their
audio is in the Parquet and SIFT JSONL exports. Examples whose answer is only audio (controllable
generation) are left out (``audio_target``): with the audio as the assistant's ``<audio>``,
LLaMA-Factory 0.9.5 trains the audio tokens as text labels and ms-swift 4.6's qwen2_audio template
trains only the end-of-turn token; neither has a speech-output path for these rows (ms-swift's one
speech-generation template, ``qwen3_tts``, reads text and a reference voice, with no instruction).
They stay in ``data/`` and ``sift_jsonl``.
"""

from __future__ import annotations

import json
from typing import Any

from speechsift.export.base import register_exporter
from speechsift.export.jsonl import JsonlExport, has_audio_target, text_replies
from speechsift.layout import OutputLayout
from speechsift.records import Example, Message
from speechsift.storage import OutPath

AUDIO_PLACEHOLDER = "<audio>"  # LLaMA-Factory's AUDIO_PLACEHOLDER; ms-swift's audio tag
LLAMA_FACTORY_INFO = "dataset_info.json"
SWIFT_INFO = "swift_dataset_info.json"
# LLaMA-Factory's sharegpt tags for our role/content messages
SHAREGPT_TAGS = {
    "role_tag": "role",
    "content_tag": "content",
    "user_tag": "user",
    "assistant_tag": "assistant",
    "system_tag": "system",
}


def placeholder_text(message: Message) -> str:
    """The message's text with ``<audio>`` where each audio part stands."""
    return "".join(AUDIO_PLACEHOLDER if p.type == "audio" else (p.text or "") for p in message.content)


@register_exporter
class MessagesExport(JsonlExport):
    name = "messages"
    trainers = "LLaMA-Factory, ms-swift"
    reasons = {
        "audio_target": "the answer is audio: LLaMA-Factory 0.9.5 and ms-swift 4.6 train no audio output from "
                        "these rows (they would train audio tokens as text); they are in `data/` and `sift_jsonl`",
    }

    def prepare(self, example: Example) -> Example:
        return text_replies(example)

    def close(self, layout: OutputLayout, assembly: Any) -> list[OutPath]:
        """Both trainers' registrations of the folders written."""
        return write_dataset_info(layout, sorted(self.counts.rows), self.recipe.name)

    def leaves_out(self, example: Example) -> str | None:
        return "audio_target" if has_audio_target(example) else None

    def record(self, example: Example, audio_paths: list[str]) -> dict[str, Any]:
        return {
            "id": example.id,
            "messages": [{"role": m.role, "content": placeholder_text(m)} for m in example.messages],
            "audios": audio_paths,
        }


def dataset_name(prefix: str, split: str, task: str) -> str:
    return f"{prefix}_{task}" if split == "train" else f"{prefix}_{task}_{split}"


def dataset_info(folders: list[tuple[str, str]], prefix: str) -> dict[str, Any]:
    """LLaMA-Factory's registration of each (split, task) folder as a sharegpt-format dataset."""
    return {
        dataset_name(prefix, split, task): {
            "file_name": f"{split}/{task}",
            "formatting": "sharegpt",
            "columns": {"messages": "messages", "audios": "audios"},
            "tags": SHAREGPT_TAGS,
        }
        for split, task in folders
    }


def swift_dataset_info(folders: list[tuple[str, str]], prefix: str) -> list[dict[str, Any]]:
    """ms-swift's registration of the same folders: a list of entries; ``dataset_path`` is a glob
    over the folder's parts (ms-swift picks the file type from the path's extension)."""
    return [
        {"dataset_name": dataset_name(prefix, split, task), "dataset_path": f"{split}/{task}/*.jsonl",
         "tags": ["audio", "speechsift"]}
        for split, task in folders
    ]


def write_dataset_info(layout: OutputLayout, folders: list[tuple[str, str]], prefix: str) -> list[OutPath]:
    """Both trainers' registrations of the (split, task) folders written, beside them."""
    root = layout.exports / MessagesExport.name
    written = []
    for name, content in ((LLAMA_FACTORY_INFO, dataset_info(folders, prefix)),
                          (SWIFT_INFO, swift_dataset_info(folders, prefix))):
        layout.storage.write_text(root / name, json.dumps(content, indent=2) + "\n")
        written.append(root / name)
    return written
