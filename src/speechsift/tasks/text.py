"""Text tasks: instruction data with no audio of its own (instruction synthesis, speech-friendly
responses, preference pairs). They start from a ``TextItem`` (a seed, an instruction, or a Magpie
slot) rather than a clip, and their examples are text-only (``audios`` empty) until speech
synthesis voices them.

``TextTask`` is the contract: ``plan_items`` lists a task's items before generation (the engine
cuts them into shards, like pairs), ``build_text`` turns one item into examples whose LLM work is
a chain of ``Step``s (``tasks.steps``). The base does the shared parts: items from the task's
``instructions`` option, text examples, the seeded choice of the responding LLM, parsing one
instruction out of a model's answer, and the multi-turn extension (a follow-up question and its
answer for a share of the examples).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from speechsift.errors import ConfigError, Reject
from speechsift.llm.types import ChatRequest, SamplingParams
from speechsift.records import Clip, Example, Message, Part
from speechsift.tasks.base import DIRECT, Task, TaskSettings
from speechsift.tasks.options import Configurable
from speechsift.tasks.pairing import seeded_rng
from speechsift.tasks.prompts_text import FOLLOW_UP_SYSTEM
from speechsift.tasks.steps import Reply, Step

if TYPE_CHECKING:
    from speechsift.recipe import Recipe, TaskSpec

DEFAULT_LLM = "default"


@dataclass(frozen=True, slots=True)
class TextItem:
    """One unit of a text task's work: ``item_id`` is stable (the example ids derive from it)."""

    task: str
    item_id: str
    source: str
    instruction: str | None = None
    language: str | None = "en"
    fields: Mapping[str, Any] = field(default_factory=dict)  # input/context, response, category, plan data


# --- reading instructions ------------------------------------------------------------------

INSTRUCTION_KEYS = ("instruction", "prompt", "question", "text")
CONTEXT_KEYS = ("input", "context")


def read_instruction_file(path: Path, where: str) -> list[dict[str, Any]]:
    """Rows of an instruction file: JSONL (``instruction`` or ``prompt``, optional ``input``/``context``,
    ``response``, ``category``) or plain text, one instruction per line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path} ({exc}); give an existing JSONL or text file") from None
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if path.suffix.lower() in (".jsonl", ".json"):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{where}: {path}:{number} is not a JSON object ({exc}); write one object per "
                                  "line with an `instruction` field") from None
            if not isinstance(row, dict) or not any(isinstance(row.get(k), str) for k in INSTRUCTION_KEYS):
                raise ConfigError(f"{where}: {path}:{number} has no `instruction` text field")
            rows.append(row)
        else:
            rows.append({"instruction": line})
    return rows


def row_instruction(row: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(instruction, context)`` of an instruction row."""
    instruction = next((row[k] for k in INSTRUCTION_KEYS if isinstance(row.get(k), str)), "")
    context = next((row[k] for k in CONTEXT_KEYS if isinstance(row.get(k), str) and row[k].strip()), None)
    return instruction.strip(), context


def user_text(instruction: str, context: str | None) -> str:
    """The user's turn: the instruction, then its context (Dolly's ``context``, Alpaca's ``input``)."""
    return f"{instruction}\n\n{context.strip()}" if context else instruction


# --- parsing one instruction out of an answer -------------------------------------------------

_LABEL = re.compile(r"^\s*(?:#+\s*)?(?:\*\*)?(?:new|rewritten|evolved|created|generated|follow[- ]up)?\s*"
                    r"(?:instruction|prompt|question|query|request)s?\s*(?:#+)?(?:\*\*)?\s*[:：]\s*", re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*(?:\(?\d{1,3}[.)\]:]|[-*•]|#\d+[.:]?|q\d*[.:])\s+", re.IGNORECASE)
_QUOTES = [('"', '"'), ("“", "”"), ("'", "'"), ("«", "»"), ("`", "`")]
_PREAMBLE = re.compile(r"^(?:sure|okay|ok|certainly|of course|here (?:is|are)|below (?:is|are))\b.*[:!.]$",
                       re.IGNORECASE)


def clean_line(line: str) -> str:
    """A line with its label (``Rewritten prompt:``), numbering, bullets and surrounding quotes removed."""
    line = _LABEL.sub("", line.strip())
    line = _NUMBERING.sub("", line).strip()
    line = line.strip("*").strip()
    for left, right in _QUOTES:
        if len(line) > 2 and line.startswith(left) and line.endswith(right):
            line = line[1:-1].strip()
    return line


def instruction_lines(text: str) -> list[str]:
    """The instructions in an answer that lists them, one per line (numbered, bulleted, quoted or
    plain); preambles ("Here are five new instructions:") and blank lines are left out."""
    found = []
    for raw in text.splitlines():
        if not raw.strip() or _PREAMBLE.match(raw.strip()) or raw.strip().startswith("```"):
            continue
        line = clean_line(raw)
        if line and not (line.endswith(":") and len(line.split()) <= 8):
            found.append(line)
    return found


def parse_one_instruction(text: str | None, what: str = "instruction") -> str:
    """The one instruction of an answer that was asked for one; ``Reject`` when there is none
    (``empty_response``) or several numbered ones (``several_instructions``). A multi-line
    instruction without numbering is kept whole."""
    body = (text or "").strip()
    if body.startswith("```"):
        body = body.strip("`").strip()
    lines = [line for line in body.splitlines() if line.strip()]
    if not lines:
        raise Reject("empty_response", f"the model wrote no {what}")
    numbered = [line for line in lines if _NUMBERING.match(line)]
    if len(numbered) >= 2:
        raise Reject("several_instructions", f"one {what} was asked for, the model wrote {len(numbered)}: "
                                             f"{body[:160]!r}")
    if _PREAMBLE.match(lines[0].strip()) and len(lines) > 1:
        lines = lines[1:]
    single = clean_line("\n".join(line.strip() for line in lines)) if len(lines) == 1 else \
        "\n".join([clean_line(lines[0]), *[line.rstrip() for line in lines[1:]]]).strip()
    if not single:
        raise Reject("empty_response", f"the model wrote no {what}")
    return single


def normalized(text: str) -> str:
    """The text two duplicate instructions share: lower-cased words only."""
    return " ".join(re.findall(r"\w+", text.lower()))


# --- options shared by text tasks ----------------------------------------------------------------


@dataclass(frozen=True)
class TextOptions:
    """Options every text task takes.

    Attributes:
        instructions: inline instructions (or seeds) to work from.
        instructions_file: a JSONL (``instruction``, optional ``input``/``context``, ``response``,
            ``category``) or text file (one per line), relative to the recipe.
        responders: the LLMs that write responses (``default`` is the recipe's ``llm``; others
            are named under ``llms:``); each example's responder is a seeded choice.
        follow_up_share: the share of examples extended by a follow-up question and its answer
            (multi-turn), 0 to 1.
        seed: seeds every choice the task makes.
    """

    instructions: tuple[str, ...] = ()
    instructions_file: str | None = None
    responders: tuple[str, ...] = (DEFAULT_LLM,)
    follow_up_share: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.follow_up_share <= 1.0:
            raise ValueError(f"follow_up_share must be 0 to 1, got {self.follow_up_share}")
        if not self.responders:
            raise ValueError("responders: name at least one LLM (default is the recipe's llm)")


def route(name: str) -> str | None:
    """A ``ChatRequest.route`` for an LLM name (the recipe's own ``llm`` has none)."""
    return None if name == DEFAULT_LLM else name


class TextTask(Configurable, Task):
    """A task over text items. Subclasses implement ``build_text`` (and ``plan_items`` when their
    items do not come from the ``instructions`` option)."""

    needs_llm = True
    category: ClassVar[str] = "text"
    # Text records (sources.text), read by plan_items: not "spoken", so the clip shards' speech stage
    # does not voice records these tasks never take from there.
    inputs: ClassVar[frozenset[str]] = frozenset({"text"})
    Options: ClassVar[type] = TextOptions
    requires_raw_completion: ClassVar[bool] = False

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        raise ConfigError(f"task {self.name!r} works on text items (instructions), not clips")

    def build_text(self, item: TextItem, settings: TaskSettings) -> Example | list[Example]:
        raise NotImplementedError

    def llm_names(self, raw: Mapping[str, Any] | None) -> list[str]:
        """Every LLM name the task's options refer to (checked against the recipe's ``llms``)."""
        options = self.parse_options(raw)
        return list(getattr(options, "responders", ()))

    # --- items -------------------------------------------------------------------------------

    def plan_items(self, spec: "TaskSpec", recipe: "Recipe", limit: int | None = None) -> list[TextItem]:
        """The task's items: one per instruction of its ``instructions`` / ``instructions_file``
        option, then one per text record of the recipe's text sources (those ``spec.sources``
        names, or every text source). ``limit`` caps each of the two."""
        options = self.parse_options(spec.options)
        rows = [{"instruction": text} for text in options.instructions]
        if options.instructions_file:
            rows += read_instruction_file(Path(options.instructions_file), f"tasks.{self.name}.options.instructions_file")
        items = []
        for index, row in enumerate(rows[:limit] if limit is not None else rows):
            instruction, context = row_instruction(row)
            fields = {k: v for k, v in row.items() if k not in INSTRUCTION_KEYS}
            if context is not None:
                fields["context"] = context
            items.append(TextItem(self.name, f"{self.name}/{index:06d}", self.name, instruction,
                                  row.get("language") or "en", fields))
        return items + [self.item_of(clip) for clip in text_records(recipe, spec, limit)]

    def item_of(self, clip: Clip) -> TextItem:
        """The item of a text record (``sources.text``): its instruction, context, reference
        response, category and conversation."""
        from speechsift.sources.text import TextRecord

        record = TextRecord.of(clip)
        fields: dict[str, Any] = {k: v for k, v in (("context", record.input), ("response", record.response),
                                                    ("category", record.category)) if v is not None}
        if record.messages:
            fields["messages"] = [dict(turn) for turn in record.messages]
        return TextItem(self.name, clip.clip_id, clip.source, record.instruction, clip.language or "en", fields)

    # --- examples ------------------------------------------------------------------------------

    def text_example(self, item: TextItem, *, instruction: str, variant: str = "0",
                     request: Any = None, extra: Mapping[str, Any] | None = None) -> Example:
        """A text-only example: the user turn is ``instruction``; the response comes from ``request``
        (``speak_instruction`` voices it after generation, ``engine.speech``)."""
        return Example(
            id=self.example_id(item.item_id, variant),
            task=self.name,
            clip_ids=[item.item_id],
            audios=[],
            instruction=instruction,
            response=None,
            messages=[Message("user", [Part.of_text(instruction)])],
            source=item.source,
            language=item.language,
            generation=DIRECT if request is None else None,
            request=request,
            extra=dict(extra or {}),
        )

    def responder(self, options: Any, *key: object) -> str:
        """The LLM that writes this response: a seeded choice among ``options.responders``."""
        names = options.responders
        return names[0] if len(names) == 1 else seeded_rng(self.name, options.seed, "responder", *key).choice(names)

    def system_prompt(self, options: Any) -> str | None:
        """The system prompt responses are written under (None: the model's own)."""
        return None

    def respond(self, example: Example, settings: TaskSettings, options: Any, *,
                sampling: SamplingParams | None = None, llm: str | None = None) -> Example:
        """``example`` waiting on its response: the conversation so far, sent to the chosen LLM."""
        name = llm or self.responder(options, example.id)
        system = self.system_prompt(options)
        messages = ([{"role": "system", "content": system}] if system else []) + conversation_of(example)
        request = ChatRequest(messages, sampling or settings.sampling, self.name, route=route(name))
        return replace(example, request=Step([request], lambda e, replies: self.responded(e, replies, settings)))

    def responded(self, example: Example, replies: list[Reply], settings: TaskSettings) -> Example:
        """The response is in: the example is final, or extended by a follow-up (multi-turn)."""
        [reply] = replies
        if reply.text is None:
            raise Reject(*reply.failure)
        messages = [*example.messages, Message("assistant", [Part.of_text(reply.text)])]
        turns = sum(1 for m in example.messages if m.role == "user")
        final = replace(example, response=reply.text if turns == 1 else example.response, messages=messages,
                        generation=reply.generation if turns == 1 else example.generation, request=None)
        options = self.options(settings)
        if turns == 1 and options.follow_up_share and \
                seeded_rng(self.name, options.seed, "follow_up", example.id).random() < options.follow_up_share:
            return self.ask_follow_up(final, settings)
        return final

    # --- the multi-turn extension ----------------------------------------------------------------

    def ask_follow_up(self, example: Example, settings: TaskSettings) -> Example:
        """Ask for the user's natural next question about the conversation so far."""
        transcript = "\n\n".join(f"{m['role'].upper()}: {m['content']}" for m in conversation_of(example))
        request = ChatRequest([{"role": "system", "content": FOLLOW_UP_SYSTEM}, {"role": "user", "content": transcript}],
                              settings.sampling, f"{self.name}.follow_up")
        return replace(example, request=Step([request], lambda e, replies: self.follow_up_asked(e, replies, settings)))

    def follow_up_asked(self, example: Example, replies: list[Reply], settings: TaskSettings) -> Example:
        [reply] = replies
        if reply.text is None:
            raise Reject(*reply.failure)
        question = parse_one_instruction(reply.text, "follow-up question")
        extended = replace(example, messages=[*example.messages, Message("user", [Part.of_text(question)])],
                           extra={**example.extra, "follow_up": {"model": reply.generation.model}})
        return self.respond(extended, settings, self.options(settings), llm=self.responder(self.options(settings),
                                                                                             example.id, "turn2"))


def text_records(recipe: "Recipe", spec: "TaskSpec", limit: int | None = None) -> list[Clip]:
    """The text records of the text sources ``spec`` takes (rows a source cannot read are its read
    stage's rejects, counted there)."""
    import itertools

    from speechsift.sources import read_source
    from speechsift.sources.text import is_text_record

    names = set(spec.sources) if spec.sources else None
    records: list[Clip] = []
    for source in recipe.sources:
        if source.kind != "text" or (names is not None and source.name not in names):
            continue
        clips = (c for c in read_source(source) if isinstance(c, Clip) and is_text_record(c))
        records += itertools.islice(clips, limit) if limit is not None else clips
    return records


def conversation_of(example: Example) -> list[dict[str, str]]:
    """The example's turns as chat messages (text parts only)."""
    return [{"role": m.role, "content": m.text()} for m in example.messages]


def dedupe(instructions: Sequence[str], seen: set[str]) -> tuple[list[str], list[str]]:
    """``(new, duplicates)``: instructions whose normalized text is not in ``seen`` (which grows)."""
    new, duplicates = [], []
    for instruction in instructions:
        key = normalized(instruction)
        if key in seen:
            duplicates.append(instruction)
        else:
            seen.add(key)
            new.append(instruction)
    return new, duplicates


def is_text_task(name: str) -> bool:
    """Whether ``name`` is a text task (its examples carry no audio of their own)."""
    from speechsift.tasks import get_task

    try:
        return isinstance(get_task(name), TextTask)
    except KeyError:
        return False


# --- voice suitability (curate.voice_suitability), before any response is asked for -------------


def voice_keyword_reject(instruction: str, settings: TaskSettings) -> Reject | None:
    """The keyword refusal of ``instruction`` when voice suitability is on, else None."""
    from speechsift.curate.voice import KEYWORD_REASON, blocked_keyword

    if settings.voice is None:
        return None
    keyword = blocked_keyword(instruction)
    if keyword is None:
        return None
    return Reject(KEYWORD_REASON, f"the instruction contains {keyword!r}, a request a voice assistant cannot "
                                  f"serve by voice: {instruction[:120]!r}")


def screened(example: Example, settings: TaskSettings, proceed: Any, attempt: int = 0) -> Example:
    """``proceed(example)`` once the instruction passed the voice-suitability screen: the keyword
    blocklist, then (``judge: true``) an LLM's yes/no. A judge answer that is not yes/no is asked
    once more, then the example is rejected (``judge_unparseable``)."""
    from speechsift.curate.voice import JUDGE_REASON, UNPARSEABLE_REASON, parse_yes_no, voice_judge_request
    from speechsift.llm.parse import ParseError

    voice = settings.voice
    if voice is None:
        return proceed(example)
    if attempt == 0:
        refusal = voice_keyword_reject(example.instruction, settings)
        if refusal is not None:
            raise refusal
        if not voice.judge:
            return proceed(example)

    def judged(current: Example, replies: list[Reply]) -> Example:
        [reply] = replies
        if reply.text is None:
            raise Reject(*reply.failure)
        try:
            verdict, reason = parse_yes_no(reply.text)
        except ParseError as exc:
            if attempt == 0:
                return screened(current, settings, proceed, attempt=1)
            raise Reject(UNPARSEABLE_REASON, f"the voice-suitability judge answered twice without a yes or no: "
                                             f"{exc}") from None
        if verdict == "no":
            raise Reject(JUDGE_REASON, f"the judge ({reply.generation.model}) finds it unsuitable for voice: "
                                       f"{reason or 'no reason given'}")
        voice_judge = {"verdict": verdict, "reason": reason, "model": reply.generation.model}
        return proceed(replace(current, extra={**current.extra, "voice_judge": voice_judge}))

    request = voice_judge_request(example.instruction, voice, sample_index=attempt)
    return replace(example, request=Step([request], judged))
