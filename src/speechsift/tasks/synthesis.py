"""Text instruction synthesis (REFERENCE.md §5; the SFT dataset card, seed 004): new instructions
written by an LLM, each answered by one of the recipe's LLMs.

- ``self_instruct``: from each seed instruction, ``per_round`` new ones per round, for ``rounds``
  rounds; each round is shown what the lineage already holds and asked for different ones.
  Duplicates of the seed or of an earlier round are left out (``duplicate_instruction``).
- ``evol_instruct``: each instruction evolves for ``rounds`` rounds by one seeded mutation per round
  (in depth: add a constraint, deepen, concretize, require several steps; in breadth: a new, rarer
  request of the same domain). Every evolution becomes an example; one that fails ends the
  lineage with its reason (``evolution_unchanged``, ``evolution_leak``, ``evolution_too_short``,
  ``evolution_refused``, ``several_instructions``, ``empty_response``).
- ``magpie``: no seeds: the chat template's pre-query prefix goes to the writer LLM as a raw
  completion, so an instruct model writes a user turn itself; then a responder answers, for
  ``n_turns`` turns. Needs raw completion (OpenAI-compatible ``/v1/completions``, transformers,
  vLLM); chat-only backends are refused with the reason.

Every example records its lineage in ``extra``: the method, seed, round, mutation and the model
that wrote the instruction; ``generation`` names the model that wrote the response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from speechsift.errors import ConfigError, Reject
from speechsift.llm.chat_templates import TEMPLATES, ChatTemplate, clean_user_turn, template_for
from speechsift.llm.types import ChatRequest, SamplingParams
from speechsift.records import Example, Message, Part
from speechsift.tasks import prompts_text as prompts
from speechsift.tasks.base import TaskSettings, register_task
from speechsift.tasks.pairing import seeded_rng
from speechsift.tasks.steps import Dropped, Reply, Step
from speechsift.tasks.text import (
    DEFAULT_LLM,
    TextItem,
    TextOptions,
    TextTask,
    dedupe,
    instruction_lines,
    normalized,
    parse_one_instruction,
    route,
    screened,
    voice_keyword_reject,
)

if TYPE_CHECKING:
    from speechsift.llm.base import Backend
    from speechsift.recipe import Recipe, TaskSpec


@dataclass(frozen=True)
class SelfInstructOptions(TextOptions):
    """``per_round`` new instructions per seed per round, for ``rounds`` rounds, written by
    ``writer`` (an LLM name)."""

    per_round: int = 5
    rounds: int = 1
    writer: str = DEFAULT_LLM
    temperature: float = 1.0

    def __post_init__(self) -> None:
        TextOptions.__post_init__(self)
        if not 1 <= self.per_round <= 20:
            raise ValueError(f"per_round must be 1 to 20, got {self.per_round}")
        if not 1 <= self.rounds <= 10:
            raise ValueError(f"rounds must be 1 to 10, got {self.rounds}")


class _Writes(TextTask):
    """A text task whose instructions an LLM writes (``options.writer``)."""

    def llm_names(self, raw: Mapping[str, Any] | None) -> list[str]:
        return [*super().llm_names(raw), self.parse_options(raw).writer]

    def carrier(self, item: TextItem, **extra: Any) -> Example:
        """The example that carries an item's lineage from round to round (never released itself)."""
        seed = item.instruction or ""
        if not seed.strip():
            raise Reject("empty_instruction", f"instruction {item.item_id} is empty")
        return self.text_example(item, instruction=seed, variant="lineage",
                                 extra={"seed": seed, "seed_id": item.item_id, **extra})

    def lineage(self, example: Example, reply: Reply, **facts: Any) -> dict[str, Any]:
        return {**example.extra, "method": self.name, "instruction_model": reply.generation.model, **facts}

    def to_answer(self, item: TextItem, instruction: str, variant: str, extra: dict[str, Any],
                  settings: TaskSettings) -> Example | Dropped:
        """A new instruction's example, screened for voice and waiting on its response."""
        example = self.text_example(item, instruction=instruction, variant=variant, extra=extra)
        refusal = voice_keyword_reject(instruction, settings)
        if refusal is not None:
            return Dropped(example.id, refusal.reason, refusal.message)
        options = self.options(settings)
        return screened(example, settings, lambda e: self.respond(e, settings, options))


@register_task
class SelfInstruct(_Writes):
    name = "self_instruct"
    Options: ClassVar[type] = SelfInstructOptions

    def build_text(self, item: TextItem, settings: TaskSettings) -> Example:
        carrier = self.carrier(item, seen=[normalized(item.instruction or "")])
        return self.next_round(carrier, item, [], 1, settings)

    def next_round(self, carrier: Example, item: TextItem, existing: list[str], round_: int,
                   settings: TaskSettings) -> Example:
        options = self.options(settings)
        system = prompts.SELF_INSTRUCT_SYSTEM.format(n=options.per_round)
        user = prompts.SELF_INSTRUCT_USER.format(seed=carrier.extra["seed"])
        if existing:
            user += prompts.SELF_INSTRUCT_AVOID.format(existing="\n".join(existing))
        sampling = SamplingParams(temperature=options.temperature, top_p=settings.sampling.top_p,
                                  max_tokens=max(settings.sampling.max_tokens, 60 * options.per_round),
                                  seed=settings.sampling.seed)
        request = ChatRequest([{"role": "system", "content": system}, {"role": "user", "content": user}], sampling,
                              self.name, route=route(options.writer))
        return replace(carrier, request=Step([request], lambda e, r: self.written(e, r, item, existing, round_,
                                                                                  settings)))

    def written(self, carrier: Example, replies: list[Reply], item: TextItem, existing: list[str], round_: int,
                settings: TaskSettings) -> list[Example | Dropped]:
        [reply] = replies
        if reply.text is None:
            raise Reject(*reply.failure)
        options = self.options(settings)
        lines = instruction_lines(reply.text)
        if not lines:
            raise Reject("no_instructions", f"round {round_}: no instruction could be read from the answer: "
                                            f"{reply.text[:160]!r}")
        seen = set(carrier.extra["seen"])
        fresh, duplicates = dedupe(lines, seen)
        out: list[Example | Dropped] = []
        for k, instruction in enumerate(duplicates):
            out.append(Dropped(self.example_id(item.item_id, f"r{round_}-dup{k}"), "duplicate_instruction",
                               f"round {round_} repeated an instruction of its lineage: {instruction[:120]!r}"))
        for k, instruction in enumerate(fresh[options.per_round:]):
            out.append(Dropped(self.example_id(item.item_id, f"r{round_}-extra{k}"), "too_many_instructions",
                               f"round {round_} asked for {options.per_round}, this one is beyond: {instruction[:120]!r}"))
        kept = fresh[: options.per_round]
        for k, instruction in enumerate(kept):
            extra = self.lineage(carrier, reply, round=round_)
            extra.pop("seen")
            out.append(self.to_answer(item, instruction, f"r{round_}-{k}", extra, settings))
        if round_ < options.rounds:
            carrier = replace(carrier, extra={**carrier.extra, "seen": sorted(seen)})
            out.append(self.next_round(carrier, item, existing + kept, round_ + 1, settings))
        return out


@dataclass(frozen=True)
class EvolInstructOptions(TextOptions):
    """``rounds`` evolutions per instruction, each by one mutation drawn from ``mutations``."""

    rounds: int = 3
    mutations: tuple[str, ...] = tuple(prompts.EVOL_MUTATIONS)
    writer: str = DEFAULT_LLM
    temperature: float = 0.7

    def __post_init__(self) -> None:
        TextOptions.__post_init__(self)
        if not 1 <= self.rounds <= 10:
            raise ValueError(f"rounds must be 1 to 10, got {self.rounds}")
        unknown = sorted(set(self.mutations) - set(prompts.EVOL_MUTATIONS))
        if unknown or not self.mutations:
            raise ValueError(f"mutations: choose among {', '.join(prompts.EVOL_MUTATIONS)} (got {list(self.mutations)})")


def check_evolution(parent: str, evolved: str, mutation: str) -> None:
    """``Reject`` an evolution that failed: unchanged, leaking our template, too short, refused."""
    if normalized(evolved) == normalized(parent):
        raise Reject("evolution_unchanged", f"the {mutation} evolution equals its parent: {evolved[:120]!r}")
    lower = evolved.lower()
    leaked = next((w for w in prompts.EVOL_LEAK_WORDS if w in lower), None)
    if leaked:
        raise Reject("evolution_leak", f"the evolution copies words of our prompt ({leaked!r}): {evolved[:120]!r}")
    words, parent_words = len(evolved.split()), len(parent.split())
    floor = 3 if mutation == "breadth" else max(3, parent_words // 2)
    if words < floor:
        raise Reject("evolution_too_short", f"the {mutation} evolution has {words} words, its parent {parent_words}: "
                                            f"{evolved[:120]!r}")
    if lower.startswith(("sorry", "i'm sorry", "i am sorry", "i cannot", "i can't", "as an ai")):
        raise Reject("evolution_refused", f"the model refused to evolve the instruction: {evolved[:120]!r}")


@register_task
class EvolInstruct(_Writes):
    name = "evol_instruct"
    Options: ClassVar[type] = EvolInstructOptions

    def build_text(self, item: TextItem, settings: TaskSettings) -> Example:
        carrier = self.carrier(item)
        return self.evolve(carrier, item, carrier.instruction, 1, settings)

    def evolve(self, carrier: Example, item: TextItem, parent: str, round_: int, settings: TaskSettings) -> Example:
        options = self.options(settings)
        mutation = seeded_rng(self.name, options.seed, item.item_id, round_).choice(options.mutations)
        user = prompts.EVOL_USER.format(mutation=prompts.EVOL_MUTATIONS[mutation], instruction=parent)
        sampling = replace(settings.sampling, temperature=options.temperature)
        request = ChatRequest([{"role": "system", "content": prompts.EVOL_SYSTEM}, {"role": "user", "content": user}],
                              sampling, self.name, route=route(options.writer))
        return replace(carrier, request=Step([request], lambda e, r: self.evolved(e, r, item, parent, mutation,
                                                                                  round_, settings)))

    def evolved(self, carrier: Example, replies: list[Reply], item: TextItem, parent: str, mutation: str,
                round_: int, settings: TaskSettings) -> list[Example | Dropped]:
        [reply] = replies
        if reply.text is None:
            raise Reject(*reply.failure)
        evolution = parse_one_instruction(reply.text, "evolved instruction")
        check_evolution(parent, evolution, mutation)
        extra = self.lineage(carrier, reply, round=round_, mutation=mutation, parent=parent)
        out = [self.to_answer(item, evolution, f"r{round_}", extra, settings)]
        if round_ < self.options(settings).rounds:
            out.append(self.evolve(carrier, item, evolution, round_ + 1, settings))
        return out


@dataclass(frozen=True)
class MagpieOptions(TextOptions):
    """``count`` conversations of ``n_turns`` turns; user turns written by ``writer`` through raw
    completion with the chat ``template`` (auto: from the writer's model name)."""

    count: int = 100
    n_turns: int = 1
    template: str = "auto"
    writer: str = DEFAULT_LLM
    system: str | None = None
    temperature: float = 1.0
    max_tokens: int = 160

    def __post_init__(self) -> None:
        TextOptions.__post_init__(self)
        if self.count < 1:
            raise ValueError(f"count must be at least 1, got {self.count}")
        if not 1 <= self.n_turns <= 10:
            raise ValueError(f"n_turns must be 1 to 10, got {self.n_turns}")


@register_task
class Magpie(_Writes):
    name = "magpie"
    Options: ClassVar[type] = MagpieOptions
    requires_raw_completion = True

    def plan_items(self, spec: "TaskSpec", recipe: "Recipe", limit: int | None = None) -> list[TextItem]:
        options = self.parse_options(spec.options)
        count = min(options.count, limit) if limit is not None else options.count
        return [TextItem(self.name, f"{self.name}/{i:06d}", self.name, None, "en", {"index": i}) for i in range(count)]

    def template(self, settings: TaskSettings, model: str | None) -> ChatTemplate:
        return template_for(model, self.options(settings).template, f"tasks.{self.name}.options.template")

    def check_backend(self, spec: "TaskSpec", backend: "Backend") -> None:
        """The writer must do raw completion, and its chat template must be known."""
        options = self.parse_options(spec.options)
        writer = backend.backend_for(route(options.writer)) if hasattr(backend, "backend_for") else backend
        if not getattr(writer, "raw_completion", False):
            from speechsift.llm.openai_backend import raw_unsupported

            detail = f"the {writer.name} backend writes no raw completions"
            base = getattr(writer, "base_url", None)
            raise ConfigError(f"tasks.{self.name}: " + (raw_unsupported(base, detail) if base else
                              f"{detail}; Magpie needs an instruct model served with raw completion "
                              "(llm.backend: openai against vLLM/SGLang/llama.cpp, transformers or vllm)."))
        template_for(writer.model, options.template, f"tasks.{self.name}.options.template")

    def build_text(self, item: TextItem, settings: TaskSettings) -> Example:
        carrier = self.text_example(item, instruction="", variant="0")
        return self.ask_user_turn(replace(carrier, messages=[]), item, settings)

    def ask_user_turn(self, example: Example, item: TextItem, settings: TaskSettings) -> Example:
        """A raw completion of the conversation so far, up to where the next user turn begins."""
        options = self.options(settings)
        turns = [(m.role, m.text()) for m in example.messages]
        template = TEMPLATES[example.extra["template"]] if "template" in example.extra else \
            self.template(settings, settings.models.get(options.writer))
        sampling = SamplingParams(temperature=options.temperature, top_p=settings.sampling.top_p,
                                  max_tokens=options.max_tokens,
                                  # its own seed per conversation: the same prefix must not give one answer
                                  seed=options.seed * 1_000_003 + item.fields["index"] * 101 + len(turns))
        request = ChatRequest([], sampling, self.name, prompt=template.render(turns, options.system),
                              stop=template.stop, route=route(options.writer))
        return replace(example, request=Step([request], lambda e, r: self.user_turn(e, r, item, template, settings)))

    def user_turn(self, example: Example, replies: list[Reply], item: TextItem, template: ChatTemplate,
                  settings: TaskSettings) -> Example:
        [reply] = replies
        if reply.text is None:
            reason, message = reply.failure
            if reason == "raw_completion_unsupported":
                raise ConfigError(f"tasks.{self.name}: {message}")
            raise Reject(reason, message)
        question = clean_user_turn(reply.text, template)
        if len(question.split()) < 2:
            raise Reject("empty_instruction", f"the model wrote no usable user turn: {reply.text[:120]!r}")
        messages = [*example.messages, Message("user", [Part.of_text(question)])]
        first = len(messages) == 1
        extra = self.lineage(example, reply, template=template.name, turns=sum(m.role == "user" for m in messages))
        asked = replace(example, messages=messages, instruction=question if first else example.instruction,
                        extra=extra)
        if first:
            return screened(asked, settings, lambda e: self.answer(e, item, settings))
        return self.answer(asked, item, settings)

    def answer(self, example: Example, item: TextItem, settings: TaskSettings) -> Example:
        options = self.options(settings)
        name = self.responder(options, example.id, len(example.messages))
        request = ChatRequest(
            [{"role": m.role, "content": m.text()} for m in example.messages], settings.sampling, self.name,
            route=route(name))
        return replace(example, request=Step([request], lambda e, r: self.answered(e, r, item, settings)))

    def answered(self, example: Example, replies: list[Reply], item: TextItem, settings: TaskSettings) -> Example:
        [reply] = replies
        if reply.text is None:
            raise Reject(*reply.failure)
        messages = [*example.messages, Message("assistant", [Part.of_text(reply.text)])]
        first = sum(m.role == "user" for m in messages) == 1
        done = replace(example, messages=messages, request=None,
                       response=reply.text if first else example.response,
                       generation=reply.generation if first else example.generation)
        if sum(m.role == "user" for m in messages) < self.options(settings).n_turns:
            return self.ask_user_turn(done, item, settings)
        return done
