"""The report's sections, each rendered from a :class:`Context` (the statistics aggregated over the
output's parts, ``report/aggregate.py``) into markup.

One function per section of the page (``<name>_section``) and the sample browser's card. They draw
with :mod:`speechsift.report.svg`, compute with :mod:`speechsift.report.stats`, and never touch files
(the response map reads its drawn rows' embeddings, when the output has them).
A section whose data is absent (no run.json, no quality column, no embedding) renders a note saying
what is missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from speechsift.report import load, projection, samples, stats, svg
from speechsift.report.aggregate import DOMAIN_FIELDS, ERROR_SUFFIX, FILTERED, KEPT, QualityStats, ReportStats
from speechsift.report.html import Markup, el, fmt_hours, fmt_int, fmt_num, fmt_pct, join, shorten
from speechsift.report.page import note, section

CHIP_TEXT_LIMIT = 80


@dataclass
class Context:
    out_dir: Path
    run: dict[str, Any] | None
    parts: list[load.Part]  # data/: the release
    stats: ReportStats  # aggregated over data/ (and complete/)
    order: list[str]  # tasks, in recipe order
    colors: dict[str, str]
    complete_parts: list[load.Part]  # complete/: every scored example, when curation wrote it
    seed: int

    @property
    def n(self) -> int:
        return self.stats.n

    @property
    def curated(self) -> bool:
        return bool(self.complete_parts)

    @property
    def quality(self) -> QualityStats | None:
        """The quality column's statistics, over complete/ with curation, else over data/; None without one."""
        quality = self.stats.quality
        return quality if quality is not None and quality.present else None

    @property
    def quality_source(self) -> str:
        if self.curated:
            return f"every scored example ({fmt_int(self.stats.complete_n)} in complete/)"
        return f"the {fmt_int(self.n)} examples in data/"

    @property
    def usual_flags(self) -> dict[str, bool]:
        return self.quality.usual_flags() if self.quality is not None else {}


def _cards(items: list[tuple[str, str, str | None]]) -> Markup:
    return el(
        "div",
        [
            el(
                "div",
                el("div", key, class_="k"),
                el("div", value, class_="v"),
                el("div", detail, class_="d") if detail else None,
                class_="card",
            )
            for key, value, detail in items
        ],
        class_="cards",
    )


def _table(
    header: list[str], rows: list[list[Any]], numeric: set[int] = frozenset(), classes: dict[int, str] | None = None
) -> Markup:
    classes = classes or {}
    head = el("tr", [el("th", h, class_="n" if i in numeric else None) for i, h in enumerate(header)])
    body = [
        el("tr", [el("td", cell, class_="n" if i in numeric else classes.get(i)) for i, cell in enumerate(row)])
        for row in rows
    ]
    return el("div", el("table", el("thead", head), el("tbody", body)), class_="scroll")


def _figure(
    title: str | None, chart: Markup, caption: str | Markup | None = None, legend: Markup | None = None
) -> Markup:
    return el(
        "figure", el("h4", title) if title else None, legend, chart, el("figcaption", caption) if caption else None
    )


def _task_badge(ctx: Context, task: str) -> Markup:
    return el("span", task, class_="badge", style=f"background:{ctx.colors.get(task, svg.PALETTE[0])}")


def header(ctx: Context) -> Markup:
    run = ctx.run or {}
    recipe = run.get("recipe") or {}
    name = recipe.get("name") or ctx.out_dir.name
    llm = recipe.get("llm") or {}
    facts = []
    if run.get("started_at"):
        facts.append(f"run {run['started_at']}")
    if run.get("seconds") is not None:
        facts.append(f"{fmt_num(float(run['seconds']))} s")
    if llm.get("backend"):
        facts.append(f"LLM: {llm['backend']}" + (f" · {llm['model']}" if llm.get("model") else ""))
    version = (run.get("versions") or {}).get("speechsift")
    if version:
        facts.append(f"speechsift {version}")
    return el(
        "header",
        el(
            "div",
            el("h1", "speechsift report ", el("span", f"— {name}")),
            el("p", recipe.get("description")) if recipe.get("description") else None,
            el("div", " · ".join(facts), class_="facts") if facts else None,
            class_="wrap",
        ),
        class_="top",
    )


def summary_section(ctx: Context) -> Markup:
    run = ctx.run or {}
    counts = run.get("counts") or {}
    clips = ctx.stats.clips
    rejects = run.get("rejects")
    items = [
        (
            "clips read",
            fmt_int(counts.get("read", {}).get("inputs")) if "read" in counts else "–",
            "rows of the sources",
        ),
        ("examples", fmt_int(ctx.n), f"in {len(ctx.order)} task{'s' * (len(ctx.order) != 1)}"),
        ("distinct clips", fmt_int(clips.n), f"{fmt_hours(clips.hours())} of audio"),
        ("sources", fmt_int(len(ctx.stats.sources_present)), None),
        ("rejects", fmt_int(rejects) if rejects is not None else "–", "see the funnel"),
    ]
    if ctx.curated:
        kept = sum(n for (_task, ok), n in ctx.stats.curation.items() if ok)
        scored = sum(ctx.stats.curation.values())
        items.append(("kept by curation", fmt_pct(kept, scored), f"{fmt_int(kept)} of {fmt_int(scored)} scored"))
    return section("summary", "Summary", None, _cards(items))


def funnel_section(ctx: Context, rejects: load.Rejects) -> Markup:
    run = ctx.run or {}
    counts: dict[str, dict[str, Any]] = run.get("counts") or {}
    body: list[Markup | None] = []
    if counts:
        rows, annotations = [], []
        for stage, c in counts.items():
            inputs, outputs, rejected = (int(c.get(k) or 0) for k in ("inputs", "outputs", "rejected"))
            rows.append((stage, [outputs, rejected]))
            annotations.append(
                f"{fmt_int(inputs)} in → {fmt_int(outputs)} out"
                + (f" · {fmt_int(rejected)} rejected" if rejected else "")
            )
        chart = svg.stacked_hbar(
            rows,
            ["passed on", "rejected"],
            [svg.KEPT_COLOR, svg.REJECTED_COLOR],
            annotations=annotations,
            annotation_width=250,
            width=1000,
            label="stages",
        )
        body.append(
            _figure(
                "Stages",
                chart,
                "Each bar is one stage's inputs: the share it passed on and the share it rejected. "
                "Clip stages count clips; task and later stages count examples.",
                svg.legend(["passed on", "rejected"], [svg.KEPT_COLOR, svg.REJECTED_COLOR]),
            )
        )
    else:
        body.append(note("run.json is missing or unreadable: the per-stage counts are not available."))
    per_task = ctx.stats.tasks
    if per_task:
        rows = [(t, per_task.get(t, 0)) for t in ctx.order if per_task.get(t)]
        chart = svg.hbar(rows, total=ctx.n, width=720, label="examples per task")
        expected = run.get("examples")
        caption = "Rows in data/<task>/*.parquet."
        if (
            not ctx.curated
            and isinstance(expected, dict)
            and {k: v for k, v in expected.items() if v} != {t: n for t, n in rows}
        ):
            caption += f" run.json lists {', '.join(f'{k} {v}' for k, v in expected.items())}: the files differ."
        body.append(_figure("Examples per task", chart, caption))
    body.append(_rejects_block(counts, rejects))
    if ctx.curated:
        rows = []
        for task in ctx.order:
            kept, dropped = ctx.stats.curation.get((task, True), 0), ctx.stats.curation.get((task, False), 0)
            scored = kept + dropped
            if scored:
                rows.append(
                    [
                        _task_badge(ctx, task),
                        fmt_int(scored),
                        fmt_int(kept),
                        fmt_int(scored - kept),
                        fmt_pct(kept, scored),
                    ]
                )
        body.append(el("h3", "Curation"))
        body.append(el("p", "Kept: passed curation (some may still be left out of data/ later, by the splits "
                            "or the mixture, which the stages above count).", class_="intro"))
        body.append(_table(["task", "scored", "kept", "filtered out", "kept %"], rows, {1, 2, 3, 4}))
    return section(
        "funnel",
        "Funnel",
        "From the clips read to the examples written: what each stage passed on, and why the rest was rejected.",
        *body,
    )


def _rejects_block(counts: dict[str, dict[str, Any]], rejects: load.Rejects) -> Markup:
    stage_rank = {stage: i for i, stage in enumerate(counts)}
    tally: Counter = Counter(rejects.counts)
    if not rejects.present:
        for stage, c in counts.items():
            for reason, n in (c.get("rejected_by_reason") or {}).items():
                tally[(stage, reason)] += int(n)
    parts: list[Markup | None] = [el("h3", "Rejects by stage and reason")]
    if not tally:
        parts.append(
            el(
                "p",
                "No rejects: every record passed every stage."
                if rejects.present or counts
                else "rejects.jsonl is missing.",
                class_="ok",
            )
        )
        return el("div", *parts)
    ordered = sorted(tally.items(), key=lambda kv: (stage_rank.get(kv[0][0], len(stage_rank)), -kv[1], kv[0][1]))
    total = sum(tally.values())
    rows = []
    for (stage, reason), n in ordered:
        example = (rejects.examples.get((stage, reason)) or [{}])[0]
        message = f"{example.get('id', '')}: {example.get('message', '')}" if example else ""
        rows.append([stage, reason, fmt_int(n), fmt_pct(n, total), shorten(message, 240)])
    parts.append(_table(["stage", "reason", "rejects", "share", "first example"], rows, {2, 3}, {1: "code", 4: "msg"}))
    if rejects.present:
        run_total = sum(int(c.get("rejected") or 0) for c in counts.values())
        if counts and run_total != rejects.total:
            parts.append(
                note(
                    f"rejects.jsonl holds {fmt_int(rejects.total)} rejects but run.json counts "
                    f"{fmt_int(run_total)}: the files come from different runs."
                )
            )
        if rejects.unreadable_lines:
            parts.append(note(f"{fmt_int(rejects.unreadable_lines)} lines of rejects.jsonl are not JSON."))
    else:
        parts.append(note("rejects.jsonl is missing: the counts come from run.json, without examples."))
    return el("div", *parts)


def dataset_section(ctx: Context) -> Markup:
    if not ctx.n:
        return section("dataset", "Dataset", None, note("data/ holds no examples."))
    a = ctx.stats

    def by_task(counter: Counter) -> dict[str, Counter]:
        found: dict[str, Counter] = {}
        for (task, value), n in counter.items():
            found.setdefault(task, Counter())[value] = n
        return found

    splits, by_source, languages = by_task(a.splits), by_task(a.sources), by_task(a.languages)

    def listing(counter: Counter) -> str:
        known = Counter({k: v for k, v in counter.items() if k not in ("–", stats.MISSING)})
        return (
            " · ".join(f"{k} {fmt_int(v)}" for k, v in known.most_common(6)) + (" · …" if len(known) > 6 else "") or "–"
        )

    rows = [
        [
            _task_badge(ctx, task),
            fmt_int(a.tasks[task]),
            listing(splits.get(task, Counter())),
            listing(by_source.get(task, Counter())),
            listing(languages.get(task, Counter())),
        ]
        for task in ctx.order
        if a.tasks.get(task)
    ]
    body = [_table(["task", "examples", "splits", "sources", "languages"], rows, {1})]
    finish_by: dict[tuple[str, str, str], Counter] = {}
    for (task, b, m, reason), n in a.finish.items():
        finish_by.setdefault((task, b, m), Counter())[reason] = n
    gen_rows = []
    for (task, b, m), n in sorted(
        a.writers.items(), key=lambda kv: (ctx.order.index(kv[0][0]) if kv[0][0] in ctx.order else 99, kv[0])
    ):
        gen_rows.append(
            [
                _task_badge(ctx, task),
                b,
                m,
                fmt_int(n),
                fmt_int(a.truncated.get((task, b, m), 0)),
                listing(finish_by.get((task, b, m), Counter())),
            ]
        )
    body += [
        el("h3", "Who wrote the responses"),
        _table(["task", "backend", "model", "examples", "truncated", "finish reasons"], gen_rows, {3, 4}),
    ]
    llm = (ctx.run or {}).get("llm") or {}
    if llm:
        body.append(
            el(
                "p",
                [
                    el("span", el("b", f"{k.replace('_', ' ')} "), fmt_int(v), class_="chip")
                    for k, v in llm.items()
                    if isinstance(v, (int, float))
                ],
            )
        )
    return section(
        "dataset",
        "Dataset",
        "What the release holds, per task: splits, sources, languages, and which "
        'backend wrote the responses ("direct": taken from the corpus; "template": metadata-grounded text, '
        "no model).",
        *body,
    )


def labels_section(ctx: Context) -> Markup:
    clips = ctx.stats.clips
    if not clips.n or not clips.fields:
        return section("labels", "Labels per source", None, note("No meta labels in this output."))
    source_order = [s for s, _ in clips.per_source.most_common()]
    figures = []
    empty = []
    for name in clips.fields:
        overall = clips.overall(name)
        if set(overall) <= {stats.MISSING}:
            empty.append(name)
            continue
        series = [k for k, _ in stats.top_with_other(overall)]
        per_source = clips.by_source(name)
        rows = []
        for s in source_order:
            counter = per_source.get(s, Counter())
            top = dict(stats.top_with_other(counter, len(counter)))
            folded = Counter()
            for value, n in top.items():
                folded[value if value in series else stats.OTHER] += n
            rows.append((s, [folded.get(v, 0) for v in series]))
        colors = [
            svg.MISSING_COLOR if v == stats.MISSING else svg.OTHER_COLOR if v == stats.OTHER else svg.color(i)
            for i, v in enumerate(series)
        ]
        chart = svg.stacked_hbar(rows, series, colors, width=560, label=f"{name} per source")
        known = sum(v for k, v in overall.items() if k != stats.MISSING)
        figures.append(
            _figure(
                name,
                chart,
                f"{fmt_int(known)} of {fmt_int(clips.n)} clips labelled "
                f"({fmt_pct(known, clips.n)}); {len(overall) - (stats.MISSING in overall)} values.",
                svg.legend(series, colors),
            )
        )
    body: list[Markup | None] = [el("div", figures, class_="grid")]
    if empty:
        body.append(el("p", f"No clip has a value for: {', '.join(empty)}.", class_="intro"))
    unknown = (ctx.run or {}).get("unknown_labels") or {}
    if unknown:
        rows = [
            [field_name, value, fmt_int(n)]
            for field_name, values in unknown.items()
            for value, n in sorted(values.items(), key=lambda kv: -kv[1])[:20]
        ]
        body += [
            el("h3", "Labels outside the vocabularies"),
            el("p", "Spellings the normalizer did not recognise (kept in raw, left out of meta).", class_="intro"),
            _table(["field", "value as given", "clips"], rows, {2}, {1: "code"}),
        ]
    return section(
        "labels",
        "Labels per source",
        "Normalized labels of the distinct clips (a clip used by several "
        "tasks counts once), as shares of each source's clips; hover a segment for its count.",
        *body,
    )


def durations_section(ctx: Context) -> Markup:
    clips = ctx.stats.clips
    if not clips.n:
        return section("durations", "Durations", None, note("No clips."))
    order = [s for s, _ in clips.per_source.most_common()]
    series = [(s, clips.durations.get(s) or stats.Values()) for s in order]
    hist = stats.histogram_of(series)
    if hist is None:
        return section("durations", "Durations", None, note("No clip has a duration_s value."))
    colors = [svg.color(i) for i in range(len(hist.series))]
    chart = svg.histogram(
        hist.edges,
        hist.series,
        colors,
        width=1000,
        height=250,
        xlabel="duration (s)",
        ylabel="clips",
        overflow=hist.overflow,
        label="clip durations",
    )
    rows = []
    for s, values in series:
        summary = stats.summary(values)
        if summary["n"]:
            rows.append(
                [
                    s,
                    fmt_int(summary["n"]),
                    fmt_hours(summary["sum"] / 3600),
                    fmt_num(summary["min"]),
                    fmt_num(summary["median"]),
                    fmt_num(summary["p95"]),
                    fmt_num(summary["max"]),
                ]
            )
    caption = "Distinct clips, stacked by source."
    if hist.overflow:
        caption += f" The last bin holds every clip of {fmt_num(float(hist.edges[-2]))} s and longer."
    return section(
        "durations",
        "Durations",
        None,
        _figure(None, chart, caption, svg.legend([n for n, _ in hist.series], colors) if len(order) > 1 else None),
        _table(["source", "clips", "audio", "min s", "median s", "p95 s", "max s"], rows, {1, 2, 3, 4, 5, 6}),
    )


def responses_section(ctx: Context) -> Markup:
    if not ctx.n:
        return section("responses", "Response lengths", None, note("No examples."))
    a = ctx.stats
    figures, rows = [], []
    for task in ctx.order:
        if not a.tasks.get(task):
            continue
        words = a.words.get(task) or stats.Values()
        chars = a.chars.get(task) or stats.Values()
        instruction_words = a.instruction_words.get(task) or stats.Values()
        hist = stats.histogram_of([(task, words)], bins=30, integer=True)
        s = stats.summary(words)
        if hist is not None:
            chart = svg.histogram(
                hist.edges,
                hist.series,
                [ctx.colors[task]],
                width=460,
                height=180,
                xlabel="words in the response",
                ylabel="examples",
                overflow=hist.overflow,
                integer=True,
                label=f"response length, {task}",
            )
            figures.append(_figure(task, chart))
        rows.append(
            [
                _task_badge(ctx, task),
                fmt_int(a.tasks[task]),
                fmt_num(s.get("median")),
                f"{fmt_num(s.get('p5'))}–{fmt_num(s.get('p95'))}",
                fmt_num(s.get("max")),
                fmt_num(chars.sum / chars.n if chars.n else None),
                fmt_num(float(instruction_words.quantile(0.5)) if instruction_words.n else None),
                fmt_int(a.empty[task]),
            ]
        )
    return section(
        "responses",
        "Response lengths",
        "Words per response (split on whitespace), per task.",
        el("div", figures, class_="grid"),
        _table(
            ["task", "examples", "median words", "p5–p95", "max", "mean chars", "instruction words (median)", "empty"],
            rows,
            {1, 2, 3, 4, 5, 6, 7},
        ),
    )


def openings_section(ctx: Context) -> Markup:
    if not ctx.n:
        return section("openings", "Response openings", None, note("No examples."))
    blocks = []
    for item in stats.top_openings(ctx.stats.openings, ctx.order):
        if not item.examples:
            continue
        top_share = item.top[0][1] / item.examples if item.top else 0.0
        verdict = "warn" if top_share >= 0.5 and item.examples >= 20 else None
        rows = []
        for rank, (text, n) in enumerate(item.top, 1):
            bar = el(
                "span",
                class_="share",
                style=f"width:{max(2, round(160 * n / item.examples))}px;background:{ctx.colors[item.task]}",
            )
            rows.append([str(rank), text, fmt_int(n), Markup(bar + " " + el("span", fmt_pct(n, item.examples)))])
        head = el(
            "h3",
            _task_badge(ctx, item.task),
            " ",
            el(
                "span",
                f"{fmt_int(item.distinct)} distinct openings in {fmt_int(item.examples)} examples "
                f"({fmt_pct(item.distinct, item.examples)})",
                class_=verdict,
            ),
        )
        blocks.append(
            el(
                "div",
                head,
                _table(["#", f"first {stats.OPENING_WORDS} words", "examples", "share"], rows, {0, 2}, {1: "code"}),
                class_="opening-task",
            )
        )
    return section(
        "openings",
        "Response openings",
        f"The ten most common first {stats.OPENING_WORDS} words of the "
        "responses per task (lowercased, punctuation dropped): LLM-written data that starts every answer the "
        "same way shows here first.",
        el("div", blocks, class_="grid wide"),
    )


def domains_section(ctx: Context) -> Markup:
    quality = ctx.quality
    name = quality.domain_field() if quality is not None else None
    if name is None:
        return section(
            "domains",
            "Domains",
            None,
            note(
                f"No {' or '.join('quality.' + f for f in DOMAIN_FIELDS)} column with values in this output: "
                "the domain distribution appears once the domain scorer has run."
            ),
        )
    per_task: dict[str, Counter] = {}
    overall: Counter = Counter()
    for (task, value), n in quality.domains[name].items():
        per_task.setdefault(task, Counter())[value] = n
        overall[value] += n
    series = [k for k, _ in stats.top_with_other(overall, 10)]
    rows = []
    for task in ctx.order:
        counter = per_task.get(task)
        if not counter:
            continue
        folded: Counter = Counter()
        for value, n in counter.items():
            folded[value if value in series else stats.OTHER] += n
        rows.append((task, [folded.get(v, 0) for v in series]))
    if len(rows) > 1:
        rows.append(("all tasks", [sum(r[1][j] for r in rows) for j in range(len(series))]))
    colors = [
        svg.MISSING_COLOR if v == stats.MISSING else svg.OTHER_COLOR if v == stats.OTHER else svg.color(i)
        for i, v in enumerate(series)
    ]
    chart = svg.stacked_hbar(rows, series, colors, width=1000, label="domains per task")
    return section(
        "domains",
        "Domains",
        f"quality.{name} per task, over {ctx.quality_source}.",
        _figure(None, chart, None, svg.legend(series, colors)),
        _table(
            ["domain", "examples", "share"],
            [[k, fmt_int(v), fmt_pct(v, sum(overall.values()))] for k, v in overall.most_common(20)],
            {1, 2},
        ),
    )


def map_section(ctx: Context) -> Markup:
    if ctx.n < 3:
        return section("map", "Response map", None, note("Too few examples for a map."))
    rng = np.random.default_rng(ctx.seed)
    quota = projection.quotas({t: ctx.stats.tasks[t] for t in ctx.order if ctx.stats.tasks.get(t)}, projection.MAP_POINTS)
    # each task's drawn rows are a uniform sample (smallest seeded id hashes): its first ``quota`` rows are one too
    drawn = {t: ctx.stats.points.rows[t].slice(0, k) for t, k in quota.items() if t in ctx.stats.points.rows}
    points = pa.concat_tables(drawn.values())
    point_tasks = np.concatenate([np.full(d.num_rows, t, dtype=object) for t, d in drawn.items()])
    texts = [t or "" for t in points.column("response").to_pylist()]
    embedding = load.embedding_column(ctx.parts)
    if embedding is not None:
        locations = list(zip(points.column("part").to_pylist(), points.column("row").to_pylist()))
        vectors = load.read_embeddings(ctx.parts, embedding, locations)
        method = f"PCA of the {embedding} column ({vectors.shape[1]} dimensions)"
    else:
        vectors = projection.hashed_tfidf(texts)
        method = (
            f"PCA of TF-IDF vectors of each response's words and word pairs, hashed into "
            f"{fmt_int(projection.HASH_DIM)} dimensions (no embedding column in this output)"
        )
    result = projection.pca_2d(vectors, seed=ctx.seed)
    if result is None:
        return section("map", "Response map", None, note("The responses do not vary: nothing to project."))
    draw = rng.permutation(len(texts))  # interleave tasks so that none is painted over the others
    tasks = point_tasks[draw]
    groups = np.array([ctx.order.index(t) for t in tasks])
    colors = [ctx.colors[t] for t in ctx.order]
    titles = [f"{t}: {shorten(texts[i], 110)}" for t, i in zip(tasks, draw)]
    chart = svg.scatter(
        result.xy[draw],
        groups,
        colors,
        titles,
        width=1000,
        height=500,
        xlabel=f"PC1 ({fmt_pct(result.explained[0], 1)} of variance)",
        ylabel=f"PC2 ({fmt_pct(result.explained[1], 1)} of variance)",
        label="response map",
    )
    shown = (
        f"all {fmt_int(len(texts))} responses"
        if len(texts) == ctx.n
        else f"{fmt_int(len(texts))} of {fmt_int(ctx.n)} responses, sampled per task (seed {ctx.seed})"
    )
    present = list(quota)
    return section(
        "map",
        "Response map",
        "Responses that say similar things land close together; a task whose "
        "points form a few tight clumps is repeating itself. Hover a point to read its response.",
        _figure(None, chart, f"{method}; {shown}.", svg.legend(present, [ctx.colors[t] for t in present])),
    )


def _rate_cells(counts_by_task: dict[str, int], totals: dict[str, int], order: list[str]) -> list[str]:
    return [f"{fmt_int(counts_by_task.get(t, 0))} ({fmt_pct(counts_by_task.get(t, 0), totals[t])})" for t in order]


def quality_section(ctx: Context) -> Markup:
    view = ctx.quality
    if view is None:
        return section(
            "quality",
            "Quality scores",
            None,
            note("No quality column in this output: score distributions appear once the curation scorers have run."),
        )
    quality = view
    curated = quality.curated
    totals = {t: quality.totals.get(t, 0) for t in ctx.order}
    order = [t for t in ctx.order if totals[t]]
    never = quality.never()
    numeric = [name for name in quality.numeric_fields if name not in never]
    body: list[Markup | None] = []

    figures = []
    for name in numeric:
        values = quality.series(name)
        integer = values.integer
        if curated:
            hist = stats.histogram_of([(state, quality.series(name, state=state)) for state in (KEPT, FILTERED)],
                                      bins=30, lower=None, integer=integer)
            names = [n for n, _ in hist.series] if hist else []
            colors = [svg.KEPT_COLOR if n == KEPT else svg.REJECTED_COLOR for n in names]
        else:
            hist = stats.histogram_of([(t, quality.series(name, task=t)) for t in order],
                                      bins=30, lower=None, integer=integer)
            names = [n for n, _ in hist.series] if hist else []
            colors = [ctx.colors[n] for n in names]
        if hist is None:
            continue
        chart = svg.histogram(
            hist.edges,
            hist.series,
            colors,
            width=400,
            height=180,
            xlabel=name,
            ylabel="examples",
            overflow=hist.overflow,
            integer=integer,
            label=f"quality.{name}",
        )
        s = stats.summary(values)
        caption = (
            f"median {fmt_num(s['median'])}, p5–p95 {fmt_num(s['p5'])}–{fmt_num(s['p95'])}; {fmt_int(s['n'])} scored"
        )
        figures.append(
            _figure(f"quality.{name}", chart, caption, svg.legend(names, colors) if len(names) > 1 else None)
        )
    if figures:
        lead = "Green: kept by curation; red: filtered out by curation." if curated else "Stacked by task."
        body += [el("p", lead, class_="intro"), el("div", figures, class_="grid three")]
    if numeric:
        rows = []
        for name in numeric:
            cells = []
            for task in order:
                s = stats.summary(quality.series(name, task=task))
                cells.append(f"{fmt_num(s['median'])} ({fmt_num(s['p5'])}–{fmt_num(s['p95'])})" if s["n"] else "–")
            rows.append([f"quality.{name}", *cells])
        body += [el("h3", "Median (p5–p95) per task"), _table(["score", *order], rows)]

    flag_rows: list[tuple[int, list[Any]]] = []
    for name in quality.flag_fields:
        if name in never:
            continue
        raised = {t: quality.flags.get((name, t), 0) for t in order}
        flag_rows.append((sum(raised.values()), [f"quality.{name}", *_rate_cells(raised, totals, order)]))
    for name in quality.list_fields:
        by_flag: dict[str, Counter] = {}
        for (flag, task), n in quality.lists.get(name, Counter()).items():
            by_flag.setdefault(flag, Counter())[task] += n
        for flag, by_task in by_flag.items():
            flag_rows.append((sum(by_task.values()), [f"quality.{name}: {flag}", *_rate_cells(by_task, totals, order)]))
    for name in quality.text_fields:
        if name.endswith(ERROR_SUFFIX) and name not in never:
            failed = {t: quality.text_by_task.get((name, t), 0) for t in order}
            flag_rows.append((sum(failed.values()), [f"quality.{name}", *_rate_cells(failed, totals, order)]))
    if flag_rows:
        flag_rows.sort(key=lambda row: -row[0])
        body += [
            el("h3", "Yes/no fields and scorer errors (examples where true or failed, share of the task)"),
            _table(["flag", *order], [row for _, row in flag_rows]),
        ]

    text_rows = []
    for name in quality.text_fields:
        if name.endswith(ERROR_SUFFIX) or name in never or name in DOMAIN_FIELDS:
            continue
        tally = quality.texts[name]
        common = " · ".join(f"{shorten(k, 48)} ({fmt_int(v)})" for k, v in tally.most_common(4))
        text_rows.append([f"quality.{name}", fmt_int(tally.total), fmt_int(tally.distinct()), common])
    if text_rows:
        body += [
            el("h3", "Text fields"),
            _table(["field", "examples with a value", "distinct", "most common"], text_rows, {1, 2}, {3: "msg"}),
        ]
    if never:
        body.append(
            el(
                "details",
                el("summary", f"{len(never)} fields have no value in any example"),
                el("p", ", ".join(f"quality.{n}" for n in never), class_="intro"),
                class_="never",
            )
        )
    return section("quality", "Quality scores", f"Every field of the quality column, over {ctx.quality_source}.", *body)


def _chips(values: dict[str, Any] | None, *, flag_true: bool = True) -> list[Markup]:
    """``key value`` chips; a boolean is a red chip when true (``flag_true``) or a plain ``key true/false``."""
    chips = []
    for key, value in (values or {}).items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, bool):
            if flag_true and value:
                chips.append(el("span", key, class_="chip flag"))
            elif not flag_true:
                chips.append(el("span", el("b", key), " ", str(value).lower(), class_="chip"))
            continue
        if isinstance(value, float):
            value = fmt_num(value)
        elif isinstance(value, list):
            chips.extend(el("span", f"{key}: {v}", class_="chip flag") for v in value)
            continue
        chips.append(el("span", el("b", key), " ", value, class_="chip"))
    return chips


def _quality_block(quality: dict[str, Any], usual: dict[str, bool]) -> Markup:
    """Flags and the domain up front, every other score folded away. A boolean is a flag when it
    differs from what most examples have (``leakage_flag`` true, ``language_match`` false); a
    scorer error always is."""
    flags, scores = [], {}
    for key, value in quality.items():
        if value is None or value == "" or value == []:
            continue
        if isinstance(value, bool):
            if value != usual.get(key, False):
                flags.append(el("span", key if value else f"{key}: false", class_="chip flag"))
            else:
                scores[key] = value
        elif key.endswith(ERROR_SUFFIX):
            flags.append(
                el("span", f"{key}: {shorten(str(value), CHIP_TEXT_LIMIT)}", class_="chip flag", title=str(value))
            )
        elif isinstance(value, list):
            flags.extend(el("span", f"{key}: {v}", class_="chip flag") for v in value)
        else:
            scores[key] = shorten(value, CHIP_TEXT_LIMIT) if isinstance(value, str) else value
    domain = next((scores.pop(f) for f in DOMAIN_FIELDS if f in scores), None)
    head = [el("span", el("b", "domain"), " ", domain, class_="chip")] if domain else []
    head += flags or [el("span", "no flags", class_="chip ok")]
    folded = (
        el("details", el("summary", f"{len(scores)} scores"), el("div", _chips(scores, flag_true=False)))
        if scores
        else None
    )
    return join([el("div", "Quality", class_="label"), el("div", head), folded])


def _text_block(label: str, text: str | None, cls: str = "", empty: str = "(empty)") -> Markup:
    content = el("div", text, class_=f"text {cls}".strip()) if text else el("div", empty, class_="text empty")
    return Markup(el("div", label, class_="label") + content)


def sample_card(ctx: Context, sample: samples.Sample) -> Markup:
    r = sample.record
    players = []
    for audio in sample.audio:
        if audio.href:
            players.append(el("audio", controls=True, preload="metadata", src=audio.href))
        if audio.note:
            players.append(el("div", audio.note, class_="warn" if not audio.href else None))
    duration = r.get("duration_s")
    clip_ids = r.get("clip_ids") or []
    where = " · ".join(str(v) for v in (r.get("source"), r.get("language"), r.get("split")) if v)
    who = " · ".join(
        v
        for v in (
            f"speaker {r['speaker_id']}" if r.get("speaker_id") else None,
            f"{fmt_num(duration)} s" if duration is not None else None,
        )
        if v
    )
    side = [
        *players,
        el(
            "div",
            r.get("id"),
            " ",
            el("span", "filtered out", class_="badge", style=f"background:{svg.REJECTED_COLOR}")
            if not sample.kept
            else None,
            class_="id",
        ),
        el("div", where) if where else None,
        el("div", who) if who else None,
        el("div", shorten(", ".join(clip_ids), 120), title=", ".join(clip_ids)) if clip_ids else None,
        el("div", _chips(r.get("meta")), class_="chips"),
    ]
    body: list[Markup | None] = [
        _text_block("Instruction", r.get("instruction"), empty="(none: the audio is the whole prompt)"),
        _text_block("Response", r.get("response"), "response"),
    ]
    if r.get("transcript"):
        body.append(_text_block("Transcript", r.get("transcript")))
    quality = r.get("quality")
    if quality:
        body.append(_quality_block(quality, ctx.usual_flags))
    if sample.reasons:
        body.append(el("div", el("b", "Rejected: "), "; ".join(sample.reasons), class_="warn"))
    generation = r.get("generation") or {}
    if generation:
        facts = {
            k: generation.get(k)
            for k in (
                "backend",
                "model",
                "temperature",
                "top_p",
                "max_tokens",
                "seed",
                "sample_index",
                "finish_reason",
                "prompt_tokens",
                "completion_tokens",
                "truncated",
            )
        }
        messages = generation.get("llm_messages") or []
        body.append(
            el(
                "details",
                el(
                    "summary",
                    f"Generation: {generation.get('backend') or '?'}"
                    + (f" · {generation['model']}" if generation.get("model") else "")
                    + (f" · {len(messages)} LLM messages" if messages else ""),
                ),
                el("div", _chips(facts)),
                [el("pre", f"[{m.get('role')}]\n{m.get('content')}") for m in messages],
            )
        )
    color = svg.REJECTED_COLOR if not sample.kept else ctx.colors.get(r.get("task") or "", svg.PALETTE[0])
    return el(
        "article",
        el("div", side, class_="side"),
        el("div", body, class_="body"),
        class_="sample" + ("" if sample.kept else " dropped"),
        style=f"border-left-color:{color}",
        id=f"ex-{samples.safe_stem(str(r.get('id')))}",
    )


def samples_section(
    ctx: Context,
    kept_samples: dict[str, list[samples.Sample]],
    dropped_samples: dict[str, list[samples.Sample]],
    max_per_task: int,
) -> Markup:
    blocks = []
    for task in ctx.order:
        shown = kept_samples.get(task, [])
        dropped = dropped_samples.get(task, [])
        if not shown and not dropped:
            continue
        total = ctx.stats.tasks.get(task, 0)
        summary = el(
            "summary",
            _task_badge(ctx, task),
            el(
                "span",
                f"{len(shown)} of {fmt_int(total)} examples" + (f" · {len(dropped)} filtered out" if dropped else ""),
                class_="count",
            ),
        )
        cards = [sample_card(ctx, s) for s in shown + dropped]
        blocks.append(el("details", summary, cards, class_="samples-task", open=True, id=f"samples-{task}"))
    if not blocks:
        return section("samples", "Samples", None, note("No examples to show."))
    return section(
        "samples",
        "Samples",
        f"Up to {max_per_task} examples per task, drawn at random (seed {ctx.seed}), "
        "with their audio, instruction, response, labels and quality scores.",
        *blocks,
    )
