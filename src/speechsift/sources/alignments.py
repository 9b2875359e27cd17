"""Word timings that come with a corpus: Praat TextGrid, CTM and JSON, read as one shape.

Every reader returns words as ``[{"word": str, "start_s": float, "end_s": float}, ...]`` in time
order, which is what ``Clip.extra["words"]`` holds (the enrich stage adds per-word
``f0_median_hz`` / ``relative_db``; the ``word_align`` task reads them).

- **TextGrid** (Praat; Montreal Forced Aligner writes one per utterance): the long ("ooTextFile")
  and the short text formats, UTF-8 or UTF-16. Words come from the tier named ``words`` or
  ``word`` (any case; MFA's multi-speaker ``"<speaker> - words"`` too), or the tier you name.
- **CTM** (NIST; Kaldi and many aligners): ``<utterance> <channel> <start> <duration> <word>
  [<confidence>]`` per line, ``;;`` comments; one file may hold many utterances.
- **JSON**: a list ``[{"word", "start", "end"}]`` (``start_s``/``end_s`` and ``text`` accepted),
  or an object with such a list under ``"words"`` (WhisperX-style segments are not read).

Intervals that are not words are left out: empty text and the aligners' silence and noise marks
(``SILENCE_MARKS``). A malformed file raises ``CorpusError`` naming the file, the line or entry,
and what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from speechsift.errors import CorpusError
from speechsift.records import Clip

# Marks aligners write for what is not a word: MFA ("", "sil", "sp", "spn"), Kaldi ("<eps>",
# "<sil>", "!SIL", "<noise>", "[noise]"), and the usual laughter/noise tags.
SILENCE_MARKS = frozenset({"", "sil", "sp", "spn", "<eps>", "<sil>", "!sil", "<noise>", "[noise]", "<spn>",
                           "[laughter]", "<laughter>", "[silence]", "<silence>"})

Word = dict[str, Any]


def _word(text: str, start: float, end: float, where: str) -> Word | None:
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end < start:
        raise CorpusError(f"{where}: bad word timing start={start} end={end} (need 0 <= start <= end)")
    word = " ".join(str(text).split())
    if word.lower() in SILENCE_MARKS:
        return None
    return {"word": word, "start_s": round(float(start), 6), "end_s": round(float(end), 6)}


def _sorted(words: Iterable[Word | None]) -> list[Word]:
    return sorted((w for w in words if w is not None), key=lambda w: (w["start_s"], w["end_s"]))


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot read the alignment file ({exc})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError(f"{path}: the alignment file is neither UTF-8 nor UTF-16") from None


# --- TextGrid -------------------------------------------------------------------------------

# A TextGrid as a stream of values: quoted strings ("" is an escaped quote), numbers, and the
# <exists> flag. Keys ("xmin =", "intervals [3]:") are skipped, so one reader serves the long
# and the short format.
_TOKEN = re.compile(r'"(?:[^"]|"")*"|\[\d*\]|<exists>|<absent>|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?')


class _Stream:
    def __init__(self, text: str, origin: str) -> None:
        self.tokens = [t for t in _TOKEN.findall(text) if not t.startswith("[")]
        self.at = 0
        self.origin = origin

    def _next(self) -> str:
        if self.at >= len(self.tokens):
            raise CorpusError(f"{self.origin}: the TextGrid ends early (truncated file?)")
        token = self.tokens[self.at]
        self.at += 1
        return token

    def string(self) -> str:
        token = self._next()
        if not token.startswith('"'):
            raise CorpusError(f"{self.origin}: expected a quoted string in the TextGrid, found {token!r}")
        return token[1:-1].replace('""', '"')

    def number(self) -> float:
        token = self._next()
        try:
            return float(token)
        except ValueError:
            raise CorpusError(f"{self.origin}: expected a number in the TextGrid, found {token!r}") from None

    def flag(self) -> None:
        if self.at < len(self.tokens) and self.tokens[self.at] in ("<exists>", "<absent>"):
            self.at += 1


def parse_textgrid(text: str, *, tier: str | None = None, origin: str = "<TextGrid>") -> list[Word]:
    """The words of a TextGrid's word tier (``tier`` names another one)."""
    stream = _Stream(text, origin)
    if stream.string() != "ooTextFile" or stream.string() != "TextGrid":
        raise CorpusError(f"{origin}: not a Praat TextGrid (expected 'File type = \"ooTextFile\"', 'Object class = \"TextGrid\"')")
    stream.number(), stream.number()  # xmin, xmax of the grid
    stream.flag()
    tiers: dict[str, list[tuple[str, float, float]]] = {}
    for _ in range(int(stream.number())):
        kind, name = stream.string(), stream.string()
        stream.number(), stream.number()
        count = int(stream.number())
        items: list[tuple[str, float, float]] = []
        for _ in range(count):
            if kind == "IntervalTier":
                start, end = stream.number(), stream.number()
                items.append((stream.string(), start, end))
            else:  # TextTier: points (time, mark)
                time = stream.number()
                items.append((stream.string(), time, time))
        if kind == "IntervalTier":
            tiers[name] = items
    chosen = _word_tier(tiers, tier, origin)
    return _sorted(_word(t, s, e, f"{origin} tier {chosen!r} interval {i + 1}") for i, (t, s, e) in enumerate(tiers[chosen]))


def _word_tier(tiers: dict[str, Any], tier: str | None, origin: str) -> str:
    names = list(tiers)
    if tier is not None:
        if tier in tiers:
            return tier
        raise CorpusError(f"{origin}: no interval tier named {tier!r}; the tiers are {', '.join(names) or 'none'}")
    for name in names:
        if name.strip().lower() in ("words", "word"):
            return name
    for name in names:
        if name.strip().lower().endswith(("- words", "-words", " words")):
            return name
    raise CorpusError(
        f"{origin}: no word tier (named 'words' or 'word'); the interval tiers are {', '.join(names) or 'none'}. "
        "Name the tier to read with tier=..."
    )


def read_textgrid(path: str | Path, *, tier: str | None = None) -> list[Word]:
    path = Path(path)
    return parse_textgrid(_read_text(path), tier=tier, origin=str(path))


# --- CTM ------------------------------------------------------------------------------------


def parse_ctm(text: str, *, origin: str = "<CTM>") -> dict[str, list[Word]]:
    """Words per utterance id, in time order."""
    by_utterance: dict[str, list[Word | None]] = defaultdict(list)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(";;"):
            continue
        fields = stripped.split()
        if len(fields) < 5:
            raise CorpusError(
                f"{origin} line {number}: expected '<utterance> <channel> <start> <duration> <word> [<confidence>]', "
                f"got {stripped!r}"
            )
        try:
            start, duration = float(fields[2]), float(fields[3])
        except ValueError:
            raise CorpusError(f"{origin} line {number}: start and duration must be numbers, got {fields[2]!r} {fields[3]!r}") from None
        if duration < 0:
            raise CorpusError(f"{origin} line {number}: negative duration {duration}")
        by_utterance[fields[0]].append(_word(fields[4], start, start + duration, f"{origin} line {number}"))
    return {utt: _sorted(words) for utt, words in by_utterance.items()}


def read_ctm(path: str | Path) -> dict[str, list[Word]]:
    path = Path(path)
    return parse_ctm(_read_text(path), origin=str(path))


# --- JSON -----------------------------------------------------------------------------------


def _number(entry: dict[str, Any], keys: tuple[str, ...], where: str) -> float:
    for key in keys:
        if key in entry:
            value = entry[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise CorpusError(f"{where}: {key} must be a number, got {value!r}")
            return float(value)
    raise CorpusError(f"{where}: missing {' or '.join(keys)}")


def parse_word_json(data: Any, *, origin: str = "<JSON>") -> list[Word]:
    """Words from ``[{"word", "start", "end"}]`` or ``{"words": [...]}``."""
    if isinstance(data, dict) and isinstance(data.get("words"), list):
        data = data["words"]
    if not isinstance(data, list):
        raise CorpusError(f"{origin}: expected a list of {{\"word\", \"start\", \"end\"}} objects (or {{\"words\": [...]}})")
    words = []
    for i, entry in enumerate(data):
        where = f"{origin} entry {i}"
        if not isinstance(entry, dict):
            raise CorpusError(f"{where}: expected an object, got {entry!r}")
        text = entry.get("word", entry.get("text"))
        if not isinstance(text, str):
            raise CorpusError(f"{where}: missing the word (key 'word')")
        words.append(_word(text, _number(entry, ("start", "start_s"), where), _number(entry, ("end", "end_s"), where), where))
    return _sorted(words)


def read_word_json(path: str | Path) -> list[Word]:
    path = Path(path)
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise CorpusError(f"{path}: not valid JSON ({exc})") from None
    return parse_word_json(data, origin=str(path))


# --- one entry point ------------------------------------------------------------------------


def read_alignment(path: str | Path, *, utterance: str | None = None, tier: str | None = None) -> list[Word]:
    """The words of one utterance from a TextGrid, CTM or JSON file (by extension).

    A CTM file may hold many utterances: name one with ``utterance`` (a file with a single
    utterance needs none).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".textgrid":
        return read_textgrid(path, tier=tier)
    if suffix == ".json":
        return read_word_json(path)
    if suffix == ".ctm":
        table = read_ctm(path)
        if utterance is None:
            if len(table) == 1:
                return next(iter(table.values()))
            raise CorpusError(f"{path}: the CTM holds {len(table)} utterances; name one with utterance=...")
        if utterance not in table:
            raise CorpusError(f"{path}: no utterance {utterance!r} in the CTM")
        return table[utterance]
    raise CorpusError(f"{path}: unknown alignment format {suffix!r}; use .TextGrid, .ctm or .json")


def attach_words(clip: Clip, words: list[Word]) -> Clip:
    """A copy of ``clip`` whose ``extra["words"]`` holds ``words``."""
    return replace(clip, extra={**clip.extra, "words": words})


__all__ = ["SILENCE_MARKS", "attach_words", "parse_ctm", "parse_textgrid", "parse_word_json", "read_alignment",
           "read_ctm", "read_textgrid", "read_word_json"]
