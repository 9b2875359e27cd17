"""The DeSTA2.5 JSONL export, written and read back against what DeSTA2.5's trainer reads
(``simple_dataset.py``: locators counted in the chat text, ``data_root`` joined to each path,
each audio's ``text`` placed in the input)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from factories import write_tone

from speechsift.layout import OutputLayout
from speechsift.export.audio_files import AudioPaths
from speechsift.export.desta_jsonl import AUDIO_LOCATOR, FRAMED_LOCATOR, NO_TRANSCRIPT, DestaExport, audio_text
from speechsift.records import AudioRef, Clip, Generation
from speechsift.tasks import TaskSettings, get_task

KEYS = {"id", "dataset", "seed_description", "prompt", "response", "messages", "audios"}


def _clip(tmp_path, name, **kw):
    path = write_tone(tmp_path / "clips" / f"{name}.wav", seconds=0.3)
    return Clip(f"src/{name}", "src", AudioRef(path=str(path)), "en", kw.pop("speaker", "spk1"),
                kw.pop("text", f"words of {name}"), {}, kw.pop("meta", {"gender": "female"}),
                kw.pop("features", {"duration_s": 0.3}))


def _records(folder):
    return [json.loads(line) for path in sorted(folder.rglob("*.jsonl")) for line in path.read_text().splitlines()]


def _write(examples, layout, shard=0):
    export = DestaExport()
    files = export.write_part(examples, layout, shard, AudioPaths(layout))
    return files, export.counts


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
    spoken = get_task("controllable_template").build(a, TaskSettings())  # audio target: left out
    transcribed = get_task("transcription").build(a, TaskSettings())
    files, counts = _write([described, template, compared, spoken, transcribed], layout, 3)
    assert sorted(p.relative_to(layout.exports).as_posix() for p in files) == [
        "desta_jsonl/train/closed_ended_template/part-00003.jsonl",
        "desta_jsonl/train/comparison_template/part-00003.jsonl",
        "desta_jsonl/train/desta/part-00003.jsonl",
        "desta_jsonl/train/transcription/part-00003.jsonl",
    ]
    assert counts.left_out == {("controllable_template", "audio_target"): 1}
    assert sum(counts.rows.values()) == 4
    records = {r["id"]: r for r in _records(layout.exports / "desta_jsonl")}
    data_root = layout.exports / "desta_jsonl"
    for record in records.values():
        assert set(record) == KEYS and record["dataset"] == "src"
        assert [m["role"] for m in record["messages"]] == ["system", "user"]
        chat = "".join(m["content"] for m in record["messages"])
        audios = [x for m in record["messages"] for x in m["audios"]]
        assert chat.count(AUDIO_LOCATOR) == chat.count(FRAMED_LOCATOR) == len(audios) == len(record["audios"])
        for audio in audios:  # source files outside OUT: absolute, which os.path.join(data_root, ...) keeps
            assert set(audio) == {"audio", "text"} and os.path.isabs(audio["audio"])
            assert Path(os.path.join(data_root, audio["audio"])).parent == (tmp_path / "clips").resolve()
        assert record["audios"] == audios
    row = records[described.id]
    assert row["seed_description"] == pending.request.messages[1]["content"].rsplit("\n\n", 1)[0]
    assert row["prompt"] == described.instruction and row["response"] == "A woman reads a short sentence."
    assert row["messages"][1]["content"] == f"{FRAMED_LOCATOR}\n{described.instruction}"
    assert row["audios"][0]["text"] == a.text
    two = records[compared.id]
    assert two["messages"][1]["content"].startswith(f"{FRAMED_LOCATOR}\n{FRAMED_LOCATOR}\n")
    assert [x["text"] for x in two["audios"]] == [a.text, b.text], "each clip keeps its own transcript"
    assert records[template.id]["seed_description"] == ""
    assert records[transcribed.id]["audios"][0]["text"] == NO_TRANSCRIPT, "the answer is not given in the input"
    assert records[transcribed.id]["response"] == a.text.lower()


def test_audio_text_is_withheld_only_when_it_is_the_answer():
    assert audio_text("Hello, World!", "hello world") == NO_TRANSCRIPT
    assert audio_text("Hello, World!", "The speaker greets everyone: hello world.") == "Hello, World!"
    assert audio_text(None, "yes") == audio_text("  ", "yes") == NO_TRANSCRIPT


def test_paths_inside_out_are_relative_to_data_root(tmp_path):
    layout = OutputLayout(tmp_path / "out")
    clip = _clip(tmp_path, "w")
    clip.audio.offset_s, clip.audio.duration_s = 0.1, 0.1  # a window: written under OUT/audio
    example = get_task("sit_ssp").build(clip, TaskSettings())
    example.response = "Sounds like a tone."
    _write([example], layout)
    (record,) = _records(layout.exports / "desta_jsonl")
    path = record["audios"][0]["audio"]
    assert path.startswith("../../audio/") and (layout.exports / "desta_jsonl" / path).is_file()


def test_loads_with_datasets_json(tmp_path):
    datasets = pytest.importorskip("datasets")
    layout = OutputLayout(tmp_path / "out")
    a, b = _clip(tmp_path, "a"), _clip(tmp_path, "b", features={"duration_s": 0.3, "relative_db": -30.0})
    a.features["relative_db"] = -5.0
    examples = get_task("closed_ended_template").build(a, TaskSettings())
    examples += get_task("comparison_template").build_pair(a, b, TaskSettings())
    _write(examples, layout)
    ds = datasets.load_dataset("json", data_files=str(layout.exports / "desta_jsonl/train/*/*.jsonl"), split="train")
    assert len(ds) == len(examples) and set(ds.column_names) == KEYS
    assert {len(m[1]["audios"]) for m in ds["messages"]} == {1, 2}
    assert ds[0]["messages"][1]["audios"][0]["audio"].endswith("a.wav")


def test_spoken_responses_keep_their_text_and_multi_turn_context(tmp_path):
    from speechsift.engine.speech import with_spoken_turns
    from speechsift.records import Message, Part

    layout = OutputLayout(tmp_path / "out")
    clip = _clip(tmp_path, "s")
    reply = AudioRef(path=str(write_tone(tmp_path / "clips" / "reply.wav", seconds=0.3)))
    example = get_task("transcription").build(clip, TaskSettings())
    example.messages = [*example.messages, Message("user", [Part.of_text("And louder?")]),
                        Message("assistant", [Part.of_text("Yes, louder.")])]
    example.response = "Yes, louder."
    spoken = with_spoken_turns(example, [1, 3], [reply, reply])  # both answers voiced
    assert spoken.audio_transcripts() == [clip.text, clip.text.lower(), "Yes, louder."]
    _files, counts = _write([spoken], layout)
    assert not counts.left_out
    (record,) = _records(layout.exports / "desta_jsonl")
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant", "user"]
    assert record["messages"][2] == {"role": "assistant", "content": clip.text.lower(), "audios": []}
    assert len(record["audios"]) == 1 and record["response"] == "Yes, louder."
