"""Common Voice: old and new column spellings, split files, quoting, missing clips, wrong folders."""

from __future__ import annotations

import pytest
from corpus_trees import CV_NEW_HEADER, make_common_voice, write_tsv

from speechsift.errors import ConfigError, CorpusError

AGES = {"teens": "teenager", "twenties": "young adult", "thirties": "young adult", "fourties": "middle-age adult",
        "fifties": "middle-age adult", "sixties": "senior", "seventies": "senior", "eighties": "senior",
        "nineties": "senior"}


def test_release_17_columns(tmp_path, read, no_audio_reads):
    corpus = make_common_voice(tmp_path, new=True)
    with no_audio_reads():
        clips, rejects = read("common_voice", corpus)
    assert not rejects and len(clips) == 10
    for i in range(10):
        clip = clips[f"common_voice_en_{100 + i}"]
        assert clip.source == "common_voice" and clip.language == "en" and clip.speaker_id == f"client{i % 3}"
        assert clip.text == f'He said "hello" number {i}', "quotes in an unquoted TSV are text"
        assert clip.audio.path == str(corpus / "clips" / f"common_voice_en_{100 + i}.mp3")
        assert clip.extra["split"] == "validated" and clip.extra["sentence_id"] == f"sid{i}"
        if clip.raw.get("age"):
            assert clip.meta["age"] == AGES[clip.raw["age"]]
    assert clips["common_voice_en_100"].raw == {"age": "teens", "gender": "male_masculine",
                                                "accent": "United States English|Midwestern"}
    assert clips["common_voice_en_100"].meta == {"age": "teenager", "gender": "male",
                                                 "accent": "United States English|Midwestern"}
    assert clips["common_voice_en_101"].meta == {"age": "young adult", "gender": "female"}
    assert clips["common_voice_en_101"].extra == {"split": "validated", "sentence_id": "sid1", "variant": "en-US",
                                                  "sentence_domain": "general"}
    for gender in ("intersex", "transgender", "non-binary"):  # kept raw, no mapping onto two genders
        clip = next(c for c in clips.values() if c.raw.get("gender") == gender)
        assert "gender" not in clip.meta
    opted_out = next(c for c in clips.values() if c.raw.get("gender") == "do_not_wish_to_say")
    assert "gender" not in opted_out.meta


def test_old_release_columns(tmp_path, read):
    clips, rejects = read("common_voice", make_common_voice(tmp_path, new=False))
    assert not rejects and len(clips) == 10
    assert clips["common_voice_en_100"].raw == {"age": "teens", "gender": "male", "accent": "england"}
    assert clips["common_voice_en_101"].meta == {"age": "young adult", "gender": "female", "accent": "us"}
    assert "gender" not in clips["common_voice_en_102"].meta  # "other"
    assert clips["common_voice_en_100"].extra == {"split": "validated"}


def test_split_files_are_chosen_by_option(tmp_path, read):
    corpus = make_common_voice(tmp_path)
    clips, _ = read("common_voice", corpus, splits=["train", "dev"])
    assert len(clips) == 8 and clips["common_voice_en_107"].extra["split"] == "dev"
    clips, _ = read("common_voice", corpus, splits=["validated", "test"])
    assert len(clips) == 10, "a clip in two lists is read once"
    clips, _ = read("common_voice", corpus, splits="test")
    assert sorted(clips) == ["common_voice_en_108", "common_voice_en_109"]
    with pytest.raises(CorpusError, match=r"invalidated.tsv not found.*clip lists there are dev, other, test, train, validated"):
        read("common_voice", corpus, splits=["invalidated"])
    with pytest.raises(CorpusError, match="list no clips"):
        read("common_voice", corpus, splits=["other"])
    with pytest.raises(ConfigError, match="splits is empty"):
        read("common_voice", corpus, splits=[])


def test_durations_and_language_override(tmp_path, read):
    corpus = make_common_voice(tmp_path, locale="fr")
    clips, _ = read("common_voice", corpus, durations=True, language="fr-CA")
    assert clips["common_voice_fr_103"].features == {"duration_s": 1.003}
    fr_ca = clips["common_voice_fr_103"]  # the code normalized, the value asked for kept in raw
    assert fr_ca.language == "fr" and fr_ca.raw["language"] == "fr-CA"


def test_bad_rows_and_missing_clips(tmp_path, read):
    corpus = make_common_voice(tmp_path)
    (corpus / "clips" / "common_voice_en_104.mp3").unlink()
    with (corpus / "validated.tsv").open("a", encoding="utf-8") as handle:
        handle.write("client9\tcommon_voice_en_999.mp3\ttoo\tfew\tcells\n")
    with (corpus / "validated.tsv").open("ab") as handle:
        handle.write(b"c\tcommon_voice_en_105.mp3\ts\tbad \xff byte\t\t1\t0\t\t\t\t\ten\t\n")
    clips, rejects = read("common_voice", corpus)
    assert len(clips) == 9
    assert [r.id for r in rejects["missing_audio"]] == ["common_voice/common_voice_en_104"]
    assert [r.id for r in rejects["bad_row"]] == ["common_voice/validated/line12"]
    assert [r.id for r in rejects["undecodable_text"]] == ["common_voice/common_voice_en_105"]
    clips, rejects = read("common_voice", corpus, check_audio=False)
    assert "common_voice_en_104" in clips and "missing_audio" not in rejects


def test_wrong_folder_suggests_the_locale(tmp_path, read):
    corpus = make_common_voice(tmp_path)
    with pytest.raises(CorpusError, match=r"expected a locale folder.*corpus is at .*cv-corpus-17.0-2024-03-15/en"):
        read("common_voice", tmp_path)
    with pytest.raises(CorpusError, match=r"expected a locale folder"):
        read("common_voice", corpus / "clips")


def test_header_without_required_columns(tmp_path, read):
    corpus = make_common_voice(tmp_path)
    write_tsv(corpus / "validated.tsv", [c for c in CV_NEW_HEADER if c != "sentence"], [])
    with pytest.raises(CorpusError, match="no column.*sentence"):
        read("common_voice", corpus)
