"""LibriSpeech: subsets, chapter transcripts, SPEAKERS.TXT (with a bar in a name), a subset as root."""

from __future__ import annotations

import pytest
from corpus_trees import make_librispeech, tone

from speechsift.errors import CorpusError
from speechsift.sources.corpora.librispeech import parse_speakers


def test_speakers_file_with_bars_in_a_name():
    speakers = parse_speakers(";ID |SEX| SUBSET |MINUTES| NAME\n60   | M | train-clean-100  | 20.18 | |CBW|Simon\n")
    assert speakers == {"60": {"sex": "M", "subset": "train-clean-100", "name": "|CBW|Simon"}}


def test_layout(tmp_path, read, no_audio_reads):
    corpus = make_librispeech(tmp_path)
    with no_audio_reads():
        clips, rejects = read("librispeech", corpus)
    assert len(clips) == 6
    clip = clips["60-121082-0001"]
    assert clip.clip_id == "librispeech/60-121082-0001" and clip.language == "en" and clip.speaker_id == "60"
    assert clip.text == "WORDS OF 60-121082-0001" and clip.raw == {"gender": "M"} and clip.meta == {"gender": "male"}
    assert clip.extra == {"split": "train-clean-100", "chapter": "121082"}
    assert clips["19-198-0000"].meta == {"gender": "female"}
    assert [r.id for r in rejects["missing_audio"]] == ["librispeech/84-121123-0009"]


def test_subset_choice_and_subset_root(tmp_path, read):
    corpus = make_librispeech(tmp_path)
    clips, _ = read("librispeech", corpus, splits="dev-clean")
    assert sorted(clips) == ["84-121123-0000", "84-121123-0001"]
    clips, _ = read("librispeech", corpus / "train-clean-100")
    assert len(clips) == 4 and clips["19-198-0001"].meta == {"gender": "female"}, "SPEAKERS.TXT beside the subset"
    with pytest.raises(CorpusError, match="no subset.*test-clean"):
        read("librispeech", corpus, splits=["test-clean"])


def test_bad_input(tmp_path, read):
    corpus = make_librispeech(tmp_path / "dl")
    chapter = corpus / "dev-clean" / "84" / "121123"
    tone(chapter / "84-121123-0005.flac")                         # audio without a transcript line
    with (chapter / "84-121123.trans.txt").open("a") as handle:
        handle.write("19-198-0001 ANOTHER CHAPTER'S LINE\n")
    tone(corpus / "dev-clean" / "84" / "999" / "84-999-0000.flac")  # a chapter without its trans.txt
    (corpus / "dev-clean" / "85").mkdir()                          # a speaker without chapters
    clips, rejects = read("librispeech", corpus)
    assert [r.id for r in rejects["missing_transcript"]] == ["librispeech/84-121123-0005"]
    assert [r.id for r in rejects["bad_row"]] == ["librispeech/84-121123/line4"]
    assert [r.id for r in rejects["missing_metadata"]] == ["librispeech/84-999"]
    assert [r.id for r in rejects["empty_folder"]] == ["librispeech/dev-clean/85"]
    with pytest.raises(CorpusError, match="subset folders.*corpus is at .*dl/LibriSpeech"):
        read("librispeech", tmp_path)
    (corpus / "SPEAKERS.TXT").unlink()
    with pytest.raises(CorpusError, match="SPEAKERS.TXT not found"):
        read("librispeech", corpus)
    clips, _ = read("librispeech", corpus, require_metadata=False)
    assert all(not c.raw for c in clips.values())
