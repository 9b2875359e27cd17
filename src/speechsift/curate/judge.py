"""An LLM judge: asks any backend (``speechsift.llm``) to rate each generated example, 0/1 or 1-5,
with a one-sentence reason, as JSON.

The judge sees what the writer saw in place of the audio (the clip's labels and transcript in the
omni audio-context format), the instruction, and the response. EvalSIFT judges closed-ended
answers 0/1 and open-ended ones on a scale (REFERENCE.md §2); Speechworthy uses LLM-judge ratings
of speech suitability (§4). The prompt is ours.

A reply that is not JSON, lacks a score, or gives one outside the scale records ``judge_error``
for that example only; a failed request likewise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar, Literal

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import ResponseText, is_generated
from speechsift.errors import ConfigError
from speechsift.llm.base import Backend, generate
from speechsift.llm.parse import ParseError, parse_json
from speechsift.llm.types import ChatRequest, SamplingParams
from speechsift.records import Example
from speechsift.render import render_audio_context

JudgeScale = Literal["binary", "1-5"]
JUDGE_TASK = "curate_judge"

_SCALE_TEXT = {
    "binary": '"score" is 1 when the response is a good training target and 0 when it is not.',
    "1-5": ('"score" is an integer from 1 to 5: 1 unusable (wrong, off-topic, or breaks a rule below), '
            "2 poor, 3 acceptable, 4 good, 5 excellent."),
}

JUDGE_SYSTEM = (
    "You review training examples for a speech assistant. Each example is a voice recording, "
    "described to you by its labels and its transcript in place of the audio; the instruction the "
    "user gave with it (possibly none: then the recording itself is the message); and the "
    "assistant's response. Judge whether the response is a good training target: it agrees with "
    "what the recording says and how it sounds, does what the instruction asks, reads naturally "
    "when spoken aloud, and never mentions labels, tags, metadata or a transcript.\n"
    'Reply with one JSON object and nothing else: {{"score": S, "reason": "one short sentence"}}. '
    "{scale}"
)


def judge_request(example: Example, scale: JudgeScale, sampling: SamplingParams, *, system_prompt: str | None = None,
                  max_chars: int = 2000, structured: bool = False) -> ChatRequest:
    """The request that asks the judge about ``example``."""
    system = system_prompt or JUDGE_SYSTEM.format(scale=_SCALE_TEXT[scale])
    user = (
        f"Task: {example.task}\n"
        f"Recording: {render_audio_context(example.meta or {}, example.transcript)}\n"
        f"Instruction: {example.instruction or '(none)'}\n"
        f"Response: {(example.response or '')[:max_chars]}"
    )
    schema = None
    if structured:
        low, high = (0, 1) if scale == "binary" else (1, 5)
        schema = {
            "type": "object",
            "properties": {"score": {"type": "integer", "minimum": low, "maximum": high}, "reason": {"type": "string"}},
            "required": ["score", "reason"],
            "additionalProperties": False,
        }
    return ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": user}], sampling,
                       JUDGE_TASK, {}, 0, schema)


def parse_verdict(text: str, scale: JudgeScale) -> tuple[float, str | None]:
    """``(score, reason)`` from the judge's answer; ``ParseError`` when it is unusable."""
    value = parse_json(text)
    if not isinstance(value, dict) or "score" not in value:
        raise ParseError("missing_keys", 'the judge\'s answer is not an object with a "score"')
    raw = value["score"]
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ParseError("bad_score", f"the judge's score {raw!r} is not a number")
    try:
        score = float(raw)
    except ValueError:
        raise ParseError("bad_score", f"the judge's score {raw!r} is not a number") from None
    low, high = (0.0, 1.0) if scale == "binary" else (1.0, 5.0)
    if not low <= score <= high or (scale == "binary" and score not in (0.0, 1.0)):
        raise ParseError("score_out_of_range", f"the judge's score {raw!r} is outside the {scale} scale")
    reason = value.get("reason")
    return score, (str(reason).strip() or None) if reason is not None else None


class LLMJudge(Scorer):
    """``judge_score`` (0/1 or 1-5) and ``judge_reason``, for generated responses of ``tasks``
    (all tasks when None). Sampling defaults to greedy decoding with room for a sentence."""

    name = "judge"
    columns: ClassVar[dict[str, ColumnType]] = {"judge_score": "float", "judge_reason": "str"}

    def __init__(self, backend: Backend, *, scale: JudgeScale = "1-5", tasks: Iterable[str] | None = None,
                 sampling: SamplingParams | None = None, system_prompt: str | None = None, max_chars: int = 2000,
                 structured: bool = False) -> None:
        if not backend.supports(JUDGE_TASK):
            raise ConfigError(f"curate.judge: the {backend.name} backend cannot judge (it writes fixed templates); "
                              "name an LLM backend in curate.judge.llm")
        self.backend = backend
        self.scale: JudgeScale = scale
        self.tasks = frozenset(tasks) if tasks is not None else None
        self.sampling = sampling or SamplingParams(temperature=0.0, top_p=1.0, max_tokens=200)
        self.system_prompt = system_prompt
        self.max_chars = max_chars
        self.structured = structured

    def score_batch(self, examples: Sequence[Example], texts: Sequence[ResponseText]) -> list[Scores]:
        results: list[Scores] = [{} for _ in examples]
        todo = [i for i, (example, text) in enumerate(zip(examples, texts))
                if not text.empty and is_generated(example) and (self.tasks is None or example.task in self.tasks)]
        requests = [judge_request(examples[i], self.scale, self.sampling, system_prompt=self.system_prompt,
                                  max_chars=self.max_chars, structured=self.structured) for i in todo]
        completions = generate(self.backend, requests)
        for i, completion in zip(todo, completions):
            if not completion.ok:
                results[i] = {self.error_column: f"{completion.error_reason or 'error'}: {completion.error}"}
                continue
            try:
                score, reason = parse_verdict(completion.text or "", self.scale)
            except ParseError as exc:
                results[i] = {self.error_column: f"{exc.reason}: {exc}"}
                continue
            results[i] = {"judge_score": score, "judge_reason": reason}
        return results
