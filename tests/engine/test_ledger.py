"""The request ledger: shared between recipes, bypassed with --no-cache, inspected with
`speechsift ledger stats`, and a run stopped with Ctrl-C resumes without asking twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import yaml
from factories import make_corpus, recipe_dict
from servers import ChatServer, scripted_reply

from speechsift.engine import run_recipe
from speechsift.llm.ledger import Ledger
from speechsift.llm.types import ChatRequest, Completion, SamplingParams
from speechsift.recipe import parse_recipe

CLI = [sys.executable, "-m", "speechsift.cli"]


def _llm(url: str, **extra) -> dict:
    return {"backend": "openai", "model": "tiny", "api_base": url, "concurrency": 4, **extra}


def test_ledger_round_trip(tmp_path):
    request = ChatRequest([{"role": "user", "content": "hi"}], SamplingParams(), "sift_s")
    key = request.key("openai", "m")
    assert key != request.key("openai", "other-model") != request.key("vllm", "m")
    assert key != ChatRequest(request.messages, SamplingParams(temperature=0.1), "x").key("openai", "m")
    assert key != ChatRequest(request.messages, SamplingParams(), "x", sample_index=1).key("openai", "m")
    assert key == ChatRequest(request.messages, SamplingParams(), "another task").key("openai", "m")
    with Ledger(tmp_path / "l.sqlite") as ledger:
        ledger.record(key, "openai", "m", Completion(text="hello", finish_reason="stop", prompt_tokens=3, completion_tokens=1))
        ledger.record("failed", "openai", "m", Completion(error="x", error_reason="server_error"))
        assert ledger.lookup([key, "missing", "failed"]) == {
            key: Completion(text="hello", finish_reason="stop", prompt_tokens=3, completion_tokens=1)
        }
        stats = ledger.stats()
    assert (stats["entries"], stats["hits"], stats["tokens_in"], stats["tokens_out"]) == (1, 1, 3, 1)


def test_recipes_share_a_ledger_and_no_cache_bypasses_it(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=4, seconds=0.1)
    shared = tmp_path / "shared.sqlite"
    with ChatServer() as server:
        first = run_recipe(parse_recipe(recipe_dict(manifest, tmp_path / "a", ["sift_ssp"], llm=_llm(server.url, ledger=str(shared)))), progress=False)
        assert first.llm_this_run["sent"] == 4 and len(server.requests) == 4
        # another recipe (other output, other tasks) asking the same thing pays nothing
        other = run_recipe(parse_recipe(recipe_dict(manifest, tmp_path / "b", ["sift_ssp", "transcription"], llm=_llm(server.url, ledger=str(shared)))), progress=False)
        assert other.llm_this_run["ledger_hits"] == 4 and len(server.requests) == 4
        bypass = run_recipe(parse_recipe(recipe_dict(manifest, tmp_path / "c", ["sift_ssp"], llm=_llm(server.url, ledger=str(shared)))), progress=False, cache=False)
        assert bypass.llm_this_run["sent"] == 4 and len(server.requests) == 8
    assert not (tmp_path / "a" / ".work" / "ledger.sqlite").exists()


def test_identical_requests_in_a_run_are_sent_once(tmp_path):
    root = tmp_path / "corpus"
    manifest = make_corpus(root, n=6, seconds=0.1)
    rows = manifest.read_text().splitlines()
    # every clip says the same thing with the same labels: six examples, one prompt
    same = [rows[0]] + [",".join([f"c{i:03d}", f"clips/c{i:03d}.flac", *rows[1].split(",")[2:]]) for i in range(6)]
    manifest.write_text("\n".join(same) + "\n")
    with ChatServer() as server:
        result = run_recipe(parse_recipe(recipe_dict(manifest, tmp_path / "out", ["sift_ssp"], llm=_llm(server.url), engine={"shard_size": 2})), progress=False)
    assert len(server.requests) == 1
    assert result.totals.examples["sift_ssp"] == 6
    assert result.llm_this_run["sent"] == 1 and result.llm_this_run["dedup"] + result.llm_this_run["ledger_hits"] == 5


def test_ledger_stats_cli(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=3, seconds=0.1)
    with ChatServer() as server:
        run_recipe(parse_recipe(recipe_dict(manifest, tmp_path / "out", ["sift_ssp"], llm=_llm(server.url))), progress=False)
    path = tmp_path / "out" / ".work" / "ledger.sqlite"
    result = subprocess.run([*CLI, "ledger", "stats", str(path), "--json"], capture_output=True, text=True)
    stats = json.loads(result.stdout)
    assert stats["entries"] == 3 and stats["tokens_in"] == 33 and stats["tokens_out"] == 21
    text = subprocess.run([*CLI, "ledger", "stats", str(path)], capture_output=True, text=True).stdout
    assert "entries     3" in text and "openai/tiny" in text
    missing = subprocess.run([*CLI, "ledger", "stats", str(tmp_path / "nope.sqlite")], capture_output=True, text=True)
    assert missing.returncode == 2 and "no such ledger" in missing.stderr


class Gate:
    """A reply that answers the first ``open`` requests and holds every later one until ``release``:
    it stands for a server still busy with them, so a run interrupted once ``answered`` is set is
    interrupted mid-run, however slow or fast the machine is."""

    def __init__(self, open: int) -> None:
        self.open = open
        self.seen = 0
        self.lock = threading.Lock()
        self.answered = threading.Event()  # the open requests are answered and a later one waits
        self.released = threading.Event()

    def __call__(self, body: dict) -> str:
        with self.lock:
            self.seen += 1
            mine = self.seen
        if mine > self.open:
            if mine == self.open + 1:
                self.answered.set()
            self.released.wait(60)
        return scripted_reply(body)


def test_ctrl_c_stops_cleanly_and_the_rerun_resumes(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=12, seconds=0.1)
    out = tmp_path / "out"
    gate = Gate(open=2)
    with ChatServer(gate) as server:
        recipe = tmp_path / "r.yaml"
        recipe.write_text(yaml.safe_dump(recipe_dict(manifest, out, ["sift_ssp"], llm=_llm(server.url, concurrency=2), engine={"shard_size": 2})))
        env = {**os.environ, "OPENAI_API_KEY": "k"}
        # faulthandler: a run that does not stop is aborted below and prints every thread's stack.
        # Ctrl-C as in a terminal: a shell starts a background job (`make test &`) with SIGINT ignored,
        # and a child inherits that, so the child gets SIGINT's default back before it starts.
        process = subprocess.Popen([*CLI, "run", str(recipe), "--no-progress"], env={**env, "PYTHONFAULTHANDLER": "1"},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        try:
            assert gate.answered.wait(60), "the run never asked past its first two requests"
            process.send_signal(signal.SIGINT)
            try:
                _, stderr = process.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGABRT)
                _, stderr = process.communicate(timeout=30)
                raise AssertionError(f"the run did not stop within 60 s of Ctrl-C; where it was:\n{stderr}") from None
        finally:
            gate.released.set()
        assert process.returncode == 130, stderr
        assert "interrupted" in stderr and "Traceback" not in stderr
        with Ledger(out / ".work" / "ledger.sqlite") as ledger:
            answered = len(ledger.keys())
        assert answered <= 2  # nothing past the gate was answered
        before = len(server.requests)
        rerun = subprocess.run([*CLI, "run", str(recipe), "--no-progress"], env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert len(server.requests) - before == 12 - answered
    rows = sum(1 for _ in Path(out / "exports").rglob("*.jsonl"))
    assert rows and json.loads((out / "run.json").read_text())["examples"] == {"sift_ssp": 12}
