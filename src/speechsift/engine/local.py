"""The local executor: streams deterministic shards of clips through the stages, writes each
finished shard atomically (outputs first, done-marker last) and skips finished shards on rerun.

A shard is the next ``engine.shard_size`` rows of the recipe's sources, in order. Its marker
records a fingerprint of the recipe and a digest of its input rows; a rerun skips the shard only
when both still match, so a changed recipe, a changed manifest or a larger ``--limit`` redoes
exactly the shards that changed.
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from speechsift.engine.assemble import Assembly, assemble, make_curator, remove_stale
from speechsift.engine.context import RunTotals, ShardContext
from speechsift.engine.enrich import AcousticFilter, Enrich, default_workers
from speechsift.engine.gc_tuning import streaming_gc
from speechsift.engine.generation import GenerationService
from speechsift.engine.layout import OutputLayout, atomic_write_bytes, atomic_write_text
from speechsift.engine.pairs import PairItem, plan_pairs
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
from speechsift.llm.types import SamplingParams
from speechsift.recipe import Recipe
from speechsift.records import Clip, Example, examples_to_arrow
from speechsift.sources import RejectedRow, read_sources
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.text import TextItem

MARKER_VERSION = 1
logger = logging.getLogger("speechsift.engine")


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
    """The stages before generation, for clip shards and for pair shards, and the generate stage
    the executor feeds from the generation service."""

    clips: list[Stage]
    pairs: list[Stage]
    generate: Generate
    after_generate: list[Stage] = field(default_factory=list)  # on a shard's finished examples
    texts: list[Stage] = field(default_factory=list)  # text items (engine.text_items)


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
    synthesize, speak = speech_stages(recipe, layout)
    probe = ProbeAudio(engine.verify_audio == "decode", engine.min_duration_s, engine.max_duration_s)
    clips: list[Stage] = [Read(), NormalizeLabels(), *([synthesize] if synthesize else []), probe]
    if recipe.features:
        bins = load_bins(recipe.labels.bins) if recipe.labels.bins else None
        clips.append(Enrich(recipe.features, bins, recipe.labels.prefer, engine.workers or default_workers(),
                            gender_from_pitch=recipe.labels.gender_from_pitch, max_measure_s=engine.max_measure_s))
        acoustic = AcousticFilter.from_curate(recipe.curate)
        if acoustic is not None:
            clips.append(acoustic)
    clips.append(ExpandTasks(recipe.task_specs, settings, samples=recipe.llm.n))
    pairs = [BuildPairs(recipe.task_specs, settings, samples=recipe.llm.n, probe=probe)]
    texts = [BuildText(recipe.task_specs, settings, samples=recipe.llm.n)]
    return Stages(clips, pairs, Generate(backend, check_language=language_check_ready(recipe)),
                  [speak] if speak else [], texts)


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


def recipe_fingerprint(recipe: Recipe) -> str:
    """A hash of everything in the recipe that shapes a shard's outputs (not where they go)."""
    data = recipe.model_dump(mode="json", exclude={"output": {"dir"}, "name": True, "description": True, "license": True})
    blob = json.dumps([MARKER_VERSION, data], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def batch_digest(batch: list[Clip | RejectedRow | PairItem]) -> str:
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
    steps: int = 0  # rounds of answers applied (the later steps of multi-step tasks are rounds too)
    finished: bool = False  # every step answered: ready to write


def step_shard(pending: PendingShard, generate: Generate, service: GenerationService | None, answers: Any) -> None:
    """Apply one round of a shard's answers, then submit its examples' next steps (multi-step
    tasks), or mark it finished when none waits on anything."""
    ctx = pending.ctx
    if pending.steps == 0:
        pending.examples = generate.apply(pending.examples, answers, ctx)
    else:
        waiting = [e for e in pending.examples if e.request is not None]
        pending.examples = [e for e in pending.examples if e.request is None] + \
            generate.apply(waiting, answers, ctx, STEP_STAGE)
    pending.steps += 1
    requests = generate.requests([e for e in pending.examples if e.request is not None])
    if requests and service is not None:
        pending.answers, pending.requests = service.submit(requests), len(requests)
    else:
        pending.finished, pending.requests = True, 0


def advance_ready(queue: Iterable[PendingShard], generate: Generate, service: GenerationService,
                  busy: concurrent.futures.Future | None = None) -> None:
    """Apply the answers that have arrived for any queued shard (except the one waited on as
    ``busy``), so that a shard's next step is asked at once, not when its turn to be written comes."""
    for pending in queue:
        if not pending.finished and pending.answers is not busy and pending.answers.done():
            step_shard(pending, generate, service, pending.answers.result())


def prepare_shard(
    batch: list[Any], index: int, digest: str, stages: list[Stage], generate: Generate,
    service: GenerationService, strict: bool,
) -> PendingShard:
    ctx = ShardContext(strict=strict)
    records: list[Any] = batch
    for stage in stages:
        records = stage(records, ctx)
    requests = generate.requests(records)
    return PendingShard(index, len(batch), digest, ctx, records, len(requests), service.submit(requests))


def finish_shard(
    pending: PendingShard, generate: Generate, recipe: Recipe, layout: OutputLayout, fingerprint: str,
    wait: Callable[[concurrent.futures.Future], Any], after: Iterable[Stage] = (),
    service: GenerationService | None = None,
) -> dict[str, Any]:
    """Apply the shard's answers (and the later steps of multi-step tasks, then the ``after``
    stages), write its outputs, then its rejects, then its done-marker."""
    ctx = pending.ctx
    while not pending.finished:
        step_shard(pending, generate, service, wait(pending.answers))
    examples = pending.examples
    for stage in after:
        examples = stage(examples, ctx)
    examples_path = write_shard_examples(examples, layout, pending.index)
    rejects_path = layout.shard_rejects(pending.index)
    atomic_write_text(rejects_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ctx.rejects))
    marker = {
        "version": MARKER_VERSION,
        "fingerprint": fingerprint,
        "digest": pending.digest,
        "inputs": pending.inputs,
        **ctx.to_dict(),
        "examples": dict(Counter(e.task for e in examples)),
        "examples_file": str(examples_path.relative_to(layout.root)),
    }
    atomic_write_text(layout.shard_marker(pending.index), json.dumps(marker, indent=1))
    return marker


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
    stages = build_stages(recipe, backend, layout)
    clip_stages = tuple(stage.name for stage in stages.clips if not isinstance(stage, ExpandTasks))
    curator = make_curator(recipe)
    generate = stages.generate
    fingerprint = recipe_fingerprint(recipe)
    items: Iterable[Any] = read_sources(recipe)
    if limit is not None:
        items = itertools.islice(items, limit)
    pair_items, pairing = plan_pairs(recipe, limit)
    text_items, text_plan = plan_text_items(recipe, limit)
    pairing.update(text_plan)
    size = recipe.engine.shard_size
    # clip shards first, then pair shards, then text shards, numbered on: a shard never mixes them
    shard_stream = itertools.chain(
        ((batch, stages.clips) for batch in batched(items, size)),
        ((batch, stages.pairs) for batch in batched(pair_items, size)),
        ((batch, stages.texts) for batch in batched(text_items, size)),
    )
    use_ledger = cache and recipe.llm.cache and getattr(backend, "cacheable", True)
    ledger = Ledger(ledger_path(recipe, layout)) if use_ledger else None
    totals = RunTotals()
    tts_this_run: Counter = Counter()  # speech synthesis of the shards this invocation made
    parts: list[Path] = []
    digests: list[str] = []
    shards = skipped = 0
    budget = inflight_budget(recipe, backend)
    try:
        with GenerationService(backend, ledger) as service, ProgressReporter(enabled=progress) as reporter, \
                streaming_gc():

            def wait(future: concurrent.futures.Future) -> Any:
                polls = 0
                while True:
                    try:
                        return future.result(timeout=0.05)
                    except concurrent.futures.TimeoutError:
                        advance_ready(queue, generate, service, busy=future)  # other shards' next steps
                        polls += 1
                        if polls % 5 == 0:
                            reporter.llm(service.snapshot())

            def finish(pending: PendingShard) -> None:
                marker = finish_shard(pending, generate, recipe, layout, fingerprint, wait, stages.after_generate,
                                      service)
                tts_this_run.update(marker.get("tts", {}))
                record(marker)
                reporter.advance(pending.inputs)
                reporter.llm(service.snapshot())

            def record(marker: dict[str, Any]) -> None:
                totals.add_shard(marker)
                parts.append(layout.root / marker["examples_file"])
                digests.append(marker["digest"])

            queue: deque[PendingShard] = deque()
            for index, (batch, shard_stages) in enumerate(shard_stream):
                shards += 1
                digest = batch_digest(batch)
                marker = _read_json(layout.shard_marker(index))
                if (marker and marker.get("fingerprint") == fingerprint and marker.get("digest") == digest
                        and (layout.root / marker["examples_file"]).is_file()):
                    skipped += 1
                    record(marker)
                    reporter.advance(len(batch), skipped=True)
                    continue
                queue.append(prepare_shard(batch, index, digest, shard_stages, generate, service, strict))
                while queue:
                    advance_ready(queue, generate, service)  # answers that arrived: apply, ask the next steps
                    if not (queue[0].finished or sum(p.requests for p in queue) > budget):
                        break
                    finish(queue.popleft())
            while queue:
                finish(queue.popleft())
            this_run = service.snapshot()
    finally:
        if ledger is not None:
            ledger.close()
        for stage in stages.clips:  # worker pools
            close = getattr(stage, "close", None)
            if close is not None:
                close()
    release = release_fingerprint(recipe, digests)
    previous = _read_json(layout.run_json)
    release_there = layout.card.is_file() and ("parquet" not in recipe.output.formats or layout.data.is_dir())
    if skipped == shards and previous and previous.get("release_fingerprint") == release and release_there:
        # nothing changed since the last run: its release stands; only run.json says this run happened
        assembly = Assembly.from_run_json(previous)
        previous.update(started_at=started_at.isoformat(timespec="seconds"), seconds=round(time.perf_counter() - started, 3),
                        shards={"total": shards, "skipped": skipped, "processed": 0},
                        llm_this_run=dict(sorted(this_run.items())), tts_this_run=dict(sorted(tts_this_run.items())),
                        release_reused=True)
        atomic_write_text(layout.run_json, json.dumps(previous, indent=2) + "\n")
        return RunResult(layout.root, totals, shards, skipped, time.perf_counter() - started, this_run, assembly,
                         dict(tts_this_run), clip_stages)
    assembly = finalize(layout, recipe, totals, sorted(parts), shards, backend, curator)
    seconds = time.perf_counter() - started
    assembly.pairing = pairing
    write_run_json(layout, recipe, totals, assembly, shards, skipped, started_at, seconds, limit, this_run, ledger,
                   release, tts_this_run)
    if recipe.output.report:
        write_report(layout.root)
    return RunResult(layout.root, totals, shards, skipped, seconds, this_run, assembly, dict(tts_this_run), clip_stages)


def _remove_stale_shards(layout: OutputLayout, shards: int) -> None:
    """Markers and example parts of shards past the current end (a smaller --limit, a shorter manifest)."""
    for folder in (layout.work / "shards", layout.work / "examples"):
        if folder.exists():
            for path in folder.glob("part-*"):
                if int(path.name.split(".")[0].removeprefix("part-")) >= shards:
                    path.unlink()


def finalize(
    layout: OutputLayout, recipe: Recipe, totals: RunTotals, parts: list[Path], shards: int, backend: Backend,
    curator: Any = None,
) -> Assembly:
    """The assemble pass, then rejects.jsonl, dataset_info.json and the card."""
    _remove_stale_shards(layout, shards)
    assembly = assemble(parts, recipe, layout, curator)
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
    atomic_write_text(layout.card, render_card(recipe, totals, assembly, backend.name, backend.model))
    for name, stats in {**totals.stages, **assembly.stages}.items():
        if stats.inputs != stats.outputs + sum(stats.rejected.values()):
            raise SpeechsiftError(f"internal error: stage {name} lost records ({stats.to_dict()})")
    return assembly


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


def release_fingerprint(recipe: Recipe, digests: list[str]) -> str:
    """A hash of everything the release depends on: the whole recipe and every shard's inputs."""
    blob = json.dumps([MARKER_VERSION, recipe.model_dump(mode="json"), digests], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def write_run_json(
    layout: OutputLayout, recipe: Recipe, totals: RunTotals, assembly: Assembly, shards: int, skipped: int,
    started_at: datetime, seconds: float, limit: int | None, llm_this_run: dict[str, int], ledger: Ledger | None,
    release: str | None = None, tts_this_run: dict[str, int] | None = None,
) -> None:
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
        # speech synthesis (utterances, cache hits, failures) over every shard, and this invocation's
        "tts": dict(sorted(totals.tts.items())),
        "tts_this_run": dict(sorted((tts_this_run or {}).items())),
        "release_fingerprint": release,
    }
    atomic_write_text(layout.run_json, json.dumps(report, indent=2) + "\n")
