"""The numbers behind the report, computed column-wise with pyarrow.compute and numpy.

Functions here take the combined table of :func:`speechsift.report.load.read_columns` and return
plain Python/numpy values; they draw nothing. Nothing loops over rows in Python, so 100k examples
cost well under a second per statistic.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from speechsift.report.svg import nice_ceiling

OPENING_WORDS = 4  # "first 3-4 words": enough to tell "Sounds like a young" from "The speaker is a"
TOP_OPENINGS = 10
TOP_LABEL_VALUES = 8  # label values drawn per field; the rest are summed as "(other)"
MISSING = "(missing)"
# Meta fields that say where the labels came from (engine/enrich.py), not labels: never plotted.
PROVENANCE_FIELDS = frozenset({"label_sources"})
OTHER = "(other)"
# Punctuation dropped before comparing openings, so "Sure," and "Sure!" count as one opening. Letters
# and digits of every script stay (RE2's \w is ASCII only: "Ça", "für", "声音" would lose letters).
_OPENING_PUNCTUATION = r"[^\p{L}\p{M}\p{N}\s'’-]+|_+"


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


def struct_fields(table: pa.Table, name: str) -> list[str]:
    if name not in table.column_names or not pa.types.is_struct(table.schema.field(name).type):
        return []
    return [f.name for f in table.schema.field(name).type]


def strings(array: pa.Array | None, n: int, missing: str = MISSING) -> np.ndarray:
    """A string column as a numpy object array, nulls and empty strings replaced by ``missing``."""
    if array is None:
        return np.full(n, missing, dtype=object)
    filled = pc.if_else(pc.or_kleene(pc.is_null(array), pc.equal(pc.utf8_trim_whitespace(array), "")), missing, array)
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=object)


def numbers(array: pa.Array | None, n: int) -> np.ndarray:
    """A numeric (or boolean) column as float64, nulls as NaN."""
    if array is None:
        return np.full(n, np.nan)
    if pa.types.is_boolean(array.type):
        array = pc.cast(array, pa.int8())
    return np.asarray(pc.cast(array, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _as_strings(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string()) if values.dtype == object else pa.array(values.astype(str), pa.string())


def count_by(keys: np.ndarray) -> Counter:
    """``Counter(value -> rows)``."""
    if len(keys) == 0:
        return Counter()
    counts = pc.value_counts(_as_strings(keys))
    return Counter(dict(zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())))


def counts_by_group(groups: np.ndarray, values: np.ndarray) -> dict[str, Counter]:
    """``{group: Counter(value -> rows)}``."""
    if len(groups) == 0:
        return {}
    table = pa.table({"g": _as_strings(groups), "v": _as_strings(values)})
    grouped = table.group_by(["g", "v"], use_threads=False).aggregate([([], "count_all")]).to_pydict()
    out: dict[str, Counter] = {}
    for g, v, n in zip(grouped["g"], grouped["v"], grouped["count_all"]):
        out.setdefault(g, Counter())[v] = n
    return out


def top_with_other(counter: Counter, top: int = TOP_LABEL_VALUES) -> list[tuple[str, int]]:
    """The ``top`` most common values (``(missing)`` always kept, last), the rest summed as ``(other)``."""
    missing = counter.get(MISSING, 0)
    ranked = [(k, v) for k, v in counter.most_common() if k != MISSING]
    kept = ranked[:top]
    rest = sum(v for _, v in ranked[top:])
    if rest:
        kept.append((OTHER, rest))
    if missing:
        kept.append((MISSING, missing))
    return kept


# --- clips ----------------------------------------------------------------------------------


def unique_clips(table: pa.Table) -> pa.Table:
    """One row per distinct clip: source, duration_s, meta fields.

    Labels and durations describe clips, not examples; a clip used by three tasks counts once. A
    pair example (two clip ids) is two clips, not one: its members count as clips, but its labels
    (none of its own) and its duration (both clips together) describe neither member, so they come
    only from the members' own single-clip examples, where there are any.
    """
    n = table.num_rows
    source = pa.array(strings(column(table, "source"), n), pa.string())
    duration = pa.array(numbers(column(table, "duration_s"), n))
    fields = struct_fields(table, "meta")
    clip_ids = column(table, "clip_ids")
    if clip_ids is None:
        data = {"key": column(table, "id"), "source": source, "duration_s": duration}
        data.update({f"meta.{name}": column(table, f"meta.{name}") for name in fields})
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
        for name in fields:
            values = pc.take(column(table, f"meta.{name}"), rows)
            data[f"meta.{name}"] = pc.if_else(single, values, pa.scalar(None, values.type))
    grouped = (
        pa.table(data)
        .group_by(["key", "source"], use_threads=False)
        .aggregate([("duration_s", "max")] + [(f"meta.{name}", "max") for name in fields])
    )
    return grouped.rename_columns([c.removesuffix("_max") for c in grouped.column_names])


@dataclass
class Histogram:
    edges: np.ndarray
    series: list[tuple[str, np.ndarray]]
    overflow: bool  # the last bin holds everything above its lower edge


def histogram(
    values: np.ndarray,
    groups: np.ndarray,
    order: list[str],
    *,
    bins: int = 40,
    upper_quantile: float = 0.995,
    lower: float | None = 0.0,
    integer: bool = False,
) -> Histogram | None:
    """Per-group counts over shared bins from ``lower`` to a round value above the ``upper_quantile``.

    ``integer``: the values are counts; bins are a whole number wide and centred on whole numbers.
    """
    ok = np.isfinite(values)
    if not ok.any():
        return None
    values, groups = values[ok], groups[ok]
    lo = lower if lower is not None and float(values.min()) >= lower else float(values.min())
    hi_all = float(values.max())
    target = float(np.quantile(values, upper_quantile))
    if target <= lo:
        target = hi_all if hi_all > lo else lo + 1.0
    if integer:
        width = max(1, int(np.ceil((target + 1 - lo) / bins)))
        count = int(np.ceil((target + 1 - lo) / width))
        edges = lo - 0.5 + width * np.arange(count + 1, dtype=float)
        hi = float(edges[-1])
    else:
        hi = lo + nice_ceiling(target - lo)
        edges = np.linspace(lo, hi, bins + 1)
    overflow = hi_all > hi
    clipped = np.minimum(values, np.nextafter(hi, lo))
    series = []
    for name in order:
        counts, _ = np.histogram(clipped[groups == name], bins=edges)
        if counts.sum():
            series.append((name, counts))
    return Histogram(edges, series, overflow)


def whole_numbers(values: np.ndarray) -> bool:
    """True when every finite value is a whole number (counts: binned as integers)."""
    finite = values[np.isfinite(values)]
    return bool(finite.size) and bool(np.all(finite == np.round(finite)))


def summary(values: np.ndarray) -> dict[str, float]:
    """n, mean, min, p5, median, p95, max of the finite values."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"n": 0}
    p5, p50, p95 = np.quantile(finite, [0.05, 0.5, 0.95])
    return {
        "n": int(finite.size),
        "mean": float(finite.mean()),
        "min": float(finite.min()),
        "p5": float(p5),
        "median": float(p50),
        "p95": float(p95),
        "max": float(finite.max()),
        "sum": float(finite.sum()),
    }


# --- responses ------------------------------------------------------------------------------


def word_counts(table: pa.Table, name: str = "response") -> np.ndarray:
    array = column(table, name)
    if array is None:
        return np.full(table.num_rows, np.nan)
    return numbers(pc.list_value_length(pc.utf8_split_whitespace(array)), table.num_rows)


def char_counts(table: pa.Table, name: str = "response") -> np.ndarray:
    array = column(table, name)
    if array is None:
        return np.full(table.num_rows, np.nan)
    return numbers(pc.utf8_length(array), table.num_rows)


def openings(table: pa.Table, words: int = OPENING_WORDS) -> np.ndarray:
    """The first ``words`` words of each response, lowercased, punctuation dropped."""
    array = column(table, "response")
    if array is None:
        return np.full(table.num_rows, MISSING, dtype=object)
    cleaned = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_lower(array), _OPENING_PUNCTUATION, " "))
    first = pc.binary_join(pc.list_slice(pc.utf8_split_whitespace(cleaned), 0, words), " ")
    return strings(first, table.num_rows, missing="(empty)")


@dataclass
class Openings:
    task: str
    examples: int
    distinct: int
    top: list[tuple[str, int]]


def top_openings(tasks: np.ndarray, opening: np.ndarray, order: list[str], top: int = TOP_OPENINGS) -> list[Openings]:
    per_task = counts_by_group(tasks, opening)
    out = []
    for task in order:
        counter = per_task.get(task, Counter())
        out.append(Openings(task, sum(counter.values()), len(counter), counter.most_common(top)))
    return out


# --- quality --------------------------------------------------------------------------------


@dataclass
class QualityColumns:
    """The fields of ``quality``, by kind: numeric scores, booleans (flags), strings, string lists."""

    numeric: dict[str, np.ndarray]
    flags: dict[str, np.ndarray]
    categorical: dict[str, np.ndarray]
    flag_lists: dict[str, list[list[str]]]


def quality_columns(table: pa.Table) -> QualityColumns | None:
    """Split the ``quality`` column (a struct, or a map of name -> number) into typed arrays."""
    if "quality" not in table.column_names:
        return None
    array = table.column("quality").combine_chunks()
    n = table.num_rows
    fields: dict[str, pa.Array] = {}
    if pa.types.is_struct(array.type):
        fields = {f.name: pc.struct_field(array, f.name) for f in array.type}
    elif pa.types.is_map(array.type):
        keys = pc.unique(array.keys).to_pylist()  # MapArray.keys: every entry's key, flattened
        fields = {k: pc.map_lookup(array, pa.scalar(k, array.type.key_type), "first") for k in sorted(keys)}
    result = QualityColumns({}, {}, {}, {})
    for name, values in fields.items():
        kind = values.type
        if pa.types.is_boolean(kind):
            result.flags[name] = numbers(values, n)
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
            result.numeric[name] = numbers(values, n)
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
            result.categorical[name] = strings(pc.cast(values, pa.string()), n)
        elif (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and pa.types.is_string(kind.value_type):
            result.flag_lists[name] = [v or [] for v in values.to_pylist()]
    if not (result.numeric or result.flags or result.categorical or result.flag_lists):
        return None
    return result
