"""ESD: speaker folders, emotion and split folders, transcripts in mixed encodings, languages."""

from __future__ import annotations

import pytest
from corpus_trees import ESD_EMOTIONS, make_esd, tone

from speechsift.errors import ConfigError, CorpusError


def test_english_speakers_by_default(tmp_path, read, no_audio_reads):
    corpus = make_esd(tmp_path)
    with no_audio_reads():
        clips, rejects = read("esd", corpus)
    assert len(clips) == 2 * 5 * 3
    assert {c.speaker_id for c in clips.values()} == {"0011", "0016"}
    assert {c.raw["emotion"] for c in clips.values()} == set(ESD_EMOTIONS)
    for native_id, clip in clips.items():
        assert clip.clip_id == f"esd/{native_id}" and clip.language == "en"
        assert clip.meta["emotion"] == clip.raw["emotion"].lower()
        assert clip.extra["split"] in ("train", "evaluation", "test")
        assert clip.audio.path.endswith(f"/{clip.raw['emotion']}/{clip.extra['split']}/{native_id}.wav")
    male = clips["0011_000001"]
    assert male.raw == {"emotion": "Angry", "gender": "male"} and male.meta == {"emotion": "angry", "gender": "male"}
    assert male.text == "Sentence 0011_000001 café", "UTF-16 transcript"
    female = clips["0016_000002"]
    assert female.meta["gender"] == "female"
    assert female.text == "Sentence 0016_000002 café", "Latin-1 transcript, a line without its second tab"
    assert [r.id for r in rejects["missing_audio"]] == ["esd/0011_001749", "esd/0016_001749"]


def test_mandarin_on_request(tmp_path, read):
    corpus = make_esd(tmp_path)
    clips, _ = read("esd", corpus, languages=["zh"])
    assert {c.speaker_id for c in clips.values()} == {"0001"} and len(clips) == 15
    clip = clips["0001_000701"]  # Neutral, whose transcript line says 中立
    assert clip.language == "zh" and clip.text == "打远一看" and clip.meta == {"emotion": "neutral", "gender": "female"}
    both, _ = read("esd", corpus, languages=("en", "zh"))
    assert len(both) == 45
    with pytest.raises(ConfigError, match="languages"):
        read("esd", corpus, languages=["fr"])


def test_bad_input(tmp_path, read):
    corpus = make_esd(tmp_path)
    tone(corpus / "0011" / "Bored" / "train" / "0011_000099.wav")   # emotion folder outside the scheme
    tone(corpus / "0011" / "Angry" / "train" / "0012_000001.wav")   # another speaker's file
    tone(corpus / "0011" / "Sad" / "train" / "0011_000001.wav")     # its line says Angry
    (corpus / "0011" / "Happy" / "evaluation" / "0011_000352.wav").unlink()
    (corpus / "0016" / "Happy" / "test").mkdir(exist_ok=True)
    for p in (corpus / "0016" / "Happy" / "test").iterdir():
        p.unlink()
    clips, rejects = read("esd", corpus)
    assert len(clips) == 28
    assert [r.id for r in rejects["unknown_code"]] == ["esd/0011/Bored"]
    assert [r.id for r in rejects["unexplained_file"]] == ["esd/0011/0012_000001.wav"]
    assert [r.id for r in rejects["mismatched_label"]] == ["esd/0011_000001"]
    assert [r.id for r in rejects["empty_folder"]] == ["esd/0011/Happy/evaluation", "esd/0016/Happy/test"]
    assert "esd/0011_000352" in [r.id for r in rejects["missing_audio"]]


def test_missing_transcript_file_and_wrong_folder(tmp_path, read):
    corpus = make_esd(tmp_path / "dl")
    (corpus / "0016" / "0016.txt").unlink()
    clips, rejects = read("esd", corpus)
    assert {c.speaker_id for c in clips.values()} == {"0011"}
    assert [r.id for r in rejects["missing_metadata"]] == ["esd/0016"]
    with pytest.raises(CorpusError, match="speaker folders 0001.*corpus is at .*dl/Emotion Speech Dataset"):
        read("esd", tmp_path)
