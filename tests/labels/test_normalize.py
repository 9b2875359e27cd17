"""Label normalization onto the seed table (REFERENCE.md §1): tables, field normalizers, normalize_labels."""

from __future__ import annotations

import pytest

from speechsift.labels import normalize_labels, tables
from speechsift.labels.normalize import (
    UnknownLabel,
    age_group,
    is_missing,
    label_key,
    normalize_accent,
    normalize_age,
    normalize_emotion,
    normalize_gender,
    normalize_pace,
    normalize_volume,
    pace_from_rate,
    parse_number,
    volume_from_db,
)

EMOTIONS = {"angry", "happy", "sad", "surprise", "neutral", "fear", "disgust"}
AGE_GROUPS = {"teenager", "young adult", "middle-age adult", "senior"}

# Sentinels the issue names, in the spellings corpora write them.
MISSING = ["", "   ", "na", "NA", "n/a", "N/A", "null", "NULL", "none", "None", "nan", "NaN", "unk", "UNK",
           "<unk>", "unknown", "Unknown", " UNKNOWN ", "undefined", "not_available", "?", "-", "--",
           "do_not_wish_to_say", "prefer not to say"]

FIELD_NORMALIZERS = {
    "emotion": normalize_emotion,
    "gender": normalize_gender,
    "age": normalize_age,
    "pace": normalize_pace,
    "volume": normalize_volume,
    "accent": normalize_accent,
}


# --- vocabularies ----------------------------------------------------------------------------------------


def test_target_vocabularies_match_the_seed_table():
    assert set(tables.EMOTIONS) == EMOTIONS
    assert set(tables.GENDERS) == {"male", "female"}
    assert set(tables.AGE_GROUPS) == AGE_GROUPS
    assert set(tables.PACES) == {"slow", "normal", "fast"}
    assert set(tables.VOLUMES) == {"quiet", "loud"}


@pytest.mark.parametrize(
    "table, normalize, vocabulary",
    [
        (tables.EMOTION_MAP, normalize_emotion, EMOTIONS),
        (tables.GENDER_MAP, normalize_gender, {"male", "female"}),
        (tables.AGE_MAP, normalize_age, AGE_GROUPS),
        (tables.PACE_MAP, normalize_pace, {"slow", "normal", "fast"}),
        (tables.VOLUME_MAP, normalize_volume, {"quiet", "loud", None}),
    ],
    ids=["emotion", "gender", "age", "pace", "volume"],
)
def test_every_table_entry_is_reachable_and_lands_in_the_vocabulary(table, normalize, vocabulary):
    for spelling, target in table.items():
        assert target in vocabulary, (spelling, target)
        for variant in (spelling, spelling.upper(), f"  {spelling.title()}  ", spelling.replace(" ", "_")):
            assert normalize(variant) == target, (variant, target)


def test_no_table_key_is_also_a_missing_sentinel():
    for table in (tables.EMOTION_MAP, tables.GENDER_MAP, tables.AGE_MAP, tables.PACE_MAP, tables.VOLUME_MAP):
        assert not set(map(label_key, table)) & tables.MISSING_VALUES


# --- emotion ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        *[(e, e) for e in sorted(EMOTIONS)],
        ("anger", "angry"), ("ANG", "angry"), ("Angry", "angry"), ("mad", "angry"), ("A", "angry"),
        ("happiness", "happy"), ("joy", "happy"), ("Joy", "happy"), ("joyful", "happy"), ("HAP", "happy"),
        ("exc", "happy"), ("excited", "happy"), ("H", "happy"),
        ("sadness", "sad"), ("SAD", "sad"), ("sa", "sad"), ("S", "sad"),
        ("surprised", "surprise"), ("pleasant surprise", "surprise"), ("pleasant_surprise", "surprise"),
        ("Pleasant Surprised", "surprise"), ("pleasant-surprise", "surprise"), ("ps", "surprise"),
        ("PS", "surprise"), ("sur", "surprise"), ("su", "surprise"), ("U", "surprise"),
        ("fearful", "fear"), ("FEA", "fear"), ("afraid", "fear"), ("scared", "fear"), ("F", "fear"),
        ("disgusted", "disgust"), ("DIS", "disgust"), ("D", "disgust"),
        ("calm", "neutral"), ("NEU", "neutral"), ("N", "neutral"), ("  Neutral\t", "neutral"),
    ],
)
def test_emotion_synonyms_and_codes(value, expected):
    assert normalize_emotion(value) == expected


@pytest.mark.parametrize("value", ["contempt", "bored", "other", "xx", "angryish", "happy sad", "surprise!"])
def test_emotion_outside_the_vocabulary_is_unknown(value):
    with pytest.raises(UnknownLabel):
        normalize_emotion(value)


# --- gender ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("male", "male"), ("m", "male"), ("M", "male"), ("Male", "male"), ("MALE", "male"), (" male ", "male"),
        ("man", "male"), ("masculine", "male"), ("male_masculine", "male"), ("Male-Masculine", "male"),
        ("female", "female"), ("f", "female"), ("F", "female"), ("Female", "female"), ("FEMALE", "female"),
        ("woman", "female"), ("feminine", "female"), ("female_feminine", "female"),
        ("Female Feminine", "female"),
    ],
)
def test_gender_spellings(value, expected):
    assert normalize_gender(value) == expected


@pytest.mark.parametrize("value", ["other", "non-binary", "intersex", "transgender", "x", "mf", "males"])
def test_gender_outside_the_vocabulary_is_unknown(value):
    with pytest.raises(UnknownLabel):
        normalize_gender(value)


# --- age -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1", "teenager"), ("12", "teenager"), ("17", "teenager"), ("17.9", "teenager"),
        ("18", "young adult"), ("18.0", "young adult"), ("25", "young adult"), ("39", "young adult"),
        ("40", "middle-age adult"), ("50", "middle-age adult"), ("60", "middle-age adult"),
        ("61", "senior"), ("75", "senior"), ("99", "senior"), ("129", "senior"),
        (" 45 ", "middle-age adult"), ("45.0", "middle-age adult"), ("+30", "young adult"),
    ],
)
def test_numeric_ages_onto_the_four_groups(value, expected):
    assert normalize_age(value) == expected


@pytest.mark.parametrize(
    "years, expected",
    [(17, "teenager"), (18, "young adult"), (39, "young adult"), (40, "middle-age adult"),
     (60, "middle-age adult"), (61, "senior")],
)
def test_age_group_boundaries(years, expected):
    assert age_group(years) == expected
    assert age_group(float(years)) == expected


@pytest.mark.parametrize("value", ["0", "-1", "-5", "-25", "130", "200", "1e9", "inf", "-inf", "old", "25 years",
                                   "20-29", "twenty"])
def test_implausible_or_unparsable_ages_are_unknown(value):
    with pytest.raises(UnknownLabel):
        normalize_age(value)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("teens", "teenager"), ("teen", "teenager"),
        ("twenties", "young adult"), ("thirties", "young adult"),
        ("forties", "middle-age adult"), ("fourties", "middle-age adult"), ("fifties", "middle-age adult"),
        ("sixties", "senior"), ("seventies", "senior"), ("eighties", "senior"), ("nineties", "senior"),
        ("Twenties", "young adult"), (" FOURTIES ", "middle-age adult"),
        ("teenager", "teenager"), ("young adult", "young adult"), ("young_adult", "young adult"),
        ("middle-age adult", "middle-age adult"), ("Middle Age Adult", "middle-age adult"),
        ("middle_age_adult", "middle-age adult"), ("middle-aged", "middle-age adult"),
        ("senior", "senior"), ("Senior", "senior"), ("elderly", "senior"),
    ],
)
def test_common_voice_decades_and_group_names(value, expected):
    assert normalize_age(value) == expected


# --- pace and volume: labels and numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [("slow", "slow"), ("Slowly", "slow"), ("normal", "normal"), ("medium", "normal"), ("moderate", "normal"),
     ("average", "normal"), ("fast", "fast"), ("QUICK", "fast"), ("quickly", "fast")],
)
def test_pace_labels(value, expected):
    assert normalize_pace(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [("quiet", "quiet"), ("soft", "quiet"), ("Softly", "quiet"), ("low", "quiet"),
     ("loud", "loud"), ("LOUDLY", "loud"), ("high", "loud"),
     ("normal", None), ("moderate", None), ("medium", None)],
)
def test_volume_labels_normal_is_known_but_omitted(value, expected):
    assert normalize_volume(value) == expected


@pytest.mark.parametrize("normalize", [normalize_pace, normalize_volume], ids=["pace", "volume"])
def test_pace_and_volume_outside_the_vocabulary_are_unknown(normalize):
    with pytest.raises(UnknownLabel):
        normalize("whispering")


@pytest.mark.parametrize(
    "rate, expected",
    [(0.0, "slow"), (3.5, "slow"), (5.99, "slow"), (5.999999, "slow"),
     (6.0, "normal"), (6.000001, "normal"), (7.5, "normal"), (8.999, "normal"), (9.0, "normal"),
     (9.000001, "fast"), (9.01, "fast"), (12.0, "fast"), (30.0, "fast")],
)
def test_pace_from_speaking_rate_thresholds(rate, expected):
    assert pace_from_rate(rate) == expected


@pytest.mark.parametrize(
    "db, expected",
    [(-40.0, "quiet"), (-16.5, "quiet"), (-16.41, "quiet"), (-16.400001, "quiet"),
     (-16.4, None), (-16.39, None), (-13.0, None), (-10.01, None), (-10.0, None),
     (-9.999999, "loud"), (-9.99, "loud"), (-5.0, "loud"), (0.0, "loud")],
)
def test_volume_from_relative_db_thresholds(db, expected):
    assert volume_from_db(db) == expected


# --- accent ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [("United States English", "United States English"), ("  England English  ", "England English"),
     ("India and South Asia (India, Pakistan, Sri Lanka)", "India and South Asia (India, Pakistan, Sri Lanka)"),
     ("Scottish \t  English\n", "Scottish English"), ("american", "american"), ("Irish", "Irish")],
)
def test_accent_passes_through_trimmed(value, expected):
    assert normalize_accent(value) == expected


# --- missing-value sentinels -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", MISSING)
def test_missing_sentinels(value):
    assert is_missing(value)
    for field, normalize in FIELD_NORMALIZERS.items():
        assert normalize(value) is None, field
    assert parse_number(value) is None


def test_is_missing_non_strings():
    assert is_missing(None)
    assert is_missing(float("nan"))
    assert not is_missing(0)
    assert not is_missing(0.0)
    assert not is_missing("happy")


@pytest.mark.parametrize("value, expected", [("6", 6.0), (" 9.0 ", 9.0), ("-16.4", -16.4), ("1e1", 10.0), (7, 7.0)])
def test_parse_number(value, expected):
    assert parse_number(value) == expected


@pytest.mark.parametrize("value", ["fast", "12 wps", "inf", "-inf", "Infinity"])
def test_parse_number_rejects_non_numbers(value):
    with pytest.raises(UnknownLabel):
        parse_number(value)


# --- normalize_labels: the whole row ---------------------------------------------------------------------


def test_normalize_labels_full_row():
    raw = {
        "emotion": "ANG", "gender": "female_feminine", "age": "fourties", "accent": "  England  English ",
        "speaking_rate": "9.5", "relative_db": "-20",
    }
    meta, features, unknown = normalize_labels(raw)
    assert meta == {
        "emotion": "angry", "gender": "female", "age": "middle-age adult", "accent": "England English",
        "pace": "fast", "volume": "quiet",
    }
    assert features == {"speaking_rate": 9.5, "relative_db": -20.0}
    assert unknown == []


def test_normalize_labels_does_not_modify_raw():
    raw = {"emotion": "joy", "gender": "M", "speaking_rate": "3"}
    snapshot = dict(raw)
    normalize_labels(raw)
    assert raw == snapshot


def test_normalize_labels_empty_and_all_missing():
    assert normalize_labels({}) == ({}, {}, [])
    raw = {"emotion": "N/A", "gender": "unknown", "age": "", "accent": "none", "pace": "null", "volume": "nan",
           "speaking_rate": "", "relative_db": "NaN"}
    assert normalize_labels(raw) == ({}, {}, [])


@pytest.mark.parametrize(
    "rate, expected",
    [("5.99", "slow"), ("6.0", "normal"), ("6", "normal"), ("9.0", "normal"), ("9", "normal"), ("9.01", "fast")],
)
def test_normalize_labels_pace_from_rate_boundaries(rate, expected):
    meta, features, _ = normalize_labels({"speaking_rate": rate})
    assert meta == {"pace": expected}
    assert features == {"speaking_rate": float(rate)}


@pytest.mark.parametrize(
    "db, expected",
    [("-16.41", "quiet"), ("-16.4", None), ("-12", None), ("-10.0", None), ("-10", None), ("-9.99", "loud")],
)
def test_normalize_labels_volume_from_db_boundaries(db, expected):
    meta, features, _ = normalize_labels({"relative_db": db})
    assert meta == ({"volume": expected} if expected else {})
    assert features == {"relative_db": float(db)}


@pytest.mark.parametrize(
    "raw, expected_meta",
    [
        ({"pace": "slow", "speaking_rate": "12"}, {"pace": "slow"}),
        ({"pace": "fast", "speaking_rate": "2"}, {"pace": "fast"}),
        ({"pace": "normal", "speaking_rate": "2"}, {"pace": "normal"}),
        ({"pace": "Slowly", "speaking_rate": "12"}, {"pace": "slow"}),
        ({"volume": "normal", "relative_db": "-3"}, {}),
        ({"volume": "Moderate", "relative_db": "-30"}, {}),
        ({"volume": "quiet", "relative_db": "-3"}, {"volume": "quiet"}),
        ({"volume": "loud", "relative_db": "-30"}, {"volume": "loud"}),
    ],
)
def test_a_given_label_beats_a_number_derived_one(raw, expected_meta):
    for order in (raw, dict(reversed(raw.items()))):  # whichever field comes first
        meta, features, unknown = normalize_labels(order)
        assert meta == expected_meta
        assert unknown == []
        # the number is still kept as a feature
        assert set(features) == {k for k in raw if k in ("speaking_rate", "relative_db")}


@pytest.mark.parametrize(
    "raw, expected_meta",
    [
        ({"pace": "unknown", "speaking_rate": "12"}, {"pace": "fast"}),
        ({"pace": "", "speaking_rate": "3"}, {"pace": "slow"}),
        ({"volume": "n/a", "relative_db": "-3"}, {"volume": "loud"}),
        ({"volume": "NULL", "relative_db": "-30"}, {"volume": "quiet"}),
    ],
)
def test_a_missing_label_lets_the_number_decide(raw, expected_meta):
    for order in (raw, dict(reversed(raw.items()))):
        meta, _, unknown = normalize_labels(order)
        assert meta == expected_meta
        assert unknown == []


def test_remembered_outcomes_give_the_same_answer_every_time():
    # Outcomes are cached per field and value (unknown ones too); each call still reports its own.
    raw = {"emotion": "contempt", "gender": "F", "volume": "normal", "relative_db": "-3"}
    first = normalize_labels(raw)
    assert first == ({"gender": "female"}, {"relative_db": -3.0}, [("emotion", "contempt")])
    assert normalize_labels(raw) == first


@pytest.mark.parametrize(
    "raw, expected_unknown",
    [
        ({"emotion": "contempt"}, [("emotion", "contempt")]),
        ({"gender": "non-binary"}, [("gender", "non-binary")]),
        ({"age": "150"}, [("age", "150")]),
        ({"age": "-5"}, [("age", "-5")]),
        ({"age": "ancient"}, [("age", "ancient")]),
        ({"pace": "zoomy"}, [("pace", "zoomy")]),
        ({"volume": "deafening"}, [("volume", "deafening")]),
        ({"speaking_rate": "fast"}, [("speaking_rate", "fast")]),
        ({"relative_db": "inf"}, [("relative_db", "inf")]),
    ],
)
def test_values_outside_the_vocabulary_are_counted_and_left_out_of_meta(raw, expected_unknown):
    meta, features, unknown = normalize_labels(raw)
    assert unknown == expected_unknown
    assert meta == {}
    assert features == {}


def test_unknown_values_are_counted_alongside_known_ones():
    raw = {"emotion": "contempt", "gender": "F", "age": "200", "accent": "Welsh English", "speaking_rate": "abc",
           "relative_db": "-5"}
    meta, features, unknown = normalize_labels(raw)
    assert meta == {"gender": "female", "accent": "Welsh English", "volume": "loud"}
    assert features == {"relative_db": -5.0}
    assert sorted(unknown) == sorted([("emotion", "contempt"), ("age", "200"), ("speaking_rate", "abc")])
    assert raw["emotion"] == "contempt"  # stays in raw, untouched


def test_fields_the_tables_do_not_know_are_ignored():
    meta, features, unknown = normalize_labels({"speaker": "spk1", "language": "en", "emotion": "joy"})
    assert meta == {"emotion": "happy"}
    assert features == {}
    assert unknown == []


def test_make_corpus_style_rows():
    """The shared factory's label spellings all normalize (tests/factories.py make_corpus)."""
    genders = ["male", "F", "female_feminine", "m"]
    emotions = ["happy", "ANG", "sadness", "neutral", "ps", "fearful"]
    ages = ["twenties", "45", "sixties", ""]
    got = [normalize_labels({"gender": g, "emotion": e, "age": a})
           for g, e, a in zip(genders * 3, emotions * 2, ages * 3)]
    assert all(unknown == [] for _, _, unknown in got)
    assert [m["emotion"] for m, _, _ in got] == ["happy", "angry", "sad", "neutral", "surprise", "fear"] * 2
    assert [m.get("age") for m, _, _ in got[:4]] == ["young adult", "middle-age adult", "senior", None]


@pytest.mark.parametrize("value", ["6", " 9.0 ", "-16.4", "1e1", "", "nan", "NaN", "n/a", "inf", "-Infinity", "abc", "7"])
def test_numeric_labels_read_their_number_as_parse_number_does(value):
    # normalize_labels reads a plain number without calling parse_number; both must agree.
    meta, features, unknown = normalize_labels({"relative_db": value})
    try:
        number = parse_number(value)
    except UnknownLabel:
        assert unknown == [("relative_db", value)] and features == {}
    else:
        assert features == ({} if number is None else {"relative_db": number}) and unknown == []
