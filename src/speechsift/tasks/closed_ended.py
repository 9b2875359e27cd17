"""SIFT-50M closed-ended questions (REFERENCE.md §2), and the Q/A machinery the other families share.

Tasks:

- ``closed_ended_acoustic`` / ``closed_ended_content`` (LLM): the LLM reads the clip's metadata
  JSON (``render.sift_json``) and writes up to ``max_pairs`` question/answer pairs as JSON lines
  (``{"q", "a"}``), about how the clip sounds or about what is said. ``finish`` makes one example
  per pair: the user turn is the audio and the question, the assistant turn the answer.
- ``closed_ended_template`` (no LLM): questions from an instruction pool x attribute (gender,
  emotion, age group, accent, pace, volume, pitch, language, and the measured speech quality,
  reverberation and distortion), open or multiple-choice, answered straight from the labels; each
  clip's choices come from an RNG seeded with its id.

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

Task options (``TaskOptions``, read from ``settings.options[task name]``): see each ``Options``
class. This module also holds what the other SIFT families reuse: ``QATask`` (an LLM task whose
answer is JSON-lines Q/A), ``Screen``/``screen_pairs``, the options plumbing and ``TEMPLATE``.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import combinations
from typing import Any, ClassVar

from speechsift.errors import ConfigError, Reject
from speechsift.labels import i18n
from speechsift.labels.tables import EMOTIONS
from speechsift.llm.parse import ParseError, parse_json_lines, strip_fences
from speechsift.llm.types import ChatRequest, SamplingParams
from speechsift.records import Clip, Example, Generation, Message, Part, stable_id
from speechsift.render.sift_json import acoustic_labels, clean_text, render_sift_json
from speechsift.tasks import prompts_sift
from speechsift.tasks.base import Task, TaskSettings, register_task, user_turn
from speechsift.tasks.pairing import seeded_rng

# Provenance of targets written by a template in ``build`` (never mutated; backend "template",
# no model: a template never pretends to be one).
TEMPLATE = Generation(backend="template")

MAX_PAIRS_LIMIT = 10  # SIFT-50M asks for up to N <= 10 pairs per clip
TOKENS_PER_PAIR = 80  # room one JSON line of q/a needs; max_tokens defaults to max(recipe, n x this)
DROPPED_PREFIX = "dropped."

# --- options ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NoOptions:
    """A task without options."""


class Configurable:
    """Typed, validated task options: ``Options`` is a frozen dataclass whose ``__post_init__``
    checks ranges. ``options(settings)`` reads ``settings.options[self.name]`` (a mapping; absent
    means the defaults) and parses it once per mapping."""

    name: ClassVar[str]
    Options: ClassVar[type] = NoOptions

    def parse_options(self, raw: Mapping[str, Any] | None) -> Any:
        """The task's ``Options`` from a recipe mapping; ``ConfigError`` names the field and the fix."""
        raw = dict(raw or {})
        fields = {f.name: f for f in dataclasses.fields(self.Options)}
        where = f"tasks.{self.name}.options"
        unknown = sorted(set(raw) - set(fields))
        if unknown:
            known = ", ".join(fields) or "none"
            raise ConfigError(f"{where}: unknown option(s) {', '.join(unknown)}; the options are {known}")
        values = {}
        for key, value in raw.items():
            values[key] = _coerce(f"{where}.{key}", value, str(fields[key].type))
        try:
            return self.Options(**values)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None

    def options(self, settings: TaskSettings) -> Any:
        table = getattr(settings, "options", None) or {}
        raw = table.get(self.name) if isinstance(table, Mapping) else None
        cache = self.__dict__.setdefault("_options_cache", {})
        key = id(raw)
        hit = cache.get(key)
        if hit is None or hit[0] is not raw:
            hit = cache[key] = (raw, self.parse_options(raw))
        return hit[1]


def _coerce(where: str, value: Any, annotation: str) -> Any:
    """``value`` checked against the option's annotation (``int | None``, ``tuple[str, ...]``...)."""
    if value is None:
        if "None" in annotation:
            return None
        raise ConfigError(f"{where}: a value is required")
    if annotation.startswith("bool"):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if annotation.startswith("int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        return value
    if annotation.startswith("float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation.startswith("tuple[float"):
        if isinstance(value, (str, bool)) or not isinstance(value, Sequence) or \
                not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            raise ConfigError(f"{where}: expected a list of numbers, got {value!r}")
        return tuple(float(v) for v in value)
    if annotation.startswith("tuple"):
        if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of names, got {value!r}")
        return tuple(value)
    if annotation.startswith("str"):
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected text, got {value!r}")
        return value
    return value


@dataclass(frozen=True)
class QAOptions:
    """Options of the JSON-lines Q/A tasks.

    Attributes:
        max_pairs: how many question/answer pairs to ask for per clip (1-10, SIFT-50M's N).
        max_tokens: the answer's token budget; None: the recipe's ``llm.max_tokens`` or
            ``max_pairs x 80``, whichever is larger.
    """

    max_pairs: int = 5
    max_tokens: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_pairs <= MAX_PAIRS_LIMIT:
            raise ValueError(f"max_pairs must be 1 to {MAX_PAIRS_LIMIT}, got {self.max_pairs}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")


def sampling_for(sampling: SamplingParams, max_tokens: int | None, floor: int = 0) -> SamplingParams:
    """``sampling`` with the task's token budget (``max_tokens``, or at least ``floor``)."""
    wanted = max_tokens if max_tokens is not None else max(sampling.max_tokens, floor)
    return sampling if wanted == sampling.max_tokens else replace(sampling, max_tokens=wanted)


# --- screening what the LLM wrote -------------------------------------------------------------

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


# --- the JSON-lines Q/A LLM task --------------------------------------------------------------


@lru_cache(maxsize=256)
def _system_message(template: str, language: str, n: int) -> dict[str, str]:
    text = prompts_sift.fill(template, n=n, language=i18n.LANGUAGE_NAMES["en"][language])
    return {"role": "system", "content": text}


class QATask(Configurable, Task):
    """An LLM task whose answer is JSON-lines Q/A pairs about one clip; one example per pair.

    Subclasses set ``name``, ``system_template`` and may override ``check_clip`` (refuse a clip
    with nothing to ask about) and ``context_json`` (what the LLM reads).
    """

    needs_llm = True
    checks_language = True  # answers must be in the clip's language (i18n.output_language)
    Options = QAOptions
    system_template: ClassVar[str]

    def check_clip(self, clip: Clip) -> None:
        if not clip.meta and not (clip.text or "").strip():
            raise Reject("empty_context", f"clip {clip.clip_id} has neither labels nor a transcript to ask about")

    def context_json(self, clip: Clip, language: str) -> str:
        return render_sift_json(clip, language)

    def request_for(self, clip: Clip, settings: TaskSettings, user: str, language: str, screen: Screen,
                    **context: Any) -> ChatRequest:
        opts = self.options(settings)
        return ChatRequest(
            [_system_message(self.system_template, language, opts.max_pairs), {"role": "user", "content": user}],
            sampling_for(settings.sampling, opts.max_tokens, opts.max_pairs * TOKENS_PER_PAIR),
            self.name,
            {"language": language, "max_pairs": opts.max_pairs, "screen": screen.to_context(),
             "prompt_version": prompts_sift.PROMPT_VERSION, **context},
        )

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        self.check_clip(clip)
        language = i18n.output_language(clip.language)
        screen = Screen.of(clip.meta, None)
        request = self.request_for(clip, settings, self.context_json(clip, language), language, screen)
        return self.example(clip, instruction="", response=None, request=request)

    def screen_of(self, example: Example) -> Screen:
        return Screen.of(example.meta, example.transcript)

    def finish(self, example: Example, response: str, generation: Generation) -> list[Example]:
        context = example.request.context if example.request is not None else {}
        screened = screen_pairs(parse_pairs(response), self.screen_of(example),
                                int(context.get("max_pairs", MAX_PAIRS_LIMIT)))
        return self.pair_examples(example, screened, generation)

    def pair_examples(self, example: Example, screened: Screened, generation: Generation,
                      task_of: Any = None, extra_drops: Mapping[str, int] | None = None) -> list[Example]:
        """One example per kept pair; ``task_of(pair)`` may route a pair to another task name."""
        out = []
        for i, pair in enumerate(screened.kept):
            task = task_of(pair) if task_of is not None else example.task
            messages = self.pair_messages(example, pair["q"], pair["a"])
            out.append(replace(
                example,
                id=stable_id(example.id, "pair", str(i)),
                task=task,
                instruction=pair["q"],
                response=pair["a"],
                messages=messages,
                generation=generation,
                quality=drop_quality(screened, extra_drops) if i == 0 else {},
                request=None,
            ))
        return out

    def pair_messages(self, example: Example, question: str, answer: str) -> list[Message]:
        return [user_turn(question), Message("assistant", [Part("text", answer)])]


@register_task
class ClosedEndedAcoustic(QATask):
    """Closed-ended questions about how the clip sounds (SIFT-50M closed_ended/acoustic_level)."""

    name = "closed_ended_acoustic"
    category = "closed_ended"
    sub = "acoustic_level"
    system_template = prompts_sift.CLOSED_ACOUSTIC_SYSTEM

    def check_clip(self, clip: Clip) -> None:
        if not acoustic_labels(clip, "en"):
            raise Reject("no_acoustic_labels", f"clip {clip.clip_id} has no acoustic labels to ask about")


@register_task
class ClosedEndedContent(QATask):
    """Closed-ended questions about what is said (SIFT-50M closed_ended/content_level)."""

    name = "closed_ended_content"
    category = "closed_ended"
    sub = "content_level"
    system_template = prompts_sift.CLOSED_CONTENT_SYSTEM

    def check_clip(self, clip: Clip) -> None:
        if not (clip.text or "").strip():
            raise Reject("empty_transcript", f"clip {clip.clip_id} has no transcript to ask about")


# --- template variant -------------------------------------------------------------------------

TEMPLATE_ATTRIBUTES = ("gender", "emotion", "age", "accent", "pace", "volume", "pitch", "language",
                       "speech_quality", "reverberation", "distortion")
CHOICES_PER_QUESTION = 3  # options in a multiple-choice question (gender has two)


@dataclass(frozen=True)
class TemplateQAOptions:
    """Options of ``closed_ended_template``.

    Attributes:
        questions_per_clip: questions per clip, each on another attribute (1-11).
        choice_share: the share of questions asked as multiple choice (0-1), where the attribute
            has a closed set of values (accent has not).
        attributes: the attributes to ask about (default: all of ``TEMPLATE_ATTRIBUTES``).
    """

    questions_per_clip: int = 3
    choice_share: float = 0.5
    attributes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.questions_per_clip <= len(TEMPLATE_ATTRIBUTES):
            raise ValueError(f"questions_per_clip must be 1 to {len(TEMPLATE_ATTRIBUTES)}, got {self.questions_per_clip}")
        if not 0.0 <= self.choice_share <= 1.0:
            raise ValueError(f"choice_share must be between 0 and 1, got {self.choice_share}")
        unknown = sorted(set(self.attributes or ()) - set(TEMPLATE_ATTRIBUTES))
        if unknown:
            raise ValueError(f"unknown attribute(s) {', '.join(unknown)}; choose from {', '.join(TEMPLATE_ATTRIBUTES)}")


@dataclass(frozen=True)
class Fact:
    """One attribute of a clip as the templates use it: the table field, the value's key (a level
    for ordinal fields), and the form in the output language."""

    attribute: str
    field: str
    key: Any
    word: str


def clip_facts(clip: Clip, language: str) -> list[Fact]:
    """The template attributes the clip has, in ``TEMPLATE_ATTRIBUTES`` order."""
    facts: list[Fact] = []
    meta = clip.meta
    for attribute, sources in (("gender", ("gender",)), ("emotion", ("emotion",)), ("age", ("age",)),
                               ("pace", ("speaking_speed", "pace")), ("volume", ("intensity", "volume")),
                               ("pitch", ("pitch",)), ("speech_quality", ("speech_quality",)),
                               ("reverberation", ("reverberation",)), ("distortion", ("distortion_level",))):
        for field in sources:
            value = i18n.meta_value(meta, field)
            if value is None:
                continue
            key = i18n.scale_step(field, value) if field in i18n.ORDINAL_WORDS else i18n.nominal_key(field, value)
            word = i18n.label_word(field, value, language)
            if key is not None and word is not None:
                facts.append(Fact(attribute, field, key, word))
                break
    accent = meta.get("accent")
    if accent and accent.strip():
        facts.append(Fact("accent", "accent", accent, clean_text(accent, 80)))
    code = i18n.language_code(clip.language)
    if code:
        facts.append(Fact("language", "language", code, i18n.LANGUAGE_NAMES[language][code]))
    order = {a: i for i, a in enumerate(TEMPLATE_ATTRIBUTES)}
    return sorted(facts, key=lambda f: order[f.attribute])


def choice_options(fact: Fact, language: str, rng: Any) -> list[str]:
    """The options of a multiple-choice question on ``fact``: the right one and distractors, no two
    of which can both be true of one clip (``i18n.overlaps``: never "young adult" beside
    "person in their thirties", never "very low" beside "slightly low"), nor read the same.
    Fewer options when the scale has no more (two for gender, sometimes two on a 7-level scale);
    levels in order, other values shuffled."""
    field = fact.field
    wanted = 2 if field == "gender" else CHOICES_PER_QUESTION
    candidates = [k for k in i18n.value_keys(field, fact.key)
                  if not i18n.overlaps(field, k, fact.key) and i18n.key_word(field, k, language) != fact.word]
    rng.shuffle(candidates)
    picked = [fact.key]
    for size in range(min(wanted - 1, len(candidates)), 0, -1):  # the first exclusive set, largest first
        for others in combinations(candidates, size):
            words = {i18n.key_word(field, k, language) for k in others}
            if len(words) == size and not any(i18n.overlaps(field, a, b) for a, b in combinations(others, 2)):
                picked += others
                break
        if len(picked) > 1:
            break
    if field in i18n.ORDINAL_WORDS:
        picked.sort()
    else:
        rng.shuffle(picked)
    return [fact.word if key == fact.key else i18n.key_word(field, key, language) for key in picked]


@register_task
class ClosedEndedTemplate(Configurable, Task):
    """Closed-ended questions from an instruction pool, answered from the labels (no LLM)."""

    name = "closed_ended_template"
    category = "closed_ended"
    sub = "acoustic_level"
    checks_language = False  # written from the phrase tables in the clip's language
    target_from_clip = True  # the answer is the clip's label
    Options = TemplateQAOptions

    def build(self, clip: Clip, settings: TaskSettings) -> list[Example]:
        opts = self.options(settings)
        language = i18n.output_language(clip.language)
        allowed = set(opts.attributes or TEMPLATE_ATTRIBUTES)
        facts = [f for f in clip_facts(clip, language) if f.attribute in allowed]
        if not facts:
            raise Reject("no_labels", f"clip {clip.clip_id} has none of the labels {', '.join(sorted(allowed))}")
        rng = seeded_rng(self.name, clip.clip_id)
        rng.shuffle(facts)
        pool = prompts_sift.TEMPLATE_QUESTIONS[language]
        examples = []
        for fact in facts[:opts.questions_per_clip]:
            templates = pool[fact.attribute]
            choice = bool(templates["choice"]) and rng.random() < opts.choice_share
            if choice:
                options = i18n.join_words(choice_options(fact, language, rng), language)
                question = prompts_sift.fill(rng.choice(templates["choice"]), options=options)
            else:
                question = rng.choice(templates["open"])
            answer = prompts_sift.fill(templates["answer"], value=fact.word)
            example = self.example(clip, instruction=question, response=answer, variant=fact.attribute)
            example.generation = TEMPLATE
            examples.append(example)
        return examples


__all__ = [
    "TEMPLATE",
    "ClosedEndedAcoustic",
    "ClosedEndedContent",
    "ClosedEndedTemplate",
    "Configurable",
    "QAOptions",
    "QATask",
    "Screen",
    "dropped_counts",
    "leaks_metadata",
    "parse_pairs",
    "quotes_timestamp",
    "screen_pairs",
]
