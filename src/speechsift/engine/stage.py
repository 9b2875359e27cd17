"""What a stage is: one method over a batch of records of one type, returning what it made.

``Stage.process(batch) -> StageResult``: the outputs, the records refused (``Rejected``: id, a
snake_case reason code, a message) and, where a stage counts in other units than its batch (the
task expansion counts clips per task), its counts. A stage touches no file, no pool and no shared
state: the executor calls it as ``stage(batch, log)``, and the base times it, adds its counts and
rejects to the shard's log (``counts.ShardLog``) once, and returns the outputs. So the same stage
runs in the local executor's process, in a worker process or in a Ray task.

A stage that judges records one by one subclasses ``RecordStage`` and implements ``one(record)``,
which returns the record (changed or not) or raises ``errors.Reject``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from speechsift.errors import Reject

if TYPE_CHECKING:
    from speechsift.engine.counts import ShardLog


@dataclass(slots=True)
class Rejected:
    """One refused record. ``stage`` is set where a stage counts it under another name than its own
    (``task.<name>``); ``transient`` marks a failure a rerun asks again (its shard stays unfinished)."""

    id: str
    reason: str
    message: str
    source: str | None = None
    task: str | None = None
    stage: str | None = None
    transient: bool = False

    def entry(self, stage: str) -> dict[str, Any]:
        """The line of ``rejects.jsonl``."""
        entry: dict[str, Any] = {"id": self.id, "stage": stage, "reason": self.reason, "message": self.message}
        if self.source is not None:
            entry["source"] = self.source
        if self.task is not None:
            entry["task"] = self.task
        if self.transient:
            entry["transient"] = True
        return entry


@dataclass(slots=True)
class StageResult:
    """What a stage made of a batch. ``counts`` (counted name -> (inputs, outputs)) is for stages
    that count in other units than their batch; by default the stage counts its batch and its
    outputs under its own name, and every reject under its ``stage`` (default: the stage's name).
    ``tallies`` are counters for run.json by name (``counts.TALLIES``: unknown labels, llm, tts)."""

    outputs: list[Any]
    rejects: list[Rejected] = field(default_factory=list)
    counts: dict[str, tuple[int, int]] | None = None
    tallies: dict[str, Counter] | None = None


def record_id(record: Any) -> str:
    return getattr(record, "clip_id", None) or getattr(record, "id", "?")


class Stage:
    """A named step over a batch; subclasses implement ``process``."""

    name: str = "stage"

    def process(self, batch: list[Any]) -> StageResult:
        raise NotImplementedError

    def __call__(self, batch: list[Any], log: "ShardLog") -> list[Any]:
        """Run the stage on ``batch``, account for it in ``log``, return its outputs."""
        started = time.perf_counter()
        result = self.process(batch)
        log.add(self.name, len(batch), result, time.perf_counter() - started)
        return result.outputs

    def rejected(self, record: Any, refused: Reject, **extra: Any) -> Rejected:
        """The reject of ``record``, with its source (and whatever ``extra`` names)."""
        return Rejected(record_id(record), refused.reason, refused.message, source=getattr(record, "source", None),
                        **extra)


class RecordStage(Stage):
    """A stage that judges records one at a time: ``one(record)`` returns it or raises ``Reject``."""

    def one(self, record: Any) -> Any:
        raise NotImplementedError

    def process(self, batch: Sequence[Any]) -> StageResult:
        kept, rejects = [], []
        for record in batch:
            try:
                kept.append(self.one(record))
            except Reject as refused:
                rejects.append(self.rejected(record, refused))
        return StageResult(kept, rejects)


__all__ = ["RecordStage", "Rejected", "Stage", "StageResult", "record_id"]
