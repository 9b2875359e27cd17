"""``speechsift eval compare A B ... -o OUT``: several evaluated models in one page.

For each run after the first (the baseline, A), on the items both answered (matched by item id):
each metric's value side by side, the difference B − A with a paired bootstrap 95% interval (the
same resampled items for both, ``scoring.paired_difference``) and the share of resamples in which B
is better; and per item, wins / ties / losses of B against A on each metric's per-item value (for
corpus-level WER and CER the item's own rate; for QWK the item's absolute error). Written as
``OUT/compare.json`` and ``OUT/index.html``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from speechsift.errors import ConfigError
from speechsift.eval.scoring import BOOTSTRAP_SEED, metrics_in, paired_difference, spec
from speechsift.layout import atomic_write_text
from speechsift.report.html import el, fmt_int, fmt_num, fmt_pct
from speechsift.report.page import page, section
from speechsift.report.sections import _table

FIXED_COLUMNS = {"id", "task", "family", "language", "source", "instruction", "reference", "hypothesis", "failed",
                 "failure_reason", "failure_message", "metric_failures", "judge_score", "judge_reason",
                 "text_hypothesis", "input_audio", "output_audio", "request", "origin"}


def _load(run: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    summary_path, predictions_path = run / "summary.json", run / "predictions.parquet"
    if not summary_path.is_file() or not predictions_path.is_file():
        raise ConfigError(f"{run}: not an EVAL_OUT of `speechsift eval` (summary.json and predictions.parquet "
                          "are needed); run `speechsift eval DATA -o {run}` first.")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    rows = pq.read_table(predictions_path).to_pylist()
    items = {}
    for row in rows:
        scores = {k: v for k, v in row.items() if k not in FIXED_COLUMNS and v is not None}
        items[row["id"]] = {"task": row["task"], "failed": row["failed"], "scores": scores}
    return summary, items


def _per_item(metric: str, scores: dict[str, Any]) -> float | None:
    """The item's own value of ``metric`` (for wins/ties/losses)."""
    if metric.startswith(("qwk_", "mae_")):
        key = f"abs_error_{metric[4:]}"
    elif metric.startswith("if_strict_instruction"):
        followed, total = scores.get("if_followed" + metric[21:]), scores.get("if_instructions" + metric[21:])
        return None if followed is None or not total else followed / total
    else:
        key = metric
    value = scores.get(key)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _wins(metric: str, pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, int]:
    # items are ranked by their own value: QWK has none, so by the absolute error, like MAE
    higher = spec(metric).higher_is_better and not metric.startswith("qwk_")
    out = {"wins": 0, "ties": 0, "losses": 0}
    for a, b in pairs:
        va, vb = _per_item(metric, a), _per_item(metric, b)
        if va is None or vb is None:
            continue
        if math.isclose(va, vb, abs_tol=1e-12):
            out["ties"] += 1
        elif (vb > va) == higher:
            out["wins"] += 1
        else:
            out["losses"] += 1
    return out


def compare_pair(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]], samples: int,
                 levels: dict[str, int]) -> dict[str, Any]:
    common = [i for i in a if i in b and not a[i]["failed"] and not b[i]["failed"]]
    scopes: dict[str, list[str]] = {"overall": common}
    for item_id in common:
        scopes.setdefault(a[item_id]["task"], []).append(item_id)
    out: dict[str, Any] = {"common_items": len(common), "scopes": {}}
    for scope, ids in scopes.items():
        pairs = [(a[i]["scores"], b[i]["scores"]) for i in ids]
        metrics = list(dict.fromkeys(m for sa, sb in pairs for m in metrics_in(sa) + metrics_in(sb)))
        entry = {}
        for metric in metrics:
            result = paired_difference(metric, [p[0] for p in pairs], [p[1] for p in pairs], samples=samples,
                                       seed=BOOTSTRAP_SEED, levels=levels)
            result.update(_wins(metric, pairs))
            entry[metric] = result
        out["scopes"][scope] = entry
    return out


def _diff_cell(result: dict[str, Any]) -> str:
    if result.get("difference") is None:
        return "–"
    ci = result.get("ci95")
    text = f"{result['difference']:+.4g}"
    return f"{text} [{ci[0]:+.3g}, {ci[1]:+.3g}]" if ci else text


def compare_runs(runs: list[Path], out: Path, samples: int = 1000) -> Path:
    if len(runs) < 2:
        raise ConfigError("eval compare: give two or more EVAL_OUT folders.")
    loaded = [_load(run) for run in runs]
    names = []
    for run, (summary, _items) in zip(runs, loaded):
        name = summary["model"].get("model") or run.name
        names.append(name if name not in names else f"{name} ({run.name})")
    levels = loaded[0][0].get("controllable_levels") or {}
    baseline = loaded[0][1]
    comparisons = {names[k]: compare_pair(baseline, items, samples, levels) for k, (_s, items) in
                   enumerate(loaded) if k > 0}
    report = {"runs": [{"name": n, "path": str(r), "items": s["items"], "failed": s["failed"]}
                       for n, r, (s, _i) in zip(names, runs, loaded)],
              "baseline": names[0], "bootstrap": {"samples": samples, "seed": BOOTSTRAP_SEED, "paired": True},
              "overall": {n: s["overall"]["metrics"] for n, (s, _i) in zip(names, loaded)},
              "comparisons": comparisons}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "compare.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out / "index.html", render(report, loaded, names))
    return out / "index.html"


def render(report: dict[str, Any], loaded: list[tuple[dict[str, Any], Any]], names: list[str]) -> str:
    metrics = list(dict.fromkeys(m for s, _ in loaded for m in s["overall"]["metrics"] if "." not in m))
    side_rows = []
    for metric in metrics:
        row = [metric]
        for summary, _items in loaded:
            value = summary["overall"]["metrics"].get(metric)
            row.append("–" if not value or value["value"] is None else fmt_num(value["value"], 4))
        side_rows.append(row)
    sections = [section("models", "Models", f"Baseline: {names[0]}. Failed items are excluded from the paired "
                        "comparisons (each run's own failures are in its summary).",
                        _table(["run", "items", "failed"], [[r["name"], fmt_int(r["items"]), fmt_int(r["failed"])]
                                                           for r in report["runs"]], {1, 2}),
                        _table(["metric", *names], side_rows, set(range(1, len(names) + 1)), {0: "code"}))]
    for name, comparison in report["comparisons"].items():
        blocks = []
        for scope, entry in comparison["scopes"].items():
            rows = []
            for metric, result in entry.items():
                decided = result["wins"] + result["losses"] + result["ties"]
                rows.append([metric, fmt_num(result["a"], 4), fmt_num(result["b"], 4), _diff_cell(result),
                             "–" if result["p_b_better"] is None else fmt_pct(result["p_b_better"], 1),
                             fmt_int(result["wins"]), fmt_int(result["ties"]), fmt_int(result["losses"]),
                             fmt_int(decided)])
            blocks.append(el("h3", scope))
            blocks.append(_table(["metric", names[0], name, "B − A [95% paired]", "B better", "wins", "ties",
                                  "losses", "items"], rows, set(range(1, 9)), {0: "code"}))
        sections.append(section(f"vs-{names.index(name)}", f"{name} vs {names[0]}",
                                f"{comparison['common_items']:,} items answered by both.", *blocks))
    top = el("header", el("div", el("h1", "speechsift eval compare"), el("p", " · ".join(names)), class_="wrap"),
             class_="top")
    nav = [("models", "Models")] + [(f"vs-{k}", n) for k, n in enumerate(names) if k > 0]
    return page("speechsift eval compare", top, nav, sections, el("span", "speechsift eval compare"))
