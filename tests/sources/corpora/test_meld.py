"""MELD: the CSV labels, pre-extracted WAVs found by split, MP4s with and without ffmpeg, text repair."""

from __future__ import annotations

import os
import stat

import pytest
from corpus_trees import make_meld, tone

from speechsift.errors import CorpusError
from speechsift.sources.corpora.meld import repair_text


def test_text_repair():
    assert repair_text("I\x92m fine") == "I\u2019m fine"
    assert repair_text("I\u00e2\x80\x99m here") == "I\u2019m here"
    assert repair_text("Iâ€™m here") == "I\u2019m here"
    assert repair_text("café") == "café" and repair_text("plain") == "plain"


def test_labels_and_wavs(tmp_path, read, no_audio_reads, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no ffmpeg
    corpus = make_meld(tmp_path)
    with no_audio_reads():
        clips, rejects = read("meld", corpus)
    assert sorted(clips) == [f"train_dia0_utt{i}" for i in range(5)]
    clip = clips["train_dia0_utt1"]
    assert clip.clip_id == "meld/train_dia0_utt1" and clip.language == "en" and clip.speaker_id == "Monica"
    assert clip.text == "I\u2019m here" and clips["train_dia0_utt0"].text == "I\u2019m fine"
    assert clip.raw == {"emotion": "joy"} and clip.meta == {"emotion": "happy"}
    assert clip.extra == {"split": "train", "sentiment": "positive", "dialogue_id": 0, "utterance_id": 1,
                          "season": "3", "episode": "19", "start_time": "00:14:38,127", "end_time": "00:14:40,378"}
    assert clip.audio.path == str(corpus / "wav" / "train" / "dia0_utt1.wav")
    assert {c.meta["emotion"] for c in clips.values()} == {"neutral", "happy", "sad", "angry", "fear"}
    needs = rejects["needs_ffmpeg"]
    assert len(needs) == 1 + 6 + 6 and "install ffmpeg" in needs[0].message
    assert sorted(r.id for r in rejects["missing_audio"]) == ["meld/dev_dia0_utt6", "meld/test_dia0_utt6", "meld/train_dia0_utt6"]


def fake_ffmpeg(folder, *, fail: bool = False):
    """An ``ffmpeg`` on PATH that writes a real WAV (or fails), so extraction is tested without FFmpeg."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "ffmpeg"
    body = "echo 'moov atom not found' >&2; exit 1" if fail else (
        '"$PYTHON" -c "import sys, numpy, soundfile; soundfile.write(sys.argv[1], numpy.zeros(800, dtype=\'float32\'), 16000, format=\'WAV\')" "${@: -1}"')
    script.write_text(f"#!/bin/bash\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def test_mp4_extraction_with_ffmpeg(tmp_path, read, monkeypatch):
    import sys

    monkeypatch.setenv("PYTHON", sys.executable)
    monkeypatch.setenv("PATH", f"{fake_ffmpeg(tmp_path / 'bin')}{os.pathsep}{os.environ['PATH']}")
    corpus = make_meld(tmp_path / "data")
    clips, rejects = read("meld", corpus, extract_dir=tmp_path / "wav16k")
    assert len(clips) == 5 + 1 + 6 + 6 and "needs_ffmpeg" not in rejects
    converted = clips["dev_dia0_utt3"].audio.path
    assert converted == str(tmp_path / "wav16k" / "dev" / "dia0_utt3.wav") and os.path.getsize(converted) > 44
    assert clips["test_dia0_utt5"].meta == {"emotion": "disgust"}
    again, _ = read("meld", corpus, extract_dir=tmp_path / "wav16k", splits=["dev"])
    assert again["dev_dia0_utt3"].audio.path == converted, "a converted WAV is reused"


def test_ffmpeg_failure_is_a_reject(tmp_path, read, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_ffmpeg(tmp_path / "bin", fail=True)))
    clips, rejects = read("meld", make_meld(tmp_path / "data"), splits=["dev"])
    assert not clips and len(rejects["extract_failed"]) == 6
    assert "moov atom not found" in rejects["extract_failed"][0].message


def test_audio_dir_and_options(tmp_path, read, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    corpus = make_meld(tmp_path / "data")
    for i in range(6):
        tone(tmp_path / "elsewhere" / "test" / f"dia0_utt{i}.wav")
    clips, rejects = read("meld", corpus, splits=["test"], audio_dir=tmp_path / "elsewhere")
    assert len(clips) == 6 and [r.id for r in rejects["missing_audio"]] == ["meld/test_dia0_utt6"]
    _, rejects = read("meld", corpus, splits=["dev"], extract=False)
    assert "extract=False" in rejects["needs_ffmpeg"][0].message
    with pytest.raises(CorpusError, match="no validation_sent_emo.csv"):
        read("meld", corpus, splits=["validation"])


def test_bad_rows_and_wrong_folder(tmp_path, read, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    corpus = make_meld(tmp_path / "dl")
    with (corpus / "train_sent_emo.csv").open("a") as handle:
        handle.write("99,Hi,Joey,neutral,neutral,x,1,3,19,a,b\n")
        handle.write("100,too,few\n")
    _, rejects = read("meld", corpus, splits=["train"])
    assert [r.id for r in rejects["bad_row"]] == ["meld/train_line9", "meld/train_line10"]
    with pytest.raises(CorpusError, match="train_sent_emo.csv.*corpus is at .*dl/MELD.Raw"):
        read("meld", tmp_path)
