"""The local executor: streams deterministic shards of clips through the stages, writes each
finished shard atomically (outputs first, done-marker last) and skips finished shards on rerun.

A clip shard is the next ``engine.shard_size`` rows of the recipe's sources, in order; after the
clip shards, pair shards hold the pairs formed over the clip index they wrote (``engine/pairs.py``).
A shard's marker records the shard fingerprint (the parts of the recipe the shard stages use) and
a digest of its input rows; a rerun skips the shard only when both still match and no request of
the shard failed transiently, so a changed recipe, a changed manifest, a larger ``--limit`` or a
server that was down redoes exactly the shards concerned. Then the release: the assemble pass over
every shard's examples, the exports, the card and the report, and last of all the release
fingerprint in ``run.json``, so that a run killed anywhere before it is redone by the next.

The output folder is locked for the whole run (``engine/lock.py``).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import itertools
import json
import logging
import platform
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from speechsift.engine.assemble import Assembly, assemble, make_curator, remove_stale
from speechsift.engine.context import RunTotals, ShardContext
from speechsift.engine.enrich import AcousticFilter, Enrich, default_workers
from speechsift.engine.gc_tuning import streaming_gc
from speechsift.engine.generation import Answer, GenerationService
from speechsift.engine.layout import OutputLayout, atomic_write_bytes, atomic_write_text
from speechsift.engine.lock import OutputLock
from speechsift.engine.pairs import PairItem, pair_specs, plan_pairs, write_clip_index
from speechsift.engine.progress import ProgressReporter
from speechsift.engine.stages import (
    STEP_STAGE,
    BuildPairs,
    BuildText,
    ExpandTasks,
    Generate,
    NormalizeLabels,
    ProbeAudio,
    Read,
    Stage,
)
from speechsift.engine.text_items import check_text_backends, plan_text_items
from speechsift.errors import ConfigError, SpeechsiftError
from speechsift.export.annotation import write_annotation_pages
from speechsift.export.card import render_card
from speechsift.export.dpo import write_llamafactory_info
from speechsift.export.messages import write_dataset_info
from speechsift.labels.bins import load_bins
from speechsift.llm.base import Backend
from speechsift.llm.ledger import Ledger
from speechsift.llm.router import make_recipe_backend
from speechsift.llm.types import Completion, SamplingParams
from speechsift.recipe import Recipe
from speechsift.records import Clip, Example, examples_to_arrow
from speechsift.sources import RejectedRow, read_sources
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.text import TextItem

MARKER_VERSION = 2
logger = logging.getLogger("speechsift.engine")

# Recipe sections only the release uses (the assemble pass, exports, card, report), and `eval`, which
# only `speechsift eval` reads: changing them redoes the release and never a shard. (Of `curate`, the
# clip filter on measurements is a shard stage: shard_fingerprint keeps its settings.)
RELEASE_SECTIONS = ("name", "description", "license", "output", "curate", "splits", "mix", "eval")
# Settings of how the shard stages run and how requests travel, not of what they make or ask (the
# ledger key ignores them too): changing them redoes nothing.
RUNTIME_SETTINGS = {
    "llm": ("api_base", "api_key_env", "concurrency", "timeout_s", "retry", "ledger", "cache", "batch_size"),
    "engine": ("workers",),
}


@dataclass
class RunResult:
    out_dir: Path
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


def check_backend(recipe: Recipe, backend: Backend) -> None:
    """Every LLM task of the recipe must be one the backend can write."""
    for spec in recipe.task_specs:
        task = get_task(spec.name)
        if task.needs_llm and not backend.supports(task.name):
            raise ConfigError(
                f"llm.backend: task {task.name!r} needs an LLM, and the {backend.name!r} backend cannot "
                f"write it. Use `llm.backend: openai` with `llm.model` and `llm.api_base` (any "
                f"OpenAI-compatible server), or drop {task.name!r} from tasks."
            )


@dataclass
class Stages:
    """The clip stages (reading to measuring), the expansion of clips into examples, the stages of
    the items planned over the recipe (clip pairs, text items), the generate stage the executor
    feeds from the generation service, and the stages on a shard's finished examples."""

    clips: list[Stage]
    expand: ExpandTasks
    pairs: BuildPairs
    texts: BuildText
    generate: Generate
    after_generate: list[Stage] = field(default_factory=list)

    def close(self) -> None:
        """Stop the stages' worker pools."""
        for stage in self.clips:
            close = getattr(stage, "close", None)
            if close is not None:
                close()


def build_stages(recipe: Recipe, backend: Backend, layout: OutputLayout) -> Stages:
    settings = TaskSettings(
        sampling=SamplingParams(
            temperature=recipe.llm.temperature,
            top_p=recipe.llm.top_p,
            max_tokens=recipe.llm.max_tokens,
            seed=recipe.llm.seed,
        ),
        options={spec.name: spec.options for spec in recipe.task_specs},
        voice=recipe.curate.voice_suitability if recipe.curate is not None else None,
        models={"default": recipe.llm.model, **{name: config.model for name, config in recipe.llms.items()}},
    )
    from speechsift.engine.speech import speech_stages  # speechsift.tts imports engine.layout

    engine = recipe.engine
    synthesize, speaking = speech_stages(recipe, layout)
    clips: list[Stage] = [Read(), NormalizeLabels(), *([synthesize] if synthesize else []),
                          ProbeAudio(engine.verify_audio == "decode", engine.min_duration_s, engine.max_duration_s)]
    if recipe.features:
        bins = load_bins(recipe.labels.bins) if recipe.labels.bins else None
        clips.append(Enrich(recipe.features, bins, recipe.labels.prefer, engine.workers or default_workers(),
                            gender_from_pitch=recipe.labels.gender_from_pitch, max_measure_s=engine.max_measure_s))
        acoustic = AcousticFilter.from_curate(recipe.curate)
        if acoustic is not None:
            clips.append(acoustic)
    return Stages(
        clips,
        ExpandTasks(recipe.task_specs, settings, samples=recipe.llm.n),
        BuildPairs(recipe.task_specs, settings, samples=recipe.llm.n),
        BuildText(recipe.task_specs, settings, samples=recipe.llm.n),
        Generate(backend, check_language=language_check_ready(recipe)),
        list(speaking),
    )


def language_check_ready(recipe: Recipe) -> bool:
    """Whether answers are checked for the clip's language: when a task asks for it. The check
    needs Lingua (the curate extra); without it the run stops before it starts, not mid-way."""
    checking = [s.name for s in recipe.task_specs if getattr(get_task(s.name), "checks_language", False)]
    if not checking:
        return False
    try:
        import lingua  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"tasks: {', '.join(checking)} check that the LLM answers in the clip's language, which needs "
            "Lingua: pip install -c constraints.txt 'speechsift[curate]'."
        ) from None
    return True


def ledger_path(recipe: Recipe, layout: OutputLayout) -> Path:
    return recipe.llm.ledger or layout.work / "ledger.sqlite"


def _hash(data: Any) -> str:
    blob = json.dumps([MARKER_VERSION, data], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def shard_fingerprint(recipe: Recipe) -> str:
    """A hash of what the shard stages use (sources, tasks, what is asked of the LLM, features,
    labels, the clip filter on measurements, shard size): not the release sections, not how
    requests travel."""
    exclude: dict[str, Any] = {name: True for name in RELEASE_SECTIONS}
    exclude.update({section: set(names) for section, names in RUNTIME_SETTINGS.items()})
    data = recipe.model_dump(mode="json", exclude=exclude)
    data["acoustic_filter"] = {setting: getattr(recipe.curate, setting, None) for setting, *_ in AcousticFilter.THRESHOLDS}
    return _hash(data)


def release_fingerprint(recipe: Recipe, digests: list[str]) -> str:
    """A hash of everything the release depends on: the whole recipe and every shard's inputs."""
    return _hash([recipe.model_dump(mode="json"), digests])


def batch_digest(batch: list[Clip | RejectedRow | PairItem | TextItem]) -> str:
    """A hash of a shard's input rows: ids, audio locations, text and raw labels."""
    h = hashlib.sha256()
    for item in batch:
        if isinstance(item, PairItem):
            h.update(f"P\x1f{item.task}\x1f".encode())
            h.update(batch_digest([item.a, item.b]).encode())
        elif isinstance(item, TextItem):
            h.update(json.dumps(["T", item.task, item.item_id, item.source, item.instruction, item.language,
                                 item.fields], sort_keys=True, default=str).encode("utf-8", "surrogateescape"))
        elif isinstance(item, RejectedRow):
            h.update(f"R\x1f{item.id}\x1f{item.reason}\x1e".encode("utf-8", "surrogateescape"))
        else:
            a = item.audio
            h.update(
                f"C\x1f{item.clip_id}\x1f{a.path}\x1f{a.offset_s}\x1f{a.duration_s}\x1f{len(a.bytes or b'')}"
                f"\x1f{item.language}\x1f{item.speaker_id}\x1f{item.text}\x1f{sorted(item.raw.items())}"
                f"\x1f{sorted(item.extra.items())}\x1e".encode("utf-8", "surrogateescape")
            )
    return h.hexdigest()[:24]


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_shard_examples(examples: list[Example], layout: OutputLayout, shard: int) -> Path:
    """A shard's examples, audio by reference, written atomically: the assemble pass's input."""
    path = layout.examples_part(shard)
    buffer = io.BytesIO()
    pq.write_table(examples_to_arrow(examples), buffer, compression="zstd")
    atomic_write_bytes(path, buffer.getvalue())
    return path


@dataclass
class PendingShard:
    """A prepared shard whose LLM requests are being answered."""

    index: int
    inputs: int
    digest: str
    ctx: ShardContext
    examples: list[Example]
    requests: int
    answers: concurrent.futures.Future
    clips_file: Path | None = None  # the clip index part it wrote (clip shards of recipes with pair tasks)
    settled: dict[int, Answer] = field(default_factory=dict)  # request position -> an earlier permanent failure
    steps: int = 0  # rounds of answers applied (the later steps of multi-step tasks are rounds too)
    finished: bool = False  # every step answered: ready to write

    def merged(self, asked: list[Answer]) -> list[Answer]:
        """The answers in request order: the settled ones where they were, the asked ones between."""
        if not self.settled:
            return asked
        rest = iter(asked)
        return [self.settled[i] if i in self.settled else next(rest) for i in range(len(self.settled) + len(asked))]


class ShardRunner:
    """Runs shards in order: skips those a marker says are done, prepares the others and hands their
    requests to the generation service, and finishes them (outputs, rejects, marker) as their answers
    come in, keeping enough requests in flight that the server never idles at shard boundaries."""

    def __init__(self, layout: OutputLayout, stages: Stages, service: GenerationService, reporter: ProgressReporter,
                 fingerprint: str, strict: bool, budget: int) -> None:
        self.layout = layout
        self.stages = stages
        self.service = service
        self.reporter = reporter
        self.fingerprint = fingerprint
        self.strict = strict
        self.budget = budget
        self.totals = RunTotals()
        self.tts_this_run: Counter = Counter()  # speech synthesis of the shards this invocation made
        self.parts: list[Path] = []
        self.digests: list[str] = []
        self.shards = self.skipped = 0
        self.queue: deque[PendingShard] = deque()

    def same_inputs(self, marker: dict[str, Any], digest: str) -> bool:
        """Whether a marker is of this shard's inputs under this recipe's shard stages."""
        return (marker.get("version") == MARKER_VERSION and marker.get("fingerprint") == self.fingerprint
                and marker.get("digest") == digest)

    def done(self, marker: dict[str, Any], digest: str, clip_index: bool) -> bool:
        """Whether a shard's marker says it is finished with these inputs under this recipe: its files
        are there and none of its requests failed transiently (a rerun asks those again)."""
        if not self.same_inputs(marker, digest):
            return False
        files = [marker["examples_file"], *([marker.get("clips_file")] if clip_index else [])]
        return all(f and (self.layout.root / f).is_file() for f in files) and not marker["llm"].get("transient_failures")

    def settled_failures(self, index: int) -> dict[str, Answer]:
        """Per example id, the permanent generate failures of this shard's earlier attempt (a shard
        redone for its transient failures asks only those again; the rest stay as they were)."""
        settled = {}
        path = self.layout.shard_rejects(index)
        for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
            entry = json.loads(line)
            if entry.get("stage") == self.stages.generate.name and not entry.get("transient"):
                completion = Completion(error=entry["message"], error_reason=entry["reason"])
                settled[entry["id"]] = Answer(completion, "settled")
        return settled

    def run(self, batch: list[Any], items: Stage | None = None, clip_index: bool = False) -> None:
        """One shard: clips (writing the clip index when ``clip_index``), or the planned ``items``
        (pairs, text items) that stage builds."""
        index = self.shards
        self.shards += 1
        digest = batch_digest(batch)
        marker = _read_json(self.layout.shard_marker(index)) or {}
        if self.done(marker, digest, clip_index):
            self.skipped += 1
            self._record(marker)
            self.reporter.advance(len(batch), skipped=True)
            return
        settled = self.settled_failures(index) if self.same_inputs(marker, digest) else {}
        self.queue.append(self._prepare(batch, index, digest, items, clip_index, settled))
        self.reporter.advance(len(batch))  # prepared; the generating line follows the answers
        while self.queue:
            self.advance_ready()  # answers that arrived: apply, ask the next steps
            if not (self.queue[0].finished or sum(p.requests for p in self.queue) > self.budget):
                break
            self._finish(self.queue.popleft())

    def drain(self) -> None:
        while self.queue:
            self._finish(self.queue.popleft())

    def _prepare(self, batch: list[Any], index: int, digest: str, items: Stage | None, clip_index: bool,
                 settled: dict[str, Answer]) -> PendingShard:
        ctx = ShardContext(strict=self.strict)
        clips_file = None
        if items is not None:
            examples = items(batch, ctx)
        else:
            clips: list[Any] = batch
            for stage in self.stages.clips:
                clips = stage(clips, ctx)
            if clip_index:
                clips_file = self.layout.clips_part(index)
                write_clip_index(clips, clips_file)
            examples = self.stages.expand(clips, ctx)
        requests: list[Any] = []
        known: dict[int, Answer] = {}  # answers of the first round that are settled already
        for example in examples:
            asks = self.stages.generate.requests([example])  # one request, or a multi-step task's several
            if len(asks) == 1 and example.id in settled:
                known[len(requests) + len(known)] = settled[example.id]
            else:
                requests += asks
        return PendingShard(index, len(batch), digest, ctx, examples, len(requests), self.service.submit(requests),
                            clips_file, known)

    def step(self, pending: PendingShard, answers: list[Answer]) -> None:
        """Apply one round of a shard's answers, then submit its examples' next steps (multi-step
        tasks), or mark it finished when none waits on anything."""
        generate, ctx = self.stages.generate, pending.ctx
        if pending.steps == 0:
            pending.examples = generate.apply(pending.examples, pending.merged(answers), ctx)
        else:
            waiting = [e for e in pending.examples if e.request is not None]
            pending.examples = [e for e in pending.examples if e.request is None] + \
                generate.apply(waiting, answers, ctx, STEP_STAGE)
        pending.steps += 1
        requests = generate.requests([e for e in pending.examples if e.request is not None])
        if requests:
            pending.answers, pending.requests = self.service.submit(requests), len(requests)
        else:
            pending.finished, pending.requests = True, 0

    def advance_ready(self, busy: concurrent.futures.Future | None = None) -> None:
        """Apply the answers that have arrived for any queued shard (except the one waited on as
        ``busy``), so that a shard's next step is asked at once, not when its turn to be written comes."""
        for pending in self.queue:
            if not pending.finished and pending.answers is not busy and pending.answers.done():
                self.step(pending, pending.answers.result())

    def wait(self, future: concurrent.futures.Future) -> Any:
        polls = 0
        while True:
            try:
                return future.result(timeout=0.05)
            except concurrent.futures.TimeoutError:
                self.advance_ready(busy=future)  # other shards' next steps
                polls += 1
                if polls % 5 == 0:
                    self.reporter.llm(self.service.snapshot())

    def _finish(self, pending: PendingShard) -> None:
        """Apply the shard's answers (and the later steps of multi-step tasks, then the stages on
        finished examples), write its outputs, then its rejects, then its done-marker."""
        ctx = pending.ctx
        layout = self.layout
        while not pending.finished:
            self.step(pending, self.wait(pending.answers))
        examples = pending.examples
        for stage in self.stages.after_generate:
            examples = stage(examples, ctx)
        examples_path = write_shard_examples(examples, layout, pending.index)
        atomic_write_text(layout.shard_rejects(pending.index),
                          "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ctx.rejects))
        marker = {
            "version": MARKER_VERSION,
            "fingerprint": self.fingerprint,
            "digest": pending.digest,
            "inputs": pending.inputs,
            **ctx.to_dict(),
            "examples": dict(Counter(e.task for e in examples)),
            "examples_file": str(examples_path.relative_to(layout.root)),
        }
        if pending.clips_file is not None:
            marker["clips_file"] = str(pending.clips_file.relative_to(layout.root))
        atomic_write_text(layout.shard_marker(pending.index), json.dumps(marker, indent=1))
        self.tts_this_run.update(marker.get("tts", {}))
        self._record(marker)
        self.reporter.llm(self.service.snapshot())

    def _record(self, marker: dict[str, Any]) -> None:
        self.totals.add_shard(marker)
        self.parts.append(self.layout.root / marker["examples_file"])
        self.digests.append(marker["digest"])


def inflight_budget(recipe: Recipe, backend: Backend) -> int:
    """Requests to keep submitted ahead: enough that a streaming backend never runs dry."""
    if getattr(backend, "streaming", False):
        return 4 * recipe.llm.concurrency
    return recipe.llm.batch_size


def run_recipe(
    recipe: Recipe, *, limit: int | None = None, strict: bool = False, progress: bool = True, cache: bool = True
) -> RunResult:
    """Run a recipe to its output folder, resuming from finished shards and the request ledger."""
    started = time.perf_counter()
    started_at = datetime.now(timezone.utc)
    layout = OutputLayout(recipe.output_dir)
    backend = make_recipe_backend(recipe)
    check_backend(recipe, backend)
    check_text_backends(recipe, backend)
    curator = make_curator(recipe)
    with OutputLock(layout), ProgressReporter(enabled=progress) as reporter:
        stages = build_stages(recipe, backend, layout)
        clip_stages = tuple(stage.name for stage in stages.clips)
        use_ledger = cache and recipe.llm.cache and getattr(backend, "cacheable", True)
        ledger = Ledger(ledger_path(recipe, layout)) if use_ledger else None
        pairing: dict[str, Any] = {}
        try:
            with GenerationService(backend, ledger) as service, streaming_gc():
                runner = ShardRunner(layout, stages, service, reporter, shard_fingerprint(recipe), strict,
                                     inflight_budget(recipe, backend))
                items: Iterable[Any] = read_sources(recipe)
                if limit is not None:
                    items = itertools.islice(items, limit)
                reporter.phase("preparing", total=limit, unit="clips")
                clip_index = bool(pair_specs(recipe))
                for batch in batched(items, recipe.engine.shard_size):
                    runner.run(batch, clip_index=clip_index)
                clip_shards = runner.shards
                # then pair shards, then text shards, numbered on: a shard never mixes them
                if clip_index:
                    pair_items, pairing = plan_pairs(recipe, [layout.clips_part(i) for i in range(clip_shards)])
                    reporter.phase("pairs", total=len(pair_items), unit="pairs")
                    for batch in batched(pair_items, recipe.engine.shard_size):
                        runner.run(batch, items=stages.pairs)
                text_items, text_plan = plan_text_items(recipe, limit)
                pairing.update(text_plan)
                if text_items:
                    reporter.phase("text items", total=len(text_items), unit="items")
                    for batch in batched(text_items, recipe.engine.shard_size):
                        runner.run(batch, items=stages.texts)
                runner.drain()
                this_run = service.snapshot()
        finally:
            if ledger is not None:
                ledger.close()
            stages.close()
        totals, shards, skipped, tts_this_run = runner.totals, runner.shards, runner.skipped, runner.tts_this_run
        release = release_fingerprint(recipe, runner.digests)
        previous = _read_json(layout.run_json)
        release_there = layout.card.is_file() and ("parquet" not in recipe.output.formats or layout.data.is_dir())
        if skipped == shards and previous and previous.get("release_fingerprint") == release and release_there:
            # nothing changed since the last run: its release stands; only run.json says this run happened
            assembly = Assembly.from_run_json(previous)
            previous.update(started_at=started_at.isoformat(timespec="seconds"),
                            seconds=round(time.perf_counter() - started, 3),
                            shards={"total": shards, "skipped": skipped, "processed": 0},
                            llm_this_run=dict(sorted(this_run.items())), tts_this_run=dict(sorted(tts_this_run.items())),
                            release_reused=True)
            atomic_write_text(layout.run_json, json.dumps(previous, indent=2) + "\n")
            return RunResult(layout.root, totals, shards, skipped, time.perf_counter() - started, this_run, assembly,
                             dict(tts_this_run), clip_stages)
        _remove_stale_shards(layout, shards, clip_shards)
        assembly = finalize(layout, recipe, totals, sorted(runner.parts), shards, backend, curator, reporter)
        assembly.pairing = pairing
        run = write_run_json(layout, recipe, totals, assembly, shards, skipped, started_at,
                             time.perf_counter() - started, limit, this_run, ledger, tts_this_run)
        if recipe.output.report:
            reporter.phase("report", unit="")
            write_report(layout.root)
        mark_release(layout, run, release, time.perf_counter() - started)
    return RunResult(layout.root, totals, shards, skipped, run["seconds"], this_run, assembly, dict(tts_this_run),
                     clip_stages)


def _part_index(path: Path) -> int:
    return int(path.name.split(".")[0].removeprefix("part-"))


def _remove_stale_shards(layout: OutputLayout, shards: int, clip_shards: int) -> None:
    """Markers, example parts and clip index parts of shards past the current end (a smaller
    --limit, a shorter manifest, a pair task gone)."""
    for folder, end in ((layout.work / "shards", shards), (layout.work / "examples", shards),
                        (layout.clips_part(0).parent, clip_shards)):
        if folder.exists():
            for path in folder.glob("part-*"):
                if _part_index(path) >= end:
                    path.unlink()


def finalize(
    layout: OutputLayout, recipe: Recipe, totals: RunTotals, parts: list[Path], shards: int, backend: Backend,
    curator: Any = None, progress: ProgressReporter | None = None,
) -> Assembly:
    """The assemble pass, then rejects.jsonl, dataset_info.json and the card."""
    assembly = assemble(parts, recipe, layout, curator, progress, examples=sum(totals.examples.values()))
    remove_stale(layout, assembly.files)
    lines = []
    for shard in range(shards):
        path = layout.shard_rejects(shard)
        if path.exists():
            lines.append(path.read_text(encoding="utf-8"))
    lines += [json.dumps(r, ensure_ascii=False) + "\n" for r in assembly.rejects]
    layout.root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(layout.rejects, "".join(lines))
    if "messages" in assembly.exports:
        write_dataset_info(layout, sorted(assembly.exports["messages"].rows), recipe.name)
    if "dpo_llamafactory" in recipe.output.formats:
        splits = sorted({split for task, split in assembly.examples if task == "preference_pairs"})
        write_llamafactory_info(layout.exports / "dpo_llamafactory", splits, recipe.name)
    if "annotation" in recipe.output.formats:
        assembly.files += write_annotation_pages(layout, recipe.name, assembly.preferences)
    assembly.warnings = release_warnings(recipe, totals, assembly)
    atomic_write_text(layout.card, render_card(recipe, totals, assembly, backend.name, backend.model))
    for name, stats in {**totals.stages, **assembly.stages}.items():
        if stats.inputs != stats.outputs + sum(stats.rejected.values()):
            raise SpeechsiftError(f"internal error: stage {name} lost records ({stats.to_dict()})")
    return assembly


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n:,}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def release_warnings(recipe: Recipe, totals: RunTotals, assembly: Assembly) -> list[str]:
    """What a user must know before training on the release: requests to ask again, LLM tasks that
    made nothing, a mixture short of its size, an empty dev split."""
    warnings = []
    failed = {k.removeprefix("failed."): n for k, n in totals.llm.items() if k.startswith("failed.") and n}
    transient = totals.llm.get("transient_failures", 0)
    if transient:
        warnings.append(
            f"{transient:,} LLM request{'s' if transient > 1 else ''} failed for now ({_reasons(failed)} in all): "
            f"their shards are left "
            f"unfinished; run the same command again to ask just those (every answer so far comes from the ledger)."
        )
    released = assembly.by_task()
    for spec in recipe.task_specs:
        task = get_task(spec.name)
        made = sum(released.get(name, 0) for name in recipe.example_tasks
                   if name == spec.name or getattr(get_task(name), "partition_of", None) == spec.name)
        if task.needs_llm and not made:
            why = f"; the LLM's failures: {_reasons(failed)}" if failed else ""
            warnings.append(f"task {spec.name}: no examples, though it asks the LLM for them (rejects.jsonl says "
                            f"why for each one{why}).")
    mix = assembly.mix
    if mix.get("shortfall"):
        short = [f"{name} {s['selected']:,} of {s['available']:,}" for name, s in mix.get("strata", {}).items()
                 if s.get("available", 0) and s["selected"] >= s["available"]]
        warnings.append(
            f"mix: {mix['selected']:,} train examples of the {mix['size']:,} asked for: every stratum with weight "
            f"gave all it had ({', '.join(short)}). Lower mix.size, or set mix.upsample: true to repeat examples."
        )
    dev = recipe.splits.dev
    if dev is not None and dev.fraction > 0 and not assembly.splits.get("dev_speakers"):
        warnings.append(
            f"splits.dev: the dev split is empty: a fraction {dev.fraction:g} of the speakers left after the eval "
            f"split is less than one speaker. Raise splits.dev.fraction, or add speakers."
        )
    return warnings


def recurate(out: Path, recipe_path: Path | None = None, *, report: bool = True) -> RunResult:
    """Re-score, re-filter, re-split and re-mix an existing output without generating anything:
    the assemble pass again over the generated shards in ``OUT/.work``, with the recipe given (its
    ``curate``, ``splits`` and ``mix`` sections) or the one the output was made with."""
    from types import SimpleNamespace

    from speechsift.recipe import load_recipe, parse_recipe

    started = time.perf_counter()
    started_at = datetime.now(timezone.utc)
    layout = OutputLayout(Path(out))
    previous = _read_json(layout.run_json)
    if previous is None:
        raise ConfigError(f"{out}: no run.json here; run `speechsift run RECIPE -o {out}` first.")
    overrides = {"output.dir": str(layout.root)}
    recipe = load_recipe(recipe_path, overrides) if recipe_path else parse_recipe(previous["recipe"], f"{out}/run.json", overrides)
    with OutputLock(layout):
        totals = RunTotals()
        parts = []
        markers = sorted((layout.work / "shards").glob("part-*.json"))
        for path in markers:
            marker = _read_json(path)
            if marker is None or not (layout.root / marker["examples_file"]).is_file():
                raise ConfigError(f"{path}: a shard of this output is incomplete; rerun `speechsift run` to finish it first.")
            totals.add_shard(marker)
            parts.append(layout.root / marker["examples_file"])
        backend = SimpleNamespace(name=recipe.llm.backend, model=recipe.llm.model if recipe.llm.backend != "template" else None)
        assembly = finalize(layout, recipe, totals, sorted(parts), len(markers), backend)  # type: ignore[arg-type]
        assembly.pairing = previous.get("pairing", {})
        seconds = time.perf_counter() - started
        write_run_json(layout, recipe, totals, assembly, len(markers), len(markers), started_at, seconds,
                       previous.get("limit"), {}, None)
        if report and recipe.output.report:
            write_report(layout.root)
    return RunResult(layout.root, totals, len(markers), len(markers), seconds, {}, assembly)


def write_report(out: Path) -> None:
    """The HTML report of a finished run; a report that fails is a warning, never a lost run."""
    from speechsift.report import build_report

    try:
        build_report(out)
    except Exception as exc:  # the data is written already: say so and go on
        logger.warning("the report could not be built (%s: %s); run `speechsift report %s` to retry",
                       type(exc).__name__, exc, out)


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in ("speechsift", "numpy", "pyarrow", "soundfile", "pydantic", "openai"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def write_run_json(
    layout: OutputLayout, recipe: Recipe, totals: RunTotals, assembly: Assembly, shards: int, skipped: int,
    started_at: datetime, seconds: float, limit: int | None, llm_this_run: dict[str, int], ledger: Ledger | None,
    tts_this_run: dict[str, int] | None = None,
) -> dict[str, Any]:
    """run.json, without the release fingerprint (``mark_release`` adds it last)."""
    report = {
        "recipe": recipe.model_dump(mode="json"),
        "limit": limit,
        "versions": versions(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "seconds": round(seconds, 3),
        "shards": {"total": shards, "skipped": skipped, "processed": shards - skipped},
        "counts": {name: stats.to_dict() for name, stats in {**totals.stages, **assembly.stages}.items()},
        "stage_seconds": {name: round(s, 4) for name, s in totals.seconds.items()},
        "generated": dict(sorted(totals.examples.items())),
        "examples": dict(sorted(assembly.by_task().items())),
        "splits": {f"{task}/{split}": n for (task, split), n in sorted(assembly.examples.items())},
        "split_plan": assembly.splits,
        "mix": assembly.mix,
        "pairing": assembly.pairing,
        "exports": {name: counts.to_dict() for name, counts in assembly.exports.items()},
        "rejects": sum(sum(s.rejected.values()) for s in {**totals.stages, **assembly.stages}.values()),
        "unknown_labels": totals.unknown_labels_by_field(),
        # over every shard of the output (resumed shards count as they were made)
        "llm": dict(sorted(totals.llm.items())),
        # what this invocation did: a rerun of an unchanged recipe sends nothing
        "llm_this_run": dict(sorted(llm_this_run.items())),
        "ledger": str(ledger.path) if ledger is not None else None,
        # speech synthesis: over every shard, and what this invocation synthesized
        "tts": dict(sorted(totals.tts.items())),
        "tts_this_run": dict(sorted((tts_this_run or {}).items())),
        "sampling": assembly.sampling,
        "warnings": assembly.warnings,
        "release_fingerprint": None,
    }
    atomic_write_text(layout.run_json, json.dumps(report, indent=2) + "\n")
    return report


def mark_release(layout: OutputLayout, run: dict[str, Any], release: str, seconds: float) -> None:
    """The release fingerprint, written last: after the data, exports, card and report. A run
    killed before this leaves no fingerprint, so the next run assembles the release again."""
    run.update(release_fingerprint=release, seconds=round(seconds, 3))
    atomic_write_text(layout.run_json, json.dumps(run, indent=2) + "\n")
