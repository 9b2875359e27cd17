"""The opt-in gender estimate from the measured pitch: its rule, its accuracy on espeak-ng voices
that declare a gender, and that a run never lets it replace a corpus label."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf
from factories import recipe_dict, write_manifest
from features.speech_fixtures import SKIP_REASON, SR, espeak, espeak_available

from speechsift.engine import run_recipe
from speechsift.errors import ConfigError
from speechsift.features.pitch import measure_pitch
from speechsift.labels.normalize import gender_from_f0
from speechsift.recipe import parse_recipe

# espeak-ng variants and the gender each declares (espeak-ng --voices=variant); the full set is
# scripts/evaluate_gender.py's (96.7 % of 303 clips).
VOICES = {"m1": "male", "m3": "male", "m7": "male", "Alex": "male", "benjamin": "male", "max": "male",
          "f1": "female", "f2": "female", "f4": "female", "Annie": "female", "linda": "female", "Andrea": "female"}
needs_espeak = pytest.mark.skipif(not espeak_available(), reason=SKIP_REASON)


def test_the_rule():
    assert gender_from_f0(110.0) == "male" and gender_from_f0(210.0) == "female"
    assert gender_from_f0(164.9) == "male" and gender_from_f0(165.0) == "female"
    assert gender_from_f0(math.nan) is None and gender_from_f0(None) is None and gender_from_f0(0.0) is None


@needs_espeak
def test_accuracy_on_espeak_voices_that_declare_a_gender():
    right = sum(gender_from_f0(measure_pitch(espeak("We will walk to the park today.", voice=f"en-us+{v}"), SR)
                               ["f0_median_hz"]) == declared for v, declared in VOICES.items())
    assert right / len(VOICES) >= 0.9


@needs_espeak
def test_a_run_fills_only_missing_genders_and_says_so(tmp_path):
    root = tmp_path / "corpus"
    root.mkdir()
    rows = []
    for name, voice, gender in (("low_unlabelled", "en-us+m3", ""), ("high_unlabelled", "en-us+f2", ""),
                                ("high_labelled_male", "en-us+f2", "male")):
        sf.write(root / f"{name}.wav", espeak("We will walk to the park today.", voice=voice).astype(np.float32), SR)
        rows.append({"id": name, "audio": f"{name}.wav", "text": "we will walk to the park today", "gender": gender})
    manifest = write_manifest(root / "m.csv", rows)
    out = tmp_path / "out"
    run_recipe(parse_recipe(recipe_dict(manifest, out, ["transcription"], features=["pitch"],
                                        labels={"gender_from_pitch": True}, engine={"workers": 1})), progress=False)
    meta = {r["clip_ids"][0].split("/")[1]: r["meta"]
            for p in (out / ".work" / "examples").glob("*.parquet") for r in pq.read_table(p).to_pylist()}
    assert meta["low_unlabelled"]["gender"] == "male" and meta["high_unlabelled"]["gender"] == "female"
    assert "gender:measured" in meta["high_unlabelled"]["label_sources"]
    assert meta["high_labelled_male"]["gender"] == "male", "a corpus label is never replaced"
    assert "gender:corpus" in meta["high_labelled_male"]["label_sources"]
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["enrich"]["outputs"] == 3


def test_the_estimate_needs_the_pitch_feature(tmp_path):
    manifest = write_manifest(tmp_path / "m.csv", [{"id": "a", "audio": "a.wav", "text": "x"}])
    with pytest.raises(ConfigError, match="gender_from_pitch.*add pitch to features"):
        parse_recipe(recipe_dict(manifest, tmp_path / "out", ["transcription"], features=["loudness"],
                                 labels={"gender_from_pitch": True}))
