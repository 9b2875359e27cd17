"""The ``enrich`` stage: labels measured from the audio itself (issue #4), and the
``acoustic_filter`` stage that drops clips whose measured audio is too poor to train on.

Each clip is decoded once (``features.measure_clip``) in a process pool; its measurements go into
``Clip.features`` (numbers, named with their unit) and, binned into words (``labels.bins``: the
seed's fixed thresholds by default, or edges fitted on a dataset and saved as JSON), into
``Clip.meta``. Per field the recipe says whose label wins: the corpus's, the measured one, or the
corpus's where it has one (the default). ``meta["label_sources"]`` records which, as
``field:origin`` pairs; ``raw`` (corpus) and ``features`` (measured) keep both sides. Clips with
word timings also get per-word median F0 and level, for the word-align task. With
``labels.gender_from_pitch``, a clip whose corpus gives no gender gets one estimated from its median
F0 (``labels.normalize.gender_from_f0``), recorded as ``gender:measured``.

Where the measuring runs is the executor's choice, not the stage's: ``Enrich`` measures through the
``map`` it is given (``map(measure_one, jobs)``): the built-in one by default, the local executor's
process pool in a run (``engine.workers``), a Ray task's own ``map`` on a cluster.

``AcousticFilter`` applies the recipe's ``curate.min_quality``, ``min_c50_db`` and
``min_distortion_sdr_db`` to the measured clips, before any example or LLM request is made from
them; a clip without the measurement (NaN: too short, silent) is kept.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from speechsift.engine.stage import RecordStage, Rejected, Stage, StageResult
from speechsift.errors import AudioLoadError, Reject
from speechsift.features.base import FeatureError
from speechsift.labels.bins import FIXED_BINS, BinSet
from speechsift.labels.normalize import gender_from_f0
from speechsift.records import Clip
from speechsift.sources.text import record_kind

POLICIES = ("corpus", "measured", "corpus_then_measured")
POOL_CHUNK = 8  # clips per task sent to a worker process
# Where work runs: ``map(function, items)`` -> the results in order (the built-in ``map``, a process
# pool's, a Ray task's). The executor gives it to the stages that spread work (``Enrich``).
MapFn = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]


def word_prosody(wave: np.ndarray, sr: int, words: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each word with its median F0 (Hz, voiced frames inside the word) and its active level (dB)."""
    from speechsift.features.loudness import relative_db
    from speechsift.features.pitch import track_pitch

    track = track_pitch(wave, sr)
    out = []
    for word in words:
        start, end = float(word["start_s"]), float(word["end_s"])
        inside = (track.times_s >= start) & (track.times_s < end) & track.voiced
        f0 = float(np.median(track.f0_hz[inside])) if inside.any() else math.nan
        segment = wave[int(start * sr) : int(end * sr)]
        level = relative_db(segment, sr) if segment.size else math.nan
        out.append({**word, "f0_median_hz": f0 if math.isfinite(f0) else None,
                    "relative_db": level if math.isfinite(level) else None})
    return out


def measure_one(job: tuple[Clip, tuple[str, ...], float | None]) -> tuple[dict[str, float] | None, list | None, str | None, str | None]:
    """Worker: ``(features, words, reject reason, message)`` for one clip; decodes it once.

    A clip longer than ``max_s`` seconds (the header says) is refused before it is decoded (an
    opt-in cap, ``engine.max_measure_s``): features work block by block, so measuring holds the
    decoded clip (64 KiB per second at 16 kHz) and a working set that does not grow with its length.
    """
    from speechsift import audio
    from speechsift.features import measure

    clip, names, max_s = job
    try:
        if max_s is not None and (seconds := audio.probe(clip.audio).duration_s) > max_s:
            return None, None, "too_long_to_measure", (
                f"{clip.audio.describe()} is {seconds:.4g} s long; features are measured on clips up to "
                f"engine.max_measure_s = {max_s:g} s (the recipe's opt-in cap); cut the file "
                "into segments, keep such clips out with engine.max_duration_s, or raise or remove the cap")
        wave, sr = audio.load(clip.audio)
        values = measure(wave, sr, names, text=clip.text, language=clip.language)
        words = clip.extra.get("words")
        prosody = word_prosody(wave, sr, words) if words else None
    except (AudioLoadError, FeatureError) as exc:
        return None, None, exc.reason, str(exc)
    return values, prosody, None, None


def choose_labels(corpus: Mapping[str, str], measured: Mapping[str, str], policies: Mapping[str, str],
                  given_origins: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """Meta from the corpus labels and the measured ones, field by field, and where each came from
    (``corpus``, or the origin ``given_origins`` names: ``synthesized`` for a voice's labels)."""
    meta = dict(corpus)
    given_origins = given_origins or {}
    origins = [f"{field}:{given_origins.get(field, 'corpus')}" for field in corpus]
    for field, word in measured.items():
        policy = policies.get(field, "corpus_then_measured")
        if policy == "corpus" or (policy == "corpus_then_measured" and field in corpus):
            continue
        meta[field] = word
        origins = [o for o in origins if not o.startswith(f"{field}:")] + [f"{field}:measured"]
    return meta, origins


def label_origins(meta: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A clip's labels without ``label_sources``, and the origins it names (``gender:synthesized``)."""
    named = meta.get("label_sources")
    if not named:
        return dict(meta), {}
    origins = dict(pair.split(":", 1) for pair in named.split(",") if ":" in pair)
    return {k: v for k, v in meta.items() if k != "label_sources"}, origins


class Enrich(Stage):
    name = "enrich"

    def __init__(self, features: Sequence[str], bins: BinSet | None = None, policies: Mapping[str, str] | None = None,
                 map: MapFn = map, gender_from_pitch: bool = False, max_measure_s: float | None = None) -> None:
        from speechsift.features import check_features

        self.features = check_features(features)
        self.bins = bins or FIXED_BINS
        self.policies = dict(policies or {})
        self.map = map
        self.gender_from_pitch = gender_from_pitch
        self.max_measure_s = max_measure_s

    def _measurements(self, clips: list[Clip]) -> list[Any]:
        jobs = [(clip, self.features, self.max_measure_s) for clip in clips]
        if len(clips) < 2:
            return [measure_one(job) for job in jobs]
        return list(self.map(measure_one, jobs))

    def process(self, clips: list[Clip]) -> StageResult:
        kept = []
        rejects = []
        silent = [record_kind(clip) == "text" for clip in clips]  # text records: nothing to measure
        results = iter(self._measurements([clip for clip, text in zip(clips, silent) if not text]))
        for clip, text in zip(clips, silent):
            if text:
                kept.append(clip)
                continue
            values, words, reason, message = next(results)
            if values is None:
                rejects.append(Rejected(clip.clip_id, reason or "unreadable_audio", message or "", source=clip.source))
                continue
            features = {**clip.features, **{k: v for k, v in values.items() if math.isfinite(v)}}
            gender = clip.meta.get("gender")
            estimated = gender_from_f0(features.get("f0_median_hz")) if self.gender_from_pitch and not gender else None
            measured = self.bins.labels(features, gender=gender or estimated)
            if estimated:
                measured["gender"] = estimated
            corpus, given = label_origins(clip.meta)
            meta, origins = choose_labels(corpus, measured, self.policies, given)
            meta["label_sources"] = ",".join(origins)
            extra = {**clip.extra, "words": words} if words is not None else clip.extra
            kept.append(Clip(clip.clip_id, clip.source, clip.audio, clip.language, clip.speaker_id, clip.text,
                             clip.raw, meta, features, extra))
        return StageResult(kept, rejects)


class AcousticFilter(RecordStage):
    """Drops measured clips below the recipe's audio thresholds (``curate.min_quality`` ...)."""

    name = "acoustic_filter"
    # (curate setting, feature column, reject reason, what the column is)
    THRESHOLDS = (
        ("min_quality", "dnsmos_p808", "low_speech_quality", "DNSMOS P.808 score"),
        ("min_c50_db", "c50_db", "too_reverberant", "estimated C50 (dB)"),
        ("min_distortion_sdr_db", "distortion_sdr_db", "too_distorted", "estimated signal-to-distortion ratio (dB)"),
    )

    def __init__(self, limits: Mapping[str, float]) -> None:
        self.checks = [(column, reason, what, limits[setting])
                       for setting, column, reason, what in self.THRESHOLDS if limits.get(setting) is not None]

    @classmethod
    def from_curate(cls, curate: Any) -> AcousticFilter | None:
        """The filter a recipe's ``curate`` section asks for; None when it sets no audio threshold."""
        limits = {setting: getattr(curate, setting, None) for setting, *_ in cls.THRESHOLDS} if curate else {}
        return cls(limits) if any(v is not None for v in limits.values()) else None

    def one(self, clip: Clip) -> Clip:
        for column, reason, what, limit in self.checks:
            value = clip.features.get(column)
            if value is not None and value < limit:
                raise Reject(reason, f"{what} {value:.3g} < min {limit:g}")
        return clip


def pool_map(pool: ProcessPoolExecutor) -> MapFn:
    """``map`` over a process pool, a few jobs per task."""
    return lambda function, items: pool.map(function, items, chunksize=POOL_CHUNK)


def measuring_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes started fresh ("spawn"), not forked: the run's generation thread is alive
    when the pool starts, and forking a process with threads can deadlock its children."""
    import multiprocessing

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def default_workers() -> int:
    return max(1, (os.cpu_count() or 1))
