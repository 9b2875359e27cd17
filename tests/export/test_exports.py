"""The JSONL exports against the schemas trainers read (REFERENCE.md §6)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from factories import make_corpus, recipe_dict, release_rows

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
            for part in message["content"]:  # both keys, one null: one schema for every row
                assert set(part) == {"text", "audio_path"} and (part["text"] is None) != (part["audio_path"] is None)
                if part["audio_path"] is not None:
                    assert (folder / part["audio_path"]).is_file()
    transcription = next(r for r in records if r["task"] == "transcription")
    user = transcription["messages"][0]["content"]
    assert user[0]["audio_path"] and user[1] == {"text": "Transcribe:", "audio_path": None}


def test_messages_schema_and_dataset_info(tmp_path):
    out = _run(tmp_path)
    folder = out / "exports" / "messages"
    info = json.loads((folder / "dataset_info.json").read_text())  # LLaMA-Factory: an object by name
    assert set(info) == {"test_transcription", "test_sit_ssp"}
    assert info["test_sit_ssp"]["file_name"] == "train/sit_ssp"
    for entry in info.values():
        assert (folder / entry["file_name"]).is_dir()
        assert entry["formatting"] == "sharegpt"
        assert entry["columns"] == {"messages": "messages", "audios": "audios"}
    swift = json.loads((folder / "swift_dataset_info.json").read_text())  # ms-swift: a list of entries
    assert isinstance(swift, list) and {e["dataset_name"] for e in swift} == set(info)
    for entry in swift:
        assert sorted(folder.glob(entry["dataset_path"])) == sorted((folder / info[entry["dataset_name"]]["file_name"]).glob("*"))
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
    assert {c["config_name"] for c in meta["configs"]} == {"all", "transcription", "sit_ssp"}
    assert all(c["filters"] == [["task", "==", c["config_name"]]] for c in meta["configs"][1:])
    assert meta["license"] == "other" and meta["language"] == ["en"]
    assert "| transcription | 3 |" in body
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    assert len(images) == 4 and all((out / image).is_file() for image in images), "the card's plots exist"
    assert all((out / image).read_text().startswith("<svg") for image in images)


def test_copy_audio_makes_every_path_relative_and_stale_copies_go(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=3)
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, ["transcription"], output={"audio": "path", "copy_audio": True, "report": False})
    run_recipe(parse_recipe(data), progress=False)
    copies = sorted((out / "audio").iterdir())
    assert len(copies) == 3 and all(p.read_bytes()[:4] == b"fLaC" for p in copies)
    rows = release_rows(out, "transcription")
    assert {(out / r["audios"][0]["path"]).resolve() for r in rows} == {p.resolve() for p in copies}  # relative to OUT
    for record in _records(out / "exports" / "messages"):
        assert all(p.startswith("../../audio/") for p in record["audios"])
    data["output"]["copy_audio"] = False
    run_recipe(parse_recipe(data), progress=False)
    assert not list((out / "audio").iterdir()), "copies no export references any more are removed"
    rows = release_rows(out, "transcription")
    assert all(Path(r["audios"][0]["path"]).is_absolute() and Path(r["audios"][0]["path"]).is_file() for r in rows)


def test_synthesized_speech_in_work_is_relative_and_copied_for_a_release(tmp_path):
    from factories import write_tone

    from speechsift.layout import OutputLayout
    from speechsift.export.audio_files import AudioPaths
    from speechsift.records import AudioRef

    layout = OutputLayout(tmp_path / "out")
    spoken = AudioRef(path=str(write_tone(layout.work / "tts" / "u1.flac", seconds=0.2)))
    root = layout.exports / "messages"
    root.mkdir(parents=True)
    assert AudioPaths(layout).reference(spoken, root) == "../../.work/tts/u1.flac"
    copied = AudioPaths(layout, copy=True)
    path = copied.reference(spoken, root)
    assert path.startswith("../../audio/") and (root / path).read_bytes() == Path(spoken.path).read_bytes()
    assert copied.written == [(root / path).resolve()]
