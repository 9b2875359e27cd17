"""Every string the templates write, in every language, passes the checks that screen LLM text.

Template text is correct by construction: a leakage, consistency or language check that rejects it
is a false alarm that silently loses data (French "accent : Québécois" read as a "field: value"
leak, "isn't a man" read as a contradiction). Each template family is rendered for every value
of every label it phrases (``closed_ended_template``, ``comparison_template``,
``controllable_template``, and the template backend's ``sit_ssp``), and each string goes through
the curation scorers and filters (``CurateConfig()`` defaults) and the task screens that LLM
answers get (``leaks_metadata``, ``Screen.contradiction``).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import replace

import pytest
from factories import make_clip

from speechsift.curate import CurateConfig, Curator
from speechsift.labels import bins, i18n, tables
from speechsift.llm.template import describe_sit_ssp
from speechsift.records import Generation
from speechsift.tasks import TaskSettings, get_task, prompts_sift
from speechsift.tasks.closed_ended_template import Fact, choice_options
from speechsift.tasks.screen import Screen, leaks_metadata
from speechsift.tasks.controllable import VOICE_FIELDS, trait_phrases

TEMPLATE = Generation(backend="template")
ACCENTS = ("Québécois", "Scottish English", "Bairisch", "napoletano", "andaluz", "United States English")
TEXT = {"en": "the train leaves at noon", "de": "der zug fährt um zwölf", "fr": "le train part à midi",
        "it": "il treno parte a mezzogiorno", "es": "el tren sale a mediodía"}
# Label values as the pipeline gives them (labels.tables, the binning vocabularies of labels.bins).
VALUES = {
    "gender": tables.GENDERS, "emotion": tables.EMOTIONS, "age": tables.AGE_GROUPS,
    "pitch": bins.PITCH_LEVELS, "pitch_variation": bins.PITCH_VARIATION_LEVELS,
    "speaking_speed": bins.SPEAKING_SPEED_LEVELS, "pace": tables.PACES, "intensity": bins.INTENSITY_LEVELS,
    "volume": tables.VOLUMES, "accent": ACCENTS, "speech_quality": bins.SPEECH_QUALITY_LEVELS,
    "reverberation": bins.REVERBERATION_LEVELS, "distortion_level": bins.DISTORTION_LEVELS,
}


@pytest.fixture(scope="module")
def curator():
    return Curator(CurateConfig(dedup="none"))


def clip(language, meta, clip_id="src/c1"):
    one = make_clip(clip_id, text=TEXT[language], meta=meta)
    one.language = language
    one.features = {"duration_s": 2.0}
    return one


def assert_all_pass(curator, examples):
    curator.score(examples)
    _, dropped = curator.filter(examples)
    lost = [(e.language, e.instruction, e.response, reason, message) for e, reason, message in dropped]
    assert lost == [], f"{len(lost)} template strings rejected, e.g. {lost[:5]}"


def assert_screens_pass(examples, *, voice=False):
    for example in examples:
        question, answer = example.instruction, example.response or example.instruction
        assert not leaks_metadata(question) and not leaks_metadata(answer), (question, answer)
        screen = Screen.of(example.meta, example.transcript, voice=voice)
        assert screen.contradiction(question, answer) is None, (example.meta, question, answer)


# --- closed_ended_template -----------------------------------------------------------------------------------


def closed_ended_strings(language):
    """Every question (open, and multiple choice for each answer) and every answer of every attribute."""
    task = get_task("closed_ended_template")
    pool = prompts_sift.TEMPLATE_QUESTIONS[language]
    attribute_fields = {"gender": ["gender"], "emotion": ["emotion"], "age": ["age"], "pitch": ["pitch"],
                        "pace": ["speaking_speed", "pace"], "volume": ["intensity", "volume"], "accent": ["accent"],
                        "language": ["language"], "speech_quality": ["speech_quality"],
                        "reverberation": ["reverberation"], "distortion": ["distortion_level"]}
    examples = []
    for attribute, fields in attribute_fields.items():
        for field in fields:
            values = list(i18n.LANGUAGES) if field == "language" else VALUES[field]
            for value in values:
                meta = {} if field == "language" else {field: value}
                one = clip(value if field == "language" else language, meta)
                base = task.build(one, TaskSettings())[0]
                lang = i18n.output_language(one.language)
                templates = prompts_sift.TEMPLATE_QUESTIONS[lang][attribute]
                word = (i18n.LANGUAGE_NAMES[lang][value] if field == "language"
                        else value if field == "accent" else i18n.label_word(field, value, lang))
                answer = prompts_sift.fill(templates["answer"], value=word)
                questions = list(templates["open"])
                if templates["choice"]:
                    key = (value if field == "language" else
                           i18n.scale_step(field, value) if field in i18n.ORDINAL_WORDS else i18n.nominal_key(field, value))
                    options = i18n.join_words(choice_options(Fact(attribute, field, key, word), lang,
                                                             random.Random(0)), lang)
                    questions += [prompts_sift.fill(q, options=options) for q in templates["choice"]]
                examples += [replace(base, instruction=q, response=answer) for q in questions]
    assert pool  # the language has its pool
    return examples


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_closed_ended_template_strings_pass(curator, language):
    examples = closed_ended_strings(language)
    assert len(examples) > 120
    assert_all_pass(curator, examples)
    assert_screens_pass(examples)


# --- comparison_template -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_comparison_template_strings_pass(curator, language):
    a, b = clip(language, {"gender": "male"}, "src/a"), clip(language, {"gender": "female"}, "src/b")
    a.features.update(f0_median_hz=110.0, speaking_rate=5.0, relative_db=-25.0)
    b.features.update(f0_median_hz=220.0, speaking_rate=12.0, relative_db=-8.0)
    base = get_task("comparison_template").build_pair(a, b, TaskSettings())[0]
    examples = [replace(base, instruction=question, response=answer)
                for by_direction in prompts_sift.COMPARISON_QUESTIONS[language].values()
                for question in by_direction.values()
                for answer in prompts_sift.COMPARISON_ANSWERS[language].values()]
    assert len(examples) == 12
    assert_all_pass(curator, examples)
    assert_screens_pass(examples)


# --- controllable_template -----------------------------------------------------------------------------------


def controllable_strings(language):
    """Each instruction of the pool with each trait phrase alone, and with every field at once."""
    task = get_task("controllable_template")
    examples = []
    cycles = {field: itertools.cycle(VALUES[field]) for field in VOICE_FIELDS}
    for field in VOICE_FIELDS:
        for value in VALUES[field]:
            meta = {field: value}
            one = clip(language, meta)
            base = task.build(one, TaskSettings())
            phrase = trait_phrases(one, language)[field]
            examples += [replace(base, instruction=prompts_sift.fill(t, traits=phrase))
                         for t in prompts_sift.CONTROL_INSTRUCTIONS[language]]
    for _ in range(12):  # every field together, the values cycled
        meta = {field: next(cycles[field]) for field in VOICE_FIELDS}
        one = clip(language, meta)
        base = task.build(one, TaskSettings())
        phrases = trait_phrases(one, language)
        traits = i18n.join_words([phrases[f] for f in VOICE_FIELDS if f in phrases], language, conjunction="and")
        examples += [replace(base, instruction=prompts_sift.fill(t, traits=traits))
                     for t in prompts_sift.CONTROL_INSTRUCTIONS[language]]
    return examples


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_controllable_template_strings_pass(curator, language):
    examples = controllable_strings(language)
    assert len(examples) > 200 and all(e.response == "" for e in examples)
    assert_all_pass(curator, examples)
    assert_screens_pass(examples, voice=True)  # what the LLM variant's instructions must pass too


# --- sit_ssp (the template backend) ------------------------------------------------------------------------------


def sit_ssp_strings(language):
    """Every speaker (age x gender, each possibly unknown) with every emotion (or none); pace, volume,
    accent and the transcript cycled through all their values."""
    task = get_task("sit_ssp")
    paces = itertools.cycle([None, *tables.PACES])
    volumes = itertools.cycle([None, *tables.VOLUMES])
    accents = itertools.cycle([None, *ACCENTS])
    texts = itertools.cycle([True, True, False])
    examples = []
    for age, gender, emotion in itertools.product([None, *tables.AGE_GROUPS], [None, *tables.GENDERS],
                                                  [None, *tables.EMOTIONS]):
        labels = {"age": age, "gender": gender, "emotion": emotion, "pace": next(paces), "volume": next(volumes),
                  "accent": next(accents)}
        meta = {k: v for k, v in labels.items() if v}
        one = clip(language, meta)
        if not next(texts):
            one.text = None
        if not meta and not one.text:
            continue
        example = task.build(one, TaskSettings())
        (done,) = task.finish(example, describe_sit_ssp(example.request.context), TEMPLATE)
        examples.append(done)
    return examples


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_sit_ssp_template_descriptions_pass(curator, language):
    examples = sit_ssp_strings(language)
    assert len(examples) > 100
    opening = {"en": "Sounds like ", "de": "Klingt nach ", "fr": "On dirait ", "it": "Sembra ", "es": "Parece "}
    assert all(e.response.startswith(opening[language]) for e in examples)
    assert_all_pass(curator, examples)
    scored = [e.quality for e in examples if e.transcript]
    assert all(q["consistency_quote_overlap"] == 1.0 for q in scored)  # the quote is the transcript
    assert_screens_pass(examples)


def test_the_checks_still_catch_what_they_are_for(curator):
    """The same scorers reject LLM text that leaks or contradicts, in the same languages."""
    base = get_task("closed_ended_template").build(clip("fr", {"gender": "female", "accent": "Québécois"}),
                                                   TaskSettings())[0]
    leaking = replace(base, response="accent : québécois, gender : female", generation=Generation(backend="openai"))
    contradicting = replace(base, response="La voix est celle d'un homme.", generation=Generation(backend="openai"))
    curator.score([leaking, contradicting])
    assert leaking.quality["leakage_flag"] is True
    assert Screen.of(contradicting.meta, None).contradiction("", contradicting.response) is not None
    sit = get_task("sit_ssp").build(clip("de", {"gender": "female", "emotion": "happy"}), TaskSettings())
    (wrong,) = get_task("sit_ssp").finish(sit, "Klingt nach einem Mann, der „der zug fährt um zwölf“ traurig sagt.",
                                          Generation(backend="openai"))
    curator.score([wrong])
    assert wrong.quality["consistency_gender_conflict"] and wrong.quality["consistency_emotion_conflict"]


@pytest.mark.parametrize("task, question, answer", [
    ("closed_ended_template", "Is the speaker a man?", "No, the speaker isn't a man."),
    ("closed_ended_template", "Est-ce un homme qui parle ?", "Non, ce n'est pas un homme, c'est une voix féminine."),
    ("sift_ssp", "", "That isn't a male voice at all, and you don't sound angry."),
    ("sit_ssp", "", 'Sounds like someone who is not a man saying "the train leaves at noon".'),
])
def test_a_negated_cue_is_no_contradiction(curator, task, question, answer):
    one = clip("fr" if "homme" in question else "en", {"gender": "female", "emotion": "sad"})
    built = get_task(task).build(one, TaskSettings())
    base = built[0] if isinstance(built, list) else built
    example = replace(base, instruction=question, response=answer, generation=Generation(backend="openai"),
                      request=None)
    assert Screen.of(example.meta, example.transcript).contradiction(question, answer) is None
    curator.score([example])
    assert example.quality.get("consistency_contradiction") is not True, example.quality
