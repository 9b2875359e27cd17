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

Memory: the index holds no example. ``add`` files compact keys (group and response digests, the id,
its part, the normalized response) into hash partitions on disk (``engine/spill.py``), and the
answer is worked out one partition at a time: exact duplicates by grouping each partition on
(group, response digest); near duplicates by LSH band buckets (each distinct response's MinHash
signature cut into datasketch's bands for ``threshold`` and ``num_perm``; two responses of one
group that share a band's values are candidates), every candidate pair checked against the two
signatures (a join of the pairs with the signatures, partition by partition), then the greedy
pass in id order over the pairs found similar. What stays in memory is one partition and the
near-duplicate pairs. Semantic dedup keeps each distinct response's embedding in memory (1.5 KB
each) and compares every pair within a group, so it is meant for groups up to a few hundred
thousand responses.
"""

from __future__ import annotations

import hashlib
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from speechsift.curate.base import ColumnType
from speechsift.curate.text import is_generated, normalize_for_hash, require, target_from_clip
from speechsift.errors import ConfigError
from speechsift.records import Example
from speechsift.spill import Spill, digest_prefix64, fresh_folder, partitions_for, string_hash64

# Examples per partition of the dedup spills: a partition is resolved in memory with each distinct
# response's text, its MinHash signature, its band buckets and the candidate pairs, and grouped
# and joined by pyarrow, about 4.5 kB an example at its peak (measured: +300 MB for one partition
# of 67k examples), so 50k examples keep the peak near 200 MB at any size of the dataset.
ROWS_PER_PARTITION = 50_000

DedupMode = Literal["none", "exact", "near", "semantic"]
DedupScope = Literal["task", "clip", "all"]

DEDUP_COLUMNS: dict[str, ColumnType] = {"dedup_kind": "str", "dedup_of": "str", "dedup_similarity": "float"}
KIND_EXACT, KIND_NEAR, KIND_SEMANTIC = "duplicate", "near_duplicate", "semantic_duplicate"


DIGEST_BYTES = 12


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=DIGEST_BYTES).digest()


@dataclass(frozen=True, slots=True)
class Duplicate:
    """``id`` duplicates the kept example ``kept_id``; ``kind`` and ``similarity`` say how."""

    id: str
    kept_id: str
    kind: str
    similarity: float


KEY_SCHEMA = pa.schema([("group", pa.binary(DIGEST_BYTES)), ("digest", pa.binary(DIGEST_BYTES)), ("id", pa.string()),
                        ("part", pa.int32()), ("text", pa.string())])
RESULT_SCHEMA = pa.schema([("part", pa.int32()), ("id", pa.string()), ("kept_id", pa.string()), ("kind", pa.string()),
                           ("similarity", pa.float64())])


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
        folder: where the index spills its keys (default: a temporary folder, removed with the index).
        expected: about how many examples will be added (sizes the partitions).
    """

    def __init__(self, mode: DedupMode = "exact", *, scope: DedupScope = "task", threshold: float = 0.8,
                 semantic_threshold: float = 0.95, num_perm: int = 128, shingle: int = 5, min_words: int = 4,
                 across_clips: bool = False, embedder=None, max_chars: int = 4000, seed: int = 1,
                 folder: Path | None = None, expected: int = 0) -> None:
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
        self.partitions = partitions_for(expected, ROWS_PER_PARTITION)
        self._folder = Path(folder) if folder is not None else None
        self._temporary: tempfile.TemporaryDirectory | None = None
        self._keys: Spill | None = None
        self._results: Spill | None = None
        self._count = 0
        self._permutations = None
        self._bands: list[tuple[int, int]] = []
        if mode == "near":
            require("datasketch", "datasketch", "curate.dedup: near")
            from datasketch import MinHash, MinHashLSH

            self._permutations = MinHash(num_perm=num_perm, seed=seed).permutations
            self._bands = MinHashLSH(threshold=threshold, num_perm=num_perm).hashranges
        if mode == "semantic" and self.embedder is None:
            from speechsift.curate.embeddings import Embedder

            self.embedder = Embedder()

    def __len__(self) -> int:
        """How many examples the index holds."""
        self._resolve()
        return self._count

    # --- feeding ----------------------------------------------------------------------------------

    def _spill(self, name: str, schema: pa.Schema) -> Spill:
        if self._folder is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="speechsift-dedup-")
            self._folder = Path(self._temporary.name)
        return Spill(fresh_folder(self._folder / name), self.partitions, schema=schema)

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

    def add(self, examples: Iterable[Example], part: int = 0) -> None:
        """Index ``examples`` (those eligible: see the module docstring) of the release part ``part``
        (``duplicates_in`` answers per part). Adding an example twice is harmless."""
        if self.mode == "none":
            return
        rows: dict[str, list] = {"group": [], "digest": [], "id": [], "part": [], "text": []}
        for example in examples:
            response = example.response
            if not response:
                continue
            per_clip = not self.across_clips and target_from_clip(example)
            if per_clip and not is_generated(example):
                continue  # a corpus target: one per clip and task, nothing to compare it with
            normalized = normalize_for_hash(response[: self.max_chars])
            if normalized.count(" ") + 1 < self.min_words or not normalized:
                continue
            rows["group"].append(self._group(example, per_clip))
            rows["digest"].append(_digest(normalized))
            rows["id"].append(example.id)
            rows["part"].append(part)
            rows["text"].append(normalized)
        if not rows["id"]:
            return
        if self._keys is None:
            self._keys = self._spill("keys", KEY_SCHEMA)
        table = pa.table(rows, schema=KEY_SCHEMA)
        self._keys.add(table, digest_prefix64(table.column("group")) ^ digest_prefix64(table.column("digest")))
        self._results = None

    # --- asking -----------------------------------------------------------------------------------

    def duplicates(self) -> dict[str, str]:
        """``{id: kept_id}`` for every duplicate found; kept examples are not in it."""
        return {d.id: d.kept_id for d in self.details().values()}

    def details(self) -> dict[str, Duplicate]:
        """``{id: Duplicate}``: the same as ``duplicates`` with the kind and similarity of each
        (every duplicate at once: for small indexes; a release asks ``duplicates_in`` per part)."""
        results = self._resolve()
        found: dict[str, Duplicate] = {}
        for _partition, table in results if results is not None else ():
            found.update(_duplicates(table))
        return found

    def duplicates_in(self, part: int) -> dict[str, Duplicate]:
        """``{id: Duplicate}`` for the duplicates added with ``part``."""
        results = self._resolve()
        if results is None:
            return {}
        table = results.read(part % results.partitions)
        return _duplicates(table.filter(pc.equal(table.column("part"), part)))

    def annotate(self, examples: Iterable[Example]) -> None:
        """Write ``dedup_kind``, ``dedup_of`` and ``dedup_similarity`` into each example's quality
        (null for examples that are not duplicates; a fresh dict, see ``score_examples``)."""
        result = self.details()
        for example in examples:
            example.quality = annotated(example.quality, result.get(example.id))

    def close(self) -> None:
        """Remove the spilled keys and answers."""
        for spill in (self._keys, self._results):
            if spill is not None:
                spill.remove()
        self._keys = self._results = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = self._folder = None

    # --- working it out, a partition at a time -----------------------------------------------------

    def _resolve(self) -> Spill | None:
        if self._results is not None or self._keys is None:
            return self._results
        self._keys.close()
        results = self._spill("results", RESULT_SCHEMA)
        self._count = 0
        # Exact: per (group, digest), the smallest id is kept; the others point at it (for now).
        distinct = self._spill("distinct", KEY_SCHEMA)
        groups = self._spill("groups", pa.schema([("group", pa.binary(DIGEST_BYTES))]))  # filed by group
        for _partition, keys in self._keys:
            keys = _first_of_each(keys, ["id"])  # an id added twice counts once
            self._count += keys.num_rows
            best = keys.group_by(["group", "digest"], use_threads=False).aggregate([("id", "min")])
            joined = keys.join(best, ["group", "digest"], use_threads=False)
            others = joined.filter(pc.not_equal(joined.column("id"), joined.column("id_min")))
            results.add(pa.table({"part": others.column("part"), "id": others.column("id"),
                                  "kept_id": others.column("id_min"),
                                  "kind": pa.array([KIND_EXACT] * others.num_rows, pa.string()),
                                  "similarity": pa.array(np.ones(others.num_rows))}, schema=RESULT_SCHEMA),
                        others.column("part").to_numpy().astype(np.uint64))
            firsts = joined.filter(pc.equal(joined.column("id"), joined.column("id_min")))
            distinct.add(firsts.select(["group", "digest", "id", "part", "text"]), string_hash64(firsts.column("id")))
            groups.add(firsts.select(["group"]), digest_prefix64(firsts.column("group")))
        distinct.close()
        groups.close()
        merged: dict[str, tuple[str, float]] = {}  # kept id of a distinct response -> (kept id it duplicates, similarity)
        if self.mode == "near":
            merged = self._resolve_near(distinct, _shared_groups(groups))
        elif self.mode == "semantic":
            merged = self._resolve_semantic(distinct)
        results.close()
        if merged:
            results = self._repoint(results, merged, distinct)
        distinct.remove()
        groups.remove()
        self._keys.remove()
        self._keys = None
        self._results = results
        return results

    def _repoint(self, results: Spill, merged: dict[str, tuple[str, float]], distinct: Spill) -> Spill:
        """The answers with each merged response's examples pointing at the example it duplicates:
        the response's own first example as a near (or semantic) duplicate, its exact copies as
        exact duplicates of that example (as if they had matched it word for word)."""
        kind = KIND_NEAR if self.mode == "near" else KIND_SEMANTIC
        final = self._spill("answers", RESULT_SCHEMA)
        targets = pa.table({"kept_id": pa.array(list(merged), pa.string()),
                            "target": pa.array([t for t, _ in merged.values()], pa.string())})
        for _partition, table in results:
            joined = table.join(targets, "kept_id", join_type="left outer", use_threads=False)
            kept_id = pc.coalesce(joined.column("target"), joined.column("kept_id"))
            final.add(joined.select(["part", "id"]).append_column("kept_id", kept_id)
                      .append_column("kind", joined.column("kind")).append_column("similarity", joined.column("similarity")),
                      joined.column("part").to_numpy().astype(np.uint64))
        for _partition, table in distinct:  # the first example of each merged response
            chosen = table.filter(pc.is_in(table.column("id"), value_set=targets.column("kept_id")))
            ids = chosen.column("id").to_pylist()
            final.add(pa.table({"part": chosen.column("part"), "id": chosen.column("id"),
                                "kept_id": pa.array([merged[i][0] for i in ids], pa.string()),
                                "kind": pa.array([kind] * len(ids), pa.string()),
                                "similarity": pa.array([merged[i][1] for i in ids], pa.float64())}, schema=RESULT_SCHEMA),
                      chosen.column("part").to_numpy().astype(np.uint64))
        final.close()
        results.remove()
        return final

    def _shingles(self, text: str) -> list[bytes]:
        n = self.shingle
        data = text.encode("utf-8")
        if len(data) <= n:
            return [data]
        return list({data[i:i + n] for i in range(len(data) - n + 1)})

    def _signatures(self, texts: Sequence[str]) -> np.ndarray:
        """The MinHash signature of each text (one row of ``num_perm`` uint32 each)."""
        from datasketch import MinHash

        rows = np.empty((len(texts), self.num_perm), dtype=np.uint32)
        for i, text in enumerate(texts):
            minhash = MinHash(num_perm=self.num_perm, seed=self.seed, permutations=self._permutations,
                              scheme="affine32", hashfunc=zlib.crc32)
            minhash.update_batch(self._shingles(text))
            rows[i] = minhash.hashvalues
        return rows

    def _resolve_near(self, distinct: Spill, shared: pa.Array) -> dict[str, tuple[str, float]]:
        """Near duplicates among the distinct responses: LSH band buckets within each group give the
        candidate pairs, the signatures decide, then a pass in id order keeps the first of each.
        Only responses of ``shared`` groups (two distinct responses or more) are signed: one alone in
        its group (a template answer about one clip) has nothing to be near."""
        width = 4 * self.num_perm
        signature_type = pa.binary(width)
        signatures = self._spill("signatures", pa.schema([("id", pa.string()), ("signature", signature_type)]))
        buckets = self._spill("buckets", pa.schema([("group", pa.binary(DIGEST_BYTES)), ("band", pa.int16()),
                                                    ("values", pa.binary()), ("id", pa.string())]))
        for _partition, table in distinct:
            table = table.filter(pc.is_in(table.column("group"), value_set=shared))
            if not table.num_rows:
                continue
            matrix = self._signatures(table.column("text").to_pylist())
            ids, groups = table.column("id"), table.column("group")
            signatures.add(pa.table({"id": ids, "signature": pa.array(list(map(bytes, matrix)), signature_type)}),
                           string_hash64(ids))
            group_keys = digest_prefix64(groups)
            for band, (start, end) in enumerate(self._bands):
                values = pa.array(list(map(bytes, np.ascontiguousarray(matrix[:, start:end]))), pa.binary(4 * (end - start)))
                bucket = pa.table({"group": groups, "band": pa.array(np.full(len(ids), band, np.int16)),
                                   "values": values.cast(pa.binary()), "id": ids})
                buckets.add(bucket, group_keys ^ string_hash64(values) ^ np.uint64(band))
        signatures.close()
        buckets.close()
        # candidate pairs (first id < second id), filed by the first id
        pairs = self._spill("pairs", pa.schema([("a", pa.string()), ("b", pa.string())]))
        for _partition, table in buckets:
            if not table.num_rows:
                continue
            members = table.group_by(["group", "band", "values"], use_threads=False).aggregate([("id", "list")])
            firsts, seconds = [], []
            for bucket in members.column("id_list").to_pylist():
                if len(bucket) < 2:
                    continue
                bucket = sorted(set(bucket))
                for j, second in enumerate(bucket):
                    firsts += bucket[:j]
                    seconds += [second] * j
            if firsts:
                found = pa.table({"a": pa.array(firsts, pa.string()), "b": pa.array(seconds, pa.string())})
                pairs.add(found, string_hash64(found.column("a")))
        pairs.close()
        # each pair with the first id's signature, filed by the second id; then the check
        with_a = self._spill("pairs_a", pa.schema([("a", pa.string()), ("b", pa.string()),
                                                   ("signature_a", signature_type)]))
        for partition, table in pairs:
            if not table.num_rows:
                continue
            table = table.group_by(["a", "b"], use_threads=False).aggregate([])  # a pair may share several bands
            table = table.join(signatures.read(partition).rename_columns(["a", "signature_a"]), "a", use_threads=False)
            with_a.add(table, string_hash64(table.column("b")))
        with_a.close()
        edges: dict[str, list[tuple[str, float]]] = {}  # second id -> [(first id, similarity)], similar pairs only
        for partition, table in with_a:
            if not table.num_rows:
                continue
            table = table.join(signatures.read(partition).rename_columns(["b", "signature_b"]), "b", use_threads=False)
            a, b = _signature_matrix(table.column("signature_a")), _signature_matrix(table.column("signature_b"))
            similarity = np.count_nonzero(a == b, axis=1) / self.num_perm
            for first, second, value in zip(table.column("a").to_pylist(), table.column("b").to_pylist(), similarity.tolist()):
                if value >= self.threshold:
                    edges.setdefault(second, []).append((first, float(value)))
        for spill in (signatures, buckets, pairs, with_a):
            spill.remove()
        # in id order: a response is kept unless a kept, smaller one is similar; it then points at the smallest
        merged: dict[str, tuple[str, float]] = {}
        for second in sorted(edges):
            kept = [(first, value) for first, value in edges[second] if first not in merged]
            if kept:
                merged[second] = min(kept)
        return merged

    def _resolve_semantic(self, distinct: Spill, block: int = 1024) -> dict[str, tuple[str, float]]:
        """Semantic duplicates among the distinct responses, group by group (embeddings in memory)."""
        by_group: dict[bytes, list[tuple[str, str]]] = {}
        for _partition, table in distinct:
            for group, example_id, text in zip(table.column("group").to_pylist(), table.column("id").to_pylist(),
                                               table.column("text").to_pylist()):
                by_group.setdefault(group, []).append((example_id, text))
        merged: dict[str, tuple[str, float]] = {}
        for members in by_group.values():
            members.sort()
            ids = [example_id for example_id, _ in members]
            matrix = self.embedder.encode([text for _, text in members]) if members else np.zeros((0, 1), np.float32)
            kept_rows: list[int] = []
            for start in range(0, len(ids), block):
                rows = range(start, min(start + block, len(ids)))
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
                        merged[ids[row]] = (ids[best_row], best_sim)
                kept_rows.extend(block_kept)
        return merged


def _shared_groups(groups: Spill) -> pa.Array:
    """The groups (filed by group in ``groups``, one row per distinct response) with two rows or more."""
    found = [pa.array([], pa.binary(DIGEST_BYTES))]
    for _partition, table in groups:
        if table.num_rows > 1:
            counts = table.group_by("group", use_threads=False).aggregate([([], "count_all")])
            found.append(counts.filter(pc.greater(counts.column("count_all"), 1)).column("group").combine_chunks())
    return pa.concat_arrays(found)


def _first_of_each(table: pa.Table, keys: list[str]) -> pa.Table:
    """``table`` with one row per value of ``keys`` (the first)."""
    if table.num_rows < 2:
        return table
    indexed = table.append_column("_row", pa.array(np.arange(table.num_rows)))
    first = indexed.group_by(keys, use_threads=False).aggregate([("_row", "min")])
    return table.take(pa.array(np.sort(first.column("_row_min").to_numpy())))


def _signature_matrix(column: pa.ChunkedArray) -> np.ndarray:
    """A fixed-size binary column of signatures as a (rows × num_perm) uint32 matrix."""
    array = column.combine_chunks()
    width = array.type.byte_width
    raw = np.frombuffer(array.buffers()[1], np.uint8)[array.offset * width: (array.offset + len(array)) * width]
    return raw.view(np.uint32).reshape(len(array), width // 4)


def _duplicates(table: pa.Table) -> dict[str, Duplicate]:
    return {i: Duplicate(i, k, kind, s) for i, k, kind, s in zip(
        table.column("id").to_pylist(), table.column("kept_id").to_pylist(), table.column("kind").to_pylist(),
        table.column("similarity").to_pylist())}


def annotated(quality: dict, found: Duplicate | None) -> dict:
    """``quality`` (a fresh dict) with the dedup columns of ``found`` (null when not a duplicate)."""
    quality = dict(quality)
    if found is None:
        quality.update(dedup_kind=None, dedup_of=None, dedup_similarity=None)
    else:
        quality.update(dedup_kind=found.kind, dedup_of=found.kept_id, dedup_similarity=found.similarity)
    return quality
