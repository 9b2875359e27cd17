"""The report's sections, each rendered from a :class:`Context` (the tables read) into markup.

One function per section of the page (``<name>_section``) and the sample browser's card. They draw
with :mod:`speechsift.report.svg`, compute with :mod:`speechsift.report.stats`, and never touch files.
A section whose data is absent (no run.json, no quality column, no embedding) renders a note saying
what is missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from speechsift.report import load, projection, samples, stats, svg
from speechsift.report.html import Markup, el, fmt_hours, fmt_int, fmt_num, fmt_pct, join, shorten
from speechsift.report.page import note, section

DOMAIN_FIELDS = ("domain_label", "domain")  # curate's domain scorer writes domain_label
ERROR_SUFFIX = "_error"  # curate writes <scorer>_error when a scorer failed on an example
CHIP_TEXT_LIMIT = 80


@dataclass
class QualityView:
    """The quality column as the sections see it: over complete/ (every scored example, ``kept``
    telling which reached data/) when curation wrote it, else over data/."""

    columns: stats.QualityColumns
    tasks: np.ndarray  # the task of each row of ``columns``
    kept: np.ndarray | None
    source_name: str  # "every scored example (N in complete/)" or "the N examples in data/"
    usual_flags: dict[str, bool] = field(default_factory=dict)  # each boolean field's majority value

    @classmethod
    def of(
        cls, columns: stats.QualityColumns | None, tasks: np.ndarray, kept: np.ndarray | None, source_name: str
    ) -> QualityView | None:
        if columns is None:
            return None
        usual = {k: bool(np.nanmean(v) >= 0.5) for k, v in columns.flags.items() if np.isfinite(v).any()}
        return cls(columns, tasks, kept, source_name, usual)


@dataclass
class Context:
    out_dir: Path
    run: dict[str, Any] | None
    parts: list[load.Part]
    table: pa.Table  # data/: the examples of the release (statistics columns only)
    tasks: np.ndarray
    sources: np.ndarray
    order: list[str]  # tasks, in recipe order
    colors: dict[str, str]
    complete_parts: list[load.Part]
    complete: pa.Table | None  # complete/: every scored example, when curation wrote it
    kept: np.ndarray | None  # per row of ``complete``: is the example in data/?
    seed: int
    quality: QualityView | None = None

    @property
    def usual_flags(self) -> dict[str, bool]:
        return self.quality.usual_flags if self.quality is not None else {}

    @property
    def n(self) -> int:
        return self.table.num_rows


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


def summary_section(ctx: Context, clips: pa.Table) -> Markup:
    run = ctx.run or {}
    counts = run.get("counts") or {}
    durations = stats.numbers(clips.column("duration_s"), clips.num_rows) if clips.num_rows else np.zeros(0)
    hours = float(np.nansum(durations)) / 3600 if durations.size else 0.0
    rejects = run.get("rejects")
    items = [
        (
            "clips read",
            fmt_int(counts.get("read", {}).get("inputs")) if "read" in counts else "–",
            "rows of the sources",
        ),
        ("examples", fmt_int(ctx.n), f"in {len(ctx.order)} task{'s' * (len(ctx.order) != 1)}"),
        ("distinct clips", fmt_int(clips.num_rows), f"{fmt_hours(hours)} of audio"),
        ("sources", fmt_int(len(np.unique(ctx.sources.astype(str)))) if ctx.n else "0", None),
        ("rejects", fmt_int(rejects) if rejects is not None else "–", "see the funnel"),
    ]
    if ctx.complete is not None and ctx.kept is not None:
        items.append(
            (
                "kept by curation",
                fmt_pct(int(ctx.kept.sum()), len(ctx.kept)),
                f"{fmt_int(int(ctx.kept.sum()))} of {fmt_int(len(ctx.kept))} scored",
            )
        )
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
    per_task = stats.count_by(ctx.tasks) if ctx.n else Counter()
    if per_task:
        rows = [(t, per_task.get(t, 0)) for t in ctx.order if per_task.get(t)]
        chart = svg.hbar(rows, total=ctx.n, width=720, label="examples per task")
        expected = run.get("examples")
        caption = "Rows in data/<task>/*.parquet."
        if (
            ctx.complete is None
            and isinstance(expected, dict)
            and {k: v for k, v in expected.items() if v} != {t: n for t, n in rows}
        ):
            caption += f" run.json lists {', '.join(f'{k} {v}' for k, v in expected.items())}: the files differ."
        body.append(_figure("Examples per task", chart, caption))
    body.append(_rejects_block(counts, rejects))
    if ctx.complete is not None and ctx.kept is not None:
        complete_tasks = stats.strings(stats.column(ctx.complete, "task"), ctx.complete.num_rows)
        rows = []
        for task in ctx.order:
            mask = complete_tasks == task
            scored, kept = int(mask.sum()), int((ctx.kept & mask).sum())
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
    t = ctx.table
    splits = stats.counts_by_group(ctx.tasks, stats.strings(stats.column(t, "split"), ctx.n))
    by_source = stats.counts_by_group(ctx.tasks, ctx.sources)
    languages = stats.counts_by_group(ctx.tasks, stats.strings(stats.column(t, "language"), ctx.n))

    def listing(counter: Counter) -> str:
        known = Counter({k: v for k, v in counter.items() if k not in ("–", stats.MISSING)})
        return (
            " · ".join(f"{k} {fmt_int(v)}" for k, v in known.most_common(6)) + (" · …" if len(known) > 6 else "") or "–"
        )

    rows = [
        [
            _task_badge(ctx, task),
            fmt_int(sum(splits.get(task, Counter()).values())),
            listing(splits.get(task, Counter())),
            listing(by_source.get(task, Counter())),
            listing(languages.get(task, Counter())),
        ]
        for task in ctx.order
        if task in splits
    ]
    body = [_table(["task", "examples", "splits", "sources", "languages"], rows, {1})]
    backend = stats.strings(stats.column(t, "generation.backend"), ctx.n, missing="–")
    model = stats.strings(stats.column(t, "generation.model"), ctx.n, missing="–")
    finish = stats.strings(stats.column(t, "generation.finish_reason"), ctx.n, missing="–")
    truncated = np.nan_to_num(stats.numbers(stats.column(t, "generation.truncated"), ctx.n)) > 0
    key = np.array([f"{a}\x1f{b}\x1f{c}" for a, b, c in zip(ctx.tasks, backend, model)], dtype=object)
    finish_by = stats.counts_by_group(key, finish)
    gen_rows = []
    for k, n in sorted(
        stats.count_by(key).items(),
        key=lambda kv: (ctx.order.index(kv[0].split("\x1f")[0]) if kv[0].split("\x1f")[0] in ctx.order else 99, kv[0]),
    ):
        task, b, m = k.split("\x1f")
        gen_rows.append(
            [
                _task_badge(ctx, task),
                b,
                m,
                fmt_int(n),
                fmt_int(int(truncated[key == k].sum())),
                listing(finish_by.get(k, Counter())),
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


def labels_section(ctx: Context, clips: pa.Table) -> Markup:
    fields = [c.removeprefix("meta.") for c in clips.column_names
              if c.startswith("meta.") and c.removeprefix("meta.") not in stats.PROVENANCE_FIELDS]
    if not clips.num_rows or not fields:
        return section("labels", "Labels per source", None, note("No meta labels in this output."))
    source = stats.strings(clips.column("source"), clips.num_rows)
    source_order = [s for s, _ in stats.count_by(source).most_common()]
    figures = []
    empty = []
    for name in fields:
        values = stats.strings(clips.column(f"meta.{name}"), clips.num_rows)
        overall = stats.count_by(values)
        if set(overall) == {stats.MISSING}:
            empty.append(name)
            continue
        series = [k for k, _ in stats.top_with_other(overall)]
        per_source = stats.counts_by_group(source, values)
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
                f"{fmt_int(known)} of {fmt_int(clips.num_rows)} clips labelled "
                f"({fmt_pct(known, clips.num_rows)}); {len(overall) - (stats.MISSING in overall)} values.",
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


def durations_section(ctx: Context, clips: pa.Table) -> Markup:
    if not clips.num_rows:
        return section("durations", "Durations", None, note("No clips."))
    durations = stats.numbers(clips.column("duration_s"), clips.num_rows)
    source = stats.strings(clips.column("source"), clips.num_rows)
    order = [s for s, _ in stats.count_by(source).most_common()]
    hist = stats.histogram(durations, source, order)
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
    for s in order:
        summary = stats.summary(durations[source == s])
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
    words = stats.word_counts(ctx.table)
    chars = stats.char_counts(ctx.table)
    instruction_words = stats.word_counts(ctx.table, "instruction")
    figures, rows = [], []
    for task in ctx.order:
        mask = ctx.tasks == task
        if not mask.any():
            continue
        hist = stats.histogram(words[mask], ctx.tasks[mask], [task], bins=30, integer=True)
        s = stats.summary(words[mask])
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
        empty = int(np.sum(np.nan_to_num(words[mask]) == 0))
        rows.append(
            [
                _task_badge(ctx, task),
                fmt_int(int(mask.sum())),
                fmt_num(s.get("median")),
                f"{fmt_num(s.get('p5'))}–{fmt_num(s.get('p95'))}",
                fmt_num(s.get("max")),
                fmt_num(float(np.nanmean(chars[mask])) if np.isfinite(chars[mask]).any() else None),
                fmt_num(
                    float(np.nanmedian(instruction_words[mask])) if np.isfinite(instruction_words[mask]).any() else None
                ),
                fmt_int(empty),
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
    opening = stats.openings(ctx.table)
    blocks = []
    for item in stats.top_openings(ctx.tasks, opening, ctx.order):
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


def _domain_field(quality: stats.QualityColumns | None) -> str | None:
    """The quality column holding each example's domain (the curate scorer writes ``domain_label``)."""
    for name in DOMAIN_FIELDS:
        if quality is not None and name in quality.categorical and (quality.categorical[name] != stats.MISSING).any():
            return name
    return None


def domains_section(ctx: Context) -> Markup:
    view = ctx.quality
    quality = view.columns if view is not None else None
    field = _domain_field(quality)
    if field is None or view is None or quality is None:
        return section(
            "domains",
            "Domains",
            None,
            note(
                f"No {' or '.join('quality.' + f for f in DOMAIN_FIELDS)} column with values in this output: "
                "the domain distribution appears once the domain scorer has run."
            ),
        )
    domains = quality.categorical[field]
    overall = stats.count_by(domains)
    series = [k for k, _ in stats.top_with_other(overall, 10)]
    per_task = stats.counts_by_group(view.tasks, domains)
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
        f"quality.{field} per task, over {view.source_name}.",
        _figure(None, chart, None, svg.legend(series, colors)),
        _table(
            ["domain", "examples", "share"],
            [[k, fmt_int(v), fmt_pct(v, len(domains))] for k, v in overall.most_common(20)],
            {1, 2},
        ),
    )


def map_section(ctx: Context) -> Markup:
    if ctx.n < 3:
        return section("map", "Response map", None, note("Too few examples for a map."))
    rng = np.random.default_rng(ctx.seed)
    rows = projection.stratified_sample(ctx.tasks, ctx.order, projection.MAP_POINTS, rng)
    responses = stats.column(ctx.table, "response")
    texts = [
        t or "" for t in (responses.take(pa.array(rows)).to_pylist() if responses is not None else [""] * len(rows))
    ]
    embedding = load.embedding_column(ctx.parts)
    if embedding is not None:
        locations = list(
            zip(ctx.table.column("_part").to_numpy()[rows].tolist(), ctx.table.column("_row").to_numpy()[rows].tolist())
        )
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
    draw = rng.permutation(len(rows))  # interleave tasks so that none is painted over the others
    tasks = ctx.tasks[rows][draw]
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
        f"all {fmt_int(len(rows))} responses"
        if len(rows) == ctx.n
        else f"{fmt_int(len(rows))} of {fmt_int(ctx.n)} responses, sampled per task (seed {ctx.seed})"
    )
    present = [t for t in ctx.order if (ctx.tasks == t).any()]
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
    quality, quality_tasks, kept = view.columns, view.tasks, view.kept
    totals = {t: int((quality_tasks == t).sum()) for t in ctx.order}
    order = [t for t in ctx.order if totals[t]]
    masks = {t: quality_tasks == t for t in order}
    never = [name for name, v in {**quality.numeric, **quality.flags}.items() if not np.isfinite(v).any()]
    never += [name for name, v in quality.categorical.items() if not (v != stats.MISSING).any()]
    numeric = {name: v for name, v in quality.numeric.items() if np.isfinite(v).any()}
    body: list[Markup | None] = []

    figures = []
    for name, values in numeric.items():
        integer = stats.whole_numbers(values)
        if kept is not None:
            status = np.where(kept, "kept", "filtered out")
            hist = stats.histogram(values, status, ["kept", "filtered out"], bins=30, lower=None, integer=integer)
            names = [n for n, _ in hist.series] if hist else []
            colors = [svg.KEPT_COLOR if n == "kept" else svg.REJECTED_COLOR for n in names]
        else:
            hist = stats.histogram(values, quality_tasks, order, bins=30, lower=None, integer=integer)
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
        lead = "Green: kept in data/; red: filtered out by curation." if kept is not None else "Stacked by task."
        body += [el("p", lead, class_="intro"), el("div", figures, class_="grid three")]
    if numeric:
        rows = []
        for name, values in numeric.items():
            cells = []
            for task in order:
                s = stats.summary(values[masks[task]])
                cells.append(f"{fmt_num(s['median'])} ({fmt_num(s['p5'])}–{fmt_num(s['p95'])})" if s["n"] else "–")
            rows.append([f"quality.{name}", *cells])
        body += [el("h3", "Median (p5–p95) per task"), _table(["score", *order], rows)]

    flag_rows: list[tuple[int, list[Any]]] = []
    for name, values in quality.flags.items():
        if name in never:
            continue
        raised = {t: int(np.nansum(values[masks[t]])) for t in order}
        flag_rows.append((sum(raised.values()), [f"quality.{name}", *_rate_cells(raised, totals, order)]))
    for name, lists in quality.flag_lists.items():
        by_flag: dict[str, Counter] = {}
        for task, flags in zip(quality_tasks, lists):
            for flag in flags:
                by_flag.setdefault(flag, Counter())[task] += 1
        for flag, by_task in by_flag.items():
            flag_rows.append((sum(by_task.values()), [f"quality.{name}: {flag}", *_rate_cells(by_task, totals, order)]))
    for name, values in quality.categorical.items():
        if name.endswith(ERROR_SUFFIX) and name not in never:
            failed = {t: int((values[masks[t]] != stats.MISSING).sum()) for t in order}
            flag_rows.append((sum(failed.values()), [f"quality.{name}", *_rate_cells(failed, totals, order)]))
    if flag_rows:
        flag_rows.sort(key=lambda row: -row[0])
        body += [
            el("h3", "Yes/no fields and scorer errors (examples where true or failed, share of the task)"),
            _table(["flag", *order], [row for _, row in flag_rows]),
        ]

    text_rows = []
    for name, values in quality.categorical.items():
        if name.endswith(ERROR_SUFFIX) or name in never or name in DOMAIN_FIELDS:
            continue
        counter = stats.count_by(values[values != stats.MISSING])
        common = " · ".join(f"{shorten(k, 48)} ({fmt_int(v)})" for k, v in counter.most_common(4))
        text_rows.append([f"quality.{name}", fmt_int(sum(counter.values())), fmt_int(len(counter)), common])
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
    return section("quality", "Quality scores", f"Every field of the quality column, over {view.source_name}.", *body)


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
        total = int((ctx.tasks == task).sum())
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
