"""SAVEE: speaker folders or the flat Kaggle copy, emotion codes, optional transcripts."""

from __future__ import annotations

import pytest
from corpus_trees import SAVEE_CODES, make_savee, tone

from speechsift.errors import CorpusError

META = {"a": "angry", "d": "disgust", "f": "fear", "h": "happy", "n": "neutral", "sa": "sad", "su": "surprise"}


def test_every_code_maps_without_transcripts(tmp_path, read, no_audio_reads):
    corpus = make_savee(tmp_path)
    with no_audio_reads():
        clips, rejects = read("savee", corpus)
    assert not rejects and len(clips) == 4 * 8
    for native_id, clip in clips.items():
        speaker, code = native_id.split("_")
        emotion = code.rstrip("0123456789")
        assert clip.clip_id == f"savee/{native_id}" and clip.language == "en" and clip.speaker_id == speaker
        assert clip.raw == {"emotion": emotion, "gender": "male"}
        assert clip.meta == {"emotion": META[emotion], "gender": "male"}
        assert clip.text is None and clip.extra == {"sentence_code": code}
    assert {c.raw["emotion"] for c in clips.values()} == set(SAVEE_CODES)
    assert {c.speaker_id for c in clips.values()} == {"DC", "JE", "JK", "KL"}


def test_transcripts_when_present(tmp_path, read):
    clips, rejects = read("savee", make_savee(tmp_path, transcripts=True))
    assert clips["JE_a01"].text == "Who authorized the unlimited expense account?"  # a01 is every speaker's
    assert clips["KL_sa01"].text.startswith("The prospect of cutting back spending")
    assert clips["DC_n30"].text == "She had your dark suit in greasy wash water all year."
    assert clips["JE_n30"].text is None
    assert [r.id for r in rejects["missing_audio"]] == ["savee/KL_su02"]  # a line for a clip that is not there


def test_flat_kaggle_layout(tmp_path, read):
    for name in ("DC_a01", "JK_su15", "KL_n30"):
        tone(tmp_path / "ALL" / f"{name}.wav")
    clips, rejects = read("savee", tmp_path)
    assert not rejects and sorted(clips) == ["DC_a01", "JK_su15", "KL_n30"]
    assert clips["JK_su15"].meta == {"emotion": "surprise", "gender": "male"}


@pytest.mark.parametrize("name, reason", [("a16.wav", "unknown_code"), ("n31.wav", "unknown_code"),
                                          ("x01.wav", "unknown_code"), ("take2.flac", "unexplained_file"),
                                          ("JE_a02.wav", "mismatched_speaker"), ("hello.wav", "unexplained_file")])
def test_names_outside_the_scheme(tmp_path, read, name, reason):
    corpus = make_savee(tmp_path)
    tone(corpus / "AudioData" / "DC" / name, fmt="WAV")
    clips, rejects = read("savee", corpus)
    assert len(clips) == 32 and list(rejects) == [reason]


def test_wrong_and_empty_folder(tmp_path, read):
    make_savee(tmp_path / "download")
    with pytest.raises(CorpusError, match="AudioData/DC.*corpus is at .*download/SAVEE"):
        read("savee", tmp_path)
    corpus = make_savee(tmp_path / "x")
    for path in (corpus / "AudioData" / "KL").iterdir():
        path.unlink()
    clips, rejects = read("savee", corpus)
    assert len(clips) == 24 and [r.id for r in rejects["empty_folder"]] == ["savee/KL"]
