"""Voice suitability of an instruction (Speechworthy, Cho et al., EMNLP 2024; REFERENCE.md §4):
could a person ask it of a voice assistant, and could the assistant answer it by voice?

First the paper's keyword blocklist (requests about writing code or text, about a passage the
listener cannot see, about picking from options on a page), then optionally an LLM judge that
answers yes or no with a reason. A refusal is a reject: ``not_voice_suitable_keyword`` or
``not_voice_suitable_judge``. The recipe turns it on with ``curate: {voice_suitability: {judge:
true|false}}``; text tasks apply it to each instruction before any response is asked for.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from speechsift.llm.parse import ParseError, parse_json, strip_think
from speechsift.llm.types import ChatRequest, SamplingParams

# The blocklist of Cho et al. (2024), §3.1, as listed in REFERENCE.md §4; matched as whole words,
# case-insensitively ("list" does not match "listen").
VOICE_BLOCKLIST: tuple[str, ...] = (
    "write", "python", "text", "given", "https", "extract", "based on", "summarize", "classify", "mentioned",
    "which of these", "which one of these", "according to", "determine", "list", "change this",
    "from the passage provided", "select", "following", "categorize", "which is a", "choose", "pronounce",
)
_BLOCKED = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(k) for k in VOICE_BLOCKLIST) + r")(?!\w)", re.IGNORECASE)

KEYWORD_REASON = "not_voice_suitable_keyword"
JUDGE_REASON = "not_voice_suitable_judge"
UNPARSEABLE_REASON = "judge_unparseable"
VOICE_JUDGE_TASK = "voice_suitability"

VOICE_JUDGE_SYSTEM = (
    "You decide whether a request suits a voice assistant such as a smart speaker. It suits one when a "
    "person could naturally say it out loud and the assistant could answer it well in speech alone: no "
    "screen, no document or passage to read, no code, tables or long formatted output, no options shown "
    "on a page to pick from. Reply with one JSON object and nothing else: "
    '{"suitable": "yes" or "no", "reason": "one short sentence"}.'
)


class VoiceSuitabilityConfig(BaseModel):
    """``curate.voice_suitability``: the keyword blocklist always, the LLM judge when ``judge``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    judge: bool = Field(False, description="Also ask an LLM whether each instruction suits a voice assistant.")
    llm: str = Field("default", description="The judge: `default` (the recipe's llm) or a name under `llms:`.")
    max_tokens: int = Field(120, gt=0, description="Tokens the judge may write.")


def blocked_keyword(instruction: str) -> str | None:
    """The first blocklisted keyword in ``instruction`` (lower-cased), or None."""
    match = _BLOCKED.search(instruction)
    return match.group(0).lower() if match else None


def voice_judge_request(instruction: str, config: VoiceSuitabilityConfig, sample_index: int = 0) -> ChatRequest:
    """The question to the judge; a retry asks again with the next sample index (a fresh answer,
    not the ledger's copy of the unusable one)."""
    route = None if config.llm == "default" else config.llm
    return ChatRequest([{"role": "system", "content": VOICE_JUDGE_SYSTEM}, {"role": "user", "content": instruction}],
                       SamplingParams(temperature=0.0 if sample_index == 0 else 0.7, top_p=1.0,
                                      max_tokens=config.max_tokens),
                       VOICE_JUDGE_TASK, sample_index=sample_index, route=route)


_YES_NO = re.compile(r"^\W*(yes|no)\b[\s.,:;!-]*(.*)", re.IGNORECASE | re.DOTALL)


def parse_yes_no(text: str) -> tuple[Literal["yes", "no"], str | None]:
    """``(verdict, reason)`` from the judge's answer: the JSON asked for, or a bare line starting
    with yes or no; ``ParseError`` otherwise."""
    body = strip_think(text)
    try:
        value = parse_json(body)
    except ParseError:
        match = _YES_NO.match(body)
        if not match:
            raise ParseError("not_yes_no", f"the judge's answer is neither JSON nor yes/no: {body[:120]!r}") from None
        return match.group(1).lower(), match.group(2).strip() or None  # type: ignore[return-value]
    if not isinstance(value, dict):
        raise ParseError("not_yes_no", f"the judge's answer is not an object: {body[:120]!r}")
    verdict = str(value.get("suitable", "")).strip().lower()
    if verdict in ("true", "false"):
        verdict = "yes" if verdict == "true" else "no"
    if verdict not in ("yes", "no"):
        raise ParseError("not_yes_no", f"the judge's \"suitable\" is {value.get('suitable')!r}, not yes or no")
    reason = value.get("reason")
    return verdict, str(reason).strip() if reason else None  # type: ignore[return-value]
