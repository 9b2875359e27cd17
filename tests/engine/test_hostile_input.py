"""Input a user really brings: duplicate ids, huge cells, clips too long and too short, a semicolon
CSV in latin-1 with upper-case headers, a second source; and the clip-level limits on their own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from factories import recipe_dict, write_manifest, write_tone

from speechsift import audio
from speechsift.engine.counts import ShardLog
from speechsift.engine.enrich import Enrich
from speechsift.engine.stages import ProbeAudio
from speechsift.records import AudioRef, Clip

CLI = [sys.executable, "-m", "speechsift.cli"]


def _clip(path: Path) -> Clip:
    return Clip(f"s/{path.stem}", "s", AudioRef(str(path)), "en", "spk", "hello there", {}, {}, {}, {})


def _never_decode(monkeypatch, reason: str) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError(f"decoded a clip that the header alone decides ({reason})")

    monkeypatch.setattr(audio, "load", refuse)
    monkeypatch.setattr(audio, "verify", refuse)


def test_length_limits_come_from_the_header_and_nothing_is_decoded(tmp_path, monkeypatch):
    clips = [_clip(write_tone(tmp_path / f"{name}.wav", seconds=seconds, sr=8_000))
             for name, seconds in (("short", 0.2), ("long", 31.0))]
    _never_decode(monkeypatch, "too_short/too_long")
    ctx = ShardLog()
    kept = ProbeAudio(decode=True, min_duration_s=0.3, max_duration_s=30.0)(clips, ctx)
    assert kept == []
    assert [(r["id"], r["reason"]) for r in ctx.rejects] == [("s/short", "too_short"), ("s/long", "too_long")]
    assert "engine.max_duration_s = 30 s" in ctx.rejects[1]["message"] and "31 s long" in ctx.rejects[1]["message"]
    monkeypatch.undo()
    ctx = ShardLog()
    [short, long] = ProbeAudio(decode=True, min_duration_s=None, max_duration_s=None)(clips, ctx)
    assert (short.features["duration_s"], long.features["duration_s"]) == (0.2, 31.0) and not ctx.rejects


def test_measuring_is_bounded_a_longer_clip_is_refused_before_decoding(tmp_path, monkeypatch):
    clip = _clip(write_tone(tmp_path / "long.wav", seconds=2.0, sr=8_000))
    _never_decode(monkeypatch, "too_long_to_measure")
    ctx = ShardLog()
    assert Enrich(["loudness"], max_measure_s=1.5)([clip], ctx) == []
    [reject] = ctx.rejects
    assert reject["reason"] == "too_long_to_measure" and "engine.max_measure_s = 1.5 s" in reject["message"]
    monkeypatch.undo()
    [measured] = Enrich(["loudness"], max_measure_s=None)([clip], ShardLog())
    assert measured.features["relative_db"] == pytest.approx(-13.5, abs=0.1)  # a 0.3 sine: -10.5 dBFS peak


def _latin1_semicolon_csv(path: Path, rows: list[list[str]]) -> Path:
    lines = ["ID;AUDIO;Transcript;GENDER;Emotion"] + [";".join(row) for row in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return path


def test_a_hostile_corpus_end_to_end(tmp_path):
    """Through the command line, as a user runs it: every bad row is a reject with its own reason,
    the good clips all make examples, the counts add up, and a rerun decides the same."""
    datasets = pytest.importorskip("datasets")
    corpus = tmp_path / "corpus"
    for name, seconds in (("a", 0.5), ("b", 0.6), ("c", 0.7), ("d", 0.8), ("e", 0.9), ("f", 1.0), ("g", 0.4)):
        write_tone(corpus / "clips" / f"{name}.wav", seconds=seconds, sr=8_000)
    write_tone(corpus / "clips" / "long.wav", seconds=31.0, sr=8_000)
    write_tone(corpus / "clips" / "short.wav", seconds=0.1, sr=8_000)
    main = _latin1_semicolon_csv(corpus / "main.csv", [
        ["a", "clips/a.wav", "Ça va très bien", "F", "joie"],
        ["b", "clips/b.wav", "second", "M", "sad"],
        ["a", "clips/c.wav", "the same id again", "F", "happy"],  # duplicate inside a shard
        ["huge", "clips/c.wav", "x" * 2**20, "M", "neutral"],  # a 1 MB cell
        ["long", "clips/long.wav", "a half-minute monologue", "F", "happy"],
        ["short", "clips/short.wav", "hm", "M", "neutral"],
        ["d", "clips/d.wav", "fourth", "F", "angry"],
        ["b", "clips/e.wav", "b again, in a later shard", "M", "happy"],  # duplicate across shards
    ])
    second = corpus / "second.jsonl"
    second.write_text("".join(json.dumps(row) + "\n" for row in [
        {"Clip_ID": "e", "Path": "clips/e.wav", "TEXT": "from the second source"},
        {"Clip_ID": "f", "Path": "clips/f.wav", "TEXT": "y" * 2**20},  # a 1 MB cell in JSONL
        {"Clip_ID": "g", "Path": "clips/g.wav", "TEXT": "another one"},
        {"Clip_ID": "e", "Path": "clips/f.wav", "TEXT": "e again"},
    ]), encoding="utf-8")
    out = tmp_path / "out"
    data = recipe_dict(main, out, ["transcription", "sit_ssp"], engine={"shard_size": 3})
    del data["engine"]["min_duration_s"]  # the defaults: 0.3-30 s
    data["sources"] = [
        {"name": "main", "kind": "manifest", "path": "corpus/main.csv", "encoding": "latin-1", "language": "fr"},
        {"name": "more", "kind": "manifest", "path": "corpus/second.jsonl", "language": "en"},
    ]
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(yaml.safe_dump(data), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run() -> tuple[dict, dict[str, tuple[str, str]]]:
        done = subprocess.run([*CLI, "run", str(recipe), "--no-progress"], capture_output=True, text=True, cwd=elsewhere)
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
        rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
        return json.loads((out / "run.json").read_text()), {r["id"]: (r["stage"], r["reason"]) for r in rejects}

    report, rejects = run()
    assert rejects == {
        "main/a": ("read", "duplicate_id"),
        "main/row4": ("read", "cell_too_large"),
        "main/long": ("probe_audio", "too_long"),
        "main/short": ("probe_audio", "too_short"),
        "main/b": ("read", "duplicate_id"),
        "more/row2": ("read", "cell_too_large"),
        "more/e": ("read", "duplicate_id"),
    }
    ds = datasets.load_dataset("parquet", data_files=str(out / "data" / "*.parquet"), split="train",
                               filters=[("task", "==", "transcription")])
    ds = ds.cast_column("audios", [datasets.Audio(decode=False)])
    examples = {row["clip_ids"][0]: row for row in ds}
    assert sorted(examples) == ["main/a", "main/b", "main/d", "more/e", "more/g"]
    assert examples["main/a"]["response"] == "ça va très bien", "latin-1 text read as written"
    assert examples["main/a"]["meta"]["gender"] == "female" and examples["main/b"]["response"] == "second"
    assert examples["more/e"]["response"] == "from the second source", "the first clip with an id is kept"
    assert examples["main/a"]["duration_s"] == pytest.approx(0.5)
    assert report["examples"] == {"transcription": 5, "sit_ssp": 5}
    counts = report["counts"]
    assert counts["read"]["inputs"] == 12 and counts["read"]["outputs"] == 7
    assert counts["read"]["rejected_by_reason"] == {"duplicate_id": 3, "cell_too_large": 2}
    assert counts["probe_audio"]["rejected_by_reason"] == {"too_long": 1, "too_short": 1}
    for stage, count in counts.items():
        assert count["inputs"] == count["outputs"] + count["rejected"], stage
    assert report["rejects"] == len(rejects) == 7
    assert report["shards"]["total"] == 4

    again, rejects_again = run()
    assert rejects_again == rejects and again["counts"] == counts, "the same decisions on a rerun"
    assert again["shards"]["skipped"] == again["shards"]["total"]


def test_a_run_whose_every_clip_is_rejected_fails_and_points_at_the_rejects(tmp_path):
    manifest = write_manifest(tmp_path / "m.csv", [{"id": "a", "audio": "nowhere/a.wav"}, {"id": "b", "audio": "b.wav"}])
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump(recipe_dict(manifest, tmp_path / "out", ["transcription"])))
    done = subprocess.run([*CLI, "run", str(recipe), "--no-progress"], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    message = " ".join(done.stderr.split())
    assert "every one of the 2 clips was rejected (missing_audio 2)" in message
    assert str(tmp_path / "out" / "rejects.jsonl") in message
    assert len((tmp_path / "out" / "rejects.jsonl").read_text().splitlines()) == 2, "the rejects are written first"
