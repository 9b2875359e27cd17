"""The phrase tables (labels.i18n, tasks.prompts_sift): complete in five languages and consistent."""

from __future__ import annotations

import re

import pytest

from speechsift.labels import i18n, tables
from speechsift.tasks import prompts_sift
from speechsift.tasks.screen import Screen, leaks_metadata, quotes_timestamp

LANGS = set(i18n.LANGUAGES)


@pytest.mark.parametrize("table", [i18n.LANGUAGE_NAMES, i18n.FIELD_NAMES, *i18n.NOMINAL_WORDS.values(),
                                   *i18n.ORDINAL_WORDS.values(), prompts_sift.TEMPLATE_QUESTIONS,
                                   prompts_sift.DESTA_QUESTIONS, prompts_sift.CONTROL_INSTRUCTIONS,
                                   prompts_sift.CONTROL_TRAITS, prompts_sift.CONTROL_GENDER, prompts_sift.TEXT_LABEL,
                                   prompts_sift.COMPARISON_QUESTIONS, prompts_sift.COMPARISON_ANSWERS])
def test_every_table_has_the_five_languages_with_the_same_entries(table):
    assert set(table) == LANGS
    shapes = {lang: sorted(v) if isinstance(v, dict) else "text" if isinstance(v, str) else len(v)
              for lang, v in table.items()}
    assert len({repr(s) for s in shapes.values()}) == 1, shapes


def test_vocabularies_cover_speechsifts_labels():
    assert set(i18n.EMOTION_WORDS["en"]) == set(tables.EMOTIONS)
    assert set(i18n.GENDER_WORDS["en"]) == set(tables.GENDERS)
    assert set(tables.AGE_GROUPS) <= set(i18n.AGE_WORDS["en"])
    for pace in tables.PACES:
        assert i18n.scale_step("pace", pace) is not None
    for volume in tables.VOLUMES:
        assert i18n.scale_step("volume", volume) is not None


def test_binning_vocabularies_map_onto_levels_in_order():
    bins = pytest.importorskip("speechsift.labels.bins")
    for field, words in (("pitch", bins.PITCH_LEVELS), ("pitch_variation", bins.PITCH_VARIATION_LEVELS),
                         ("speaking_speed", bins.SPEAKING_SPEED_LEVELS), ("intensity", bins.INTENSITY_LEVELS),
                         ("noise", bins.NOISE_LEVELS), ("speech_quality", bins.SPEECH_QUALITY_LEVELS),
                         ("reverberation", bins.REVERBERATION_LEVELS), ("distortion_level", bins.DISTORTION_LEVELS)):
        assert [i18n.scale_step(field, w) for w in words] == list(range(len(words))), field
        assert i18n.levels(field) == len(words)


def test_generic_scale_words_and_aliases():
    assert i18n.scale_step("pitch", "High") == 5 and i18n.scale_step("speaking_speed", "very_low") == 0
    assert i18n.scale_step("noise", "low") is None  # ambiguous for noise: never guessed
    assert i18n.label_word("speaking_speed", "moderate speed", "it") == "a velocità moderata"
    assert i18n.meta_value({"speaking_rate": "quite fast"}, "speaking_speed") == "quite fast"
    assert i18n.label_word("age", "Fourties", "de") == "40–49 Jahre"
    assert i18n.label_word("emotion", "bored", "de") is None


def test_language_codes():
    assert [i18n.language_code(v) for v in ("en-US", "de_DE", "French", "ita", "es", "pt", None)] == \
        ["en", "de", "fr", "it", "es", None, None]
    assert i18n.output_language("pt-BR") == "en"


def test_join_words():
    assert i18n.join_words(["a", "b", "c"], "de") == "a, b oder c"
    assert i18n.join_words(["siete", "ocho"], "es") == "siete u ocho"
    assert i18n.join_words(["rápido", "inglés"], "es", conjunction="and") == "rápido e inglés"


def test_each_label_form_is_read_back_by_the_contradiction_check():
    for lang in i18n.LANGUAGES:
        for emotion, word in i18n.EMOTION_WORDS[lang].items():
            screen = Screen(None, emotion)
            assert screen.contradiction("", f"x {word} x") is None, (lang, word)
            other = next(e for e in tables.EMOTIONS if e != emotion and i18n.EMOTION_WORDS[lang][e] != word)
            assert Screen(None, other).contradiction("", f"x {word} x") is not None, (lang, word)
        for gender, word in i18n.GENDER_WORDS[lang].items():
            opposite = "female" if gender == "male" else "male"
            assert Screen(opposite, None).contradiction("", f"x {word} x") is not None, (lang, word)


def test_templates_have_their_slots():
    for lang, attributes in prompts_sift.TEMPLATE_QUESTIONS.items():
        for attribute, entry in attributes.items():
            assert "$value" in entry["answer"], (lang, attribute)
            assert all("$options" in q for q in entry["choice"]), (lang, attribute)
            assert all("$" not in q for q in entry["open"]), (lang, attribute)
    for pool in prompts_sift.CONTROL_INSTRUCTIONS.values():
        assert all(q.count("$traits") == 1 for q in pool)


def test_nothing_we_write_ourselves_looks_like_a_leak_or_a_timestamp():
    texts = [q for per in prompts_sift.TEMPLATE_QUESTIONS.values() for a in per.values()
             for q in (*a["open"], *a["choice"], a["answer"])]
    texts += [q for pool in prompts_sift.DESTA_QUESTIONS.values() for q in pool]
    texts += [q for per in prompts_sift.COMPARISON_QUESTIONS.values() for d in per.values() for q in d.values()]
    texts += [w for per in i18n.ORDINAL_WORDS.values() for forms in per.values() for w in forms]
    for text in texts:
        assert not leaks_metadata(text), text
        assert not quotes_timestamp(text), text


def test_leak_and_timestamp_patterns():
    for leak in ("According to the metadata, she is sad.", "The speaker is labeled as angry.",
                 "Its speaking_speed is high.", "Laut den Angaben ist die Person traurig.",
                 "Selon la description, la voix est grave.", "Secondo i dati forniti è felice.",
                 "Según la descripción, habla deprisa.", "The JSON says so."):
        assert leaks_metadata(leak), leak
    for fine in ("The speaker sounds sad.", "Describe the weather in Paris.", "Die Person spricht schnell."):
        assert not leaks_metadata(fine), fine
    assert quotes_timestamp("What word is said at 1.2 seconds?") and quotes_timestamp("Bei 0:03 steigt die Stimme.")
    assert quotes_timestamp("entre 1,5 et 2 secondes") and not quotes_timestamp("Which word is louder, 'two' or 'three'?")
    assert re.compile(i18n.TIMESTAMP_PATTERN)
