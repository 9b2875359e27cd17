"""``OUT/exports/desta_jsonl/``: the DeSTA2.5 record layout (REFERENCE.md §3, §6).

One JSON object per example, as DeSTA2.5-Audio's trainer reads it (``simple_dataset.py``: it loads
the files with ``datasets``, gathers the ``audios`` of every message, asserts one ``<|AUDIO|>``
locator per audio in the chat text, joins each ``audio`` path to ``data_root``, and puts each
audio's ``text`` (its transcript) beside the audio features; ``response`` is the target)::

    {"id", "dataset", "seed_description", "prompt", "response",
     "messages": [{"role": "system", "content": "...", "audios": []},
                  {"role": "user", "content": "<start_audio><|AUDIO|><end_audio>\\nWhat can you hear?",
                   "audios": [{"audio": "../../audio/x.flac", "text": "the transcript"}]}],
     "audios": [{"audio": "../../audio/x.flac", "text": "the transcript"}]}

- Each audio part of a turn is the locator framed as DeSTA2.5 trains it
  (``<start_audio><|AUDIO|><end_audio>``, its docs/train.md), and the system message says so;
  the turn's parts are joined with newlines. ``messages`` holds the input turns (all but the
  final answer, which is ``response``); every turn has ``audios`` (empty without audio), so every
  ``datasets`` version reads one schema. Spoken responses keep only their text (``text_replies``).
- ``text`` is each audio's own transcript (both clips of a comparison), a single space when unknown
  (as DeSTA does), and a single space too when the target is that transcript (transcription):
  DeSTA places ``text`` in the input, where it would give the answer away.
- ``audios`` is repeated at the top level for readers that look there. ``dataset`` is the source;
  ``seed_description`` the text the LLM answered from (``desta`` examples; empty for others);
  ``prompt`` the instruction.
- Audio paths are relative to ``OUT/exports/desta_jsonl/`` for files inside OUT: set DeSTA's
  ``data_root`` to that folder (an absolute path ignores ``data_root``).

DeSTA's format has no audio target: examples whose answer is audio (controllable generation) are
left out (``audio_target``). Files: ``{split}/{task}/part-NNNNN.jsonl``, one per shard.
"""

from __future__ import annotations

import re
from typing import Any

from speechsift.export.base import register_exporter
from speechsift.export.jsonl import JsonlExport, has_audio_target, text_replies
from speechsift.export.text import neutral_text
from speechsift.records import Example, Message
from speechsift.tasks.desta import seed_description

AUDIO_LOCATOR = "<|AUDIO|>"  # DeSTA2.5's `model.audio_locator`
FRAMED_LOCATOR = f"<start_audio>{AUDIO_LOCATOR}<end_audio>"  # as in its docs/train.md
NO_TRANSCRIPT = " "  # DeSTA's value for an audio without a transcription
# Our wording of the intent of DeSTA2.5's training system message: where the audio clips are.
SYSTEM_PROMPT = "You are a helpful assistant. Each audio clip is placed between a start-of-audio and an end-of-audio marker."
_WORDS = re.compile(r"\w+")


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def audio_text(transcript: str | None, response: str | None) -> str:
    """The ``text`` DeSTA places beside an audio: its transcript, unless unknown or the answer."""
    words = _words(transcript or "")
    if not words or words == _words(response or ""):
        return NO_TRANSCRIPT
    return transcript.strip()  # type: ignore[union-attr]


def _turn(message: Message, audios: list[dict[str, str]]) -> dict[str, Any]:
    pieces: list[str] = []
    used: list[dict[str, str]] = []
    for part in message.content:
        if part.type == "audio":
            pieces.append(FRAMED_LOCATOR)
            used.append(audios[part.audio or 0])
        elif part.text:
            pieces.append(part.text)
    return {"role": message.role, "content": "\n".join(pieces), "audios": used}


@register_exporter
class DestaExport(JsonlExport):
    name = "desta_jsonl"
    trainers = "DeSTA2.5-Audio"
    reasons = {"audio_target": "the answer is audio, which DeSTA2.5 records cannot hold as a target"}

    def prepare(self, example: Example) -> Example:
        return text_replies(example)

    def leaves_out(self, example: Example) -> str | None:
        return "audio_target" if has_audio_target(example) else None

    def record(self, example: Example, audio_paths: list[str]) -> dict[str, Any]:
        texts = [audio_text(t, example.response) for t in example.audio_transcripts()]
        audios = [{"audio": path, "text": text} for path, text in zip(audio_paths, texts)]
        inputs = example.messages
        if inputs and inputs[-1].role == "assistant":
            inputs = inputs[:-1]
        turns = [_turn(m, audios) for m in inputs]
        if not any(turn["role"] == "system" for turn in turns):
            turns.insert(0, {"role": "system", "content": SYSTEM_PROMPT, "audios": []})
        return {
            "id": example.id,
            "dataset": example.source,
            "seed_description": neutral_text(seed_description(example) or ""),
            "prompt": example.instruction,
            "response": example.response or "",
            "messages": turns,
            "audios": audios,
        }


__all__ = ["AUDIO_LOCATOR", "FRAMED_LOCATOR", "DestaExport", "audio_text"]
