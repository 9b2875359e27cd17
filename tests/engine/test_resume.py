"""A run killed with SIGKILL mid-way and rerun gives the same output as an uninterrupted run, and
asks the server only what was not answered before the kill (counted at the server)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml
from factories import make_corpus, recipe_dict
from servers import ChatServer

from speechsift.llm.ledger import Ledger
from speechsift.llm.types import ChatRequest, SamplingParams

SHARD_SIZE = 2
CLIPS = 12


def _recipe_file(tmp_path: Path, manifest: Path, out: Path, url: str) -> Path:
    data = recipe_dict(
        manifest,
        out,
        ["transcription", "sift_ssp"],
        llm={"backend": "openai", "model": "tiny", "api_base": url, "concurrency": 2, "retry": {"max_attempts": 1}},
        engine={"shard_size": SHARD_SIZE},
    )
    path = tmp_path / f"{out.name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _cli(recipe: Path) -> list[str]:
    return [sys.executable, "-m", "speechsift.cli", "run", str(recipe), "--no-progress"]


def _key(body: dict) -> str:
    """The ledger key of a request the server received."""
    sampling = SamplingParams(body["temperature"], body["top_p"], body["max_tokens"], body.get("seed"))
    return ChatRequest(messages=body["messages"], sampling=sampling, task="").key("openai", body["model"])


def _rows(out: Path) -> list[dict]:
    rows = []
    for path in sorted((out / "data").rglob("*.parquet")):
        rows += pq.read_table(path).to_pylist()
    return sorted(rows, key=lambda r: r["id"])


def test_killed_run_resumes_to_the_same_output(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=CLIPS, seconds=0.2)
    with ChatServer(delay_s=0.15) as server:
        killed_out = tmp_path / "killed"
        recipe = _recipe_file(tmp_path, manifest, killed_out, server.url)
        env = {**os.environ, "OPENAI_API_KEY": "test-key"}
        process = subprocess.Popen(_cli(recipe), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        markers = killed_out / ".work" / "shards"
        deadline = time.monotonic() + 60
        while len(list(markers.glob("part-*.json"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        done_at_kill = len(list(markers.glob("part-*.json")))
        assert 2 <= done_at_kill < CLIPS // SHARD_SIZE, "the run must be killed mid-way"
        with Ledger(killed_out / ".work" / "ledger.sqlite") as ledger:
            answered_at_kill = ledger.keys()
        sent_before = len(server.requests)

        rerun = subprocess.run(_cli(recipe), env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        resent = {_key(body) for body in server.requests[sent_before:]}
        # Nothing answered before the kill is asked again; everything else is asked once.
        assert not resent & answered_at_kill
        assert len(server.requests) - sent_before == len(resent) == CLIPS - len(answered_at_kill)
        with Ledger(killed_out / ".work" / "ledger.sqlite") as ledger:
            assert len(ledger.keys()) == CLIPS

        # A rerun of the finished recipe sends nothing at all.
        before = len(server.requests)
        again = subprocess.run(_cli(recipe), env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and len(server.requests) == before

        clean_out = tmp_path / "clean"
        clean = subprocess.run(
            _cli(_recipe_file(tmp_path, manifest, clean_out, server.url)), env=env, capture_output=True, text=True, timeout=120
        )
        assert clean.returncode == 0, clean.stderr

    killed_rows, clean_rows = _rows(killed_out), _rows(clean_out)
    assert len(clean_rows) == 2 * CLIPS
    assert killed_rows == clean_rows
    assert (killed_out / "rejects.jsonl").read_text() == (clean_out / "rejects.jsonl").read_text() == ""
    sift = [r for r in clean_rows if r["task"] == "sift_ssp"]
    assert all(r["response"].startswith("Sounds like a reply") for r in sift), "think blocks are stripped"
    assert sift[0]["generation"]["llm_messages"][0]["role"] == "system"
    assert "<audio>" in sift[0]["generation"]["llm_messages"][1]["content"]
    # the key never reaches any output
    for path in clean_out.rglob("*"):
        if path.is_file():
            assert b"test-key" not in path.read_bytes(), path
