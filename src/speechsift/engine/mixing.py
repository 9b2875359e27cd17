"""Mixing: weight tasks and sources to a target size, sampling at random with a seed.

Each (task, source) stratum gets ``size × weight / total weight`` examples, its weight being the
product of its task's and its source's weight (1 when unlisted; 0 leaves it out). A stratum with
more examples than its share is sampled without replacement; one with fewer gives all it has, and,
with ``upsample``, repeats examples (a seeded order, cycled) to reach its share. Never the first N.
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
    strata: dict[str, dict[str, int]]  # "task/source" -> {available, target, selected}


def stratum_targets(sizes: Mapping[tuple[str, str], int], size: int, weights: Mapping[str, Mapping[str, float]]) -> dict[tuple[str, str], int]:
    """Whole-number targets that add up to ``size`` (largest remainders get the leftover)."""
    task_w, source_w = weights.get("task", {}), weights.get("source", {})
    weight = {s: task_w.get(s[0], 1.0) * source_w.get(s[1], 1.0) for s in sizes}
    total = sum(weight.values())
    if total <= 0:
        return {s: 0 for s in sizes}
    exact = {s: size * w / total for s, w in weight.items()}
    targets = {s: math.floor(v) for s, v in exact.items()}
    leftover = size - sum(targets.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - targets[s]), s))[:leftover]:
        if weight[s] > 0:
            targets[s] += 1
    return targets


def plan_mix(keys: Sequence[MixKey], *, size: int, weights: Mapping[str, Mapping[str, float]], upsample: bool, seed: int) -> MixPlan:
    strata: dict[tuple[str, str], list[int]] = {}
    for index, key in enumerate(keys):
        strata.setdefault((key.task, key.source), []).append(index)
    targets = stratum_targets({s: len(v) for s, v in strata.items()}, size, weights)
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
        report[f"{stratum[0]}/{stratum[1]}"] = {"available": len(indices), "target": target, "selected": selected}
    return MixPlan(copies, report)
