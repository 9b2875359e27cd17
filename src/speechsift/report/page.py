"""The page around the sections: head, inline stylesheet, navigation, footer.

The page has no script and loads nothing from the network: a Content-Security-Policy in the head
allows inline styles, data: images and audio files next to the page, and forbids every script, so
text from the data could never run even if it escaped the escaping.
"""

from __future__ import annotations

from collections.abc import Sequence

from speechsift.report.html import Markup, el

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; media-src 'self' file:; "
    "script-src 'none'; base-uri 'none'; form-action 'none'"
)

STYLE = """
:root{--fg:#1f2328;--muted:#5c6370;--line:#e3e6ea;--bg:#f4f5f7;--card:#fff;--accent:#4269d0;--soft:#f6f7f9}
*{box-sizing:border-box}
html{scroll-padding-top:52px}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",Arial,sans-serif;
 color:var(--fg);background:var(--bg)}
header.top{background:#1e2b48;color:#fff;padding:22px 0 18px}
header.top .wrap,nav .wrap,main{max-width:1240px;margin:0 auto;padding-left:28px;padding-right:28px}
header.top h1{margin:0;font-size:23px;font-weight:650;letter-spacing:-.01em}
header.top h1 span{color:#9fb3e0;font-weight:500}
header.top p{margin:4px 0 0;color:#c8d2e8}
header.top .facts{margin-top:8px;font-size:12.5px;color:#a9b6d3}
nav{position:sticky;top:0;z-index:5;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line)}
nav .wrap{display:flex;gap:4px 18px;flex-wrap:wrap;padding-top:9px;padding-bottom:9px}
nav a{color:var(--muted);text-decoration:none;font-weight:550;font-size:13px}
nav a:hover{color:var(--accent)}
main{padding-top:6px;padding-bottom:60px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px 20px;margin:18px 0}
section>h2{margin:0 0 2px;font-size:18px;font-weight:650}
h3{font-size:14.5px;margin:18px 0 6px;font-weight:650}
h3:first-child{margin-top:6px}
p.intro{color:var(--muted);margin:0 0 14px;max-width:880px}
a{color:var(--accent)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:12px;margin:2px 0}
.card{background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:10px 14px}
.card .v{font-size:23px;font-weight:650;font-variant-numeric:tabular-nums}
.card .k{color:var(--muted);font-size:11.5px;text-transform:uppercase;letter-spacing:.05em;font-weight:600}
.card .d{color:var(--muted);font-size:12px}
table{border-collapse:collapse;font-size:13px;margin:4px 0 6px}
th,td{padding:4px 12px 4px 0;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;padding-left:12px}
td.code{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
td.msg{color:var(--muted);max-width:560px;word-break:break-word}
.scroll{overflow-x:auto}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:18px 28px}
.grid.wide{grid-template-columns:repeat(auto-fill,minmax(500px,1fr))}
.grid.three{grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px 22px}
figure{margin:0 0 6px}
figure h4{margin:0 0 4px;font-size:13.5px;font-weight:650}
figcaption{color:var(--muted);font-size:12.5px;margin-top:4px;max-width:880px}
svg.chart{max-width:100%;height:auto;display:block;overflow:visible}
svg.chart text{font-size:12px;fill:#2b2f36}
svg.chart text.tick{fill:#6b7280;font-size:11px}
svg.chart text.axis{fill:#4b5563;font-size:12px}
svg.chart text.value{fill:#4b5563;font-size:11.5px}
svg.chart text.inbar{font-size:10.5px;font-weight:650;pointer-events:none}
svg.chart circle{fill-opacity:.62}
svg.chart rect:hover,svg.chart circle:hover{stroke:#1f2328;stroke-width:1}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;margin:2px 0 8px}
.legend .key i{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:5px;vertical-align:-1px}
.note{background:#fff8e6;border:1px solid #f1d9a0;border-radius:6px;padding:8px 12px;color:#5f4500;margin:8px 0;
 font-size:13px}
.ok{color:#2f7d3b}
.warn{color:#b4231f}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;font-weight:650;color:#fff}
.chip{display:inline-block;background:#eef1f5;border-radius:4px;padding:1px 7px;margin:2px 4px 2px 0;font-size:12px}
.chip b{font-weight:600;color:#5c6370}
.chip.flag{background:#fde7e7;color:#9b1c1c}
.chip.missing{color:#9aa1ab}
.chip.ok{background:#e7f5ea;color:#2f7d3b}
.share{display:inline-block;height:9px;border-radius:2px;vertical-align:middle}
.opening-task{margin-bottom:8px}
.opening-task table{width:100%}
.samples-task{margin:10px 0 22px}
.samples-task>summary{cursor:pointer;font-size:15px;font-weight:650;padding:6px 0;list-style-position:outside}
.samples-task>summary .count{color:var(--muted);font-weight:500;font-size:13px;margin-left:6px}
.sample{border:1px solid var(--line);border-left:4px solid var(--accent);border-radius:8px;padding:12px 16px;
 margin:10px 0;display:grid;grid-template-columns:minmax(240px,320px) 1fr;gap:8px 22px}
.sample.dropped{border-left-color:#e5484d;background:#fffafa}
.sample .side{font-size:12.5px;color:var(--muted);min-width:0}
.sample .side .id{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;color:var(--fg);font-size:12px;
 word-break:break-all}
.sample .side>div{margin:2px 0}
.sample .side .chips{margin-top:6px}
.sample audio{width:100%;height:34px;margin:0 0 6px;display:block}
.sample .body{min-width:0}
.sample .label{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);font-weight:650}
.sample .text{white-space:pre-wrap;word-break:break-word;background:var(--soft);border:1px solid #eceef1;
 border-radius:6px;padding:7px 10px;margin:2px 0 9px;font-size:13.5px}
.sample .text.response{background:#f3f6fd;border-color:#e1e8f8}
.sample .empty{color:#9aa1ab;font-style:italic}
.sample details{font-size:12.5px;margin-top:4px}
.sample details summary{cursor:pointer;color:var(--muted)}
.sample details pre{white-space:pre-wrap;word-break:break-word;background:var(--soft);padding:8px 10px;
 border-radius:6px;font-size:12px;max-height:340px;overflow:auto}
footer{color:var(--muted);font-size:12px;text-align:center;padding:10px 0 30px}
@media (max-width:760px){.sample{grid-template-columns:1fr}.grid,.grid.wide{grid-template-columns:1fr}}
"""


def section(anchor: str, title: str, intro: str | Markup | None, *body: Markup | None) -> Markup:
    return el("section", el("h2", title), el("p", intro, class_="intro") if intro else None, *body, id=anchor)


def note(*text: str | Markup) -> Markup:
    return el("div", *text, class_="note")


def page(title: str, header: Markup, nav: Sequence[tuple[str, str]], sections: Sequence[Markup], footer: Markup) -> str:
    head = el(
        "head",
        el("meta", charset="utf-8"),
        el("meta", http_equiv="Content-Security-Policy", content=CSP),
        el("meta", name="viewport", content="width=device-width, initial-scale=1"),
        el("meta", name="generator", content="speechsift report"),
        el("title", title),
        el("style", Markup(STYLE)),
    )
    links = el("nav", el("div", [el("a", label, href=f"#{anchor}") for anchor, label in nav], class_="wrap"))
    body = el("body", header, links, el("main", *sections), el("footer", footer))
    return "<!DOCTYPE html>\n" + el("html", head, body, lang="en") + "\n"
