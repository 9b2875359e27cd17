"""The release: after every shard, the assemble pass over their examples (``engine/assemble.py``),
``rejects.jsonl``, the exporters' closing files, the card, ``run.json``, the report, and last of all
the release fingerprint in ``run.json``, so that a run killed anywhere before it is redone by the
next. A run whose shards were all reused and whose recipe did not change keeps the release it
finds. ``recurate`` does the release again over an existing output's shards, with new ``curate``,
``splits`` and ``mix`` sections, asking nothing.

Every file is written through the layout's storage, so OUT may be an object store.
"""

from __future__ import annotations

import json
import logging
import platform
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speechsift.engine.assemble import Assembly, PartMapper, assemble, gather_rejects, map_parts, remove_stale
from speechsift.engine.counts import RunTotals
from speechsift.engine.lock import OutputLock
from speechsift.engine.plan import release_fingerprint
from speechsift.engine.progress import ProgressReporter
from speechsift.errors import ConfigError, SpeechsiftError
from speechsift.export.card import render_card
from speechsift.layout import OutputLayout
from speechsift.llm.ledger import Ledger
from speechsift.memory import release_memory
from speechsift.recipe import Recipe
from speechsift.storage import OutPath, Storage
from speechsift.tasks import get_task

if TYPE_CHECKING:
    from speechsift.engine.executor import Executor, RunResult
    from speechsift.llm.base import Backend

logger = logging.getLogger("speechsift.engine")


def read_json(storage: Storage, path: OutPath) -> dict[str, Any] | None:
    """A JSON file of OUT, or None when it is missing or unreadable."""
    try:
        return json.loads(storage.read_text(path))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def release_run(executor: "Executor", ledger: Ledger | None, this_run: dict[str, int], started: float,
                started_at: datetime) -> "RunResult":
    """The release of a run whose shards are all finished (``executor``'s totals, parts, digests)."""
    from speechsift.engine.executor import RunResult

    recipe, layout, reporter = executor.recipe, executor.layout, executor.reporter
    totals, shards, skipped = executor.totals, executor.shards, executor.skipped
    tts_this_run = dict(executor.tts_this_run)
    clip_stages = executor.stages.clip_stage_names
    out_dir = layout.root if not layout.remote else layout.uri
    release = release_fingerprint(recipe, executor.digests)
    storage = layout.storage
    previous = read_json(storage, layout.run_json)
    release_there = storage.is_file(layout.card) and ("parquet" not in recipe.output.formats
                                                      or bool(storage.files(layout.data, ".parquet")))
    if skipped == shards and previous and previous.get("release_fingerprint") == release and release_there:
        # nothing changed since the last run: its release stands; only run.json says this run happened
        assembly = Assembly.from_run_json(previous)
        previous.update(started_at=started_at.isoformat(timespec="seconds"),
                        seconds=round(time.perf_counter() - started, 3),
                        shards={"total": shards, "skipped": skipped, "processed": 0},
                        llm_this_run=dict(sorted(this_run.items())), tts_this_run=dict(sorted(tts_this_run.items())),
                        release_reused=True)
        storage.write_text(layout.run_json, json.dumps(previous, indent=2) + "\n")
        return RunResult(out_dir, totals, shards, skipped, time.perf_counter() - started, this_run, assembly,
                         tts_this_run, clip_stages)
    remove_stale_shards(layout, shards, executor.clip_shards)
    assembly = finalize(layout, recipe, totals, sorted(executor.parts), shards, executor.backend,
                        executor.curator, reporter, executor.write_parts)
    assembly.pairing = executor.plan.pairing
    run = write_run_json(layout, recipe, totals, assembly, shards, skipped, started_at,
                         time.perf_counter() - started, executor.limit, this_run, ledger, tts_this_run)
    if recipe.output.report:
        reporter.phase("report", unit="")
        release_memory()
        write_report(layout)
    mark_release(layout, run, release, time.perf_counter() - started)
    return RunResult(out_dir, totals, shards, skipped, run["seconds"], this_run, assembly, tts_this_run, clip_stages)


def remove_stale_shards(layout: OutputLayout, shards: int, clip_shards: int) -> None:
    """Markers, example parts and clip index parts of shards past the current end (a smaller
    --limit, a shorter manifest, a pair task gone)."""
    for folder, end in ((layout.shards, shards), (layout.examples, shards), (layout.clips, clip_shards)):
        for path in layout.storage.files(folder):
            if path.name.startswith("part-") and layout.part_index(path) >= end:
                layout.storage.delete(path)


def finalize(
    layout: OutputLayout, recipe: Recipe, totals: RunTotals, parts: list[OutPath], shards: int, backend: "Backend",
    curator: Any = None, progress: ProgressReporter | None = None, mapper: PartMapper = map_parts,
) -> Assembly:
    """The assemble pass (its parts written through ``mapper``, the exporters' closing files too),
    then rejects.jsonl and the card."""
    assembly = assemble(parts, recipe, layout, curator, progress, examples=sum(totals.examples.values()),
                        mapper=mapper)
    remove_stale(layout, assembly.files)
    storage = layout.storage
    gather_rejects(layout, shards, assembly)
    assembly.warnings = release_warnings(recipe, totals, assembly)
    storage.write_text(layout.card, render_card(recipe, totals, assembly, backend.name, backend.model))
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
    spoken = totals.tts.get("transient_failures", 0)
    if spoken:
        reasons = {k.removeprefix("failed."): n for k, n in totals.tts.items() if k.startswith("failed.") and n}
        warnings.append(
            f"{spoken:,} utterance{'s' if spoken > 1 else ''} could not be synthesized for now ({_reasons(reasons)} in "
            f"all): their shards are left unfinished; run the same command again to synthesize just those (every "
            f"utterance so far comes from the speech cache)."
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


def recurate(out: Path | str, recipe_path: Path | None = None, *, report: bool = True) -> "RunResult":
    """Re-score, re-filter, re-split and re-mix an existing output without generating anything:
    the assemble pass again over the generated shards in ``OUT/.work``, with the recipe given (its
    ``curate``, ``splits`` and ``mix`` sections) or the one the output was made with."""
    from types import SimpleNamespace

    from speechsift.engine.executor import RunResult
    from speechsift.recipe import load_recipe, parse_recipe

    started = time.perf_counter()
    started_at = datetime.now(timezone.utc)
    layout = OutputLayout(out)
    storage = layout.storage
    previous = read_json(storage, layout.run_json)
    if previous is None:
        raise ConfigError(f"{out}: no run.json here; run `speechsift run RECIPE -o {out}` first.")
    overrides = {"output.dir": layout.location}
    recipe = load_recipe(recipe_path, overrides) if recipe_path else parse_recipe(previous["recipe"], f"{out}/run.json", overrides)
    layout = OutputLayout(layout.location, recipe.engine.cache_dir)
    with OutputLock(layout):
        totals = RunTotals()
        parts = []
        markers = [path for path in storage.files(layout.shards, ".json") if path.name.startswith("part-")]
        for path in markers:
            marker = read_json(storage, path)
            if marker is None or not storage.is_file(layout.root / marker["examples_file"]):
                raise ConfigError(f"{storage.display(path)}: a shard of this output is incomplete; rerun "
                                  "`speechsift run` to finish it first.")
            totals.add_shard(marker)
            parts.append(layout.root / marker["examples_file"])
        backend = SimpleNamespace(name=recipe.llm.backend, model=recipe.llm.model if recipe.llm.backend != "template" else None)
        assembly = finalize(layout, recipe, totals, sorted(parts), len(markers), backend)  # type: ignore[arg-type]
        assembly.pairing = previous.get("pairing", {})
        seconds = time.perf_counter() - started
        write_run_json(layout, recipe, totals, assembly, len(markers), len(markers), started_at, seconds,
                       previous.get("limit"), {}, None)
        if report and recipe.output.report:
            write_report(layout)
    out_dir = layout.root if not layout.remote else layout.uri
    return RunResult(out_dir, totals, len(markers), len(markers), seconds, {}, assembly)


def write_report(layout: OutputLayout) -> None:
    """The HTML report of a finished run; a report that fails is a warning, never a lost run. The
    report reads OUT as a local folder: with OUT on an object store it is left out (a warning says
    how to build it from a local copy)."""
    from speechsift.report import build_report

    out = layout.root
    if layout.remote:
        logger.warning("the report reads OUT as a local folder and %s is on an object store: it is left out; "
                       "copy OUT to a local folder and run `speechsift report` there", layout.uri)
        return
    try:
        build_report(Path(out))
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
    layout.storage.write_text(layout.run_json, json.dumps(report, indent=2) + "\n")
    return report


def mark_release(layout: OutputLayout, run: dict[str, Any], release: str, seconds: float) -> None:
    """The release fingerprint, written last: after the data, exports, card and report. A run
    killed before this leaves no fingerprint, so the next run assembles the release again."""
    run.update(release_fingerprint=release, seconds=round(seconds, 3))
    layout.storage.write_text(layout.run_json, json.dumps(run, indent=2) + "\n")
