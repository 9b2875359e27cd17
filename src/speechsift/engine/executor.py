"""Executors run a plan (``engine/plan.py``). The base owns what every executor shares: the output
folder's lock, the shards' resume (done-markers, fingerprints, transient failures), the request
ledger, the generation service and the release. A subclass says how the shards run
(``run_shards``, ``drain``) and where spread-out work runs (``map``): ``LocalExecutor``
(``engine/local.py``) in this process beside the asyncio generation service, with a process pool
for measuring; a Ray executor as Ray tasks.

A shard's life, whatever runs it:

1. ``reuse(spec)``: a shard whose marker records the same fingerprint and input digest, whose files
   are there and none of whose requests or utterances failed transiently is done: its counts are
   added and nothing runs.
2. ``prepare_shard(spec, stages, storage, ...)``: the preparing stages (clip chain and task
   expansion, or the builder of planned items), the clip index part where the plan asks for one;
   a pure function of the spec but for that file, so it can run in a worker process or a Ray task.
   The requests to send are ``pending.requests``; an earlier attempt's permanent failures are not
   asked again (``settled_failures``).
3. ``advance(pending, answers)``: one round of answers applied (``generate``, then
   ``generate.step`` for the later steps of multi-step tasks); returns the next round's requests.
4. ``finish(pending)``: the stages on finished examples (speech), then the shard's examples, its
   rejects and last its done-marker, each written atomically through the layout's storage.

The request ledger is SQLite, so it lives on this machine (``layout.ledger``: ``OUT/.work`` for a
local OUT). With OUT on an object store, ``open_ledger`` starts from the copy kept beside OUT
(``layout.ledger_copy``) when this machine has none, and ``close_ledger`` puts the ledger back
there at the end of every run, interrupted or not. A ledger shared by several nodes (one writer, or
per-shard segments on shared storage) replaces these two methods.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePath
from typing import Any, ClassVar

import pyarrow.parquet as pq

from speechsift.engine.counts import RunTotals, ShardLog
from speechsift.engine.enrich import MapFn
from speechsift.engine.gc_tuning import streaming_gc
from speechsift.engine.generation import Answer, GenerationService
from speechsift.engine.lock import OutputLock
from speechsift.engine.pairs import write_clip_index
from speechsift.engine.plan import MARKER_VERSION, Plan, ShardSpec, Stages, build_stages, check_backend
from speechsift.engine.progress import ProgressReporter
from speechsift.engine.assemble import Assembly, make_curator, map_parts
from speechsift.engine.release import read_json, release_run
from speechsift.engine.release_part import PartJob, PartResult
from speechsift.engine.stages import Generate, answered
from speechsift.engine.text_items import check_text_backends
from speechsift.errors import ConfigError
from speechsift.layout import OutputLayout
from speechsift.memory import release_memory
from speechsift.llm.base import Backend
from speechsift.llm.ledger import Ledger
from speechsift.llm.router import make_recipe_backend
from speechsift.llm.types import ChatRequest, Completion
from speechsift.recipe import Recipe
from speechsift.records import Example, examples_to_arrow
from speechsift.storage import OutPath, Storage

logger = logging.getLogger("speechsift.engine")


@dataclass
class RunResult:
    out_dir: Path | str  # a local folder, or the object store's URI
    totals: RunTotals
    shards: int
    shards_skipped: int
    seconds: float
    llm_this_run: dict[str, int] = field(default_factory=dict)  # requests sent, hits, retries, ...
    assembly: Assembly | None = None
    tts_this_run: dict[str, int] = field(default_factory=dict)  # utterances synthesized, cache hits, ...
    clip_stages: tuple[str, ...] = ()  # the stages a clip passes before its tasks (read, normalize, ...)

    @property
    def examples(self) -> Counter:
        """Examples released per task (after splits and mixing)."""
        return self.assembly.by_task() if self.assembly else Counter()

    def clips_refused(self) -> tuple[int, Counter]:
        """Clips read, and why those refused before any task saw them were refused."""
        read = self.totals.stages.get(self.clip_stages[0]) if self.clip_stages else None
        refused: Counter = Counter()
        for name in self.clip_stages:
            if name in self.totals.stages:
                refused.update(self.totals.stages[name].rejected)
        return (read.inputs if read else 0), refused

    @property
    def warnings(self) -> list[str]:
        """What the user should know about this output (also in run.json and the card)."""
        return self.assembly.warnings if self.assembly else []


@dataclass
class PendingShard:
    """A prepared shard whose LLM requests are being answered."""

    spec: ShardSpec
    log: ShardLog
    examples: list[Example]
    requests: list[ChatRequest]  # the round being asked
    settled: dict[int, Answer] = field(default_factory=dict)  # request position -> an earlier permanent failure
    steps: int = 0  # rounds of answers applied (the later steps of multi-step tasks are rounds too)
    answers: concurrent.futures.Future | None = None  # the executor's handle on the round's answers

    @property
    def finished(self) -> bool:
        """Every step answered: ready to write."""
        return self.steps > 0 and not self.requests

    def merged(self, asked: list[Answer]) -> list[Answer]:
        """The answers in request order: the settled ones where they were, the asked ones between."""
        if not self.settled:
            return asked
        rest = iter(asked)
        return [self.settled[i] if i in self.settled else next(rest) for i in range(len(self.settled) + len(asked))]


def prepare_shard(spec: ShardSpec, stages: Stages, storage: Storage, *, strict: bool = False,
                  settled: dict[str, Answer] | None = None) -> PendingShard:
    """A shard through its preparing stages; its first round of requests in ``requests`` (an
    earlier attempt's permanent failures, ``settled`` by example id, are answered as they were)."""
    log = ShardLog(strict=strict)
    builder = stages.builder(spec.kind)
    items = list(spec.items)
    if builder is not None:
        examples = builder(items, log)
    else:
        clips: list[Any] = items
        for stage in stages.clips:
            clips = stage(clips, log)
        if spec.clip_index is not None:
            write_clip_index(clips, spec.clip_index, storage)
        examples = stages.expand(clips, log)
    requests: list[ChatRequest] = []
    known: dict[int, Answer] = {}  # answers of the first round that are settled already
    settled = settled or {}
    for example in examples:
        asks = Generate.requests([example])  # one request, or a multi-step task's several
        if len(asks) == 1 and example.id in settled:
            known[len(requests) + len(known)] = settled[example.id]
        else:
            requests += asks
    return PendingShard(spec, log, examples, requests, known)


def advance(pending: PendingShard, stages: Stages, answers: list[Answer]) -> list[ChatRequest]:
    """Apply one round of a shard's answers; returns the next round's requests (none: finished)."""
    if pending.steps == 0:
        pending.examples = stages.generate(answered(pending.examples, pending.merged(answers)), pending.log)
    else:
        waiting = [e for e in pending.examples if e.request is not None]
        done = [e for e in pending.examples if e.request is None]
        pending.examples = done + stages.generate_step(answered(waiting, answers), pending.log)
    pending.steps += 1
    pending.requests = Generate.requests([e for e in pending.examples if e.request is not None])
    return pending.requests


class Executor:
    """Runs a recipe's plan to its output folder.

    What a subclass implements (``name`` registers it as ``engine.executor: <name>``):

    - ``run_shards(specs)``: every spec: ``reuse(spec)`` first, in spec order (True: done, counted);
      otherwise prepare it (``prepare`` here, or ``prepare_shard`` anywhere with
      ``settled_failures(spec)``), get its requests answered (``self.service.submit``, or any
      generation that returns ``Answer``s in request order) and ``advance`` until ``finished``,
      then ``finish(pending)`` in this process, which writes the shard and records its marker.
      Shards may finish in any order: the release counts them in shard order (``tally``). It
      returns once every spec is prepared (the pair plan reads the clip index that preparing the
      clip shards writes); shards still generating may be left to ``drain``.
    - ``drain()``: finish every shard still in flight (called once, after the last kind).
    - ``map()`` (optional): where ``Enrich`` measures (``map(function, items)`` in order).
    - ``close()`` (optional): release workers; called however the run ends.

    The base calls them from ``run``, inside the lock, with the ledger open and ``self.backend``,
    ``self.stages``, ``self.plan`` and ``self.service`` set; it then makes the release.
    """

    name: ClassVar[str] = ""

    def __init__(self, recipe: Recipe, *, limit: int | None = None, strict: bool = False, progress: bool = True,
                 cache: bool = True) -> None:
        self.recipe = recipe
        self.limit = limit
        self.strict = strict
        self.cache = cache
        self.layout = OutputLayout(recipe.output_dir, recipe.engine.cache_dir)
        self.reporter = ProgressReporter(enabled=progress)
        self.markers: dict[int, dict[str, Any]] = {}  # shard index -> its done-marker, finished in any order
        self.tts_this_run: Counter = Counter()  # speech synthesis of the shards this invocation made
        # over every shard in shard order, whatever order they finished in (``tally``, before the release)
        self.totals = RunTotals()
        self.parts: list[OutPath] = []  # every shard's examples
        self.digests: list[str] = []
        self.clip_index: list[PurePath] = []  # the pairing index parts the clip shards wrote
        self.shards = self.skipped = 0
        self.clip_shards = 0
        # set by run(): the recipe's backend, stages, plan and generation service
        self.backend: Backend
        self.stages: Stages
        self.plan: Plan
        self.service: GenerationService
        self.curator: Any = None

    # --- what a subclass implements -------------------------------------------------------

    def run_shards(self, specs: Iterable[ShardSpec]) -> None:
        """Run every shard of ``specs`` (``reuse`` first): prepare, generate, finish."""
        raise NotImplementedError

    def drain(self) -> None:
        """Wait for every shard still in flight and finish it."""
        raise NotImplementedError

    def map(self) -> MapFn:
        """Where the stages run spread-out work (measuring): here by default."""
        return map

    def write_parts(self, jobs: list[PartJob], workers: int) -> Iterable[PartResult]:
        """Where the release's parts are written (``engine/release_part.py``): a process pool of
        ``workers`` on this machine by default."""
        return map_parts(jobs, workers)

    def close(self) -> None:
        """Release what the executor holds (worker pools)."""

    def make_backend(self) -> Backend:
        """The recipe's LLM backend (an executor may place its engines elsewhere: Ray's on GPU nodes)."""
        return make_recipe_backend(self.recipe)

    # --- resume ----------------------------------------------------------------------------

    def _marker(self, spec: ShardSpec) -> dict[str, Any]:
        return read_json(self.layout.storage, self.layout.shard_marker(spec.index)) or {}

    def same_inputs(self, marker: dict[str, Any], spec: ShardSpec) -> bool:
        """Whether a marker is of this shard's inputs under this recipe's shard stages."""
        return (marker.get("version") == MARKER_VERSION and marker.get("fingerprint") == self.plan.fingerprint
                and marker.get("digest") == spec.digest)

    def reuse(self, spec: ShardSpec) -> bool:
        """Whether the shard is done already (its marker says so with these inputs under this recipe,
        its files are there, nothing of it failed transiently); a reused shard is counted here."""
        self.shards += 1
        if spec.clip_index is not None:
            self.clip_index.append(spec.clip_index)
        marker = self._marker(spec)
        if not self.same_inputs(marker, spec) or marker["llm"].get("transient_failures") or marker.get("transient"):
            return False
        storage, root = self.layout.storage, self.layout.root
        files = [marker["examples_file"], *([marker.get("clips_file")] if spec.clip_index is not None else [])]
        if not all(f and storage.is_file(root / f) for f in files):
            return False
        self.skipped += 1
        self.markers[spec.index] = marker
        self.reporter.advance(len(spec), skipped=True)
        return True

    def settled_failures(self, spec: ShardSpec) -> dict[str, Answer]:
        """Per example id, the permanent generate failures of this shard's earlier attempt (a shard
        redone for its transient failures asks only those again; the rest stay as they were)."""
        if not self.same_inputs(self._marker(spec), spec):
            return {}
        try:
            lines = self.layout.storage.read_text(self.layout.shard_rejects(spec.index)).splitlines()
        except FileNotFoundError:
            return {}
        settled = {}
        for line in lines:
            entry = json.loads(line)
            if entry.get("stage") == self.stages.generate.name and not entry.get("transient"):
                settled[entry["id"]] = Answer(Completion(error=entry["message"], error_reason=entry["reason"]), "settled")
        return settled

    def prepare(self, spec: ShardSpec) -> PendingShard:
        """``prepare_shard`` in this process, with the earlier attempt's settled failures."""
        pending = prepare_shard(spec, self.stages, self.layout.storage, strict=self.strict,
                                settled=self.settled_failures(spec))
        self.reporter.advance(len(spec))  # prepared; the generating line follows the answers
        return pending

    def finish(self, pending: PendingShard) -> None:
        """The stages on finished examples, then the shard's examples, rejects and done-marker."""
        log, spec, layout = pending.log, pending.spec, self.layout
        examples = pending.examples
        for stage in self.stages.after_generate:
            examples = stage(examples, log)
        buffer = io.BytesIO()
        pq.write_table(examples_to_arrow(examples), buffer, compression="zstd")
        examples_path = layout.examples_part(spec.index)
        layout.storage.write_bytes(examples_path, buffer.getvalue())
        layout.storage.write_text(layout.shard_rejects(spec.index),
                                  "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in log.rejects))
        marker = {
            "version": MARKER_VERSION,
            "fingerprint": self.plan.fingerprint,
            "digest": spec.digest,
            "inputs": len(spec),
            **log.to_dict(),
            "examples": dict(Counter(e.task for e in examples)),
            "examples_file": str(PurePath(examples_path).relative_to(layout.root)),
        }
        if spec.clip_index is not None:
            marker["clips_file"] = str(PurePath(spec.clip_index).relative_to(layout.root))
        layout.storage.write_text(layout.shard_marker(spec.index), json.dumps(marker, indent=1))
        self.tts_this_run.update(marker.get("tts", {}))
        self.markers[spec.index] = marker
        self.reporter.llm(self.service.snapshot())

    def tally(self) -> None:
        """The totals, example parts and input digests over every shard, in shard order."""
        for index in sorted(self.markers):
            marker = self.markers[index]
            self.totals.add_shard(marker)
            self.parts.append(self.layout.root / marker["examples_file"])
            self.digests.append(marker["digest"])

    # --- the request ledger ----------------------------------------------------------------

    def open_ledger(self) -> Ledger | None:
        """The request ledger on this machine (None with ``--no-cache``, ``llm.cache: false`` or a
        backend whose answers are not kept); for an object-store OUT, seeded from its copy there."""
        if not (self.cache and self.recipe.llm.cache and getattr(self.backend, "cacheable", True)):
            return None
        layout = self.layout
        path = self.recipe.llm.ledger or layout.ledger
        if layout.remote and self.recipe.llm.ledger is None and not path.exists():
            try:
                data = layout.storage.read_bytes(layout.ledger_copy)
            except FileNotFoundError:
                data = None
            if data is not None:
                from speechsift.storage import atomic_write_bytes

                atomic_write_bytes(path, data)
        return Ledger(path)

    def close_ledger(self, ledger: Ledger | None) -> None:
        """Close the ledger; for an object-store OUT, put it beside OUT (one atomic PUT)."""
        if ledger is None:
            return
        ledger.close()
        if self.layout.remote and self.recipe.llm.ledger is None:
            self.layout.storage.write_bytes(self.layout.ledger_copy, Path(ledger.path).read_bytes())

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> RunResult:
        """Every shard (reusing finished ones), then the release."""
        started = time.perf_counter()
        started_at = datetime.now(timezone.utc)
        recipe, layout = self.recipe, self.layout
        self.backend = self.make_backend()
        check_backend(recipe, self.backend)
        check_text_backends(recipe, self.backend)
        self.curator = make_curator(recipe)  # before the lock: a curation setup error stops the run first
        with OutputLock(layout), self.reporter:
            layout.storage.check_writable()  # an OUT that cannot be written stops the run before any work
            ledger = self.open_ledger()
            try:
                self.stages = build_stages(recipe, self.backend, layout, self.map())
                self.plan = Plan(recipe, layout, self.limit)
                with GenerationService(self.backend, ledger) as self.service, streaming_gc():
                    self.reporter.phase("preparing", total=self.limit, unit="clips")
                    self.run_shards(self.plan.clip_shards())
                    self.clip_shards = self.shards
                    # then pair shards, then text shards, numbered on: a shard never mixes them
                    release_memory()
                    pairs = self.plan.pair_shards(sorted(self.clip_index))
                    if pairs:
                        self.reporter.phase("pairs", total=pairs.items, unit="pairs")
                        self.run_shards(pairs)
                    texts = self.plan.text_shards()
                    if texts:
                        self.reporter.phase("text items", total=sum(map(len, texts)), unit="items")
                        self.run_shards(texts)
                    self.drain()
                    this_run = self.service.snapshot()
            finally:
                self.close()
                self.close_ledger(ledger)
            self.tally()
            release_memory()
            result = release_run(self, ledger, this_run, started, started_at)
        return result


EXECUTORS: dict[str, type[Executor]] = {}


def register_executor(cls: type[Executor]) -> type[Executor]:
    """Add an executor under its ``name`` (the recipe's ``engine.executor``)."""
    EXECUTORS[cls.name] = cls
    return cls


def make_executor(recipe: Recipe, **options: Any) -> Executor:
    from speechsift.engine import local  # noqa: F401  (registration)

    name = recipe.engine.executor
    if name == "ray":
        from speechsift.engine import ray  # noqa: F401  (registration; the ray extra, imported only when asked)
    if name not in EXECUTORS:
        raise ConfigError(f"engine.executor: {name!r} is not an executor of this installation; choose one of "
                          f"{', '.join(sorted(EXECUTORS))}.")
    return EXECUTORS[name](recipe, **options)


def run_recipe(
    recipe: Recipe, *, limit: int | None = None, strict: bool = False, progress: bool = True, cache: bool = True
) -> RunResult:
    """Run a recipe to its output folder with the executor ``engine.executor`` names, resuming from
    finished shards and the request ledger."""
    return make_executor(recipe, limit=limit, strict=strict, progress=progress, cache=cache).run()


__all__ = ["EXECUTORS", "Executor", "PendingShard", "RunResult", "advance", "make_executor", "prepare_shard",
           "register_executor", "run_recipe"]
