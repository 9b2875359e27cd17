"""Speechworthy (Cho et al., EMNLP 2024; REFERENCE.md §4): speech-friendly responses and
SpeechPref-like preference pairs.

- ``speech_response``: the instruction answered under one system-prompt strategy
  (``simple | medium | easy | detailed | icl``, ``prompts_text.SPEECH_STRATEGIES``).
- ``preference_pairs``: candidate responses over models × strategies × temperatures (plus the
  instruction's own reference response when it has one); pairs of configurations assigned over the
  whole dataset before generation, balanced and capped per configuration pair (``assign_pairs``);
  each pair judged for listening (choice, margin 1-3, explanation). Its examples hold the chosen
  response as ``response`` and the rest in ``extra``: ``rejected``, ``chosen_config``,
  ``rejected_config``, ``margin``, ``explanation``, ``judge``. ``clip_ids`` is the instruction, so
  the recipe's splits keep every instruction's pairs in one split.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from speechsift.errors import Reject
from speechsift.llm.parse import ParseError, parse_json
from speechsift.llm.types import ChatRequest, SamplingParams
from speechsift.records import Example, Message, Part
from speechsift.tasks import prompts_text as prompts
from speechsift.tasks.base import TaskSettings, register_task
from speechsift.tasks.pairing import seeded_rng
from speechsift.tasks.steps import Reply, Step
from speechsift.tasks.text import (
    DEFAULT_LLM,
    TextItem,
    TextOptions,
    TextTask,
    normalized,
    route,
    screened,
    user_text,
)

if TYPE_CHECKING:
    from speechsift.recipe import Recipe, TaskSpec

PREFERENCE_JUDGE_TASK = "preference_judge"
REFERENCE = "reference"  # the configuration of an instruction's own response


def _check_strategies(strategies: Sequence[str]) -> None:
    unknown = sorted(set(strategies) - set(prompts.SPEECH_STRATEGIES))
    if unknown or not strategies:
        raise ValueError(f"strategy: choose among {', '.join(prompts.SPEECH_STRATEGIES)} (got {list(strategies)})")


def candidate_request(instruction: str, strategy: str, sampling: SamplingParams, llm: str, task: str) -> ChatRequest:
    """A speech-friendly response to ``instruction`` under ``strategy``: the request speech_response
    sends for it too (system prompt, then the instruction), so the two share ledger entries."""
    messages = [{"role": "system", "content": prompts.strategy_prompt(strategy)}, {"role": "user", "content": instruction}]
    return ChatRequest(messages, sampling, task, route=route(llm))


def item_instruction(item: TextItem) -> str:
    instruction = user_text(item.instruction or "", item.fields.get("context"))
    if not instruction.strip():
        raise Reject("empty_instruction", f"instruction {item.item_id} is empty")
    return instruction


@dataclass(frozen=True)
class SpeechResponseOptions(TextOptions):
    """The response strategy (``simple``, ``medium``, ``easy``, ``detailed`` or ``icl``)."""

    strategy: str = "detailed"

    def __post_init__(self) -> None:
        TextOptions.__post_init__(self)
        _check_strategies([self.strategy])


@register_task
class SpeechResponse(TextTask):
    name = "speech_response"
    Options: ClassVar[type] = SpeechResponseOptions

    def build_text(self, item: TextItem, settings: TaskSettings) -> Example:
        options = self.options(settings)
        instruction = item_instruction(item)
        extra = {"strategy": options.strategy, **({"category": item.fields["category"]} if "category" in item.fields else {})}
        if isinstance(item.fields.get("response"), str):
            extra["reference_response"] = item.fields["response"]
        example = self.text_example(item, instruction=instruction, variant=options.strategy, extra=extra)
        return screened(example, settings, lambda e: self.respond(e, settings, options))

    def system_prompt(self, options: Any) -> str | None:
        # a one-turn response is candidate_request's request: preference pairs share it in the ledger
        return prompts.strategy_prompt(options.strategy)


# --- preference pairs ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Config:
    """One way of writing a candidate: an LLM, a strategy and a temperature (or the reference)."""

    llm: str
    strategy: str
    temperature: float

    @property
    def key(self) -> str:
        return REFERENCE if self.llm == REFERENCE else f"{self.llm}/{self.strategy}/t{self.temperature:g}"


REFERENCE_CONFIG = Config(REFERENCE, REFERENCE, 0.0)


@dataclass(frozen=True)
class PreferenceOptions(TextOptions):
    """Candidates over ``models`` × ``strategies`` × ``temperatures`` (plus each instruction's own
    response when ``include_reference``); ``pairs_per_instruction`` pairs each, at most
    ``max_pairs_per_config_pair`` per pair of configurations; judged by ``judge``."""

    models: tuple[str, ...] = (DEFAULT_LLM,)
    strategies: tuple[str, ...] = ("simple", "detailed")
    temperatures: tuple[float, ...] = (0.7,)
    include_reference: bool = True
    pairs_per_instruction: int = 1
    max_pairs_per_config_pair: int | None = None
    judge: str = DEFAULT_LLM
    judge_max_tokens: int = 300

    def __post_init__(self) -> None:
        TextOptions.__post_init__(self)
        _check_strategies(self.strategies)
        if not self.models or not self.temperatures:
            raise ValueError("models and temperatures need at least one value each")
        if any(not 0.0 <= t <= 2.0 for t in self.temperatures):
            raise ValueError(f"temperatures must be 0 to 2, got {list(self.temperatures)}")
        if self.pairs_per_instruction < 1:
            raise ValueError(f"pairs_per_instruction must be at least 1, got {self.pairs_per_instruction}")
        if self.max_pairs_per_config_pair is not None and self.max_pairs_per_config_pair < 1:
            raise ValueError(f"max_pairs_per_config_pair must be at least 1, got {self.max_pairs_per_config_pair}")
        if len(self.configs()) < 2 and not self.include_reference:
            raise ValueError("one configuration cannot make a pair: give two models, strategies or temperatures, "
                             "or include_reference: true")

    def configs(self) -> list[Config]:
        return [Config(m, s, t) for m, s, t in itertools.product(self.models, self.strategies, self.temperatures)]


def assign_pairs(items: Sequence[tuple[str, bool]], configs: Sequence[Config], per_item: int,
                 cap: int | None, seed: int) -> tuple[dict[str, list[tuple[Config, Config]]], dict[str, int]]:
    """Configuration pairs for each item ``(id, has_reference)``, over the whole dataset.

    Items are visited in a seeded order; each takes the ``per_item`` least-used configuration pairs
    it can (ties broken at random), none beyond ``cap`` uses. So every configuration pair is used
    equally often, give or take one, and at most ``cap`` times. Returns the assignment and the uses
    of each configuration pair (``"a|b"``).
    """
    rng = seeded_rng("preference_pairs", seed)
    with_reference = [*configs, REFERENCE_CONFIG]
    all_pairs = sorted(itertools.combinations(with_reference, 2), key=lambda p: (p[0].key, p[1].key))
    usage: Counter = Counter()
    order = list(items)
    rng.shuffle(order)
    assigned: dict[str, list[tuple[Config, Config]]] = {}
    for item_id, has_reference in order:
        possible = [p for p in all_pairs if (has_reference or REFERENCE_CONFIG not in p)
                    and (cap is None or usage[p] < cap)]
        rng.shuffle(possible)
        possible.sort(key=lambda p: usage[p])  # stable: least used first, random among equals
        chosen = possible[:per_item]
        for pair in chosen:
            usage[pair] += 1
        assigned[item_id] = chosen
    return assigned, {f"{a.key}|{b.key}": n for (a, b), n in sorted(usage.items(), key=lambda kv: (kv[0][0].key, kv[0][1].key))}


def parse_preference(text: str) -> tuple[str, int, str]:
    """``(choice, margin, explanation)`` from the judge's answer; ``ParseError`` when it is not an
    object with a choice of A or B, a margin of 1-3 and an explanation."""
    value = parse_json(text)
    if not isinstance(value, dict):
        raise ParseError("not_an_object", "the judge's answer is not a JSON object")
    choice = str(value.get("choice", "")).strip().upper().removeprefix("ANSWER ").strip()
    if choice not in ("A", "B"):
        raise ParseError("invalid_choice", f"the judge's choice {value.get('choice')!r} is neither A nor B")
    try:
        margin = int(str(value.get("margin", "")).strip())
    except ValueError:
        raise ParseError("invalid_margin", f"the judge's margin {value.get('margin')!r} is not 1, 2 or 3") from None
    if margin not in (1, 2, 3):
        raise ParseError("invalid_margin", f"the judge's margin {margin} is not 1, 2 or 3")
    explanation = str(value.get("explanation") or "").strip()
    if not explanation:
        raise ParseError("no_explanation", "the judge gave no explanation")
    return choice, margin, explanation


@register_task
class PreferencePairs(TextTask):
    name = "preference_pairs"
    Options: ClassVar[type] = PreferenceOptions

    def llm_names(self, raw: Mapping[str, Any] | None) -> list[str]:
        options = self.parse_options(raw)
        return [*options.models, options.judge]

    def plan_items(self, spec: "TaskSpec", recipe: "Recipe", limit: int | None = None) -> list[TextItem]:
        """The instructions, each with its configuration pairs (assigned over all of them)."""
        items = super().plan_items(spec, recipe, limit)
        options = self.parse_options(spec.options)
        has_reference = [(i.item_id, options.include_reference and isinstance(i.fields.get("response"), str)
                          and bool(i.fields["response"].strip())) for i in items]
        assigned, usage = assign_pairs(has_reference, options.configs(), options.pairs_per_instruction,
                                       options.max_pairs_per_config_pair, options.seed)
        self.plan_report = {"pairs_per_config_pair": usage}
        return [replace(i, fields={**i.fields, "pairs": [(a.key, b.key) for a, b in assigned[i.item_id]]})
                for i in items]

    def build_text(self, item: TextItem, settings: TaskSettings) -> list[Example]:
        pairs = item.fields.get("pairs") or []
        if not pairs:
            raise Reject("pair_cap_reached", "every configuration pair this instruction could use reached "
                                             "max_pairs_per_config_pair")
        instruction = item_instruction(item)
        configs = {c.key: c for c in self.options(settings).configs()}
        configs[REFERENCE] = REFERENCE_CONFIG
        examples = []
        for a, b in pairs:
            extra = {"category": item.fields["category"]} if "category" in item.fields else {}
            example = self.text_example(item, instruction=instruction, variant=f"{a}|{b}", extra=extra)
            pair = (configs[a], configs[b])
            examples.append(screened(example, settings, lambda e, pair=pair: self.candidates(e, item, pair, settings)))
        return examples

    def candidates(self, example: Example, item: TextItem, pair: tuple[Config, Config],
                   settings: TaskSettings) -> Example:
        requests = [candidate_request(example.instruction, c.strategy, replace(settings.sampling, temperature=c.temperature),
                                      c.llm, self.name) for c in pair if c != REFERENCE_CONFIG]
        return replace(example, request=Step(requests, lambda e, r: self.written(e, r, item, pair, settings)))

    def written(self, example: Example, replies: list[Reply], item: TextItem, pair: tuple[Config, Config],
                settings: TaskSettings) -> Example:
        pending = iter(replies)
        sides = []
        for config in pair:
            if config == REFERENCE_CONFIG:  # by value: a shard may come back from another process
                sides.append({"config": REFERENCE, "text": item.fields["response"].strip(), "model": None})
                continue
            reply = next(pending)
            if reply.text is None:
                reason, message = reply.failure
                raise Reject("candidate_failed", f"the {config.key} candidate failed ({reason}): {message}")
            sides.append({"config": config.key, "text": reply.text, "model": reply.generation.model,
                          "strategy": config.strategy, "temperature": config.temperature,
                          "generation": reply.generation})
        if normalized(sides[0]["text"]) == normalized(sides[1]["text"]):
            raise Reject("identical_candidates", f"{sides[0]['config']} and {sides[1]['config']} wrote the same "
                                                 "response: nothing to prefer")
        options = self.options(settings)
        if seeded_rng(self.name, options.seed, "order", example.id).random() < 0.5:
            sides.reverse()  # which candidate the judge reads first is a coin flip
        return self.ask_judge(example, sides, settings, attempt=0)

    def ask_judge(self, example: Example, sides: list[dict[str, Any]], settings: TaskSettings, attempt: int) -> Example:
        options = self.options(settings)
        user = prompts.PREFERENCE_JUDGE_USER.format(instruction=example.instruction, a=sides[0]["text"], b=sides[1]["text"])
        sampling = SamplingParams(temperature=0.0 if attempt == 0 else 0.7, top_p=1.0, max_tokens=options.judge_max_tokens)
        request = ChatRequest([{"role": "system", "content": prompts.PREFERENCE_JUDGE_SYSTEM},
                               {"role": "user", "content": user}], sampling, PREFERENCE_JUDGE_TASK,
                              sample_index=attempt, route=route(options.judge))
        return replace(example, request=Step([request], lambda e, r: self.judged(e, r, sides, settings, attempt)))

    def judged(self, example: Example, replies: list[Reply], sides: list[dict[str, Any]], settings: TaskSettings,
               attempt: int) -> Example:
        [reply] = replies
        if reply.text is None:
            raise Reject(*reply.failure)
        try:
            choice, margin, explanation = parse_preference(reply.text)
        except ParseError as exc:
            if attempt == 0:  # asked once more, with a fresh sample
                return self.ask_judge(example, sides, settings, attempt=1)
            raise Reject("judge_unparseable", f"the judge answered twice without a usable verdict: {exc}") from None
        chosen, rejected = (sides[0], sides[1]) if choice == "A" else (sides[1], sides[0])
        extra = {
            **example.extra,
            "rejected": rejected["text"],
            "chosen_config": chosen["config"],
            "rejected_config": rejected["config"],
            "chosen_model": chosen["model"],
            "rejected_model": rejected["model"],
            "chosen_strategy": chosen.get("strategy", REFERENCE),
            "rejected_strategy": rejected.get("strategy", REFERENCE),
            "margin": margin,
            "explanation": explanation,
            "judge": reply.generation.model or reply.generation.backend,
            "first_shown": sides[0]["config"],
        }
        generation = chosen.get("generation")
        messages = [*example.messages, Message("assistant", [Part.of_text(chosen["text"])])]
        return replace(example, response=chosen["text"], messages=messages, generation=generation or
                       replace(reply.generation, backend="direct", model=None, llm_messages=[]),
                       request=None, extra=extra)
