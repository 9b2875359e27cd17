"""Every text task in one recipe against a real HTTP server on 127.0.0.1 (tests/text_server.py
answers each prompt type, sometimes badly), with two named LLMs, the voice-suitability screen and a
rerun that sends nothing."""

from __future__ import annotations

import json
from collections import Counter

from factories import release_rows
from servers import ChatServer
from text_server import text_reply

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe

INSTRUCTIONS = [
    {"instruction": "How do tides work?", "response": "The moon pulls the oceans (mostly).", "category": "open_qa"},
    {"instruction": "What should I pack for a weekend hike?", "response": "Water, snacks, a map.", "category": "brainstorming"},
    {"instruction": "Write a Python function that sorts a list.", "category": "coding"},
    {"instruction": "Make a table of the planets and their moons.", "category": "classification"},
    {"instruction": "Why is the sky blue?", "category": "open_qa"},
    {"instruction": "How can I fall asleep faster?", "response": "Keep a routine; avoid screens.", "category": "open_qa"},
]


def recipe(tmp_path, url, **extra):
    path = tmp_path / "instructions.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in INSTRUCTIONS))
    llm = {"backend": "openai", "model": "qwen2.5-7b-instruct", "api_base": url, "concurrency": 8,
           "retry": {"max_attempts": 2, "backoff_base_s": 0.01}}
    data = {
        "name": "text",
        "llm": llm,
        "llms": {"other": {**llm, "model": "llama-3.1-8b-instruct"}},
        "sources": [{"kind": "text", "name": "dolly", "path": str(path)}],
        "tasks": [
            {"name": "self_instruct", "options": {"instructions": ["How do volcanoes erupt?", "Tell me about jazz."],
                                                  "per_round": 3, "rounds": 2, "responders": ["default", "other"]}},
            {"name": "evol_instruct", "options": {"instructions_file": str(path), "rounds": 2, "follow_up_share": 0.5}},
            {"name": "magpie", "options": {"count": 6, "n_turns": 2, "writer": "default"}},
            {"name": "speech_response", "sources": ["dolly"], "options": {"strategy": "icl"}},
            {"name": "preference_pairs", "sources": ["dolly"], "options": {"models": ["default", "other"],
                                                     "strategies": ["simple", "detailed"], "pairs_per_instruction": 3,
                                                     "max_pairs_per_config_pair": 2, "judge": "other"}},
        ],
        "curate": {"voice_suitability": {"judge": True}, "dedup": "none"},
        "output": {"dir": str(tmp_path / "out"), "formats": ["parquet", "messages"]},
        **extra,
    }
    return parse_recipe(data)


def released(out, task):
    return release_rows(out, task)


def test_every_text_task_end_to_end_and_rerun(tmp_path):
    with ChatServer(text_reply) as server:
        result = run_recipe(recipe(tmp_path, server.url), progress=False)
        sent = list(server.requests)
        paths = list(server.paths)
        again = run_recipe(recipe(tmp_path, server.url), progress=False)
        assert len(server.requests) == len(sent), "an unchanged rerun sends nothing"
    out = result.out_dir
    run = json.loads((out / "run.json").read_text())
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    reasons = Counter(r["reason"] for r in rejects)
    assert set(run["examples"]) == {"self_instruct", "evol_instruct", "magpie", "speech_response", "preference_pairs"}
    assert again.examples == result.examples
    # the voice screen: the blocklist catches "Write a Python function", the judge "Make a table"
    assert reasons["not_voice_suitable_keyword"] >= 2 and reasons["not_voice_suitable_judge"] >= 2
    keyword_rejected = {r["task"] for r in rejects if r["reason"] == "not_voice_suitable_keyword"}
    assert {"speech_response", "preference_pairs"} <= keyword_rejected
    for task in run["examples"]:
        for row in released(out, task):
            assert "Python function" not in row["instruction"] and "table of the planets" not in row["instruction"]
            roles = [m["role"] for m in row["messages"]]
            assert roles[::2] == ["user"] * len(roles[::2]) and roles[1::2] == ["assistant"] * len(roles[1::2])
            assert row["audios"] == []  # text-only until speech synthesis voices it

    # SelfInstruct: seed and round recorded, responses by both LLMs (seeded choice), in provenance
    rows = released(out, "self_instruct")
    extras = [json.loads(r["extra"]) for r in rows]
    assert {e["round"] for e in extras} == {1, 2}
    assert {"How do volcanoes erupt?", "Tell me about jazz."} <= {e["seed"] for e in extras}  # inline seeds and the text source
    assert {r["generation"]["model"] for r in rows} == {"qwen2.5-7b-instruct", "llama-3.1-8b-instruct"}
    assert reasons["too_many_instructions"] >= 1  # more lines than asked: left out with a reason

    # EvolInstruct: mutations recorded, failed evolutions rejected with their reason, follow-ups for a share
    rows = released(out, "evol_instruct")
    assert all(json.loads(r["extra"])["mutation"] for r in rows)
    assert reasons["evolution_too_short"] + reasons["evolution_unchanged"] + reasons["evolution_leak"] >= 1
    assert any(len(r["messages"]) == 4 for r in rows + released(out, "self_instruct")) or not rows

    # Magpie: raw completion of the Qwen2.5 template's pre-query prefix, no special tokens added, 2 turns
    raw = [body for body in sent if "prompt" in body]
    assert raw and all(body["add_special_tokens"] is False for body in raw)
    assert {path for body, path in zip(sent, paths) if "prompt" in body} == {"/v1/completions"}
    assert all(body["prompt"].startswith("<|im_start|>system\nYou are Qwen") and body["prompt"].endswith("<|im_start|>user\n")
               for body in raw)
    rows = released(out, "magpie")
    assert rows and all(len(r["messages"]) == 4 for r in rows)
    assert all("<|im_end|>" not in m["content"][0]["text"] for r in rows for m in r["messages"])

    # speech_response under the icl strategy: the system prompt carries the worked examples
    rows = released(out, "speech_response")
    assert rows and all(json.loads(r["extra"])["strategy"] == "icl" for r in rows)
    assert all("Spoken answer:" in r["generation"]["llm_messages"][0]["content"] for r in rows)

    # preference pairs: balanced within the cap, verdicts recorded, the judge is the other LLM
    usage = run["pairing"]["preference_pairs"]["pairs_per_config_pair"]
    assert max(usage.values()) <= 2 and max(usage.values()) - min(usage.values()) <= 1
    rows = released(out, "preference_pairs")
    assert rows
    for row in rows:
        extra = json.loads(row["extra"])
        assert extra["chosen_config"] != extra["rejected_config"] and extra["margin"] in (1, 2, 3)
        assert extra["explanation"] and extra["judge"] == "llama-3.1-8b-instruct"
        assert row["response"] != extra["rejected"]

    # the report has the speech section with the strategies' head-to-head; the card links its plots
    page = (out / "report" / "index.html").read_text()
    assert "Head-to-head: strategies" in page and "mean dependency depth" in page.lower()
    card = (out / "README.md").read_text()
    assert all((out / "report" / "plots" / name).is_file() for name in ("durations.svg", "domains.svg", "response_words.svg"))
    assert "domains.svg" in card
