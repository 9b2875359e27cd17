"""Screening what an LLM wrote against the clip it was written for (the Q/A families and the
other SIFT families reuse it).

What ``finish`` refuses (``screen_pairs``), and why:

- ``unparseable_json`` / ``no_pairs``: no JSON line, or none with both ``q`` and ``a``: the whole
  answer is rejected.
- ``metadata_leak``: a question or answer that gives away that it was written from a description
  ("according to the metadata", "labeled as", a JSON key such as ``speaking_speed``). Only that
  pair is dropped: the other pairs are not affected by one careless phrase.
- ``contradicts_labels``: an answer that says "a woman"/"she" for a male clip, or names another
  emotion than the clip's (words of the transcript itself, and negated words, do not count). The
  whole answer is rejected: a model that misread the labels once is not trusted for the rest, and
  a fresh request is cheap.
- ``duplicate`` (the same question twice) and ``over_limit`` (pairs beyond ``max_pairs``): dropped.

When every pair is dropped the answer is rejected with the most frequent drop reason. Drops of
kept answers are counted on the first example of the answer, in ``quality`` under
``dropped.<reason>`` (with ``pairs.parsed`` and ``pairs.kept``); ``dropped_counts`` sums them.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from speechsift.errors import Reject
from speechsift.labels import i18n
from speechsift.labels.tables import EMOTIONS
from speechsift.llm.parse import ParseError, parse_json_lines, strip_fences
from speechsift.records import Example

DROPPED_PREFIX = "dropped."

_LEAK = re.compile("|".join(p for patterns in i18n.LEAK_PATTERNS.values() for p in patterns), re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_TIMESTAMP = re.compile(i18n.TIMESTAMP_PATTERN, re.IGNORECASE)


def _cue_table(table: Mapping[str, Mapping[str, Sequence[str]]]) -> dict[str, str]:
    return {word.casefold(): key for key, per_language in table.items() for words in per_language.values() for word in words}


_GENDER_CUES = _cue_table(i18n.GENDER_CUES)
_EMOTION_CUES = _cue_table(i18n.EMOTION_CUES)
_PRONOUNS = {w: g for g, words in i18n.GENDER_PRONOUNS.items() for w in words}
_NEGATIONS = frozenset(i18n.NEGATIONS)
_OPPOSITE = {"male": "female", "female": "male"}


def _scale_cues() -> dict[str, dict[tuple[str, ...], str]]:
    """Per scale field (pace, volume, pitch): the words of each cue -> its direction."""
    return {field: {tuple(words_of(cue)): direction for direction, per_language in directions.items()
                    for cues in per_language.values() for cue in cues}
            for field, directions in i18n.SCALE_CUES.items()}


def words_of(text: str) -> list[str]:
    """Lower-cased words; elisions are split ("l'homme" -> l, homme), "n't" stays a negation."""
    out: list[str] = []
    for token in _WORD.findall(text.casefold()):
        if "'" in token or "’" in token:
            if token.endswith(("n't", "n’t")):
                out.append("n't")
                continue
            out.extend(t for t in re.split(r"['’]", token) if t)
        else:
            out.append(token)
    return out


_SCALE_CUES = _scale_cues()


def leaks_metadata(text: str) -> bool:
    """True when ``text`` gives away that it was written from metadata (``i18n.LEAK_PATTERNS``)."""
    return _LEAK.search(text) is not None


def quotes_timestamp(text: str) -> bool:
    """True when ``text`` quotes a time ("at 1.2 s", "0:03")."""
    return _TIMESTAMP.search(text) is not None


def _negated(words: Sequence[str], i: int) -> bool:
    return any(w in _NEGATIONS for w in words[max(0, i - i18n.NEGATION_WINDOW):i])


@dataclass(frozen=True)
class Screen:
    """The labels an answer is checked against: gender and emotion (None: not checked), the
    directions of pace, volume and pitch that would contradict the clip (``scales``: checked for
    instructions that describe the voice, see ``of``), and the transcript, whose own words never
    count as contradictions. A cue word after a negation ("isn't a man") does not count."""

    gender: str | None = None
    emotion: str | None = None
    transcript_words: frozenset[str] = frozenset()
    scales: tuple[tuple[str, str], ...] = ()  # (field, the direction that contradicts the clip)

    @classmethod
    def of(cls, meta: Mapping[str, str] | None, transcript: str | None, *, voice: bool = False) -> Screen:
        """The screen for a clip's labels; ``voice`` adds pace, volume and pitch (an instruction
        asking for the clip's voice must not ask for the opposite of any of its labels)."""
        meta = meta or {}
        gender = meta.get("gender")
        emotion = meta.get("emotion")
        scales: tuple[tuple[str, str], ...] = ()
        if voice:
            for field, directions in i18n.SCALE_CUES.items():
                side = i18n.scale_side(meta, field)
                if side is not None:
                    low, high = directions
                    scales += ((field, high if side == low else low),)
        return cls(gender if gender in _OPPOSITE else None, emotion if emotion in EMOTIONS else None,
                   frozenset(words_of(transcript or "")), scales)

    def to_context(self) -> dict[str, Any]:
        return {"gender": self.gender, "emotion": self.emotion}

    def _cues(self, words: list[str], table: Mapping[str, str]) -> set[str]:
        """The categories of ``table`` that ``words`` name, negated words and the transcript's left out."""
        return {table[w] for i, w in enumerate(words)
                if w in table and w not in self.transcript_words and not _negated(words, i)}

    def contradiction(self, question: str, answer: str) -> str | None:
        """Why the pair contradicts the labels, or None."""
        words = words_of(answer)
        if self.gender:
            own, other = self.gender, _OPPOSITE[self.gender]
            cues = self._cues(words, _GENDER_CUES)
            if other in cues and own not in cues:
                return f"the answer speaks of a {other} speaker; the clip's speaker is {own}"
            asked = self._cues(words_of(question), _PRONOUNS)
            if other in asked and own not in asked:
                return f"the question calls a {own} speaker {other}"
        if self.emotion:
            named = self._cues(words, _EMOTION_CUES)
            if named and self.emotion not in named:
                return f"the answer names {', '.join(sorted(named))}; the clip's emotion is {self.emotion}"
        for field, contradicting in self.scales:
            cues = _SCALE_CUES[field]
            for i, word in enumerate(words):
                for n in (2, 1):
                    gram = tuple(words[i:i + n])
                    if len(gram) == n and cues.get(gram) == contradicting and not _negated(words, i) \
                            and not set(gram) <= self.transcript_words:
                        return f"the answer asks for a {contradicting} {field}; the clip's is the opposite"
        return None


@dataclass
class Screened:
    kept: list[dict[str, str]]
    dropped: Counter
    parsed: int


def parse_pairs(response: str) -> list[dict[str, Any]]:
    """The ``{"q", "a"}`` objects of an answer; ``Reject`` (unparseable_json, no_pairs, empty_response)."""
    try:
        body = strip_fences(response).strip()
        if body.startswith("[") and body.endswith("]"):
            try:
                if json.loads(body) == []:
                    raise Reject("no_pairs", "the answer is an empty list")
            except json.JSONDecodeError:
                pass
        return parse_json_lines(response, ("q", "a"))
    except ParseError as exc:
        reason = {"missing_keys": "no_pairs"}.get(exc.reason, exc.reason)
        raise Reject(reason, str(exc)) from None


def screen_pairs(pairs: Iterable[Mapping[str, Any]], screen: Screen, max_pairs: int) -> Screened:
    """Keep the usable pairs (see the module docstring); ``Reject`` for a contradiction, or when
    nothing is left."""
    kept: list[dict[str, str]] = []
    dropped: Counter = Counter()
    seen: set[str] = set()
    parsed = 0
    for pair in pairs:
        parsed += 1
        question = " ".join(str(pair["q"]).split())
        answer = " ".join(str(pair["a"]).split())
        why = screen.contradiction(question, answer)
        if why is not None:
            raise Reject("contradicts_labels", f"{why}: {question!r} -> {answer!r}")
        if leaks_metadata(question) or leaks_metadata(answer):
            dropped["metadata_leak"] += 1
            continue
        key = " ".join(re.findall(r"\w+", question.casefold()))
        if key in seen:
            dropped["duplicate"] += 1
            continue
        if len(kept) >= max_pairs:
            dropped["over_limit"] += 1
            continue
        seen.add(key)
        kept.append({"q": question, "a": answer})
    if not kept:
        reason = dropped.most_common(1)[0][0] if dropped else "no_pairs"
        raise Reject(reason, f"no usable question/answer pair among {parsed} ({dict(dropped)})")
    return Screened(kept, dropped, parsed)


def drop_quality(screened: Screened, extra: Mapping[str, int] | None = None) -> dict[str, float]:
    """The counts recorded on the first example of an answer."""
    quality = {"pairs.parsed": float(screened.parsed), "pairs.kept": float(len(screened.kept))}
    for reason, count in {**screened.dropped, **(extra or {})}.items():
        if count:
            quality[f"{DROPPED_PREFIX}{reason}"] = float(count)
    return quality


def dropped_counts(examples: Iterable[Example]) -> Counter:
    """Pairs dropped from kept answers, by reason, over ``examples`` (see the module docstring)."""
    total: Counter = Counter()
    for example in examples:
        for key, value in (example.quality or {}).items():
            if key.startswith(DROPPED_PREFIX):
                total[key[len(DROPPED_PREFIX):]] += int(value)
    return total


__all__ = ["DROPPED_PREFIX", "Screen", "Screened", "drop_quality", "dropped_counts", "leaks_metadata", "parse_pairs", "quotes_timestamp", "screen_pairs", "words_of"]
