"""A run as a user makes it: clips in two languages, recorded clean, in a reverberant room, in loud
noise and clipped; quality (DNSMOS P.808, the default), reverb and distortion measured, bins fitted on
the corpus with `speechsift features --fit-bins`, the closed-ended templates asking about the
recording, and a curation threshold on speech quality that drops clips before generation."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from scipy.signal import fftconvolve
from factories import recipe_dict, write_manifest
from features.speech_fixtures import SKIP_REASON, SR, espeak, espeak_available, white_noise

from speechsift.engine import run_recipe
from speechsift.engine.counts import ShardLog
from speechsift.engine.enrich import Enrich
from speechsift.engine.featurize import featurize
from speechsift.labels import i18n, normalized_clips
from speechsift.labels.bins import DISTORTION_LEVELS, REVERBERATION_LEVELS, SPEECH_QUALITY_LEVELS, load_bins
from speechsift.recipe import parse_recipe
from speechsift.render.desta import render_seed_description
from speechsift.render.sift_json import sift_metadata
from speechsift.sources.manifest import read_manifest

pytestmark = pytest.mark.skipif(not espeak_available(), reason=SKIP_REASON)

SENTENCES = {"en": ("en-us", "We will walk to the park today and look at the ducks."),
             "de": ("de", "Wir gehen heute in den Park und schauen uns die Enten an.")}
FEATURES = ["duration", "pitch", "snr", "quality", "reverb", "distortion"]


def hall(x: np.ndarray) -> np.ndarray:
    """``x`` in a reverberant hall: a direct path and an exponentially decaying diffuse tail (RT60 1.2 s,
    C50 about 0 dB)."""
    t = np.arange(int(1.2 * SR)) / SR
    rir = np.random.default_rng(5).standard_normal(t.size) * np.exp(-6.9 * t / 1.2) * 0.08
    rir[0] = 1.0
    wet = fftconvolve(x, rir)
    return wet * (0.9 / np.abs(wet).max())


def conditions(x: np.ndarray) -> dict[str, np.ndarray]:
    x = x * (0.9 / np.abs(x).max())
    active = x[np.abs(x) > 0.01]
    return {"clean": x, "hall": hall(x), "noisy": x + white_noise(x.size, float(np.mean(active**2)), seed=2),
            "clipped": np.clip(x * 10, -0.9, 0.9)}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("acoustic")
    rows = []
    for language, (voice, text) in SENTENCES.items():
        for condition, wave in conditions(espeak(text, voice=voice)).items():
            name = f"{language}_{condition}"
            sf.write(root / f"{name}.wav", wave.astype(np.float32), SR)
            rows.append({"id": name, "audio": f"{name}.wav", "text": text, "language": language, "speaker": name})
    manifest = write_manifest(root / "manifest.csv", rows)
    bins_path = root / "bins.json"
    summary = featurize(manifest, root / "features.parquet", FEATURES, fit_bins=bins_path, workers=1, progress=False)
    assert "speech_quality" in summary and "reverberation" in summary and "distortion_level" in summary
    return manifest, bins_path, root


def test_features_file_and_fitted_bins(corpus):
    _, bins_path, root = corpus
    table = {r["clip_id"].split("/")[1]: r for r in pq.read_table(root / "features.parquet").to_pylist()}
    for language in SENTENCES:
        clean, hall_, noisy, clipped = (table[f"{language}_{c}"] for c in ("clean", "hall", "noisy", "clipped"))
        assert hall_["c50_db"] < clean["c50_db"] - 10, language
        assert noisy["dnsmos_p808"] < clean["dnsmos_p808"] - 1, language
        assert clipped["dnsmos_p808"] < clean["dnsmos_p808"], language
        assert clipped["distortion_sdr_db"] < clean["distortion_sdr_db"] - 15 and clipped["clipping_ratio"] > 0.05
    bins = load_bins(bins_path)
    assert bins.label("reverberation", min(r["c50_db"] for r in table.values())) == REVERBERATION_LEVELS[0]
    assert bins.label("distortion_level", table["en_clipped"]["distortion_sdr_db"]) in DISTORTION_LEVELS[:2]
    for language in SENTENCES:
        assert bins.label("speech_quality", table[f"{language}_noisy"]["dnsmos_p808"]) == SPEECH_QUALITY_LEVELS[0]
        assert bins.label("speech_quality", table[f"{language}_clean"]["dnsmos_p808"]) in SPEECH_QUALITY_LEVELS[-2:]


def test_run_labels_renders_asks_and_filters(corpus, tmp_path):
    manifest, bins_path, _ = corpus
    out = tmp_path / "out"
    data = recipe_dict(
        manifest, out,
        ["transcription", {"name": "closed_ended_template",
                           "options": {"attributes": ["speech_quality", "reverberation", "distortion"],
                                       "questions_per_clip": 3}}],
        features=FEATURES, labels={"bins": str(bins_path)}, engine={"workers": 1},
        curate={"min_quality": 2.4, "language_check": False},  # noisy clips score about 2.1, the rest >= 2.7
        output={"formats": ["parquet", "sift_jsonl"]},
    )
    run_recipe(parse_recipe(data), progress=False)
    run = json.loads((out / "run.json").read_text())
    counts = run["counts"]["acoustic_filter"]
    assert counts["inputs"] == 8 and counts["inputs"] == counts["outputs"] + counts["rejected"]
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    dropped = {r["id"].split("/")[1] for r in rejects if r["stage"] == "acoustic_filter"}
    assert dropped and all(name.endswith("_noisy") for name in dropped)
    assert {r["reason"] for r in rejects if r["stage"] == "acoustic_filter"} == {"low_speech_quality"}

    examples = [r for p in (out / "data").rglob("*.parquet") for r in pq.read_table(p).to_pylist()]
    meta = {r["clip_ids"][0].split("/")[1]: r["meta"] for r in examples}
    assert not dropped & set(meta)
    assert meta["en_hall"]["reverberation"] == REVERBERATION_LEVELS[0]
    assert meta["en_clean"]["reverberation"] in REVERBERATION_LEVELS[-2:]
    assert meta["de_clipped"]["distortion_level"] in DISTORTION_LEVELS[:2]
    assert all(m["speech_quality"] for m in meta.values())

    questions = [r for r in examples if r["task"] == "closed_ended_template"]
    german = [r["response"] for r in questions if r["language"] == "de"]
    assert any(r.startswith("Die Stimme klingt") for r in german) and any("Sprachqualität" in r for r in german)
    hall_answer = [r["response"] for r in questions if r["clip_ids"][0].endswith("de_hall")
                   and r["response"].startswith("Die Stimme klingt")]
    assert hall_answer == [f"Die Stimme klingt {i18n.REVERBERATION_WORDS['de'][0]}."]
    sift = [json.loads(line) for p in (out / "exports" / "sift_jsonl").rglob("*.jsonl") for line in p.open()]
    assert sift and all(r["messages"][0]["content"] for r in sift)
    report = (out / "report" / "index.html").read_text()
    assert "reverberation" in report and "speech_quality" in report and "distortion_level" in report


def test_rendered_metadata_and_seed_description(corpus):
    manifest, bins_path, _ = corpus
    clips = {c.clip_id.split("/")[1]: c for c in normalized_clips(read_manifest(manifest, source="src"))}
    enrich = Enrich(FEATURES, load_bins(bins_path))
    [hall_clip] = enrich([clips["de_hall"]], ShardLog())
    metadata = sift_metadata(hall_clip)["acoustic_level"]
    assert metadata["nachhall"] == "sehr entfernt" and "sprachqualität" in metadata and "verzerrung" in metadata
    assert sift_metadata(hall_clip, "fr")["acoustic_level"]["réverbération"] == "très lointaine"
    seed = render_seed_description(hall_clip)
    assert "Reverberation(C50): very distant-sounding" in seed and "Speech quality: " in seed
    assert "Distortion: " in seed and "SNR: " in seed
