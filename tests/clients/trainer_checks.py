"""What both trainer checks verify on every encoded row: the audio spans in the input match the
row's audios (Qwen2-Audio's frame tokens, as the ``qwen2_audio`` templates of both trainers expand
each audio) and no placeholder is left as text; no audio token is a supervised label, and some text
is."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

IGNORE_INDEX = -100  # both trainers' label for "not supervised"
AUDIO_TOKENS = ("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")
PLACEHOLDER = "<audio>"  # the messages export's placeholder, which the template must replace


class Findings:
    """Rows checked and problems found; ``report`` prints a summary and exits non-zero on a problem."""

    def __init__(self, trainer: str) -> None:
        self.trainer = trainer
        self.rows = 0
        self.problems: list[str] = []

    def check_row(self, input_ids: list[int], labels: list[int], n_audios: int, tokenizer: Any, where: str) -> None:
        self.rows += 1
        audio_ids = audio_token_ids(tokenizer)
        supervised = [t for t, label in zip(input_ids, labels) if label != IGNORE_INDEX]
        leaked = [name for name, token in audio_ids.items() if token in supervised]
        if leaked:
            self.problems.append(f"{where}: audio tokens inside the supervised labels: {leaked}")
        if not tokenizer.decode(supervised, skip_special_tokens=True).strip():
            # an audio answer given as text: ms-swift masks the audio and learns only the end of the turn
            self.problems.append(f"{where}: no text is supervised, only {tokenizer.decode(supervised)!r}")
        if PLACEHOLDER in tokenizer.decode(input_ids):  # ms-swift leaves a tag with no audio as text
            self.problems.append(f"{where}: an {PLACEHOLDER} placeholder left in the text")
        spans = input_ids.count(audio_ids["<|audio_bos|>"])
        if spans != n_audios or input_ids.count(audio_ids["<|audio_eos|>"]) != n_audios:
            self.problems.append(f"{where}: {spans} audio spans in the input for {n_audios} audios")

    def expect(self, condition: bool, problem: str) -> None:
        if not condition:
            self.problems.append(problem)

    def report(self, extra: dict[str, Any]) -> None:
        summary = {"trainer": self.trainer, **extra, "rows_checked": self.rows,
                   "problems": len(self.problems)}
        for problem in self.problems[:20]:
            print("PROBLEM:", problem)
        print("summary:", json.dumps(summary), flush=True)
        if self.problems:
            sys.exit(1)


def audio_token_ids(tokenizer: Any) -> dict[str, int]:
    return {name: tokenizer.convert_tokens_to_ids(name) for name in AUDIO_TOKENS}


def messages_rows(root: Path, names: list[str] | None = None) -> int:
    """Rows in the messages export's part files (of the datasets named, or all)."""
    info = json.loads((root / "dataset_info.json").read_text())
    folders = [info[name]["file_name"] for name in (names or info)]
    return sum(len(p.read_text().splitlines()) for folder in folders for p in (root / folder).glob("*.jsonl"))
