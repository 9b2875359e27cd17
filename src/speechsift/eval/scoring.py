"""How per-item scores become a metric with ``n``, ``failed`` and a bootstrap 95% interval.

Every item carries ``scores`` (numbers named by what they count) and ``failures`` (metric -> reason
code). A metric is aggregated from its item columns in one of three ways (``spec``):

- ``mean``: the mean of one column (accuracy, exact match, F1, judge scores, IF rates, MAE);
- ``ratio``: the sum of one column over the sum of another: corpus-level WER is word errors over
  reference words, and IFEval's instruction-level rate is instructions followed over instructions;
- ``qwk``: Cohen's kappa with quadratic weights between target and measured ordinal codes
  (scikit-learn's ``cohen_kappa_score(weights="quadratic")`` for the value; the bootstrap uses the
  same formula vectorized over resamples, tests/eval check both agree).

The interval is the percentile bootstrap (2.5th and 97.5th percentiles of the metric over
``samples`` resamples of the items, with replacement, seeded). ``paired_difference`` resamples the
items two runs share, once for both, for ``eval compare``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

BOOTSTRAP_SAMPLES = 1000
BOOTSTRAP_SEED = 0
MAX_RESAMPLE_CELLS = 4_000_000  # resamples x distinct rows held in memory at once


class Failure(Exception):
    """A metric that cannot be computed for one item; ``reason`` is a snake_case code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class MetricSpec:
    kind: str  # mean | ratio | qwk
    columns: tuple[str, ...]
    levels: int = 0  # qwk: ordinal codes 0 .. levels-1
    higher_is_better: bool = True


CONTROLLABLE_FIELDS = ("speaking_speed", "pitch", "pitch_variation", "intensity")
LOWER_IS_BETTER = ("wer", "cer", "unspeakable")


def spec(metric: str, levels: dict[str, int] | None = None) -> MetricSpec:
    """How ``metric`` is aggregated, from its name (the one table of metric keys)."""
    if metric in ("wer", "cer"):
        unit = "words" if metric == "wer" else "chars"
        return MetricSpec("ratio", (f"{metric}_errors", f"{metric}_{unit}"), higher_is_better=False)
    if metric == "if_strict_instruction" or metric.startswith("if_strict_instruction."):
        group = metric[len("if_strict_instruction"):]
        return MetricSpec("ratio", (f"if_followed{group}", f"if_instructions{group}"))
    if metric.startswith("qwk_"):
        field = metric[4:]
        return MetricSpec("qwk", (f"target_{field}", f"measured_{field}"), levels=(levels or {}).get(field, 0))
    if metric.startswith("mae_"):
        return MetricSpec("mean", (f"abs_error_{metric[4:]}",), higher_is_better=False)
    return MetricSpec("mean", (metric,), higher_is_better=metric not in LOWER_IS_BETTER)


def metrics_in(scores: dict[str, Any]) -> list[str]:
    """The metric keys an item's score columns feed (the inverse of ``spec``)."""
    out = []
    for key in scores:
        if key in ("wer_errors", "wer_words", "cer_errors", "cer_chars", "if_instructions") or key.startswith(
                ("target_", "measured_", "if_instructions.")):
            continue
        if key.startswith("abs_error_"):
            out += [f"mae_{key[10:]}", f"qwk_{key[10:]}"]
        elif key.startswith("if_followed"):
            out.append("if_strict_instruction" + key[len("if_followed"):])
        else:
            out.append(key)
    return list(dict.fromkeys(out))


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> np.ndarray:
    return np.array([[float(row[name]) for name in names] for row in rows], dtype=np.float64).reshape(len(rows), len(names))


def quadratic_kappa(confusion: np.ndarray) -> np.ndarray:
    """Quadratic weighted kappa of confusion matrices (..., k, k): 1 - sum(w O) / sum(w E)."""
    k = confusion.shape[-1]
    i, j = np.indices((k, k))
    weights = (i - j) ** 2 / max((k - 1) ** 2, 1)
    total = confusion.sum(axis=(-2, -1), keepdims=True)
    expected = confusion.sum(axis=-1, keepdims=True) * confusion.sum(axis=-2, keepdims=True) / np.where(total == 0, 1, total)
    observed = (weights * confusion).sum(axis=(-2, -1))
    chance = (weights * expected).sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(chance > 0, 1.0 - observed / chance, np.nan)


def _weighted(metric: MetricSpec, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The metric of each resample, given how often (``weights``, resamples x rows) each row was drawn."""
    if metric.kind == "mean":
        return (weights @ rows[:, 0]) / weights.sum(axis=1)
    if metric.kind == "ratio":
        num, den = weights @ rows[:, 0], weights @ rows[:, 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den == 0, 1, den), np.nan)
    k = max(metric.levels, int(rows[:, :2].max()) + 1 if rows.size else 1)
    cells = rows[:, 0].astype(np.int64) * k + rows[:, 1].astype(np.int64)
    onehot = np.zeros((len(rows), k * k))
    onehot[np.arange(len(rows)), cells] = 1.0
    return quadratic_kappa((weights @ onehot).reshape(-1, k, k))


def _resampled(metric: MetricSpec, values: np.ndarray, samples: int, rng: np.random.Generator,
               statistic=None) -> np.ndarray:
    """The metric over ``samples`` bootstrap resamples of the rows of ``values``.

    Rows are grouped by value first: drawing n rows with replacement gives each distinct row a
    multinomial count, so the resamples are drawn as counts over the distinct rows (exactly the
    same distribution, and far cheaper where values repeat: 0/1 accuracies, error counts, judge
    scores). ``statistic`` (weights, distinct rows) replaces the metric's own (paired differences).
    """
    statistic = statistic or (lambda weights, rows: _weighted(metric, weights, rows))
    rows, counts = np.unique(values, axis=0, return_counts=True)
    n = len(values)
    chunk = max(1, MAX_RESAMPLE_CELLS // max(len(rows), 1))
    out = []
    for start in range(0, samples, chunk):
        weights = rng.multinomial(n, counts / n, size=min(chunk, samples - start)).astype(np.float64)
        out.append(statistic(weights, rows))
    return np.concatenate(out)


def _point_value(metric: MetricSpec, values: np.ndarray) -> float:
    if metric.kind == "qwk":
        from sklearn.metrics import cohen_kappa_score

        k = max(metric.levels, int(values.max()) + 1)
        targets, measured = values[:, 0].astype(int), values[:, 1].astype(int)
        if len(set(targets.tolist()) | set(measured.tolist())) < 2:
            return float("nan")  # one category on both sides: agreement is undefined
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return float(cohen_kappa_score(targets, measured, weights="quadratic", labels=list(range(k))))
    return float(_weighted(metric, np.ones((1, len(values))), values)[0])


def interval(metric: MetricSpec, values: np.ndarray, samples: int, seed: int) -> list[float] | None:
    if len(values) < 2 or samples <= 0:
        return None
    stats = _resampled(metric, values, samples, np.random.default_rng(seed))
    stats = stats[np.isfinite(stats)]
    if stats.size == 0:
        return None
    low, high = np.percentile(stats, [2.5, 97.5])
    return [float(low), float(high)]


def _clean(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def aggregate(metric_name: str, scored: Sequence[dict[str, Any]], failed: int, *, samples: int = BOOTSTRAP_SAMPLES,
              seed: int = BOOTSTRAP_SEED, levels: dict[str, int] | None = None) -> dict[str, Any]:
    """``{"value", "ci95", "n", "failed"}`` of one metric over the items' score dicts that have it."""
    metric = spec(metric_name, levels)
    rows = [s for s in scored if all(s.get(c) is not None for c in metric.columns)]
    out: dict[str, Any] = {"value": None, "ci95": None, "n": len(rows), "failed": failed}
    if not rows:
        return out
    values = _columns(rows, metric.columns)
    out["value"] = _clean(_point_value(metric, values))
    out["ci95"] = interval(metric, values, samples, seed)
    return out


def paired_difference(metric_name: str, pairs_a: Sequence[dict[str, Any]], pairs_b: Sequence[dict[str, Any]], *,
                      samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED,
                      levels: dict[str, int] | None = None) -> dict[str, Any]:
    """B - A over the items both have the metric for, with a paired bootstrap 95% interval and the
    share of resamples in which B is better (``p_b_better``)."""
    metric = spec(metric_name, levels)
    keep = [i for i, (a, b) in enumerate(zip(pairs_a, pairs_b))
            if all(a.get(c) is not None for c in metric.columns) and all(b.get(c) is not None for c in metric.columns)]
    out: dict[str, Any] = {"n": len(keep), "a": None, "b": None, "difference": None, "ci95": None, "p_b_better": None}
    if not keep:
        return out
    va = _columns([pairs_a[i] for i in keep], metric.columns)
    vb = _columns([pairs_b[i] for i in keep], metric.columns)
    a, b = _point_value(metric, va), _point_value(metric, vb)
    out.update(a=_clean(a), b=_clean(b), difference=_clean(b - a))
    if len(keep) >= 2 and samples > 0:
        width = va.shape[1]

        def difference(weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
            return _weighted(metric, weights, rows[:, width:]) - _weighted(metric, weights, rows[:, :width])

        diffs = _resampled(metric, np.hstack([va, vb]), samples, np.random.default_rng(seed), difference)
        diffs = diffs[np.isfinite(diffs)]
        if diffs.size:
            low, high = np.percentile(diffs, [2.5, 97.5])
            better = diffs > 0 if metric.higher_is_better else diffs < 0
            out.update(ci95=[float(low), float(high)], p_b_better=float(better.mean()))
    return out
