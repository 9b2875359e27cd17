"""``build_report(OUT)``: the static HTML report of a run's output folder.

Reads ``OUT/run.json``, ``OUT/rejects.jsonl``, ``OUT/data/<task>/*.parquet`` and, when the
curation stage wrote it, ``OUT/complete/<task>/*.parquet`` (every scored example; ``data/`` then
holds the kept ones). Writes ``OUT/report/index.html`` and ``OUT/report/audio/`` and nothing else.
Every section that needs a column the output lacks (``quality``, ``quality.domain``, an embedding
column) says what is missing instead of failing.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from speechsift.layout import OutputLayout
from speechsift.errors import ConfigError
from speechsift.report import load, samples, stats, svg
from speechsift.report.html import Markup, el, fmt_int
from speechsift.report.page import page
from speechsift.report.sections import (
    Context,
    QualityView,
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


def _task_order(run: dict[str, Any] | None, *task_arrays: np.ndarray) -> list[str]:
    present: set[str] = set()
    for array in task_arrays:
        present.update(np.unique(array.astype(str)).tolist())
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
    table: pa.Table,
    chosen: dict[str, np.ndarray],
    audio_dir: Path,
    kept: bool,
    reasons: dict[str, list[str]],
) -> dict[str, list[samples.Sample]]:
    part_index = table.column("_part").to_numpy()
    row_index = table.column("_row").to_numpy()
    order = [(task, int(i)) for task, rows in chosen.items() for i in rows]
    records = load.read_rows(parts, [(int(part_index[i]), int(row_index[i])) for _, i in order], samples.SAMPLE_COLUMNS)
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


def read_output(out_dir: Path, seed: int) -> Context:
    """Everything the sections need from ``out_dir``, read once (audio bytes excluded)."""
    layout = OutputLayout(out_dir)
    run = load.read_run_json(layout.run_json)
    parts = load.find_parts(layout.data)
    complete_parts = load.find_parts(out_dir / COMPLETE_DIR)
    if run is None and not parts and not complete_parts:
        raise ConfigError(
            f"{out_dir} is not a speechsift output folder: it has no run.json and no "
            f"data/<task>/*.parquet. Pass the folder a recipe's output.dir names, after `speechsift run`."
        )
    # with complete/, the quality column is read from there (every scored example), not twice
    table = load.read_columns(parts, [c for c in load.STAT_COLUMNS if not (complete_parts and c == "quality")])
    n = table.num_rows
    tasks = stats.strings(stats.column(table, "task"), n)
    complete = kept = complete_tasks = None
    if complete_parts:
        complete = load.read_columns(complete_parts, ["id", "task", "quality"])
        complete_tasks = stats.strings(stats.column(complete, "task"), complete.num_rows)
        ids = stats.column(table, "id")
        in_data = pc.is_in(
            stats.column(complete, "id"), value_set=ids if ids is not None else pa.array([], pa.string())
        )
        kept = np.asarray(in_data.to_numpy(zero_copy_only=False), dtype=bool)
    order = _task_order(run, tasks, *([complete_tasks] if complete_tasks is not None else []))
    if complete is not None and "quality" in complete.column_names:
        quality = QualityView.of(
            stats.quality_columns(complete),
            complete_tasks,
            kept,
            f"every scored example ({fmt_int(complete.num_rows)} in {COMPLETE_DIR}/)",
        )
    else:
        quality = QualityView.of(stats.quality_columns(table), tasks, None, f"the {fmt_int(n)} examples in data/")
    return Context(
        out_dir=out_dir,
        run=run,
        parts=parts,
        table=table,
        tasks=tasks,
        sources=stats.strings(stats.column(table, "source"), n),
        order=order,
        colors={t: svg.color(i) for i, t in enumerate(order)},
        complete_parts=complete_parts,
        complete=complete,
        kept=kept,
        seed=seed,
        quality=quality,
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
    counts = stats.count_by(ctx.tasks)
    charts = {"examples_per_task.svg": svg.hbar([(t, counts[t]) for t in ctx.order if counts[t]],
                                                 total=ctx.n, label=CARD_PLOTS["examples_per_task.svg"])}
    durations = stats.numbers(stats.column(ctx.table, "duration_s"), ctx.n)
    durations = durations[np.isfinite(durations)]
    if durations.size:
        edges = np.histogram_bin_edges(durations, bins=20)
        charts["durations.svg"] = svg.histogram(edges, [("clips", np.histogram(durations, edges)[0])], [svg.color(0)],
                                                xlabel="duration (s)", label=CARD_PLOTS["durations.svg"])
    responses = stats.strings(stats.column(ctx.table, "response"), ctx.n, missing="")
    words = np.array([len(str(r).split()) for r in responses], dtype=float)
    if words.size:
        edges = np.histogram_bin_edges(words, bins=20)
        series = [(t, np.histogram(words[ctx.tasks == t], edges)[0]) for t in ctx.order]
        charts["response_words.svg"] = svg.histogram(edges, series, [ctx.colors[t] for t in ctx.order],
                                                     xlabel="words", label=CARD_PLOTS["response_words.svg"])
    view = ctx.quality
    domains = view.columns.categorical.get("domain_label") if view is not None else None
    if domains is not None and (domains != stats.MISSING).any():
        counts = stats.count_by(domains[domains != stats.MISSING])
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
    ctx = read_output(out_dir, seed)
    rng = np.random.default_rng(seed)
    ids = stats.strings(stats.column(ctx.table, "id"), ctx.n)
    chosen = samples.choose(ctx.tasks, ids, ctx.order, max_samples_per_task, rng)
    chosen_dropped: dict[str, np.ndarray] = {}
    dropped_ids: set[str] = set()
    if ctx.complete is not None and ctx.kept is not None:
        per_task = max(1, max_samples_per_task // DROPPED_SAMPLES_SHARE) if max_samples_per_task > 0 else 0
        complete_ids = stats.strings(stats.column(ctx.complete, "id"), ctx.complete.num_rows)
        complete_tasks = stats.strings(stats.column(ctx.complete, "task"), ctx.complete.num_rows)
        chosen_dropped = samples.choose(complete_tasks, complete_ids, ctx.order, per_task, rng, mask=~ctx.kept)
        dropped_ids = {str(complete_ids[i]) for rows in chosen_dropped.values() for i in rows}
    rejects = load.read_rejects(OutputLayout(out_dir).rejects, dropped_ids)

    report_dir = out_dir / REPORT_DIR
    building = out_dir / f".{REPORT_DIR}-building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        audio_dir = building / AUDIO_DIR
        kept_samples = _read_samples(ctx, ctx.parts, ctx.table, chosen, audio_dir, True, {})
        dropped_samples = {}
        if ctx.complete is not None:
            dropped_samples = _read_samples(
                ctx, ctx.complete_parts, ctx.complete, chosen_dropped, audio_dir, False, rejects.reasons_by_id
            )
        html_text = render(ctx, rejects, kept_samples, dropped_samples, max_samples_per_task)
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
    if ctx.n:
        clips = stats.unique_clips(ctx.table)
    else:
        clips = pa.table({"source": pa.array([], pa.string()), "duration_s": pa.array([], pa.float64())})
    sections = [
        summary_section(ctx, clips),
        funnel_section(ctx, rejects),
        dataset_section(ctx),
        labels_section(ctx, clips),
        durations_section(ctx, clips),
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
