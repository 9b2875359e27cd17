"""Mixing: weight tasks and sources to a target size, sampling at random with a seed.

Each (task, source) stratum's *share* is ``size × weight / total weight`` examples, its weight being
the product of its task's and its source's weight (1 when unlisted; 0 leaves it out). A stratum
with more examples than its target is sampled without replacement, never the first N.

A stratum with fewer examples than its share gives all it has, and what it cannot use goes to the
strata that still have examples, in proportion to their weights, until the size is reached or
every weighted stratum is exhausted (water-filling); the plan reports each stratum's share, its
target after that and what was selected, and the shortfall when even all of it falls short. With
``upsample``, a small stratum instead repeats its examples (a seeded order, cycled) up to its share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from speechsift.records import stable_id


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


def plan_mix(keys: Sequence[MixKey], *, size: int, weights: Mapping[str, Mapping[str, float]], upsample: bool, seed: int) -> MixPlan:
    strata: dict[tuple[str, str], list[int]] = {}
    for index, key in enumerate(keys):
        strata.setdefault((key.task, key.source), []).append(index)
    sizes = {s: len(v) for s, v in strata.items()}
    weight = stratum_weights(list(strata), weights)
    shares = apportion(size, weight)
    targets = shares if upsample else fill_targets(sizes, size, weight)
    copies = [0] * len(keys)
    report = {}
    for stratum, indices in strata.items():
        order = sorted(indices, key=lambda i: stable_id(str(seed), "mix", keys[i].id))
        target = targets[stratum]
        if target <= len(order) or not upsample:
            for i in order[:target]:
                copies[i] = 1
        else:
            for n in range(target):
                copies[order[n % len(order)]] += 1
        selected = sum(copies[i] for i in indices)
        report[f"{stratum[0]}/{stratum[1]}"] = {"available": len(indices), "share": shares[stratum], "target": target,
                                                "selected": selected}
    selected = sum(copies)
    redistributed = sum(max(0, targets[s] - shares[s]) for s in strata)
    return MixPlan(copies, report, size, selected, max(0, size - selected), redistributed)
