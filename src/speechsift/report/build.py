"""``build_report(OUT)``: the static HTML report of a run's output folder.

Reads ``OUT/run.json``, ``OUT/rejects.jsonl``, ``OUT/data/*.parquet`` and, when the curation
stage wrote it, ``OUT/complete/*.parquet`` (every scored example, with what became of it; ``data/``
then holds the released ones), one part at a time: the statistics are aggregated per part and
merged (``report/aggregate.py``), so the report's memory does not grow with the dataset. Writes ``OUT/report/index.html`` and ``OUT/report/audio/`` and nothing else.
Every section that needs a column the output lacks (``quality``, ``quality.domain``, an embedding
column) says what is missing instead of failing.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from speechsift.layout import OutputLayout
from speechsift.errors import ConfigError
from speechsift.report import aggregate, load, projection, samples, stats, svg
from speechsift.report.html import Markup, el
from speechsift.report.page import page
from speechsift.report.sections import (
    Context,
    dataset_section,
    domains_section,
    durations_section,
    funnel_section,
    header,
    labels_section,
    map_section,
    openings_section,
    quality_section,
    responses_section,
    samples_section,
    summary_section,
)
from speechsift.report.speech import speech_section

log = logging.getLogger(__name__)

DEFAULT_MAX_SAMPLES_PER_TASK = 50
DROPPED_SAMPLES_SHARE = 5  # filtered-out examples shown per task: max_samples_per_task // this (at least 1)
REPORT_DIR = "report"
AUDIO_DIR = "audio"
COMPLETE_DIR = "complete"  # curation's folder of every scored example (data/ then holds the kept ones)
NAV = [
    ("summary", "Summary"),
    ("funnel", "Funnel"),
    ("dataset", "Dataset"),
    ("labels", "Labels"),
    ("durations", "Durations"),
    ("responses", "Lengths"),
    ("openings", "Openings"),
    ("domains", "Domains"),
    ("map", "Map"),
    ("quality", "Quality"),
    ("speech", "Speech"),
    ("samples", "Samples"),
]


def _task_order(run: dict[str, Any] | None, present: set[str]) -> list[str]:
    recipe_tasks = []
    for task in ((run or {}).get("recipe") or {}).get("tasks") or []:
        name = task.get("name") if isinstance(task, dict) else task
        if isinstance(name, str) and name not in recipe_tasks:
            recipe_tasks.append(name)
    ordered = [t for t in recipe_tasks if t in present]
    return ordered + sorted(present - set(ordered))


# --- assembly ---------------------------------------------------------------------------------


def _read_samples(
    ctx: Context,
    parts: list[load.Part],
    chosen: dict[str, pa.Table],
    audio_dir: Path,
    kept: bool,
    reasons: dict[str, list[str]],
) -> dict[str, list[samples.Sample]]:
    """The drawn rows (``part``, ``row`` per task), read in full, their audio written to ``audio_dir``."""
    order = []
    for task in ctx.order:
        if task in chosen:
            rows = chosen[task].sort_by([("part", "ascending"), ("row", "ascending")])
            order += [(task, (p, r)) for p, r in zip(rows.column("part").to_pylist(), rows.column("row").to_pylist())]
    records = load.read_rows(parts, [where for _, where in order], samples.SAMPLE_COLUMNS)
    files = samples.materialize(records, audio_dir, ctx.out_dir)
    out: dict[str, list[samples.Sample]] = {}
    for (task, _), record, audio in zip(order, records, files):
        out.setdefault(task, []).append(samples.Sample(record, audio, kept, reasons.get(str(record.get("id")), [])))
    return out


def _swap_into_place(built: Path, target: Path) -> None:
    """Replace ``target`` (a folder) with ``built`` so that readers never see half a report."""
    old = target.with_name(f".{target.name}-old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(built, target)
    shutil.rmtree(old, ignore_errors=True)


def read_output(out_dir: Path, seed: int, work: Path, max_samples_per_task: int = DEFAULT_MAX_SAMPLES_PER_TASK) -> Context:
    """Everything the sections need from ``out_dir``, aggregated part by part (``report/aggregate.py``);
    ``work`` holds the spilled distinct clips while they are counted."""
    layout = OutputLayout(out_dir)
    run = load.read_run_json(layout.run_json)
    parts = load.find_parts(layout.data)
    complete_parts = load.find_parts(out_dir / COMPLETE_DIR)
    if run is None and not parts and not complete_parts:
        raise ConfigError(
            f"{out_dir} is not a speechsift output folder: it has no run.json and no "
            f"data/*.parquet. Pass the folder a recipe's output.dir names, after `speechsift run`."
        )
    dropped = max(1, max_samples_per_task // DROPPED_SAMPLES_SHARE) if max_samples_per_task > 0 else 0
    found = aggregate.collect(parts, complete_parts, work / "clips", samples_per_task=max_samples_per_task,
                              dropped_per_task=dropped, map_points=projection.MAP_POINTS, seed=seed,
                              read=load.read_part)
    order = _task_order(run, set(found.tasks) | {task for task, _kept in found.curation})
    return Context(
        out_dir=out_dir,
        run=run,
        parts=parts,
        stats=found,
        order=order,
        colors={t: svg.color(i) for i, t in enumerate(order)},
        complete_parts=complete_parts,
        seed=seed,
    )


# Standalone SVG files the dataset card (OUT/README.md) shows as images.
CARD_PLOTS_DIR = "plots"
CARD_PLOTS = {
    "examples_per_task.svg": "examples per task",
    "durations.svg": "clip durations (s)",
    "response_words.svg": "response length in words, per task",
    "domains.svg": "domains",
}


def write_card_plots(ctx: Context, folder: Path) -> list[Path]:
    """The card's plots as standalone SVG files: examples per task, durations, response lengths."""
    folder.mkdir(parents=True, exist_ok=True)
    counts = ctx.stats.tasks
    charts = {"examples_per_task.svg": svg.hbar([(t, counts[t]) for t in ctx.order if counts[t]],
                                                 total=ctx.n, label=CARD_PLOTS["examples_per_task.svg"])}
    durations = stats.histogram_of([("clips", v) for v in ctx.stats.clips.durations.values()], bins=20)
    if durations is not None:
        merged = [("clips", sum(counts for _, counts in durations.series))]
        charts["durations.svg"] = svg.histogram(durations.edges, merged, [svg.color(0)], xlabel="duration (s)",
                                                overflow=durations.overflow, label=CARD_PLOTS["durations.svg"])
    words = stats.histogram_of([(t, ctx.stats.words[t]) for t in ctx.order if t in ctx.stats.words], bins=20,
                               integer=True)
    if words is not None:
        charts["response_words.svg"] = svg.histogram(words.edges, words.series, [ctx.colors[t] for t, _ in words.series],
                                                     xlabel="words", overflow=words.overflow, integer=True,
                                                     label=CARD_PLOTS["response_words.svg"])
    quality = ctx.quality
    domains = quality.domains.get("domain_label") if quality is not None else None
    if domains and any(value != stats.MISSING for _task, value in domains):
        counts: Counter = Counter()
        for (_task, value), n in domains.items():
            if value != stats.MISSING:
                counts[value] += n
        charts["domains.svg"] = svg.hbar(counts.most_common(20), total=int(sum(counts.values())),
                                         label=CARD_PLOTS["domains.svg"])
    for name, title in CARD_PLOTS.items():  # the card links every plot: say why one is empty
        if name not in charts:
            why = {"durations.svg": "no audio durations (text-only data)",
                   "domains.svg": "no domains (curate: {embeddings: true} classifies them)"}.get(name, "no data")
            charts[name] = Markup(f'<svg xmlns="http://www.w3.org/2000/svg" width="420" height="40" role="img" '
                                  f'aria-label="{title}"><text x="8" y="24" font-family="sans-serif" '
                                  f'font-size="14">{title}: {why}</text></svg>')
    written = []
    for name, chart in charts.items():
        path = folder / name
        path.write_text(str(chart), encoding="utf-8")
        written.append(path)
    return written


def build_report(out_dir: Path, *, max_samples_per_task: int = DEFAULT_MAX_SAMPLES_PER_TASK, seed: int = 0) -> Path:
    """Write ``out_dir/report/index.html`` (and ``report/audio/``) for a run's output folder.

    Args:
        out_dir: the run's output folder (the recipe's ``output.dir``).
        max_samples_per_task: examples per task in the sample browser, drawn at random with ``seed``.
        seed: seeds the sample browser and the response map's sample; the same output and seed give
            the same page.

    Returns:
        The path of ``index.html``.

    Raises:
        ConfigError: ``out_dir`` holds neither run.json nor data/ (not a run's output folder).
    """
    out_dir = Path(out_dir)
    report_dir = out_dir / REPORT_DIR
    building = out_dir / f".{REPORT_DIR}-building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        ctx = read_output(out_dir, seed, building / ".work", max_samples_per_task)
        dropped = ctx.stats.dropped_samples.rows if ctx.curated else {}
        dropped_ids = {i for table in dropped.values() for i in table.column("id").to_pylist()}
        rejects = load.read_rejects(OutputLayout(out_dir).rejects, dropped_ids)
        audio_dir = building / AUDIO_DIR
        kept_samples = _read_samples(ctx, ctx.parts, ctx.stats.samples.rows, audio_dir, True, {})
        dropped_samples = _read_samples(ctx, ctx.complete_parts, dropped, audio_dir, False, rejects.reasons_by_id)
        html_text = render(ctx, rejects, kept_samples, dropped_samples, max_samples_per_task)
        shutil.rmtree(building / ".work", ignore_errors=True)
        (building / "index.html").write_text(html_text, encoding="utf-8")
        write_card_plots(ctx, building / CARD_PLOTS_DIR)
        _swap_into_place(building, report_dir)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return report_dir / "index.html"


def render(
    ctx: Context,
    rejects: load.Rejects,
    kept_samples: dict[str, list[samples.Sample]],
    dropped_samples: dict[str, list[samples.Sample]],
    max_samples_per_task: int,
) -> str:
    """The whole page."""
    sections = [
        summary_section(ctx),
        funnel_section(ctx, rejects),
        dataset_section(ctx),
        labels_section(ctx),
        durations_section(ctx),
        responses_section(ctx),
        openings_section(ctx),
        domains_section(ctx),
        map_section(ctx),
        quality_section(ctx),
        speech_section(ctx),
        samples_section(ctx, kept_samples, dropped_samples, max_samples_per_task),
    ]
    name = ((ctx.run or {}).get("recipe") or {}).get("name") or ctx.out_dir.name
    footer = el(
        "span",
        f"speechsift report of {ctx.out_dir.name}/ · a static page: no scripts, nothing loaded from "
        f"the network · audio in {REPORT_DIR}/{AUDIO_DIR}/",
    )
    return page(f"speechsift report — {name}", header(ctx), NAV, sections, footer)
