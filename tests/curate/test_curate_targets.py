"""What curation reads of each task (``Task.audio_target``, ``Task.target_from_clip``): the instruction
of an audio target, and dedup that never calls examples about different audio duplicates unless a
model wrote their text."""

from __future__ import annotations

from dataclasses import replace

import pytest
from curate_helpers import make_example
from factories import make_clip

from speechsift.curate import CurateConfig, Curator
from speechsift.records import Generation
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.base import target_from_clip, written_text

VOICE = {"gender": "female", "emotion": "sad", "pace": "slow", "volume": "loud"}
TEMPLATE = Generation(backend="template")


def curate(examples, **config):
    """Score, filter, index and filter again, as the assemble pass does; returns (kept, dropped)."""
    curator = Curator(CurateConfig(**config))
    curator.score(examples)
    kept, dropped = curator.filter(examples)
    curator.index.add(kept)
    curator.index.annotate(kept)
    kept, more = curator.filter(kept)
    return kept, dropped + more


def controllable(instruction, *, language="en", meta=VOICE, clip_id="src/c1"):
    return make_example(instruction, task="controllable", meta=meta, language=language, clip_id=clip_id,
                        text="the train leaves at noon")


# --- item: audio targets ---------------------------------------------------------------------------------


def test_controllable_examples_survive_the_default_curation():
    examples = [controllable("Read the text slowly and loudly, in a sad female voice.")]
    for language in ("en", "de", "fr", "it", "es"):
        clip = make_clip(f"src/{language}", text="the train leaves at noon", meta=VOICE)
        clip.language = language
        examples.append(get_task("controllable_template").build(clip, TaskSettings()))
    kept, dropped = curate(examples)
    assert [(e.task, r, m) for e, r, m in dropped] == []
    assert len(kept) == 6 and all(e.response == "" for e in kept)


def test_the_instruction_is_what_curation_scores_for_an_audio_target():
    example = controllable("Read the text slowly and loudly, in a sad female voice.")
    assert written_text(example) == example.instruction and example.response == ""
    Curator(CurateConfig()).score([example])
    q = example.quality
    assert q["length_words"] == 11 and q["leakage_flag"] is False and q["consistency_contradiction"] is False
    assert q["language_match"] is True and "consistency_has_quote" not in q  # no quote check on instructions


@pytest.mark.parametrize("instruction, language, reason", [
    ("Read the text the way the metadata describes: slowly.", "en", "metadata_leak"),
    ("Read the text slowly and loudly, like a happy man.", "en", "contradicts_labels"),
    ("Read the text loudly, with a cheerful, happy tone.", "en", "contradicts_labels"),
    ("Lies den Text langsam und laut mit einer fröhlichen Männerstimme vor.", "de", "contradicts_labels"),
    ("Read the text slowly and loudly, in a sad female voice.", "de", "wrong_language"),
])
def test_audio_targets_are_dropped_for_what_their_instruction_says(instruction, language, reason):
    example = controllable("Say the text slowly.", language=language)
    example = replace(example, instruction=instruction)  # as a model might have written it
    _, dropped = curate([example])
    assert [r for _, r, _ in dropped] == [reason]


def test_text_filters_leave_audio_targets_alone():
    example = controllable("Say it slowly and loudly.")
    kept, dropped = curate([example], min_words=10, max_unspeakable=0, min_flesch=90.0)
    assert kept == [example] and dropped == []
    reply = make_example("Fine.", task="sift_s")
    _, dropped = curate([reply], min_words=10)
    assert [r for _, r, _ in dropped] == ["too_short"]


# --- item: dedup of targets that follow from the clip ----------------------------------------------------------


def happy_clips(n, task, **build):
    examples = []
    for i in range(n):
        clip = make_clip(f"src/c{i}", text=f"sentence {i}", meta={"gender": "male", "emotion": "happy"})
        built = get_task(task).build(clip, TaskSettings(**build))
        examples.extend(built if isinstance(built, list) else [built])
    return examples


def test_template_answers_about_different_clips_are_never_duplicates():
    examples = happy_clips(40, "closed_ended_template")
    pairs = {(e.instruction, e.response) for e in examples}
    assert len(pairs) < len(examples) / 2  # the same question and answer, many times over
    for mode in ("exact", "near"):
        kept, dropped = curate(examples, dedup=mode)
        assert dropped == [] and len(kept) == len(examples), mode


def test_two_speakers_reading_the_same_sentence_keep_their_transcriptions():
    examples = [make_example(None, task="transcription", clip_id=f"src/t{i}", text="the same sentence read twice")
                for i in range(3)]
    kept, dropped = curate(examples, dedup="exact")
    assert len(kept) == 3 and dropped == []
    kept, dropped = curate(examples, dedup="exact", dedup_direct=True)  # asked for: thin out the corpus
    assert len(kept) == 1 and {r for _, r, _ in dropped} == {"duplicate"}


def test_the_template_backend_writes_from_the_clip_a_model_does_not():
    description = 'Sounds like a young man saying "i got the job" quickly, in a happy, upbeat tone.'
    written = [make_example(description, clip_id=f"src/c{i}") for i in range(3)]  # a model wrote these
    templated = [replace(e, generation=TEMPLATE) for e in written]  # llm.backend: template
    assert not any(target_from_clip(e) for e in written) and all(target_from_clip(e) for e in templated)
    kept, dropped = curate(written, dedup="exact")
    assert len(kept) == 1 and [r for _, r, _ in dropped] == ["duplicate", "duplicate"]
    kept, dropped = curate(templated, dedup="exact")
    assert len(kept) == 3 and dropped == []


def test_one_clips_samples_are_still_compared():
    # llm.n = 2 with the template backend: the same description twice for one clip
    description = 'Sounds like a young man saying "i got the job" quickly, in a happy, upbeat tone.'
    twice = [replace(make_example(description), id=f"s{i}", generation=TEMPLATE) for i in range(2)]
    kept, dropped = curate(twice, dedup="exact")
    assert [e.id for e in kept] == ["s0"] and [r for _, r, _ in dropped] == ["duplicate"]
