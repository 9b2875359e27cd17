"""Per-shard bookkeeping: stage counts, rejects, unknown labels and LLM counters.

A shard's context is saved in its done-marker, so a resumed run adds up finished shards' counts
without redoing them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from speechsift.errors import StrictModeError


@dataclass
class StageStats:
    """One stage's accounting; ``inputs == outputs + sum(rejected.values())`` always holds."""

    inputs: int = 0
    outputs: int = 0
    rejected: Counter = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "outputs": self.outputs,
            "rejected": sum(self.rejected.values()),
            "rejected_by_reason": dict(sorted(self.rejected.items())),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StageStats":
        return cls(data["inputs"], data["outputs"], Counter(data["rejected_by_reason"]))

    def add(self, other: "StageStats") -> None:
        self.inputs += other.inputs
        self.outputs += other.outputs
        self.rejected.update(other.rejected)


@dataclass
class ShardContext:
    strict: bool = False
    stages: dict[str, StageStats] = field(default_factory=dict)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    unknown_labels: Counter = field(default_factory=Counter)  # "field=value" -> count
    llm: Counter = field(default_factory=Counter)  # requests_sent, deduplicated, tokens_in, ...
    seconds: Counter = field(default_factory=Counter)  # stage -> seconds spent
    tts: Counter = field(default_factory=Counter)  # speech synthesis: requests, cache_hits, synthesized, ...

    def stats(self, stage: str) -> StageStats:
        if stage not in self.stages:
            self.stages[stage] = StageStats()
        return self.stages[stage]

    def reject(self, stage: str, record_id: str, reason: str, message: str, **extra: Any) -> None:
        """Record a refused clip or example; under --strict, stop the run instead."""
        self.stats(stage).rejected[reason] += 1
        entry = {"id": record_id, "stage": stage, "reason": reason, "message": message}
        entry.update({k: v for k, v in extra.items() if v is not None})
        self.rejects.append(entry)
        if self.strict:
            raise StrictModeError(f"--strict: {stage} rejected {record_id} ({reason}): {message}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": {name: s.to_dict() for name, s in self.stages.items()},
            "unknown_labels": dict(self.unknown_labels),
            "llm": dict(self.llm),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            "tts": dict(self.tts),
        }


@dataclass
class RunTotals:
    """Counts summed over shards, for run.json and the card."""

    stages: dict[str, StageStats] = field(default_factory=dict)
    unknown_labels: Counter = field(default_factory=Counter)
    llm: Counter = field(default_factory=Counter)
    examples: Counter = field(default_factory=Counter)  # task -> rows written
    seconds: Counter = field(default_factory=Counter)  # stage -> seconds, over all shards
    tts: Counter = field(default_factory=Counter)  # speech synthesis counters, over all shards

    def add_shard(self, shard: dict[str, Any]) -> None:
        for name, data in shard["stages"].items():
            self.stages.setdefault(name, StageStats()).add(StageStats.from_dict(data))
        self.unknown_labels.update(shard["unknown_labels"])
        self.llm.update(shard["llm"])
        self.examples.update(shard.get("examples", {}))
        self.seconds.update(shard.get("seconds", {}))
        self.tts.update(shard.get("tts", {}))

    def unknown_labels_by_field(self) -> dict[str, dict[str, int]]:
        nested: dict[str, dict[str, int]] = {}
        for key, count in sorted(self.unknown_labels.items()):
            field_name, _, value = key.partition("=")
            nested.setdefault(field_name, {})[value] = count
        return nested
