"""Clip ids are unique in a run: the second clip with an id already read is a ``duplicate_id`` reject.

Two rows with one id would become two examples with one id (and one of them would overwrite the
other wherever ids key things: the ledger, the splits, the exports). ``unique_clips`` sits on the
stream of every source, before it is cut into shards, so the decision is the same on a rerun, a
resumed run and any ``--limit``: a clip is refused exactly when an earlier one in the sources'
order had its id, and the first one is kept.

Memory: ``IdSet`` keeps 8 bytes per id (a 64-bit hash, in sorted numpy runs), never the strings:
8 MB per million clips, plus as much again for a moment while the largest runs merge. Time grows
as O(log² n) comparisons a clip: about 0.1 µs of hashing and 0.2-0.3 µs of searching and merging
a clip between 0.2 and 1 million clips, against ~15 µs to prepare one. A Python set of the ids would take about 100 bytes per id (string plus set slot).
Two different ids collide in 64 bits with probability about n²/2^65: 3e-8 for a million clips,
3e-4 for a hundred million; the hash is deterministic, so a collision (a clip wrongly called a
duplicate) would at least be the same on every run. Beyond about a billion clips the runs
(8 GB) should move to disk: a later engine issue bounds memory at scale.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from speechsift.records import Clip
from speechsift.sources.base import RejectedRow

# Clips hashed and looked up at once: enough to spread numpy's per-call cost (about 60 instructions
# a clip at this size), few enough that the clips held back meanwhile take a few MB.
CHUNK = 2048

# A run merges into the one before it while that one is at most this many times its size: runs
# grow by this factor per level, so there are log_8(n / CHUNK) of them to search (3 at a million
# clips) and each hash is copied about 8/2 times per level. Measured over 0.2M and 1M random
# hashes, 8 spends the least on search plus merging (180 and 280 ns a clip; 2: 280 and 610 ns).
MERGE_RATIO = 8

# The finalizer of MurmurHash3 (Appleby, fmix64): every input bit flips each output bit with
# probability ~1/2. Applied per 64-bit word of the id (eight ASCII characters, or two UCS-4 ones)
# in a chain seeded with the id's length, then once more at the end.
_FMIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)
# Ids longer than this are hashed one by one, so that one huge id does not widen a whole chunk's matrix.
_WIDE_ID = 256


def _fmix(h: np.ndarray, scratch: np.ndarray) -> None:
    """MurmurHash3's fmix64, in place (unsigned arithmetic wraps modulo 2^64)."""
    np.right_shift(h, _SHIFT, out=scratch)
    h ^= scratch
    h *= _FMIX_1
    np.right_shift(h, _SHIFT, out=scratch)
    h ^= scratch
    h *= _FMIX_2
    np.right_shift(h, _SHIFT, out=scratch)
    h ^= scratch


def _hash_block(ids: Sequence[str], lengths: np.ndarray, unit: str) -> np.ndarray:
    """The chain over each id's own 64-bit words, so an id hashes the same in any chunk.

    ``unit`` "S": ASCII ids as bytes, eight characters a word; "U": others as UCS-4, two a word.
    """
    per_word = 8 if unit == "S" else 2
    words_of = (lengths + per_word - 1) // per_word
    width = per_word * max(int(words_of.max()), 1)
    words = np.array(ids, dtype=f"<{unit}{width}").view(np.uint64).reshape(len(ids), -1)
    words = np.ascontiguousarray(words.T)  # one row per word position
    h = lengths.astype(np.uint64)  # the length first: trailing NULs are not stored in S or U arrays
    scratch = np.empty_like(h)
    shortest = int(words_of.min())
    for position, word in enumerate(words):
        if position < shortest:  # every id has this word: in place
            h ^= word
            _fmix(h, scratch)
        else:
            longer = words_of > position
            part = h[longer] ^ word[longer]
            _fmix(part, np.empty_like(part))
            h[longer] = part
    _fmix(h, scratch)
    return h


def id_hashes(ids: Sequence[str]) -> np.ndarray:
    """A 64-bit hash of each id, the same in every process, on every machine and in any company."""
    n = len(ids)
    lengths = np.fromiter(map(len, ids), np.int64, n)
    if not n:
        return np.zeros(0, np.uint64)
    if lengths.max() <= _WIDE_ID and "".join(ids).isascii():  # the common case: one block
        return _hash_block(ids, lengths, "S")
    out = np.empty(n, np.uint64)
    ascii = np.fromiter(map(str.isascii, ids), bool, n)
    narrow = lengths <= _WIDE_ID
    for chosen, unit in ((ascii & narrow, "S"), (~ascii & narrow, "U")):
        where = np.flatnonzero(chosen)
        if where.size:
            out[where] = _hash_block([ids[i] for i in where], lengths[where], unit)
    for i in np.flatnonzero(~narrow):
        out[i] = _hash_block([ids[i]], lengths[i : i + 1], "S" if ascii[i] else "U")[0]
    return out


class IdSet:
    """The ids seen so far, as 8-byte hashes in sorted runs (a small log-structured merge set).

    ``add`` takes a chunk of ids and says which were seen before (earlier chunks, or earlier in the
    same chunk). Each chunk's new hashes become a run; runs within ``MERGE_RATIO`` of each other's
    size merge, so there are O(log n) runs and every hash is merged O(log n) times.
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(run.size for run in self._runs)

    def add(self, ids: Sequence[str]) -> np.ndarray:
        """A bool array: True where the id was seen before; the others are remembered."""
        hashes = id_hashes(ids)
        ordered = np.sort(hashes)
        again = ordered[1:] == ordered[:-1]
        known = np.zeros(ordered.size, dtype=bool)
        for run in self._runs:  # sorted needles: numpy's binary search starts each where the last ended
            at = np.searchsorted(run, ordered)
            known |= run[np.minimum(at, run.size - 1)] == ordered
        if again.any() or known.any():  # some repeat: which positions, and the distinct new hashes
            distinct, first, where = np.unique(hashes, return_index=True, return_inverse=True)
            seen = np.isin(hashes, ordered[known])
            seen[np.arange(len(ids)) != first[where]] = True  # a repeat inside this chunk
            new = distinct[~np.isin(distinct, ordered[known])]
        else:  # the common case
            seen = np.zeros(len(ids), dtype=bool)
            new = ordered
        if new.size:
            self._runs.append(new)
            while len(self._runs) > 1 and self._runs[-2].size <= MERGE_RATIO * self._runs[-1].size:
                merged = np.concatenate((self._runs[-2], self._runs.pop()))
                merged.sort(kind="stable")  # in place; on two sorted runs, one merge pass
                self._runs[-1] = merged
        return seen


def unique_clips(items: Iterable[Clip | RejectedRow]) -> Iterator[Clip | RejectedRow]:
    """``items`` with every clip whose id an earlier clip had turned into a ``duplicate_id`` reject.

    Rows the source already refused are passed on as they are and do not claim their id.
    """
    return itertools.chain.from_iterable(_unique_chunks(items))  # items flow on in C, chunk by chunk


def _unique_chunks(items: Iterable[Clip | RejectedRow]) -> Iterator[list[Clip | RejectedRow]]:
    ids = IdSet()
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        try:
            keys = [item.clip_id for item in chunk]  # the common case: every item is a clip
            clips = chunk
        except AttributeError:  # a RejectedRow among them
            clips = [item for item in chunk if item.__class__ is Clip]
            keys = [clip.clip_id for clip in clips]
        seen = ids.add(keys) if keys else None
        if seen is None or not seen.any():
            yield chunk
            continue
        repeated = {id(clip) for clip, again in zip(clips, seen) if again}
        yield [
            RejectedRow(
                item.clip_id, item.source, "duplicate_id",
                f"clip id {item.clip_id!r} was read before (audio {item.audio.describe()}); ids must be "
                "unique, so the first clip with it is kept and this one is left out",
            ) if id(item) in repeated else item
            for item in chunk
        ]
