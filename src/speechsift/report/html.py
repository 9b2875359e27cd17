"""Building HTML (and inline SVG) where text is escaped unless it is already markup.

Every string that reaches the page goes through :func:`el` or :func:`escape`; only values typed
:class:`Markup` (built by these helpers) pass unchanged. A transcript holding ``<script>`` is
therefore shown as text, never parsed as a tag, and no call site has to remember to escape.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

VOID_TAGS = frozenset({"area", "br", "col", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


class Markup(str):
    """A string that is already safe HTML."""

    __slots__ = ()


def escape(value: Any) -> Markup:
    """``value`` as HTML text (quotes included, so it is safe inside attributes too)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def _attr_name(name: str) -> str:
    """``class_`` -> ``class``, ``data_task`` -> ``data-task``; ``viewBox`` stays as written."""
    return name.rstrip("_").replace("_", "-")


def _attrs(attrs: dict[str, Any]) -> str:
    out = []
    for name, value in attrs.items():
        if value is None or value is False:
            continue
        if value is True:
            out.append(f" {_attr_name(name)}")
        else:
            out.append(f' {_attr_name(name)}="{escape(value)}"')
    return "".join(out)


def join(parts: Iterable[Any], sep: str = "") -> Markup:
    """Markup of ``parts`` in order; plain strings among them are escaped."""
    return Markup(sep.join(escape(p) for p in parts if p is not None))


def el(tag: str, *children: Any, **attrs: Any) -> Markup:
    """``<tag attrs>children</tag>``; children may be strings (escaped), markup, lists or None."""
    opening = f"<{tag}{_attrs(attrs)}>"
    if tag in VOID_TAGS:
        return Markup(opening)
    inner = []
    for child in children:
        if child is None:
            continue
        if isinstance(child, (list, tuple)):
            inner.append(join(child))
        else:
            inner.append(escape(child))
    return Markup(f"{opening}{''.join(inner)}</{tag}>")


def fmt_int(n: float | None) -> str:
    """``12345`` -> ``12,345``; None -> an en dash."""
    return "–" if n is None else f"{int(round(n)):,}"


def fmt_num(x: float | None, digits: int = 3) -> str:
    """A short human rendering of a float: 3 significant digits, thousands separators when large."""
    if x is None or x != x:
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}"


def fmt_hours(hours: float) -> str:
    """An amount of audio: ``"42 s"``, ``"3.5 min"``, ``"12.3 h"``, ``"1,234 h"``."""
    seconds = hours * 3600
    if seconds < 90:
        return f"{seconds:.0f} s"
    if hours < 1.5:
        return f"{seconds / 60:.1f} min"
    return f"{hours:,.1f} h" if hours < 1000 else f"{hours:,.0f} h"


def fmt_pct(part: float, whole: float, digits: int = 1) -> str:
    return "–" if not whole else f"{100.0 * part / whole:.{digits}f}%"


def shorten(text: str | None, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"
