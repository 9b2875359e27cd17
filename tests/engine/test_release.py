"""The release over finished shards: what a change redoes, what a kill leaves, what a task removed
from the recipe leaves behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from factories import make_corpus, recipe_dict, release_rows

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe

# `speechsift run`, killed with SIGKILL the moment the release's data, exports, card and run.json are
# written and the report is about to be built.
KILLED_BEFORE_REPORT = """
import os, signal, sys
import speechsift.engine.release as release
release.write_report = lambda layout: os.kill(os.getpid(), signal.SIGKILL)
from speechsift.cli import entrypoint
sys.argv = ["speechsift", "run", sys.argv[1], "--no-progress"]
entrypoint()
"""


def _run(data, **kw):
    return run_recipe(parse_recipe(data), progress=False, **kw)


def _corpus(tmp_path: Path) -> Path:
    manifest = make_corpus(tmp_path / "corpus", n=12, seconds=0.1)
    rows = manifest.read_text().splitlines()  # a speaker per clip, so that splits have speakers to take
    manifest.write_text("\n".join([rows[0]] + [r.replace(f",spk{i % 3},", f",spk{i},") for i, r in enumerate(rows[1:])]) + "\n")
    return manifest


def test_changing_only_the_release_sections_redoes_no_shard(tmp_path):
    manifest = _corpus(tmp_path)
    out = tmp_path / "out"
    base = dict(engine={"shard_size": 4}, features=["duration"])
    first = _run(recipe_dict(manifest, out, ["transcription", "sit_ssp"], **base))
    assert (first.shards, first.shards_skipped) == (3, 0)
    examples = {p: p.stat().st_mtime_ns for p in (out / ".work" / "examples").glob("*.parquet")}
    changed = recipe_dict(manifest, out, ["transcription", "sit_ssp"], **base,
                          curate={"dedup": "exact", "language_check": False}, splits={"dev": {"fraction": 0.25}, "seed": 3},
                          mix={"size": 10, "weights": {"task": {"sit_ssp": 4}}},
                          output={"formats": ["parquet", "messages"], "audio": "path", "report": False},
                          llm={"backend": "template", "concurrency": 3, "timeout_s": 5})
    changed["description"], changed["license"] = "another card", "cc-by-4.0"
    again = _run(changed)
    assert (again.shards, again.shards_skipped) == (3, 3), "no shard redone: no clip decoded or measured again"
    assert {p: p.stat().st_mtime_ns for p in (out / ".work" / "examples").glob("*.parquet")} == examples
    run = json.loads((out / "run.json").read_text())
    assert "release_reused" not in run, "the release itself is made again"
    assert run["mix"]["selected"] == 10 and run["counts"]["curate"]["inputs"] == 24
    assert run["split_plan"]["dev_speakers"] == 3
    assert not (out / "exports" / "sift_jsonl").exists() and "license: cc-by-4.0" in (out / "README.md").read_text()
    # what the shard stages use does redo them
    measured = recipe_dict(manifest, out, ["transcription", "sit_ssp"], engine={"shard_size": 4}, features=["loudness"])
    assert _run(measured).shards_skipped == 0


def test_a_run_killed_right_after_run_json_is_mended_by_the_rerun(tmp_path):
    manifest = _corpus(tmp_path)
    out = tmp_path / "out"
    _run(recipe_dict(manifest, out, ["transcription", "sit_ssp"]))
    first_report = (out / "report" / "index.html").read_text()

    smaller = recipe_dict(manifest, out, ["transcription", "sit_ssp"], mix={"size": 5})
    recipe = tmp_path / "smaller.yaml"
    recipe.write_text(yaml.safe_dump(smaller))
    killed = subprocess.run([sys.executable, "-c", KILLED_BEFORE_REPORT, str(recipe)], capture_output=True,
                            text=True, timeout=120, env=os.environ)
    assert killed.returncode == -9, killed.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["release_fingerprint"] is None, "not marked: the release is unfinished"
    assert sum(run["examples"].values()) == 5, "the data is the smaller release's"
    assert (out / "report" / "index.html").read_text() == first_report, "the kill left the first run's report"

    rerun = _run(smaller)
    assert rerun.shards_skipped == rerun.shards
    run = json.loads((out / "run.json").read_text())
    assert run["release_fingerprint"] and "release_reused" not in run
    report = (out / "report" / "index.html").read_text()
    assert report != first_report and "not_sampled" in report, "the report is the smaller release's"
    # now it is finished: the next rerun keeps it
    _run(smaller)
    assert json.loads((out / "run.json").read_text())["release_reused"] is True


def test_folders_of_tasks_no_longer_in_the_recipe_are_removed(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=3, seconds=0.1)
    out = tmp_path / "out"
    _run(recipe_dict(manifest, out, ["transcription", "sit_ssp"], curate={}))
    assert (out / "exports/messages/train/transcription").is_dir()
    assert release_rows(out, "transcription") and release_rows(out, "transcription", folder="complete")
    _run(recipe_dict(manifest, out, ["sit_ssp"], curate={}))
    assert not (out / "exports/messages/train/transcription").exists()
    assert not release_rows(out, "transcription") and not release_rows(out, "transcription", folder="complete")
    assert release_rows(out, "sit_ssp")
    sift = out / "exports" / "sift_jsonl" / "train"
    assert {p.name for p in sift.iterdir()} == {"omni"} and {p.name for p in (sift / "omni").iterdir()} == {"sit_ssp"}


def test_the_shard_fingerprint_keeps_the_curate_settings_a_shard_stage_uses(tmp_path):
    from speechsift.engine.plan import shard_fingerprint

    manifest = make_corpus(tmp_path / "corpus", n=1)

    def fingerprint(**curate):
        return shard_fingerprint(parse_recipe(recipe_dict(manifest, tmp_path / "out", features=["reverb"], curate=curate)))

    assert fingerprint() == fingerprint(dedup="near", drop_leakage=False), "release-only settings"
    assert fingerprint() != fingerprint(min_c50_db=5.0), "the clip filter on measurements is a shard stage"
