"""Answers with a known reference: extracted spans (exact match, F1) and closed-ended labels (accuracy).

**Answer extraction** uses SQuAD's normalization (Rajpurkar et al. 2016, its official evaluation
script): lower case, punctuation removed, the articles *a*, *an*, *the* removed, whitespace
collapsed; ``exact_match`` is 1 when the normalized strings are equal, ``f1`` the harmonic mean of
token precision and recall.

**Closed-ended questions with a known answer** (``closed_ended_template``, ``comparison_template``,
Speech-IFEval's classification items) are scored by label match, not string equality:

1. The options are read from the question: lettered (``A. happy`` / ``(B) sad``), quoted
   (``Choose the answer from "Man" or "Woman"``), or the label words of speechsift's vocabularies
   (``labels.i18n``: gender, emotion, age, pitch, speed, volume, language, in the item's language)
   that the question names (``Is the voice female or male?``).
2. The right option is the one the reference names (a label, or a letter).
3. The model's answer chooses an option when it names exactly one of them (a bare letter such as
   ``B`` or ``(B)`` counts as naming that option); naming none or several is wrong.

Without options (an open question), the labels of the vocabulary that the reference names are the
answer, and the model is right when it names all of them and no other value of the same field.
Matching is on whole words after lower-casing and SQuAD's punctuation removal.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from functools import cache

from speechsift.eval.scoring import Failure
from speechsift.labels import i18n

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_LETTERED = re.compile(r"(?:^|\n|\s)\(?([A-Ha-h])[\).:]\s+([^\n]+?)(?=\s+\(?[A-Ha-h][\).:]\s|\n|$)")
_QUOTED = re.compile(r"[\"“]([^\"”\n]{1,200})[\"”]")
_BARE_LETTER = re.compile(r"^\W*(?:(?:the\s+)?answer\s*(?:is)?\s*:?\s*)?\(?([A-Ha-h])\)?\W*$", re.IGNORECASE)
VOCABULARY_FIELDS = ("gender", "emotion", "age", "pitch", "pitch_variation", "speaking_speed", "pace", "intensity",
                     "volume", "language")


def squad_normalize(text: str) -> str:
    text = (text or "").lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def extraction_scores(reference: str, hypothesis: str) -> dict[str, float]:
    ref, hyp = squad_normalize(reference), squad_normalize(hypothesis)
    if not ref:
        raise Failure("empty_reference", "the reference answer is empty after normalization")
    common = Counter(ref.split()) & Counter(hyp.split())
    overlap = sum(common.values())
    if overlap == 0:
        f1 = 0.0
    else:
        precision, recall = overlap / len(hyp.split()), overlap / len(ref.split())
        f1 = 2 * precision * recall / (precision + recall)
    return {"exact_match": float(ref == hyp), "f1": f1}


def _plain(text: str) -> str:
    return " " + " ".join((text or "").lower().replace("’", "'").translate(_PUNCTUATION).split()) + " "


def _names(text: str, option: str) -> bool:
    needle = _plain(option).strip()
    return bool(needle) and f" {needle} " in text


@cache
def vocabulary(language: str) -> tuple[tuple[str, str], ...]:
    """``(field, word)`` for every label word of the vocabularies in ``language`` (longest first)."""
    words = {(field, word) for field in VOCABULARY_FIELDS for word in i18n.choices(field, language)}
    return tuple(sorted(words, key=lambda fw: -len(fw[1])))


def _named(text: str, candidates: list[str]) -> list[str]:
    """The candidates ``text`` names; a candidate inside a longer named one does not count."""
    found = [c for c in sorted(set(candidates), key=len, reverse=True) if _names(text, c)]
    return [c for c in found if not any(c != longer and _names(_plain(longer), c) for longer in found)]


def question_options(question: str, language: str) -> dict[str, str]:
    """``{key: option text}``: letters for lettered options, else the option texts themselves."""
    lettered = {m.group(1).upper(): m.group(2).strip() for m in _LETTERED.finditer(question)}
    if len(lettered) >= 2:
        return lettered
    quoted = [q.strip() for q in _QUOTED.findall(question) if q.strip()]
    if len(quoted) >= 2:
        return {q: q for q in quoted}
    plain = _plain(question)
    words = _named(plain, [word for _field, word in vocabulary(language)])
    return {w: w for w in words} if len(words) >= 2 else {}


def _chosen(text: str, options: dict[str, str]) -> set[str]:
    letter = _BARE_LETTER.match(text.strip())
    if letter and letter.group(1).upper() in options:
        return {letter.group(1).upper()}
    plain = _plain(text)
    named = _named(plain, list(options.values()))
    return {key for key, value in options.items() if value in named}


def label_accuracy(question: str, reference: str, hypothesis: str, language: str | None) -> dict[str, float]:
    lang = i18n.output_language(language)
    options = question_options(question, lang)
    if options:
        gold = _chosen(reference, options)
        if len(gold) != 1:
            raise Failure("no_reference_label", f"the reference {reference!r} names {len(gold)} of the options "
                          f"{sorted(options.values())}")
        return {"accuracy": float(_chosen(hypothesis, options) == gold)}
    fields: dict[str, set[str]] = {}
    for field, word in vocabulary(lang):
        fields.setdefault(field, set()).add(word)
    ref_text, hyp_text = _plain(reference), _plain(hypothesis)
    gold_words = _named(ref_text, [w for _f, w in vocabulary(lang)])
    if not gold_words:
        return {"accuracy": float(squad_normalize(reference) == squad_normalize(hypothesis))}
    gold_fields = {f for f, words in fields.items() if words & set(gold_words)}
    rivals = [w for f in gold_fields for w in fields[f]]
    return {"accuracy": float(set(_named(hyp_text, rivals)) == set(gold_words) & set(rivals))}
