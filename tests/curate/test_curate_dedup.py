"""Global duplicates: exact, near (MinHash LSH) and semantic; deterministic whatever the order."""

from __future__ import annotations

import random

import pytest
from curate_helpers import make_example

from speechsift.curate import CurateConfig, Curator, DedupIndex, apply_filters

REPLY = "That is wonderful news, congratulations on the new job, you really earned it!"


def replies(*texts, task="sift_s", start=0):
    return [make_example(text, task=task, clip_id=f"src/c{start + i}") for i, text in enumerate(texts)]


def test_exact_duplicates_ignore_case_punctuation_and_spacing():
    variants = (REPLY, REPLY.upper().replace(",", ""), "  " + REPLY.replace(" ", "  "))
    examples = replies(*variants, "Something else entirely, friend.")
    index = DedupIndex("exact")
    index.add(examples)
    duplicates = index.duplicates()
    kept = min(e.id for e in examples[:3])
    assert duplicates == {e.id: kept for e in examples[:3] if e.id != kept}
    assert len(index) == 4


def test_the_smallest_id_is_kept_whatever_the_order_and_batching():
    examples = replies(*([REPLY] * 5), "A different answer for a different clip.", "Another one that is unique.")
    expected = None
    for seed in range(5):
        shuffled = examples[:]
        random.Random(seed).shuffle(shuffled)
        index = DedupIndex("near")
        for i in range(0, len(shuffled), 2):
            index.add(shuffled[i:i + 2])
        index.add(shuffled[:3])  # a resumed shard, added twice: harmless
        result = index.duplicates()
        expected = expected or result
        assert result == expected
    assert set(expected.values()) == {min(e.id for e in examples[:5])}


def test_near_duplicates():
    a = "Oh wow, that is such wonderful news about the new job, I am really proud of you and so happy."
    b = "Oh wow, that is such wonderful news about your new job, I am really proud of you and so happy!"
    c = "Take a deep breath, exams are stressful, but you prepared well and you will do fine tomorrow."
    examples = replies(a, b, c)
    exact = DedupIndex("exact")
    exact.add(examples)
    assert exact.duplicates() == {}
    near = DedupIndex("near", threshold=0.7)
    near.add(examples)
    details = near.details()
    assert len(details) == 1
    [(dup_id, found)] = details.items()
    assert {dup_id, found.kept_id} == {examples[0].id, examples[1].id} and found.kept_id < dup_id
    assert found.kind == "near_duplicate" and 0.7 <= found.similarity < 1.0


def test_exact_copies_of_a_near_duplicate_point_at_the_example_kept():
    a = "Oh wow, that is such wonderful news about the new job, I am really proud of you and so happy."
    b = "Oh wow, that is such wonderful news about your new job, I am really proud of you and so happy!"
    examples = replies(a, b, b, b)
    index = DedupIndex("near", threshold=0.7)
    index.add(examples)
    duplicates = index.duplicates()
    kept = {e.id for e in examples} - set(duplicates)
    assert len(kept) == 1 and set(duplicates.values()) == kept


def test_what_is_compared():
    index = DedupIndex("exact")
    index.add(replies(REPLY, REPLY, task="sift_s") + replies(REPLY, task="sift_ssp", start=10))
    assert len(index.duplicates()) == 1  # only within one task
    index = DedupIndex("exact", scope="all")
    index.add(replies(REPLY, REPLY, task="sift_s") + replies(REPLY, task="sift_ssp", start=10))
    assert len(index.duplicates()) == 2
    # Two speakers reading the same sentence: corpus targets are not duplicates by default.
    transcripts = [make_example(None, task="transcription", clip_id=f"src/t{i}", text="the same sentence read twice")
                   for i in range(2)]
    index = DedupIndex("exact")
    index.add(transcripts)
    assert index.duplicates() == {}
    index = DedupIndex("exact", across_clips=True)
    index.add(transcripts)
    assert len(index.duplicates()) == 1
    # Short answers are never duplicates.
    index = DedupIndex("exact")
    index.add(replies("Yes, sure.", "Yes, sure."))
    assert index.duplicates() == {}
    # n samples of one clip: scope "clip".
    same_clip = [make_example(REPLY, task="sift_s", clip_id="src/c1", id=f"s{i}") for i in range(2)]
    other_clip = [make_example(REPLY, task="sift_s", clip_id="src/c2", id="s9")]
    index = DedupIndex("exact", scope="clip")
    index.add(same_clip + other_clip)
    assert index.duplicates() == {"s1": "s0"}


def test_annotate_writes_quality_and_the_filters_drop_duplicates():
    examples = replies(REPLY, REPLY, "A different answer for a different clip.")
    curator = Curator(CurateConfig(dedup="near"))
    curator.score(examples)
    kept, dropped = apply_filters(examples, curator.filters)
    assert len(kept) == 3  # nothing known yet about duplicates
    curator.index.add(kept)
    curator.index.annotate(examples)
    kept, dropped = apply_filters(examples, curator.filters)
    assert len(kept) == 2
    [(example, reason, message)] = dropped
    assert reason == "duplicate" and example.quality["dedup_of"] in message
    assert example.quality["dedup_kind"] == "duplicate" and example.quality["dedup_similarity"] == 1.0
    assert all(e.quality["dedup_kind"] is None for e in kept)


def test_none_mode_finds_nothing_and_bad_modes_are_refused():
    index = DedupIndex("none")
    index.add(replies(REPLY, REPLY))
    assert index.duplicates() == {} and len(index) == 0
    with pytest.raises(Exception, match="unknown mode"):
        DedupIndex("fuzzy")
