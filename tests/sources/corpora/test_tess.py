"""TESS: two speakers, seven emotions in file and folder names, the nested duplicate copy."""

from __future__ import annotations

import shutil

import pytest
from corpus_trees import make_tess, tone

from speechsift.errors import CorpusError

META = {"angry": "angry", "disgust": "disgust", "fear": "fear", "happy": "happy", "neutral": "neutral",
        "ps": "surprise", "sad": "sad"}


def test_every_code_maps(tmp_path, read, no_audio_reads):
    corpus = make_tess(tmp_path)
    with no_audio_reads():
        clips, rejects = read("tess", corpus)
    assert not rejects and len(clips) == 28
    for native_id, clip in clips.items():
        speaker, word, emotion = native_id.split("_")
        assert clip.clip_id == f"tess/{native_id}" and clip.source == "tess" and clip.language == "en"
        assert clip.speaker_id == speaker and clip.text == f"Say the word {word}"
        assert clip.raw == {"emotion": emotion, "gender": "female", "age": {"OAF": "64", "YAF": "26"}[speaker]}
        assert clip.meta == {"emotion": META[emotion], "gender": "female",
                             "age": {"OAF": "senior", "YAF": "young adult"}[speaker]}
        assert clip.extra == {"word": word}
    assert {c.raw["emotion"] for c in clips.values()} == set(META)
    assert clips["OAF_back_angry"].text == "Say the word back"
    assert clips["YAF_youth_ps"].audio.path.endswith("YAF_pleasant_surprised/YAF_youth_ps.wav")


def test_bad_files_and_the_nested_copy(tmp_path, read):
    corpus = make_tess(tmp_path)
    tone(corpus / "OAF_angry" / "OAF_back_bored.wav")       # emotion outside the scheme
    tone(corpus / "OAF_angry" / "back_angry.wav")           # no speaker
    tone(corpus / "OAF_angry" / "OAF_bite_sad.wav")         # file and folder disagree
    shutil.copytree(corpus / "YAF_sad", corpus / "TESS Toronto emotional speech set data" / "YAF_sad")  # Kaggle's copy
    clips, rejects = read("tess", corpus)
    assert len(clips) == 28
    assert [r.id for r in rejects["unknown_code"]] == ["tess/OAF_back_bored"]
    assert [r.id for r in rejects["unexplained_file"]] == ["tess/back_angry.wav"]
    assert [r.id for r in rejects["mismatched_label"]] == ["tess/OAF_bite_sad"]
    assert sorted(r.id for r in rejects["duplicate_clip"]) == ["tess/YAF_back_sad", "tess/YAF_youth_sad"]


def test_wrong_and_empty_folder(tmp_path, read):
    make_tess(tmp_path / "archive")
    with pytest.raises(CorpusError, match="OAF_angry.*corpus is at .*archive/TESS Toronto emotional speech set data"):
        read("tess", tmp_path)
    (tmp_path / "empty" / "OAF_angry").mkdir(parents=True)
    with pytest.raises(CorpusError, match="no .wav files"):
        read("tess", tmp_path / "empty")
