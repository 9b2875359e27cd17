"""Language and script of the response, against the language it should be written in.

That language is ``tasks.base.written_language``: the clip's own for a target taken from the
corpus (a transcript), and for text a backend wrote the language the tasks write in (the clip's
when it is one of en, de, fr, it, es; English otherwise: the prompts ask for it, the templates
write it). For an audio target (controllable generation) the text checked is the instruction.

Language identification uses Lingua (``lingua-language-detector``, Apache-2.0; Rust core, offline
n-gram models shipped in the wheel) restricted to a configurable set of languages (default the
SIFT-50M five: en, de, fr, it, es). Why Lingua over langid.py: it is built for short texts,
which is what speech responses are (Lingua's published benchmark is per single words, word pairs
and sentences; langid.py is tuned on documents: on our check sentences it called "Sounds like an
older man saying \"buenos dias amigo\" slowly." Spanish), it loads at once (langid takes 5 s),
and it is fast enough (measured on one core, CPU time, one-sentence responses: Lingua high-accuracy
2,900/s, low-accuracy 6,800/s; langid 7,200/s). ``high`` accuracy is the default: low-accuracy
mode (trigrams only) misjudges short plain sentences with high confidence ("my brother won my
siege": German, 0.92; "he can't find my administration this weekend": French, 0.99), which high
mode gets right. A response judged in the wrong language is dropped only when Lingua is confident
(``min_confidence``) and the text has enough words.

Lingua costs about 350 µs per response in high-accuracy mode, several times every other scorer
together, so a fast path comes first: when the response's own words (quotes
removed) are clearly those of the example's language by a table of frequent words
(``data/curate/common_words.yaml``: at least two of them, at least a fifth of the words, and at
least three times as many as any other language's), the response is accepted as written in its
language without Lingua (``language_method = "common_words"``, no confidence). Everything else —
every response in another language, and every doubtful one — goes to Lingua
(``language_method = "lingua"``). The fast path can only accept, never reject, so it cannot add a
wrong_language drop; ``fast_path=False`` sends everything to Lingua.

The script check needs no model: the share of the response's letters written in the script(s) of
the example's language (a Russian clip answered in Latin letters, an English one in Han). It
catches what a language identifier restricted to Latin-script languages cannot see.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import ResponseText, load_yaml, require, written_language
from speechsift.labels.normalize import UnknownLabel, normalize_language
from speechsift.records import Example

DEFAULT_LANGUAGES = ("en", "de", "fr", "it", "es")

# Unicode blocks holding each script's letters (Unicode 15 block chart); a letter outside every
# range is "other".
_SCRIPT_BLOCKS: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "latin"), (0x0370, 0x03FF, "greek"), (0x0400, 0x052F, "cyrillic"),
    (0x0530, 0x058F, "armenian"), (0x0590, 0x05FF, "hebrew"), (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"), (0x08A0, 0x08FF, "arabic"), (0x0900, 0x097F, "devanagari"),
    (0x0980, 0x09FF, "bengali"), (0x0A00, 0x0A7F, "gurmukhi"), (0x0A80, 0x0AFF, "gujarati"),
    (0x0B80, 0x0BFF, "tamil"), (0x0C00, 0x0C7F, "telugu"), (0x0C80, 0x0CFF, "kannada"),
    (0x0D00, 0x0D7F, "malayalam"), (0x0E00, 0x0E7F, "thai"), (0x10A0, 0x10FF, "georgian"),
    (0x1100, 0x11FF, "hangul"), (0x1200, 0x137F, "ethiopic"), (0x1C80, 0x1C8F, "cyrillic"),
    (0x1E00, 0x1EFF, "latin"), (0x1F00, 0x1FFF, "greek"), (0x2C60, 0x2C7F, "latin"),
    (0x2DE0, 0x2DFF, "cyrillic"), (0x2E80, 0x2FDF, "han"), (0x3040, 0x30FF, "kana"),
    (0x3130, 0x318F, "hangul"), (0x31F0, 0x31FF, "kana"), (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"), (0xA640, 0xA69F, "cyrillic"), (0xA720, 0xA7FF, "latin"),
    (0xAB30, 0xAB6F, "latin"), (0xAC00, 0xD7AF, "hangul"), (0xF900, 0xFAFF, "han"),
    (0xFB1D, 0xFB4F, "hebrew"), (0xFB50, 0xFDFF, "arabic"), (0xFE70, 0xFEFF, "arabic"),
    (0xFF21, 0xFF5A, "latin"), (0xFF66, 0xFF9F, "kana"), (0x20000, 0x2FFFF, "han"),
)
_BLOCK_STARTS = [start for start, _, _ in _SCRIPT_BLOCKS]

_LATIN = (
    "af", "ca", "cs", "cy", "da", "de", "en", "eo", "es", "et", "eu", "fi", "fil", "fr", "ga", "gl", "hr", "hu", "id",
    "is", "it", "lt", "lv", "ms", "mt", "nl", "no", "nb", "nn", "pl", "pt", "ro", "sk", "sl", "sq", "sv", "sw", "tl",
    "tr", "uz", "vi", "yo", "zu",
)
# The script(s) a language is written in (ISO 639-1 codes; "ja" mixes kanji and kana).
LANGUAGE_SCRIPTS: dict[str, frozenset[str]] = {
    **{code: frozenset({"latin"}) for code in _LATIN},
    **{code: frozenset({"cyrillic"}) for code in ("ru", "uk", "bg", "be", "mk", "sr", "kk", "mn", "ky")},
    "el": frozenset({"greek"}), "hy": frozenset({"armenian"}), "he": frozenset({"hebrew"}),
    "yi": frozenset({"hebrew"}), "ar": frozenset({"arabic"}), "fa": frozenset({"arabic"}),
    "ur": frozenset({"arabic"}), "ps": frozenset({"arabic"}), "hi": frozenset({"devanagari"}),
    "mr": frozenset({"devanagari"}), "ne": frozenset({"devanagari"}), "bn": frozenset({"bengali"}),
    "pa": frozenset({"gurmukhi"}), "gu": frozenset({"gujarati"}), "ta": frozenset({"tamil"}),
    "te": frozenset({"telugu"}), "kn": frozenset({"kannada"}), "ml": frozenset({"malayalam"}),
    "th": frozenset({"thai"}), "ka": frozenset({"georgian"}), "am": frozenset({"ethiopic"}),
    "ko": frozenset({"hangul", "han"}), "zh": frozenset({"han"}), "ja": frozenset({"han", "kana"}),
}

_ASCII_LETTER = re.compile(r"[A-Za-z]")

# Fast-path acceptance (see the module docstring).
FAST_MIN_HITS = 2
FAST_MIN_SHARE = 0.2
FAST_MARGIN = 3.0


def load_common_words() -> dict[str, str]:
    """``{word: language}`` from common_words.yaml, without the words listed under two languages."""
    table: dict[str, list[str]] = load_yaml("common_words.yaml")
    owners: dict[str, set[str]] = {}
    for language, words in table.items():
        for word in words:
            owners.setdefault(str(word).lower(), set()).add(language)
    return {word: next(iter(langs)) for word, langs in owners.items() if len(langs) == 1}


def base_language(code: str | None) -> str | None:
    """``"en"`` for ``"en"``, ``"en-US"``, ``"en_GB"``, ``"EN"``, ``"English"``; None for None or
    empty (``labels.normalize.normalize_language``; a code it does not know stays its subtag)."""
    if not code:
        return None
    try:
        return normalize_language(code)
    except UnknownLabel as unknown:
        return unknown.kept


def script_of(char: str) -> str:
    code = ord(char)
    if code < 0x250:
        return "latin" if (0x41 <= code <= 0x24F) else "other"
    i = bisect.bisect_right(_BLOCK_STARTS, code) - 1
    if i >= 0:
        _, end, script = _SCRIPT_BLOCKS[i]
        if code <= end:
            return script
    return "other"


_LETTER = re.compile(r"[^\W\d_]")
_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z\u00C0-\u024F\u1E00-\u1EFF]")


def script_profile(text: str) -> tuple[str | None, Counter[str]]:
    """The dominant script of ``text``'s letters and the count of letters per script."""
    if text.isascii():
        # Only the proportion matters: every ASCII letter is Latin.
        return ("latin", Counter({"latin": 1})) if _ASCII_LETTER.search(text) else (None, Counter())
    letters = len(_LETTER.findall(text))
    if not letters:
        return None, Counter()
    others = _NON_LATIN_LETTER.findall(text)
    counts = Counter(script_of(c) for c in others)
    if letters > len(others):
        counts["latin"] += letters - len(others)
    return counts.most_common(1)[0][0], counts


class LanguageScorer(Scorer):
    """``language_detected`` (ISO 639-1, among ``languages``), ``language_confidence`` (Lingua's,
    0..1), ``language_match`` (detected == the example's language; null when the example's
    language is outside ``languages`` or the text is shorter than ``min_words``),
    ``language_script`` (dominant script of the letters) and ``language_script_ratio`` (share of
    letters in the example language's script; null for languages without a known script)."""

    name = "language"
    columns: ClassVar[dict[str, ColumnType]] = {
        "language_detected": "str",
        "language_confidence": "float",
        "language_match": "bool",
        "language_script": "str",
        "language_script_ratio": "float",
        "language_method": "str",
    }

    def __init__(self, languages: Sequence[str] = DEFAULT_LANGUAGES, *, accuracy: str = "high",
                 min_words: int = 3, max_chars: int = 300, detect: bool = True, fast_path: bool = True) -> None:
        self.languages = tuple(dict.fromkeys(base_language(code) for code in languages if base_language(code)))
        self.accuracy = accuracy
        self.min_words = min_words
        self.max_chars = max_chars
        self.detect = detect and len(self.languages) >= 2
        if self.detect:
            require("lingua", "lingua-language-detector", "curate.language_check")
        self._detector = None
        self._codes: dict[object, str] = {}
        self.common = load_common_words() if fast_path else {}

    def _lingua(self):
        if self._detector is None:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            isos = []
            for code in self.languages:
                try:
                    isos.append(IsoCode639_1.from_str(code))
                except ValueError:
                    raise ValueError(f"curate.languages: Lingua does not know the language {code!r}") from None
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(*isos)
            if self.accuracy == "low":
                builder = builder.with_low_accuracy_mode()
            self._detector = builder.with_preloaded_language_models().build()
            self._codes = {Language.from_iso_code_639_1(iso): iso.name.lower() for iso in isos}
        return self._detector

    def memo_key(self, example: Example, text: ResponseText) -> Hashable:
        return text.raw, written_language(example)

    def score(self, example: Example, text: ResponseText) -> Scores:
        if text.empty:
            return {}
        expected = base_language(written_language(example))
        scores: Scores = {}
        body = text.text[: self.max_chars]
        script, counts = script_profile(body)
        scores["language_script"] = script
        accepted = LANGUAGE_SCRIPTS.get(expected) if expected else None
        if accepted is not None and counts:
            total = sum(counts.values())
            scores["language_script_ratio"] = sum(n for s, n in counts.items() if s in accepted) / total
        if not self.detect or len(text.words) < self.min_words:
            return scores
        if expected in self.languages and self._clearly(expected, text):
            scores.update(language_detected=expected, language_match=True, language_method="common_words")
            return scores
        body = text.unquoted_lower if len(text.unquoted_words) >= self.min_words else text.lower
        values = self._lingua().compute_language_confidence_values(body[: self.max_chars])
        scores["language_method"] = "lingua"
        if values and values[0].value > 0.0:
            detected = self._codes[values[0].language]
            scores["language_detected"] = detected
            scores["language_confidence"] = values[0].value
            if expected in self.languages:
                scores["language_match"] = detected == expected
        return scores

    def _clearly(self, expected: str, text: ResponseText) -> bool:
        """The response's own words are clearly ``expected``'s (the fast path)."""
        common = self.common
        if not common:
            return False
        words = text.unquoted_words
        if not words:
            return False
        hits: dict[str, int] = {}
        for word in words:
            language = common.get(word)
            if language is not None:
                hits[language] = hits.get(language, 0) + 1
        own = hits.pop(expected, 0)
        if own < FAST_MIN_HITS or own < FAST_MIN_SHARE * len(words):
            return False
        return not hits or own >= FAST_MARGIN * max(hits.values())
