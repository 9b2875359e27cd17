"""One recipe with every task family, run on a fixed input, against the output the engine made
before the executor seam (issue 13): example ids, responses, splits, rejects and counts must not
change when the engine's shape does.

The input is made here, deterministically: the hostile release's two-language corpus (tone clips
with labels, answers and word timings; ``tests/hostile_release.py``), a text source, inline
instructions; features, curation, held-out splits and a mixture on. The LLM is a real HTTP server
on 127.0.0.1 standing for an instruct model: ``text_server.text_reply`` for the text tasks'
prompts, ``hostile_release.scripted_reply`` for the audio families'. Speech is synthesized with
espeak-ng. ``golden/every_family.json`` holds what the engine wrote before; set
``SPEECHSIFT_WRITE_GOLDEN=1`` to write it again after a change that is meant to change the output.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from features.speech_fixtures import SKIP_REASON, espeak_available
from hostile_release import _corpus
from hostile_release import scripted_reply as audio_reply
from servers import ChatServer
from text_server import text_reply

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe

GOLDEN = Path(__file__).parent / "golden" / "every_family.json"
pytestmark = pytest.mark.skipif(not espeak_available(), reason=SKIP_REASON)

INSTRUCTIONS = [
    {"instruction": "How do tides work?", "response": "The moon pulls the oceans.", "category": "open_qa"},
    {"instruction": "What should I pack for a weekend hike?", "category": "brainstorming"},
    {"instruction": "Why is the sky blue?", "category": "open_qa"},
    {"instruction": "How can I fall asleep faster?", "response": "Keep a routine.", "category": "open_qa"},
]


def reply(body: dict[str, Any]) -> str:
    """The text tasks' prompts as text_server answers them; every other prompt as the audio families expect."""
    answer = text_reply(body)
    return audio_reply(body) if answer.startswith("Here is a plain answer") else answer


def every_family(root: Path, url: str) -> dict[str, Any]:
    corpus = _corpus(root / "corpus")
    text = root / "instructions.jsonl"
    text.write_text("".join(json.dumps(row) + "\n" for row in INSTRUCTIONS))
    llm = {"backend": "openai", "model": "qwen2.5-7b-instruct", "api_base": url, "concurrency": 4, "max_tokens": 256}
    audio = {"sources": ["corpus"]}
    return {
        "name": "every_family",
        "sources": [{"name": "corpus", "kind": "manifest", "path": str(corpus)},
                    {"name": "dolly", "kind": "text", "path": str(text), "language": "en"}],
        "tasks": [
            {"name": "transcription", **audio}, {"name": "answer_extraction", **audio},
            {"name": "closed_ended_template", **audio}, {"name": "closed_ended_acoustic", **audio},
            {"name": "closed_ended_content", **audio}, {"name": "open_ended", **audio},
            {"name": "sift_s", **audio}, {"name": "sift_ssp", **audio}, {"name": "sit_ssp", **audio},
            {"name": "word_align", **audio}, {"name": "desta", **audio}, {"name": "constrained", **audio},
            {"name": "controllable", **audio}, {"name": "controllable_template", **audio},
            {"name": "comparison", "pairing": {"strategy": "random_within_corpus", "seed": 2}},
            {"name": "comparison_template", "pairing": {"strategy": "same_speaker_different_emotion", "seed": 1}},
            {"name": "spoken_instruction", "sources": ["dolly"]},
            {"name": "self_instruct", "options": {"instructions": ["How do volcanoes erupt?"], "per_round": 2,
                                                  "rounds": 1}},
            {"name": "evol_instruct", "options": {"instructions_file": str(text), "rounds": 1}},
            {"name": "magpie", "options": {"count": 3, "n_turns": 1}},
            {"name": "speech_response", "sources": ["dolly"], "speak_response": True},
            {"name": "preference_pairs", "sources": ["dolly"],
             "options": {"strategies": ["simple", "detailed"], "pairs_per_instruction": 1}},
        ],
        "llm": llm,
        "features": ["duration", "loudness", "pitch"],
        "curate": {},
        "splits": {"eval": {"per_cell": 2}, "dev": {"fraction": 0.2}, "seed": 3},
        "mix": {"size": 60, "weights": {"task": {"transcription": 2.0}}, "seed": 5},
        "output": {"dir": str(root / "out"), "formats": ["parquet", "sift_jsonl", "messages", "desta_jsonl",
                                                          "dpo_trl"], "report": False},
        "engine": {"workers": 1, "shard_size": 5, "min_duration_s": 0.01},
    }


def _digest(text: Any) -> str | None:
    return None if text is None else hashlib.sha1(str(text).encode("utf-8")).hexdigest()[:12]


def _rows(folder: Path) -> list[dict[str, Any]]:
    return [row for path in sorted(folder.rglob("*.parquet")) for row in pq.read_table(path).to_pylist()]


def snapshot(out: Path) -> dict[str, Any]:
    """What must not change: every example made (``complete/``: id, the response and instruction as
    hashes, how many audios, whether curation kept it and why not), every released row's split
    (``data/``), every reject, the counts per stage, the rows per task and split and per export."""
    examples = []
    for row in _rows(out / "complete"):
        audios = row["audios"] if "audios" in row else [row["audio"]]
        examples.append([row["task"], row["id"], _digest(row["response"]), _digest(row["instruction"]),
                         len([a for a in audios or [] if a]), row["kept"], row["drop_reason"]])
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return {
        "examples": sorted(examples),
        "released": sorted([row["task"], row["split"], row["id"]] for row in _rows(out / "data")),
        "rejects": sorted([r["stage"], r["reason"], r["id"], r.get("task")] for r in rejects),
        "counts": run["counts"],
        "splits": run["splits"],
        "exports": {name: counts["splits"] for name, counts in run["exports"].items()},
        "rejects_by_reason": dict(sorted(Counter(r["reason"] for r in rejects).items())),
    }


def test_every_family_matches_the_output_before_the_executor_seam(tmp_path):
    with ChatServer(reply) as server:
        recipe = every_family(tmp_path, server.url)
        result = run_recipe(parse_recipe(recipe), progress=False)
    got = snapshot(result.out_dir)
    if os.environ.get("SPEECHSIFT_WRITE_GOLDEN"):
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    made = {task for task, *_ in got["examples"]}
    assert made == {spec["name"] for spec in recipe["tasks"]}  # every family made examples
    for key in want:  # one key at a time, so a failure says which part changed
        assert got[key] == want[key], key
