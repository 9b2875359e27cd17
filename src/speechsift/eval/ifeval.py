"""Verifiable instructions (IFEval, Zhou et al. 2023; as Speech-IFEval uses them): strict checkers,
written here from the instructions' definitions. Nothing is downloaded: IFEval's reference code
counts sentences with NLTK's Punkt data, which NLTK fetches at run time, so sentences are split by
``split_sentences`` below (terminal punctuation followed by a capital, a digit or a quote, with
common abbreviations and decimals kept inside their sentence).

A checker takes the response and the instruction's kwargs and says whether the response follows it
(the *strict* reading: the response as it is, no markdown stripped, no first line dropped). The
instruction id's prefix is its *group* (``change_case``, ``detectable_format``, ``startend``,
``keywords``, ``length_constraints``, ...), by which ``eval`` breaks the rates down.

Where a checker differs from IFEval's: ``change_case:*`` checks the letters' case only (IFEval also
asks langdetect that the text is English; speechsift evaluates five languages);
``startend:start_checker`` (a fixed opening such as ``Answer:``) is ours, for the ``constrained``
task family.
"""

from __future__ import annotations

import json
import re
from functools import cache
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from speechsift.eval.scoring import Failure

RELATIONS = ("less than", "at least")
_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no", "fig",
                            "approx", "inc", "ltd", "co", "mt", "u.s", "a.m", "p.m"})
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+|$)")
_WORD = re.compile(r"\w+")
_FENCE = re.compile(r"^\s*```(?:json|JSON|Json)?\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
_TITLE = re.compile(r"<<([^\n]+)>>")
_BULLET_STAR = re.compile(r"^\s*\*[^\*].*$", re.MULTILINE)
_BULLET_DASH = re.compile(r"^\s*-.*$", re.MULTILINE)
_PARAGRAPH_DIVIDER = re.compile(r"\s?\*\s?\*\s?\*\s?")
_HIGHLIGHT = re.compile(r"\*[^\n\*]+\*")
_PLACEHOLDER = re.compile(r"\[.*?\]")
CONSTRAINED_RESPONSES = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text``: cut after ``.``, ``!``, ``?`` or ``…`` (and closing quotes) that end a
    word which is not an abbreviation or an initial, where the next word starts a sentence."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        token = text[start:match.start()].split()[-1:] or [""]
        word = token[0].lower().strip("\"'“‘(")
        following = text[end:].lstrip()
        if match.group().startswith(".") and (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
            continue
        if following and not (following[0].isupper() or following[0].isdigit() or following[0] in "\"'“‘(*-"):
            continue
        piece = text[start:end].strip()
        if piece:
            sentences.append(piece)
        start = end
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def paragraphs_by_divider(text: str) -> list[str]:
    """IFEval's paragraphs: pieces between markdown dividers ``***``."""
    return [p.strip() for p in _PARAGRAPH_DIVIDER.split(text)]


def _compare(count: int, relation: str, target: int) -> bool:
    if relation == "less than":
        return count < target
    if relation == "at least":
        return count >= target
    raise Failure("bad_kwargs", f"relation must be one of {', '.join(RELATIONS)}, got {relation!r}")


def _json_format(response: str, _: Mapping[str, Any]) -> bool:
    body = response.strip()
    match = _FENCE.match(body)
    if match:
        body = match.group(1).strip()
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def _number_paragraphs(response: str, kwargs: Mapping[str, Any]) -> bool:
    pieces = paragraphs_by_divider(response)
    count = len(pieces)
    for index, piece in enumerate(pieces):
        if not piece:
            if index in (0, len(pieces) - 1):
                count -= 1
            else:
                return False
    return count == int(kwargs["num_paragraphs"])


def _nth_paragraph_first_word(response: str, kwargs: Mapping[str, Any]) -> bool:
    pieces = [p.strip() for p in re.split(r"\n\s*\n", response) if p.strip()]
    if len(pieces) != int(kwargs["num_paragraphs"]):
        return False
    nth = int(kwargs["nth_paragraph"])
    if not 1 <= nth <= len(pieces):
        return False
    first = re.sub(r"^[^\w]+", "", pieces[nth - 1]).split()
    return bool(first) and first[0].strip(".,;:!?\"'").lower() == str(kwargs["first_word"]).lower()


def _postscript(response: str, marker: str) -> bool:
    """A line starting with the marker; ``P.S.`` and ``P.P.S`` also with a space after each dot."""
    letters = [re.escape(c) for c in marker.strip().lower().replace(".", "")]
    pattern = r"\.?\s?".join(letters) if marker.strip().lower() in ("p.s.", "p.p.s", "p.s", "p.p.s.") else re.escape(
        marker.strip().lower())
    return re.search(r"^\s*" + pattern, response.lower(), flags=re.MULTILINE) is not None


def _two_responses(response: str, _: Mapping[str, Any]) -> bool:
    parts = [p.strip() for p in response.split("******")]
    return len(parts) == 2 and all(parts) and parts[0] != parts[1]


def _multiple_sections(response: str, kwargs: Mapping[str, Any]) -> bool:
    splitter = re.escape(str(kwargs["section_spliter"]).strip())
    sections = re.split(rf"\s?{splitter}\s?\d+\s?", response)
    return len(sections) - 1 >= int(kwargs["num_sections"])


@cache
def _detector(languages: tuple[str, ...]) -> Any:
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError:
        raise Failure("checker_unavailable", "language:response_language needs lingua-language-detector "
                      "(the eval extra)") from None
    return LanguageDetectorBuilder.from_iso_codes_639_1(*(IsoCode639_1.from_str(c) for c in languages)).build()


def _response_language(response: str, kwargs: Mapping[str, Any]) -> bool:
    """Lingua (offline) decides among speechsift's languages and the one asked for."""
    from speechsift.curate.language import DEFAULT_LANGUAGES, base_language

    wanted = base_language(str(kwargs["language"])) or ""
    try:
        detector = _detector(tuple(sorted({*DEFAULT_LANGUAGES, wanted})))
    except ValueError:
        raise Failure("bad_kwargs", f"language:response_language: unknown language {wanted!r}") from None
    detected = detector.detect_language_of(response)
    return detected is not None and detected.iso_code_639_1.name.lower() == wanted


# instruction id -> checker(response, kwargs) -> followed?
CHECKERS: dict[str, Callable[[str, Mapping[str, Any]], bool]] = {
    "change_case:english_capital": lambda r, k: r.isupper(),
    "change_case:english_lowercase": lambda r, k: r.islower(),
    "change_case:capital_word_frequency": lambda r, k: _compare(
        sum(1 for w in _WORD.findall(r) if w.isupper()), k["capital_relation"], int(k["capital_frequency"])),
    "detectable_format:json_format": _json_format,
    "detectable_format:title": lambda r, k: any(t.strip() for t in _TITLE.findall(r)),
    "detectable_format:number_bullet_lists": lambda r, k: (
        len(_BULLET_STAR.findall(r)) + len(_BULLET_DASH.findall(r)) == int(k["num_bullets"])),
    "detectable_format:number_highlighted_sections": lambda r, k: (
        sum(1 for h in _HIGHLIGHT.findall(r) if h.strip("*").strip()) >= int(k["num_highlights"])),
    "detectable_format:multiple_sections": _multiple_sections,
    "detectable_format:constrained_response": lambda r, k: any(c in r for c in CONSTRAINED_RESPONSES),
    "detectable_content:postscript": lambda r, k: _postscript(r, str(k["postscript_marker"])),
    "detectable_content:number_placeholders": lambda r, k: len(_PLACEHOLDER.findall(r)) >= int(k["num_placeholders"]),
    "startend:quotation": lambda r, k: len(r.strip()) > 1 and r.strip()[0] == '"' and r.strip()[-1] == '"',
    "startend:end_checker": lambda r, k: r.strip().lower().endswith(str(k["end_phrase"]).strip().lower()),
    "startend:start_checker": lambda r, k: r.strip().lower().startswith(str(k["start_phrase"]).strip().lower()),
    "combination:repeat_prompt": lambda r, k: r.strip().lower().startswith(str(k["prompt_to_repeat"]).strip().lower()),
    "combination:two_responses": _two_responses,
    "keywords:existence": lambda r, k: all(re.search(re.escape(str(w)), r, flags=re.IGNORECASE)
                                           for w in k["keywords"]),
    "keywords:forbidden_words": lambda r, k: not any(re.search(r"\b" + re.escape(str(w)) + r"\b", r, flags=re.IGNORECASE)
                                                     for w in k["forbidden_words"]),
    "keywords:frequency": lambda r, k: _compare(len(re.findall(re.escape(str(k["keyword"])), r, flags=re.IGNORECASE)),
                                                k["relation"], int(k["frequency"])),
    "keywords:letter_frequency": lambda r, k: _compare(r.lower().count(str(k["letter"]).lower()),
                                                       k["let_relation"], int(k["let_frequency"])),
    "length_constraints:number_words": lambda r, k: _compare(count_words(r), k["relation"], int(k["num_words"])),
    "length_constraints:number_sentences": lambda r, k: _compare(len(split_sentences(r)), k["relation"],
                                                                 int(k["num_sentences"])),
    "length_constraints:number_paragraphs": _number_paragraphs,
    "length_constraints:nth_paragraph_first_word": _nth_paragraph_first_word,
    "punctuation:no_comma": lambda r, k: "," not in r,
    "language:response_language": _response_language,
}


def group_of(instruction_id: str) -> str:
    return instruction_id.split(":", 1)[0]


def follows(instruction_id: str, response: str, kwargs: Mapping[str, Any] | None = None) -> bool:
    """Whether ``response`` follows the instruction (strict); ``Failure`` for an unknown id or kwargs."""
    checker = CHECKERS.get(instruction_id)
    if checker is None:
        raise Failure("unknown_instruction", f"no checker for instruction {instruction_id!r}")
    try:
        return bool(checker(response, {k: v for k, v in (kwargs or {}).items() if v is not None}))
    except (KeyError, TypeError, ValueError) as exc:
        raise Failure("bad_kwargs", f"{instruction_id}: kwargs {dict(kwargs or {})} are not usable ({exc})") from None


def ifeval_scores(response: str, instruction_ids: Sequence[str], kwargs: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Instruction- and prompt-level strict results, overall and per instruction group."""
    scores: dict[str, float] = {"if_followed": 0.0, "if_instructions": 0.0}
    for instruction_id, arguments in zip(instruction_ids, kwargs):
        followed = follows(instruction_id, response, arguments)
        group = group_of(instruction_id)
        for suffix in ("", f".{group}"):
            scores[f"if_followed{suffix}"] = scores.get(f"if_followed{suffix}", 0.0) + followed
            scores[f"if_instructions{suffix}"] = scores.get(f"if_instructions{suffix}", 0.0) + 1
    scores["if_strict_prompt"] = float(scores["if_followed"] == scores["if_instructions"])
    return scores
