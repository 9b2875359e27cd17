"""Whole runs against a fault-injecting server on 127.0.0.1.

The server stands for an overloaded or flaky OpenAI-compatible server: for most requests the first
attempts fail with a 429 (with Retry-After), a 500, a 503, a hang past the client's timeout, a
dropped connection, a malformed body or empty choices; a few prompts are always too long (400,
context_length_exceeded). The run must finish with every example present exactly once or rejected
with a reason, and counts that add up.
"""

from __future__ import annotations

import json
import random
import threading
import zlib
from collections import Counter

from factories import make_corpus, recipe_dict, release_rows
from servers import RESET, ChatServer, Hang, completion_body, scripted_reply

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe

CLIPS = 40
TOO_LONG = {"sentence number 3.", "sentence number 17."}


class FaultPlan:
    """Deterministic faults: attempt k of a prompt fails for k <= its number of planned faults."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.attempts: Counter = Counter()
        self.lock = threading.Lock()
        self.faults_served: Counter = Counter()

    def __call__(self, body: dict):
        prompt = body["messages"][-1]["content"]
        if any(text in prompt for text in TOO_LONG):
            error = {"error": {"message": "This model's maximum context length is 8 tokens", "code": "context_length_exceeded"}}
            return 400, error
        with self.lock:
            self.attempts[prompt] += 1
            attempt = self.attempts[prompt]
            planned = zlib.crc32(prompt.encode()) % 4  # 0..3 failing attempts, fewer than max_attempts
            kind = self.rng.choice(["429", "500", "503", "hang", "reset", "malformed", "empty"])
        if attempt > planned:
            return scripted_reply(body)
        self.faults_served[kind] += 1
        if kind == "429":
            return 429, {"error": {"message": "slow down"}}, {"Retry-After": "0.05"}
        if kind in ("500", "503"):
            return int(kind), {"error": {"message": "overloaded"}}
        if kind == "hang":
            return Hang(0.6, scripted_reply(body))
        if kind == "reset":
            return RESET
        if kind == "malformed":
            return 200, b'{"choices": [{"message": '
        return 200, {**completion_body(body, "x"), "choices": []}


def test_run_survives_every_kind_of_fault(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=CLIPS, seconds=0.1)
    plan = FaultPlan()
    out = tmp_path / "out"
    with ChatServer(reply=plan) as server:
        data = recipe_dict(
            manifest,
            out,
            ["sift_ssp"],
            llm={"backend": "openai", "model": "tiny", "api_base": server.url, "concurrency": 8, "timeout_s": 0.3,
                 "retry": {"max_attempts": 6, "backoff_base_s": 0.01, "backoff_max_s": 0.05}},
            engine={"shard_size": 7},
        )
        result = run_recipe(parse_recipe(data), progress=False)
    assert set(plan.faults_served) == {"429", "500", "503", "hang", "reset", "malformed", "empty"}
    rows = release_rows(out, "sift_ssp")
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "no example twice"
    assert len(rows) == CLIPS - len(TOO_LONG)
    assert sorted(r["reason"] for r in rejects) == ["context_too_long"] * len(TOO_LONG)
    assert all("maximum context length" in r["message"] for r in rejects)
    assert {r["id"] for r in rejects}.isdisjoint(ids)
    run = json.loads((out / "run.json").read_text())
    for stage, counts in run["counts"].items():
        assert counts["inputs"] == counts["outputs"] + counts["rejected"], stage
    assert run["llm_this_run"]["retries"] == sum(plan.faults_served.values())
    assert run["llm"]["failed.context_too_long"] == len(TOO_LONG)
    assert result.totals.examples["sift_ssp"] == CLIPS - len(TOO_LONG)


def test_failures_that_outlast_the_retries_are_rejected(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=3, seconds=0.1)
    out = tmp_path / "out"
    with ChatServer(reply=lambda body: (503, {"error": {"message": "down for maintenance"}})) as server:
        data = recipe_dict(
            manifest, out, ["sift_ssp"],
            llm={"backend": "openai", "model": "tiny", "api_base": server.url,
                 "retry": {"max_attempts": 3, "backoff_base_s": 0.01}},
        )
        run_recipe(parse_recipe(data), progress=False)
        assert len(server.requests) == 3 * 3
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejects] == ["server_error"] * 3
    assert all("down for maintenance" in r["message"] and "after 3 attempts" in r["message"] for r in rejects)


def test_structured_output_is_requested_per_task(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=2, seconds=0.1)
    schema = {"type": "object", "properties": {"reply": {"type": "string"}}, "required": ["reply"]}
    with ChatServer() as server:
        data = recipe_dict(manifest, tmp_path / "out", [{"name": "sift_ssp", "json_schema": schema}, "sit_ssp"],
                           llm={"backend": "openai", "model": "tiny", "api_base": server.url})
        run_recipe(parse_recipe(data), progress=False)
    formats = [body.get("response_format") for body in server.requests]
    expected = {"type": "json_schema", "json_schema": {"name": "sift_ssp", "schema": schema, "strict": True}}
    assert formats.count(expected) == 2 and formats.count(None) == 2


def test_llm_n_against_a_server_that_ignores_n(tmp_path):
    """The server stands for llama.cpp server or TGI: one choice, whatever ``n`` asks. Every sample
    still becomes an example, from its own seeded request."""
    manifest = make_corpus(tmp_path / "corpus", n=3, seconds=0.1)
    out = tmp_path / "out"

    def one_choice(body):
        text = f"Sounds like sample {body['seed']} of {body['messages'][-1]['content'][-24:]!r}."
        return 200, {**completion_body(body, text), "choices": [completion_body(body, text)["choices"][0]]}

    with ChatServer(reply=one_choice) as server:
        data = recipe_dict(manifest, out, ["sift_ssp"], llm={"backend": "openai", "model": "tiny",
                                                              "api_base": server.url, "n": 3, "seed": 10})
        result = run_recipe(parse_recipe(data), progress=False)
    rows = release_rows(out, "sift_ssp")
    assert result.examples["sift_ssp"] == 9 and (out / "rejects.jsonl").read_text() == ""
    assert len({r["response"] for r in rows}) == 9
    assert sorted(r["generation"]["sample_index"] for r in rows) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert {body["seed"] for body in server.requests} == {10, 11, 12}
