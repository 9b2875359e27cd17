"""The enrich stage in a run: labels measured from real audio, bins, and who wins per field."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import soundfile as sf
from factories import recipe_dict, release_rows, write_manifest

from speechsift.engine import run_recipe
from speechsift.engine.enrich import choose_labels
from speechsift.labels.bins import FIXED_BINS, save_bins
from speechsift.recipe import parse_recipe


def _voice(path, f0, amplitude, seconds=1.0, sr=16_000):
    """A harmonic tone with a syllable-like envelope: voiced, with a known F0 and level."""
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6))
    envelope = 0.5 * (1 - np.cos(2 * np.pi * 4 * t))
    shaped = wave * envelope
    sf.write(path, (amplitude * shaped / np.abs(shaped).max()).astype(np.float32), sr)  # peak = amplitude
    return path


def _corpus(root):
    root.mkdir(parents=True, exist_ok=True)
    rows = [
        {"id": "low_quiet", "audio": _voice(root / "a.wav", 100, 0.02).name, "text": "one two three", "gender": "male", "volume": ""},
        {"id": "high_loud", "audio": _voice(root / "b.wav", 180, 0.99).name, "text": "one two three", "gender": "male", "volume": ""},
        {"id": "given", "audio": _voice(root / "c.wav", 180, 0.99).name, "text": "one two", "gender": "male", "volume": "quiet"},
    ]
    return write_manifest(root / "m.csv", rows)


def _meta(out):
    rows = release_rows(out, "transcription")
    return {r["id"]: r["meta"] for r in rows}, rows


def test_measured_labels_fill_what_the_corpus_lacks(tmp_path):
    manifest = _corpus(tmp_path / "corpus")
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, ["transcription"], features=["duration", "loudness", "pitch", "snr"],
                       engine={"workers": 2})
    run_recipe(parse_recipe(data), progress=False)
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["enrich"] == {"inputs": 3, "outputs": 3, "rejected": 0, "rejected_by_reason": {}}
    rows = [r for p in sorted((out / ".work" / "examples").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    by_clip = {r["clip_ids"][0].split("/")[1]: r["meta"] for r in rows}
    assert by_clip["low_quiet"]["volume"] == "quiet" and by_clip["high_loud"]["volume"] == "loud"
    assert by_clip["low_quiet"]["pitch"] == "very low" and by_clip["high_loud"]["pitch"] == "very high"
    assert by_clip["given"]["volume"] == "quiet", "the corpus label wins by default"
    assert "volume:corpus" in by_clip["given"]["label_sources"] and "volume:measured" in by_clip["high_loud"]["label_sources"]


def test_measured_first_and_bins_from_a_file(tmp_path):
    manifest = _corpus(tmp_path / "corpus")
    bins = save_bins(FIXED_BINS, tmp_path / "bins.json")
    out = tmp_path / "out"
    data = recipe_dict(manifest, out, ["transcription"], features=["loudness"],
                       labels={"bins": str(bins), "prefer": {"volume": "measured"}}, engine={"workers": 1})
    run_recipe(parse_recipe(data), progress=False)
    rows = [r for p in sorted((out / ".work" / "examples").glob("*.parquet")) for r in pq.read_table(p).to_pylist()]
    assert {r["clip_ids"][0]: r["meta"]["volume"] for r in rows}["src/given"] == "loud"


def test_undecodable_audio_is_rejected_by_enrich_not_a_crash(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "bad.wav").write_bytes(b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
                                   + bytes(16) + b"data" + (100).to_bytes(4, "little") + bytes(100))
    manifest = write_manifest(root / "m.csv", [{"id": "bad", "audio": "bad.wav", "text": "x"}])
    out = tmp_path / "out"
    run_recipe(parse_recipe(recipe_dict(manifest, out, ["transcription"], features=["loudness"], engine={"workers": 1})),
               progress=False)
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert len(rejects) == 1 and rejects[0]["stage"] in ("probe_audio", "enrich")


def test_choose_labels_policies():
    corpus = {"volume": "quiet", "gender": "male"}
    measured = {"volume": "loud", "pitch": "very low"}
    assert choose_labels(corpus, measured, {})[0] == {"volume": "quiet", "gender": "male", "pitch": "very low"}
    assert choose_labels(corpus, measured, {"volume": "measured"})[0]["volume"] == "loud"
    assert "pitch" not in choose_labels(corpus, measured, {"pitch": "corpus"})[0]
