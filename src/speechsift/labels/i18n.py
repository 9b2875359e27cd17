"""Label vocabularies in the five SIFT-50M languages (en, de, fr, it, es), as phrase tables.

SIFT-50M translates metadata keys and values with a phrase table and asks the LLM to write in the
target language (REFERENCE.md §2); speechsift does the same, and uses the same tables for the
template tasks' answers and the instructions the speech model sees.

Source of every table here: our own translation (the speechsift developers), checked against the
usual terms in each language; none is copied from another project. Where a value has a
grammatical gender, French, Italian and Spanish forms are feminine so that they agree with the
noun they describe in our templates ("la voix", "la voce", "la voz"); German forms are
predicative (uninflected). Each table says which template shape its forms fit.

Keys: ordinal fields (pitch, pitch variation, speaking speed, pace, intensity, volume, noise,
speech quality, reverberation, distortion) are
stored as one form per level, low to high, and any incoming word is first mapped to its level
(``scale_step``): the binning engine's words (``labels.bins``: "quite low", "moderate speed",
"balanced in clarity"...), the tiny-audio omni words (slow/normal/fast, quiet/loud) and generic
scale words ("low", "very high", "medium") all land on a level. Nominal fields (emotion, gender,
age, language) are keyed by speechsift's normalized values (``labels.tables``).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from speechsift.labels import tables
from speechsift.labels.normalize import UnknownLabel, normalize_language

LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "it", "es")
FALLBACK_LANGUAGE = "en"

@lru_cache(maxsize=1024)
def language_code(value: str | None) -> str | None:
    """One of ``LANGUAGES`` for a corpus's language value ("en-US", "de_DE", "German", "deu"), or
    None when it is not one of them (``labels.normalize.normalize_language`` reads the value)."""
    if not value:
        return None
    try:
        code = normalize_language(value)
    except UnknownLabel:
        return None
    return code if code in LANGUAGES else None


def output_language(value: str | None) -> str:
    """The language tasks write in for a clip: its own when supported, else English."""
    return language_code(value) or FALLBACK_LANGUAGE


# Name of each language, in each language (our translation). English names are also what the
# English-language LLM prompts use ("Write every answer in German.").
LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "en": {"en": "English", "de": "German", "fr": "French", "it": "Italian", "es": "Spanish"},
    "de": {"en": "Englisch", "de": "Deutsch", "fr": "Französisch", "it": "Italienisch", "es": "Spanisch"},
    "fr": {"en": "anglais", "de": "allemand", "fr": "français", "it": "italien", "es": "espagnol"},
    "it": {"en": "inglese", "de": "tedesco", "fr": "francese", "it": "italiano", "es": "spagnolo"},
    "es": {"en": "inglés", "de": "alemán", "fr": "francés", "it": "italiano", "es": "español"},
}

# Metadata keys as the LLM sees them (SIFT-50M translates keys too). Lower case, words joined
# with "_" like the English keys; our translation.
FIELD_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "gender": "gender", "age": "age", "accent": "accent", "emotion": "emotion", "pitch": "pitch",
        "pitch_variation": "pitch_variation", "speaking_speed": "speaking_speed", "pace": "pace",
        "intensity": "intensity", "volume": "volume", "noise": "noise", "duration": "duration",
        "transcript": "transcript", "language": "language",
        "speech_quality": "speech_quality", "reverberation": "reverberation", "distortion_level": "distortion_level",
    },
    "de": {
        "gender": "geschlecht", "age": "alter", "accent": "akzent", "emotion": "emotion", "pitch": "tonhöhe",
        "pitch_variation": "tonhöhen_variation", "speaking_speed": "sprechtempo", "pace": "tempo",
        "intensity": "intensität", "volume": "lautstärke", "noise": "rauschen", "duration": "dauer",
        "transcript": "transkript", "language": "sprache",
        "speech_quality": "sprachqualität", "reverberation": "nachhall", "distortion_level": "verzerrung",
    },
    "fr": {
        "gender": "genre", "age": "âge", "accent": "accent", "emotion": "émotion", "pitch": "hauteur",
        "pitch_variation": "variation_de_hauteur", "speaking_speed": "débit", "pace": "rythme",
        "intensity": "intensité", "volume": "volume", "noise": "bruit", "duration": "durée",
        "transcript": "transcription", "language": "langue",
        "speech_quality": "qualité_vocale", "reverberation": "réverbération", "distortion_level": "distorsion",
    },
    "it": {
        "gender": "genere", "age": "età", "accent": "accento", "emotion": "emozione", "pitch": "altezza",
        "pitch_variation": "variazione_di_altezza", "speaking_speed": "velocità_di_eloquio", "pace": "ritmo",
        "intensity": "intensità", "volume": "volume", "noise": "rumore", "duration": "durata",
        "transcript": "trascrizione", "language": "lingua",
        "speech_quality": "qualità_vocale", "reverberation": "riverbero", "distortion_level": "distorsione",
    },
    "es": {
        "gender": "género", "age": "edad", "accent": "acento", "emotion": "emoción", "pitch": "tono",
        "pitch_variation": "variación_de_tono", "speaking_speed": "velocidad_de_habla", "pace": "ritmo",
        "intensity": "intensidad", "volume": "volumen", "noise": "ruido", "duration": "duración",
        "transcript": "transcripción", "language": "idioma",
        "speech_quality": "calidad_de_voz", "reverberation": "reverberación", "distortion_level": "distorsión",
    },
}

# --- nominal fields ------------------------------------------------------------------------------

# Emotion, keyed by labels.tables.EMOTIONS. Fits "The speaker sounds {}" / "Die Person klingt {}" /
# "La voix semble {}" / "La voce sembra {}" / "La voz suena {}" (feminine in fr/it/es).
EMOTION_WORDS: dict[str, dict[str, str]] = {
    "en": {"angry": "angry", "happy": "happy", "sad": "sad", "surprise": "surprised", "neutral": "neutral",
           "fear": "fearful", "disgust": "disgusted"},
    "de": {"angry": "wütend", "happy": "fröhlich", "sad": "traurig", "surprise": "überrascht", "neutral": "neutral",
           "fear": "ängstlich", "disgust": "angewidert"},
    "fr": {"angry": "en colère", "happy": "joyeuse", "sad": "triste", "surprise": "surprise", "neutral": "neutre",
           "fear": "apeurée", "disgust": "dégoûtée"},
    "it": {"angry": "arrabbiata", "happy": "felice", "sad": "triste", "surprise": "sorpresa", "neutral": "neutra",
           "fear": "spaventata", "disgust": "disgustata"},
    "es": {"angry": "enfadada", "happy": "alegre", "sad": "triste", "surprise": "sorprendida", "neutral": "neutra",
           "fear": "asustada", "disgust": "asqueada"},
}

# Gender, keyed by labels.tables.GENDERS. Fits "The voice is {}" (feminine in fr/it/es: la voix).
GENDER_WORDS: dict[str, dict[str, str]] = {
    "en": {"male": "male", "female": "female"},
    "de": {"male": "männlich", "female": "weiblich"},
    "fr": {"male": "masculine", "female": "féminine"},
    "it": {"male": "maschile", "female": "femminile"},
    "es": {"male": "masculina", "female": "femenina"},
}

# Age groups (labels.tables.AGE_GROUPS) and SIFT-50M's decades. English forms fit "The speaker
# sounds like a {}"; the others are group names (plural, so gender-neutral) that fit
# "... the age group «{}»".
AGE_WORDS: dict[str, dict[str, str]] = {
    "en": {"teenager": "teenager", "young adult": "young adult", "middle-age adult": "middle-aged adult",
           "senior": "senior", "twenties": "person in their twenties", "thirties": "person in their thirties",
           "forties": "person in their forties", "fifties": "person in their fifties",
           "sixties": "person in their sixties", "seventies": "person in their seventies",
           "eighties": "person in their eighties", "nineties": "person in their nineties"},
    "de": {"teenager": "Jugendliche", "young adult": "junge Erwachsene", "middle-age adult": "Erwachsene mittleren Alters",
           "senior": "Senioren", "twenties": "20–29 Jahre", "thirties": "30–39 Jahre", "forties": "40–49 Jahre",
           "fifties": "50–59 Jahre", "sixties": "60–69 Jahre", "seventies": "70–79 Jahre", "eighties": "80–89 Jahre",
           "nineties": "90–99 Jahre"},
    "fr": {"teenager": "adolescents", "young adult": "jeunes adultes", "middle-age adult": "adultes d'âge moyen",
           "senior": "seniors", "twenties": "20–29 ans", "thirties": "30–39 ans", "forties": "40–49 ans",
           "fifties": "50–59 ans", "sixties": "60–69 ans", "seventies": "70–79 ans", "eighties": "80–89 ans",
           "nineties": "90–99 ans"},
    "it": {"teenager": "adolescenti", "young adult": "giovani adulti", "middle-age adult": "adulti di mezza età",
           "senior": "anziani", "twenties": "20–29 anni", "thirties": "30–39 anni", "forties": "40–49 anni",
           "fifties": "50–59 anni", "sixties": "60–69 anni", "seventies": "70–79 anni", "eighties": "80–89 anni",
           "nineties": "90–99 anni"},
    "es": {"teenager": "adolescentes", "young adult": "adultos jóvenes", "middle-age adult": "adultos de mediana edad",
           "senior": "personas mayores", "twenties": "20–29 años", "thirties": "30–39 años", "forties": "40–49 años",
           "fifties": "50–59 años", "sixties": "60–69 años", "seventies": "70–79 años", "eighties": "80–89 años",
           "nineties": "90–99 años"},
}
# Spellings of the decades that corpora and SIFT-50M use, onto the keys above.
_AGE_ALIASES = {"teens": "teenager", "fourties": "forties", "middle aged adult": "middle-age adult",
                "middle-aged adult": "middle-age adult", "middle age adult": "middle-age adult"}

NOMINAL_WORDS: dict[str, dict[str, dict[str, str]]] = {
    "emotion": EMOTION_WORDS,
    "gender": GENDER_WORDS,
    "age": AGE_WORDS,
}

# --- ordinal fields ------------------------------------------------------------------------------
# One form per level, low to high. Levels are those of labels.bins (7 for pitch, pitch variation,
# speaking speed and noise; 3 for intensity) and of the omni pace/volume rules (3).

# Pitch: fits "The pitch of the voice is {}" / "Die Stimmlage ist {}" / "La voix est {}" /
# "La voce è {}" / "La voz es {}".
PITCH_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("very low", "quite low", "slightly low", "moderate", "slightly high", "quite high", "very high"),
    "de": ("sehr tief", "ziemlich tief", "etwas tief", "mittel", "etwas hoch", "ziemlich hoch", "sehr hoch"),
    "fr": ("très grave", "assez grave", "légèrement grave", "moyenne", "légèrement aiguë", "assez aiguë", "très aiguë"),
    "it": ("molto grave", "piuttosto grave", "leggermente grave", "media", "leggermente acuta", "piuttosto acuta",
           "molto acuta"),
    "es": ("muy grave", "bastante grave", "ligeramente grave", "media", "ligeramente aguda", "bastante aguda",
           "muy aguda"),
}
# Pitch variation: fits "The voice sounds {}" (feminine in fr/it/es).
PITCH_VARIATION_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("very monotone", "quite monotone", "slightly monotone", "moderately expressive", "slightly expressive",
           "quite expressive", "very expressive"),
    "de": ("sehr monoton", "ziemlich monoton", "etwas monoton", "mäßig ausdrucksvoll", "etwas ausdrucksvoll",
           "ziemlich ausdrucksvoll", "sehr ausdrucksvoll"),
    "fr": ("très monotone", "assez monotone", "un peu monotone", "modérément expressive", "un peu expressive",
           "assez expressive", "très expressive"),
    "it": ("molto monotona", "piuttosto monotona", "un po' monotona", "moderatamente espressiva",
           "un po' espressiva", "piuttosto espressiva", "molto espressiva"),
    "es": ("muy monótona", "bastante monótona", "algo monótona", "moderadamente expresiva", "algo expresiva",
           "bastante expresiva", "muy expresiva"),
}
# Speaking speed (7 levels) and pace (3): adverbs, fit "The speaker talks {}".
SPEAKING_SPEED_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("very slowly", "quite slowly", "slightly slowly", "at a moderate speed", "slightly fast", "quite fast",
           "very fast"),
    "de": ("sehr langsam", "ziemlich langsam", "etwas langsam", "in mittlerem Tempo", "etwas schnell",
           "ziemlich schnell", "sehr schnell"),
    "fr": ("très lentement", "assez lentement", "un peu lentement", "à un rythme modéré", "un peu vite", "assez vite",
           "très vite"),
    "it": ("molto lentamente", "piuttosto lentamente", "un po' lentamente", "a velocità moderata",
           "un po' velocemente", "piuttosto velocemente", "molto velocemente"),
    "es": ("muy despacio", "bastante despacio", "algo despacio", "a un ritmo moderado", "algo deprisa",
           "bastante deprisa", "muy deprisa"),
}
PACE_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("slowly", "at a normal pace", "quickly"),
    "de": ("langsam", "in normalem Tempo", "schnell"),
    "fr": ("lentement", "à un rythme normal", "rapidement"),
    "it": ("lentamente", "a un ritmo normale", "velocemente"),
    "es": ("despacio", "a un ritmo normal", "deprisa"),
}
# Intensity (bins: softly / moderate volume / loudly) and volume (omni: quiet / normal / loud):
# adverbs, fit "The speaker talks {}".
INTENSITY_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("softly", "at a moderate volume", "loudly"),
    "de": ("leise", "in mittlerer Lautstärke", "laut"),
    "fr": ("doucement", "à un volume modéré", "fort"),
    "it": ("a bassa voce", "a volume moderato", "ad alta voce"),
    "es": ("en voz baja", "a un volumen moderado", "en voz alta"),
}
VOLUME_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("quietly", "at a normal volume", "loudly"),
    "de": ("leise", "in normaler Lautstärke", "laut"),
    "fr": ("doucement", "à un volume normal", "fort"),
    "it": ("a bassa voce", "a volume normale", "ad alta voce"),
    "es": ("en voz baja", "a un volumen normal", "en voz alta"),
}
# Noise (bins: very noisy ... very clean): describes the recording ("l'enregistrement" is
# masculine, "la registrazione" and "la grabación" feminine).
NOISE_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("very noisy", "quite noisy", "slightly noisy", "balanced in clarity", "slightly clean", "quite clean",
           "very clean"),
    "de": ("sehr verrauscht", "ziemlich verrauscht", "etwas verrauscht", "ausgewogen", "etwas sauber",
           "ziemlich sauber", "sehr sauber"),
    "fr": ("très bruité", "assez bruité", "légèrement bruité", "équilibré", "plutôt net", "assez net", "très net"),
    "it": ("molto rumorosa", "piuttosto rumorosa", "leggermente rumorosa", "equilibrata", "abbastanza pulita",
           "piuttosto pulita", "molto pulita"),
    "es": ("muy ruidosa", "bastante ruidosa", "ligeramente ruidosa", "equilibrada", "algo limpia", "bastante limpia",
           "muy limpia"),
}

# Speech quality (bins: very bad ... wonderful speech quality, 6 levels): noun phrases that fit
# "The recording has {}" / "Die Aufnahme hat {}" / "L'enregistrement a {}" / "La registrazione ha {}" /
# "La grabación tiene {}".
SPEECH_QUALITY_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("very bad speech quality", "bad speech quality", "slightly bad speech quality", "moderate speech quality",
           "great speech quality", "wonderful speech quality"),
    "de": ("eine sehr schlechte Sprachqualität", "eine schlechte Sprachqualität", "eine etwas schlechte Sprachqualität",
           "eine mittlere Sprachqualität", "eine sehr gute Sprachqualität", "eine hervorragende Sprachqualität"),
    "fr": ("une très mauvaise qualité vocale", "une mauvaise qualité vocale", "une qualité vocale plutôt médiocre",
           "une qualité vocale moyenne", "une très bonne qualité vocale", "une excellente qualité vocale"),
    "it": ("una qualità vocale pessima", "una qualità vocale scarsa", "una qualità vocale un po' scarsa",
           "una qualità vocale discreta", "un'ottima qualità vocale", "una qualità vocale eccellente"),
    "es": ("una calidad de voz muy mala", "una calidad de voz mala", "una calidad de voz algo mala",
           "una calidad de voz aceptable", "una calidad de voz muy buena", "una calidad de voz excelente"),
}
# Reverberation (bins: very distant-sounding ... very close-sounding, 5 levels, from C50): how far the
# voice sounds; fits "The voice sounds {}" (feminine in fr/it/es).
REVERBERATION_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("very distant", "slightly distant", "neither close nor distant", "slightly close", "very close"),
    "de": ("sehr entfernt", "etwas entfernt", "weder nah noch entfernt", "etwas nah", "sehr nah"),
    "fr": ("très lointaine", "un peu lointaine", "ni proche ni lointaine", "plutôt proche", "très proche"),
    "it": ("molto lontana", "un po' lontana", "né vicina né lontana", "abbastanza vicina", "molto vicina"),
    "es": ("muy lejana", "algo lejana", "ni cercana ni lejana", "algo cercana", "muy cercana"),
}
# Distortion (bins: extremely distorted ... no distortion, 6 levels): said of the recording
# ("l'enregistrement" is masculine, "la registrazione" and "la grabación" feminine); fits "The
# recording is {}" / "Die Aufnahme ist {}" / "La grabación está {}".
DISTORTION_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("extremely distorted", "very distorted", "distorted", "slightly distorted", "almost free of distortion",
           "free of distortion"),
    "de": ("extrem verzerrt", "sehr verzerrt", "verzerrt", "leicht verzerrt", "fast unverzerrt", "unverzerrt"),
    "fr": ("extrêmement distordu", "très distordu", "distordu", "légèrement distordu", "presque sans distorsion",
           "sans distorsion"),
    "it": ("estremamente distorta", "molto distorta", "distorta", "leggermente distorta", "quasi priva di distorsioni",
           "priva di distorsioni"),
    "es": ("extremadamente distorsionada", "muy distorsionada", "distorsionada", "ligeramente distorsionada",
           "casi libre de distorsión", "libre de distorsión"),
}

ORDINAL_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "pitch": PITCH_WORDS,
    "pitch_variation": PITCH_VARIATION_WORDS,
    "speaking_speed": SPEAKING_SPEED_WORDS,
    "pace": PACE_WORDS,
    "intensity": INTENSITY_WORDS,
    "volume": VOLUME_WORDS,
    "noise": NOISE_WORDS,
    "speech_quality": SPEECH_QUALITY_WORDS,
    "reverberation": REVERBERATION_WORDS,
    "distortion_level": DISTORTION_WORDS,
}

# Incoming words onto levels. Each field's own words (labels.bins vocabularies, the omni words),
# then generic scale words shared by every field of that size. For noise, the level is the
# recording's *cleanliness* (bins: very noisy = 0 ... very clean = 6), so generic "low"/"high"
# are not accepted for it: "low noise" and "low clarity" would mean opposite things.
_FIELD_LEVELS: dict[str, dict[str, int]] = {
    "pitch": {"very low": 0, "quite low": 1, "slightly low": 2, "moderate": 3, "slightly high": 4,
              "quite high": 5, "very high": 6},
    "pitch_variation": {"very monotone": 0, "quite monotone": 1, "slightly monotone": 2, "moderate intonation": 3,
                        "moderate": 3, "slightly expressive": 4, "quite expressive": 5, "very expressive": 6,
                        "monotone": 1, "expressive": 5, "very monotonous": 0, "monotonous": 1},
    "speaking_speed": {"very slowly": 0, "quite slowly": 1, "slightly slowly": 2, "moderate speed": 3,
                       "slightly fast": 4, "quite fast": 5, "very fast": 6, "slowly": 1, "slow": 1, "fast": 5,
                       "very slow": 0, "quite slow": 1, "slightly slow": 2, "moderate": 3, "normal": 3},
    "pace": {"slow": 0, "slowly": 0, "normal": 1, "medium": 1, "moderate": 1, "fast": 2, "quick": 2, "quickly": 2},
    "intensity": {"softly": 0, "soft": 0, "quiet": 0, "quietly": 0, "moderate volume": 1, "moderate": 1,
                  "normal": 1, "medium": 1, "loudly": 2, "loud": 2},
    "volume": {"quiet": 0, "quietly": 0, "soft": 0, "softly": 0, "normal": 1, "moderate": 1, "medium": 1,
               "loud": 2, "loudly": 2},
    "noise": {"very noisy": 0, "quite noisy": 1, "slightly noisy": 2, "balanced in clarity": 3, "balanced": 3,
              "moderate": 3, "slightly clean": 4, "quite clean": 5, "very clean": 6, "noisy": 1, "clean": 5},
    # bins words, then plain ratings; "good" is the fifth of six (DataSpeech's "great")
    "speech_quality": {"very bad speech quality": 0, "bad speech quality": 1, "slightly bad speech quality": 2,
                       "moderate speech quality": 3, "great speech quality": 4, "wonderful speech quality": 5,
                       "very bad": 0, "bad": 1, "poor": 1, "slightly bad": 2, "moderate": 3, "fair": 3, "good": 4,
                       "great": 4, "wonderful": 5, "excellent": 5},
    # bins words, DataSpeech's seven v02 words ("quite" onto the neighbouring level), plain distances
    "reverberation": {"very distant-sounding": 0, "slightly distant-sounding": 1,
                      "moderately balanced reverberation": 2, "slightly close-sounding": 3, "very close-sounding": 4, "quite distant-sounding": 0,
                      "quite close-sounding": 4, "very distant": 0, "distant": 1, "slightly distant": 1,
                      "moderate": 2, "balanced": 2, "slightly close": 3, "close": 3, "very close": 4},
    "distortion_level": {"extremely distorted": 0, "very distorted": 1, "distorted": 2, "slightly distorted": 3,
                         "almost no distortion": 4, "no distortion": 5, "undistorted": 5, "clean": 5},
}
_GENERIC_7 = {"very low": 0, "quite low": 1, "low": 1, "slightly low": 2, "moderate": 3, "medium": 3,
              "normal": 3, "average": 3, "slightly high": 4, "high": 5, "quite high": 5, "very high": 6}
_GENERIC_3 = {"low": 0, "very low": 0, "quite low": 0, "slightly low": 0, "moderate": 1, "medium": 1,
              "normal": 1, "average": 1, "slightly high": 2, "quite high": 2, "high": 2, "very high": 2}
_GENERIC_BY_FIELD = {"pitch": _GENERIC_7, "pitch_variation": _GENERIC_7, "speaking_speed": _GENERIC_7,
                     "pace": _GENERIC_3, "intensity": _GENERIC_3, "volume": _GENERIC_3}

# Meta keys that hold the same concept under another name (the brief and older manifests say
# speaking_rate for the binned speaking speed).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {"speaking_speed": ("speaking_speed", "speaking_rate")}


def _key(value: str) -> str:
    return " ".join(value.strip().lower().replace("_", " ").split())


def levels(field: str) -> int:
    """How many levels an ordinal field has (0 for a nominal one)."""
    words = ORDINAL_WORDS.get(field)
    return len(words[FALLBACK_LANGUAGE]) if words else 0


@lru_cache(maxsize=4096)
def scale_step(field: str, value: str) -> int | None:
    """The level (0 = lowest) of an ordinal field's word, or None when the word is unknown."""
    key = _key(value)
    own = _FIELD_LEVELS.get(field, {})
    if key in own:
        return own[key]
    return _GENERIC_BY_FIELD.get(field, {}).get(key)


@lru_cache(maxsize=4096)
def nominal_key(field: str, value: str) -> str | None:
    """The table key of a nominal field's value ("twenties", "male"), or None when unknown."""
    key = _key(value).replace("middle age", "middle-age")
    key = _AGE_ALIASES.get(key, key) if field == "age" else key
    table = NOMINAL_WORDS.get(field, {}).get(FALLBACK_LANGUAGE, {})
    return key if key in table else None


def label_word(field: str, value: str | None, language: str) -> str | None:
    """``value`` of ``field`` in ``language``; None when the field or the value is not in the tables.

    ``language`` outside ``LANGUAGES`` falls back to English.
    """
    if not value:
        return None
    lang = language if language in LANGUAGES else FALLBACK_LANGUAGE
    if field in ORDINAL_WORDS:
        step = scale_step(field, value)
        return None if step is None else ORDINAL_WORDS[field][lang][step]
    if field in NOMINAL_WORDS:
        key = nominal_key(field, value)
        return None if key is None else NOMINAL_WORDS[field][lang][key]
    if field == "language":
        code = language_code(value)
        return None if code is None else LANGUAGE_NAMES[lang][code]
    return None


def field_name(field: str, language: str) -> str:
    """The metadata key for ``field`` in ``language`` (the English key when none is known)."""
    lang = language if language in LANGUAGES else FALLBACK_LANGUAGE
    return FIELD_NAMES[lang].get(field, field)


def meta_value(meta: Mapping[str, str], field: str) -> str | None:
    """``meta[field]`` or a value under one of its aliases (``speaking_rate`` for ``speaking_speed``)."""
    for key in FIELD_ALIASES.get(field, (field,)):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def choices(field: str, language: str) -> list[str]:
    """Every form of ``field`` in ``language``, in table order (levels low to high)."""
    lang = language if language in LANGUAGES else FALLBACK_LANGUAGE
    return [key_word(field, key, lang) for key in value_keys(field)]


def value_keys(field: str, like: object = None) -> list:
    """The keys of ``field``'s values in table order: levels for ordinal fields, table keys for
    nominal ones, codes for language. With ``like``, only those on the same scale as that key:
    an age group's fellow groups, or a decade's fellow decades (one question never mixes them)."""
    if field in ORDINAL_WORDS:
        return list(range(levels(field)))
    if field == "language":
        return list(LANGUAGES)
    keys = list(NOMINAL_WORDS[field][FALLBACK_LANGUAGE])
    if field == "age" and like is not None:
        groups = like in tables.AGE_GROUPS
        keys = [k for k in keys if (k in tables.AGE_GROUPS) == groups]
    return keys


def key_word(field: str, key: object, language: str) -> str:
    """The form of the value with ``key`` (``value_keys``) in ``language``."""
    if field in ORDINAL_WORDS:
        return ORDINAL_WORDS[field][language][key]  # type: ignore[index]
    if field == "language":
        return LANGUAGE_NAMES[language][key]  # type: ignore[index]
    return NOMINAL_WORDS[field][language][key]  # type: ignore[index]


# Ordinal values closer than this many levels overlap ("slightly low" and "moderate").
NEAR_LEVELS = 2


def overlaps(field: str, a: object, b: object) -> bool:
    """Whether two values of ``field`` (``value_keys`` keys) can both be true of one clip, so that
    one must never be a wrong option beside the other in a multiple-choice question:

    - the same value;
    - ordinal scales of more than three levels: two levels on the same side of the middle ("very
      low" and "slightly low" are both low) or fewer than ``NEAR_LEVELS`` apart ("slightly low"
      and "moderate"); the three-level scales (pace, volume, intensity) are coarse enough that
      their levels never overlap;
    - age: an age group and a decade inside it ("young adult" and "thirties": labels.tables.AGE_MAP
      puts the decades into the groups).
    """
    if a == b:
        return True
    if field in ORDINAL_WORDS:
        n = levels(field)
        if n <= 3:
            return False
        middle = (n - 1) / 2
        return (a - middle) * (b - middle) > 0 or abs(a - b) < NEAR_LEVELS  # type: ignore[operator]
    if field == "age":
        return tables.AGE_MAP.get(str(a)) == b or tables.AGE_MAP.get(str(b)) == a
    return False


# --- list joining --------------------------------------------------------------------------------

# "A, B or C" / "A, B and C" in each language.
OR_WORD = {"en": "or", "de": "oder", "fr": "ou", "it": "o", "es": "o"}
AND_WORD = {"en": "and", "de": "und", "fr": "et", "it": "e", "es": "y"}


def join_words(items: list[str], language: str, *, conjunction: str = "or") -> str:
    """``a, b or c`` in ``language`` (Spanish ``o``/``y`` become ``u``/``e`` before o-/i- sounds)."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    lang = language if language in LANGUAGES else FALLBACK_LANGUAGE
    word = (OR_WORD if conjunction == "or" else AND_WORD)[lang]
    last = items[-1]
    if lang == "es":
        lowered = last.lower()
        if word == "o" and lowered.startswith(("o", "ho")):
            word = "u"
        elif word == "y" and lowered.startswith(("i", "hi")) and not lowered.startswith(("ie", "hie")):
            word = "e"
    return f"{', '.join(items[:-1])} {word} {last}"


__all__ = [
    "FALLBACK_LANGUAGE", "FIELD_NAMES", "LANGUAGES", "LANGUAGE_NAMES", "choices", "field_name", "join_words",
    "key_word", "label_word", "language_code", "levels", "meta_value", "nominal_key", "output_language", "overlaps",
    "scale_step", "value_keys",
]


# --- checking what an LLM wrote ------------------------------------------------------------------
# Words that show an answer contradicts the labels, per language (our own lists). Matched as whole
# words, case-insensitively, across all five languages at once (a model may slip into English).
# Only unambiguous words are listed: German "sie" (she / they / formal you) and the French,
# Italian and Spanish feminine pronouns (which agree with "la voix") would be false alarms.

GENDER_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "female": {
        "en": ("she", "her", "hers", "herself", "woman", "women", "female", "girl", "lady", "feminine", "woman's",
               "ladies", "lady's", "girl's", "gal", "she's", "she'd", "she'll"),
        "de": ("frau", "frauen", "frauenstimme", "weiblich", "weibliche", "weiblichen", "weiblicher", "mädchen",
               "sprecherin"),
        "fr": ("femme", "féminine", "fille", "locutrice"),
        "it": ("donna", "femminile", "ragazza"),
        "es": ("mujer", "femenina", "femenino", "chica"),
    },
    "male": {
        "en": ("he", "him", "his", "himself", "man", "men", "male", "boy", "gentleman", "masculine", "man's", "guy",
               "guy's", "boy's", "fellow", "lad", "dude", "he's", "he'd", "he'll"),
        "de": ("mann", "männer", "männerstimme", "männlich", "männliche", "männlichen", "männlicher"),
        "fr": ("homme", "masculine", "masculin", "garçon"),
        "it": ("uomo", "maschile", "ragazzo"),
        "es": ("hombre", "masculina", "masculino", "chico"),
    },
}
# Pronouns that presuppose a gender in a question ("Why does she sound tired?"); English only.
GENDER_PRONOUNS: dict[str, tuple[str, ...]] = {
    "female": ("she", "her", "hers", "herself"),
    "male": ("he", "him", "his", "himself"),
}

# Emotion words onto labels.tables.EMOTIONS.
EMOTION_CUES: dict[str, dict[str, tuple[str, ...]]] = {
    "angry": {
        "en": ("angry", "anger", "furious", "irritated", "annoyed", "enraged", "angrily", "furiously", "fury",
               "irritation", "annoyance", "frustrated", "frustration", "rage", "irate", "livid", "hostile",
               "outraged", "indignant", "seething"),
        "de": ("wütend", "wut", "verärgert", "zornig", "ärgerlich"),
        "fr": ("colère", "fâché", "fâchée", "furieux", "furieuse", "énervé", "énervée"),
        "it": ("arrabbiato", "arrabbiata", "rabbia", "furioso", "furiosa", "irritato", "irritata"),
        "es": ("enfadado", "enfadada", "enojado", "enojada", "ira", "rabia", "furioso", "furiosa"),
    },
    "happy": {
        "en": ("happy", "happiness", "joy", "joyful", "cheerful", "delighted", "glad", "happily", "joyfully",
               "joyous", "cheerfully", "elated", "excited", "excitedly", "excitement", "upbeat", "thrilled",
               "gleeful", "gleefully", "jubilant", "ecstatic", "merry", "bubbly", "enthusiastic", "enthusiastically",
               "overjoyed", "giddy"),
        "de": ("fröhlich", "glücklich", "freude", "froh", "heiter"),
        "fr": ("joyeux", "joyeuse", "heureux", "heureuse", "joie", "gai", "gaie"),
        "it": ("felice", "gioia", "allegro", "allegra", "contento", "contenta"),
        "es": ("alegre", "feliz", "alegría", "contento", "contenta"),
    },
    "sad": {
        "en": ("sad", "sadness", "sorrowful", "unhappy", "melancholic", "gloomy", "sadly", "sorrow", "melancholy",
               "downcast", "dejected", "tearful", "mournful", "somber", "sombre", "heartbroken", "despondent",
               "depressed", "grief", "grieving", "forlorn", "crestfallen", "heavy-hearted"),
        "de": ("traurig", "trauer", "betrübt", "niedergeschlagen"),
        "fr": ("triste", "tristesse", "mélancolique"),
        "it": ("triste", "tristezza", "malinconico", "malinconica"),
        "es": ("triste", "tristeza", "melancólico", "melancólica"),
    },
    "surprise": {
        "en": ("surprised", "astonished", "amazed", "startled", "astonishment", "amazement", "shocked", "stunned",
               "incredulous", "disbelief"),
        "de": ("überrascht", "überraschung", "erstaunt"),
        "fr": ("surpris", "surprise", "étonné", "étonnée"),
        "it": ("sorpreso", "sorpresa", "stupito", "stupita"),
        "es": ("sorprendido", "sorprendida", "asombrado", "asombrada"),
    },
    # Only "neutral" itself: "calm" fits a sad or a tired voice too, and would reject good answers.
    "neutral": {
        "en": ("neutral", "matter-of-fact", "emotionless", "unemotional", "impassive", "deadpan", "expressionless"),
        "de": ("neutral",),
        "fr": ("neutre",),
        "it": ("neutro", "neutra"),
        "es": ("neutro", "neutra", "neutral"),
    },
    "fear": {
        "en": ("fear", "fearful", "afraid", "scared", "frightened", "terrified", "fearfully", "panicked", "panicky",
               "anxious", "anxiously", "nervous", "nervously", "alarmed", "apprehensive", "uneasy"),
        "de": ("ängstlich", "angst", "verängstigt", "furcht"),
        "fr": ("peur", "apeuré", "apeurée", "effrayé", "effrayée", "craintif", "craintive"),
        "it": ("paura", "spaventato", "spaventata", "impaurito", "impaurita"),
        "es": ("miedo", "asustado", "asustada", "temeroso", "temerosa"),
    },
    "disgust": {
        "en": ("disgust", "disgusted", "revolted", "repulsed", "disgustedly", "revulsion", "grossed out", "distaste"),
        "de": ("angewidert", "ekel", "angeekelt"),
        "fr": ("dégoût", "dégoûté", "dégoûtée", "écœuré", "écœurée"),
        "it": ("disgustato", "disgustata", "disgusto", "schifato", "schifata"),
        "es": ("asco", "asqueado", "asqueada", "disgustado", "disgustada"),
    },
}
# Words (or word pairs) that ask for or describe a pace, a volume or a pitch, per language, by the
# direction they point to (our own lists). The controllable task screens its instructions with
# them, and curation reads them in descriptions and instructions in de, fr, it and es. Only words
# that name the direction unambiguously: English "low" alone may mean quiet, French "doucement"
# slowly as well as softly, so they are left out or listed as the pair that settles it.
SCALE_CUES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "pace": {
        "slow": {
            "en": ("slow", "slowly", "slower", "unhurried", "leisurely", "drawn-out", "drawn out"),
            "de": ("langsam", "langsamer", "langsamen", "gemächlich"),
            "fr": ("lent", "lente", "lentement"),
            "it": ("lento", "lenta", "lentamente"),
            "es": ("lento", "lenta", "lentamente", "despacio", "pausado", "pausada"),
        },
        "fast": {
            "en": ("fast", "faster", "quick", "quickly", "rapid", "rapidly", "hurried", "hurriedly", "brisk",
                   "briskly", "rushed", "rapid-fire"),
            "de": ("schnell", "schneller", "schnellen", "zügig", "rasch", "hastig"),
            "fr": ("vite", "rapide", "rapidement"),
            "it": ("veloce", "velocemente", "rapido", "rapida", "rapidamente"),
            "es": ("rápido", "rápida", "rápidamente", "deprisa"),
        },
    },
    "volume": {
        "quiet": {
            "en": ("quiet", "quietly", "soft", "softly", "whisper", "whispering", "hushed", "soft-spoken", "whispers",
                   "whispered", "murmur", "murmuring", "murmured", "barely audible"),
            "de": ("leise", "leiser", "flüsternd", "gedämpft"),
            "fr": ("voix basse", "chuchotant", "murmurant"),
            "it": ("bassa voce", "sottovoce", "sussurrando"),
            "es": ("voz baja", "susurrando"),
        },
        "loud": {
            "en": ("loud", "loudly", "louder", "shouting", "booming", "shouts", "shouted", "yelling", "yells",
                   "yelled", "screaming", "screams", "bellowing"),
            "de": ("laut", "lauter", "lauten", "schreiend"),
            "fr": ("fort", "voix haute", "criant"),
            "it": ("alta voce", "gridando"),
            "es": ("voz alta", "gritando"),
        },
    },
    "pitch": {
        "low": {
            "en": ("low pitch", "low pitched", "deep voice", "lower pitch", "deeper voice"),
            "de": ("tief", "tiefe", "tiefer", "tiefen", "tiefes"),
            "fr": ("grave", "graves"),
            "it": ("grave", "gravi"),
            "es": ("grave", "graves"),
        },
        "high": {
            "en": ("high pitch", "high pitched", "higher pitch", "shrill"),
            "de": ("hoch", "hohe", "hoher", "hohen", "hohes", "höher"),
            "fr": ("aigu", "aiguë", "aigüe", "aigus", "aiguës"),
            "it": ("acuta", "acuto", "acute", "acuti"),
            "es": ("aguda", "agudo", "agudas", "agudos"),
        },
    },
}
# Where each scale field's label lives in meta (the binned field first, as render.sift_json does).
SCALE_SOURCES: dict[str, tuple[str, ...]] = {
    "pace": ("speaking_speed", "pace"), "volume": ("intensity", "volume"), "pitch": ("pitch",),
}


def scale_side(meta: Mapping[str, str], field: str) -> str | None:
    """Which way the clip's ``field`` (pace, volume, pitch) leans: the ``SCALE_CUES`` direction
    ("slow", "loud", "low"...) of a level below or above the middle of its scale. None at the
    middle, without a label, or when the clip's labels for it disagree (the binned
    ``speaking_speed`` is fitted per dataset, the omni ``pace`` uses fixed thresholds: a clip may
    be "slightly slow" on one and "fast" on the other, and then neither direction is wrong)."""
    sides = set()
    for source in SCALE_SOURCES[field]:
        value = meta_value(meta, source)
        step = scale_step(source, value) if value is not None else None
        if step is None:
            continue
        low, high = SCALE_CUES[field]
        middle = (levels(source) - 1) / 2
        sides.add(low if step < middle else high if step > middle else None)
    return sides.pop() if len(sides) == 1 else None


# Words that negate a cue word up to NEGATION_WINDOW words later ("doesn't sound angry", "isn't a man").
NEGATION_WINDOW = 3
NEGATIONS: tuple[str, ...] = (
    "not", "no", "never", "n't", "isn't", "doesn't", "don't", "nor", "neither", "without", "hardly",
    "than", "instead", "rather", "aren't", "wasn't", "weren't", "didn't", "won't", "can't", "cannot", "less",
    "nicht", "kein", "keine", "keinen", "keiner", "nie", "ohne",
    "pas", "ni", "jamais", "sans", "aucun", "aucune",
    "non", "né", "mai", "senza",
    "nunca", "sin", "tampoco",
)

# What betrays that an answer was written from a description rather than by listening: the word
# "metadata", "according to the description/labels", "as labeled", a JSON key (snake_case word),
# "JSON" itself. Our own patterns, one list per language; matched case-insensitively.
LEAK_PATTERNS: dict[str, tuple[str, ...]] = {
    "any": (
        r"\bjson\b",
        r"\b[^\W\d_]+_[^\W_]+(?:_[^\W_]+)*\b",  # a snake_case key: speaking_speed, acoustic_level, audio_1
    ),
    "en": (
        r"\bmeta[\s-]?data\b",
        r"\baccording to the (?:description|data|labels?|tags?|annotations?|information|provided|given)\b",
        r"\bbased on the (?:description|data|labels?|tags?|annotations?|information|provided|given)\b",
        r"\bthe (?:description|labels?|tags?|annotations?) (?:says?|states?|indicates?|shows?|lists?|mentions?|suggests?)\b",
        r"\b(?:provided|given) (?:description|information|data|labels?|tags?|details)\b",
        r"\b(?:is|are|was|were) (?:labell?ed|tagged|annotated)\b",
        r"\b(?:labell?ed|tagged|annotated) as\b",
    ),
    "de": (
        r"\bmetadaten\b",
        r"\b(?:laut|gemäß|entsprechend) (?:der |den |dem )?(?:beschreibung|angaben|daten|labels?|annotationen?|informationen)\b",
        r"\b(?:der beschreibung|den angaben|den daten) (?:zufolge|nach)\b",
        r"\b(?:angegebenen|bereitgestellten|vorliegenden|gegebenen) (?:daten|informationen|angaben|beschreibung)\b",
        r"\b(?:als \w+ )?(?:gelabelt|annotiert|markiert) (?:als|ist)\b",
    ),
    "fr": (
        r"\bmétadonnées\b",
        r"\b(?:selon|d['’]après) (?:la description|les données|les informations|les étiquettes|les annotations|les indications)\b",
        r"\b(?:données|informations|indications) (?:fournies|indiquées|données)\b",
        r"\bétiquetée?s? comme\b",
    ),
    "it": (
        r"\bmetadati\b",
        r"\b(?:secondo|in base a|stando a)\s+(?:la |le |i |gli |alla |alle |ai |agli )?(?:descrizione|dati|informazioni|etichette|annotazioni)\b",
        r"\b(?:dati|informazioni) (?:forniti|fornite|indicati|indicate)\b",
        r"\betichettat[oaie] come\b",
    ),
    "es": (
        r"\bmetadatos\b",
        r"\b(?:según|de acuerdo con)\s+(?:la |las |los |el )?(?:descripción|datos|información|etiquetas?|anotaciones)\b",
        r"\b(?:datos|información) (?:proporcionad[oa]s?|indicad[oa]s?|dad[oa]s?)\b",
        r"\betiquetad[oa]s? como\b",
    ),
}

# Numbers that quote a time ("at 1.2 seconds", "0:03", "1,5 s"): word-align questions that quote
# them go to their own partition (SIFT-50M found they hurt, REFERENCE.md §2).
TIMESTAMP_PATTERN = (
    r"\b\d+(?:[.,]\d+)?\s*(?:s|sec|secs|seconds?|ms|milliseconds?|sek|sekunden?|millisekunden?|secondes?|"
    r"millisecondes?|secondi|secondo|millisecondi|segundos?|milisegundos?)\b"
    r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"
    r"|\b\d+[.,]\d+\b"
)
