"""Speech synthesis in whole runs: text instruction data in five languages voiced by espeak-ng
beside a speech corpus, with features on; what comes out (Parquet read back with ``datasets``,
the exports, rejects, run.json); a rerun that synthesizes nothing; a killed run that resumes
synthesizing only what is missing (the openai speech backend against a 127.0.0.1 server)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from factories import make_corpus, recipe_dict
from features.speech_fixtures import SKIP_REASON, espeak_available
from servers import ChatServer, espeak_speech

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe

pytestmark = pytest.mark.skipif(not espeak_available(), reason=SKIP_REASON)

ROWS = [
    {"id": "en1", "instruction": "Give three tips for staying healthy.", "output": "Eat well, sleep enough and move.",
     "language": "en", "category": "brainstorming"},
    {"id": "de1", "instruction": "Übersetze ins Englische.", "input": "Guten Morgen", "output": "Good morning",
     "language": "de"},
    {"id": "fr1", "instruction": "Quelle est la capitale de la France ?", "output": "Paris.", "language": "fr"},
    {"id": "it1", "messages": [{"role": "system", "content": "Rispondi in breve."},
                               {"role": "user", "content": "Ciao, come stai?"}, {"role": "assistant", "content": "Bene."},
                               {"role": "user", "content": "E domani?"}, {"role": "assistant", "content": "Anche."}],
     "language": "it"},
    {"id": "es1", "instruction": "¿Cuántos días tiene una semana?", "output": "Siete.", "language": "es"},
    {"id": "en2", "instruction": "Tell me a joke.", "language": "en"},  # no response
    {"id": "ja1", "instruction": "日本の首都はどこですか", "output": "東京", "language": "en"},  # not Latin script
    {"id": "pt1", "instruction": "Qual é a capital do Brasil?", "output": "Brasília.", "language": "pt"},  # no voice
    {"id": "sym", "instruction": "?!?! ... !!!", "output": "Hm.", "language": "en"},  # nothing to say
]


def _recipe(tmp_path: Path, out: Path, **tts) -> dict:
    corpus = make_corpus(tmp_path / "corpus", n=3)
    text = tmp_path / "instructions.jsonl"
    text.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in ROWS), encoding="utf-8")
    data = recipe_dict(corpus, out, [
        {"name": "transcription", "sources": ["src"]},
        {"name": "spoken_instruction", "speak_response": True, "options": {"context": "voiced"}},
        "controllable_template",
    ], features=["duration", "loudness", "pitch", "rate"], engine={"workers": 1})  # measured in-process: a few clips
    data["sources"].append({"name": "instr", "kind": "text", "path": str(text)})
    data["tts"] = {"seed": 3, **tts}
    data["output"]["formats"] = ["parquet", "sift_jsonl", "messages"]
    return data


def _rows(out: Path, task: str) -> list[dict]:
    import datasets

    ds = datasets.load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train",
                               filters=[("task", "==", task)])
    ds = ds.cast_column("audios", [datasets.Audio(decode=False)])  # bytes, decoded by soundfile
    return sorted(ds, key=lambda row: row["clip_ids"][0])


def test_text_data_voiced_in_five_languages_beside_a_corpus(tmp_path):
    out = tmp_path / "out"
    result = run_recipe(parse_recipe(_recipe(tmp_path, out)), progress=False)
    # controllable_template speaks the corpus's clips and the voiced records alike
    assert result.examples == {"transcription": 3, "spoken_instruction": 5, "controllable_template": 3 + 6}
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["tts"]["rejected_by_reason"] == {
        "no_voice_for_language": 1, "unsupported_script": 1, "no_speakable_text": 1}
    assert run["counts"]["task.spoken_instruction"]["rejected_by_reason"] == {"missing_response": 1}
    assert run["counts"]["task.transcription"]["inputs"] == 3, "the corpus task never sees text records"
    # 6 voiced records: 7 user turns and a context; 6 assistant turns spoken for the 5 examples
    assert run["tts"]["synthesized"] == 8 + 6 and run["tts_this_run"] == run["tts"]
    rejects = {json.loads(line)["id"]: json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()}
    assert rejects["instr/pt1"]["reason"] == "no_voice_for_language" and "'pt'" in rejects["instr/pt1"]["message"]
    assert rejects["instr/en2"]["stage"] == "task.spoken_instruction"

    rows = {row["clip_ids"][0]: row for row in _rows(out, "spoken_instruction")}
    de = rows["instr/de1"]
    assert de["speaker_id"].startswith("tts/espeak-de-") and de["meta"]["gender"] in ("male", "female")
    assert "gender:synthesized" in de["meta"]["label_sources"] and "pitch:measured" in de["meta"]["label_sources"]
    assert de["duration_s"] > 0.3 and de["transcript"] == "Übersetze ins Englische."
    assert [[p["type"] for p in m["content"]] for m in de["messages"]] == [["audio", "audio"], ["text", "audio"]]
    assert len(de["audios"]) == 3 and all(a["bytes"][:4] == b"fLaC" for a in de["audios"]), "audio embedded"
    it = rows["instr/it1"]
    assert [m["role"] for m in it["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    assert [p["audio"] for m in it["messages"] for p in m["content"] if p["type"] == "audio"] == [0, 1, 2, 3]
    assert it["response"] == "Anche." and it["messages"][0]["content"][0]["text"] == "Rispondi in breve."

    control = {row["clip_ids"][0]: row for row in _rows(out, "controllable_template")}
    assert {c for c in control if c.startswith("instr/")} == {f"instr/{i}" for i in ("en1", "de1", "fr1", "it1", "es1", "en2")}
    assert control["instr/fr1"]["meta"]["gender"] == rows["instr/fr1"]["meta"]["gender"]

    # the messages format carries no assistant audio: one <audio> per remaining audio, user side only
    for path in (out / "exports" / "messages" / "train" / "spoken_instruction").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            placeholders = sum(m["content"].count("<audio>") for m in record["messages"])
            assert placeholders == len(record["audios"]) > 0
            assert all("<audio>" not in m["content"] for m in record["messages"] if m["role"] == "assistant")
    sift = json.loads(next((out / "exports" / "sift_jsonl" / "train" / "spoken_instruction" / "es").glob("*.jsonl"))
                      .read_text().splitlines()[0])
    assert [[k for k, v in part.items() if v is not None] for part in sift["messages"][1]["content"]] == [
        ["text"], ["audio_path"]]
    assert "## Speech synthesis" in (out / "README.md").read_text()

    again = run_recipe(parse_recipe(_recipe(tmp_path, out)), progress=False)
    assert again.shards_skipped == again.shards and again.tts_this_run == {}
    # another recipe on another output sharing the cache: everything is a cache hit
    shared = _recipe(tmp_path, tmp_path / "other", cache=str(out / ".work" / "tts"))
    other = run_recipe(parse_recipe(shared), progress=False)
    assert other.tts_this_run.get("synthesized", 0) == 0 and other.tts_this_run["cache_hits"] == 14


SHARD_SIZE = 2
TEXTS = 14


def _speech_recipe(tmp_path: Path, out: Path, url: str) -> Path:
    rows = [{"id": f"q{i:02d}", "instruction": f"Question number {i}: what is {i} plus {i}?",
             "output": f"It is {2 * i}.", "language": "en"} for i in range(TEXTS)]
    text = tmp_path / "questions.jsonl"
    text.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    data = {
        "name": "spoken", "sources": [{"name": "q", "kind": "text", "path": str(text)}],
        "tasks": [{"name": "spoken_instruction", "speak_response": True}],
        "tts": {"backend": "openai", "model": "kokoro", "api_base": url, "api_key_env": "TEST_TTS_KEY",
                "concurrency": 2, "voices": [{"voice": "en-us", "language": "en", "gender": "male"},
                                             {"voice": "en-us+f3", "language": "en", "gender": "female"}]},
        "engine": {"shard_size": SHARD_SIZE}, "output": {"dir": str(out), "report": False},
    }
    path = tmp_path / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _cli(recipe: Path) -> list[str]:
    return [sys.executable, "-m", "speechsift.cli", "run", str(recipe), "--no-progress"]


def test_killed_run_resumes_synthesizing_only_what_is_missing(tmp_path):
    env = {**os.environ, "TEST_TTS_KEY": "sk-never-written"}
    with ChatServer(espeak_speech, delay_s=0.1) as server:
        out = tmp_path / "killed"
        recipe = _speech_recipe(tmp_path, out, server.url)
        process = subprocess.Popen(_cli(recipe), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        markers = out / ".work" / "shards"
        deadline = time.monotonic() + 60
        while len(list(markers.glob("part-*.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert 2 <= len(list(markers.glob("part-*.json"))) < TEXTS // SHARD_SIZE, "the run must be killed mid-way"
        cached_at_kill = len(list((out / ".work" / "tts").rglob("*.flac")))
        asked_before = len(server.requests)

        rerun = subprocess.run(_cli(recipe), env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        # 14 instructions and 14 responses: what was stored before the kill is not asked again
        assert len(server.requests) - asked_before == 2 * TEXTS - cached_at_kill
        run = json.loads((out / "run.json").read_text())
        assert run["tts"]["synthesized"] == 2 * TEXTS and run["examples"] == {"spoken_instruction": TEXTS}

        before = len(server.requests)
        again = subprocess.run(_cli(recipe), env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and len(server.requests) == before, "an unchanged rerun asks nothing"
    written = [p for p in out.rglob("*") if p.is_file()]
    assert not any(b"sk-never-written" in p.read_bytes() for p in written), "the key is never written"


def _spoken_rows(out: Path) -> list[tuple]:
    rows = [(r["id"], r["response"], r["speaker_id"], r["meta"].get("gender")) for r in _rows(out, "spoken_instruction")]
    return sorted(rows)


def test_a_speech_server_that_fails_for_now_heals_on_rerun(tmp_path):
    """The speech server answers 503 for two instructions (past the retries) while it blips: those
    examples are transient rejects, their shards stay unfinished and the warnings say so; once it
    heals, the same run redoes only those two shards, synthesizing only their missing speech, and
    the release equals one made without a failure."""
    failing = {"Question number 3: what is 3 plus 3?", "Question number 8: what is 8 plus 8?"}
    state = {"blip": True}

    def speech(body):
        if state["blip"] and body["input"] in failing:
            return 503, {"error": {"message": "model is loading"}}
        return espeak_speech(body)

    def recipe(out: Path):
        data = yaml.safe_load(_speech_recipe(tmp_path, out, server.url).read_text())
        data["tts"]["retry"] = {"max_attempts": 1}
        return parse_recipe(data)

    os.environ["TEST_TTS_KEY"] = "sk-test"
    try:
        with ChatServer(speech) as server:
            out = tmp_path / "out"
            first = run_recipe(recipe(out), progress=False)
            rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
            assert [(r["reason"], r.get("transient")) for r in rejects] == [("server_error", True)] * 2
            assert first.examples["spoken_instruction"] == TEXTS - 2 and first.totals.tts["transient_failures"] == 2
            assert any("could not be synthesized for now" in w for w in first.warnings)

            state["blip"] = False
            sent = len(server.requests)
            healed = run_recipe(recipe(out), progress=False)
            again = [r["input"] for r in server.requests[sent:]]
            clean = run_recipe(recipe(tmp_path / "clean"), progress=False)
    finally:
        del os.environ["TEST_TTS_KEY"]
    assert healed.shards_skipped == healed.shards - 2 and not healed.warnings
    # the two failed instructions, their answers, and answers of those shards voiced anew (voices
    # are balanced per batch: the healed shard's batch is the clean run's, not the failed one's)
    redone = {f"Question number {i}: what is {i} plus {i}?" for i in (2, 3, 8, 9)} | {f"It is {2 * i}." for i in (2, 3, 8, 9)}
    assert failing <= set(again) <= redone
    assert healed.examples["spoken_instruction"] == TEXTS and (out / "rejects.jsonl").read_text() == ""
    assert _spoken_rows(out) == _spoken_rows(tmp_path / "clean") and clean.examples == healed.examples
