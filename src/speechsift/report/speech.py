"""The report's speech-suitability section (Speechworthy, REFERENCE.md §4): per task, the measures
that tell whether a response works when heard (words, Flesch reading ease, unspeakable characters
and list markers, mean dependency depth when spaCy could parse), and the head-to-head win rates of
the response strategies (and configurations) in the judged preference pairs.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from speechsift.report import stats
from speechsift.report.html import Markup, el, fmt_int, fmt_num, fmt_pct
from speechsift.report.page import note, section

MEASURES = (  # quality column, heading
    ("length_words", "words"),
    ("readability_flesch", "Flesch reading ease"),
    ("speech_unspeakable", "unspeakable chars + list markers"),
    ("speech_dependency_depth", "mean dependency depth"),
)


def win_rates(outcomes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """``(a, b) -> (wins of a over b, comparisons of a and b)`` from ``(winner, loser)`` outcomes;
    comparisons of a thing with itself are left out."""
    wins: Counter = Counter()
    for winner, loser in outcomes:
        if winner != loser:
            wins[(winner, loser)] += 1
    rates = {}
    for a, b in {tuple(sorted(k)) for k in wins}:
        total = wins[(a, b)] + wins[(b, a)]
        rates[(a, b)] = (wins[(a, b)], total)
        rates[(b, a)] = (wins[(b, a)], total)
    return rates


def _matrix(rates: dict[tuple[str, str], tuple[int, int]], title: str) -> Markup:
    names = sorted({a for a, _ in rates})
    head = el("tr", [el("th", f"{title} \u2193 beats \u2192"), *[el("th", n, class_="n") for n in names]])
    rows = []
    for a in names:
        cells = [el("td", a)]
        for b in names:
            won, total = rates.get((a, b), (0, 0))
            cells.append(el("td", f"{fmt_pct(won, total, 0)} ({won}/{total})" if total else "\u2013", class_="n"))
        rows.append(el("tr", cells))
    return el("div", el("table", el("thead", head), el("tbody", rows)), class_="scroll")


def _extras(ctx: Any) -> list[dict[str, Any]]:
    column = stats.column(ctx.table, "extra")
    if column is None:
        return []
    return [json.loads(value) if value else {} for value in column.to_pylist()]


def speech_section(ctx: Any) -> Markup:
    blocks: list[Markup] = []
    view = ctx.quality
    if view is not None:
        quality, tasks = view.columns, view.tasks
        shown = [(name, title) for name, title in MEASURES if name in quality.numeric]
        rows = []
        for task in ctx.order:
            mask = tasks == task
            if not mask.any():
                continue
            cells = [task]
            for name, _ in shown:
                values = quality.numeric[name][mask]
                values = values[np.isfinite(values)]
                cells.append(fmt_num(float(values.mean()), 1) if values.size else "\u2013")
            rows.append(cells)
        head = el("tr", [el("th", "task"), *[el("th", title, class_="n") for _, title in shown]])
        body = [el("tr", [el("td", c, class_="n" if i else None) for i, c in enumerate(r)]) for r in rows]
        blocks.append(el("div", el("table", el("thead", head), el("tbody", body)), class_="scroll"))
        if "speech_dependency_depth" not in quality.numeric:
            blocks.append(note("Mean dependency depth is left out: it needs spaCy with an English pipeline "
                               "(e.g. en_core_web_sm) installed, which is not the case for this output."))
    else:
        blocks.append(note("No quality column: add a curate section to measure speech suitability."))
    extras = _extras(ctx)
    preferences = [e for e in extras if "chosen_config" in e and "rejected_config" in e]
    if preferences:
        strategies = win_rates((e.get("chosen_strategy", "?"), e.get("rejected_strategy", "?")) for e in preferences)
        configs = win_rates((e["chosen_config"], e["rejected_config"]) for e in preferences)
        margins = Counter(e.get("margin") for e in preferences)
        blocks += [
            el("h3", "Head-to-head: strategies"),
            _matrix(strategies, "strategy") if strategies else note("No pair compared two strategies."),
            el("h3", "Head-to-head: configurations (LLM / strategy / temperature)"),
            _matrix(configs, "configuration"),
            el("p", f"{fmt_int(len(preferences))} judged pairs; margins: "
                    + ", ".join(f"{m}: {fmt_int(n)}" for m, n in sorted(margins.items(), key=lambda kv: str(kv[0])))),
        ]
    return section(
        "speech",
        "Speech suitability",
        "What a listener meets: length, reading ease, what a voice cannot say, sentence structure; and which "
        "response strategies won the judged preference pairs (a cell is how often the row beat the column).",
        *blocks,
    )
