"""Consistency with the clip: does the response describe the speaker the way the labels do?

A gender, emotion, age group, pace or volume that contradicts ``example.meta`` is a wrong
training target: a speech model learns to say "a woman" for a man's voice. The gender, emotion,
pace and volume cue words and the negations are the phrase tables of ``labels.i18n``, the same
ones the screening of LLM answers uses (English, German, French, Italian, Spanish); the English age
cues, the listener phrases and the contradiction table are data (``data/curate/consistency.yaml``).
Each example is read with the lexicon of the
language its text is written in (``tasks.base.written_language``); a language without one is
not checked (an English cue list would misread German "man" or "fast").

- Description tasks (``sit_ssp`` and any task named in ``description_tasks``): every cue outside
  quoted spans counts, and the quoted words are compared with ``example.transcript`` (bag-of-words
  F1 after normalization: case, punctuation and Unicode forms do not matter).
- Audio targets (controllable generation): the instruction asks for the clip's voice, so every
  cue counts there too (quotes are not compared: an instruction never quotes the text).
- Other generated responses (``sift_ssp``, ``sift_s``, q/a): only phrases that address or describe
  the listener count ("you sound furious", "ma'am", "your male voice"; English): a reply may well
  mention other people ("my sister, she ...").
- Corpus targets (transcription, answer extraction) are not checked.

A cue preceded within three words by a negation ("isn't a man", "doesn't sound angry") does not
count, in descriptions and in the listener phrases alike.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import (
    WORD,
    ResponseText,
    Rule,
    is_audio_target,
    is_generated,
    load_yaml,
    normalize_words,
    written_language,
)
from speechsift.labels import i18n
from speechsift.records import Example

FIELDS = ("gender", "emotion", "age", "pace", "volume")
NEGATION_WINDOW = i18n.NEGATION_WINDOW  # words before a cue that can negate it ("does not sound angry")
_CLAUSE_END = re.compile(r"[.,;:!?]")


@dataclass(frozen=True)
class FieldCues:
    """One label field's conflict table and conversation patterns."""

    field: str
    conflicts: dict[str, frozenset[str]]  # label value -> contradicting cue categories
    conversation: tuple[tuple[str | None, Rule], ...]  # (category, or None: look the captured word up)


@dataclass(frozen=True)
class Lexicon:
    """Every field's cues in one table, so a description is read once: word (or word pair) ->
    ``(field, category)`` pairs."""

    fields: dict[str, FieldCues]
    unigrams: dict[str, tuple[tuple[str, str], ...]]
    bigrams: dict[tuple[str, str], tuple[tuple[str, str], ...]]
    bigram_firsts: frozenset[str]
    negations: frozenset[str]
    cued: frozenset[str]  # the fields with at least one cue (the others are not checked)

    def category(self, field: str, word: str) -> str | None:
        for cue_field, category in self.unigrams.get(word, ()):
            if cue_field == field:
                return category
        return None


def _i18n_cues(language: str) -> dict[str, dict[str, list[str]]]:
    """``{field: {category: cue words}}`` in ``language`` from the phrase tables of ``labels.i18n``."""
    cues: dict[str, dict[str, list[str]]] = {
        "gender": {g: list(words[language]) for g, words in i18n.GENDER_CUES.items()},
        "emotion": {e: list(words[language]) for e, words in i18n.EMOTION_CUES.items()},
    }
    for field in ("pace", "volume"):
        cues[field] = {d: list(words[language]) for d, words in i18n.SCALE_CUES[field].items()}
    return cues


def load_lexicons(table: dict[str, Any] | None = None) -> dict[str, Lexicon]:
    """One lexicon per SIFT-50M language: the cue words of ``labels.i18n`` (and, in English, the
    yaml's age cues and listener phrases), all with the yaml's contradiction table."""
    table = table or load_yaml("consistency.yaml")
    lexicons = {}
    for language in i18n.LANGUAGES:
        cues = _i18n_cues(language)
        spec: dict[str, Any] = {}
        for field in FIELDS:
            mine = table[field] if language == "en" else {}
            spec[field] = {"cues": {**cues.get(field, {}), **mine.get("cues", {})},
                           "conflicts": table[field]["conflicts"], "conversation": mine.get("conversation")}
        lexicons[language] = load_lexicon({**spec, "negations": list(i18n.NEGATIONS)})
    return lexicons


def load_lexicon(table: dict[str, Any]) -> Lexicon:
    """The lexicon of one language: ``{field: {cues, conflicts, conversation}, negations}``."""
    fields: dict[str, FieldCues] = {}
    unigrams: dict[str, list[tuple[str, str]]] = {}
    bigrams: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for field in FIELDS:
        spec = table[field]
        for category, phrases in spec["cues"].items():
            for phrase in phrases:
                words = WORD.findall(phrase.lower())
                if len(words) == 1:
                    unigrams.setdefault(words[0], []).append((field, category))
                elif len(words) == 2:
                    bigrams.setdefault((words[0], words[1]), []).append((field, category))
                else:
                    raise ValueError(f"consistency.yaml: {field}.{category}: cue {phrase!r} must be one or two words")
        conversation = []
        for category, entries in (spec.get("conversation") or {}).items():
            for entry in entries:
                rule = Rule(field, re.compile(entry["pattern"]), tuple(n.lower() for n in entry.get("needles", ())))
                conversation.append((None if category == "any" else category, rule))
        conflicts = {label: frozenset(cats) for label, cats in spec["conflicts"].items()}
        fields[field] = FieldCues(field, conflicts, tuple(conversation))
    return Lexicon(
        fields,
        {w: tuple(v) for w, v in unigrams.items()},
        {w: tuple(v) for w, v in bigrams.items()},
        frozenset(first for first, _ in bigrams),
        frozenset(table["negations"]),
        frozenset(field for field in FIELDS if any(table[field]["cues"].values())),
    )


def bag_f1(a: list[str], b: list[str]) -> float:
    """F1 of two bags of words (1.0: the same words, in any order)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    common = sum((Counter(a) & Counter(b)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


def quote_overlap(quotes: list[str], transcript: str) -> float:
    """How well the quoted words match the transcript: the best of all quotes joined and each one
    alone (a description may quote the words in two pieces, or quote one word for emphasis)."""
    reference = normalize_words(transcript)
    spans = [normalize_words(q) for q in quotes]
    joined = [w for span in spans for w in span]
    return max([bag_f1(joined, reference)] + [bag_f1(span, reference) for span in spans])


class ConsistencyScorer(Scorer):
    name = "consistency"
    columns: ClassVar[dict[str, ColumnType]] = {
        "consistency_gender_conflict": "bool",
        "consistency_emotion_conflict": "bool",
        "consistency_age_conflict": "bool",
        "consistency_pace_conflict": "bool",
        "consistency_volume_conflict": "bool",
        "consistency_contradiction": "bool",
        "consistency_evidence": "str",
        "consistency_has_quote": "bool",
        "consistency_quote_overlap": "float",
    }

    def __init__(self, description_tasks: Iterable[str] = ("sit_ssp",)) -> None:
        self.description_tasks = frozenset(description_tasks)
        self.lexicons = load_lexicons()

    def score(self, example: Example, text: ResponseText) -> Scores:
        if not is_generated(example) or text.empty:
            return {}
        meta = example.meta or {}
        description = example.task in self.description_tasks
        lexicon = self.lexicons.get(written_language(example) or "en")
        scores: Scores = {}
        if lexicon is not None:
            scores.update(self._conflicts(lexicon, meta, text, description or is_audio_target(example)))
        if description and example.transcript and example.transcript.strip():
            quotes = text.quotes
            scores["consistency_has_quote"] = bool(quotes)
            scores["consistency_quote_overlap"] = quote_overlap(quotes, example.transcript) if quotes else None
        return scores

    def _conflicts(self, lexicon: Lexicon, meta: dict[str, str], text: ResponseText, every_cue: bool) -> Scores:
        """The conflict columns: every cue counts in a description or an instruction (``every_cue``),
        only the listener phrases elsewhere."""
        fields = lexicon.fields
        # The label fields this clip has and what would contradict each.
        checks = {}
        for field in FIELDS:
            # pace and volume: the direction the clip's labels agree on (omni and binned alike)
            label = i18n.scale_side(meta, field) if field in i18n.SCALE_CUES else meta.get(field)
            if label and field in lexicon.cued:
                contradicting = fields[field].conflicts.get(label)
                if contradicting is not None:
                    checks[field] = (label, contradicting)
        scores: Scores = {}
        if checks:
            if every_cue:
                found = self._description_conflicts(lexicon, text.unquoted_words, checks)
                checked = checks
            else:
                checked = {f: c for f, c in checks.items() if fields[f].conversation}
                found = self._conversation_conflicts(lexicon, text.unquoted_lower, checked)
            if checked:
                evidence = []
                for field in checked:
                    hit = found.get(field)
                    scores[f"consistency_{field}_conflict"] = hit is not None
                    if hit is not None:
                        evidence.append(f"{field}={checks[field][0]} but {hit!r}")
                scores["consistency_contradiction"] = bool(evidence)
                scores["consistency_evidence"] = "; ".join(evidence) if evidence else None
        return scores

    @staticmethod
    def _negates(lexicon: Lexicon, preceding: list[str]) -> bool:
        """Whether one of the last ``NEGATION_WINDOW`` words before a cue negates it."""
        negations = lexicon.negations
        for word in preceding[-NEGATION_WINDOW:]:
            if word in negations or word.endswith("n't"):
                return True
        return False

    def _description_conflicts(self, lexicon: Lexicon, tokens: list[str],
                               checks: dict[str, tuple[str, frozenset[str]]]) -> dict[str, str]:
        """The first contradicting cue of each checked field, by field."""
        unigrams, bigrams, firsts = lexicon.unigrams, lexicon.bigrams, lexicon.bigram_firsts
        found: dict[str, str] = {}
        last = len(tokens) - 1
        for i, word in enumerate(tokens):
            candidates = []
            if word in firsts and i < last:
                pair = bigrams.get((word, tokens[i + 1]))
                if pair:
                    candidates.append((pair, f"{word} {tokens[i + 1]}"))
            single = unigrams.get(word)
            if single:
                candidates.append((single, word))
            for hits, phrase in candidates:
                for field, category in hits:
                    check = checks.get(field)
                    if check is None or field in found or category not in check[1]:
                        continue
                    if not self._negates(lexicon, tokens[max(0, i - NEGATION_WINDOW):i]):
                        found[field] = phrase
        return found

    def _conversation_conflicts(self, lexicon: Lexicon, body: str,
                                checks: dict[str, tuple[str, frozenset[str]]]) -> dict[str, str]:
        found: dict[str, str] = {}
        for field, (_, contradicting) in checks.items():
            cues = lexicon.fields[field]
            for category, rule in cues.conversation:
                if not rule.applies(body):
                    continue
                for match in rule.pattern.finditer(body):
                    cat = category if category is not None else lexicon.category(field, match.group(1))
                    # the words before the match in its own clause ("isn't a male voice"; not "oh no, ...")
                    clause = _CLAUSE_END.split(body[max(0, match.start() - 60):match.start()])[-1]
                    preceding = WORD.findall(clause)
                    if cat in contradicting and not self._negates(lexicon, preceding):
                        found[field] = match.group(0)
                        break
                if field in found:
                    break
        return found
