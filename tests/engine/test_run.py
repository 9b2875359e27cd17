"""Whole runs of the local executor on real audio files, read back as a trainer would."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import soundfile as sf
from factories import make_corpus, recipe_dict, release_rows, write_manifest, write_tone

from speechsift.engine import run_recipe
from speechsift.errors import StrictModeError
from speechsift.recipe import parse_recipe


def _run(data, **kw):
    return run_recipe(parse_recipe(data), progress=False, **kw)


def _rejects(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]


def _table(out: Path, task: str):
    return release_rows(out, task)


def test_demo_like_run_writes_every_output(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=6)
    out = tmp_path / "out"
    result = _run(recipe_dict(manifest, out, ["transcription", "sit_ssp"]))
    assert result.totals.examples == {"transcription": 6, "sit_ssp": 6}
    for path in ("run.json", "rejects.jsonl", "README.md", "exports/messages/dataset_info.json"):
        assert (out / path).is_file(), path
    rows = _table(out, "sit_ssp")
    assert all(r["response"].startswith("Sounds like") for r in rows)
    assert rows[0]["generation"]["backend"] == "template" and rows[0]["generation"]["model"] is None
    transcription = _table(out, "transcription")
    assert [r["response"] for r in transcription] == [f"sentence number {i}." for i in range(6)]
    assert transcription[0]["generation"]["backend"] == "direct"
    run = json.loads((out / "run.json").read_text())
    for stage, counts in run["counts"].items():
        assert counts["inputs"] == counts["outputs"] + counts["rejected"], stage


def test_parquet_loads_with_datasets_and_audio_decodes_with_soundfile(tmp_path):
    datasets = pytest.importorskip("datasets")
    manifest = make_corpus(tmp_path / "corpus", n=4, seconds=0.3)
    out = tmp_path / "out"
    _run(recipe_dict(manifest, out, ["transcription"]))
    ds = datasets.load_dataset("parquet", data_files=str(out / "data/train-*.parquet"), split="train")
    assert isinstance(ds.features["audios"].feature, datasets.Audio)
    ds = ds.cast_column("audios", [datasets.Audio(decode=False)])
    assert len(ds) == 4
    row = ds[0]
    for column in ("id", "task", "source", "language", "clip_ids", "instruction", "response", "messages", "meta", "generation"):
        assert column in row
    assert row["meta"]["gender"] == "male" and row["meta"]["emotion"] == "happy"
    wave, sr = sf.read(io.BytesIO(row["audios"][0]["bytes"]))
    assert sr == 16_000 and len(wave) == int(0.3 * 16_000)
    assert row["messages"][0]["content"][0] == {"type": "audio", "text": None, "audio": 0}


def test_audio_path_mode_keeps_paths(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=2)
    out = tmp_path / "out"
    _run(recipe_dict(manifest, out, ["transcription"], output={"audio": "path"}))
    rows = _table(out, "transcription")
    assert rows[0]["audios"][0]["bytes"] is None
    assert Path(rows[0]["audios"][0]["path"]).is_file()


def test_bad_input_is_rejected_with_reasons_and_the_run_goes_on(tmp_path):
    root = tmp_path / "corpus"
    write_tone(root / "good.wav")
    (root / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    write_tone(root / "empty.wav", seconds=0.0)
    rows = [
        {"id": "good", "audio": "good.wav", "text": "fine", "emotion": "happy"},
        {"id": "missing", "audio": "nowhere.wav", "text": "x"},
        {"id": "corrupt", "audio": "corrupt.wav", "text": "x"},
        {"id": "empty", "audio": "empty.wav", "text": "x"},
        {"id": "notext", "audio": "good.wav", "text": "", "emotion": "joy"},
        {"id": "odd", "audio": "good.wav", "text": "y", "emotion": "bemused"},
        {"id": "noaudio", "audio": "", "text": "z"},
    ]
    manifest = write_manifest(root / "m.csv", rows)
    with manifest.open("ab") as handle:  # a row whose text is not UTF-8
        handle.write(b"latin,good.wav,caf\xe9 au lait,\r\n")
    out = tmp_path / "out"
    result = _run(recipe_dict(manifest, out, ["transcription", "answer_extraction"]))
    reasons = {(r["id"], r["stage"], r["reason"]) for r in _rejects(out)}
    assert ("src/missing", "probe_audio", "missing_audio") in reasons
    assert ("src/corrupt", "probe_audio", "unreadable_audio") in reasons
    assert ("src/empty", "probe_audio", "empty_audio") in reasons
    assert ("src/notext", "task.transcription", "empty_transcript") in reasons
    assert ("src/good", "task.answer_extraction", "no_answer") in reasons
    assert ("src/noaudio", "read", "missing_audio") in reasons
    assert ("src/row8", "read", "undecodable_text") in reasons
    assert result.totals.examples["transcription"] == 2  # good and odd
    run = json.loads((out / "run.json").read_text())
    assert run["unknown_labels"] == {"emotion": {"bemused": 1}}
    total_rejects = sum(c["rejected"] for c in run["counts"].values())
    assert total_rejects == len(_rejects(out)) == run["rejects"]
    # every row is accounted for: 8 rows in, 2 examples per task at most, the rest rejected
    assert run["counts"]["read"]["inputs"] == 8


def test_strict_stops_at_the_first_reject(tmp_path):
    root = tmp_path / "corpus"
    manifest = write_manifest(root / "m.csv", [{"id": "a", "audio": "nowhere.wav", "text": "x"}])
    with pytest.raises(StrictModeError, match="missing_audio"):
        _run(recipe_dict(manifest, tmp_path / "out", ["transcription"]), strict=True)


def test_rerun_skips_finished_shards_and_redoes_changed_ones(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=6)
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, ["transcription"], engine={"shard_size": 2})
    first = _run(data)
    assert (first.shards, first.shards_skipped) == (3, 0)
    before = {p: p.stat().st_mtime_ns for p in (out / ".work" / "examples").glob("*.parquet")}
    released = sorted(r["id"] for r in _table(out, "transcription"))
    again = _run(recipe_dict(manifest, out, ["transcription"], engine={"shard_size": 2}))
    assert (again.shards, again.shards_skipped) == (3, 3)
    assert {p: p.stat().st_mtime_ns for p in (out / ".work" / "examples").glob("*.parquet")} == before
    assert sorted(r["id"] for r in _table(out, "transcription")) == released
    assert json.loads((out / "run.json").read_text())["release_reused"] is True, "nothing changed: release kept"
    assert again.totals.examples == first.totals.examples
    # a larger limit after a smaller one: the partial last shard is redone, not trusted
    out2 = tmp_path / "out2"
    _run(recipe_dict(manifest, out2, ["transcription"], engine={"shard_size": 4}), limit=5)
    grown = _run(recipe_dict(manifest, out2, ["transcription"], engine={"shard_size": 4}))
    assert grown.shards_skipped == 1 and grown.totals.examples["transcription"] == 6
    # a changed recipe redoes everything and removes the outputs of tasks it no longer has
    changed = _run(recipe_dict(manifest, out, ["sit_ssp"], engine={"shard_size": 2}))
    assert changed.shards_skipped == 0
    assert not release_rows(out, "transcription") and release_rows(out, "sit_ssp")
    assert not list((out / "exports").rglob("transcription/**/*.jsonl"))


def test_tasks_limited_to_sources(tmp_path):
    manifest = make_corpus(tmp_path / "a", n=3)
    questions = write_manifest(
        tmp_path / "b" / "q.csv",
        [{"id": "q1", "audio": str(write_tone(tmp_path / "b" / "q1.flac")), "text": "What colour is the sky?", "answer": "Blue"}],
    )
    data = recipe_dict(manifest, tmp_path / "out", ["transcription", {"name": "answer_extraction", "sources": ["qs"]}])
    data["sources"].append({"name": "qs", "kind": "manifest", "path": str(questions), "language": "en"})
    result = _run(data)
    assert result.totals.examples == {"transcription": 4, "answer_extraction": 1}
    assert _table(tmp_path / "out", "answer_extraction")[0]["response"] == "blue"
    assert not _rejects(tmp_path / "out")


def test_splits_and_mixing_in_a_run(tmp_path):
    manifest = make_corpus(tmp_path / "corpus", n=30, seconds=0.1)  # speakers spk0..spk2
    rows = manifest.read_text().splitlines()
    # give every clip its own speaker except a few, so there are enough speakers to split
    rows = [rows[0]] + [line.replace(f",spk{i % 3},", f",spk{i},") for i, line in enumerate(rows[1:])]
    manifest.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, ["transcription", "sit_ssp"],
                       splits={"eval": {"per_cell": 4}, "dev": {"fraction": 0.2}, "seed": 1},
                       mix={"size": 20, "weights": {"task": {"sit_ssp": 3}}, "seed": 2})
    result = _run(data)
    run = json.loads((out / "run.json").read_text())
    # both tasks are in the "omni" category: one (en, omni) cell of 4 held-out examples
    assert run["splits"]["transcription/eval"] + run["splits"]["sit_ssp/eval"] == 4
    assert run["splits"]["sit_ssp/train"] == 15 and run["splits"]["transcription/train"] == 5
    assert run["mix"]["strata"]["sit_ssp/src"]["target"] == 15
    by_split: dict[str, set] = {}
    for task in ("transcription", "sit_ssp"):
        for row in _table(out, task):
            by_split.setdefault(row["split"], set()).add(row["speaker_id"])
    assert not by_split["train"] & by_split["eval"] and not by_split["dev"] & by_split["eval"]
    assert not by_split["train"] & by_split["dev"]
    rejects = _rejects(out)
    assert {r["reason"] for r in rejects} <= {"not_sampled", "held_out_speaker"}
    assert len(rejects) == run["rejects"] == run["counts"]["mix"]["rejected"] + run["counts"]["split"]["rejected"]
    assert sum(result.examples.values()) + len(rejects) == 60
    card = (out / "README.md").read_text()
    assert "path: data/eval-*.parquet" in card and "| task | train | dev | eval |" in card
    sift = {p.relative_to(out / "exports" / "sift_jsonl").parts[0] for p in (out / "exports" / "sift_jsonl").rglob("*.jsonl")}
    assert sift == {"train", "dev", "EvalSIFT"}  # SIFT-50M's name for the held-out split
