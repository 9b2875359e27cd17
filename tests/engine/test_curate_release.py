"""Curation in a run and `speechsift curate OUT`: complete/ holds every example with its scores,
data/ the filtered set, and every drop is in rejects.jsonl with stage curate."""

from __future__ import annotations

import json
import subprocess
import sys

import yaml
from factories import make_corpus, recipe_dict, release_rows
from servers import ChatServer

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe

CLI = [sys.executable, "-m", "speechsift.cli"]
LEAK = "According to the metadata, the speaker is happy."


def _reply(body):
    prompt = body["messages"][-1]["content"]
    return LEAK if "sentence number 1." in prompt else f"That sounds lovely, tell me more about {len(prompt)} things!"


def test_curate_in_a_run_then_again_from_the_cli(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=6, seconds=0.1)
    out = tmp_path / "out"
    with ChatServer(reply=_reply) as server:
        data = recipe_dict(manifest, out, ["sift_ssp"], llm={"backend": "openai", "model": "tiny", "api_base": server.url})
        plain = run_recipe(parse_recipe(data), progress=False)
        sent = len(server.requests)
    assert plain.examples["sift_ssp"] == 6 and not (out / "complete").exists()

    data["curate"] = {"drop_leakage": True, "dedup": "exact"}
    recipe = tmp_path / "curated.yaml"
    recipe.write_text(yaml.safe_dump(data))
    result = subprocess.run([*CLI, "curate", str(out), "--recipe", str(recipe)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    complete = release_rows(out, "sift_ssp", folder="complete")
    released = release_rows(out, "sift_ssp")
    assert len(complete) == 6 and len(released) == 5
    leaked = next(r for r in complete if r["response"] == LEAK)
    assert leaked["kept"] is False and leaked["drop_reason"] == "metadata_leak" and leaked["quality"]["leakage_flag"]
    assert all(r["quality"]["length_words"] > 0 for r in released)
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["reason"]) for r in rejects] == [("curate", "metadata_leak")]
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["curate"] == {"inputs": 6, "outputs": 5, "rejected": 1, "rejected_by_reason": {"metadata_leak": 1}}
    assert (out / "report" / "index.html").is_file()
    card = (out / "README.md").read_text()
    assert "## Curation" in card and "| metadata_leak | 1 |" in card and "report/index.html" in card
    with ChatServer(reply=_reply) as server:  # nothing was regenerated
        assert len(server.requests) == 0 and sent == 6
