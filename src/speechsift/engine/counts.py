"""The accounting of a run: stage counts, rejects, unknown labels, LLM and speech counters.

A stage returns what it did (``stage.StageResult``); the ``Stage`` base adds it to the shard's
``ShardLog`` (the executor's, one per shard), which no stage sees. A shard's log is saved in its
done-marker, so a resumed run adds up finished shards' counts (``RunTotals``) without redoing them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from speechsift.errors import StrictModeError

if TYPE_CHECKING:
    from speechsift.engine.stage import StageResult


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


# The counters a stage may return besides its counts (``StageResult.tallies``), as ShardLog fields.
TALLIES = ("unknown_labels", "llm", "tts")


@dataclass
class ShardLog:
    """One shard's accounting, owned by the executor: every stage's result is added here once."""

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

    def add(self, stage: str, inputs: int, result: "StageResult", seconds: float = 0.0) -> None:
        """Count ``result`` of ``stage`` over a batch of ``inputs`` records and keep its rejects
        (under ``--strict``, the first reject stops the run instead)."""
        if result.counts is None:
            stats = self.stats(stage)
            stats.inputs += inputs
            stats.outputs += len(result.outputs)
        else:
            for name, (counted_in, counted_out) in result.counts.items():
                stats = self.stats(name)
                stats.inputs += counted_in
                stats.outputs += counted_out
        for rejected in result.rejects:
            where = rejected.stage or stage
            self.stats(where).rejected[rejected.reason] += 1
            self.rejects.append(rejected.entry(where))
            if self.strict:
                raise StrictModeError(f"--strict: {where} rejected {rejected.id} ({rejected.reason}): {rejected.message}")
        if result.tallies:
            for name, counter in result.tallies.items():
                getattr(self, name).update(counter)
        if seconds:
            self.seconds[stage] += seconds

    @property
    def transient(self) -> int:
        """Rejects a rerun may well turn into outputs (a server down, overloaded, too slow): while
        there are any, the shard is not done."""
        return sum(1 for entry in self.rejects if entry.get("transient"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": {name: s.to_dict() for name, s in self.stages.items()},
            "unknown_labels": dict(self.unknown_labels),
            "llm": dict(self.llm),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            "tts": dict(self.tts),
            "transient": self.transient,
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
