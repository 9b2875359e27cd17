"""MSP-Podcast: consensus labels (both spellings of the file), letters, transcripts, splits."""

from __future__ import annotations

import pytest
from corpus_trees import MSP_CLASSES, make_msp_podcast

from speechsift.errors import CorpusError

META = {"A": "angry", "S": "sad", "H": "happy", "U": "surprise", "F": "fear", "D": "disgust", "N": "neutral"}


def test_every_class_maps(tmp_path, read, no_audio_reads):
    corpus = make_msp_podcast(tmp_path)
    with no_audio_reads():
        clips, rejects = read("msp_podcast", corpus)
    assert len(clips) == 10
    assert {c.raw["emotion"] for c in clips.values()} == set(MSP_CLASSES)
    for clip in clips.values():
        letter = clip.raw["emotion"]
        assert clip.extra["emotion_class"] == letter
        assert clip.meta.get("emotion") == META.get(letter), "C, O and X stay raw"
        assert clip.language == "en" and clip.source == "msp_podcast"
    first = clips["MSP-PODCAST_0001_0001"]
    assert first.speaker_id is None, "SpkrID Unknown"
    assert first.raw == {"emotion": "A", "gender": "Male"} and first.meta == {"emotion": "angry", "gender": "male"}
    assert first.text == "words of clip 0"
    assert first.extra == {"emotion_class": "A", "split": "Train", "arousal": 3.0, "valence": 4.0, "dominance": 3.5}
    assert clips["MSP-PODCAST_0003_0001"].raw["gender"] == "Unknown" and "gender" not in clips["MSP-PODCAST_0003_0001"].meta
    assert clips["MSP-PODCAST_0004_0001"].text is None and clips["MSP-PODCAST_0002_0001"].speaker_id == "101"
    assert [r.id for r in rejects["missing_audio"]] == ["msp_podcast/MSP-PODCAST_9999_0001"]
    assert [r.id for r in rejects["unknown_code"]] == ["msp_podcast/MSP-PODCAST_0001_0002"]


def test_old_label_file_name_splits_and_options(tmp_path, read):
    corpus = make_msp_podcast(tmp_path, label_file="labels_concensus.csv")
    clips, _ = read("msp_podcast", corpus, splits=["Test1", "Test2"])
    assert {c.extra["split"] for c in clips.values()} == {"Test1", "Test2"} and len(clips) == 4
    clips, _ = read("msp_podcast", corpus, transcripts=False)
    assert all(c.text is None for c in clips.values())
    with pytest.raises(CorpusError, match="unknown split.*Dev"):
        read("msp_podcast", corpus, splits=["Dev"])


def test_wrong_folder(tmp_path, read):
    make_msp_podcast(tmp_path / "release")
    with pytest.raises(CorpusError, match="Audios/ and Labels/labels_consensus.csv.*corpus is at .*release/MSP-Podcast"):
        read("msp_podcast", tmp_path)
