"""Recipe validation and the command line: clear errors, no tracebacks, non-zero exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from factories import make_corpus, recipe_dict

from speechsift.errors import ConfigError
from speechsift.recipe import load_recipe

CLI = [sys.executable, "-m", "speechsift.cli"]


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _speechsift(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["llm"].update(temperature="hot"), "llm.temperature"),
        (lambda d: d["llm"].update(temprature=0.5), "llm.temprature: Extra inputs are not permitted"),
        (lambda d: d.update(tasks=["transcribe"]), "unknown task 'transcribe'"),
        (lambda d: d["sources"][0].update(kind="csv"), "kind: manifest, hf, corpus, lhotse or text"),
        (lambda d: d.pop("sources"), "sources: add at least one source"),
        (lambda d: d["output"].update(formats=["tfrecord"]), "output.formats.0"),
        (lambda d: d.update(tasks=[{"name": "transcription", "sources": ["nope"]}]), "source 'nope'"),
        (lambda d: d.update(mix={"size": 9, "weights": {"task": {"sit_sp": 2}}}),
         "mix.weights.task names 'sit_sp', which the recipe does not have; use one of sit_ssp, transcription"),
        (lambda d: d.update(mix={"size": 9, "weights": {"source": {"demo": 2}}}), "mix.weights.source names 'demo'"),
        (lambda d: d.update(curate={"min_quality": 3.0}, features=["reverb"]), "add quality to features"),
        (lambda d: d.update(curate={"min_quality": 7.0}), "curate.min_quality"),
    ],
)
def test_bad_recipes_name_the_file_and_field(tmp_path, mutate, expected):
    data = recipe_dict(tmp_path / "m.csv", tmp_path / "out")
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as error:
        load_recipe(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)


def test_invalid_yaml_names_the_line(tmp_path):
    path = _write(tmp_path, "name: x\nsources: [\n  - oops: : :\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_recipe(path)


def test_source_paths_are_relative_to_the_recipe(tmp_path):
    make_corpus(tmp_path / "corpus", n=1)
    data = recipe_dict(Path("corpus/manifest.csv"), tmp_path / "out")
    recipe = load_recipe(_write(tmp_path, data))
    assert recipe.sources[0].path == tmp_path / "corpus" / "manifest.csv"


def test_cli_config_error_is_one_paragraph_without_traceback(tmp_path):
    data = recipe_dict(tmp_path / "m.csv", tmp_path / "out")
    data["llm"]["temperature"] = "hot"
    result = _speechsift("run", str(_write(tmp_path, data)))
    assert result.returncode == 2
    assert "configuration error" in result.stderr and "llm.temperature" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_missing_manifest_and_missing_audio_column(tmp_path):
    result = _speechsift("run", str(_write(tmp_path, recipe_dict(tmp_path / "nope.csv", tmp_path / "out"))))
    assert result.returncode == 2 and "manifest not found" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "m.csv").write_text("id,text\n1,hello\n")
    result = _speechsift("run", str(_write(tmp_path, recipe_dict(tmp_path / "m.csv", tmp_path / "out"))))
    assert result.returncode == 2 and "no audio column" in result.stderr


def test_cli_template_backend_cannot_do_sift_s(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=1)
    result = _speechsift("run", str(_write(tmp_path, recipe_dict(manifest, tmp_path / "out", ["sift_s"]))))
    assert result.returncode == 2
    assert "'sift_s' needs an LLM" in result.stderr and "llm.backend: openai" in result.stderr


def test_cli_strict_exits_non_zero(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=2)
    (tmp_path / "corpus" / "clips" / "c001.flac").unlink()
    result = _speechsift("run", str(_write(tmp_path, recipe_dict(manifest, tmp_path / "out"))), "--strict", "--no-progress")
    assert result.returncode == 1 and "missing_audio" in result.stderr and "Traceback" not in result.stderr


def test_cli_run_with_overrides_and_limit(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=5)
    out = tmp_path / "elsewhere"
    result = _speechsift("run", str(_write(tmp_path, recipe_dict(manifest, tmp_path / "out"))), "-o", str(out),
                         "--limit", "3", "--no-progress")
    assert result.returncode == 0, result.stderr
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["read"]["inputs"] == 3 and run["limit"] == 3
    assert "transcription 3" in result.stderr


def test_cli_progress_and_summary_share_one_stream(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=5)
    out = tmp_path / "out"
    result = subprocess.run([*CLI, "run", str(_write(tmp_path, recipe_dict(manifest, out))), "--limit", "4"],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "160"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    # a line per phase, with the total where it is known (--limit, the examples to write)
    assert any("preparing" in line and "4/4 clips (100%)" in line for line in lines), result.stderr
    assert any("writing" in line and "8/8 examples (100%)" in line for line in lines), result.stderr
    summary = next(i for i, line in enumerate(lines) if "speechsift: " in line)
    assert summary > max(i for i, line in enumerate(lines) if "writing" in line), "progress first, then the summary"


def test_progress_columns_show_the_total_the_share_and_the_time_left():
    import time

    from rich.progress import Progress

    from speechsift.engine.progress import CountColumn, EtaColumn

    count, eta = CountColumn(), EtaColumn()
    with Progress(count, eta, disable=True) as progress:
        known = progress.add_task("curating", total=200, unit="examples")
        open_ended = progress.add_task("preparing", total=None, unit="clips")
        for _ in range(2):
            progress.advance(known, 50)
            progress.advance(open_ended, 50)
            time.sleep(0.05)
        tasks = {task.description: task for task in progress.tasks}
        assert str(count.render(tasks["curating"])).startswith("100/200 examples (50%), ")
        assert str(eta.render(tasks["curating"])).startswith("ETA 0:0")
        assert str(count.render(tasks["preparing"])).startswith("100 clips, ")
        assert str(eta.render(tasks["preparing"])) == "", "no time left without a total"


def test_cli_demo(tmp_path):
    result = _speechsift("demo", "-o", str(tmp_path / "demo"), "--no-progress")
    assert result.returncode == 0, result.stderr
    run = json.loads((tmp_path / "demo" / "run.json").read_text())
    assert run["examples"] == {"answer_extraction": 6, "sit_ssp": 30, "transcription": 30}
    assert run["unknown_labels"] == {"emotion": {"contempt": 1}}
