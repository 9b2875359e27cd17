#!/usr/bin/env python
"""Benchmark: preparing examples from a manifest, speechsift's way against the naive way.

"Preparing" is manifest rows -> normalized metadata -> rendered prompts (no LLM): for every clip,
a ``transcription`` example and a ``sit_ssp`` example whose ``ChatRequest`` holds the rendered
audio context. Nothing is written; examples are built and dropped, batch by batch.

- speechsift's way: ``read_manifest`` -> ``unique_clips`` (the duplicate-id check ``read_sources``
  puts on every run's stream) -> ``Read`` -> ``NormalizeLabels`` -> ``ExpandTasks``, through the
  stage objects in batches (one ``ShardLog`` per batch), streaming. A second
  line adds ``ProbeAudio`` (opens every clip's header), which a real run does by default.
- the naive way: a per-row loop that decodes each clip with ``soundfile.read`` and then maps
  its labels with small dicts and renders the same audio context (a one-off script).
- memory: speechsift's way over a 100k-row and a 1M-row manifest, each in a fresh subprocess,
  with the child's peak RSS.

The synthetic manifests cycle the 24 demo rows (examples/demo/manifest.csv) with a unique id
per row and extra case/whitespace variants of the label spellings; ``audio`` holds paths
relative to the manifest, into a copy of the demo clips (16 kHz mono FLAC, 1.6-3.1 s).

Usage::

    .venv/bin/python benchmarks/bench_prepare.py [--clips 100000] [--big 1000000]
        [--naive-sample 2000] [--batch 1000] [--repeat 3] [--no-pin] [--profile]

The process is single-threaded; unless ``--no-pin`` is given it (and its children) are pinned to
one CPU with ``sched_setaffinity`` so "clips/s on one core" is literal.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import itertools
import json
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo"
TASKS = ("transcription", "sit_ssp")
SOURCE = "bench"

# Targets from the issue.
TARGET_CLIPS_PER_S = 50_000
TARGET_RATIO = 50.0
FLAT_FACTOR = 1.25  # "flat": the 1M run's peak RSS is at most this times the 100k run's


# --- synthetic corpus ------------------------------------------------------------------------


def _demo_rows() -> list[dict[str, str]]:
    with (DEMO / "manifest.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _messy(value: str, variant: int) -> str:
    """More spellings of the same label: as given, UPPER, padded, Title."""
    if not value:
        return value
    if variant == 1:
        return value.upper()
    if variant == 2:
        return f" {value} "
    if variant == 3:
        return value.title()
    return value


def build_corpus(folder: Path) -> Path:
    """Copies the demo clips into ``folder/clips``; returns the folder."""
    clips = folder / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    for row in _demo_rows():
        src = DEMO / row["audio"]
        shutil.copyfile(src, clips / src.name)
    return folder


def build_manifest(path: Path, n: int) -> Path:
    """A CSV of ``n`` rows cycling the demo rows, unique ids, messy label spellings."""
    demo = _demo_rows()
    header = list(demo[0].keys())
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i in range(n):
            row = dict(demo[i % len(demo)])
            variant = (i // len(demo)) % 4
            row["id"] = f"clip_{i:07d}"
            for column in ("gender", "age", "emotion"):
                row[column] = _messy(row[column], variant)
            writer.writerow([row[c] for c in header])
    return path


def warm_file(path: Path) -> None:
    """Read a file once so it sits in the OS page cache."""
    with path.open("rb") as f:
        while f.read(1 << 22):
            pass


# --- speechsift's way ------------------------------------------------------------------------


def speechsift_pass(
    manifest: Path, *, batch_size: int, probe: bool = False, limit: int | None = None, keep_contexts: bool = False,
    segment: int = 100_000, streaming_gc: bool = True,
) -> dict[str, Any]:
    """read_manifest -> unique_clips -> Read -> NormalizeLabels [-> ProbeAudio] -> ExpandTasks, streamed
    in batches, under the engine's GC settings (``streaming_gc``) as ``speechsift run`` does."""
    from contextlib import nullcontext

    from speechsift.engine import gc_tuning

    with gc_tuning.streaming_gc() if streaming_gc else nullcontext():
        return _speechsift_pass(manifest, batch_size=batch_size, probe=probe, limit=limit,
                                keep_contexts=keep_contexts, segment=segment)


def _speechsift_pass(
    manifest: Path, *, batch_size: int, probe: bool, limit: int | None, keep_contexts: bool, segment: int
) -> dict[str, Any]:
    from speechsift.engine.counts import ShardLog
    from speechsift.engine.stages import ExpandTasks, NormalizeLabels, ProbeAudio, Read
    from speechsift.recipe import TaskSpec
    from speechsift.sources.ids import unique_clips
    from speechsift.sources.manifest import read_manifest
    from speechsift.tasks import TaskSettings

    stages = [Read(), NormalizeLabels()]
    if probe:
        stages.append(ProbeAudio())
    stages.append(ExpandTasks([TaskSpec(name=name) for name in TASKS], TaskSettings()))

    clips = examples = rejects = 0
    unknown: Counter = Counter()
    seconds: Counter = Counter()
    contexts: list[str] = []
    segments: list[float] = []  # clips/s over each stretch of `segment` clips
    segment_started = started = time.perf_counter()
    rows = unique_clips(read_manifest(manifest, source=SOURCE))
    if limit is not None:
        rows = itertools.islice(rows, limit)
    while batch := list(itertools.islice(rows, batch_size)):
        ctx = ShardLog()
        records: list[Any] = batch
        for stage in stages:
            records = stage(records, ctx)
        clips += len(batch)
        examples += len(records)
        rejects += len(ctx.rejects)
        unknown.update(ctx.unknown_labels)
        seconds.update(ctx.seconds)
        if keep_contexts:
            contexts += [e.request.messages[1]["content"] for e in records if e.task == "sit_ssp"]
        if clips % segment == 0:
            now = time.perf_counter()
            segments.append(segment / (now - segment_started))
            segment_started = now
    elapsed = time.perf_counter() - started
    return {
        "clips": clips,
        "examples": examples,
        "rejects": rejects,
        "unknown_labels": sum(unknown.values()),
        "seconds": elapsed,
        "stage_seconds": dict(seconds),
        "contexts": contexts,
        "segments": segments,
    }


# --- the naive way ---------------------------------------------------------------------------

# What a one-off script would hard-code for these spellings.
NAIVE_GENDER = {
    "male": "male", "m": "male", "male_masculine": "male",
    "female": "female", "f": "female", "female_feminine": "female",
}
NAIVE_EMOTION = {
    "happy": "happy", "hap": "happy", "neutral": "neutral", "sad": "sad", "anger": "angry",
    "disgusted": "disgust", "fearful": "fear", "ps": "surprise", "surprised": "surprise",
}
NAIVE_AGE = {"teens": "teenager", "twenties": "young adult", "fourties": "middle-age adult", "sixties": "senior"}


def _naive_age(value: str) -> str | None:
    value = value.strip().lower()
    try:
        years = float(value)
    except ValueError:
        return NAIVE_AGE.get(value)
    return "teenager" if years < 18 else "young adult" if years < 40 else "middle-age adult" if years < 61 else "senior"


def naive_pass(manifest: Path, limit: int) -> dict[str, Any]:
    """Per row: decode the clip, then read and map its labels, then render the same prompts."""
    import soundfile as sf

    from speechsift.render import render_audio_context
    from speechsift.tasks import prompts

    base = manifest.parent
    contexts: list[str] = []
    decoded_s = 0.0
    clips = 0
    started = time.perf_counter()
    with manifest.open(newline="", encoding="utf-8") as f:
        for row in itertools.islice(csv.DictReader(f), limit):
            wave, sr = sf.read(str(base / row["audio"]), dtype="float32")
            decoded_s += len(wave) / sr
            meta = {}
            age = _naive_age(row["age"])
            if age:
                meta["age"] = age
            gender = NAIVE_GENDER.get(row["gender"].strip().lower())
            if gender:
                meta["gender"] = gender
            db = float(row["relative_db"])
            if db < -16.4:
                meta["volume"] = "quiet"
            elif db > -10.0:
                meta["volume"] = "loud"
            rate = float(row["speaking_rate"])
            meta["pace"] = "slow" if rate < 6.0 else "fast" if rate > 9.0 else "normal"
            emotion = NAIVE_EMOTION.get(row["emotion"].strip().lower())
            if emotion:
                meta["emotion"] = emotion
            if row["accent"].strip():
                meta["accent"] = row["accent"].strip()
            context = render_audio_context(meta, row["text"])
            _examples = [
                {"id": row["id"], "task": "transcription", "instruction": prompts.TRANSCRIBE_INSTRUCTION,
                 "response": row["text"].strip().lower(), "audio": row["audio"], "meta": meta},
                {"id": row["id"], "task": "sit_ssp", "instruction": prompts.DESCRIBE_INSTRUCTION, "audio": row["audio"],
                 "meta": meta, "messages": [{"role": "system", "content": prompts.SIT_SSP_SYSTEM},
                                            {"role": "user", "content": context}]},
            ]
            contexts.append(context)
            clips += 1
    elapsed = time.perf_counter() - started
    return {"clips": clips, "seconds": elapsed, "audio_s": decoded_s, "contexts": contexts}


# --- memory (child process) ------------------------------------------------------------------


def _maxrss_mib() -> float:
    """Peak resident set size of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _rss_mib() -> float:
    """Resident set size now."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import psutil

        return psutil.Process().memory_info().rss / 2**20


def child_main(manifest: Path, batch_size: int) -> None:
    import speechsift.engine.stages  # noqa: F401  (imports before the baseline)
    import speechsift.sources.manifest  # noqa: F401

    warm_file(manifest)
    baseline = _rss_mib()
    result = speechsift_pass(manifest, batch_size=batch_size)
    result.pop("contexts")
    result["rss_baseline_mib"] = baseline
    result["rss_end_mib"] = _rss_mib()
    result["rss_peak_mib"] = _maxrss_mib()
    print(json.dumps(result))


def run_child(manifest: Path, batch_size: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--_child", str(manifest), "--batch", str(batch_size)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- report ----------------------------------------------------------------------------------


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import soundfile as sf

    return (
        f"{model}; os.cpu_count()={os.cpu_count()}; Python {platform.python_version()} "
        f"({platform.python_implementation()}); {platform.system()} {platform.release()}; "
        f"libsndfile {sf.__libsndfile_version__}"
    )


def rate(clips: int, seconds: float) -> float:
    return clips / seconds if seconds else float("inf")


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=100_000, help="rows in the headline manifest")
    parser.add_argument("--big", type=int, default=1_000_000, help="rows in the memory run (0 skips it)")
    parser.add_argument("--naive-sample", type=int, default=2000, help="rows timed the naive way")
    parser.add_argument("--batch", type=int, default=1000, help="clips per batch (one ShardLog each)")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes of each way (the best is reported)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of speechsift's way (top 25 by tottime)")
    parser.add_argument("--_child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args._child:
        child_main(args._child, args.batch)
        return

    pinned = "not pinned"
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})  # inherited by the memory-run children
        pinned = f"pinned to CPU {cpu}"
    repeat = max(1, args.repeat)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def fastest(results: list[dict[str, Any]]) -> dict[str, Any]:
        return min(results, key=lambda r: r["seconds"])

    with tempfile.TemporaryDirectory(prefix="speechsift-bench-") as tmp:
        folder = build_corpus(Path(tmp))
        t = time.perf_counter()
        manifest = build_manifest(folder / "manifest_main.csv", args.clips)
        say(f"built {args.clips:,}-row manifest in {time.perf_counter() - t:.1f}s ({manifest.stat().st_size / 2**20:.1f} MiB)")

        # Warm the page cache: the manifest and every clip (decoded once).
        import soundfile as sf

        warm_file(manifest)
        for clip in sorted((folder / "clips").glob("*.flac")):
            sf.read(str(clip), dtype="float32")

        # speechsift's way and the naive way (on a sample), pass by pass in turn, so that both see the
        # same stretches of a shared, noisy machine. A short warm-up pass first: imports, lru caches.
        speechsift_pass(manifest, batch_size=args.batch, limit=min(5000, args.clips))
        sample = min(args.naive_sample, args.clips)
        runs, naives = [], []
        for i in range(repeat):
            runs.append(speechsift_pass(manifest, batch_size=args.batch))
            naives.append(naive_pass(manifest, sample))
            say(f"pass {i + 1}: speechsift {rate(runs[-1]['clips'], runs[-1]['seconds']):,.0f} clips/s, "
                f"naive {rate(naives[-1]['clips'], naives[-1]['seconds']):,.1f} clips/s")
        best = fastest(runs)
        naive = fastest(naives)
        paired = sorted(rate(r["clips"], r["seconds"]) / rate(n["clips"], n["seconds"]) for r, n in zip(runs, naives))
        probed = speechsift_pass(manifest, batch_size=args.batch, probe=True)
        say(f"speechsift + probe: {rate(probed['clips'], probed['seconds']):,.0f} clips/s")

        # Diagnostic, not the headline: the same pass with CPython's default GC thresholds.
        tuned = fastest([speechsift_pass(manifest, batch_size=args.batch, streaming_gc=False) for _ in range(repeat)])
        say(f"speechsift, default GC: {rate(tuned['clips'], tuned['seconds']):,.0f} clips/s")

        # The same sample speechsift's way, to compare the prompts with the naive way's.
        ours_sample = speechsift_pass(manifest, batch_size=args.batch, limit=sample, keep_contexts=True)
        same = sum(a == b for a, b in zip(naive["contexts"], ours_sample["contexts"]))

        # Memory: fresh subprocesses over the headline manifest and the 1M-row one.
        mem_small = run_child(manifest, args.batch)
        say(f"child {args.clips:,}: peak RSS {mem_small['rss_peak_mib']:.1f} MiB")
        mem_big = None
        big_build_s = 0.0
        if args.big:
            t = time.perf_counter()
            big = build_manifest(folder / "manifest_big.csv", args.big)
            big_build_s = time.perf_counter() - t
            say(f"built {args.big:,}-row manifest in {big_build_s:.1f}s ({big.stat().st_size / 2**20:.1f} MiB)")
            mem_big = run_child(big, args.batch)
            say(f"child {args.big:,}: {rate(mem_big['clips'], mem_big['seconds']):,.0f} clips/s, "
                f"peak RSS {mem_big['rss_peak_mib']:.1f} MiB")
            big.unlink()

        profile_text = ""
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            speechsift_pass(manifest, batch_size=args.batch)
            profiler.disable()
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(25)
            profile_text = buf.getvalue()

    ours_rate = rate(best["clips"], best["seconds"])
    probe_rate = rate(probed["clips"], probed["seconds"])
    tuned_rate = rate(tuned["clips"], tuned["seconds"])
    naive_rate = rate(naive["clips"], naive["seconds"])
    ratio = ours_rate / naive_rate
    ok = lambda b: "yes" if b else "NO"  # noqa: E731
    rates = lambda rs: ", ".join(format(rate(r["clips"], r["seconds"]), ",.0f") for r in rs)  # noqa: E731

    print()
    print(f"speechsift prepare benchmark: {args.clips:,} clips, tasks {', '.join(TASKS)}, batches of {args.batch:,}")
    print(f"machine: {machine()}")
    print(f"single-threaded process, {pinned}; page cache warm (manifest read and every clip decoded once first)")
    print(f"speechsift's way: best of {len(runs)} passes ({rates(runs)} clips/s); {best['examples']:,} examples, "
          f"{best['rejects']:,} rejects, {best['unknown_labels']:,} unknown labels counted")
    stage_s = best["stage_seconds"]
    reading = best["seconds"] - sum(stage_s.values())
    parts = [f"read_manifest + unique_clips {1e6 * reading / best['clips']:.2f}"]
    parts += [f"{name} {1e6 * s / best['clips']:.2f}" for name, s in stage_s.items()]
    print(f"  where a clip's time goes (us/clip): {', '.join(parts)}")
    print(f"naive way: best of {len(naives)} passes over {naive['clips']:,} rows ({rates(naives)} clips/s), "
          f"{naive['audio_s'] / naive['clips']:.2f} s of audio decoded per clip; "
          f"audio context identical to speechsift's on {same:,}/{naive['clips']:,} rows")
    print(f"pass by pass (each speechsift pass right before a naive one): speechsift/naive "
          f"{', '.join(f'{r:.1f}x' for r in paired)}; median {paired[len(paired) // 2]:.1f}x")
    print()
    rows = [
        ("measure", "clips/s", "ms/clip", "vs naive", "target", "met"),
        (f"speechsift, {best['clips']:,} clips (headline)", f"{ours_rate:,.0f}", f"{1e3 / ours_rate:.4f}",
         f"{ratio:,.1f}x", f">= {TARGET_CLIPS_PER_S:,}/s and >= {TARGET_RATIO:.0f}x",
         f"{ok(ours_rate >= TARGET_CLIPS_PER_S)}/{ok(ratio >= TARGET_RATIO)}"),
        ("speechsift + audio header probe", f"{probe_rate:,.0f}", f"{1e3 / probe_rate:.4f}",
         f"{probe_rate / naive_rate:,.1f}x", "(not a target)", ""),
        ("speechsift, default GC (diagnostic)", f"{tuned_rate:,.0f}", f"{1e3 / tuned_rate:.4f}",
         f"{tuned_rate / naive_rate:,.1f}x", "(not a target)", ""),
        (f"naive (decode, then labels), {naive['clips']:,} rows", f"{naive_rate:,.1f}", f"{1e3 / naive_rate:.3f}",
         "1.0x", "", ""),
        (f"speechsift, {mem_small['clips']:,} clips (subprocess)",
         f"{rate(mem_small['clips'], mem_small['seconds']):,.0f}",
         f"{1e3 / rate(mem_small['clips'], mem_small['seconds']):.4f}", "", "", ""),
    ]
    if mem_big:
        big_rate = rate(mem_big["clips"], mem_big["seconds"])
        rows.append((f"speechsift, {mem_big['clips']:,} clips (subprocess)", f"{big_rate:,.0f}",
                     f"{1e3 / big_rate:.4f}", f"{big_rate / naive_rate:,.1f}x",
                     f">= {TARGET_CLIPS_PER_S:,}/s", ok(big_rate >= TARGET_CLIPS_PER_S)))
    print(table(rows))
    print("(speechsift runs under engine.gc_tuning.streaming_gc(); the diagnostic line is the same pass without it)")
    print()

    def mem_row(mem: dict[str, Any]) -> tuple[str, ...]:
        segments = mem["segments"]
        spread = f"{min(segments):,.0f}-{max(segments):,.0f}" if segments else "-"
        return (f"{mem['clips']:,} clips", f"{mem['rss_peak_mib']:.1f}", f"{mem['rss_baseline_mib']:.1f}",
                f"{mem['rss_end_mib']:.1f}", f"{mem['rss_end_mib'] - mem['rss_baseline_mib']:+.1f}",
                f"{mem['seconds']:.1f}", spread)

    mrows = [("memory (fresh subprocess)", "peak RSS MiB", "RSS before MiB", "RSS after MiB", "change MiB",
              "wall s", "clips/s per 100k")]
    mrows.append(mem_row(mem_small))
    if mem_big:
        mrows.append(mem_row(mem_big))
    print(table(mrows))
    print("(peak = ru_maxrss over the child's life, imports included; before/after = resident set just before and "
          "after the pass)")
    if mem_big:
        flat = mem_big["rss_peak_mib"] <= FLAT_FACTOR * mem_small["rss_peak_mib"]
        print(f"flat memory ({mem_big['clips']:,}-clip peak <= {FLAT_FACTOR}x the {mem_small['clips']:,}-clip peak): "
              f"{ok(flat)} ({mem_big['rss_peak_mib'] / mem_small['rss_peak_mib']:.2f}x); building the "
              f"{mem_big['clips']:,}-row manifest took {big_build_s:.1f}s (not counted)")
    if profile_text:
        print()
        print(f"cProfile of speechsift's way over {args.clips:,} clips (top 25 by tottime):")
        print(profile_text)


if __name__ == "__main__":
    main()
