"""A run as a user makes one, end to end with the command line: English and German sources, several
task families at once (transcription, templates, LLM questions, LLM and template comparisons),
measured features and curation on, against an LLM server on 127.0.0.1 that fails for a while; then
the rerun the warning asks for, once the server is well again.

The server stands for an OpenAI-compatible server (vLLM serve and the like). It answers from the
facts in the prompt, in the language the prompt asks for; while "failing" it answers 503 to the
German clips' questions and drops the connection on one comparison, longer than the retries last.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml
from factories import recipe_dict, release_rows, write_manifest, write_tone
from servers import RESET, ChatServer

SENTENCES = {
    "en": ["Please call Stella today.", "The train leaves at noon.", "We walked along the quiet river.",
           "Bring your coat, it is cold."],
    "de": ["Bitte ruf Stella heute an.", "Der Zug fährt um zwölf Uhr.", "Wir gingen am ruhigen Fluss entlang.",
           "Nimm deinen Mantel mit, es ist kalt."],
}
ANSWERS = {
    "English": ("How long is the recording?", "The recording lasts about {d}.",
                "Which of the two recordings has the higher voice?",
                "The {which} recording, {d1} against {d2}, has the higher voice."),
    "German": ("Wie lange dauert die Aufnahme?", "Die Aufnahme dauert ungefähr {d}.",
               "Welche der beiden Aufnahmen hat die höhere Stimme?",
               "Die {which} Aufnahme, {d1} gegen {d2}, hat die höhere Stimme."),
}
ORDINALS = {"English": ("first", "second"), "German": ("erste", "zweite")}


class Server:
    """Answers from the prompt's facts; ``failing`` fails the German questions and one comparison."""

    def __init__(self) -> None:
        self.failing = True
        self.dropped: str | None = None  # the comparison whose connection drops while failing

    def __call__(self, body: dict):
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        language = "German" if "in German" in system else "English"
        facts = json.loads(user)
        if "audio_1" in facts:  # a comparison, with what measurably differs
            if self.failing and (self.dropped is None or self.dropped == user) and language == "English":
                self.dropped = user
                return RESET
            first = facts["measured"].get("higher_pitch") == "audio_1"
            d1, d2 = (next(iter(_durations(facts[k]))) for k in ("audio_1", "audio_2"))
            question, answer = ANSWERS[language][2:]
            answer = answer.format(which=ORDINALS[language][0 if first else 1], d1=d1, d2=d2)
        else:
            if self.failing and language == "German":
                return 503, {"error": {"message": "model is loading"}}
            question, answer = ANSWERS[language][:2]
            answer = answer.format(d=next(iter(_durations(facts))))
        return json.dumps({"q": question, "a": answer}, ensure_ascii=False)


def _durations(facts: dict) -> list[str]:
    acoustic = facts["acoustic_level"]
    return [acoustic[key] for key in ("duration", "dauer") if key in acoustic]


def _corpus(root: Path) -> list[dict]:
    sources = []
    for language, sentences in SENTENCES.items():
        rows = []
        for i, text in enumerate(sentences):
            # two speakers per language; pitch, level and length differ clip by clip
            audio = write_tone(root / language / f"{i}.wav", seconds=0.5 + 0.15 * i + (0.05 if language == "de" else 0),
                               freq=[110, 240, 150, 300][i], amplitude=[0.05, 0.6, 0.3, 0.9][i])
            rows.append({"id": f"{language}{i}", "audio": audio.name, "text": text, "speaker": f"{language}-spk{i % 2}",
                         "gender": ["male", "female"][i % 2], "emotion": ["happy", "sad", "angry", "neutral"][i]})
        manifest = write_manifest(root / language / "manifest.csv", rows)
        sources.append({"name": f"corpus_{language}", "kind": "manifest", "path": str(manifest), "language": language})
    return sources


def _cli(recipe: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "speechsift.cli", "run", str(recipe), "--no-progress"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})


def _released(out: Path) -> list[dict]:
    return release_rows(out)


def test_a_multilingual_run_with_features_and_curation_heals_on_rerun(tmp_path):
    out = tmp_path / "out"
    replies = Server()
    with ChatServer(reply=replies) as server:
        data = recipe_dict(tmp_path / "unused.csv", out, [
            "transcription",
            {"name": "closed_ended_template", "options": {"questions_per_clip": 2}},
            {"name": "closed_ended_acoustic", "options": {"max_pairs": 1}},
            {"name": "comparison", "pairing": {"strategy": "random_within_corpus", "seed": 1}},
            {"name": "comparison_template", "pairing": {"strategy": "random_within_corpus", "seed": 2}},
        ], llm={"backend": "openai", "model": "tiny", "api_base": server.url, "concurrency": 4,
                "retry": {"max_attempts": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.02}},
            engine={"shard_size": 4, "workers": 1}, features=["duration", "loudness", "pitch"], curate={})
        data["sources"] = _corpus(tmp_path / "corpus")
        recipe = tmp_path / "recipe.yaml"
        recipe.write_text(yaml.safe_dump(data, allow_unicode=True))

        failing = _cli(recipe)
        assert failing.returncode == 0, failing.stderr
        run = json.loads((out / "run.json").read_text())
        rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
        transient = Counter((r["task"], r["reason"]) for r in rejects if r.get("transient"))
        assert transient == {("closed_ended_acoustic", "server_error"): 4, ("comparison", "connection_error"): 1}
        assert run["llm"]["transient_failures"] == 5 and "run the same command again" in run["warnings"][0]
        assert "run the same command again" in failing.stderr
        asked_while_failing = len(server.requests)

        replies.failing = False
        healed = _cli(recipe)
        assert healed.returncode == 0, healed.stderr
        assert len(server.requests) - asked_while_failing == 5, "only the failed requests are asked again"

    run = json.loads((out / "run.json").read_text())
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert not [r for r in rejects if r.get("transient")] and run["warnings"] == []
    assert "transient_failures" not in run["llm"]
    for stage, counts in run["counts"].items():
        assert counts["inputs"] == counts["outputs"] + counts["rejected"], stage
    assert run["rejects"] == len(rejects)
    assert run["counts"]["enrich"]["inputs"] == 8, "every clip measured once, pairs included"

    rows = _released(out)
    languages = {(row["task"], row["language"]) for row in rows}
    for task in ("transcription", "closed_ended_template", "closed_ended_acoustic", "comparison", "comparison_template"):
        assert {(task, "en"), (task, "de")} <= languages, task
    acoustic = {row["clip_ids"][0]: row for row in rows if row["task"] == "closed_ended_acoustic"}
    assert acoustic["corpus_de/de1"]["response"].startswith("Die Aufnahme dauert ungefähr")
    assert acoustic["corpus_en/en1"]["response"].startswith("The recording lasts about")
    for row in rows:
        if row["task"].startswith("comparison"):
            assert len(row["clip_ids"]) == 2 and row["clip_ids"][0].split("/")[0] == row["clip_ids"][1].split("/")[0]
        assert row["meta"].get("label_sources") or row["task"].startswith("comparison"), "measured labels recorded"
    measured = [row for row in rows if row["task"] == "comparison"]
    assert all(row["generation"]["llm_messages"] and '"measured"' in row["generation"]["llm_messages"][-1]["content"]
               for row in measured)
    assert run["examples"] == dict(Counter(row["task"] for row in rows))
