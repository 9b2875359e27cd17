"""Hub presets of the hf source: valid mappings, value maps and answer texts applied, read from local copies."""

from __future__ import annotations

import pytest
from factories import write_tone

from speechsift.errors import ConfigError, CorpusError
from speechsift.labels import normalized_clips
from speechsift.records import Clip
from speechsift.sources.base import FIELD_ALIASES
from speechsift.sources.presets import PRESETS, get_preset, list_presets, read_preset

datasets = pytest.importorskip("datasets")


def test_every_preset_maps_known_fields():
    assert {p.name for p in list_presets()} >= {
        "abstracttts_crema_d", "abstracttts_ravdess", "abstracttts_tess", "abstracttts_savee", "abstracttts_esd",
        "abstracttts_podcast", "common_voice_17", "meld_audio", "heysquad_human", "loquacious", "ami_ihm"}
    for preset in PRESETS.values():
        assert "/" in preset.dataset
        assert set(preset.fields) <= set(FIELD_ALIASES), preset.name
        assert set(preset.value_maps) <= set(preset.fields), preset.name
        options = preset.hf_options()
        assert "audio" not in options["fields"] and options["dataset"] == preset.dataset
    assert get_preset("loquacious").hf_options()["audio_column"] == "wav"
    with pytest.raises(ConfigError, match="unknown hub preset 'nope'"):
        get_preset("nope")


def _local_copy(tmp_path, columns: dict, n: int = 3):
    clips = [write_tone(tmp_path / "clips" / f"{i}.wav", seconds=0.05) for i in range(n)]
    data = {"audio": [{"bytes": p.read_bytes(), "path": p.name} for p in clips], **columns}
    folder = tmp_path / "copy"
    datasets.Dataset.from_dict(data).cast_column("audio", datasets.Audio()).save_to_disk(str(folder))
    return folder


def test_abstracttts_columns_from_a_local_copy(tmp_path):
    folder = _local_copy(tmp_path, {
        "file": ["1001_DFA_ANG_XX.wav", "1002_IEO_SAD_HI.wav", "1003_TIE_NEU_LO.wav"],
        "transcription": ["Don't forget a jacket", "It's eleven o'clock", "That is exactly what happened"],
        "major_emotion": ["angry", "sad", "neutral"], "gender": ["male", "female", "female"],
        "speaking_rate": [5.0, 7.5, 10.0], "relative_db": [-20.0, -12.0, -5.0],
    })
    clips = list(normalized_clips(read_preset("abstracttts_crema_d", path=folder)))
    assert all(isinstance(c, Clip) for c in clips)
    first = clips[0]
    assert first.clip_id == "abstracttts_crema_d/1001_DFA_ANG_XX.wav" and first.text == "Don't forget a jacket"
    assert first.language == "en" and first.audio.bytes
    assert first.meta == {"emotion": "angry", "gender": "male", "pace": "slow", "volume": "quiet"}
    assert clips[2].meta == {"emotion": "neutral", "gender": "female", "pace": "fast", "volume": "loud"}
    renamed = list(normalized_clips(read_preset("abstracttts_crema_d", path=folder, source="cremad_hub")))
    assert renamed[0].clip_id.startswith("cremad_hub/")


def test_value_maps_turn_class_labels_into_names(tmp_path):
    folder = _local_copy(tmp_path, {"text": ["a", "b", "c"], "emotion": [1, 3, 6], "sentiment": [1, 2, 0]})
    clips = list(normalized_clips(read_preset("meld_audio", path=folder)))
    assert [c.raw["emotion"] for c in clips] == ["joy", "anger", "surprise"]
    assert [c.meta["emotion"] for c in clips] == ["happy", "angry", "surprise"]


def test_heysquad_answers_are_texts(tmp_path):
    folder = _local_copy(tmp_path, {
        "id": ["q0", "q1", "q2"], "transcription": ["who", "what", "when"],
        "answers": [[{"answer_start": 0, "text": "Ann"}, {"answer_start": 4, "text": "ann"}],
                    [{"answer_start": 1, "text": "a 'quoted' answer"}], []],
    })
    clips = list(read_preset("heysquad_human", path=folder))
    assert [c.extra.get("answers", []) for c in clips] == [["Ann", "ann"], ["a 'quoted' answer"], []]
    assert clips[0].clip_id == "heysquad_human/q0" and clips[0].text == "who"


def test_a_renamed_column_in_a_copy(tmp_path):
    folder = _local_copy(tmp_path, {"file": ["a", "b", "c"], "transcription": ["x", "y", "z"],
                                     "emotion_label": ["happy", "sad", "angry"], "gender": ["m", "f", "m"],
                                     "speaking_rate": [7.0] * 3, "relative_db": [-12.0] * 3})
    with pytest.raises(CorpusError, match="fields.emotion names column 'major_emotion'"):
        list(read_preset("abstracttts_crema_d", path=folder))
    clips = list(normalized_clips(read_preset("abstracttts_crema_d", path=folder, fields={"emotion": "emotion_label"})))
    assert [c.meta["emotion"] for c in clips] == ["happy", "sad", "angry"]
