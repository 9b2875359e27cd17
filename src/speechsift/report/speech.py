"""The report's speech-suitability section (Speechworthy, REFERENCE.md §4): per task, the measures
that tell whether a response works when heard (words, Flesch reading ease, unspeakable characters
and list markers, mean dependency depth when spaCy could parse), and the head-to-head win rates of
the response strategies (and configurations) in the judged preference pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from speechsift.report.html import Markup, el, fmt_int, fmt_num, fmt_pct
from speechsift.report.page import note, section

MEASURES = (  # quality column, heading
    ("length_words", "words"),
    ("readability_flesch", "Flesch reading ease"),
    ("speech_unspeakable", "unspeakable chars + list markers"),
    ("speech_dependency_depth", "mean dependency depth"),
)


def _outcomes(preferences: Counter, winner: int, loser: int) -> Iterator[tuple[str, str]]:
    """``(winner, loser)`` of every judged pair, from the pairs' outcomes counted."""
    for key, n in preferences.items():
        for _ in range(n):
            yield key[winner], key[loser]


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


def speech_section(ctx: Any) -> Markup:
    blocks: list[Markup] = []
    quality = ctx.quality
    if quality is not None:
        shown = [(name, title) for name, title in MEASURES if name in quality.numeric_fields]
        rows = []
        for task in ctx.order:
            if not quality.totals.get(task):
                continue
            cells = [task]
            for name, _ in shown:
                values = quality.series(name, task=task)
                cells.append(fmt_num(values.sum / values.n, 1) if values.n else "\u2013")
            rows.append(cells)
        head = el("tr", [el("th", "task"), *[el("th", title, class_="n") for _, title in shown]])
        body = [el("tr", [el("td", c, class_="n" if i else None) for i, c in enumerate(r)]) for r in rows]
        blocks.append(el("div", el("table", el("thead", head), el("tbody", body)), class_="scroll"))
        if "speech_dependency_depth" not in quality.numeric_fields:
            blocks.append(note("Mean dependency depth is left out: it needs spaCy with an English pipeline "
                               "(e.g. en_core_web_sm) installed, which is not the case for this output."))
    else:
        blocks.append(note("No quality column: add a curate section to measure speech suitability."))
    preferences = ctx.stats.preferences  # (chosen strategy, rejected strategy, chosen config, rejected config, margin)
    if preferences:
        strategies = win_rates(_outcomes(preferences, 0, 1))
        configs = win_rates(_outcomes(preferences, 2, 3))
        margins: Counter = Counter()
        for key, n in preferences.items():
            margins[key[4]] += n
        blocks += [
            el("h3", "Head-to-head: strategies"),
            _matrix(strategies, "strategy") if strategies else note("No pair compared two strategies."),
            el("h3", "Head-to-head: configurations (LLM / strategy / temperature)"),
            _matrix(configs, "configuration"),
            el("p", f"{fmt_int(sum(preferences.values()))} judged pairs; margins: "
                    + ", ".join(f"{m}: {fmt_int(n)}" for m, n in sorted(margins.items(), key=lambda kv: str(kv[0])))),
        ]
    return section(
        "speech",
        "Speech suitability",
        "What a listener meets: length, reading ease, what a voice cannot say, sentence structure; and which "
        "response strategies won the judged preference pairs (a cell is how often the row beat the column).",
        *blocks,
    )
