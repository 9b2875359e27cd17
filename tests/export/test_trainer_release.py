"""A hostile release (``hostile_release``: trainer tokens in transcripts and LLM answers, two
languages, every task family with an export, bytes-only audio), made self-contained with
``output.copy_audio``, moved, its corpus deleted, and copied elsewhere: every JSONL export loads
with ``datasets`` and every audio path resolves the way its trainer resolves it
(REFERENCE.md §3, §6). ``make test-clients`` runs the trainers' own loaders on the same release."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

datasets = pytest.importorskip("datasets")

from factories import release_rows  # noqa: E402
from hostile_release import build_release  # noqa: E402

from speechsift.export.card import loading_snippet  # noqa: E402
from speechsift.export.desta_jsonl import AUDIO_LOCATOR, FRAMED_LOCATOR, NO_TRANSCRIPT  # noqa: E402
from speechsift.export.text import TRAINER_TOKENS  # noqa: E402

AUDIO_TASKS = {"controllable", "controllable_template"}  # the answer is audio


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    moved = build_release(root, copy_audio=True)  # OUT moved, the source corpus deleted
    copy = tmp_path_factory.mktemp("training-machine") / "release"
    shutil.copytree(moved, copy)
    shutil.rmtree(moved)
    return copy


def _load(files: list[Path]):
    return datasets.load_dataset("json", data_files=[str(f) for f in files], split="train")


def _tokens_left(text: str, allowed: tuple[str, ...]) -> list[str]:
    """Trainer tokens in ``text`` beyond the ones the export itself placed."""
    for token in allowed:
        text = text.replace(token, "")
    return [token for token in TRAINER_TOKENS if token in text]


def _run(release: Path) -> dict:
    return json.loads((release / "run.json").read_text())


def test_messages_export_as_llamafactory_and_ms_swift_read_it(release):
    root = release / "exports" / "messages"
    info = json.loads((root / "dataset_info.json").read_text())
    swift = json.loads((root / "swift_dataset_info.json").read_text())
    assert isinstance(info, dict) and isinstance(swift, list) and {e["dataset_name"] for e in swift} == set(info)
    assert not any(name.startswith(tuple(f"hostile_{t}" for t in AUDIO_TASKS)) for name in info)
    assert {name.rsplit("_", 1)[-1] for name in info} >= {"dev", "eval"}
    rows = 0
    for entry in swift:
        name = entry["dataset_name"]
        files = sorted(root.glob(entry["dataset_path"]))  # ms-swift: relative to the info file's folder
        assert files == sorted((root / info[name]["file_name"]).glob("*"))  # LLaMA-Factory: file_name folder
        for row in _load(files):
            rows += 1
            text = "".join(m["content"] for m in row["messages"])
            # LLaMA-Factory's _validate_messages; ms-swift binds each audio to the next <audio>
            assert text.count("<audio>") == len(row["audios"]) >= 1
            assert not _tokens_left(text, ("<audio>",)), text
            assert all("<audio>" not in m["content"] for m in row["messages"] if m["role"] == "assistant")
            for path in row["audios"]:
                assert not os.path.isabs(path)  # a self-contained release
                assert os.path.isfile(os.path.join(root, path))  # LLaMA-Factory: media_dir = dataset_dir
    run = _run(release)
    exports = run["exports"]["messages"]
    assert exports["rows"] == rows
    assert exports["left_out"] == {task: {"audio_target": run["examples"][task]} for task in AUDIO_TASKS}
    card = (release / "README.md").read_text()
    assert "`exports/messages/` | LLaMA-Factory, ms-swift" in card
    assert "- `exports/messages/`, `audio_target`: the answer is audio: LLaMA-Factory" in card


def test_sift_jsonl_reads_with_one_schema_across_every_row(release):
    root = release / "exports" / "sift_jsonl"
    files = sorted(root.rglob("*.jsonl"))
    assert {f.relative_to(root).parts[0] for f in files} == {"train", "dev", "EvalSIFT"}
    ds = _load(files)  # text, audio, two-audio and audio-answer rows in one load
    assert len(ds) == sum(_run(release)["examples"].values())
    kinds = Counter()
    for row in ds:
        for message in row["messages"]:
            for part in message["content"]:
                assert (part["text"] is None) != (part["audio_path"] is None)
                if part["audio_path"] is not None:
                    assert not os.path.isabs(part["audio_path"]) and (root / part["audio_path"]).is_file()
                    kinds[(message["role"], row["task"] in AUDIO_TASKS)] += 1
                else:
                    assert not _tokens_left(part["text"], ())
    assert kinds[("assistant", True)] and kinds[("user", False)] and not kinds[("assistant", False)]
    folders = {f.parent.relative_to(root).as_posix() for f in files}
    assert {"train/closed_ended/comparison/en", "train/controllable_generation/de", "train/omni/transcription/de"} <= folders


def test_desta_export_as_desta_reads_it(release):
    data_root = release / "exports" / "desta_jsonl"
    seen = set()
    for folder in sorted(data_root.glob("*/*")):  # {split}/{task}
        task = folder.name
        seen.add(task)
        for row in _load(sorted(folder.glob("*.jsonl"))):
            assert row["messages"][0]["role"] == "system"
            chat = "".join(m["content"] for m in row["messages"])
            audios = [a for m in row["messages"] for a in m["audios"]]  # gathered as DeSTA does
            assert chat.count(AUDIO_LOCATOR) == chat.count(FRAMED_LOCATOR) == len(audios) >= 1
            assert not _tokens_left(chat + row["response"], (FRAMED_LOCATOR,)), chat
            for audio in audios:
                assert os.path.isfile(os.path.join(data_root, audio["audio"]))  # DeSTA: join(data_root, audio)
                assert audio["text"]  # never empty: " " when unknown
            if task.startswith("comparison"):
                assert len(audios) == 2 and all(a["text"] != NO_TRANSCRIPT for a in audios), "each clip keeps its text"
            if task == "transcription":
                assert audios[0]["text"] == NO_TRANSCRIPT, "the answer is not given in the input"
    assert not AUDIO_TASKS & seen and {"comparison", "comparison_template", "desta", "transcription"} <= seen


def test_parquet_loading_snippets_as_written(release):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    snippet = next(block for block in re.findall(r"```python\n(.*?)```", readme, re.S) if 'load_dataset("parquet"' in block)
    assert snippet.strip() == loading_snippet("out/demo", "sit_ssp"), "README shows the card's snippet"
    card = (release / "README.md").read_text()
    card_snippet = re.findall(r"```python\n(.*?)```", card, re.S)[-1]
    tasks = sorted({row["task"] for row in release_rows(release, split="train")})
    assert {"comparison", "comparison_template", "controllable", "transcription"} <= set(tasks)
    for task in tasks:
        for code in (snippet, card_snippet):
            code = re.sub(r'^out, task = .*$', f"out, task = {str(release)!r}, {task!r}", code, flags=re.M)
            scope: dict = {}
            exec(code, scope)  # noqa: S102 - the documented snippet, as written
            assert scope["waves"] and all(len(wave) and sr == 16_000 for wave, sr in scope["waves"])
            assert len(scope["waves"]) == (2 if task.startswith("comparison") else 1)
