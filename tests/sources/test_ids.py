"""Clip ids are unique in a run: the id set and the duplicate_id rejects on the source stream."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from factories import make_clip

from speechsift.sources import RejectedRow
from speechsift.sources.ids import CHUNK, IdSet, id_hashes, unique_clips


def test_id_set_finds_repeats_within_and_across_chunks():
    ids = IdSet()
    first = [f"s/{i}" for i in range(10_000)]
    assert not ids.add(first).any()
    again = ids.add(["s/5", "new", "new", "s/9999", "s/10000", "s/" + "é" * 1000, "s/" + "é" * 1000])
    assert again.tolist() == [True, False, True, True, False, False, True]
    assert len(ids) == 10_003, "every distinct id once, 8 bytes each"
    assert ids.add(["new", "s/10000", "s/" + "é" * 1000]).all()


def test_hashes_tell_apart_ids_that_differ_only_in_length_or_late_characters():
    ids = ["", "a", "a\x00", "a\x00\x00", "ab", "ba", "s/x" * 100 + "1", "s/x" * 100 + "2", "s/" + "x" * 300]
    assert len(set(id_hashes(ids).tolist())) == len(ids)
    many = [f"corpus/speaker{i % 97}/utt_{i:08d}" for i in range(200_000)]
    assert np.unique(id_hashes(many)).size == len(many)
    alone = [id_hashes([one])[0] for one in ids]
    assert id_hashes(ids).tolist() == alone, "an id hashes the same whatever else is in its chunk"


def test_hashes_are_the_same_in_every_process():
    """Python's own str hash changes per process; the id hash must not, or a rerun could differ."""
    script = "from speechsift.sources.ids import id_hashes; print(id_hashes(['src/a', 'src/b' * 200]).tolist())"
    outputs = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1 and outputs.pop().strip() == str(id_hashes(["src/a", "src/b" * 200]).tolist())


def test_unique_clips_rejects_the_second_clip_with_an_id_and_keeps_the_order():
    rows = [make_clip("a/1"), RejectedRow("a/2", "a", "missing_audio", "no audio"), make_clip("a/2"),
            make_clip("a/1", path="/other.wav")]
    rows += [make_clip(f"a/n{i}") for i in range(CHUNK)] + [make_clip("a/2"), make_clip("b/1")]
    out = list(unique_clips(rows))
    assert [getattr(item, "clip_id", None) or item.id for item in out] == [
        "a/1", "a/2", "a/2", "a/1", *[f"a/n{i}" for i in range(CHUNK)], "a/2", "b/1"]
    refused = [item for item in out if isinstance(item, RejectedRow)]
    assert [(r.id, r.reason) for r in refused] == [("a/2", "missing_audio"), ("a/1", "duplicate_id"), ("a/2", "duplicate_id")]
    assert "/other.wav" in refused[1].message, "the message says which audio the refused clip pointed at"
    assert out[2].__class__.__name__ == "Clip", "a row the source refused does not claim its id"
