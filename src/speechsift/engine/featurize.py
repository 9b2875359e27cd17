"""``speechsift features``: measure every clip of a manifest, clips file or recipe, and optionally
fit SIFT-50M bins on the result (``--fit-bins``) for ``labels.bins`` / ``--bins`` in later runs.

The output has one row per clip: ``clip_id`` and one flat column per measurement, named with its
unit (``features.FEATURE_COLUMNS``). Clips whose audio cannot be decoded are listed beside it in
``<out>.rejects.jsonl`` with their reason.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from speechsift.engine.enrich import default_workers, measure_one, measuring_pool
from speechsift.engine.progress import ProgressReporter
from speechsift.features import DEFAULT_FEATURES, MEASUREMENT_VERSION, check_features, columns_for
from speechsift.labels import normalized_clips
from speechsift.labels.bins import BinSet, save_bins
from speechsift.layout import atomic_write_text
from speechsift.recipe import EngineConfig
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow

BATCH = 256


def _items(target: Path) -> tuple[Iterator[Any], EngineConfig]:
    """The clips to measure and the engine settings (the recipe's, or the defaults)."""
    suffix = target.suffix.lower()
    if suffix in (".yaml", ".yml"):
        from speechsift.recipe import load_recipe
        from speechsift.sources import read_sources

        recipe = load_recipe(target)
        return read_sources(recipe), recipe.engine
    if suffix == ".parquet":
        from speechsift.sources.clips_io import read_clips

        return iter(read_clips(target)), EngineConfig()
    from speechsift.sources.ids import unique_clips
    from speechsift.sources.manifest import read_manifest

    return unique_clips(read_manifest(target, source=target.stem)), EngineConfig()


def featurize(target: Path, out: Path, features: list[str] | None = None, *, fit_bins: Path | None = None,
              workers: int | None = None, progress: bool = True) -> str:
    names = check_features(features or DEFAULT_FEATURES)
    columns = columns_for(names)
    items, engine = _items(Path(target))
    rows: list[dict[str, Any]] = []
    genders: list[str | None] = []
    rejects: list[dict[str, Any]] = []
    count = workers or default_workers()
    pool = measuring_pool(count) if count > 1 else None
    try:
        with ProgressReporter(enabled=progress) as reporter:
            reporter.phase("measuring", unit="clips")
            while batch := list(itertools.islice(items, BATCH)):
                for item in batch:
                    if isinstance(item, RejectedRow):
                        rejects.append({"id": item.id, "stage": "read", "reason": item.reason, "message": item.message})
                clips: list[Clip] = list(normalized_clips(batch))
                jobs = [(clip, names, engine.max_measure_s) for clip in clips]
                results = pool.map(measure_one, jobs, chunksize=8) if pool else map(measure_one, jobs)
                for clip, (values, _words, reason, message) in zip(clips, results):
                    if values is None:
                        rejects.append({"id": clip.clip_id, "stage": "features", "reason": reason, "message": message})
                        continue
                    rows.append({"clip_id": clip.clip_id, **{c: values.get(c, math.nan) for c in columns}})
                    genders.append(clip.meta.get("gender"))
                reporter.advance(len(batch))
    finally:
        if pool is not None:
            pool.shutdown()
    schema = pa.schema([("clip_id", pa.string()), *[(c, pa.float64()) for c in columns]])
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), out, compression="zstd")
    rejects_path = out.with_name(out.stem + ".rejects.jsonl")
    atomic_write_text(rejects_path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rejects))
    summary = f"{len(rows):,} clips measured -> {out}; {len(rejects):,} rejects -> {rejects_path}"
    if fit_bins is not None:
        measured = [{c: v for c, v in row.items() if c != "clip_id"} for row in rows]
        bins = BinSet.fit(measured, genders, name=str(target), measurement_version=MEASUREMENT_VERSION)
        save_bins(bins, fit_bins)
        summary += f"; bins for {', '.join(bins.fields) or 'no field'} -> {fit_bins}"
    return summary
