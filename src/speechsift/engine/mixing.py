"""Mixing: weight tasks and sources to a target size, sampling at random with a seed.

Each (task, source) stratum's *share* is ``size × weight / total weight`` examples, its weight being
the product of its task's and its source's weight (1 when unlisted; 0 leaves it out). A stratum
with more examples than its target is sampled without replacement, never the first N.

A stratum with fewer examples than its share gives all it has, and what it cannot use goes to the
strata that still have examples, in proportion to their weights, until the size is reached or
every weighted stratum is exhausted (water-filling); the plan reports each stratum's share, its
target after that and what was selected, and the shortfall when even all of it falls short. With
``upsample``, a small stratum instead repeats its examples (a seeded order, cycled) up to its share.

The plan streams over the parts' train examples twice, keeping a few numbers per stratum: the
first pass (``MixCounts``) counts each stratum and bins its examples' seeded hashes; the targets
follow from the counts; the second pass (``MixCut``) finds each stratum's exact cut among the
hashes of one bin. An example's copies (``MixSelection``) then follow from its hash alone:
the ``target`` examples of a stratum with the smallest hashes (cycled when upsampling).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from speechsift.records import stable_ids


@dataclass(frozen=True, slots=True)
class MixKey:
    id: str
    task: str
    source: str


@dataclass
class MixPlan:
    copies: list[int]  # per example: 0 (not sampled), 1, or more (repeated)
    strata: dict[str, dict[str, int]]  # "task/source" -> {available, share, target, selected}
    size: int = 0
    selected: int = 0
    shortfall: int = 0  # size - selected: the mixture is smaller than asked
    redistributed: int = 0  # examples moved from strata below their share to others

    def to_dict(self) -> dict[str, object]:
        return {"size": self.size, "selected": self.selected, "shortfall": self.shortfall,
                "redistributed": self.redistributed, "strata": self.strata}


def stratum_weights(strata: Sequence[tuple[str, str]], weights: Mapping[str, Mapping[str, float]]) -> dict[tuple[str, str], float]:
    task_w, source_w = weights.get("task", {}), weights.get("source", {})
    return {s: task_w.get(s[0], 1.0) * source_w.get(s[1], 1.0) for s in strata}


def apportion(amount: int, weight: Mapping[tuple[str, str], float]) -> dict[tuple[str, str], int]:
    """Whole numbers in proportion to ``weight`` that add up to ``amount`` (largest remainders get
    the leftover; a zero weight gets nothing)."""
    total = sum(weight.values())
    if total <= 0:
        return {s: 0 for s in weight}
    exact = {s: amount * w / total for s, w in weight.items()}
    shares = {s: math.floor(v) for s, v in exact.items()}
    leftover = amount - sum(shares.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - shares[s]), s))[:leftover]:
        if weight[s] > 0:
            shares[s] += 1
    return shares


def stratum_targets(sizes: Mapping[tuple[str, str], int], size: int, weights: Mapping[str, Mapping[str, float]]) -> dict[tuple[str, str], int]:
    """Whole-number shares of ``size`` by weight, adding up to ``size`` (before any redistribution)."""
    return apportion(size, stratum_weights(list(sizes), weights))


def fill_targets(sizes: Mapping[tuple[str, str], int], size: int, weight: Mapping[tuple[str, str], float]) -> dict[tuple[str, str], int]:
    """Targets capped at what each stratum has, the unused quota handed on by weight (water-filling)."""
    targets = {s: 0 for s in sizes}
    open_ = {s for s in sizes if weight[s] > 0 and sizes[s] > 0}
    remaining = size
    while remaining > 0 and open_:
        shares = apportion(remaining, {s: weight[s] for s in sorted(open_)})
        full = {s for s in open_ if targets[s] + shares[s] >= sizes[s]}
        if not full:
            for s, n in shares.items():
                targets[s] += n
            break
        for s in full:  # these give all they have; the rest share what is left next round
            remaining -= sizes[s] - targets[s]
            targets[s] = sizes[s]
        open_ -= full
    return targets


# Bits of each example's seeded hash that ``MixCounts`` bins it by: the exact cut of a stratum is
# then found among the ~1/4096 of its examples in one bin.
HASH_BINS_BITS = 12


def mix_hashes(ids: Sequence[str], seed: int) -> np.ndarray:
    """Each example's place in its stratum's seeded random order (a 64-bit hash of its id)."""
    hash_of = stable_ids(str(seed))
    return np.array([int(hash_of("mix", example_id), 16) for example_id in ids], dtype=np.uint64)


class MixCounts:
    """Train examples per (task, source) stratum, with their hashes binned, added part by part."""

    def __init__(self) -> None:
        self.strata: dict[tuple[str, str], int] = {}  # stratum -> its index
        self.sizes: list[int] = []
        self.bins: list[np.ndarray] = []

    def index(self, tasks: Sequence[str], sources: Sequence[str]) -> np.ndarray:
        """Each example's stratum index (new strata are added)."""
        out = np.empty(len(tasks), dtype=np.int32)
        for i, stratum in enumerate(zip(tasks, sources)):
            j = self.strata.get(stratum)
            if j is None:
                j = self.strata[stratum] = len(self.sizes)
                self.sizes.append(0)
                self.bins.append(np.zeros(1 << HASH_BINS_BITS, dtype=np.int64))
            out[i] = j
        return out

    def add(self, strata: np.ndarray, hashes: np.ndarray) -> None:
        bins = (hashes >> np.uint64(64 - HASH_BINS_BITS)).astype(np.int64)
        for j in np.unique(strata).tolist():
            mine = strata == j
            self.sizes[j] += int(mine.sum())
            self.bins[j] += np.bincount(bins[mine], minlength=1 << HASH_BINS_BITS)


@dataclass
class MixSelection:
    """How many copies each train example gets: per stratum, ``base`` copies each, one more for the
    examples whose hash is at most ``cut`` (the stratum's ``extra`` smallest)."""

    base: dict[int, int]
    cut: dict[int, int]  # stratum -> the largest hash that gets an extra copy (absent: none does)

    def copies(self, strata: np.ndarray, hashes: np.ndarray) -> np.ndarray:
        out = np.zeros(len(strata), dtype=np.int32)
        for j in np.unique(strata).tolist():
            mine = strata == j
            extra = hashes[mine] <= np.uint64(self.cut[j]) if j in self.cut else np.zeros(int(mine.sum()), bool)
            out[mine] = self.base.get(j, 0) + extra
        return out


class MixCut:
    """The exact cut of each stratum: its ``extra``-th smallest hash, found among the hashes of one bin."""

    def __init__(self, counts: MixCounts, extra: dict[int, int]) -> None:
        self.want: dict[int, tuple[int, int]] = {}  # stratum -> (bin, rank within the bin, 0-based)
        for j, k in extra.items():
            if k <= 0:
                continue
            cumulative = np.cumsum(counts.bins[j])
            b = int(np.searchsorted(cumulative, k))  # first bin where the running count reaches k
            self.want[j] = (b, k - 1 - (int(cumulative[b - 1]) if b else 0))
        self._found: dict[int, list[np.ndarray]] = {j: [] for j in self.want}

    def add(self, strata: np.ndarray, hashes: np.ndarray) -> None:
        bins = (hashes >> np.uint64(64 - HASH_BINS_BITS)).astype(np.int64)
        for j, (b, _rank) in self.want.items():
            self._found[j].append(hashes[(strata == j) & (bins == b)])

    def cuts(self) -> dict[int, int]:
        return {j: int(np.sort(np.concatenate(self._found[j]))[rank]) for j, (_b, rank) in self.want.items()}


def plan_targets(counts: MixCounts, *, size: int, weights: Mapping[str, Mapping[str, float]],
                 upsample: bool) -> tuple[MixPlan, dict[int, int], dict[int, int]]:
    """The mixture's report (``copies`` left empty), and per stratum the copies every example gets
    and how many get one more."""
    sizes = {stratum: counts.sizes[j] for stratum, j in counts.strata.items()}
    weight = stratum_weights(list(sizes), weights)
    shares = apportion(size, weight)
    targets = shares if upsample else fill_targets(sizes, size, weight)
    base, extra, report = {}, {}, {}
    for stratum, j in counts.strata.items():
        n, target = sizes[stratum], targets[stratum]
        base[j], extra[j] = (target // n, target % n) if n else (0, 0)
        selected = target if (upsample or target <= n) else n
        report[f"{stratum[0]}/{stratum[1]}"] = {"available": n, "share": shares[stratum], "target": target,
                                                "selected": selected}
    selected = sum(s["selected"] for s in report.values())
    redistributed = sum(max(0, targets[s] - shares[s]) for s in sizes)
    return MixPlan([], report, size, selected, max(0, size - selected), redistributed), base, extra


def plan_mix(keys: Sequence[MixKey], *, size: int, weights: Mapping[str, Mapping[str, float]], upsample: bool, seed: int) -> MixPlan:
    """The mixture of ``keys`` (the streaming steps of the assemble pass, over one list)."""
    counts = MixCounts()
    strata = counts.index([k.task for k in keys], [k.source for k in keys])
    hashes = mix_hashes([k.id for k in keys], seed)
    counts.add(strata, hashes)
    plan, base, extra = plan_targets(counts, size=size, weights=weights, upsample=upsample)
    cut = MixCut(counts, extra)
    cut.add(strata, hashes)
    plan.copies = MixSelection(base, cut.cuts()).copies(strata, hashes).tolist()
    return plan
