"""CREMA-D: file-name codes, the sentence table, demographics, and the layouts that are not CREMA-D."""

from __future__ import annotations

import pytest
from corpus_trees import CREMA_EMOTIONS, CREMA_SENTENCES, make_crema_d, tone

from speechsift.errors import CorpusError
from speechsift.sources.corpora.crema_d import SENTENCES


def test_every_code_maps(tmp_path, read, no_audio_reads):
    corpus = make_crema_d(tmp_path)
    with no_audio_reads():
        clips, rejects = read("crema_d", corpus)
    assert not rejects and len(clips) == 12
    assert {c.raw["emotion"] for c in clips.values()} == set(CREMA_EMOTIONS)
    assert {c.extra["intensity"] for c in clips.values()} == {"low", "medium", "high", "unspecified"}
    assert {c.extra["sentence_code"] for c in clips.values()} == set(CREMA_SENTENCES)
    expected_emotion = {"ANG": "angry", "DIS": "disgust", "FEA": "fear", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
    for native_id, clip in clips.items():
        actor, sentence, emotion, _level = native_id.split("_")
        assert clip.clip_id == f"crema_d/{native_id}" and clip.source == "crema_d" and clip.language == "en"
        assert clip.speaker_id == actor and clip.text == SENTENCES[sentence]
        assert clip.meta["emotion"] == expected_emotion[emotion]
        assert clip.audio.path.endswith(f"AudioWAV/{native_id}.wav")
    clip = clips["1001_IEO_ANG_LO"]
    assert clip.text == "It's eleven o'clock"
    assert clip.raw == {"emotion": "ANG", "gender": "Male", "age": "51"}
    assert clip.meta == {"emotion": "angry", "gender": "male", "age": "middle-age adult"}
    assert clips["1002_TIE_DIS_MD"].meta == {"emotion": "disgust", "gender": "female", "age": "young adult"}
    assert clips["1091_IOM_FEA_HI"].raw == {"emotion": "FEA"}, "an actor missing from the table: no age or sex"


def test_bad_names_are_rejected_and_the_rest_loads(tmp_path, read):
    corpus = make_crema_d(tmp_path)
    tone(corpus / "AudioWAV" / "1001_XYZ_ANG_XX.wav")  # sentence outside the scheme
    tone(corpus / "AudioWAV" / "1001_DFA_BOR_XX.wav")  # emotion outside the scheme
    tone(corpus / "AudioWAV" / "1001_DFA_ANG_ZZ.wav")  # intensity outside the scheme
    tone(corpus / "AudioWAV" / "notes_about_this.wav")  # not the naming scheme
    (corpus / "AudioWAV" / "README.txt").write_text("x")
    clips, rejects = read("crema_d", corpus)
    assert len(clips) == 12
    assert sorted(r.id for r in rejects["unknown_code"]) == [
        "crema_d/1001_DFA_ANG_ZZ", "crema_d/1001_DFA_BOR_XX", "crema_d/1001_XYZ_ANG_XX"]
    assert sorted(r.id for r in rejects["unexplained_file"]) == ["crema_d/README.txt", "crema_d/notes_about_this"]
    assert "outside the scheme" in rejects["unknown_code"][0].message


def test_missing_demographics(tmp_path, read):
    corpus = make_crema_d(tmp_path, demographics=False)
    with pytest.raises(CorpusError, match="VideoDemographics.csv not found.*require_metadata=False"):
        read("crema_d", corpus)
    clips, _ = read("crema_d", corpus, require_metadata=False)
    assert len(clips) == 12 and all(set(c.raw) == {"emotion"} for c in clips.values())


def test_wrong_folder_and_empty_folder(tmp_path, read):
    make_crema_d(tmp_path / "downloads")
    with pytest.raises(CorpusError, match=r"expected a AudioWAV/ folder.*It looks like the corpus is at .*downloads/CREMA-D"):
        read("crema_d", tmp_path)
    with pytest.raises(CorpusError, match="does not exist"):
        read("crema_d", tmp_path / "nope")
    (tmp_path / "empty" / "AudioWAV").mkdir(parents=True)
    (tmp_path / "empty" / "VideoDemographics.csv").write_text("ActorID,Age,Sex,Race,Ethnicity\n")
    with pytest.raises(CorpusError, match="holds no files"):
        read("crema_d", tmp_path / "empty")


def test_root_may_be_the_audio_folder(tmp_path, read):
    corpus = make_crema_d(tmp_path)
    clips, _ = read("crema_d", corpus / "AudioWAV")
    assert len(clips) == 12 and clips["1001_IEO_ANG_LO"].raw["gender"] == "Male"
