"""SIFT-50M closed-ended questions without an LLM (REFERENCE.md §2).

- ``closed_ended_template`` (no LLM): questions from an instruction pool x attribute (gender,
  emotion, age group, accent, pace, volume, pitch, language, and the measured speech quality,
  reverberation and distortion), open or multiple-choice, answered straight from the labels; each
  clip's choices come from an RNG seeded with its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

from speechsift.errors import Reject
from speechsift.labels import i18n
from speechsift.records import Clip, Example
from speechsift.render.sift_json import clean_text
from speechsift.tasks import prompts_sift
from speechsift.tasks.base import TEMPLATE, Task, TaskSettings, register_task
from speechsift.tasks.options import Configurable
from speechsift.tasks.pairing import seeded_rng

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


__all__ = ["ClosedEndedTemplate", "Fact", "TemplateQAOptions", "choice_options", "clip_facts"]
