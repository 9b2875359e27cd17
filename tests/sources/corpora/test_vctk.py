"""VCTK: 0.80 and 0.92 layouts, speaker-info.txt's irregular columns, mics, p280 and p315."""

from __future__ import annotations

import pytest
from corpus_trees import make_vctk, tone

from speechsift.errors import ConfigError, CorpusError
from speechsift.sources.corpora.vctk import parse_speaker_info


def test_speaker_info_with_irregular_whitespace():
    info = parse_speaker_info("ID  AGE  GENDER  ACCENTS  REGION COMMENTS\np225  23  F    English    Southern  England\n"
                              "p280  25  F    France   \n362  29  F  American  \n"
                              "p315  23  M    American    Connecticut   (text missing)\n\tp376\t22 M  Indian\n")
    assert info["p225"] == {"age": "23", "gender": "F", "accent": "English", "region": "Southern England", "comment": ""}
    assert info["p280"]["accent"] == "France" and info["p280"]["region"] == ""
    assert info["p362"]["accent"] == "American", "0.80 writes ids without the p"
    assert info["p315"]["region"] == "Connecticut" and info["p315"]["comment"] == "(text missing)"
    assert info["p376"] == {"age": "22", "gender": "M", "accent": "Indian", "region": "", "comment": ""}


def test_092_layout(tmp_path, read, no_audio_reads):
    corpus = make_vctk(tmp_path, version="0.92")
    with no_audio_reads():
        clips, rejects = read("vctk", corpus)
    assert sorted(clips) == [f"{s}_{n:03d}_mic1" for s in ("p225", "p226", "p280", "p315", "p376") for n in (1, 2)]
    clip = clips["p225_001_mic1"]
    assert clip.clip_id == "vctk/p225_001_mic1" and clip.speaker_id == "p225" and clip.language == "en"
    assert clip.text == "Please call Stella p225 1."
    assert clip.raw == {"age": "23", "gender": "F", "accent": "English"}
    assert clip.meta == {"age": "young adult", "gender": "female", "accent": "English"}
    assert clip.extra == {"region": "Southern England", "mic": "mic1"}
    assert clips["p315_001_mic1"].text is None, "p315's transcripts were lost"
    assert clips["p376_002_mic1"].extra == {"mic": "mic1"} and clips["p376_002_mic1"].meta["accent"] == "Indian"
    assert [r.id for r in rejects["missing_audio"]] == ["vctk/p225_003"]


def test_mics(tmp_path, read):
    corpus = make_vctk(tmp_path, version="0.92")
    mic2, _ = read("vctk", corpus, mic="mic2")
    assert len(mic2) == 8 and not any(k.startswith("p280") for k in mic2), "p280 has no mic2 recordings"
    both, _ = read("vctk", corpus, mic="both")
    assert len(both) == 18
    with pytest.raises(ConfigError, match="mic must be"):
        read("vctk", corpus, mic="mic3")


def test_080_layout(tmp_path, read):
    corpus = make_vctk(tmp_path, version="0.80")
    clips, rejects = read("vctk", corpus)
    assert not rejects.keys() - {"missing_audio"}
    assert len(clips) == 8 and clips["p226_002"].meta == {"age": "young adult", "gender": "male", "accent": "English"}
    assert clips["p226_002"].extra == {"region": "Surrey"}
    assert clips["p226_002"].audio.path.endswith("wav48/p226/p226_002.wav")


def test_bad_input(tmp_path, read):
    corpus = make_vctk(tmp_path / "dl", version="0.92")
    tone(corpus / "wav48_silence_trimmed" / "p225" / "p226_009_mic1.flac")     # another speaker's file
    tone(corpus / "wav48_silence_trimmed" / "p225" / "p225_1_mic1.flac")       # not the naming scheme
    (corpus / "wav48_silence_trimmed" / "p999").mkdir()                        # empty, not in speaker-info
    tone(corpus / "wav48_silence_trimmed" / "p998" / "p998_001_mic1.flac")     # not in speaker-info
    (corpus / "wav48_silence_trimmed" / "log").mkdir()
    clips, rejects = read("vctk", corpus)
    assert sorted(r.id for r in rejects["unexplained_file"]) == [
        "vctk/log", "vctk/p225/p225_1_mic1.flac", "vctk/p225/p226_009_mic1.flac"]
    assert [r.id for r in rejects["empty_folder"]] == ["vctk/p999"]
    assert clips["p998_001_mic1"].raw == {}
    with pytest.raises(CorpusError, match="wav48_silence_trimmed.*corpus is at .*dl/VCTK-Corpus-0.92"):
        read("vctk", tmp_path)
    (corpus / "speaker-info.txt").unlink()
    with pytest.raises(CorpusError, match="speaker-info.txt not found"):
        read("vctk", corpus)
    clips, _ = read("vctk", corpus, require_metadata=False)
    assert clips["p225_001_mic1"].raw == {} and clips["p225_001_mic1"].text
