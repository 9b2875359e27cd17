"""The LLM judge of EvalSIFT (SIFT-50M App. G.2, REFERENCE.md §7) and Speech-IFEval's reasoning check.

The judge sees the question, the reference answer and the model's answer and replies with one JSON
object ``{"reason": ..., "score": ...}``: 0 or 1 for closed-ended questions (``judge_accuracy``),
0 to 10 for open-ended ones (``judge_score``). For Speech-IFEval's chain-of-thought items it answers
YES or NO to "does the answer reason step by step before concluding?" (``if_cot``). The prompts
are ours.

An answer that cannot be read (not JSON, no score, a score off the scale; neither YES nor NO) is
asked once more (a second sample, so the ledger keeps both), then the item's judge metric fails as
``judge_unparseable``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from speechsift.llm.parse import ParseError, parse_json, strip_think
from speechsift.llm.types import ChatRequest, SamplingParams

JUDGE_SAMPLING = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=300)
JUDGE_ATTEMPTS = 2  # the first answer and one retry

_CLOSED = (
    "You grade the answers of a voice assistant. The user asked a question about an audio recording; you "
    "see the question, a reference answer that is correct, and the assistant's answer. The assistant heard "
    "the recording; you did not, so trust the reference. Score 1 when the assistant's answer agrees with "
    "the reference on what the question asks (wording may differ; extra correct detail is fine), and 0 when "
    "it contradicts the reference, misses what was asked, or refuses.\n"
    'Reply with one JSON object and nothing else: {"reason": "one short sentence", "score": 0 or 1}.'
)
_OPEN = (
    "You grade the answers of a voice assistant. The user spoke to the assistant or asked about an audio "
    "recording; you see the user's request, a reference answer written with full knowledge of the "
    "recording (what was said, and how: emotion, voice, pace), and the assistant's answer. Rate the "
    "assistant's answer from 0 to 10: 10 is as helpful, correct and fitting to the recording as the "
    "reference or better; 5 is partly right or generic; 0 is wrong, off-topic, or a refusal. An answer "
    "that contradicts facts in the reference about the recording cannot score above 3.\n"
    'Reply with one JSON object and nothing else: {"reason": "one short sentence", "score": an integer 0-10}.'
)
_COT = (
    "You check whether an answer reasons before it concludes. You see a question and an answer. Reply YES "
    "when the answer works through the problem in explicit steps (reasoning, then a conclusion), and NO "
    "when it only states a result or does not reason. Reply with the single word YES or NO."
)
SCALES = {"judge_accuracy": (_CLOSED, 0, 1), "judge_score": (_OPEN, 0, 10)}
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    score: float
    reason: str | None


def judge_request(metric: str, question: str, reference: str, answer: str, attempt: int, task: str) -> ChatRequest:
    system = SCALES[metric][0]
    user = f"Question: {question or '(the recording itself is the message)'}\nReference answer: {reference}\n" \
           f"Assistant's answer: {answer}"
    return ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": user}], JUDGE_SAMPLING,
                       f"eval_judge/{task}", {}, attempt)


def cot_request(question: str, answer: str, attempt: int) -> ChatRequest:
    user = f"Question: {question}\nAnswer: {answer}"
    return ChatRequest([{"role": "system", "content": _COT}, {"role": "user", "content": user}], JUDGE_SAMPLING,
                       "eval_judge/cot", {}, attempt)


def parse_verdict(metric: str, text: str) -> Verdict:
    """The score and reason of a judge's JSON answer; ``ParseError`` when it is unusable."""
    _system, low, high = SCALES[metric]
    value = parse_json(text)
    if not isinstance(value, dict) or "score" not in value:
        raise ParseError("missing_keys", 'the judge\'s answer is not an object with a "score"')
    raw = value["score"]
    try:
        score = float(raw)
    except (TypeError, ValueError):
        raise ParseError("bad_score", f"the judge's score {raw!r} is not a number") from None
    if isinstance(raw, bool) or not low <= score <= high or score != int(score):
        raise ParseError("score_out_of_range", f"the judge's score {raw!r} is not an integer from {low} to {high}")
    reason = value.get("reason")
    return Verdict(score, str(reason).strip() or None if reason is not None else None)


def parse_yes_no(text: str) -> Verdict:
    match = _YES_NO.match(strip_think(text))
    if match is None:
        raise ParseError("not_yes_no", "the judge answered neither YES nor NO")
    return Verdict(float(match.group(1).lower() == "yes"), None)
