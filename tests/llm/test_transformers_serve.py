"""The openai backend against a real OpenAI-compatible server: `transformers serve` on 127.0.0.1,
serving the tiny model built by the test."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from factories import make_corpus, recipe_dict

from speechsift.engine import run_recipe
from speechsift.llm import ChatRequest, SamplingParams, generate, make_backend
from speechsift.recipe import LLMConfig, parse_recipe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def transformers_serve(tiny_model, tmp_path_factory):
    executable = Path(sys.executable).parent / "transformers"
    if not executable.exists():
        pytest.skip("the transformers CLI is not installed (pip install 'transformers[serving]')")
    try:
        from transformers.cli.serve import Serve  # noqa: F401  (needs the [serving] extra)
    except ImportError as exc:
        pytest.skip(f"transformers serve is not available: {exc}")
    port = _free_port()
    home = tmp_path_factory.mktemp("hf-home")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_UPDATE_CHECK": "1", "HF_HOME": str(home)}
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(
        [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"transformers serve did not start: {(home / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.3)
    yield f"http://127.0.0.1:{port}/v1"
    process.terminate()
    process.wait(timeout=30)


def test_chat_completions_from_transformers_serve(transformers_serve, tiny_model):
    backend = make_backend(LLMConfig(backend="openai", model=str(tiny_model), api_base=transformers_serve, concurrency=2))
    requests = [
        ChatRequest([{"role": "user", "content": f"hello {i}"}], SamplingParams(temperature=0.8, max_tokens=8, seed=5), "x")
        for i in range(3)
    ]
    completions = generate(backend, requests)
    assert all(c.ok for c in completions), [c.error for c in completions]
    assert all(c.finish_reason in ("stop", "length") and c.completion_tokens and c.prompt_tokens for c in completions)


def test_recipe_against_transformers_serve(transformers_serve, tiny_model, tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=3, seconds=0.1)
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, ["sift_s", "sit_ssp"],
                       llm={"backend": "openai", "model": str(tiny_model), "api_base": transformers_serve,
                            "max_tokens": 8, "concurrency": 4})
    result = run_recipe(parse_recipe(data), progress=False)
    rejects = (out / "rejects.jsonl").read_text()
    # a random model may write only whitespace: such an answer is rejected as empty, never kept
    assert result.totals.examples["sift_s"] + rejects.count('"task": "sift_s"') == 3
    assert result.llm_this_run["sent"] == 6
    run = json.loads((out / "run.json").read_text())
    assert run["llm"]["tokens_out"] > 0
