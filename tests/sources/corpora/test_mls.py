"""Multilingual LibriSpeech: transcripts.txt, FLAC or Opus, metainfo.txt genders, the language."""

from __future__ import annotations

import pytest
from corpus_trees import make_mls

from speechsift.errors import ConfigError, CorpusError
from speechsift.sources.corpora.mls import parse_metainfo


def test_metainfo_with_padding_and_bars_in_titles():
    assert parse_metainfo(" SPEAKER   |   GENDER   | PARTITION\n  10232    |     M      |   secret   | x | y | A|B\n") == {
        "10232": "M"}


def test_flac_layout(tmp_path, read, no_audio_reads):
    corpus = make_mls(tmp_path)
    with no_audio_reads():
        clips, rejects = read("mls", corpus)
    assert len(clips) == 6
    clip = clips["1844_1931_000001"]
    assert clip.clip_id == "mls/1844_1931_000001" and clip.language == "de" and clip.speaker_id == "1844"
    assert clip.text == "ein satz nummer 1" and clip.raw == {"gender": "F"} and clip.meta == {"gender": "female"}
    assert clip.extra == {"split": "train", "book": "1931"}
    assert clip.audio.path == str(corpus / "train" / "audio" / "1844" / "1931" / "1844_1931_000001.flac")
    assert clips["2222_3000_000000"].meta == {"gender": "male"} and clips["2222_3000_000000"].extra["split"] == "dev"
    assert [r.id for r in rejects["missing_audio"]] == ["mls/1844_1931_000009"]


def test_opus_layout_and_options(tmp_path, read):
    corpus = make_mls(tmp_path, suffix=".opus")
    clips, _ = read("mls", corpus, splits=["dev"])
    assert sorted(clips) == ["2222_3000_000000", "2222_3000_000001"]
    assert clips["2222_3000_000000"].audio.path.endswith(".opus") and clips["2222_3000_000000"].language == "de"
    clips, rejects = read("mls", corpus, check_audio=False, language="de-DE")
    assert len(clips) == 7 and not rejects and clips["1844_1931_000000"].language == "de"
    assert clips["1844_1931_000000"].raw["language"] == "de-DE"  # the value asked for, the code normalized
    with pytest.raises(CorpusError, match="no test/transcripts.txt.*splits there are train, dev"):
        read("mls", corpus, splits=["test"])


def test_bad_input(tmp_path, read):
    corpus = make_mls(tmp_path / "dl")
    with (corpus / "train" / "transcripts.txt").open("a") as handle:
        handle.write("not an id line\n\n")
    (corpus / "metainfo.txt").write_text((corpus / "metainfo.txt").read_text().replace("  2222 ", "  7777 "))
    clips, rejects = read("mls", corpus)
    assert [r.id for r in rejects["bad_row"]] == ["mls/train/line6"]
    assert clips["2222_3000_000000"].raw == {}, "a speaker missing from metainfo.txt"
    with pytest.raises(CorpusError, match="train/, dev/ or test/.*corpus is at .*dl/mls_german"):
        read("mls", tmp_path)
    renamed = corpus.rename(tmp_path / "dl" / "my_copy")
    with pytest.raises(ConfigError, match="cannot tell the language.*pass language="):
        read("mls", renamed)
    (renamed / "metainfo.txt").unlink()
    with pytest.raises(CorpusError, match="metainfo.txt not found"):
        read("mls", renamed, language="de")
    clips, _ = read("mls", renamed, language="de", require_metadata=False)
    assert len(clips) == 6
