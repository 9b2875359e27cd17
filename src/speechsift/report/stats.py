"""The numbers behind the report's charts, from the aggregated statistics (``report/aggregate.py``):
shared histogram bins over several series, summaries (quantiles, sums), the most common values.
They draw nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from speechsift.report.aggregate import MISSING, OPENING_WORDS, PROVENANCE_FIELDS, Tally, Values
from speechsift.report.svg import nice_ceiling

TOP_OPENINGS = 10
TOP_LABEL_VALUES = 8  # label values drawn per field; the rest are summed as "(other)"
OTHER = "(other)"

__all__ = ["MISSING", "OPENING_WORDS", "OTHER", "PROVENANCE_FIELDS", "Histogram", "Openings", "Values", "histogram_of",
           "summary", "top_openings", "top_with_other"]


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


@dataclass
class Openings:
    task: str
    examples: int
    distinct: int
    top: list[tuple[str, int]]


def top_openings(per_task: dict[str, Tally], order: list[str], top: int = TOP_OPENINGS) -> list[Openings]:
    """Per task in ``order``: its examples, distinct openings and the ``top`` most common."""
    out = []
    for task in order:
        tally = per_task.get(task) or Tally()
        out.append(Openings(task, tally.total, tally.distinct(), tally.most_common(top)))
    return out


@dataclass
class Histogram:
    edges: np.ndarray
    series: list[tuple[str, np.ndarray]]
    overflow: bool  # the last bin holds everything above its lower edge


def histogram_of(
    series: Sequence[tuple[str, Values]],
    *,
    bins: int = 40,
    upper_quantile: float = 0.995,
    lower: float | None = 0.0,
    integer: bool = False,
) -> Histogram | None:
    """Per-series counts over shared bins from ``lower`` to a round value above the ``upper_quantile``
    of every value together.

    ``integer``: the values are counts; bins are a whole number wide and centred on whole numbers.
    """
    together = Values()
    for _name, values in series:
        together.merge(values)
    if not together.n:
        return None
    lo = lower if lower is not None and together.min >= lower else together.min
    hi_all = together.max
    target = float(together.quantile(upper_quantile))
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
    found = []
    for name, values in series:
        counts = values.histogram(edges, np.nextafter(hi, lo)) if values.n else np.zeros(len(edges) - 1, np.int64)
        if counts.sum():
            found.append((name, counts))
    return Histogram(edges, found, overflow)


def summary(values: Values | np.ndarray) -> dict[str, float]:
    """n, mean, min, p5, median, p95, max and sum of the finite values."""
    if not isinstance(values, Values):
        values = Values.of(values)
    if not values.n:
        return {"n": 0}
    p5, p50, p95 = values.quantile([0.05, 0.5, 0.95])
    return {
        "n": int(values.n),
        "mean": values.sum / values.n,
        "min": values.min,
        "p5": float(p5),
        "median": float(p50),
        "p95": float(p95),
        "max": values.max,
        "sum": values.sum,
    }
