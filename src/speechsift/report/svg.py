"""Charts as inline SVG, drawn from numbers computed elsewhere: no plotting library, no scripts.

Every mark carries a ``<title>`` so that hovering shows the exact count. Text goes through
:func:`speechsift.report.html.el`, so labels taken from the data are escaped like everything else.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from speechsift.report.html import Markup, el, fmt_int, fmt_num, fmt_pct, shorten

# Observable's 10-colour categorical palette (observablehq.com/@d3/color-schemes, "observable10"):
# distinguishable for the common colour-vision deficiencies and on white.
PALETTE = (
    "#4269d0",
    "#efb118",
    "#ff725c",
    "#6cc5b0",
    "#3ca951",
    "#ff8ab7",
    "#a463f2",
    "#97bbf5",
    "#9c6b4e",
    "#9498a0",
)
MISSING_COLOR = "#dde1e6"  # "(missing)" segments: a label the clip does not have
OTHER_COLOR = "#aab1bb"  # "(other)" segments: values beyond the top ones
KEPT_COLOR = "#3ca951"
REJECTED_COLOR = "#e5484d"
GRID_COLOR = "#e6e8eb"
AXIS_COLOR = "#8a919c"
TEXT_COLOR = "#2b2f36"

ROW_HEIGHT = 24
BAR_HEIGHT = 15
CHAR_WIDTH = 6.6  # average width of a 12px sans-serif character, to fit labels into their column


def color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if not math.isfinite(lo) or not math.isfinite(hi):
        return [0.0]
    if hi - lo <= 1e-9 * max(1.0, abs(lo), abs(hi)):  # one value (or two a rounding error apart)
        hi = lo + 1.0
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(lo / step) * step
    # ticks counted, not added up: a step far below the values' magnitude never loops forever
    ticks = [round(start + i * step, 12) for i in range(math.ceil((hi - start) / step + 1e-9) + 1)]
    return [t for t in ticks if lo - step * 1e-9 <= t <= hi + step * 1e-9]


def axis_ticks(top: float, count: int = 4) -> list[float]:
    """Round ticks from 0 up to the first tick at or above ``top`` (so the tallest bar fits the axis)."""
    ticks = nice_ticks(0.0, top, count)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else max(top, 1.0)
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


def nice_ceiling(value: float) -> float:
    """The smallest "round" number >= value (1, 2, 2.5, 5 times a power of ten)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * magnitude >= value * (1 - 1e-12))


def _tick_label(value: float) -> str:
    if value == int(value):
        return fmt_int(value)
    return fmt_num(value)


def _svg(width: float, height: float, label: str, *children: Markup) -> Markup:
    return el(
        "svg",
        *children,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {width:.0f} {height:.0f}",
        width=f"{width:.0f}",
        height=f"{height:.0f}",
        class_="chart",
        role="img",
        aria_label=label,
    )


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", cls: str | None = None, title: str | None = None
) -> Markup:
    return el(
        "text", text, el("title", title) if title else None, x=f"{x:.1f}", y=f"{y:.1f}", text_anchor=anchor, class_=cls
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str | None = None) -> Markup:
    return el(
        "rect",
        el("title", title) if title else None,
        x=f"{x:.1f}",
        y=f"{y:.1f}",
        width=f"{max(w, 0.0):.1f}",
        height=f"{h:.1f}",
        fill=fill,
    )


def _label_width(rows: Sequence[tuple[str, object]]) -> int:
    longest = max((len(r[0]) for r in rows), default=4)
    return int(min(230, max(60, CHAR_WIDTH * longest + 16)))


def _label_chars(label_width: int) -> int:
    return max(4, int((label_width - 10) / CHAR_WIDTH))


def _ink(fill: str) -> str:
    """Text colour readable on ``fill`` (#rrggbb): white on dark fills, near-black on light ones."""
    r, g, b = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "#ffffff" if 0.299 * r + 0.587 * g + 0.114 * b < 150 else "#1f2328"


def legend(names: Sequence[str], colors: Sequence[str]) -> Markup:
    """An HTML legend: a swatch and a name per series."""
    items = [el("span", el("i", style=f"background:{c}"), name, class_="key") for name, c in zip(names, colors)]
    return el("div", items, class_="legend")


def hbar(
    rows: Sequence[tuple[str, float]],
    *,
    bar_color: str = PALETTE[0],
    width: int = 520,
    label_width: int | None = None,
    total: float | None = None,
    label: str = "bar chart",
) -> Markup:
    """Horizontal bars, one per (label, value), with the value (and its share of ``total``) at the end."""
    if label_width is None:
        label_width = _label_width(rows)
    value_width = 110 if total else 64
    span = max(width - label_width - value_width, 40)
    top = max((v for _, v in rows), default=0) or 1
    marks = []
    for i, (name, value) in enumerate(rows):
        y = i * ROW_HEIGHT
        share = f" ({fmt_pct(value, total)})" if total else ""
        w = span * value / top
        marks.append(_text(label_width - 8, y + 16, shorten(name, _label_chars(label_width)), anchor="end", title=name))
        marks.append(_rect(label_width, y + 4, w, BAR_HEIGHT, bar_color, f"{name}: {fmt_int(value)}{share}"))
        marks.append(_text(label_width + w + 6, y + 16, f"{fmt_int(value)}{share}", cls="value"))
    return _svg(width, max(len(rows), 1) * ROW_HEIGHT + 4, label, *marks)


def stacked_hbar(
    rows: Sequence[tuple[str, Sequence[float]]],
    series: Sequence[str],
    colors: Sequence[str],
    *,
    width: int = 720,
    label_width: int | None = None,
    annotations: Sequence[str] | None = None,
    annotation_width: int = 0,
    label: str = "stacked bar chart",
) -> Markup:
    """One 100%-stacked bar per row; segment ``j`` of a row is ``values[j]`` of series ``series[j]``."""
    if label_width is None:
        label_width = _label_width(rows)
    span = max(width - label_width - annotation_width - 8, 40)
    marks = []
    for i, (name, values) in enumerate(rows):
        y = i * ROW_HEIGHT
        total = float(sum(values))
        marks.append(_text(label_width - 8, y + 16, shorten(name, _label_chars(label_width)), anchor="end", title=name))
        x = float(label_width)
        if total <= 0:
            marks.append(_rect(x, y + 4, span, BAR_HEIGHT, MISSING_COLOR, f"{name}: none"))
        for value, series_name, fill in zip(values, series, colors):
            if value <= 0:
                continue
            w = span * value / total
            marks.append(
                _rect(
                    x, y + 4, w, BAR_HEIGHT, fill, f"{name} · {series_name}: {fmt_int(value)} ({fmt_pct(value, total)})"
                )
            )
            if w > 34:
                marks.append(
                    el(
                        "text",
                        fmt_pct(value, total, 0),
                        x=f"{x + w / 2:.1f}",
                        y=f"{y + 15.5:.1f}",
                        text_anchor="middle",
                        class_="inbar",
                        style=f"fill:{_ink(fill)}",
                    )
                )
            x += w
        if annotations:
            marks.append(_text(label_width + span + 8, y + 16, annotations[i], cls="value"))
    return _svg(width, max(len(rows), 1) * ROW_HEIGHT + 4, label, *marks)


def _axis_labels(xlabel: str, ylabel: str, *, xlabel_at: tuple[float, float], ylabel_y: float) -> list[Markup]:
    """The x label centred at ``xlabel_at``; the y label on its side, centred at height ``ylabel_y``."""
    marks = []
    if xlabel:
        marks.append(_text(*xlabel_at, xlabel, anchor="middle", cls="axis"))
    if ylabel:
        marks.append(
            el("text", ylabel, x="12", y=f"{ylabel_y:.1f}", text_anchor="middle", class_="axis",
               transform=f"rotate(-90 12 {ylabel_y:.1f})")
        )
    return marks


def histogram(
    edges: np.ndarray,
    series: Sequence[tuple[str, np.ndarray]],
    colors: Sequence[str],
    *,
    width: int = 520,
    height: int = 200,
    xlabel: str = "",
    ylabel: str = "count",
    overflow: bool = False,
    integer: bool = False,
    label: str = "histogram",
) -> Markup:
    """Bars over ``edges`` (len(counts) + 1), the series stacked; ``overflow`` marks the last bin as "and above".

    ``integer``: the bins hold whole numbers, edges at half-integers (titles name the whole numbers).
    """
    left, right, top, bottom = 64, 14, 10, 38
    plot_w, plot_h = width - left - right, height - top - bottom
    stacked = np.zeros(len(edges) - 1)
    for _, counts in series:
        stacked = stacked + np.asarray(counts, dtype=float)
    y_ticks = axis_ticks(float(stacked.max()) if stacked.size and stacked.max() > 0 else 1.0, 4)
    y_max = y_ticks[-1]
    x_lo, x_hi = float(edges[0]), float(edges[-1])
    x_span = (x_hi - x_lo) or 1.0

    def sx(v: float) -> float:
        return left + plot_w * (v - x_lo) / x_span

    def sy(v: float) -> float:
        return top + plot_h * (1 - v / y_max)

    marks = []
    for t in y_ticks:
        marks.append(
            el("line", x1=f"{left}", x2=f"{width - right}", y1=f"{sy(t):.1f}", y2=f"{sy(t):.1f}", stroke=GRID_COLOR)
        )
        marks.append(_text(left - 6, sy(t) + 4, _tick_label(t), anchor="end", cls="tick"))
    base = np.zeros(len(edges) - 1)
    for (name, counts), fill in zip(series, colors):
        counts = np.asarray(counts, dtype=float)
        for b in np.flatnonzero(counts > 0):
            lo, hi = float(edges[b]), float(edges[b + 1])
            upper = "+" if overflow and b == len(counts) - 1 else ""
            if integer:
                first, last = int(math.ceil(lo)), int(math.ceil(hi)) - 1
                span_text = f"{first}{upper}" if first == last else f"{first}–{last}{upper}"
            else:
                span_text = f"{fmt_num(lo)}–{fmt_num(hi)}{upper}"
            title = f"{name + ': ' if len(series) > 1 else ''}{span_text}: {fmt_int(counts[b])}"
            x0, x1 = sx(lo), sx(hi)
            marks.append(
                _rect(
                    x0 + 0.5,
                    sy(base[b] + counts[b]),
                    max(x1 - x0 - 1, 0.8),
                    sy(base[b]) - sy(base[b] + counts[b]),
                    fill,
                    title,
                )
            )
        base += counts
    marks.append(
        el("line", x1=f"{left}", x2=f"{width - right}", y1=f"{top + plot_h}", y2=f"{top + plot_h}", stroke=AXIS_COLOR)
    )
    x_ticks = nice_ticks(x_lo, x_hi, 6)
    if integer:
        x_ticks = [t for t in nice_ticks(math.ceil(x_lo), math.floor(x_hi), 6) if t == int(t) and x_lo <= t <= x_hi]
    for t in x_ticks:
        suffix = "+" if overflow and t >= x_hi else ""
        marks.append(
            el(
                "line",
                x1=f"{sx(t):.1f}",
                x2=f"{sx(t):.1f}",
                y1=f"{top + plot_h}",
                y2=f"{top + plot_h + 4}",
                stroke=AXIS_COLOR,
            )
        )
        marks.append(_text(sx(t), top + plot_h + 16, _tick_label(t) + suffix, anchor="middle", cls="tick"))
    marks += _axis_labels(xlabel, ylabel, xlabel_at=(left + plot_w / 2, height - 4), ylabel_y=top + plot_h / 2)
    return _svg(width, height, label, *marks)


def scatter(
    xy: np.ndarray,
    groups: np.ndarray,
    colors: Sequence[str],
    titles: Sequence[str] | None = None,
    *,
    width: int = 760,
    height: int = 520,
    xlabel: str = "",
    ylabel: str = "",
    label: str = "scatter plot",
) -> Markup:
    """Points ``xy`` (n x 2) coloured by ``groups`` (indices into ``colors``), drawn in the given order."""
    left, right, top, bottom = 20, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    marks = [_rect(left, top, plot_w, plot_h, "#fbfbfc")]
    if len(xy):
        lo = xy.min(axis=0)
        hi = xy.max(axis=0)
        span = np.where(hi - lo > 0, hi - lo, 1.0)
        pad = 0.03
        px = left + plot_w * (pad + (1 - 2 * pad) * (xy[:, 0] - lo[0]) / span[0])
        py = top + plot_h * (1 - pad - (1 - 2 * pad) * (xy[:, 1] - lo[1]) / span[1])
        for i in range(len(xy)):
            title = el("title", titles[i]) if titles is not None else None
            marks.append(el("circle", title, cx=f"{px[i]:.1f}", cy=f"{py[i]:.1f}", r="3", fill=colors[int(groups[i])]))
    marks += _axis_labels(xlabel, ylabel, xlabel_at=(left + plot_w / 2, height - 8), ylabel_y=top + plot_h / 2)
    return _svg(width, height, label, *marks)
