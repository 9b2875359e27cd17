"""Duplicates across the whole dataset: exact (normalized text), near (MinHash LSH) and semantic
(sentence-embedding cosine similarity).

Dedup is global, so it is an index rather than a scorer: feed it every batch (``add``), then ask
which examples duplicate which (``duplicates``), then write the answer into each example's
``quality`` (``annotate``) so that the ``duplicate`` filters can act on it.

What counts as a duplicate:

- Two examples are compared only within one *group*: the same task (``scope="task"``, default),
  or the same clip(s) (``scope="clip"``: the n samples drawn for one prompt), or anywhere
  (``scope="all"``); and always the same instruction (normalized). Two short answers to two
  different questions are not duplicates.
- A target that follows from the clip (``tasks.base.target_from_clip``: transcripts, extracted
  answers, template answers and descriptions, which the task declares) is compared only with
  examples of the same clip(s): two clips are different audio, so "The speaker sounds happy." for
  two happy clips, or the transcripts of two speakers reading the same sentence, are not
  duplicates. Corpus targets (one per clip and task) are left out altogether. ``across_clips``
  compares these targets across clips too, to thin out a corpus where many speakers read the same
  sentences. Text a model wrote is compared across clips: a model that gives many clips the same
  answer has not listened. Audio targets (controllable generation) have no text to compare.
- Responses shorter than ``min_words`` words are never duplicates ("Yes.", "Happy.").
- exact: the same words after normalization (case, punctuation, spacing and Unicode forms do not
  count); near: estimated Jaccard similarity of character ``shingle``-grams >= ``threshold``
  (MinHash with ``num_perm`` permutations over CRC-32 shingle hashes, datasketch's LSH to find
  candidates, every candidate checked against the signatures); semantic: cosine similarity of
  all-MiniLM-L6-v2 embeddings >= ``semantic_threshold``. near and semantic include exact.

Determinism: of each set of duplicates, the example with the smallest ``id`` (string order) is
kept, whatever order the batches arrive in; so the answer is the same for any shard order or
executor. Adding an id twice (a resumed shard) is harmless.

Memory: about 200 bytes per example for exact; near adds the MinHash signature and LSH buckets
(about 1.5 KB per distinct response at ``num_perm=128``); semantic adds 1.5 KB per distinct
response (384 float32) and compares every pair within a group, so it is meant for groups up to a
few hundred thousand responses.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from speechsift.curate.base import ColumnType
from speechsift.curate.text import is_generated, normalize_for_hash, require, target_from_clip
from speechsift.errors import ConfigError
from speechsift.records import Example

DedupMode = Literal["none", "exact", "near", "semantic"]
DedupScope = Literal["task", "clip", "all"]

DEDUP_COLUMNS: dict[str, ColumnType] = {"dedup_kind": "str", "dedup_of": "str", "dedup_similarity": "float"}
KIND_EXACT, KIND_NEAR, KIND_SEMANTIC = "duplicate", "near_duplicate", "semantic_duplicate"


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).digest()


@dataclass(frozen=True, slots=True)
class Duplicate:
    """``id`` duplicates the kept example ``kept_id``; ``kind`` and ``similarity`` say how."""

    id: str
    kept_id: str
    kind: str
    similarity: float


class DedupIndex:
    """Finds duplicate responses across batches. See the module docstring for the rules.

    Args:
        mode: ``exact``, ``near`` or ``semantic`` (``none`` makes an index that finds nothing).
        scope: compare within one ``task`` (default), one ``clip`` set, or ``all`` examples.
        threshold: near mode's Jaccard similarity (0..1) at which two responses are duplicates.
        semantic_threshold: semantic mode's cosine similarity at which two responses are duplicates.
        num_perm: MinHash permutations (more: more exact estimates, more memory).
        shingle: near mode's character n-gram size.
        min_words: responses with fewer words are never duplicates.
        across_clips: also compare targets that follow from the clip across different clips.
        embedder: the ``Embedder`` for semantic mode (built with the default model when omitted).
        max_chars: only the first ``max_chars`` characters of a response are compared.
    """

    def __init__(self, mode: DedupMode = "exact", *, scope: DedupScope = "task", threshold: float = 0.8,
                 semantic_threshold: float = 0.95, num_perm: int = 128, shingle: int = 5, min_words: int = 4,
                 across_clips: bool = False, embedder=None, max_chars: int = 4000, seed: int = 1) -> None:
        if mode not in ("none", "exact", "near", "semantic"):
            raise ConfigError(f"curate.dedup: unknown mode {mode!r}; use none, exact, near or semantic")
        self.mode = mode
        self.scope = scope
        self.threshold = threshold
        self.semantic_threshold = semantic_threshold
        self.num_perm = num_perm
        self.shingle = shingle
        self.min_words = min_words
        self.across_clips = across_clips
        self.max_chars = max_chars
        self.seed = seed
        self.embedder = embedder
        # (group, response digest) -> smallest id; and the other ids with that key
        self._best: dict[tuple[bytes, bytes], str] = {}
        self._others: dict[tuple[bytes, bytes], list[str]] = {}
        self._ids: set[str] = set()
        self._signatures: dict[tuple[bytes, bytes], object] = {}
        self._vectors: dict[bytes, dict[bytes, np.ndarray]] = {}
        self._lsh = None
        self._permutations = None
        self._result: dict[str, Duplicate] | None = None
        if mode == "near":
            require("datasketch", "datasketch", "curate.dedup: near")
            from datasketch import MinHash, MinHashLSH

            self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
            self._permutations = MinHash(num_perm=num_perm, seed=seed).permutations
        if mode == "semantic" and self.embedder is None:
            from speechsift.curate.embeddings import Embedder

            self.embedder = Embedder()

    def __len__(self) -> int:
        """How many examples the index holds."""
        return len(self._ids)

    # --- feeding ----------------------------------------------------------------------------------

    def _group(self, example: Example, per_clip: bool) -> bytes:
        if self.scope == "task":
            part = example.task
        elif self.scope == "clip":
            part = ""
            per_clip = True
        else:
            part = ""
        if per_clip:
            part += "\x1e" + "\x1e".join(example.clip_ids)
        return _digest(part + "\x1f" + normalize_for_hash(example.instruction or ""))

    def add(self, examples: Iterable[Example]) -> None:
        """Index ``examples`` (those eligible: see the module docstring)."""
        if self.mode == "none":
            return
        fresh: list[tuple[tuple[bytes, bytes], str]] = []  # new keys and their normalized text
        added = 0
        for example in examples:
            if example.id in self._ids:
                continue
            response = example.response
            if not response:
                continue
            per_clip = not self.across_clips and target_from_clip(example)
            if per_clip and not is_generated(example):
                continue  # a corpus target: one per clip and task, nothing to compare it with
            normalized = normalize_for_hash(response[: self.max_chars])
            if normalized.count(" ") + 1 < self.min_words or not normalized:
                continue
            self._ids.add(example.id)
            added += 1
            key = (self._group(example, per_clip), _digest(normalized))
            best = self._best.get(key)
            if best is None:
                self._best[key] = example.id
                fresh.append((key, normalized))
            else:
                if example.id < best:
                    self._best[key] = example.id
                    example_id = best
                else:
                    example_id = example.id
                self._others.setdefault(key, []).append(example_id)
        if added:
            self._result = None
        if fresh and self.mode == "near":
            self._add_signatures(fresh)
        elif fresh and self.mode == "semantic":
            self._add_vectors(fresh)

    def _shingles(self, text: str) -> list[bytes]:
        n = self.shingle
        data = text.encode("utf-8")
        if len(data) <= n:
            return [data]
        return list({data[i:i + n] for i in range(len(data) - n + 1)})

    def _add_signatures(self, fresh: Sequence[tuple[tuple[bytes, bytes], str]]) -> None:
        from datasketch import LeanMinHash, MinHash

        for key, text in fresh:
            minhash = MinHash(num_perm=self.num_perm, seed=self.seed, permutations=self._permutations,
                              scheme="affine32", hashfunc=zlib.crc32)
            minhash.update_batch(self._shingles(text))
            lean = LeanMinHash(minhash)
            self._signatures[key] = lean
            self._lsh.insert(key, lean, check_duplication=False)

    def _add_vectors(self, fresh: Sequence[tuple[tuple[bytes, bytes], str]]) -> None:
        vectors = self.embedder.encode([text for _, text in fresh])
        for (group, digest), vector in zip((key for key, _ in fresh), vectors):
            self._vectors.setdefault(group, {})[digest] = vector

    # --- asking -----------------------------------------------------------------------------------

    def duplicates(self) -> dict[str, str]:
        """``{id: kept_id}`` for every duplicate found; kept examples are not in it."""
        return {d.id: d.kept_id for d in self._resolve().values()}

    def details(self) -> dict[str, Duplicate]:
        """``{id: Duplicate}``: the same as ``duplicates`` with the kind and similarity of each."""
        return dict(self._resolve())

    def annotate(self, examples: Iterable[Example]) -> None:
        """Write ``dedup_kind``, ``dedup_of`` and ``dedup_similarity`` into each example's quality
        (null for examples that are not duplicates; a fresh dict, see ``score_examples``)."""
        result = self._resolve()
        for example in examples:
            found = result.get(example.id)
            quality = dict(example.quality)
            if found is None:
                quality.update(dedup_kind=None, dedup_of=None, dedup_similarity=None)
            else:
                quality.update(dedup_kind=found.kind, dedup_of=found.kept_id, dedup_similarity=found.similarity)
            example.quality = quality

    def _resolve(self) -> dict[str, Duplicate]:
        if self._result is not None:
            return self._result
        result: dict[str, Duplicate] = {}
        # Near and semantic: which distinct responses duplicate an earlier-kept one (in id order).
        merged: dict[tuple[bytes, bytes], tuple[tuple[bytes, bytes], float]] = {}
        if self.mode == "near":
            merged = self._resolve_near()
        elif self.mode == "semantic":
            merged = self._resolve_semantic()
        for key, kept in merged.items():
            target_key, similarity = kept
            kind = KIND_NEAR if self.mode == "near" else KIND_SEMANTIC
            target = self._best[target_key]
            result[self._best[key]] = Duplicate(self._best[key], target, kind, similarity)
            for other in self._others.get(key, ()):
                result[other] = Duplicate(other, target, KIND_EXACT, 1.0)
        for key, others in self._others.items():
            if key in merged:
                continue
            kept_id = self._best[key]
            for other in others:
                result[other] = Duplicate(other, kept_id, KIND_EXACT, 1.0)
        self._result = result
        return result

    def _resolve_near(self) -> dict[tuple[bytes, bytes], tuple[tuple[bytes, bytes], float]]:
        merged: dict[tuple[bytes, bytes], tuple[tuple[bytes, bytes], float]] = {}
        kept: set[tuple[bytes, bytes]] = set()
        for key in sorted(self._signatures, key=self._best.__getitem__):
            signature = self._signatures[key]
            best: tuple[str, tuple[bytes, bytes], float] | None = None
            for candidate in self._lsh.query(signature):
                if candidate not in kept or candidate[0] != key[0]:
                    continue
                similarity = float(signature.jaccard(self._signatures[candidate]))
                if similarity < self.threshold:
                    continue
                candidate_id = self._best[candidate]
                if best is None or candidate_id < best[0]:
                    best = (candidate_id, candidate, similarity)
            if best is None:
                kept.add(key)
            else:
                merged[key] = (best[1], best[2])
        return merged

    def _resolve_semantic(self, block: int = 1024) -> dict[tuple[bytes, bytes], tuple[tuple[bytes, bytes], float]]:
        merged: dict[tuple[bytes, bytes], tuple[tuple[bytes, bytes], float]] = {}
        for group, vectors in self._vectors.items():
            digests = sorted(vectors, key=lambda d: self._best[(group, d)])
            matrix = np.stack([vectors[d] for d in digests]) if digests else np.zeros((0, 1), np.float32)
            kept_rows: list[int] = []
            for start in range(0, len(digests), block):
                rows = range(start, min(start + block, len(digests)))
                previous = matrix[kept_rows] if kept_rows else None
                against_kept = matrix[start:rows.stop] @ previous.T if previous is not None else None
                block_kept: list[int] = []
                for offset, row in enumerate(rows):
                    best_row, best_sim = -1, -2.0
                    if against_kept is not None:
                        j = int(against_kept[offset].argmax())
                        best_row, best_sim = kept_rows[j], float(against_kept[offset, j])
                        if best_sim < self.semantic_threshold:
                            best_row, best_sim = -1, -2.0
                    if best_row < 0 and block_kept:
                        sims = matrix[block_kept] @ matrix[row]
                        j = int(sims.argmax())
                        if sims[j] >= self.semantic_threshold:
                            best_row, best_sim = block_kept[j], float(sims[j])
                    if best_row < 0:
                        block_kept.append(row)
                    else:
                        merged[(group, digests[row])] = ((group, digests[best_row]), best_sim)
                kept_rows.extend(block_kept)
        return merged
