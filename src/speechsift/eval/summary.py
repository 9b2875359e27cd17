"""``summary.json``: every metric per task, per language and overall, with ``n``, ``failed`` and a
bootstrap 95% interval (``scoring.aggregate``); Speech-IFEval's IF rate and forgetting.

``failed`` counts the items that should have had the metric but have no value for it: the model
failed (the reason is in ``predictions.parquet`` and ``rejects.jsonl``), or the metric itself could
not be computed (``judge_unparseable``, an unmeasurable audio, ...). Failed items are never counted
as wrong, and never dropped: ``n + failed`` is the number of items the metric applies to.

Speech-IFEval (Lu et al.): the IF rate is the mean of the closed-ended, creative-writing and
chain-of-thought rates (prompt-level strict for the first two, the judge's YES for the third);
``forgetting`` is the relative change from the text backbone given the textual audio description
to the speech model, in percent ((speech - text) / text x 100), over the items both answered.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from speechsift.eval.items import SPEECH_IFEVAL
from speechsift.eval.scoring import aggregate, metrics_in

IFEVAL_SUBSETS = ("closed_ended", "creative_writing", "chain_of_thought")


def group_summary(outcomes: list[Any], samples: int, seed: int, levels: dict[str, int]) -> dict[str, Any]:
    """Every metric of ``outcomes`` in one pass over them: the items that have it, and the items that
    should have had it but failed (the model, or the metric itself)."""
    scored: dict[str, list[dict[str, Any]]] = {}
    failed: Counter = Counter()
    for o in outcomes:
        present = metrics_in(o.scores)
        for metric in present:
            scored.setdefault(metric, []).append(o.scores)
        for metric in dict.fromkeys((*o.expected, *o.failures)):
            scored.setdefault(metric, [])
            if metric not in present and (o.failure is not None or metric in o.failures):
                failed[metric] += 1
    metrics = {metric: aggregate(metric, rows, failed[metric], samples=samples, seed=seed, levels=levels)
               for metric, rows in scored.items()}
    return {"n": len(outcomes), "failed": sum(1 for o in outcomes if o.failure is not None), "metrics": metrics}


def _by(outcomes: list[Any], key) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for o in outcomes:
        groups.setdefault(key(o), []).append(o)
    return dict(sorted(groups.items()))


def _macro_rate(values: dict[str, np.ndarray], samples: int, seed: int) -> dict[str, Any]:
    present = {k: v for k, v in values.items() if v.size}
    out: dict[str, Any] = {"value": None, "ci95": None, "n": int(sum(v.size for v in present.values())),
                           "subsets": {k: float(v.mean()) for k, v in present.items()}}
    if not present:
        return out
    out["value"] = float(np.mean([v.mean() for v in present.values()]))
    if samples > 0 and all(v.size >= 2 for v in present.values()):
        rng = np.random.default_rng(seed)
        stats = np.mean([v[rng.integers(0, v.size, (samples, v.size))].mean(axis=1) for v in present.values()], axis=0)
        out["ci95"] = [float(x) for x in np.percentile(stats, [2.5, 97.5])]
    return out


def speech_ifeval_summary(outcomes: list[Any], samples: int, seed: int) -> dict[str, Any] | None:
    items = [o for o in outcomes if o.item.family == SPEECH_IFEVAL]
    if not items:
        return None

    def rates(key: str, among: list[Any]) -> dict[str, np.ndarray]:
        return {s: np.array([o.scores[key] for o in among if o.item.extra["subset"] == s and key in o.scores])
                for s in IFEVAL_SUBSETS}

    out: dict[str, Any] = {"if_rate": _macro_rate(rates("if_strict_prompt", items), samples, seed)}
    paired = [o for o in items if "if_strict_prompt" in o.scores and "if_strict_prompt_text" in o.scores]
    if paired:
        speech, text = rates("if_strict_prompt", paired), rates("if_strict_prompt_text", paired)
        out["if_rate_text"] = _macro_rate(text, samples, seed)
        speech_rate = _macro_rate(speech, samples, seed)["value"]
        text_rate = out["if_rate_text"]["value"]
        forgetting: dict[str, Any] = {"value": None, "ci95": None, "n": len(paired), "if_rate_speech": speech_rate}
        if text_rate:
            forgetting["value"] = 100.0 * (speech_rate - text_rate) / text_rate
            present = [s for s in IFEVAL_SUBSETS if speech[s].size >= 2]
            if samples > 0 and present and len(present) == len([s for s in IFEVAL_SUBSETS if speech[s].size]):
                rng = np.random.default_rng(seed)
                draws_s, draws_t = [], []
                for s in present:
                    index = rng.integers(0, speech[s].size, (samples, speech[s].size))
                    draws_s.append(speech[s][index].mean(axis=1))
                    draws_t.append(text[s][index].mean(axis=1))
                ms, mt = np.mean(draws_s, axis=0), np.mean(draws_t, axis=0)
                ok = mt > 0
                if ok.any():
                    forgetting["ci95"] = [float(x) for x in np.percentile(100.0 * (ms[ok] - mt[ok]) / mt[ok], [2.5, 97.5])]
        out["forgetting"] = forgetting
    return out


def summarize(outcomes: list[Any], config: Any, levels: dict[str, int], counters: dict[str, int],
              seconds: float) -> dict[str, Any]:
    samples, seed = config.bootstrap_samples, config.seed
    tasks = {}
    for task, group in _by(outcomes, lambda o: o.item.task).items():
        entry = group_summary(group, samples, seed, levels)
        entry["family"] = group[0].item.family
        entry["languages"] = {lang: group_summary(g, samples, seed, levels)
                              for lang, g in _by(group, lambda o: o.item.language or "und").items()}
        tasks[task] = entry
    failures = Counter(o.failure[0] for o in outcomes if o.failure is not None)
    metric_failures = Counter(reason for o in outcomes for reason, _message in o.failures.values())
    notes = []
    judged_families = {"closed_ended_judged", "open_ended"}
    if config.judge is None and any(o.item.family in judged_families or o.item.extra.get("subset") == "chain_of_thought"
                                     for o in outcomes):
        notes.append("judge metrics not scored: no judge given (--judge-api-base/--judge-model or eval.judge)")
    if any(o.item.family == SPEECH_IFEVAL for o in outcomes) and config.text_model is None:
        notes.append("forgetting not measured: no text model given (--text-model or eval.text_model)")
    summary: dict[str, Any] = {
        "data": str(config.data),
        "split": config.split,
        "model": {"backend": config.model.backend, "model": config.model.model, "api_base": config.model.api_base},
        "judge": None if config.judge is None else {"backend": config.judge.backend, "model": config.judge.model},
        "items": len(outcomes),
        "answered": sum(1 for o in outcomes if o.failure is None),
        "failed": sum(failures.values()),
        "failures": dict(failures.most_common()),
        "metric_failures": dict(metric_failures.most_common()),
        "overall": group_summary(outcomes, samples, seed, levels),
        "tasks": tasks,
        "languages": {lang: group_summary(g, samples, seed, levels)
                      for lang, g in _by(outcomes, lambda o: o.item.language or "und").items()},
        "bootstrap": {"samples": samples, "seed": seed, "interval": "percentile, 95%"},
        "requests": counters,
        "seconds": round(seconds, 3),
        "notes": notes,
    }
    ifeval = speech_ifeval_summary(outcomes, samples, seed)
    if ifeval is not None:
        summary["speech_ifeval"] = ifeval
    if levels:
        summary["controllable_levels"] = levels
    return summary
