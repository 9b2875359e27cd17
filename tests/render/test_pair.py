"""The pairwise context for comparison tasks (render.pair)."""

from __future__ import annotations

import json

from factories import make_clip

from speechsift.render.pair import MEASURES, measured_relations, relation, render_pair_json


def _clip(clip_id, **features):
    clip = make_clip(clip_id, text="same words", meta={"gender": "female", "pitch": "very high"})
    clip.features = features
    return clip


def test_relations_need_the_minimum_difference():
    a = _clip("s/a", f0_median_hz=200.0, speaking_rate=10.0, relative_db=-20.0)
    b = _clip("s/b", f0_median_hz=220.0, speaking_rate=12.0, relative_db=-24.0)  # +1.65 st, x1.2, -4 dB
    assert measured_relations(a, b) == {"higher_pitch": "similar", "faster_speech": "second", "louder": "first"}
    c = _clip("s/c", f0_median_hz=230.0)  # +2.42 st
    pitch = MEASURES[0]
    assert relation(pitch, c, a) == "first" and relation(pitch, a, c) == "second"
    assert relation(pitch, a, _clip("s/d")) is None


def test_pair_json_holds_both_clips_and_the_measured_relations():
    a = _clip("s/a", f0_median_hz=150.0, duration_s=1.0)
    b = _clip("s/b", f0_median_hz=300.0, duration_s=2.0)
    data = json.loads(render_pair_json(a, b))
    assert set(data) == {"audio_1", "audio_2", "measured"}
    assert data["audio_1"]["acoustic_level"]["pitch"] == "very high"
    assert data["audio_2"]["acoustic_level"]["duration"] == "2.0 s"
    assert data["measured"] == {"higher_pitch": "audio_2"}
    assert "measured" not in json.loads(render_pair_json(_clip("s/x"), _clip("s/y")))
