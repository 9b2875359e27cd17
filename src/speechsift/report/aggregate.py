"""The report's statistics, aggregated part by part and merged: the report never holds every example.

Each Parquet part of ``data/`` (and of ``complete/``, with curation) is read on its own, only the
columns the statistics need, and folded into a ``ReportStats``: counts per task (splits, sources,
languages, who wrote the responses), response lengths and openings per task, the quality scores,
the preference pairs' outcomes, and two seeded samples per task (the sample browser's examples, the
response map's points) chosen by the smallest hashes of the example ids, which is a uniform draw
that merges part by part. Distinct clips are counted over hash partitions spilled to disk (a clip
shows in the parts of several tasks and pairs), so their labels and durations count each clip once.

Numbers stay exact where the section prints them: counts, sums, means, minima and maxima always;
quantiles and histograms too while a series holds at most ``Values.EXACT`` values (beyond, each
value counts rounded to 4 significant digits, a bounded number of distinct values); the counts of
free text (openings, text scores) while there are at most ``Tally.CAP`` distinct values (beyond,
the rarest are dropped and the distinct count is estimated from the smallest hashes).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from speechsift.spill import Spill, partitions_for, string_hash64

MISSING = "(missing)"
# Meta fields that say where the labels came from (engine/enrich.py), not labels: never plotted.
PROVENANCE_FIELDS = frozenset({"label_sources"})
DOMAIN_FIELDS = ("domain_label", "domain")  # curate's domain scorer writes domain_label
ERROR_SUFFIX = "_error"  # curate writes <scorer>_error when a scorer failed on an example
OPENING_WORDS = 4  # "first 3-4 words": enough to tell "Sounds like a young" from "The speaker is a"
# Punctuation dropped before comparing openings, so "Sure," and "Sure!" count as one opening. Letters
# and digits of every script stay (RE2's \w is ASCII only: "Ça", "für", "声音" would lose letters).
_OPENING_PUNCTUATION = r"[^\p{L}\p{M}\p{N}\s'’-]+|_+"
KEPT, FILTERED = "kept", "filtered out"


# --- column helpers ---------------------------------------------------------------------------


def column(table: pa.Table, name: str) -> pa.Array | None:
    """A top-level column, or a struct field by dotted path; None when absent."""
    head, _, rest = name.partition(".")
    if head not in table.column_names:
        return None
    array = table.column(head).combine_chunks()
    for part in rest.split(".") if rest else ():
        if not pa.types.is_struct(array.type) or array.type.get_field_index(part) < 0:
            return None
        array = pc.struct_field(array, part)
    return array


def labels(array: pa.Array | None, n: int, missing: str = MISSING) -> pa.Array:
    """A string column with nulls and blank values replaced by ``missing``."""
    if array is None:
        return pa.array([missing] * n, pa.string())
    array = pc.cast(array, pa.string()) if not pa.types.is_string(array.type) else array
    blank = pc.or_kleene(pc.is_null(array), pc.equal(pc.utf8_trim_whitespace(array), ""))
    return pc.if_else(pc.fill_null(blank, True), missing, array)


def numbers(array: pa.Array | None, n: int) -> np.ndarray:
    """A numeric (or boolean) column as float64, nulls as NaN."""
    if array is None:
        return np.full(n, np.nan)
    if pa.types.is_boolean(array.type):
        array = pc.cast(array, pa.int8())
    return np.asarray(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def counts_by(*keys: pa.Array) -> Counter:
    """Rows per value (one key) or per tuple of values (several keys)."""
    if not keys or len(keys[0]) == 0:
        return Counter()
    names = [f"k{i}" for i in range(len(keys))]
    grouped = pa.table(dict(zip(names, keys))).group_by(names, use_threads=False).aggregate([([], "count_all")])
    columns = [grouped.column(name).to_pylist() for name in names]
    counts = grouped.column("count_all").to_pylist()
    if len(keys) == 1:
        return Counter(dict(zip(columns[0], counts)))
    return Counter(dict(zip(zip(*columns), counts)))


def word_counts(array: pa.Array | None, n: int) -> np.ndarray:
    if array is None:
        return np.full(n, np.nan)
    return numbers(pc.list_value_length(pc.utf8_split_whitespace(array)), n)


def openings(array: pa.Array | None, n: int, words: int = OPENING_WORDS) -> pa.Array:
    """The first ``words`` words of each response, lowercased, punctuation dropped."""
    if array is None:
        return pa.array([MISSING] * n, pa.string())
    cleaned = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_lower(array), _OPENING_PUNCTUATION, " "))
    first = pc.binary_join(pc.list_slice(pc.utf8_split_whitespace(cleaned), 0, words), " ")
    return labels(first, n, missing="(empty)")


# --- mergeable summaries ------------------------------------------------------------------------


def _round_significant(values: np.ndarray, digits: int = 4) -> np.ndarray:
    """Non-whole values rounded to ``digits`` significant digits (whole numbers stay)."""
    whole = values == np.round(values)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (digits - 1 - np.floor(np.log10(np.abs(values))))
        rounded = np.round(values * scale) / scale
    return np.where(whole | ~np.isfinite(rounded), values, rounded)


class Values:
    """The finite values of one numeric series, added part by part (see the module docstring)."""

    EXACT = 20_000

    def __init__(self) -> None:
        self.n = 0
        self.sum = 0.0
        self.min = math.inf
        self.max = -math.inf
        self.integer = True
        self._pending: list[np.ndarray] = []
        self._pending_n = 0
        self._values: np.ndarray | None = None  # counted form: sorted distinct values and their counts
        self._weights: np.ndarray | None = None

    def add(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        values = values[np.isfinite(values)]
        if not values.size:
            return
        self.n += values.size
        self.sum += float(values.sum())
        self.min = min(self.min, float(values.min()))
        self.max = max(self.max, float(values.max()))
        self.integer = self.integer and bool(np.all(values == np.round(values)))
        self._pending.append(values)
        self._pending_n += values.size
        if self._values is not None or self._pending_n > self.EXACT:
            self._count()

    def merge(self, other: Values) -> None:
        values, weights = other.weighted()
        if weights is None:
            self.add(values)
            return
        self.n += other.n
        self.sum += other.sum
        self.min, self.max = min(self.min, other.min), max(self.max, other.max)
        self.integer = self.integer and other.integer
        self._count(values, weights)

    def _count(self, values: np.ndarray | None = None, weights: np.ndarray | None = None) -> None:
        pieces = [(_round_significant(v), np.ones(v.size, np.int64)) for v in self._pending]
        if values is not None:
            pieces.append((_round_significant(values), weights))
        if self._values is not None:
            pieces.append((self._values, self._weights))
        self._pending, self._pending_n = [], 0
        if not pieces:
            return
        merged, inverse = np.unique(np.concatenate([v for v, _ in pieces]), return_inverse=True)
        self._values = merged
        self._weights = np.bincount(inverse, weights=np.concatenate([w for _, w in pieces]),
                                    minlength=merged.size).astype(np.int64)

    def weighted(self) -> tuple[np.ndarray, np.ndarray | None]:
        """``(values, None)`` while every value is kept, else ``(distinct values, their counts)``."""
        if self._values is None:
            return (np.concatenate(self._pending) if self._pending else np.zeros(0)), None
        self._count()
        return self._values, self._weights

    def quantile(self, q: float | Sequence[float]) -> np.ndarray:
        """numpy's (linear) quantiles of the values, the counted ones weighted."""
        values, weights = self.weighted()
        if weights is None:
            return np.quantile(values, q)
        cumulative = np.cumsum(weights)
        position = (self.n - 1) * np.atleast_1d(np.asarray(q, dtype=np.float64))
        below = np.floor(position).astype(np.int64)
        low = values[np.searchsorted(cumulative, below, side="right")]
        high = values[np.searchsorted(cumulative, np.minimum(below + 1, self.n - 1), side="right")]
        found = low + (position - below) * (high - low)
        return found if np.ndim(q) else found[0]

    def histogram(self, edges: np.ndarray, top: float) -> np.ndarray:
        """Counts per bin, every value above ``top`` in the last bin."""
        values, weights = self.weighted()
        counts, _ = np.histogram(np.minimum(values, top), bins=edges, weights=weights)
        return counts.astype(np.int64)

    @classmethod
    def of(cls, values: np.ndarray) -> Values:
        found = cls()
        found.add(values)
        return found


class Tally:
    """Counts of the values of a string column, added part by part (see the module docstring)."""

    CAP = 100_000
    SKETCH = 4096  # smallest hashes kept to estimate the distinct values once some were dropped

    def __init__(self) -> None:
        self.counts: Counter = Counter()
        self.total = 0
        self.pruned = False
        self._smallest = np.zeros(0, np.uint64)

    def add(self, values: pa.Array) -> None:
        counted = pc.value_counts(values)
        found = counted.field("values")
        self.counts.update(dict(zip(found.to_pylist(), counted.field("counts").to_pylist())))
        self.total += len(values)
        self._smallest = np.union1d(self._smallest, string_hash64(found))[: self.SKETCH]
        if len(self.counts) > self.CAP:
            self.counts = Counter(dict(self.counts.most_common(self.CAP // 2)))
            self.pruned = True

    def distinct(self) -> int:
        if not self.pruned or self._smallest.size < self.SKETCH:
            return len(self.counts) if not self.pruned else int(self._smallest.size)
        return int((self.SKETCH - 1) * 2.0**64 / float(self._smallest[-1]))

    def most_common(self, n: int | None = None) -> list[tuple[str, int]]:
        return self.counts.most_common(n)


class Draw:
    """Per group, the ``k`` rows whose seeded id hashes are smallest: a uniform sample without
    replacement, of distinct ids, that merges part by part."""

    def __init__(self, k: int, seed: int) -> None:
        self.k = k
        self.seed = seed
        self.rows: dict[str, pa.Table] = {}

    def add(self, groups: pa.Array, table: pa.Table) -> None:
        """``table``: at least ``id``; any other columns travel with the chosen rows."""
        if self.k <= 0 or not table.num_rows:
            return
        seeded = pc.binary_join_element_wise(pa.scalar(str(self.seed)), pc.cast(table.column("id"), pa.string()), "\x1f")
        table = table.append_column("_key", pa.array(string_hash64(seeded)))
        for group in pc.unique(groups).to_pylist():
            mine = table.filter(pc.equal(groups, group))
            if group in self.rows:
                mine = pa.concat_tables([self.rows[group], mine])
            mine = mine.take(pc.sort_indices(mine, sort_keys=[("_key", "ascending")]))
            keys = mine.column("_key").to_numpy()
            first = np.concatenate([[True], keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, bool)
            self.rows[group] = mine.filter(pa.array(first)).slice(0, self.k)


# --- distinct clips -----------------------------------------------------------------------------


def part_clips(table: pa.Table, meta_fields: list[str]) -> pa.Table:
    """One row per distinct clip of a part: key, source, duration_s, meta fields.

    Labels and durations describe clips, not examples; a clip used by three tasks counts once. A
    pair example (two clip ids) is two clips, not one: its members count as clips, but its labels
    (none of its own) and its duration (both clips together) describe neither member, so they come
    only from the members' own single-clip examples, where there are any.
    """
    n = table.num_rows
    source = labels(column(table, "source"), n)
    duration = pa.array(numbers(column(table, "duration_s"), n))
    clip_ids = column(table, "clip_ids")
    if clip_ids is None:
        data = {"key": pc.cast(column(table, "id"), pa.string()), "source": source, "duration_s": duration}
        data.update({f"meta.{name}": _meta(table, name, n) for name in meta_fields})
    else:
        rows = pc.list_parent_indices(clip_ids)
        key = pc.list_flatten(clip_ids)
        single = pc.equal(pc.take(pc.list_value_length(clip_ids), rows), 1)
        prefix = pc.list_element(pc.split_pattern(key, "/", max_splits=1), 0)  # clip ids are "<source>/<id>"
        data = {
            "key": key,
            "source": pc.if_else(single, pc.take(source, rows), prefix),
            "duration_s": pc.if_else(single, pc.take(duration, rows), pa.scalar(None, pa.float64())),
        }
        for name in meta_fields:
            values = pc.take(_meta(table, name, n), rows)
            data[f"meta.{name}"] = pc.if_else(single, values, pa.scalar(None, pa.string()))
    return _one_per_clip(pa.table(data), meta_fields)


def _meta(table: pa.Table, name: str, n: int) -> pa.Array:
    found = column(table, f"meta.{name}")
    return pa.nulls(n, pa.string()) if found is None else pc.cast(found, pa.string())


def _one_per_clip(table: pa.Table, meta_fields: list[str]) -> pa.Table:
    grouped = table.group_by(["key", "source"], use_threads=False).aggregate(
        [("duration_s", "max")] + [(f"meta.{name}", "max") for name in meta_fields])
    return grouped.rename_columns([c.removesuffix("_max") for c in grouped.column_names])


@dataclass
class ClipStats:
    """Distinct clips: per source their number and durations; per label field the values' counts,
    overall and per source (a clip without the label counts as ``(missing)``)."""

    fields: list[str] = field(default_factory=list)
    per_source: Counter = field(default_factory=Counter)
    durations: dict[str, Values] = field(default_factory=dict)
    label_counts: dict[str, Counter] = field(default_factory=dict)  # field -> Counter((source, value))

    @property
    def n(self) -> int:
        return sum(self.per_source.values())

    def hours(self) -> float:
        return sum(v.sum for v in self.durations.values()) / 3600

    def add(self, clips: pa.Table) -> None:
        n = clips.num_rows
        source = clips.column("source").combine_chunks()
        self.per_source.update(counts_by(source))
        duration = numbers(clips.column("duration_s").combine_chunks(), n)
        for name in pc.unique(source).to_pylist():
            mine = np.asarray(pc.equal(source, name).to_numpy(zero_copy_only=False), dtype=bool)
            self.durations.setdefault(name, Values()).add(duration[mine])
        for name in self.fields:
            values = labels(clips.column(f"meta.{name}").combine_chunks(), n)
            self.label_counts.setdefault(name, Counter()).update(counts_by(source, values))

    def overall(self, name: str) -> Counter:
        found: Counter = Counter()
        for (_source, value), count in self.label_counts.get(name, Counter()).items():
            found[value] += count
        return found

    def by_source(self, name: str) -> dict[str, Counter]:
        found: dict[str, Counter] = {}
        for (source, value), count in self.label_counts.get(name, Counter()).items():
            found.setdefault(source, Counter())[value] = count
        return found


# --- quality --------------------------------------------------------------------------------------


@dataclass
class QualityStats:
    """The ``quality`` column, over ``complete/`` (every scored example, ``kept`` telling which reached
    ``data/``) when curation wrote it, else over ``data/``."""

    source_name: str = ""
    curated: bool = False  # over complete/, with kept and filtered out
    totals: Counter = field(default_factory=Counter)  # task -> rows
    kept: Counter = field(default_factory=Counter)  # task -> rows kept (curated)
    numeric: dict[tuple[str, str, str], Values] = field(default_factory=dict)  # (field, task, status)
    numeric_fields: list[str] = field(default_factory=list)
    flag_fields: list[str] = field(default_factory=list)
    flags: Counter = field(default_factory=Counter)  # (field, task) -> rows where true
    flag_values: Counter = field(default_factory=Counter)  # field -> rows with a value
    list_fields: list[str] = field(default_factory=list)
    lists: dict[str, Counter] = field(default_factory=dict)  # field -> Counter((flag, task))
    text_fields: list[str] = field(default_factory=list)
    texts: dict[str, Tally] = field(default_factory=dict)  # field -> its non-missing values
    text_by_task: Counter = field(default_factory=Counter)  # (field, task) -> rows with a value
    domains: dict[str, Counter] = field(default_factory=dict)  # domain field -> Counter((task, value))

    @property
    def present(self) -> bool:
        """A quality column with fields of a known kind was read."""
        return bool(self.numeric_fields or self.flag_fields or self.list_fields or self.text_fields)

    def _note_fields(self, kinds: dict[str, pa.DataType]) -> None:
        for name, kind in kinds.items():
            if pa.types.is_boolean(kind):
                target = self.flag_fields
            elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
                target = self.numeric_fields
            elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
                target = self.text_fields
            elif (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and pa.types.is_string(kind.value_type):
                target = self.list_fields
            else:
                continue
            if name not in target:
                target.append(name)

    def add(self, quality: pa.Array, tasks: pa.Array, kept: np.ndarray | None) -> None:
        n = len(tasks)
        if pa.types.is_struct(quality.type):
            kinds = {f.name: f.type for f in quality.type}
            values = {name: pc.struct_field(quality, name) for name in kinds}
        elif pa.types.is_map(quality.type):
            keys = pc.unique(quality.keys).to_pylist()
            values = {k: pc.map_lookup(quality, pa.scalar(k, quality.type.key_type), "first") for k in sorted(keys)}
            kinds = {k: v.type for k, v in values.items()}
        else:
            return
        self._note_fields(kinds)
        self.totals.update(counts_by(tasks))
        task_list = np.asarray(tasks.to_numpy(zero_copy_only=False), dtype=object)
        if kept is not None:
            self.kept.update(counts_by(tasks.filter(pa.array(kept))))
        status = np.where(kept, KEPT, FILTERED) if kept is not None else None
        for name in self.numeric_fields:
            if name not in values:
                continue
            numbers_ = numbers(values[name], n)
            groups = counts_by(tasks, pa.array(status)) if status is not None else counts_by(tasks)
            for group in groups:
                task, state = group if status is not None else (group, "")
                mine = task_list == task
                if status is not None:
                    mine &= status == state
                self.numeric.setdefault((name, task, state), Values()).add(numbers_[mine])
        for name in self.flag_fields:
            if name not in values:
                continue
            flags = values[name]
            self.flag_values[name] += n - flags.null_count
            self.flags.update({(name, task): count for task, count in
                               counts_by(tasks.filter(pc.fill_null(flags, False))).items()})
        for name in self.list_fields:
            if name not in values:
                continue
            lists = values[name]
            flat = pc.list_flatten(lists)
            owners = pc.take(tasks, pc.list_parent_indices(lists))
            self.lists.setdefault(name, Counter()).update(counts_by(flat, owners))
        for name in self.text_fields:
            if name not in values:
                continue
            text = labels(values[name], n)
            present = pc.not_equal(text, MISSING)
            self.texts.setdefault(name, Tally()).add(text.filter(present))
            self.text_by_task.update({(name, task): count for task, count in counts_by(tasks.filter(present)).items()})
            if name in DOMAIN_FIELDS:
                self.domains.setdefault(name, Counter()).update(counts_by(tasks, text))

    def never(self) -> list[str]:
        """Fields with no value in any example."""
        numeric = [f for f in self.numeric_fields if not any(v.n for (name, _t, _s), v in self.numeric.items() if name == f)]
        flags = [f for f in self.flag_fields if not self.flag_values[f]]
        texts = [f for f in self.text_fields if f not in self.texts or not self.texts[f].total]
        return numeric + flags + texts

    def usual_flags(self) -> dict[str, bool]:
        """Each boolean field's majority value."""
        return {name: sum(n for (f, _t), n in self.flags.items() if f == name) * 2 >= self.flag_values[name]
                for name in self.flag_fields if self.flag_values[name]}

    def series(self, name: str, *, task: str | None = None, state: str | None = None) -> Values:
        """The values of a numeric field, of one task and/or status, or all of them."""
        found = Values()
        for (field_name, t, s), values in self.numeric.items():
            if field_name == name and (task is None or t == task) and (state is None or s == state):
                found.merge(values)
        return found

    def domain_field(self) -> str | None:
        for name in DOMAIN_FIELDS:
            counts = self.domains.get(name)
            if counts and any(value != MISSING for (_task, value) in counts):
                return name
        return None


# --- everything -----------------------------------------------------------------------------------


@dataclass
class ReportStats:
    """Every statistic the report's sections draw, over the release (``data/``)."""

    n: int = 0
    tasks: Counter = field(default_factory=Counter)
    splits: Counter = field(default_factory=Counter)  # (task, split)
    sources: Counter = field(default_factory=Counter)  # (task, source)
    languages: Counter = field(default_factory=Counter)  # (task, language)
    writers: Counter = field(default_factory=Counter)  # (task, backend, model)
    finish: Counter = field(default_factory=Counter)  # (task, backend, model, finish reason)
    truncated: Counter = field(default_factory=Counter)  # (task, backend, model)
    words: dict[str, Values] = field(default_factory=dict)  # task -> response words
    chars: dict[str, Values] = field(default_factory=dict)
    instruction_words: dict[str, Values] = field(default_factory=dict)
    empty: Counter = field(default_factory=Counter)  # task -> responses with no word
    openings: dict[str, Tally] = field(default_factory=dict)
    preferences: Counter = field(default_factory=Counter)  # (chosen strategy, rejected strategy, chosen config, rejected config, margin)
    clips: ClipStats = field(default_factory=ClipStats)
    quality: QualityStats | None = None
    samples: Draw | None = None  # the sample browser's examples (with their part and row)
    dropped_samples: Draw | None = None  # filtered-out examples of complete/
    points: Draw | None = None  # the response map's rows (response, part, row)
    complete_n: int = 0
    curation: Counter = field(default_factory=Counter)  # (task, kept by curation) over complete/

    @property
    def sources_present(self) -> set[str]:
        return {source for (_task, source) in self.sources}


# Columns read from every part of data/ for the statistics (those a part lacks are left out).
STAT_COLUMNS = (
    "id", "task", "source", "language", "split", "clip_ids", "instruction", "response", "duration_s", "meta",
    "quality", "generation.backend", "generation.model", "generation.finish_reason", "generation.truncated", "extra",
)


def _preference_outcomes(extra: pa.Array | None) -> Counter:
    found: Counter = Counter()
    if extra is None:
        return found
    chosen = extra.filter(pc.fill_null(pc.match_substring(extra, "chosen_config"), False))
    for value in chosen.to_pylist():
        data = json.loads(value) if value else {}
        if "chosen_config" in data and "rejected_config" in data:
            found[(data.get("chosen_strategy", "?"), data.get("rejected_strategy", "?"), data["chosen_config"],
                   data["rejected_config"], data.get("margin"))] += 1
    return found


def add_release_part(stats: ReportStats, table: pa.Table, part: int, clips: Spill | None, quality: bool) -> None:
    """Fold one part of ``data/`` into ``stats`` (and its distinct clips into the spill)."""
    n = table.num_rows
    if not n:
        return
    tasks = labels(column(table, "task"), n)
    stats.n += n
    stats.tasks.update(counts_by(tasks))
    stats.splits.update(counts_by(tasks, labels(column(table, "split"), n)))
    stats.sources.update(counts_by(tasks, labels(column(table, "source"), n)))
    stats.languages.update(counts_by(tasks, labels(column(table, "language"), n)))
    backend = labels(column(table, "generation.backend"), n, "–")
    model = labels(column(table, "generation.model"), n, "–")
    stats.writers.update(counts_by(tasks, backend, model))
    stats.finish.update(counts_by(tasks, backend, model, labels(column(table, "generation.finish_reason"), n, "–")))
    truncated = np.nan_to_num(numbers(column(table, "generation.truncated"), n)) > 0
    if truncated.any():
        mask = pa.array(truncated)
        stats.truncated.update(counts_by(tasks.filter(mask), backend.filter(mask), model.filter(mask)))
    response = column(table, "response")
    words = word_counts(response, n)
    chars = numbers(pc.utf8_length(response), n) if response is not None else np.full(n, np.nan)
    instruction = word_counts(column(table, "instruction"), n)
    opening = openings(response, n)
    task_names = np.asarray(tasks.to_numpy(zero_copy_only=False), dtype=object)
    for task in stats.tasks.keys() & set(task_names.tolist()):
        mine = task_names == task
        stats.words.setdefault(task, Values()).add(words[mine])
        stats.chars.setdefault(task, Values()).add(chars[mine])
        stats.instruction_words.setdefault(task, Values()).add(instruction[mine])
        stats.empty[task] += int(np.sum(np.nan_to_num(words[mine]) == 0))
        stats.openings.setdefault(task, Tally()).add(opening.filter(pa.array(mine)))
    stats.preferences.update(_preference_outcomes(column(table, "extra")))
    locator = {"id": pc.cast(column(table, "id"), pa.string()), "part": pa.array(np.full(n, part, np.int32)),
               "row": pa.array(np.arange(n, dtype=np.int64))}
    stats.samples.add(tasks, pa.table(locator))
    stats.points.add(tasks, pa.table({**locator, "response": response if response is not None else pa.nulls(n, pa.string())}))
    if clips is not None:
        found = part_clips(table, stats.clips.fields)
        clips.add(found, string_hash64(found.column("key")))
    if quality and "quality" in table.column_names:
        stats.quality.add(table.column("quality").combine_chunks(), tasks, None)


def add_complete_part(stats: ReportStats, table: pa.Table, part: int, kept: np.ndarray) -> None:
    """Fold one part of ``complete/`` (every scored example; ``kept``: which reached data/)."""
    n = table.num_rows
    if not n:
        return
    tasks = labels(column(table, "task"), n)
    stats.complete_n += n
    stats.curation.update(counts_by(tasks, pa.array(kept)))
    if "quality" in table.column_names:
        stats.quality.add(table.column("quality").combine_chunks(), tasks, kept)
    dropped = pa.array(~kept)
    locator = pa.table({"id": pc.cast(column(table, "id"), pa.string()), "part": pa.array(np.full(n, part, np.int32)),
                        "row": pa.array(np.arange(n, dtype=np.int64))}).filter(dropped)
    stats.dropped_samples.add(tasks.filter(dropped), locator)


def meta_fields(schemas: Iterable[pa.Schema]) -> list[str]:
    """The label fields of ``meta`` over the parts (provenance fields left out)."""
    found: list[str] = []
    for schema in schemas:
        if "meta" in schema.names and pa.types.is_struct(schema.field("meta").type):
            found += [f.name for f in schema.field("meta").type if f.name not in found and f.name not in PROVENANCE_FIELDS]
    return found


def count_clips(stats: ReportStats, clips: Spill) -> None:
    """The distinct clips, a partition at a time."""
    clips.close()
    for _partition, table in clips:
        if table.num_rows:
            stats.clips.add(_one_per_clip(table, stats.clips.fields))


def clip_spill(folder: Path, examples: int, fields: list[str]) -> Spill:
    schema = pa.schema([("key", pa.string()), ("source", pa.string()), ("duration_s", pa.float64())]
                       + [(f"meta.{name}", pa.string()) for name in fields])
    return Spill(folder, partitions_for(examples), schema=schema)


# --- the driver -----------------------------------------------------------------------------------

# Columns read from every part of complete/: the statistics of curation (what it kept, the scores).
COMPLETE_COLUMNS = ("id", "task", "quality", "kept", "drop_stage")
CURATE_STAGE = "curate"  # the stage of an example that curation left out (engine/assemble.py)


def kept_by_curation(table: pa.Table) -> np.ndarray:
    """Per row of a part of complete/: did curation keep the example? Only a drop at the curate
    stage (``drop_stage``) counts against it; an example left out later by the splits (a held-out
    speaker) or the mixture (not sampled) passed curation. Outputs older than ``drop_stage`` say
    only ``kept`` (reached data/)."""
    if "drop_stage" in table.column_names:
        stage = table.column("drop_stage").combine_chunks()
        return np.asarray(pc.fill_null(pc.not_equal(stage, CURATE_STAGE), True).to_numpy(zero_copy_only=False), bool)
    if "kept" in table.column_names:
        return np.asarray(pc.fill_null(table.column("kept").combine_chunks(), True).to_numpy(zero_copy_only=False), bool)
    return np.ones(table.num_rows, bool)


def collect(parts: list, complete_parts: list, folder: Path, *, samples_per_task: int, dropped_per_task: int,
            map_points: int, seed: int, read: Callable[[Any, Sequence[str]], pa.Table]) -> ReportStats:
    """Every statistic of the report over ``parts`` (data/) and ``complete_parts`` (complete/),
    one part at a time; ``read(part, columns)`` reads a part's columns (``load.read_part``);
    ``folder`` holds the distinct-clip spill while it is counted (removed after)."""
    curated = bool(complete_parts)
    fields = meta_fields(p.schema for p in parts)
    stats = ReportStats(clips=ClipStats(fields), quality=QualityStats(curated=curated),
                        samples=Draw(samples_per_task, seed), dropped_samples=Draw(dropped_per_task, seed),
                        points=Draw(map_points, seed))
    clips = clip_spill(folder, sum(p.rows for p in parts), fields)
    try:
        # with complete/, the quality column is read from there (every scored example), not twice
        columns = [c for c in STAT_COLUMNS if not (curated and c == "quality")]
        for index, part in enumerate(parts):
            add_release_part(stats, read(part, columns), index, clips, quality=not curated)
        for index, part in enumerate(complete_parts):
            table = read(part, COMPLETE_COLUMNS)
            add_complete_part(stats, table, index, kept_by_curation(table))
        count_clips(stats, clips)
    finally:
        clips.remove()
    return stats
