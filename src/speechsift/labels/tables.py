"""Label tables: corpus spellings and codes mapped onto speechsift's vocabularies.

Every key is compared after ``labels.normalize.label_key`` (lower case, ``_``/``-`` as spaces,
spaces collapsed). Each entry names where the spelling comes from.
"""

from __future__ import annotations

# Target vocabularies, from the tiny-audio omni metadata table (REFERENCE.md §1).
EMOTIONS = ("angry", "happy", "sad", "surprise", "neutral", "fear", "disgust")
GENDERS = ("male", "female")
AGE_GROUPS = ("teenager", "young adult", "middle-age adult", "senior")
PACES = ("slow", "normal", "fast")
VOLUMES = ("quiet", "loud")  # "normal" volume is known but left out of meta (REFERENCE.md §1)

# Values that mean "no label" in real corpora; compared after label_key.
MISSING_VALUES = frozenset(
    {
        "", "na", "n a", "null", "none", "nan", "unk", "<unk>", "unknown", "undefined",
        "not available", "not specified", "unspecified", "?", "-", "--",
        "do not wish to say", "prefer not to say",  # Common Voice's opt-out for gender and age
    }
)
# Language values that mean "no language given": ISO 639-2's "und" (undetermined).
MISSING_LANGUAGES = frozenset({"und"})

# Emotion labels in the other four SIFT-50M languages, as corpora and annotators write them: the
# nouns of each language's emotional-speech corpora, and the adjectives (masculine and feminine)
# that annotation tools use. Sources: German, EmoDB (Burkhardt et al., Interspeech 2005: Wut/Ärger,
# Freude, Trauer, Angst, Ekel, neutral; its Langeweile, boredom, is outside our vocabulary and stays
# unknown); French, CaFE (Gournay et al., MMSys 2018: colère, joie, tristesse, surprise, peur,
# dégoût, neutre); Italian, EMOVO (Costantini et al., LREC 2014: rabbia, gioia, tristezza, sorpresa,
# paura, disgusto, neutrale, and its file-name codes rab, gio, tri, sor, pau); Spanish, the usual
# nouns (ira, enfado, enojo, alegría, tristeza, sorpresa, miedo, asco). Adjective forms: our own
# list (the speechsift developers). EmoDB's one-letter codes are not listed: its F (Freude) is
# SAVEE's f (fear). Spellings without accents ("colere") are matched too (labels.normalize).
NATIVE_EMOTION_LABELS: dict[str, tuple[str, ...]] = {
    "angry": ("wut", "ärger", "zorn", "wütend", "verärgert", "zornig", "ärgerlich",  # de
              "colère", "en colère", "fâché", "fâchée", "furieux", "furieuse",  # fr
              "rabbia", "rab", "arrabbiato", "arrabbiata", "furioso", "furiosa",  # it (furioso/a: es too)
              "ira", "enfado", "enojo", "rabia", "enojado", "enojada", "enfadado", "enfadada"),  # es
    "happy": ("freude", "fröhlich", "glücklich", "froh", "freudig",
              "joie", "joyeux", "joyeuse", "heureux", "heureuse", "content", "contente",
              "gioia", "gio", "felice", "allegro", "allegra", "contento", "contenta",  # contento/a: es too
              "alegría", "felicidad", "alegre", "feliz"),
    "sad": ("trauer", "traurigkeit", "traurig",
            "tristesse", "triste",  # triste: it, es too
            "tristezza", "tri",
            "tristeza"),
    "surprise": ("überraschung", "überrascht",
                 "surpris",  # "surprise" itself is already a key
                 "sorpresa", "sor", "sorpreso",  # sorpresa: es too
                 "sorprendido", "sorprendida"),
    "neutral": ("neutre", "neutrale", "neutro", "neutra"),
    "fear": ("angst", "furcht", "ängstlich", "verängstigt",
             "peur", "apeuré", "apeurée", "effrayé", "effrayée",
             "paura", "pau", "spaventato", "spaventata", "impaurito", "impaurita",
             "miedo", "temor", "asustado", "asustada", "temeroso", "temerosa"),
    "disgust": ("ekel", "abscheu", "angeekelt", "angewidert",
                "dégoût", "dégoûté", "dégoûtée",
                "disgusto", "disgustato", "disgustata",
                "asco", "asqueado", "asqueada"),
}

EMOTION_MAP: dict[str, str] = {
    # our own words and their common English forms
    **{e: e for e in EMOTIONS},
    "anger": "angry", "mad": "angry",
    "happiness": "happy", "joy": "happy", "joyful": "happy",  # MELD uses "joy"
    "sadness": "sad",  # MELD
    "surprised": "surprise",  # RAVDESS, AbstractTTS copies
    "pleasant surprise": "surprise", "pleasant surprised": "surprise",  # TESS folder names
    "ps": "surprise",  # TESS file names (OAF_back_ps.wav)
    "fearful": "fear", "afraid": "fear", "scared": "fear",  # RAVDESS "fearful"
    "disgusted": "disgust",  # RAVDESS
    "calm": "neutral",  # RAVDESS "calm": merged into neutral as most emotion-recognition work does
    # CREMA-D file-name codes (1001_DFA_ANG_XX.wav)
    "ang": "angry", "dis": "disgust", "fea": "fear", "hap": "happy", "neu": "neutral", "sad": "sad",
    # IEMOCAP-style short codes found in re-uploads
    "sur": "surprise", "exc": "happy", "excited": "happy",
    # SAVEE file-name codes (a, d, f, h, n, sa, su) and MSP-Podcast letters (A, S, H, U, F, D, N)
    "a": "angry", "d": "disgust", "f": "fear", "h": "happy", "n": "neutral",
    "sa": "sad", "su": "surprise", "s": "sad", "u": "surprise",
    **{word: emotion for emotion, words in NATIVE_EMOTION_LABELS.items() for word in words},
}

GENDER_MAP: dict[str, str] = {
    "male": "male", "m": "male", "man": "male", "masculine": "male",
    "male masculine": "male",  # Common Voice 17+ spelling
    "female": "female", "f": "female", "woman": "female", "feminine": "female",
    "female feminine": "female",  # Common Voice 17+ spelling
}

# Common Voice's age buckets (its own spelling "fourties" included) onto the four groups:
# teens are under 18 (mostly), twenties and thirties 18-39, forties and fifties 40-59,
# sixties and above mostly over 60.
AGE_MAP: dict[str, str] = {
    **{a: a for a in AGE_GROUPS},
    "teen": "teenager", "teens": "teenager",
    "young adult": "young adult", "twenties": "young adult", "thirties": "young adult",
    "middle age adult": "middle-age adult", "middle aged": "middle-age adult",
    "middle aged adult": "middle-age adult",
    "forties": "middle-age adult", "fourties": "middle-age adult", "fifties": "middle-age adult",
    "elderly": "senior", "sixties": "senior", "seventies": "senior", "eighties": "senior",
    "nineties": "senior",
}

# Numeric ages onto the groups: (exclusive upper bound in years, group). The table:
# under 18 teenager, 18-39 young adult, 40-60 middle-age adult, over 60 senior.
AGE_BOUNDS: tuple[tuple[float, str], ...] = (
    (18.0, "teenager"),
    (40.0, "young adult"),
    (61.0, "middle-age adult"),
    (float("inf"), "senior"),
)

PACE_MAP: dict[str, str] = {
    "slow": "slow", "slowly": "slow",
    "normal": "normal", "medium": "normal", "moderate": "normal", "average": "normal",
    "fast": "fast", "quick": "fast", "quickly": "fast",
}

# Speaking-rate thresholds of the tiny-audio omni table (REFERENCE.md §1):
# slow < 6.0 <= normal <= 9.0 < fast.
PACE_SLOW_BELOW = 6.0
PACE_FAST_ABOVE = 9.0

# Volume labels given directly; None marks a known value that meta leaves out ("normal").
VOLUME_MAP: dict[str, str | None] = {
    "quiet": "quiet", "soft": "quiet", "softly": "quiet", "low": "quiet",
    "loud": "loud", "loudly": "loud", "high": "loud",
    "normal": None, "moderate": None, "medium": None,
}

# relative_db thresholds of the tiny-audio omni table (REFERENCE.md §1):
# quiet < -16.4 dB, loud > -10.0 dB, otherwise normal (omitted).
VOLUME_QUIET_BELOW_DB = -16.4
VOLUME_LOUD_ABOVE_DB = -10.0

# Gender estimated from the measured median F0 where a corpus gives none (opt-in,
# labels.gender_from_pitch): adult speaking F0 is about 85-180 Hz for men and 165-255 Hz for women
# (the ranges commonly quoted from Baken, Clinical Measurement of Speech and Voice, 1987); 165 Hz is
# where the two ranges meet. On espeak-ng's 101 gendered voice variants x 3 languages (249 male, 54
# female clips) it labels 293 of 303 right, 96.7 % (scripts/evaluate_gender.py): the misses are
# "male" variants voiced at 176-555 Hz (a whisper, a child-like voice) and one whispered clip
# without pitch, which gets no estimate.
GENDER_F0_BOUNDARY_HZ = 165.0
