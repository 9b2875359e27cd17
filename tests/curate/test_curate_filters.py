"""CurateConfig, the filters built from it, failure isolation, the quality schema and a full pass."""

from __future__ import annotations

import itertools
import logging
from typing import ClassVar

import pyarrow as pa
import pytest
from curate_helpers import FEMALE, MALE, make_example
from pydantic import ValidationError

from speechsift.curate import (
    QUALITY_COLUMNS,
    REASONS,
    CurateConfig,
    Curator,
    Filter,
    apply_filters,
    build_filters,
    drop_counts,
    per_task,
    quality_arrow_type,
    quality_row,
    score_examples,
)
from speechsift.curate.base import ColumnType, Scorer
from speechsift.curate.text import ResponseText
from speechsift.labels.tables import AGE_GROUPS, EMOTIONS, GENDERS, PACES
from speechsift.llm import generate, make_backend
from speechsift.recipe import LLMConfig

# --- config ---------------------------------------------------------------------------------------


def test_config_defaults_and_validation():
    config = CurateConfig()
    assert config.dedup == "exact" and config.max_repetition == 0.3 and config.toxicity_max == 0.3
    assert CurateConfig.model_validate({"min_words": {"sit_ssp": 5}, "max_words": 60}).min_words == {"sit_ssp": 5}
    with pytest.raises(ValidationError, match="extra"):
        CurateConfig.model_validate({"max_repetiton": 0.3})
    with pytest.raises(ValidationError, match="unknown task"):
        CurateConfig.model_validate({"min_words": {"sit_sp": 5}})
    with pytest.raises(ValidationError):
        CurateConfig.model_validate({"dedup": "fuzzy"})
    with pytest.raises(ValidationError, match="domain names must be unique"):
        CurateConfig.model_validate({"domains": [{"name": "a", "description": "x"}, {"name": "a", "description": "y"}]})


def test_per_task_thresholds():
    assert per_task(5, "sit_ssp") == 5
    assert per_task({"sit_ssp": 5}, "sit_ssp") == 5 and per_task({"sit_ssp": 5}, "sift_s") is None
    assert per_task({"default": 3, "sit_ssp": 5}, "sift_s") == 3
    config = CurateConfig(min_words={"sit_ssp": 5}, max_repetition=None)
    short_description = make_example("Sounds like a man.", meta=MALE)
    short_reply = make_example("Wow, great!", task="sift_s")
    score_examples([short_description, short_reply], config)
    kept, dropped = apply_filters([short_description, short_reply], build_filters(config))
    assert kept == [short_reply] and dropped[0][1:] == ("too_short", "4 words < min 5 (sit_ssp)")


# --- filters --------------------------------------------------------------------------------------


def crafted():
    """One example per reason the default config gives, and one good one."""
    return {
        "good": make_example('Sounds like a young man saying "i got the job" quickly, in a happy, upbeat tone.',
                             meta=MALE),
        "no_audio": make_example('Sounds like a young man saying "i got the job" quickly.', meta=MALE, audios=[]),
        "empty_response": make_example("  ", task="sift_s"),
        "wrong_script": make_example("Поздравляю с новой работой, это здорово!", task="sift_s"),
        "wrong_language": make_example("Félicitations pour ton nouveau travail, je suis tellement content pour toi !",
                                       task="sift_ssp", meta=FEMALE),
        "too_repetitive": make_example("so great so great so great so great so great so great", task="sift_s"),
        "refusal": make_example("I'm sorry, but I can't help with that.", task="sift_s"),
        "assistant_boilerplate": make_example("Certainly! Here is a reply: well done!", task="sift_s"),
        "metadata_leak": make_example("According to the metadata, you are happy. Well done!", task="sift_ssp",
                                      meta=FEMALE),
        "contradicts_labels": make_example('Sounds like a woman saying "i got the job".', meta=MALE),
        "misquoted_transcript": make_example('Sounds like a young man saying "you lost the game" fast.', meta=MALE),
        "toxic": make_example("Shut up, you stupid bitch.", task="sift_s"),
    }


def test_each_reason_on_crafted_examples():
    cases = crafted()
    examples = list(cases.values())
    for i, example in enumerate(examples):  # distinct ids
        example.id = f"{i:02d}-{example.id}"
    score_examples(examples)
    kept, dropped = apply_filters(examples, build_filters())
    assert kept == [cases["good"]]
    reasons = {reason: example for example, reason, _ in dropped}
    for reason, example in cases.items():
        if reason != "good":
            assert reasons.get(reason) is example, (reason, [(e.response, r, m) for e, r, m in dropped])
    assert all(reason in REASONS for _, reason, _ in dropped)
    assert drop_counts(dropped)["dropped_toxic"] == 1


def test_filters_read_the_example_when_scores_are_missing():
    example = make_example("Hi there!", task="sift_s", audios=[])
    _, dropped = apply_filters([example], build_filters(CurateConfig(min_words=3)))
    assert dropped[0][1] == "no_audio"  # checked on the example itself, no scores needed
    example = make_example("Hi there!", task="sift_s")
    _, dropped = apply_filters([example], build_filters(CurateConfig(min_words=3)))
    assert dropped[0][1] == "too_short"
    example = make_example("You are a wonderful friend!", task="sift_s")  # unscored: nothing else drops
    assert apply_filters([example], build_filters())[0] == [example]


def test_optional_filters():
    config = CurateConfig(max_words={"sift_s": 8}, min_flesch=50.0, max_unspeakable=0, require_quote=True)
    examples = {
        "too_long": make_example("That is such wonderful news and I am so very happy for you today!", task="sift_s"),
        "hard_to_read": make_example("Unquestionably, institutional accountability necessitates transparency.",
                                     task="sift_s"),
        "unspeakable": make_example("Great (really)!", task="sift_s"),
        "missing_quote": make_example("Sounds like a young man speaking quickly and happily.", meta=MALE),
    }
    score_examples(list(examples.values()), config)
    _, dropped = apply_filters(list(examples.values()), build_filters(config))
    assert {reason: example for example, reason, _ in dropped} == {r: e for r, e in examples.items()}


def test_drop_on_error_and_switching_filters_off():
    example = make_example("According to the metadata, you are happy.", task="sift_ssp", meta=FEMALE)
    example.quality["toxicity_error"] = "RuntimeError: boom"
    score_examples([example], CurateConfig(drop_leakage=False, drop_on_error=True))
    # a successful rescore clears the scorer's earlier error
    assert "toxicity_error" not in example.quality
    example.quality["language_error"] = "RuntimeError: boom"
    kept, dropped = apply_filters([example], build_filters(CurateConfig(drop_leakage=False, drop_on_error=True)))
    assert dropped[0][1] == "scoring_failed" and "boom" in dropped[0][2]
    kept, dropped = apply_filters([example], build_filters(CurateConfig(drop_leakage=False)))
    assert kept == [example]


def test_a_custom_filter():
    def asks(example):
        return "asks a question" if "?" in (example.response or "") else None

    no_questions = Filter("no_questions", "question", asks)
    examples = [make_example("How are you?", task="sift_s"), make_example("Fine.", task="sift_s", clip_id="src/c2")]
    kept, dropped = apply_filters(examples, [no_questions])
    assert kept == examples[1:] and dropped == [(examples[0], "question", "asks a question")]


# --- failure isolation ----------------------------------------------------------------------------


class Fussy(Scorer):
    """Fails on responses that mention bananas."""

    name = "fussy"
    columns: ClassVar[dict[str, ColumnType]] = {"fussy_length": "float"}

    def score(self, example, text):
        if "banana" in text.lower:
            raise ValueError("no bananas\nplease")
        return {"fussy_length": len(text.text)}


class FussyBatch(Fussy):
    name = "fussy_batch"
    columns: ClassVar[dict[str, ColumnType]] = {"fussy_batch_length": "float"}

    def score_batch(self, examples, texts):
        if any("banana" in t.lower for t in texts):
            raise ValueError("no bananas in my batch")
        return [{"fussy_batch_length": len(t.text)} for t in texts]


def test_a_scorer_failing_on_one_example_records_it_and_goes_on(caplog):
    examples = [make_example(t, task="sift_s", clip_id=f"src/c{i}") for i, t in
                enumerate(["I like apples.", "I like bananas.", "I like pears."])]
    texts = [ResponseText(e, 4000) for e in examples]
    assert Fussy().run(examples, texts) == 1
    assert [e.quality.get("fussy_length") for e in examples] == [14, None, 13]
    assert examples[1].quality["fussy_error"] == "ValueError: no bananas please"
    with caplog.at_level(logging.WARNING, logger="speechsift.curate"):
        assert FussyBatch().run(examples, texts) == 1  # the batch fails, then one by one
    assert [e.quality.get("fussy_batch_length") for e in examples] == [14, None, 13]
    assert examples[1].quality["fussy_batch_error"] == "ValueError: no bananas in my batch"
    assert "retrying one by one" in caplog.text


def test_the_curator_isolates_a_broken_scorer(caplog):
    curator = Curator()
    curator.scorers.insert(0, Fussy())
    examples = [make_example(t, task="sift_s", clip_id=f"src/c{i}") for i, t in
                enumerate(["I like bananas.", "I like bananas too.", "I like pears."])]
    with caplog.at_level(logging.WARNING, logger="speechsift.curate"):
        curator.score(examples)
        curator.score([make_example("banana bread!", task="sift_s", clip_id="src/c9")])
    assert curator.errors["fussy"] == 3
    assert caplog.text.count("scorer fussy failed") == 1  # warned once, counted after
    assert all("length_words" in e.quality for e in examples)  # the other scorers ran


def test_examples_that_share_a_quality_dict_get_their_own():
    from dataclasses import replace

    first = make_example("A first reply that is long enough.", task="sift_s")
    second = replace(first, id="other", response="Shut up, you stupid bitch.")
    assert first.quality is second.quality  # dataclasses.replace shares it
    score_examples([first, second])
    assert first.quality is not second.quality
    assert first.quality["toxicity_score"] == 0.0 and second.quality["toxicity_score"] == 1.0


# --- schema ---------------------------------------------------------------------------------------


def test_every_column_written_is_declared_and_typed():
    examples = list(crafted().values())
    curator = Curator(CurateConfig(dedup="near"))
    curator.score(examples)
    curator.index.add(examples)
    curator.index.annotate(examples)
    python_types = {"float": (int, float), "bool": (bool,), "str": (str,)}
    for example in examples:
        for name, value in example.quality.items():
            assert name in QUALITY_COLUMNS, name
            if value is not None:
                kind = QUALITY_COLUMNS[name]
                assert isinstance(value, python_types[kind]) and (kind == "bool" or not isinstance(value, bool)), name
    table = pa.Table.from_pylist([{"quality": quality_row(e.quality)} for e in examples],
                                 schema=pa.schema([("quality", quality_arrow_type())]))
    assert table.num_rows == len(examples)
    assert table.column("quality").type.field("length_words").type == pa.float64()


# --- a full pass over template-written descriptions ----------------------------------------------


def test_template_descriptions_pass_every_default_filter():
    """The template backend's sit_ssp descriptions are faithful by construction: none may be dropped."""
    from factories import make_clip

    from speechsift.tasks import TaskSettings, get_task

    task = get_task("sit_ssp")
    examples = []
    combos = itertools.product(GENDERS + (None,), EMOTIONS, AGE_GROUPS, PACES, ("quiet", "loud", None))
    for i, (gender, emotion, age, pace, volume) in enumerate(combos):
        labels = {"gender": gender, "emotion": emotion, "age": age, "pace": pace, "volume": volume}
        meta = {k: v for k, v in labels.items() if v}
        clip = make_clip(f"src/c{i}", text=["i got the job", "where did you put my keys", "see you tomorrow"][i % 3],
                         meta=meta)
        examples.append(task.build(clip, TaskSettings()))
    backend = make_backend(LLMConfig(backend="template"))
    completions = generate(backend, [e.request for e in examples])
    from speechsift.records import Generation

    final = [task.finish(e, c.text, Generation(backend="template"))[0] for e, c in zip(examples, completions)]
    curator = Curator()
    curator.score(final)
    _, dropped = curator.filter(final)
    assert not dropped, [(e.response, e.meta, r, m) for e, r, m in dropped[:5]]
    assert not any(k.endswith("_error") for e in final for k in e.quality)
