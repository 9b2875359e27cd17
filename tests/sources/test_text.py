"""The text source: instruction rows and conversations from files and datasets, as text records."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from factories import make_corpus, recipe_dict, write_manifest

from speechsift.engine import run_recipe
from speechsift.errors import ConfigError, CorpusError, Reject
from speechsift.recipe import parse_recipe
from speechsift.records import Example, Message, Part
from speechsift.sources import RejectedRow, read_source
from speechsift.sources.text import TextRecord, parse_messages, read_text, record_kind
from speechsift.tasks.base import DIRECT, Task, get_task, register_task, takes


def write_jsonl(path, rows):
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows), encoding="utf-8")
    return path


def test_alpaca_rows_with_usual_names_and_labels(tmp_path):
    path = write_jsonl(tmp_path / "alpaca.jsonl", [
        {"instruction": "  Give three tips for staying healthy. ", "input": "", "output": "Eat well.", "gender": "F"},
        {"id": "q2", "instruction": "Translate to German.", "input": "Good morning", "output": "Guten Morgen",
         "language": "de", "category": "translation"},
        {"instruction": "   ", "output": "nothing to answer"},
    ])
    first, second, empty = read_text(source="alpaca", path=path, language="en")
    assert first.clip_id == "alpaca/row1" and first.language == "en" and first.text == "Give three tips for staying healthy."
    assert record_kind(first) == "text" and first.audio.path is None and first.audio.bytes is None
    assert first.raw == {"gender": "F"}, "label columns are read as manifests read them"
    assert TextRecord.of(first) == TextRecord("Give three tips for staying healthy.", None, "Eat well.")
    assert second.clip_id == "alpaca/q2" and second.language == "de", "a row's own language wins"
    record = TextRecord.of(second)
    assert (record.input, record.response, record.category) == ("Good morning", "Guten Morgen", "translation")
    assert record.turns() == [{"role": "user", "content": "Translate to German.\n\nGood morning"},
                              {"role": "assistant", "content": "Guten Morgen"}]
    assert isinstance(empty, RejectedRow) and (empty.id, empty.reason) == ("alpaca/row3", "missing_instruction")


def test_dolly_csv_with_a_fields_mapping(tmp_path):
    path = write_manifest(tmp_path / "dolly.csv", [
        {"prompt_text": "When was the Eiffel Tower built?", "context": "It opened in 1889.", "response": "1889",
         "category": "closed_qa"},
    ])
    [clip] = read_text(source="dolly", path=path, fields={"instruction": "prompt_text"})
    record = TextRecord.of(clip)
    assert (record.instruction, record.input, record.response, record.category) == (
        "When was the Eiffel Tower built?", "It opened in 1889.", "1889", "closed_qa")
    with pytest.raises(CorpusError, match="no instruction column"):
        list(read_text(source="dolly", path=path))
    with pytest.raises(CorpusError, match="unknown field"):
        list(read_text(source="dolly", path=path, fields={"audio": "prompt_text"}))


def test_json_array_file_and_items_that_are_not_objects(tmp_path):
    path = tmp_path / "alpaca_data.json"
    path.write_text(json.dumps([{"instruction": "Name a colour.", "output": "Blue."}, ["not", "an object"]]), encoding="utf-8")
    clip, bad = read_text(source="a", path=path)
    assert TextRecord.of(clip).response == "Blue."
    assert isinstance(bad, RejectedRow) and bad.reason == "bad_row"
    path.write_text("[{broken", encoding="utf-8")
    with pytest.raises(CorpusError, match="not valid JSON at line 1"):
        list(read_text(source="a", path=path))


def test_conversations_openai_and_sharegpt(tmp_path):
    openai = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"},
              {"role": "assistant", "content": [{"type": "text", "text": "Hello."}]},
              {"role": "user", "content": "How tall is Everest?"}, {"role": "assistant", "content": "8849 m."}]
    sharegpt = [{"from": "human", "value": "What is 2+2?"}, {"from": "gpt", "value": "4"},
                {"from": "human", "value": "And 3+3?"}]
    path = write_jsonl(tmp_path / "chat.jsonl", [
        {"id": "c1", "messages": openai},
        {"id": "c2", "conversations": sharegpt},
        {"id": "c3", "messages": [{"role": "assistant", "content": "I start?"}]},
        {"id": "c4", "messages": [{"role": "user", "content": "x"}, {"role": "user", "content": "y"}]},
        {"id": "c5", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "x"}]}]},
        {"id": "c6", "messages": "[not json"},
        {"id": "c7", "messages": [{"role": "tool", "content": "42"}]},
    ])
    items = list(read_text(source="chat", path=path, fields={"messages": "messages"}))
    c1 = items[0]
    record = TextRecord.of(c1)
    assert c1.text == "Hi!" and record.instruction == "Hi!" and record.response == "8849 m."
    assert [t["role"] for t in record.turns()] == ["system", "user", "assistant", "user", "assistant"]
    assert record.turns()[2]["content"] == "Hello.", "text parts of a content list are joined"
    # ShareGPT rows are found under `conversations` when no mapping points elsewhere
    [c2] = [c for c in read_text(source="chat", path=write_jsonl(tmp_path / "sg.jsonl", [{"conversations": sharegpt}]))]
    sg = TextRecord.of(c2)
    assert [t["role"] for t in sg.turns()] == ["user", "assistant", "user"]
    assert sg.response is None, "a conversation ending on a user turn has no target"
    reasons = {i.id: (i.reason, i.message) for i in items[1:] if isinstance(i, RejectedRow)}
    assert {id_: reason for id_, (reason, _) in reasons.items()} == {
        "chat/c2": "missing_instruction",  # its conversation is in a column the mapping does not name
        **{f"chat/c{i}": "bad_messages" for i in range(3, 8)}}
    assert "turn 1 is a assistant turn where a user turn belongs" in reasons["chat/c3"][1]
    assert "role 'tool'" in reasons["chat/c7"][1] and "not valid JSON" in reasons["chat/c6"][1]
    assert "chat.jsonl row 6" in reasons["chat/c6"][1], "the message names the file and the row"


def test_parse_messages_accepts_json_text():
    assert parse_messages('[{"role": "user", "content": " hi "}]') == [{"role": "user", "content": "hi"}]
    with pytest.raises(ValueError, match="no user turn"):
        parse_messages([{"role": "system", "content": "x"}])


def test_hf_dataset_folder_and_parquet_file(tmp_path):
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list([
        {"instruction": "Say hello.", "response": "Hello!", "category": "open_qa"},
        {"instruction": "", "response": "orphan", "category": "open_qa"},
    ])
    ds.save_to_disk(str(tmp_path / "saved"))
    ds.to_parquet(str(tmp_path / "d.parquet"))
    for path in (tmp_path / "saved", tmp_path / "d.parquet"):
        ok, bad = read_text(source="d", path=path)
        assert TextRecord.of(ok) == TextRecord("Say hello.", None, "Hello!", "open_qa")
        assert bad.reason == "missing_instruction"


# --- through the engine ----------------------------------------------------------------------


class EchoInstruction(Task):
    """A task for these tests: the row's own response as the target, text in and text out."""

    name = "test_text_echo"
    inputs = frozenset({"text"})

    def build(self, clip, settings):
        record = TextRecord.of(clip)
        if record.response is None:
            raise Reject("missing_response", f"{clip.clip_id} has no response")
        messages = [Message("user", [Part.of_text(record.turns()[0]["content"])]),
                    Message("assistant", [Part.of_text(record.response)])]
        return Example(self.example_id(clip.clip_id), self.name, [clip.clip_id], [], record.instruction,
                       record.response, messages, clip.source, clip.language, clip.meta, generation=DIRECT)


@pytest.fixture(autouse=True, scope="module")
def echo_task():
    """The test task, registered for this module's tests only."""
    from speechsift.tasks import base

    register_task(EchoInstruction)
    yield
    del base._TASKS[EchoInstruction.name]


def _mixed_recipe(tmp_path, **changes):
    manifest = make_corpus(tmp_path / "corpus", n=3)
    text = write_jsonl(tmp_path / "instr.jsonl", [
        {"instruction": "Name a fruit.", "output": "An apple.", "gender": "female"},
        {"instruction": "Name a tree.", "output": "An oak."},
        {"instruction": "No answer here."},
        "{broken",
    ])
    data = recipe_dict(manifest, tmp_path / "out", ["transcription", "test_text_echo"], features=["duration"],
                       engine={"workers": 1})  # a few clips: measured in-process
    data["sources"].append({"name": "instr", "kind": "text", "path": str(text), "language": "en"})
    data.update(changes)
    return data


def test_text_records_reach_text_tasks_only_and_every_row_is_counted(tmp_path):
    recipe = parse_recipe(_mixed_recipe(tmp_path))
    records = list(read_source(recipe.sources[1]))
    assert takes(get_task("test_text_echo"), records[0]) and not takes(get_task("transcription"), records[0])
    result = run_recipe(recipe, progress=False)
    assert result.totals.examples == {"transcription": 3, "test_text_echo": 2}
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    counts = run["counts"]
    assert counts["read"]["inputs"] == 7 and counts["read"]["rejected_by_reason"] == {"bad_row": 1}
    assert counts["probe_audio"]["outputs"] == 6 and counts["enrich"]["outputs"] == 6, "text records pass through"
    assert counts["task.transcription"]["inputs"] == 3, "audio tasks never see text records"
    assert counts["task.test_text_echo"] == {"inputs": 3, "outputs": 2, "rejected": 1,
                                             "rejected_by_reason": {"missing_response": 1}}
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert {(r["id"], r["reason"]) for r in rejects} == {("instr/row3", "missing_response"), ("instr/row4", "bad_row")}
    ds = __import__("datasets").load_dataset("parquet", data_files=str(tmp_path / "out" / "data" / "*.parquet"),
                                             split="train", filters=[("task", "==", "test_text_echo")])
    rows = sorted(ds, key=lambda row: row["instruction"])
    assert [row["response"] for row in rows] == ["An apple.", "An oak."]
    assert rows[0]["meta"]["gender"] == "female", "a text row's labels are normalized like a manifest's"
    again = run_recipe(recipe, progress=False)
    assert again.shards_skipped == again.shards, "an unchanged rerun redoes nothing"


def test_recipe_checks_that_text_sources_feed_a_text_task(tmp_path):
    data = _mixed_recipe(tmp_path, tasks=["transcription"])
    with pytest.raises(ConfigError, match="source 'instr' \\(kind: text\\) feeds no task.*test_text_echo"):
        parse_recipe(data)
    data = _mixed_recipe(tmp_path, tasks=[{"name": "transcription", "sources": ["instr"]}, "test_text_echo"])
    with pytest.raises(ConfigError, match="task 'transcription' takes audio clips, and source 'instr' holds text"):
        parse_recipe(data)
    data = _mixed_recipe(tmp_path, tasks=["transcription", {"name": "test_text_echo", "sources": ["src"]}])
    with pytest.raises(ConfigError, match="task 'test_text_echo' takes text records, and source 'src' holds audio"):
        parse_recipe(data)
    data = _mixed_recipe(tmp_path)
    data["sources"][1] = replace_dict(data["sources"][1], dataset="org/set")
    with pytest.raises(ConfigError, match="give one of `path`"):
        parse_recipe(data)


def replace_dict(d, **changes):
    return {**d, **changes}


def test_record_kinds():
    from speechsift.records import AudioRef, Clip

    text = Clip("s/1", "s", AudioRef(), "en", None, "Hi", extra={"text_record": TextRecord("Hi").to_extra()})
    assert record_kind(text) == "text"
    assert record_kind(replace(text, audio=AudioRef("/cache/x.wav"))) == "spoken"
    assert record_kind(replace(text, extra={})) == "audio"
    spoken = replace(text, audio=AudioRef("/cache/x.wav"))
    assert takes(get_task("test_text_echo"), spoken), "a text task takes a voiced text record too"
    assert not takes(get_task("transcription"), spoken)
