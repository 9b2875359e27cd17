"""Phonemes and syllables of a transcript, offline: CMUdict for English, espeak-ng for the rest.

- **English** (``language`` None, ``en``, ``en-*``, ``eng``): words are looked up in the CMU
  Pronouncing Dictionary bundled with speechsift (``speechsift/data/cmudict.txt.xz``, first
  pronunciation of each of 126k words; BSD-style licence in ``data/cmudict.LICENSE``). Numbers are
  spelled out; a word the dictionary lacks goes through ``letter_to_sound``, a small rule set
  (digraphs, silent final e, common suffixes) whose phoneme count is within about one phoneme
  of CMUdict's on dictionary words (checked in ``tests/features/test_phonemes.py``).
- **Other languages**: ``espeak-ng -q --ipa --sep=_ -v <voice>`` in a subprocess, cached per
  (text, voice). IPA output is used rather than ``-x`` mnemonics because IPA marks vowels
  unambiguously (for syllables). When espeak-ng is not installed, or has no voice for the
  language, the count is ``None`` (the rate is then NaN) and one warning per cause is logged.

Syllables are counted as vowel phonemes (CMUdict vowels carry a stress digit; IPA vowels by
letter), diphthongs once.
"""

from __future__ import annotations

import logging
import lzma
import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

log = logging.getLogger(__name__)

CMUDICT_RESOURCE = "data/cmudict.txt.xz"

# ARPAbet vowels (CMUdict's cmudict.phones, the "vowel" class).
ARPABET_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})

# IPA vowel letters (IPA chart, 2020), including the r-coloured and central vowels espeak emits.
IPA_VOWELS = frozenset("aeiouyɐɑɒɔæɛɜɝɞɘəɚɤɨɪᵻɯɵøœɶʉʊʌʏ")
# IPA marks that belong to a phoneme but are not one: stress, length, tie bars, syllabicity, ...
_IPA_NON_PHONEME = re.compile(r"[ˈˌːˑ‿͜͡\u0300-\u036f\-]")

ESPEAK_TIMEOUT_S = 20.0
# Language codes espeak-ng names differently (ISO 639-1 -> espeak-ng voice).
ESPEAK_ALIASES = {"zh-cn": "cmn", "zh-tw": "cmn", "no": "nb", "iw": "he"}
ENGLISH_CODES = frozenset({"en", "eng", "english"})


@dataclass(frozen=True, slots=True)
class PhonemeCount:
    """How many phonemes and syllables a transcript has, and which G2P counted them."""

    phonemes: int
    syllables: int
    source: str  # "cmudict", "cmudict+rules" (some words by letter-to-sound rules), "espeak-ng"


# --- English: CMUdict + letter-to-sound rules ----------------------------------------------------


@lru_cache(maxsize=1)
def cmudict() -> dict[str, str]:
    """The bundled dictionary: lower-case word -> space-separated ARPAbet phones with stress digits."""
    data = resources.files("speechsift").joinpath(CMUDICT_RESOURCE).read_bytes()
    text = lzma.decompress(data).decode("utf-8")
    return dict(line.split("\t", 1) for line in text.splitlines() if line)


_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


def number_words(n: int) -> str:
    """An integer spelled out in English words ("forty two"); digits read one by one past 10^15."""
    if n < 0:
        return "minus " + number_words(-n)
    if n >= 10**15:
        return " ".join(_ONES[int(d)] for d in str(n))
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for value, name in _SCALES:
        if n >= value:
            head, rest = divmod(n, value)
            return f"{number_words(head)} {name}" + ("" if rest == 0 else " " + number_words(rest))
    raise AssertionError("unreachable")


# Letter-to-sound rules for words CMUdict lacks: (pattern, phones), longest pattern first at each
# position. Hand-written from the usual English spelling-to-sound correspondences; they aim at the
# right *number* of phonemes and syllables (what a speaking rate needs), not an exact transcription.
_LTS_RULES: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (pattern, tuple(phones.split()))
    for pattern, phones in (
        ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ture", "CH ER"), ("ough", "AO"), ("augh", "AO"),
        ("eigh", "EY"), ("igh", "AY"), ("tch", "CH"), ("dge", "JH"), ("sch", "S K"), ("que", "K"),
        ("ph", "F"), ("sh", "SH"), ("ch", "CH"), ("th", "TH"), ("wh", "W"), ("ck", "K"), ("ng", "NG"),
        ("qu", "K W"), ("gh", ""), ("ee", "IY"), ("ea", "IY"), ("oo", "UW"), ("ou", "AW"), ("ow", "OW"),
        ("oi", "OY"), ("oy", "OY"), ("ai", "EY"), ("ay", "EY"), ("au", "AO"), ("aw", "AO"), ("ie", "IY"),
        ("ei", "EY"), ("ey", "IY"), ("oa", "OW"), ("ue", "UW"), ("ew", "UW"), ("ui", "UW"), ("ar", "AA R"),
        ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("or", "AO R"), ("a", "AE"), ("e", "EH"), ("i", "IH"),
        ("o", "AA"), ("u", "AH"), ("b", "B"), ("c", "K"), ("d", "D"), ("f", "F"), ("g", "G"), ("h", "HH"),
        ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("p", "P"), ("q", "K"), ("r", "R"),
        ("s", "S"), ("t", "T"), ("v", "V"), ("w", "W"), ("x", "K S"), ("z", "Z"),
    )
)
_LTS_BY_FIRST: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    first: tuple(sorted((r for r in _LTS_RULES if r[0][0] == first), key=lambda r: -len(r[0])))
    for first in {pattern[0] for pattern, _ in _LTS_RULES}
}
_VOWEL_LETTERS = frozenset("aeiouy")


def letter_to_sound(word: str) -> tuple[str, ...]:
    """ARPAbet phones (no stress digits) for a lower-case a-z word, by spelling rules."""
    w = re.sub(r"[^a-z]", "", word.lower())
    if not w:
        return ()
    w = re.sub(r"([bcdfgklmnprstvz])\1", r"\1", w)  # doubled consonants are one sound
    if w.startswith(("kn", "gn", "wr", "ps")):  # silent first letter
        w = w[1:]
    if w.endswith("mb"):
        w = w[:-1]
    suffix: tuple[str, ...] = ()
    if len(w) > 3 and w.endswith("ed"):  # past tense: -ed is /ɪd/ after t or d, else one consonant
        suffix = ("IH", "D") if w[-3] in "td" else ("D",)
        w = w[:-2]
    elif len(w) > 3 and w.endswith("es") and w[-3] in "sxz":
        suffix, w = ("IH", "Z"), w[:-2]
    elif len(w) > 3 and w.endswith("le") and w[-3] not in _VOWEL_LETTERS:  # table, little
        suffix, w = ("AH", "L"), w[:-2]
    if len(w) > 2 and w.endswith("e") and w[-2] not in _VOWEL_LETTERS and any(c in _VOWEL_LETTERS for c in w[:-2]):
        w = w[:-1]  # silent final e (make, hope)
    phones: list[str] = []
    i = 0
    while i < len(w):
        c = w[i]
        if c == "y":  # consonant before a vowel at the start, a vowel elsewhere
            nxt = w[i + 1] if i + 1 < len(w) else ""
            phones.append("Y" if i == 0 and nxt in _VOWEL_LETTERS else ("IY" if i == len(w) - 1 else "IH"))
            i += 1
            continue
        for pattern, out in _LTS_BY_FIRST.get(c, ()):
            if w.startswith(pattern, i):
                if pattern == "gh" and i == 0:
                    out = ("G",)
                phones.extend(out)
                i += len(pattern)
                break
        else:
            i += 1
    return tuple(phones) + suffix


_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+(?:[.,]\d+)*")


def _ascii_lower(text: str) -> str:
    """Lower case with accents stripped (café -> cafe) and a few symbols read out."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return text.replace("&", " and ").replace("%", " percent ").replace("’", "'")


def _expand_number(token: str) -> list[str]:
    if "." in token:  # 3.14 -> three point one four
        whole, _, frac = token.replace(",", "").partition(".")
        return number_words(int(whole or 0)).split() + ["point"] + [_ONES[int(d)] for d in frac if d.isdigit()]
    return number_words(int(token.replace(",", ""))).split()


def english_words(text: str) -> list[str]:
    """The words a reader says for ``text``: lower case, numbers spelled out, punctuation dropped."""
    words: list[str] = []
    for token in _TOKEN.findall(_ascii_lower(text)):
        words.extend(_expand_number(token) if token[0].isdigit() else [token])
    return words


def english_word_phonemes(word: str) -> tuple[tuple[str, ...], bool]:
    """``(phones, from_dictionary)`` for one lower-case word; phones keep CMUdict's stress digits."""
    entry = cmudict().get(word)
    if entry is not None:
        return tuple(entry.split()), True
    if word.endswith("'s"):  # possessive of a known word
        base = cmudict().get(word[:-2])
        if base is not None:
            return tuple(base.split()) + ("Z",), True
    return letter_to_sound(word), False


def english_phonemes(text: str) -> tuple[list[str], bool]:
    """``(phones, all_from_dictionary)`` for an English transcript."""
    phones: list[str] = []
    known = True
    for word in english_words(text):
        word_phones, found = english_word_phonemes(word)
        phones.extend(word_phones)
        known &= found
    return phones, known


def count_english(text: str) -> PhonemeCount | None:
    phones, known = english_phonemes(text)
    if not phones:
        return None
    syllables = sum(1 for p in phones if p.rstrip("012") in ARPABET_VOWELS)
    return PhonemeCount(len(phones), syllables, "cmudict" if known else "cmudict+rules")


# --- other languages: espeak-ng ------------------------------------------------------------------


@lru_cache(maxsize=1)
def espeak_binary() -> str | None:
    """Path of the espeak-ng executable, or None when it is not installed."""
    return shutil.which("espeak-ng")


_OTHER_LANGUAGE = re.compile(r"\(([^\s()]+) \d+\)")


def parse_voices(listing: str) -> frozenset[str]:
    """Language codes in ``espeak-ng --voices`` output: each voice's language (second column) and
    the other languages it serves, in parentheses (``(fr 5)``); all are valid ``-v`` arguments."""
    codes: set[str] = set()
    for line in listing.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 1:
            codes.add(fields[1].lower())
            codes.update(code.lower() for code in _OTHER_LANGUAGE.findall(line))
    return frozenset(codes)


@lru_cache(maxsize=1)
def espeak_languages() -> frozenset[str]:
    """Language codes espeak-ng has a voice for (``parse_voices``); empty without espeak-ng."""
    binary = espeak_binary()
    if binary is None:
        return frozenset()
    try:
        listing = subprocess.run([binary, "--voices"], capture_output=True, text=True, check=True,
                                 timeout=ESPEAK_TIMEOUT_S).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("espeak-ng --voices failed (%s); non-English speaking rates will be missing", exc)
        return frozenset()
    return parse_voices(listing)


def espeak_voice(language: str) -> str | None:
    """The espeak-ng voice for a language code (``de``, ``pt-BR``, ``fr_FR``), or None."""
    code = language.strip().lower().replace("_", "-")
    code = ESPEAK_ALIASES.get(code, code)
    available = espeak_languages()
    if code in available:
        return code
    base = ESPEAK_ALIASES.get(code.split("-")[0], code.split("-")[0])
    return base if base in available else None


_warned: set[str] = set()


def _warn_once(key: str, message: str, *args: object) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message, *args)


@lru_cache(maxsize=65_536)
def espeak_phonemes(text: str, voice: str) -> tuple[str, ...] | None:
    """IPA phonemes espeak-ng says for ``text`` with ``voice`` (stress and length marks removed).

    None when espeak-ng is missing or fails. Cached per (text, voice): one subprocess per new text.
    """
    binary = espeak_binary()
    if binary is None:
        return None
    try:
        result = subprocess.run([binary, "-q", "--ipa", "--sep=_", "-v", voice, "--stdin"],
                                input=" ".join(text.split()), capture_output=True, text=True, check=True,
                                timeout=ESPEAK_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        _warn_once(f"fail:{voice}", "espeak-ng failed for voice %s (%s); those speaking rates are missing",
                   voice, exc)
        return None
    phonemes = []
    for word in result.stdout.split():
        for token in word.split("_"):
            token = _IPA_NON_PHONEME.sub("", token)
            if any(unicodedata.category(c).startswith("L") for c in token):
                phonemes.append(token)
    return tuple(phonemes)


def _is_ipa_vowel(phoneme: str) -> bool:
    return next((c in IPA_VOWELS for c in phoneme if unicodedata.category(c).startswith("L")), False)


def count_espeak(text: str, language: str) -> PhonemeCount | None:
    if espeak_binary() is None:
        _warn_once("missing", "espeak-ng is not installed: speaking rates for non-English clips are missing "
                   "(apt-get install espeak-ng)")
        return None
    voice = espeak_voice(language)
    if voice is None:
        _warn_once(f"voice:{language}", "espeak-ng has no voice for language %r: its speaking rates are missing",
                   language)
        return None
    phonemes = espeak_phonemes(text, voice)
    if not phonemes:
        return None
    return PhonemeCount(len(phonemes), sum(1 for p in phonemes if _is_ipa_vowel(p)), "espeak-ng")


def is_english(language: str | None) -> bool:
    """True for None (speechsift's default language) and English codes (``en``, ``en-GB``, ``eng``)."""
    if language is None:
        return True
    code = language.strip().lower().replace("_", "-")
    return code in ENGLISH_CODES or code.split("-")[0] in ENGLISH_CODES


def count_phonemes(text: str | None, language: str | None = None) -> PhonemeCount | None:
    """Phonemes and syllables of a transcript; None when there is nothing to count or no G2P for
    the language (see the module docstring)."""
    if text is None or not text.strip():
        return None
    if is_english(language):
        return count_english(text)
    return count_espeak(text, language)  # type: ignore[arg-type]
