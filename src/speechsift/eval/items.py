"""What ``speechsift eval`` scores: ``EvalItem``s read from the three layouts ``DATA`` may have.

- a **speechsift output folder** (``run.json``, ``data/<task>/<split>-part-*.parquet``): the rows of
  one split (``eval`` by default, the EvalSIFT-style held-out set); embedded audio is written once to
  ``EVAL_OUT/.work/audio/<digest>.<ext>`` (streamed by row group, never all in memory);
- a **SIFT JSONL tree** (SIFT-50M's layout, REFERENCE.md §2): ``{split}/{category}/{sub}/{lang}/*.jsonl``
  with the held-out split in ``EvalSIFT/`` (older speechsift exports: ``eval/``); content parts are
  ``{"text": ...}`` or ``{"audio_path": ...}``, or carry both keys with one null;
- a **Speech-IFEval JSONL file** (fields ``id, audio_filepath, textual_audio, instruction, dataset,
  metric, instruction_id_list, kwargs, label``; ``seed_transcript`` is read as ``textual_audio``).

Each item's conversation is kept as the model will see it (system turn, user turns with text and
audio parts in order); the reference is the last assistant turn (text, or audio for controllable
generation). Each task maps to a metric family (``FAMILIES``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from speechsift.errors import ConfigError
from speechsift.layout import OutputLayout, atomic_write_bytes
from speechsift.records import AudioRef
from speechsift.report.samples import sniff_extension

# Task name -> metric family (the table in README "Evaluation").
FAMILIES: dict[str, str] = {
    "transcription": "transcription",
    "answer_extraction": "answer_extraction",
    "closed_ended_template": "closed_ended",  # known answers: accuracy by label match
    "comparison_template": "closed_ended",
    "closed_ended_acoustic": "closed_ended_judged",  # LLM-written answers: judged 0/1
    "closed_ended_content": "closed_ended_judged",
    "word_align": "closed_ended_judged",
    "comparison": "closed_ended_judged",
    "open_ended": "open_ended",  # judged 0-10, plus the Speechworthy text metrics
    "sift_s": "open_ended",
    "sift_ssp": "open_ended",
    "sit_ssp": "open_ended",
    "desta": "open_ended",
    "controllable": "controllable",
    "controllable_template": "controllable",
    "constrained": "constrained",
}
# SIFT-50M categories (the folder under the split) for task names speechsift does not know.
CATEGORY_FAMILIES = {"closed_ended": "closed_ended_judged", "open_ended": "open_ended",
                     "controllable_generation": "controllable"}
SPEECH_IFEVAL = "speech_ifeval"
# The held-out split folder of a SIFT JSONL tree, by the name given with --split.
SIFT_SPLIT_FOLDERS = {"eval": ("EvalSIFT", "eval"), "dev": ("dev",), "train": ("train",)}
IFEVAL_REQUIRED = ("audio_filepath", "instruction")


@dataclass(slots=True)
class EvalItem:
    """One thing to ask the model under test and score.

    ``messages`` are turns ``{"role", "content": [{"type": "text", "text"} | {"type": "audio",
    "audio": index}]}`` without the reference answer; ``audios[index]`` is where each audio is.
    ``problem`` is ``(reason, message)`` when the item cannot be asked at all (its audio is missing):
    it is then scored as failed with that reason.
    """

    id: str
    task: str
    family: str
    language: str | None
    messages: list[dict[str, Any]]
    audios: list[AudioRef]
    instruction: str = ""
    reference: str | None = None
    reference_audio: AudioRef | None = None
    transcript: str | None = None
    source: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    problem: tuple[str, str] | None = None


def family_of(task: str, category: str | None = None) -> str:
    if task in FAMILIES:
        return FAMILIES[task]
    if category in CATEGORY_FAMILIES:
        return CATEGORY_FAMILIES[category]
    return "open_ended"  # an unknown free-form task: judged on the 0-10 scale


def user_text(messages: list[dict[str, Any]]) -> str:
    """The text of the user turns (the instruction the model sees beside the audio)."""
    return "\n".join(part["text"] for m in messages if m["role"] == "user"
                     for part in m["content"] if part["type"] == "text" and part.get("text")).strip()


# --- speechsift output folders -------------------------------------------------------------------

def _split_files(root: Path, split: str) -> list[Path]:
    return OutputLayout(root).data_parts(split)


def _splits_present(root: Path) -> list[str]:
    return sorted({p.name.split("-part-")[0] for p in OutputLayout(root).data_parts()})


class AudioStore:
    """Embedded audio bytes as content-addressed files under ``folder`` (written once)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def file_for(self, data: bytes, name: str | None) -> Path:
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        suffix = sniff_extension(data) or (Path(name).suffix if name else "") or ".bin"
        target = self.folder / f"{digest}{suffix}"
        if not target.exists():
            atomic_write_bytes(target, data)
        return target


def _audio_ref(cell: dict[str, Any] | None, store: AudioStore, base: Path) -> AudioRef:
    if not cell:
        return AudioRef()
    if cell.get("bytes") is not None:
        return AudioRef(path=str(store.file_for(cell["bytes"], cell.get("path"))))
    path = Path(cell.get("path") or "")
    return AudioRef(path=str(path if path.is_absolute() else base / path)) if cell.get("path") else AudioRef()


def _parquet_messages(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(the turns before the reference, the reference turn) from a row's ``messages``."""
    turns = [{"role": m["role"], "content": [
        {"type": "audio", "audio": p["audio"] or 0} if p["type"] == "audio" else {"type": "text", "text": p["text"] or ""}
        for p in m["content"]]} for m in rows]
    if turns and turns[-1]["role"] == "assistant":
        return turns[:-1], turns[-1]
    return turns, None


def read_output_folder(root: Path, split: str, store: AudioStore) -> Iterator[EvalItem]:
    files = _split_files(root, split)
    if not files:
        present = _splits_present(root)
        found = f"it has {', '.join(present)}" if present else "it has no data/<split>-part-*.parquet files"
        raise ConfigError(
            f"{root}: no `{split}` split to evaluate ({found}). Pass --split with one of the splits it has "
            "(eval, dev or train), or build a held-out split with `splits: {eval: {per_cell: N}}` in the recipe "
            "and run it again."
        )
    wanted = ["id", "task", "language", "source", "instruction", "response", "messages", "meta", "transcript"]
    for path in files:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
        audio_column = "audios" if "audios" in names else "audio"
        for batch in parquet.iter_batches(columns=[c for c in wanted if c in names] + [audio_column], batch_size=64):
            for row in batch.to_pylist():
                cells = row[audio_column] if audio_column == "audios" else [row[audio_column]]
                audios = [_audio_ref(cell, store, root) for cell in cells or []]
                messages, reference_turn = _parquet_messages(row.get("messages") or [])
                task = row["task"]
                family = family_of(task)
                reference_audio = None
                if reference_turn is not None and family == "controllable":
                    index = next((p["audio"] for p in reference_turn["content"] if p["type"] == "audio"), 0)
                    reference_audio = audios[index] if index < len(audios) else None
                yield EvalItem(
                    id=row["id"], task=task, family=family, language=row.get("language"), messages=messages,
                    audios=audios, instruction=row.get("instruction") or user_text(messages),
                    reference=row.get("response"), reference_audio=reference_audio,
                    transcript=row.get("transcript"), source=row.get("source"),
                    meta={k: v for k, v in (row.get("meta") or {}).items() if v is not None},
                )


# --- SIFT JSONL trees -----------------------------------------------------------------------------

def _sift_split_folder(root: Path, split: str) -> Path | None:
    if root.name in ("EvalSIFT",) + SIFT_SPLIT_FOLDERS.get(split, (split,)):
        return root
    for name in SIFT_SPLIT_FOLDERS.get(split, (split,)):
        if (root / name).is_dir():
            return root / name
    return None


def _resolve_audio(value: str, bases: list[Path]) -> AudioRef:
    path = Path(value).expanduser()
    if path.is_absolute():
        return AudioRef(path=str(path))
    for base in bases:
        if (base / path).is_file():
            return AudioRef(path=str(base / path))
    return AudioRef(path=str(bases[0] / path))  # missing: the item fails as missing_audio


def _sift_part(part: dict[str, Any]) -> tuple[str, str]:
    """("text" | "audio", value) of one SIFT content part; both keys may be present, one null."""
    if part.get("audio_path") is not None:
        return "audio", str(part["audio_path"])
    return "text", str(part.get("text") or "")


def read_sift_tree(root: Path, split: str) -> Iterator[EvalItem]:
    folder = _sift_split_folder(root, split)
    if folder is None:
        options = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir())) or "no folders"
        raise ConfigError(
            f"{root}: a SIFT JSONL tree without a `{split}` split folder (it has {options}). The held-out "
            "split is EvalSIFT/ (SIFT-50M's name; older speechsift exports: eval/); pass --split train or dev "
            "to score another split."
        )
    for path in sorted(folder.rglob("*.jsonl")):
        relative = path.relative_to(folder).parts
        category = relative[0] if len(relative) > 1 else None
        language = relative[-2] if len(relative) >= 3 else None
        bases = [root, path.parent, *list(root.parents)[:3]]
        with path.open(encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{path}, line {line_number}: not JSON ({exc}); fix or remove the line.") from None
                yield _sift_item(record, category, language, bases, f"{path}:{line_number}")


def _sift_item(record: dict[str, Any], category: str | None, language: str | None, bases: list[Path],
               where: str) -> EvalItem:
    audios: list[AudioRef] = []
    turns: list[dict[str, Any]] = []
    for message in record.get("messages") or []:
        content = []
        for part in message.get("content") or []:
            kind, value = _sift_part(part)
            if kind == "audio" and message.get("role") != "assistant":
                audios.append(_resolve_audio(value, bases))
                content.append({"type": "audio", "audio": len(audios) - 1})
            elif kind == "audio":
                content.append({"type": "audio_path", "path": value})
            else:
                content.append({"type": "text", "text": value})
        turns.append({"role": message.get("role", "user"), "content": content})
    reference_turn = turns.pop() if turns and turns[-1]["role"] == "assistant" else None
    task = str(record.get("task") or category or "unknown")
    family = family_of(task, category)
    reference = reference_audio = None
    if reference_turn is not None:
        texts = [p["text"] for p in reference_turn["content"] if p["type"] == "text"]
        reference = "".join(texts) if texts else None
        paths = [p["path"] for p in reference_turn["content"] if p["type"] == "audio_path"]
        reference_audio = _resolve_audio(paths[0], bases) if paths else None
    source = str(record.get("data_source") or "") or None
    if language is None and source and "_" in source:
        language = source.rsplit("_", 1)[1]
    if "id" not in record:
        raise ConfigError(f"{where}: a SIFT record without an `id`; every record needs one.")
    return EvalItem(id=str(record["id"]), task=task, family=family, language=language, messages=turns,
                    audios=audios, instruction=user_text(turns), reference=reference,
                    reference_audio=reference_audio, source=source)


# --- Speech-IFEval files --------------------------------------------------------------------------

IFEVAL_SUBSETS = {"cot": "chain_of_thought"}


def ifeval_subset(record: dict[str, Any]) -> str:
    """closed_ended (a task with a label), creative_writing (none), chain_of_thought (judged)."""
    metric = str(record.get("metric") or "").lower()
    if metric in IFEVAL_SUBSETS:
        return IFEVAL_SUBSETS[metric]
    return "closed_ended" if record.get("label") not in (None, "") else "creative_writing"


def read_speech_ifeval(path: Path, audio_root: Path | None) -> Iterator[EvalItem]:
    bases = [audio_root] if audio_root else [path.parent]
    with path.open(encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}, line {line_number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: not JSON ({exc}); fix or remove the line.") from None
            missing = [k for k in IFEVAL_REQUIRED if not record.get(k)]
            if missing:
                raise ConfigError(f"{where}: a Speech-IFEval record needs {', '.join(missing)} "
                                  "(fields: id, audio_filepath, textual_audio, instruction, dataset, metric, "
                                  "instruction_id_list, kwargs, label).")
            ids = record.get("instruction_id_list") or []
            kwargs = record.get("kwargs") or [{} for _ in ids]
            if len(kwargs) != len(ids):
                raise ConfigError(f"{where}: instruction_id_list has {len(ids)} entries but kwargs has {len(kwargs)}; "
                                  "give one kwargs object per instruction.")
            subset = ifeval_subset(record)
            messages = [{"role": "user", "content": [{"type": "audio", "audio": 0},
                                                     {"type": "text", "text": record["instruction"]}]}]
            label = record.get("label")
            yield EvalItem(
                id=str(record.get("id", line_number - 1)), task=f"{SPEECH_IFEVAL}/{subset}", family=SPEECH_IFEVAL,
                language="en", messages=messages, audios=[_resolve_audio(record["audio_filepath"], bases)],
                instruction=record["instruction"], reference=None if label is None else str(label),
                source=record.get("dataset"),
                extra={"subset": subset, "metric": str(record.get("metric") or ""), "instruction_id_list": list(ids),
                       "kwargs": [dict(k or {}) for k in kwargs],
                       "textual_audio": record.get("textual_audio") or record.get("seed_transcript")},
            )


# --- dispatch -------------------------------------------------------------------------------------

def data_kind(data: Path) -> str:
    """``output`` (a speechsift output folder), ``sift`` (a SIFT JSONL tree) or ``speech_ifeval`` (a file)."""
    if data.is_file():
        return SPEECH_IFEVAL
    if not data.is_dir():
        raise ConfigError(f"{data}: no such file or folder. DATA is a speechsift output folder, a SIFT JSONL tree "
                          "(EvalSIFT layout) or a Speech-IFEval JSONL file.")
    if (data / "run.json").is_file() or (data / "data").is_dir():
        return "output"
    if any(data.rglob("*.jsonl")):
        return "sift"
    raise ConfigError(f"{data}: neither a speechsift output folder (run.json, data/) nor a SIFT JSONL tree "
                      "(EvalSIFT/<category>/.../*.jsonl) nor a Speech-IFEval JSONL file.")


def read_items(data: Path, split: str, workdir: Path, audio_root: Path | None = None) -> Iterator[EvalItem]:
    kind = data_kind(data)
    if kind == "output":
        return read_output_folder(data, split, AudioStore(workdir / "audio"))
    if kind == "sift":
        return read_sift_tree(data, split)
    return read_speech_ifeval(data, audio_root)
