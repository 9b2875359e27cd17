"""The ``constrained`` task family in a run: constraints on transcription and closed-ended template
targets in several languages, every target satisfying the checker the evaluator uses, and the
constraints read back from the exported instruction alone."""

from __future__ import annotations

import json

import pytest
from factories import recipe_dict, release_rows, write_manifest, write_tone

from speechsift.engine import run_recipe
from speechsift.errors import ConfigError
from speechsift.eval.constraints import parse_constraints, render
from speechsift.eval.ifeval import ifeval_scores
from speechsift.recipe import parse_recipe


def test_constrained_targets_follow_their_constraints(tmp_path):
    rows = []
    for i in range(10):
        path = write_tone(tmp_path / "corpus" / f"c{i}.wav", seconds=0.2, freq=200 + 10 * i)
        rows.append({"id": f"c{i}", "audio": path.name, "text": f"Das ist Satz Nummer {i}. Ende." if i % 2 else
                     f"This is sentence number {i}. The end.", "language": "de" if i % 2 else "en",
                     "speaker": f"s{i}", "gender": "female", "emotion": "happy"})
    manifest = write_manifest(tmp_path / "corpus" / "manifest.csv", rows)
    out = tmp_path / "out"
    recipe = recipe_dict(manifest, out, [{"name": "constrained", "options": {"base": ["transcription",
                                                                                       "closed_ended_template"]}}])
    run_recipe(parse_recipe(recipe), progress=False)
    examples = release_rows(out, "constrained")
    assert len(examples) == 10 * (1 + 3)  # one transcription and three template questions per clip
    seen = set()
    for example in examples:
        found = parse_constraints(example["instruction"], example["language"])
        assert len(found) == 1, example["instruction"]
        ids, kwargs = [found[0][0]], [found[0][1]]
        assert ifeval_scores(example["response"], ids, kwargs)["if_strict_prompt"] == 1.0, example
        seen.add(ids[0])
        # the constraint is asked in the clip's language
        assert render(ids[0], kwargs[0], example["language"]) in example["instruction"]
    assert len(seen) >= 6  # the constraints vary
    sift = [json.loads(line) for p in out.glob("exports/sift_jsonl/**/constrained/**/*.jsonl")
            for line in p.read_text().splitlines()]
    assert len(sift) == len(examples)


def test_constrained_options_are_checked_at_load_time(tmp_path):
    with pytest.raises(ConfigError, match="unknown constraint"):
        parse_recipe(recipe_dict(tmp_path / "m.csv", tmp_path / "o", [
            {"name": "constrained", "options": {"constraints": ["detectable_format:haiku"]}}]))
