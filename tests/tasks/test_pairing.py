"""Pairing strategies (tasks.pairing): seeded, order-independent, never invented."""

from __future__ import annotations

import random

import pytest
from factories import make_clip

from speechsift.errors import ConfigError
from speechsift.tasks.pairing import (
    PairingEntry,
    entry_of,
    form_pairs,
    random_within_corpus,
    same_speaker_different_emotion,
    same_text_different_speakers,
    seeded_rng,
)


def _entries():
    rows = []
    for i in range(12):
        rows.append(PairingEntry(f"a/{i:02d}", "a", f"spk{i % 2}", f"Sentence {i % 3}!", ["happy", "sad", "angry"][i % 3]))
    rows.append(PairingEntry("a/nospk", "a", None, "Sentence 0", "happy"))
    rows.append(PairingEntry("a/noemo", "a", "spk0", "Sentence 0", None))
    return rows


def _check_pairs(result, entries):
    by_id = {e.clip_id: e for e in entries}
    used = [c for pair in result.pairs for c in pair]
    assert len(used) == len(set(used))  # each clip at most once
    assert all(a != b for a, b in result.pairs)
    return by_id


def test_same_speaker_different_emotion():
    entries = _entries()
    result = same_speaker_different_emotion(entries, seed=1)
    by_id = _check_pairs(result, entries)
    assert len(result.pairs) == 6  # 12 labelled clips, 3 emotions per speaker: all paired
    for a, b in result.pairs:
        assert by_id[a].speaker_id == by_id[b].speaker_id and by_id[a].emotion != by_id[b].emotion
    assert result.report.unpaired == {"no_speaker_id": 1, "no_emotion": 1}
    assert result.report.pairs == 6 and result.report.inputs == 14


def test_same_text_different_speakers():
    entries = _entries()
    result = same_text_different_speakers(entries, seed=1)
    by_id = _check_pairs(result, entries)
    assert result.pairs
    for a, b in result.pairs:
        assert by_id[a].speaker_id != by_id[b].speaker_id
        assert by_id[a].text.strip("!").lower() == by_id[b].text.strip("!").lower()


def test_results_depend_on_the_seed_not_on_the_order():
    entries = _entries()
    shuffled = entries[:]
    random.Random(5).shuffle(shuffled)
    for strategy in ("same_speaker_different_emotion", "same_text_different_speakers", "random_within_corpus"):
        assert form_pairs(entries, strategy, seed=3).pairs == form_pairs(shuffled, strategy, seed=3).pairs
    assert form_pairs(entries, "random_within_corpus", seed=3).pairs != form_pairs(entries, "random_within_corpus", seed=4).pairs


def test_a_single_speaker_corpus_gives_no_pairs_and_says_why():
    entries = [PairingEntry(f"solo/{i}", "solo", "only", "the same text", "neutral") for i in range(5)]
    result = same_text_different_speakers(entries)
    assert result.pairs == []
    assert result.report.sources["solo"]["reason"] == "single_speaker"
    result = same_speaker_different_emotion(entries)
    assert result.pairs == [] and result.report.sources["solo"]["reason"] == "no_speaker_with_two_emotions"
    result = same_speaker_different_emotion([PairingEntry("x/1", "x", "s", "t", None), PairingEntry("x/2", "x", "s", "t", None)])
    assert result.report.sources["x"]["reason"] == "no_emotion_labels"


def test_random_within_corpus_never_crosses_sources():
    entries = [PairingEntry(f"{s}/{i}", s, None) for s in ("a", "b") for i in range(5)] + [PairingEntry("c/0", "c")]
    result = random_within_corpus(entries, seed=0, max_pairs_per_group=1)
    assert len(result.pairs) == 2 and all(a.split("/")[0] == b.split("/")[0] for a, b in result.pairs)
    assert result.report.sources["c"]["reason"] == "too_few_clips"
    assert result.report.to_dict()["unpaired"] == {"no_partner_left": 6, "too_few_clips": 1}


def test_plain_tuples_entry_of_and_unknown_strategy():
    clip = make_clip("src/1", meta={"emotion": "sad", "gender": "male"})
    assert entry_of(clip) == ("src/1", "src", "spk1", "Hello there", "sad", "male", "en")
    assert same_speaker_different_emotion([("s/1", "s", "k", "t", "sad"), ("s/2", "s", "k", "t", "happy")]).pairs
    with pytest.raises(ConfigError, match="unknown pairing strategy"):
        form_pairs([], "nearest")
    assert seeded_rng(1, "x").random() == seeded_rng(1, "x").random()
