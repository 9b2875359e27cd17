"""``EVAL_OUT/report/index.html``: the eval report, a static page that opens from disk (no script, no
network; the run report's page, escaping and charts: ``speechsift.report``).

Sections: the summary (items, failures, overall metrics with intervals), metrics per task and per
language, the judge's score distribution, failures by reason, and the worst items of each task with
audio players and the hypothesis beside the reference. The page is rebuilt from ``summary.json``
and ``predictions.parquet`` alone.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from speechsift.report import svg
from speechsift.report.html import Markup, el, fmt_int, fmt_num
from speechsift.report.page import note, page, section
from speechsift.report.samples import safe_stem, write_audio
from speechsift.report.sections import _cards, _figure, _table, _text_block

NAV = [("summary", "Summary"), ("tasks", "Tasks"), ("languages", "Languages"), ("judge", "Judge"),
       ("failures", "Failures"), ("worst", "Worst items")]
# Per family: the per-item column that ranks items from worst, and whether low values are bad.
WORST_BY = {"transcription": ("wer", False), "answer_extraction": ("f1", True), "closed_ended": ("accuracy", True),
            "closed_ended_judged": ("judge_accuracy", True), "open_ended": ("judge_score", True),
            "constrained": ("if_strict_prompt", True), "speech_ifeval": ("if_strict_prompt", True)}


def metric_cell(value: dict[str, Any]) -> str:
    if value.get("value") is None:
        return "–"
    ci = value.get("ci95")
    text = fmt_num(value["value"], 4)
    return f"{text} [{fmt_num(ci[0], 3)}, {fmt_num(ci[1], 3)}]" if ci else text


def metrics_table(groups: dict[str, dict[str, Any]], label: str) -> Markup:
    rows = []
    for name, group in groups.items():
        for metric, value in group["metrics"].items():
            rows.append([name, metric, metric_cell(value), fmt_int(value["n"]), fmt_int(value["failed"])])
    return _table([label, "metric", "value [95% interval]", "n", "failed"], rows, numeric={3, 4},
                  classes={1: "code"})


def _worst(table: dict[str, list[Any]], family: str, rows: list[int]) -> list[int]:
    column, low_is_bad = WORST_BY.get(family, ("", True))
    values = table.get(column)

    def key(i: int) -> tuple[int, float]:
        if table["failed"][i]:
            return (0, 0.0)
        value = values[i] if values is not None else None
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (1, 0.0)
        return (2, value if low_is_bad else -value)

    return sorted(rows, key=key)


def item_card(table: dict[str, list[Any]], i: int, report_dir: Path, out_dir: Path) -> Markup:
    players = []
    for k, path in enumerate(table["input_audio"][i] or []):
        audio = write_audio({"path": path, "bytes": None}, f"{safe_stem(table['id'][i])}-{k}", report_dir / "audio",
                            out_dir)
        if audio.href:
            players.append(el("audio", controls=True, preload="metadata", src=audio.href))
        if audio.note:
            players.append(el("div", audio.note, class_="warn"))
    if table["output_audio"][i]:
        audio = write_audio({"path": table["output_audio"][i], "bytes": None}, f"{safe_stem(table['id'][i])}-out",
                            report_dir / "audio", out_dir)
        players.append(el("div", "the model's audio", class_="label"))
        if audio.href:
            players.append(el("audio", controls=True, preload="metadata", src=audio.href))
    scores = [el("span", el("b", f"{k} "), fmt_num(table[k][i], 3), class_="chip")
              for k in table["_scores"] if table[k][i] is not None]
    failure = None
    if table["failed"][i]:
        failure = el("div", f"failed: {table['failure_reason'][i]} — {table['failure_message'][i] or ''}", class_="warn")
    metric_failures = json.loads(table["metric_failures"][i]) if table["metric_failures"][i] else {}
    chips = scores + [el("span", f"{m}: {v['reason']}", class_="chip flag") for m, v in metric_failures.items()]
    side = el("div", el("div", table["id"][i], class_="id"),
              el("div", " · ".join(str(v) for v in (table["task"][i], table["language"][i], table["source"][i]) if v)),
              players, el("div", chips, class_="chips"), class_="side")
    body = el("div", _text_block("instruction", table["instruction"][i]),
              _text_block("hypothesis", table["hypothesis"][i], "response",
                          empty="(no text: see the audio above)" if table["output_audio"][i] else "(none)"),
              _text_block("reference", table["reference"][i]),
              _text_block("judge's reason", table["judge_reason"][i]) if table["judge_reason"][i] else None,
              failure, class_="body")
    return el("div", side, body, class_="sample dropped" if table["failed"][i] else "sample")


def judge_section(table: dict[str, list[Any]]) -> Markup:
    figures = []
    for column, top in (("judge_score", 10), ("judge_accuracy", 1), ("if_cot", 1)):
        values = np.array([v for v in table.get(column, []) if v is not None], dtype=float)
        if values.size == 0:
            continue
        edges = np.arange(-0.5, top + 1.0, 1.0)
        counts, _ = np.histogram(values, bins=edges)
        chart = svg.histogram(edges, [(column, counts)], [svg.PALETTE[0]], xlabel=column, integer=True,
                              label=f"{column} distribution")
        figures.append(_figure(f"{column} ({values.size:,} verdicts, mean {fmt_num(values.mean(), 3)})", chart))
    if not figures:
        return section("judge", "Judge", None, note("No judge verdicts in this run (no judge was given, or no task "
                                                    "needed one)."))
    return section("judge", "Judge", "How the judge scored the model's answers.", el("div", figures, class_="grid"))


def build_eval_report(out_dir: Path, worst_items: int = 20) -> Path:
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    predictions = pq.read_table(out_dir / "predictions.parquet")
    table = predictions.to_pydict()
    fixed = {"id", "task", "family", "language", "source", "instruction", "reference", "hypothesis", "failed",
             "failure_reason", "failure_message", "metric_failures", "judge_score", "judge_reason", "text_hypothesis",
             "input_audio", "output_audio", "request", "origin"}
    table["_scores"] = [c for c in predictions.column_names if c not in fixed and "." not in c]
    built = out_dir / ".report-build"
    shutil.rmtree(built, ignore_errors=True)
    (built / "audio").mkdir(parents=True)
    overall = summary["overall"]
    cards = _cards([("items", fmt_int(summary["items"]), None), ("answered", fmt_int(summary["answered"]), None),
                    ("failed", fmt_int(summary["failed"]),
                     ", ".join(f"{r} {n}" for r, n in summary["failures"].items()) or None),
                    ("tasks", fmt_int(len(summary["tasks"])), None)])
    notes = [note(text) for text in summary.get("notes", [])]
    ifeval = summary.get("speech_ifeval")
    ifeval_block = None
    if ifeval:
        rows = [[name, metric_cell(value), fmt_int(value.get("n"))] for name, value in ifeval.items()]
        ifeval_block = el("div", el("h3", "Speech-IFEval"), _table(["measure", "value [95% interval]", "n"], rows, {2}))
    sections = [
        section("summary", "Summary", "Each metric with its 95% bootstrap interval; n items scored, failed items "
                "counted apart (never as wrong).", cards, *notes, metrics_table({"overall": overall}, "scope"),
                ifeval_block),
        section("tasks", "Tasks", None, metrics_table(summary["tasks"], "task")),
        section("languages", "Languages", None, metrics_table(summary["languages"], "language")),
        judge_section(table),
    ]
    failure_rows = [[r, fmt_int(n)] for r, n in summary["failures"].items()]
    failure_rows += [[f"{r} (a metric)", fmt_int(n)] for r, n in summary.get("metric_failures", {}).items()]
    sections.append(section("failures", "Failures", "Every failure is also in rejects.jsonl with its message.",
                            _table(["reason", "items"], failure_rows, {1}) if failure_rows else el("p", "None.")))
    worst = []
    for task in summary["tasks"]:
        rows = [i for i, t in enumerate(table["task"]) if t == task]
        chosen = _worst(table, table["family"][rows[0]], rows)[:worst_items]
        cards_ = [item_card(table, i, built, out_dir) for i in chosen]
        worst.append(el("details", el("summary", task, el("span", f"{len(chosen)} of {len(rows)}", class_="count")),
                        cards_, class_="samples-task", open=True))
    sections.append(section("worst", "Worst items", "Failed items first, then the lowest scores of each task.", worst))
    model = summary["model"]
    top = el("header", el("div", el("h1", "speechsift eval ", el("span", model.get("model") or "")),
                          el("p", f"{summary['data']} · split {summary['split']} · backend {model['backend']}"),
                          class_="wrap"), class_="top")
    html = page(f"speechsift eval: {model.get('model')}", top, NAV, sections,
                Markup(f"speechsift eval · {summary['items']:,} items"))
    (built / "index.html").write_text(html, encoding="utf-8")
    target = out_dir / "report"
    shutil.rmtree(target, ignore_errors=True)
    built.rename(target)
    return target / "index.html"
