"""A server that is down, then blips, then heals: the runs a user makes with the real command line.

The server on 127.0.0.1 stands for an OpenAI-compatible LLM server (tests/servers.py). Down: nothing
listens on its port, and the run stops at once with one paragraph and exit code 3. Blipping: some
prompts get 503s or dropped connections for longer than the retries last (transient), one prompt
is always too long (permanent). Healed: a rerun asks exactly the transient failures again, takes
every other answer from the ledger, and leaves the permanent failure rejected without asking it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import yaml
from factories import make_corpus, recipe_dict
from servers import RESET, ChatServer, scripted_reply

from speechsift.engine import run_recipe
from speechsift.llm.ledger import Ledger
from speechsift.recipe import load_recipe, parse_recipe

CLIPS = 9
UNAVAILABLE = ("sentence number 1.", "sentence number 4.", "sentence number 7.")  # 503 while blipping
DROPPED = "sentence number 2."  # the connection drops while blipping
TOO_LONG = "sentence number 5."  # always 400 context_length_exceeded


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """Replies by phase: "blip" fails some prompts every time, "healed" fails only the too-long one."""

    def __init__(self) -> None:
        self.phase = "blip"

    def __call__(self, body: dict):
        prompt = body["messages"][-1]["content"].lower()
        if TOO_LONG in prompt:
            return 400, {"error": {"message": "maximum context length is 8 tokens", "code": "context_length_exceeded"}}
        if self.phase == "blip":
            if any(text in prompt for text in UNAVAILABLE):
                return 503, {"error": {"message": "model is loading"}}
            if DROPPED in prompt:
                return RESET
        return scripted_reply(body)


def _cli(recipe: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "speechsift.cli", "run", str(recipe), "--no-progress"],
                          env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120)


def _rejects(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]


def test_down_then_blipping_then_healed_server(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=CLIPS, seconds=0.1)
    out = tmp_path / "out"
    port = _free_port()
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(recipe_dict(
        manifest, out, ["transcription", "sift_ssp"],
        llm={"backend": "openai", "model": "tiny", "api_base": f"http://127.0.0.1:{port}/v1", "concurrency": 4,
             "retry": {"max_attempts": 2, "backoff_base_s": 0.01, "backoff_max_s": 0.02}},
        engine={"shard_size": 3},
    )))

    # down: one paragraph, no traceback, a non-zero exit, nothing released
    down = _cli(recipe)
    assert down.returncode == 3, down.stderr
    assert "does not answer" in down.stderr and f"127.0.0.1:{port}" in down.stderr and "Traceback" not in down.stderr
    assert not (out / "run.json").exists()

    replies = Server()
    with ChatServer(reply=replies, port=port) as server:
        blip = _cli(recipe)
        assert blip.returncode == 0, blip.stderr
        rejects = _rejects(out)
        transient = sorted(r["reason"] for r in rejects if r.get("transient"))
        assert transient == ["connection_error", "server_error", "server_error", "server_error"]
        assert [r["reason"] for r in rejects if not r.get("transient")] == ["context_too_long"]
        run = json.loads((out / "run.json").read_text())
        assert run["llm"]["transient_failures"] == 4
        assert any("run the same command again" in w for w in run["warnings"])
        assert "run the same command again" in blip.stderr and "warning" in blip.stderr
        assert "run the same command again" in (out / "README.md").read_text()
        with Ledger(out / ".work" / "ledger.sqlite") as ledger:
            assert len(ledger.keys()) == CLIPS - 5, "failures are never stored as answers"
        asked_before = len(server.requests)

        replies.phase = "healed"
        healed = _cli(recipe)
        assert healed.returncode == 0, healed.stderr
        asked = [body["messages"][-1]["content"].lower() for body in server.requests[asked_before:]]
        # only the transient failures are asked again: not the answered ones, not the permanent one
        assert sorted(text for prompt in asked for text in (*UNAVAILABLE, DROPPED) if text in prompt) == sorted(
            (*UNAVAILABLE, DROPPED))
        assert len(asked) == 4
        assert [(r["reason"], r.get("transient")) for r in _rejects(out)] == [("context_too_long", None)]
        run = json.loads((out / "run.json").read_text())
        assert run["examples"] == {"transcription": CLIPS, "sift_ssp": CLIPS - 1}
        assert run["warnings"] == [] and "transient_failures" not in run["llm"]
        assert run["shards"] == {"total": 3, "skipped": 0, "processed": 3}, "every shard had a failure to ask again"
        assert run["llm"]["settled_failures"] == 1

        # and now the output is finished: a rerun asks nothing and skips every shard
        again = run_recipe(load_recipe(recipe), progress=False)
        assert len(server.requests) == asked_before + 4 and again.shards_skipped == 3


def test_an_llm_task_without_examples_is_a_warning(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=2, seconds=0.1)
    out = tmp_path / "out"
    bad = (400, {"error": {"message": "unsupported parameter: top_p"}})
    with ChatServer(reply=lambda body: bad) as server:
        data = recipe_dict(manifest, out, ["transcription", "sift_ssp"],
                           llm={"backend": "openai", "model": "tiny", "api_base": server.url})
        result = run_recipe(parse_recipe(data), progress=False)
    assert result.examples == {"transcription": 2}
    [warning] = result.warnings
    assert warning.startswith("task sift_ssp: no examples") and "bad_request 2" in warning
    assert json.loads((out / "run.json").read_text())["warnings"] == [warning]
    assert "## Warnings" in (out / "README.md").read_text() and warning in (out / "README.md").read_text()
