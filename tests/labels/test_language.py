"""Clip languages onto ISO 639-1, and emotion labels written in the other SIFT-50M languages."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from factories import make_clip, recipe_dict, release_rows, write_manifest, write_tone

from speechsift.engine import run_recipe
from speechsift.labels import tables, with_labels
from speechsift.labels.normalize import LANGUAGE_MAP, UnknownLabel, normalize_emotion, normalize_language
from speechsift.recipe import parse_recipe

GERMAN = ["German", "de-DE", "de_DE", "DE", "deu", "ger", "Deutsch", "deutsch (Schweiz)", "allemand", "tedesco",
          "alemán", "de"]


@pytest.mark.parametrize("value", GERMAN)
def test_german_in_every_spelling_is_de(value):
    assert normalize_language(value) == "de"


@pytest.mark.parametrize("value, expected", [
    ("en-US", "en"), ("EN", "en"), ("English", "en"), ("eng", "en"), ("fr_CA", "fr"), ("fre", "fr"),
    ("Français", "fr"), ("francais", "fr"), ("ita", "it"), ("Italiano", "it"), ("es-419", "es"),
    ("Spanish; Castilian", "es"), ("espanol", "es"), ("zh-Hant-TW", "zh"), ("chi", "zh"), ("pt_BR", "pt"),
    ("nld", "nl"), ("Nederlands", "nl"), ("cy", "cy"), ("rum", "ro"),
])
def test_codes_tags_and_names(value, expected):
    assert normalize_language(value) == expected


@pytest.mark.parametrize("value", ["", "  ", "und", "UND", "unknown", "n/a"])
def test_missing_language(value):
    assert normalize_language(value) is None


@pytest.mark.parametrize("value, kept", [("kab", "kab"), ("KAB", "kab"), ("yue-HK", "yue"), ("xx", "xx"),
                                         ("Klingon", None), ("lingua franca nova", None)])
def test_unknown_language_keeps_a_tag_shaped_value(value, kept):
    with pytest.raises(UnknownLabel) as raised:
        normalize_language(value)
    assert raised.value.kept == kept


def test_every_iso_639_1_code_maps_to_itself():
    codes = set(LANGUAGE_MAP.values())
    assert len(codes) == 184  # ISO 639-1 as registered (Debian iso-codes 4.15)
    for code in codes - {"na"}:  # Nauruan's "na" reads as "not available", as in every other column
        assert normalize_language(code) == code and normalize_language(code.upper()) == code
    assert normalize_language("nau") == "na"


def test_with_labels_keeps_the_raw_value_and_counts_unknown_codes():
    clip, unknown = with_labels(replace(make_clip(), language="de_DE"))
    assert clip.language == "de" and clip.raw["language"] == "de_DE" and unknown == []
    plain = make_clip()  # already "en": nothing to keep
    same, unknown = with_labels(plain)
    assert same.language == "en" and "language" not in same.raw and unknown == []
    for value, expected in (("Klingon", None), ("kab", "kab")):
        clip, unknown = with_labels(replace(make_clip(), language=value))
        assert clip.language == expected and unknown == [("language", value)]


# --- native-language emotion labels --------------------------------------------------------------------------


@pytest.mark.parametrize("emotion, word", [(e, w) for e, words in tables.NATIVE_EMOTION_LABELS.items() for w in words])
def test_native_emotion_labels_map_like_their_english_synonyms(emotion, word):
    assert normalize_emotion(word) == emotion
    assert normalize_emotion(word.upper()) == emotion


@pytest.mark.parametrize("value, expected", [("Freude", "happy"), ("traurig", "sad"), ("colère", "angry"),
                                             ("colere", "angry"), ("enojado", "angry"), ("arrabbiato", "angry"),
                                             ("Dégoût", "disgust"), ("degout", "disgust"), ("ALEGRIA", "happy"),
                                             ("en_colère", "angry"), ("Überraschung", "surprise")])
def test_native_emotion_labels_in_the_spellings_corpora_use(value, expected):
    assert normalize_emotion(value) == expected


def test_boredom_stays_unknown():
    with pytest.raises(UnknownLabel):
        normalize_emotion("Langeweile")  # EmoDB's boredom: outside the vocabulary


# --- in a run --------------------------------------------------------------------------------------------


def test_five_spellings_of_german_make_one_language_in_the_release(tmp_path):
    values = ["German", "de-DE", "de_DE", "DE", "deu", "Klingon"]
    rows = []
    for i, value in enumerate(values):
        write_tone(tmp_path / f"c{i}.wav", seconds=0.3)
        rows.append({"id": f"c{i}", "audio": f"c{i}.wav", "text": f"Satz {i}", "speaker": f"s{i}",
                     "language": value, "emotion": ["Freude", "traurig", "Wut", "neutral", "Angst", "Ekel"][i]})
    manifest = write_manifest(tmp_path / "m.csv", rows)
    out = tmp_path / "out"
    run_recipe(parse_recipe(recipe_dict(manifest, out, ["transcription"])), progress=False)
    released = release_rows(out, "transcription")
    assert sorted(r["language"] or "none" for r in released) == ["de"] * 5 + ["none"]
    assert {r["meta"]["emotion"] for r in released} == {"happy", "sad", "angry", "neutral", "fear", "disgust"}
    folders = {p.name for p in (out / "exports" / "sift_jsonl").glob("*/*/*/*")}
    assert "de" in folders and not folders & {"German", "de-DE", "de_DE", "DE", "deu"}
    run = json.loads((out / "run.json").read_text())
    assert run["unknown_labels"] == {"language": {"Klingon": 1}}
