"""Whole runs with the SIFT/DeSTA tasks: template tasks on the template backend, LLM tasks against a
real OpenAI-compatible server on 127.0.0.1 that answers with scripted outputs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from factories import make_corpus, recipe_dict, release_rows
from servers import ChatServer

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe


def _run(data):
    return run_recipe(parse_recipe(data), progress=False)


def _table(out: Path, task: str) -> list[dict]:
    return release_rows(out, task)


def _rejects(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]


def _llm(url: str) -> dict:
    return {"backend": "openai", "model": "scripted", "api_base": url, "concurrency": 4}


def _lines(*pairs) -> str:
    return "\n".join(json.dumps({"q": q, "a": a}) for q, a in pairs)


def scripted(body: dict) -> str:
    """Answers by task (told apart by the system prompt); some clips get malformed, leaking or
    contradicting answers. The corpus (factories.make_corpus, n=6) has genders m, f, f, m, m, f."""
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    if system.startswith("You are a helpful assistant that can hear audio"):  # desta
        if "number 1." in user:
            return "According to the description, someone speaks."
        return "<think>plan</think>I hear a short spoken sentence."
    data = json.loads(user)
    if "speech synthesis model" in system:  # controllable: never sees the text
        return "Say 'sentence number' in a soft voice." if data["acoustic_level"].get("gender") == "female" \
            else "Instruction: Read the text clearly."
    acoustic = data.get("acoustic_level", {})
    text = data.get("content_level", {}).get("transcript", "")
    gender = acoustic.get("gender")
    if "number 4." in text:
        return "I am sorry, I cannot write that."
    if "number 2." in text:  # a female clip called a man
        return _lines(("Who is speaking?", "A man is speaking."))
    return "```json\n" + _lines(
        ("Who is speaking?", f"A {gender} speaker." if gender else "Someone."),
        ("What does the metadata say?", "According to the metadata, it is short."),
        ("Roughly how long is the clip?", "Less than a second."),
    ) + "\n```"


def test_llm_tasks_end_to_end_against_a_scripted_server(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=6)
    out = tmp_path / "out"
    tasks = ["closed_ended_acoustic", "closed_ended_content", "open_ended", "controllable", "desta"]
    with ChatServer(reply=scripted) as server:
        _run(recipe_dict(manifest, out, tasks, llm=_llm(server.url)))
    rejects = Counter((r["task"], r["reason"]) for r in _rejects(out) if r.get("task"))
    for task in ("closed_ended_acoustic", "closed_ended_content", "open_ended"):
        assert rejects[(task, "unparseable_json")] == 1 and rejects[(task, "contradicts_labels")] == 1
        rows = _table(out, task)
        assert len(rows) == 4 * 2  # 4 usable clips x 2 pairs (the leaking pair dropped)
        for row in rows:
            assert row["generation"]["backend"] == "openai" and row["generation"]["model"] == "scripted"
            assert "metadata" not in row["response"].lower()
            user, assistant = row["messages"]
            assert user["content"][0]["type"] == "audio" and user["content"][1]["text"] == row["instruction"]
            assert assistant["content"][0]["text"] == row["response"]
    acoustic = {r["clip_ids"][0]: r["response"] for r in _table(out, "closed_ended_acoustic")
                if r["instruction"] == "Who is speaking?"}
    assert acoustic["src/c000"] == "A male speaker." and acoustic["src/c005"] == "A female speaker."
    # controllable: the instructions that quote the text are rejected; the target is the clip's audio
    assert rejects[("controllable", "quotes_transcript")] == 3
    controllable = _table(out, "controllable")
    assert len(controllable) == 3
    for row in controllable:
        assert row["instruction"] == "Read the text clearly." and row["response"] == ""
        assert row["messages"][0]["content"][0]["text"].startswith("Read the text clearly.\nText: Sentence number")
        assert row["messages"][1]["content"] == [{"type": "audio", "text": None, "audio": 0}]
    # desta: one leak rejected; the others keep the answer, <think> removed
    assert rejects[("desta", "metadata_leak")] == 1
    desta = _table(out, "desta")
    assert len(desta) == 5 and {r["response"] for r in desta} == {"I hear a short spoken sentence."}
    sift = out / "exports" / "sift_jsonl" / "train" / "closed_ended" / "acoustic_level" / "en"
    assert len([json.loads(line) for p in sift.glob("*.jsonl") for line in p.read_text().splitlines()]) == 8
    run = json.loads((out / "run.json").read_text())
    for stage, counts in run["counts"].items():
        assert counts["inputs"] == counts["outputs"] + counts["rejected"], stage


def test_template_tasks_end_to_end_on_the_template_backend(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=6)
    out = tmp_path / "out"
    _run(recipe_dict(manifest, out, ["closed_ended_template", "controllable_template"]))
    closed = _table(out, "closed_ended_template")
    assert len(closed) == 6 * 3
    assert all(r["generation"]["backend"] == "template" and r["generation"]["model"] is None for r in closed)
    first = [r for r in closed if r["clip_ids"] == ["src/c000"]]
    assert {r["response"] for r in first} <= {
        "The voice is male.", "The speaker sounds happy.", "The speaker sounds like a young adult.",
        "The speaker talks slowly.", "The speaker talks quietly.", "The speaker is talking in English."}
    spoken = _table(out, "controllable_template")
    assert len(spoken) == 6 and all(r["messages"][1]["content"][0]["type"] == "audio" for r in spoken)
    again = tmp_path / "again"
    _run(recipe_dict(manifest, again, ["closed_ended_template", "controllable_template"]))
    assert [r["id"] for r in _table(again, "closed_ended_template")] == [r["id"] for r in closed]
    assert [r["instruction"] for r in _table(again, "controllable_template")] == [r["instruction"] for r in spoken]
