"""RAVDESS: the seven-part file-name code, actor parity, the two statements, and bad names."""

from __future__ import annotations

import pytest
from corpus_trees import make_ravdess, ravdess_name, tone

from speechsift.errors import CorpusError

EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
            "07": "disgust", "08": "surprised"}
META = {"01": "neutral", "02": "neutral", "03": "happy", "04": "sad", "05": "angry", "06": "fear", "07": "disgust",
        "08": "surprise"}


def test_every_code_maps(tmp_path, read, no_audio_reads):
    corpus = make_ravdess(tmp_path)
    with no_audio_reads():
        clips, rejects = read("ravdess", corpus)
    assert not rejects and len(clips) == 4 * 15 + 1
    for native_id, clip in clips.items():
        _modality, channel, emotion, intensity, statement, repetition, actor = native_id.split("-")
        assert clip.clip_id == f"ravdess/{native_id}" and clip.source == "ravdess" and clip.language == "en"
        assert clip.speaker_id == actor
        assert clip.raw == {"emotion": EMOTIONS[emotion], "gender": "male" if int(actor) % 2 else "female"}
        assert clip.meta == {"emotion": META[emotion], "gender": clip.raw["gender"]}
        assert clip.text == {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}[statement]
        assert clip.extra == {
            "emotion_code": emotion, "intensity": {"01": "normal", "02": "strong"}[intensity],
            "vocal_channel": {"01": "speech", "02": "song"}[channel], "modality": "audio-only",
            "statement": statement, "repetition": repetition,
        }
    assert {c.extra["emotion_code"] for c in clips.values()} == set(EMOTIONS)
    assert {c.speaker_id for c in clips.values() if c.meta["gender"] == "male"} == {"01", "23"}
    assert clips["03-02-03-02-02-01-02"].extra["vocal_channel"] == "song"


@pytest.mark.parametrize(
    "name, reason, says",
    [
        (ravdess_name("09"), "unknown_code", "emotion 09"),
        (ravdess_name("01", intensity="02"), "unknown_code", "strong intensity for neutral"),
        (ravdess_name("03", statement="03"), "unknown_code", "statement 03"),
        (ravdess_name("03", repetition="03"), "unknown_code", "repetition 03"),
        (ravdess_name("07", channel="02"), "unknown_code", "song has 01-06 only"),
        (ravdess_name("03", channel="03"), "unknown_code", "vocal channel 03"),
        (ravdess_name("03", modality="04"), "unknown_code", "modality 04"),
        (ravdess_name("03", actor="25"), "unknown_code", "actor 25"),
        (ravdess_name("03", actor="03"), "mismatched_speaker", "the folder is Actor_01"),
        ("03-01-03-01-01-01.wav", "unexplained_file", "NN-NN-NN-NN-NN-NN-NN.wav"),
        ("01-01-03-01-01-01-01.mp4", "unexplained_file", "not a RAVDESS audio file"),
    ],
)
def test_names_outside_the_scheme(tmp_path, read, name, reason, says):
    corpus = make_ravdess(tmp_path)
    path = corpus / "Actor_01" / name
    tone(path) if name.endswith(".wav") else path.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    clips, rejects = read("ravdess", corpus)
    assert len(clips) == 61
    assert list(rejects) == [reason] and len(rejects[reason]) == 1
    assert says in rejects[reason][0].message


def test_empty_actor_folder_and_stray_folder(tmp_path, read):
    corpus = make_ravdess(tmp_path)
    (corpus / "Actor_05").mkdir()
    (corpus / "video_files").mkdir()
    clips, rejects = read("ravdess", corpus)
    assert len(clips) == 61
    assert [r.id for r in rejects["empty_folder"]] == ["ravdess/Actor_05"]
    assert [r.id for r in rejects["unexplained_file"]] == ["ravdess/video_files"]


def test_wrong_folder(tmp_path, read):
    make_ravdess(tmp_path / "RAVDESS")
    with pytest.raises(CorpusError, match=r"Actor_01 \.\.\. Actor_24.*corpus is at .*RAVDESS/Audio_Speech_Actors_01-24"):
        read("ravdess", tmp_path)
    (tmp_path / "empty" / "Actor_01").mkdir(parents=True)
    clips, rejects = read("ravdess", tmp_path / "empty")
    assert not clips and list(rejects) == ["empty_folder"]


def test_source_renames_clips(tmp_path, read):
    clips, _ = read("ravdess", make_ravdess(tmp_path), source="rav")
    assert all(c.clip_id.startswith("rav/") and c.source == "rav" for c in clips.values())
