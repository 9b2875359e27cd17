"""The JSONL exports against the schemas trainers read (REFERENCE.md §6)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from factories import make_corpus, recipe_dict

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe


def _records(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def _run(tmp_path: Path) -> Path:
    manifest = make_corpus(tmp_path / "corpus", n=3)
    out = tmp_path / "out"
    run_recipe(parse_recipe(recipe_dict(manifest, out, ["transcription", "sit_ssp"])), progress=False)
    return out


def test_sift_jsonl_schema(tmp_path):
    out = _run(tmp_path)
    folder = out / "exports" / "sift_jsonl"
    assert sorted(p.relative_to(folder).parent.as_posix() for p in folder.rglob("*.jsonl")) == [
        "train/omni/sit_ssp/en",
        "train/omni/transcription/en",
    ]
    records = _records(folder)
    assert len(records) == 6
    for record in records:
        assert set(record) == {"id", "messages", "task", "data_source"}
        assert record["data_source"] == "src_en"
        assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
        for message in record["messages"]:
            for part in message["content"]:
                assert len(part) == 1 and set(part) <= {"text", "audio_path"}
                if "audio_path" in part:
                    assert Path(part["audio_path"]).is_file()
    transcription = next(r for r in records if r["task"] == "transcription")
    user = transcription["messages"][0]["content"]
    assert "audio_path" in user[0] and user[1] == {"text": "Transcribe:"}


def test_messages_schema_and_dataset_info(tmp_path):
    out = _run(tmp_path)
    folder = out / "exports" / "messages"
    info = json.loads((folder / "dataset_info.json").read_text())
    assert set(info) == {"test_transcription", "test_sit_ssp"}
    assert info["test_sit_ssp"]["file_name"] == "train/sit_ssp"
    for entry in info.values():
        assert (folder / entry["file_name"]).is_dir()
        assert entry["formatting"] == "sharegpt"
        assert entry["columns"] == {"messages": "messages", "audios": "audios"}
    for record in _records(folder):
        assert set(record) == {"id", "messages", "audios"}
        text = "".join(m["content"] for m in record["messages"])
        assert text.count("<audio>") == len(record["audios"]) == 1
        assert all(Path(p).is_file() for p in record["audios"])
        assert record["messages"][0]["content"].startswith("<audio>")


def test_card_front_matter(tmp_path):
    import yaml

    out = _run(tmp_path)
    text = (out / "README.md").read_text()
    _, front, body = text.split("---", 2)
    meta = yaml.safe_load(front)
    assert {c["config_name"] for c in meta["configs"]} == {"transcription", "sit_ssp"}
    assert meta["license"] == "other" and meta["language"] == ["en"]
    assert "| transcription | 3 |" in body
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    assert len(images) == 4 and all((out / image).is_file() for image in images), "the card's plots exist"
    assert all((out / image).read_text().startswith("<svg") for image in images)
