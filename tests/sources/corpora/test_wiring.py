"""Corpora, Lhotse manifests and hub presets as recipe sources, and `speechsift ingest` / `corpora`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from corpus_trees import make_ravdess
from factories import TEST_ENGINE, release_rows

from speechsift.engine import run_recipe
from speechsift.export.lhotse import write_lhotse
from speechsift.recipe import parse_recipe
from speechsift.records import clips_from_arrow

CLI = [sys.executable, "-m", "speechsift.cli"]


def _recipe(out, source, tasks=("transcription", "sit_ssp")):
    return {"name": "t", "sources": [source], "tasks": list(tasks), "output": {"dir": str(out)}, "engine": TEST_ENGINE}


def test_corpus_source_in_a_recipe(tmp_path):
    root = make_ravdess(tmp_path / "RAVDESS")
    result = run_recipe(parse_recipe(_recipe(tmp_path / "out", {"kind": "corpus", "name": "ravdess", "root": str(root)})),
                        progress=False)
    rows = release_rows(tmp_path / "out", "sit_ssp")
    assert result.examples["sit_ssp"] == len(rows) > 0
    assert all(r["source"] == "ravdess" and r["meta"]["gender"] in ("male", "female") for r in rows)
    assert all(r["response"].startswith("Sounds like") for r in rows)


def test_ingest_cli_writes_clips_and_rejects(tmp_path):
    root = make_ravdess(tmp_path / "RAVDESS")
    (root / "Actor_01" / "notes.txt").write_text("not a clip")
    out = tmp_path / "clips.parquet"
    result = subprocess.run([*CLI, "ingest", "ravdess", str(root), "-o", str(out), "--no-progress"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    clips = clips_from_arrow(pq.read_table(out))
    assert clips and all(c.clip_id.startswith("ravdess/") and c.meta.get("emotion") for c in clips)
    assert set(pq.read_table(out).column_names) >= {"clip_id", "source", "language", "audio", "speaker_id", "text", "raw", "meta"}
    rejects = [json.loads(line) for line in (tmp_path / "clips.rejects.jsonl").read_text().splitlines()]
    assert any("notes.txt" in r["id"] or "notes.txt" in r["message"] for r in rejects)
    wrong = subprocess.run([*CLI, "ingest", "ravdess", str(tmp_path), "-o", str(out)], capture_output=True, text=True)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr
    unknown = subprocess.run([*CLI, "ingest", "nope", str(root)], capture_output=True, text=True)
    assert unknown.returncode == 2 and "configuration error" in unknown.stderr


def test_ingest_paths_resolve_against_the_clips_file_not_the_shell(tmp_path, monkeypatch):
    """ingest run from one folder with relative paths; the clips file read from another folder."""
    from speechsift.sources.clips_io import read_clips

    make_ravdess(tmp_path / "data" / "RAVDESS")
    done = subprocess.run([*CLI, "ingest", "ravdess", "data/RAVDESS/Audio_Speech_Actors_01-24", "-o", "lists/clips.parquet",
                           "--no-progress"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    stored = pq.read_table(tmp_path / "lists" / "clips.parquet").column("audio").to_pylist()
    assert all(a["path"].startswith("../data/RAVDESS/Audio_Speech_Actors_01-24/Actor_") for a in stored)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    clips = read_clips(Path("../lists/clips.parquet"))
    assert len(clips) == len(stored) and all(Path(c.audio.path).is_file() for c in clips)
    measured = subprocess.run([*CLI, "features", "../lists/clips.parquet", "-o", "f.parquet", "-f", "duration",
                               "--workers", "1", "--no-progress"], capture_output=True, text=True, cwd=elsewhere)
    assert measured.returncode == 0, measured.stderr
    assert (elsewhere / "f.rejects.jsonl").read_text() == "", "every clip's audio found from another folder"
    assert pq.read_table(elsewhere / "f.parquet").num_rows == len(clips)


def test_ingest_whose_every_clip_is_rejected_fails(tmp_path):
    root = tmp_path / "RAVDESS" / "Audio_Speech_Actors_01-24"
    (root / "Actor_01").mkdir(parents=True)
    (root / "Actor_01" / "notes.txt").write_text("not a clip")
    (root / "Actor_02").mkdir()
    out = tmp_path / "clips.parquet"
    done = subprocess.run([*CLI, "ingest", "ravdess", str(root), "-o", str(out), "--no-progress"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    message = " ".join(done.stderr.split())
    assert "every one of the 2 clips was rejected" in message and "clips.rejects.jsonl" in message
    assert len((tmp_path / "clips.rejects.jsonl").read_text().splitlines()) == 2


def test_corpora_cli_lists_every_corpus():
    result = subprocess.run([*CLI, "corpora"], capture_output=True, text=True, env={"COLUMNS": "200", "PATH": ""})
    for name in ("crema_d", "ravdess", "tess", "savee", "esd", "common_voice", "vctk", "mls", "librispeech",
                 "meld", "msp_podcast", "heysquad"):
        assert name in result.stdout


def test_lhotse_source_in_a_recipe(tmp_path):
    pytest.importorskip("lhotse")
    from speechsift.sources.corpora import read_corpus

    clips = [c for c in read_corpus("ravdess", make_ravdess(tmp_path / "RAVDESS")) if hasattr(c, "clip_id")]
    manifests = write_lhotse(clips, tmp_path / "lhotse")
    cuts = manifests.cuts
    result = run_recipe(parse_recipe(_recipe(tmp_path / "out", {"kind": "lhotse", "name": "ravdess", "path": str(cuts)},
                                             tasks=["transcription"])), progress=False)
    assert result.examples["transcription"] == len(clips)


def test_preset_source_reads_a_local_copy(tmp_path):
    datasets = pytest.importorskip("datasets")
    from speechsift.sources.presets import get_preset

    preset = get_preset("abstracttts_crema_d")
    columns = {field: column for field, column in preset.fields.items()}
    from factories import write_tone

    clip = write_tone(tmp_path / "a.wav")
    row = {column: "x" for column in columns.values()}
    row[columns.get("audio", "audio")] = {"bytes": clip.read_bytes(), "path": "a.wav"}
    if "emotion" in columns:
        row[columns["emotion"]] = "angry"
    if "gender" in columns:
        row[columns["gender"]] = "female"
    ds = datasets.Dataset.from_list([row]).cast_column(columns.get("audio", "audio"), datasets.Audio())
    ds.save_to_disk(str(tmp_path / "copy"))
    source = {"kind": "hf", "name": "crema", "preset": "abstracttts_crema_d", "path": str(tmp_path / "copy")}
    result = run_recipe(parse_recipe(_recipe(tmp_path / "out", source, tasks=["sit_ssp"])), progress=False)
    assert result.examples["sit_ssp"] == 1
