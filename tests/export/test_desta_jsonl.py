"""The DeSTA2.5 JSONL export, written and read back against the schema DeSTA's trainer reads."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from factories import write_tone

from speechsift.engine.layout import OutputLayout
from speechsift.export.desta_jsonl import AUDIO_LOCATOR, write_desta_jsonl_part
from speechsift.records import AudioRef, Clip, Generation
from speechsift.tasks import TaskSettings, get_task

KEYS = {"id", "dataset", "seed_description", "prompt", "response", "messages", "audios"}


def _clip(tmp_path, name, **kw):
    path = write_tone(tmp_path / "clips" / f"{name}.wav", seconds=0.3)
    clip = Clip(f"src/{name}", "src", AudioRef(path=str(path)), "en", kw.pop("speaker", "spk1"),
                kw.pop("text", f"words of {name} <|AUDIO|>"), {}, kw.pop("meta", {"gender": "female"}),
                kw.pop("features", {"duration_s": 0.3}))
    return clip


def _records(folder):
    return [json.loads(line) for path in sorted(folder.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def test_written_records_follow_the_desta_schema(tmp_path):
    layout = OutputLayout(tmp_path / "out")
    a = _clip(tmp_path, "a", features={"duration_s": 0.3, "relative_db": -10.0})
    b = _clip(tmp_path, "b", features={"duration_s": 0.3, "relative_db": -30.0})
    desta = get_task("desta")
    pending = desta.build(a, TaskSettings())
    generation = Generation(backend="openai", model="m", llm_messages=list(pending.request.messages))
    (described,) = desta.finish(pending, "A woman reads a short sentence.", generation)
    template = get_task("closed_ended_template").build(a, TaskSettings())[0]
    (compared,) = get_task("comparison_template").build_pair(a, b, TaskSettings())
    spoken = get_task("controllable_template").build(a, TaskSettings())  # audio target: not written
    files = write_desta_jsonl_part([described, template, compared, spoken], layout, 3)
    assert sorted(p.relative_to(layout.exports).as_posix() for p in files) == [
        "desta_jsonl/train/closed_ended_template/part-00003.jsonl",
        "desta_jsonl/train/comparison_template/part-00003.jsonl",
        "desta_jsonl/train/desta/part-00003.jsonl",
    ]
    records = {r["id"]: r for r in _records(layout.exports / "desta_jsonl")}
    assert set(records) == {described.id, template.id, compared.id}
    for record in records.values():
        assert set(record) == KEYS and record["dataset"] == "src"
        assert [m["role"] for m in record["messages"]] == ["user"]
        for message in record["messages"]:
            assert message["content"].count(AUDIO_LOCATOR) == len(message.get("audios", []))
            for audio in message["audios"]:
                assert set(audio) == {"audio", "text"} and Path(audio["audio"]).parent == (tmp_path / "clips").resolve()
        assert record["audios"] == [a for m in record["messages"] for a in m["audios"]]
    row = records[described.id]
    assert row["seed_description"] == pending.request.messages[1]["content"].rsplit("\n\n", 1)[0]
    assert row["prompt"] == described.instruction and row["response"] == "A woman reads a short sentence."
    assert row["messages"][0]["content"] == f"{AUDIO_LOCATOR}\n{described.instruction}"
    assert row["audios"][0]["text"] == a.text
    two = records[compared.id]
    assert two["messages"][0]["content"].startswith(f"{AUDIO_LOCATOR}\n{AUDIO_LOCATOR}\n")
    assert [x["text"] for x in two["audios"]] == [" ", " "]  # different texts: unknown per audio
    assert records[template.id]["seed_description"] == ""


def test_locator_in_corpus_text_cannot_add_an_audio(tmp_path):
    layout = OutputLayout(tmp_path / "out")
    clip = _clip(tmp_path, "c")
    example = get_task("transcription").build(clip, TaskSettings())
    example = replace(example, instruction=f"say {AUDIO_LOCATOR}",
                      messages=[replace(example.messages[0], content=[*example.messages[0].content[:1],
                                                                        replace(example.messages[0].content[1], text=f"say {AUDIO_LOCATOR}")]),
                                example.messages[1]])
    write_desta_jsonl_part([example], layout, 0)
    (record,) = _records(layout.exports / "desta_jsonl")
    assert record["messages"][0]["content"].count(AUDIO_LOCATOR) == 1


def test_loads_with_datasets_json(tmp_path):
    datasets = pytest.importorskip("datasets")
    layout = OutputLayout(tmp_path / "out")
    a = _clip(tmp_path, "a")
    examples = get_task("closed_ended_template").build(a, TaskSettings())
    write_desta_jsonl_part(examples, layout, 0)
    ds = datasets.load_dataset("json", data_files=str(layout.exports / "desta_jsonl/train/*/*.jsonl"), split="train")
    assert len(ds) == len(examples) and set(ds.column_names) == KEYS
    assert ds[0]["messages"][0]["audios"][0]["audio"].endswith("a.wav")
