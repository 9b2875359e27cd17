#!/usr/bin/env python
"""Benchmark: the engine at scale (issue 13 part 2), this version against a baseline commit.

One recipe, the issue's task mix: five task families (``transcription``, ``sit_ssp``,
``closed_ended_template``, ``comparison_template``, ``controllable_template``) × three formats
(``parquet``, ``sift_jsonl``, ``messages``), the template backend, audio embedded, held-out splits
(eval per cell + dev), a training mixture, curation with exact and near dedup (``dedup: near``
finds both; with the template backend every target follows from its clip, so the index compares
within each clip, as a real run of this mix does) and the HTML report. Run over a synthetic corpus of ``--sizes`` clips, once per version, each run in a
fresh child process:

- **this version**: ``src/`` of this checkout;
- **the baseline**: ``--baseline`` (default: the main commit issue 13 part 2 started from),
  checked out with ``git worktree add`` into a temporary folder and imported from there by
  ``PYTHONPATH`` (the child prints which ``speechsift`` it imported, to be sure).

Per run: wall and CPU seconds (the child and its process pools), CPU per phase (shards: reading to
generation; release: ``finalize``, in ``engine/release.py`` since the executor seam and in
``engine/local.py`` before it, i.e. curation, dedup, splits, mixture, data files, exports and card,
and within it curation, ``assemble.curate``: scoring and dedup, and writing,
``assemble.write_release``: the data, complete and export files; report), peak RSS of the whole
process tree (sampled every ``--sample-s`` from
``/proc`` by the parent, summed over the child and its descendants; the largest single process's
``ru_maxrss`` too), and the release on disk (OUT without ``.work/``, the resume state, and without
``report/``, a page of fixed size: a few samples per task) against the source audio bytes (the size
of each clip's audio file, counted once per clip).

The corpus: ``--pool`` distinct tiny audio files (``--clip-seconds`` of a tone in noise, WAV
16 kHz mono) shared by many clips (clip ``i`` uses file ``i % pool``, so the rows of one Parquet
page never hold two clips with the same file); clip ids, speakers, languages (en, de, fr), texts
and labels vary per clip. Texts are drawn from a word list of the speaker's language;
``DUPLICATE_SHARE`` of them repeat an earlier clip's text exactly and ``NEAR_SHARE`` with one word
changed (many speakers reading the same sentences, as in a read-speech corpus). Tiny audio makes metadata weigh much more against the audio than it does on a real corpus,
so the disk ratio is measured on its own too (``--disk-clips`` clips, ``--disk-seconds`` of
distinct audio each: a real corpus's clip length).

Usage::

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10000 100000] [--baseline REV | --no-baseline]
        [--disk-clips 1000] [--keep DIR]

A 1M-clip run of this version only: ``--sizes 1000000 --no-baseline --disk-clips 0`` (about an hour
on a loaded 2-core machine; it needs roughly 3x the source audio bytes of free disk).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# main before issue 13 part 2 ("Merge branch 'i12-engine'"): the version the targets are relative to
BASELINE_COMMIT = "0178445"
TASKS = ["transcription", "sit_ssp", "closed_ended_template", "comparison_template", "controllable_template"]
FORMATS = ["parquet", "sift_jsonl", "messages"]
LANGUAGES = ("en", "de", "fr")
CLIPS_PER_SPEAKER = 20
DUPLICATE_SHARE = 0.05  # texts repeating an earlier clip's text exactly
NEAR_SHARE = 0.05  # texts repeating an earlier clip's text with one word changed
EVAL_PER_CELL = 200
DEV_FRACTION = 0.02
MIX_PER_CLIP = 3  # mix.size = this × clips train examples (of about 6 a clip that curation keeps)
SAMPLE_RATE = 16_000

# Targets from issue 13 part 2.
TARGET_RSS_BYTES = 2 * 2**30  # peak RSS of a 1M-clip run
TARGET_RSS_GROWTH = 1.5  # peak RSS at 1M ÷ at 100k
TARGET_RELEASE_CPU = 1 / 3  # release CPU per clip ÷ the baseline's
TARGET_DISK = 2.5  # release bytes ÷ source audio bytes (audio embedded)

# Words of each language, so that curation's language check sees the clip's language.
WORDS = {
    "en": ("the a morning river window garden letter music station market winter summer doctor teacher kitchen "
           "bridge mountain village paper coffee evening train city friend yellow quiet early late small large "
           "open closed quickly slowly always never often seven three twelve under over behind before after"),
    "de": ("der die das und morgen fluss fenster garten brief musik bahnhof markt winter sommer arzt lehrer "
           "küche brücke berg dorf papier kaffee abend zug stadt freund gelb leise früh spät klein groß offen "
           "geschlossen schnell langsam immer niemals oft sieben drei zwölf unter über hinter vor nach"),
    "fr": ("le la les et matin rivière fenêtre jardin lettre musique gare marché hiver été médecin professeur "
           "cuisine pont montagne village papier café soir train ville ami jaune calme tôt tard petit grand "
           "ouvert fermé vite lentement toujours jamais souvent sept trois douze sous sur derrière avant après"),
}
EMOTIONS = ("happy", "neutral", "sad", "angry", "surprise", "fear")
GENDERS = ("male", "female")
AGES = ("19", "27", "35", "44", "58", "67")
ACCENTS = ("United States English", "England English", "Scottish English", "Australian English")


# --- the corpus -------------------------------------------------------------------------------


def write_pool(folder: Path, count: int, seconds: float, seed: int = 0) -> list[Path]:
    """``count`` distinct WAV files: a tone in noise, each with its own pitch and noise."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    frames = max(1, int(seconds * SAMPLE_RATE))
    t = np.arange(frames) / SAMPLE_RATE
    paths = []
    for i in range(count):
        wave = 0.3 * np.sin(2 * np.pi * (110 + 3 * (i % 100)) * t) + 0.05 * rng.standard_normal(frames)
        path = folder / f"a{i:05d}.wav"
        sf.write(path, wave.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
        paths.append(path)
    return paths


def write_manifest(path: Path, clips: int, pool: list[Path], seed: int = 0) -> int:
    """A CSV of ``clips`` rows over the audio ``pool``; returns the source audio bytes (each clip's
    file size, counted once per clip)."""
    rng = random.Random(seed)
    sizes = [p.stat().st_size for p in pool]
    words = {language: text.split() for language, text in WORDS.items()}
    texts: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    total = 0
    speakers = max(2, clips // CLIPS_PER_SPEAKER)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "audio", "text", "speaker", "language", "gender", "age", "emotion", "accent",
                         "speaking_rate", "relative_db"])
        for i in range(clips):
            speaker = rng.randrange(speakers)
            language = LANGUAGES[speaker % len(LANGUAGES)]
            earlier, vocabulary = texts[language], words[language]
            draw = rng.random()
            if earlier and draw < DUPLICATE_SHARE:
                text = rng.choice(earlier)
            elif earlier and draw < DUPLICATE_SHARE + NEAR_SHARE:
                changed = rng.choice(earlier).split()
                changed[rng.randrange(len(changed))] = rng.choice(vocabulary)
                text = " ".join(changed)
            else:
                text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 16))).capitalize() + "."
            if len(earlier) < 5000:
                earlier.append(text)
            file = i % len(pool)
            total += sizes[file]
            writer.writerow([f"c{i:07d}", os.path.relpath(pool[file], path.parent), text, f"spk{speaker:06d}", language, GENDERS[speaker % 2], AGES[speaker % len(AGES)],
                             EMOTIONS[rng.randrange(len(EMOTIONS))], ACCENTS[speaker % len(ACCENTS)],
                             f"{rng.uniform(4, 11):.2f}", f"{rng.uniform(-30, -5):.2f}"])
    return total


def write_recipe(path: Path, manifest: Path, clips: int) -> Path:
    recipe = {
        "name": "bench_scale",
        "license": "cc0-1.0",
        "sources": [{"name": "bench", "kind": "manifest", "path": str(manifest), "language": "en"}],
        "tasks": [*TASKS[:3], {"name": "comparison_template",
                               "pairing": {"strategy": "same_speaker_different_emotion", "seed": 0}}, TASKS[4]],
        "llm": {"backend": "template"},
        "output": {"dir": str(path.parent / "out"), "audio": "embed", "formats": FORMATS, "report": True},
        "curate": {"dedup": "near"},
        "splits": {"eval": {"per_cell": EVAL_PER_CELL}, "dev": {"fraction": DEV_FRACTION}, "seed": 0},
        "mix": {"size": MIX_PER_CLIP * clips, "weights": {"task": {"sit_ssp": 2}}, "seed": 0},
    }
    import yaml

    path.write_text(yaml.safe_dump(recipe, sort_keys=False), encoding="utf-8")
    return path


# --- one run, in a child process ---------------------------------------------------------------


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def child(recipe_path: Path, out: Path, result_path: Path) -> None:
    """Run the recipe with the ``speechsift`` on ``sys.path`` and write the figures as JSON."""
    import speechsift
    from speechsift.engine import assemble, run_recipe
    from speechsift.recipe import load_recipe

    try:  # the release's module: engine/release.py since the executor seam, engine/local.py before
        from speechsift.engine import release as host

        host.finalize  # noqa: B018
    except (ImportError, AttributeError):
        from speechsift.engine import local as host

    phases: dict[str, dict[str, float]] = {}

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            cpu, wall = _cpu_seconds(), time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                phase = phases.setdefault(name, {"cpu_s": 0.0, "wall_s": 0.0})
                phase["cpu_s"] += _cpu_seconds() - cpu
                phase["wall_s"] += time.perf_counter() - wall
        return wrapper

    from speechsift.engine.progress import ProgressReporter

    phase_file = result_path.with_suffix(".phase")
    phase_file.write_text("preparing", encoding="utf-8")
    announce = ProgressReporter.phase

    def phase(self, name, *args, **kwargs):  # tell the parent's RSS sampler which phase runs now
        phase_file.write_text(name, encoding="utf-8")
        return announce(self, name, *args, **kwargs)

    ProgressReporter.phase = phase
    host.finalize = timed("release", host.finalize)
    host.write_report = timed("report", host.write_report)
    # within the release: curation's scoring and dedup, and the writing of the release's files
    # (assemble.py calls both by their module names, in this version and in the baseline)
    assemble.curate = timed("curation", assemble.curate)
    assemble.write_release = timed("writing", assemble.write_release)
    recipe = load_recipe(recipe_path, {"output.dir": str(out)})
    cpu, wall = _cpu_seconds(), time.perf_counter()
    result = run_recipe(recipe, progress=False)
    cpu, wall = _cpu_seconds() - cpu, time.perf_counter() - wall
    top = [phases[name] for name in ("release", "report") if name in phases]  # curation, writing: within release
    phases["shards"] = {"cpu_s": cpu - sum(p["cpu_s"] for p in top), "wall_s": wall - sum(p["wall_s"] for p in top)}
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    figures = {
        "speechsift": str(Path(speechsift.__file__).parent),
        "cpu_s": cpu,
        "wall_s": wall,
        "phases": phases,
        "max_process_rss_bytes": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                     resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024,
        "examples_generated": sum(run["generated"].values()),
        "examples_released": sum(result.examples.values()),
        "counts": run["counts"],
        "rejects": run["rejects"],
    }
    result_path.write_text(json.dumps(figures, indent=2), encoding="utf-8")


def _tree_rss(pid: int) -> tuple[int, int]:
    """Resident bytes of ``pid`` and all its descendants, and of ``pid`` alone, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm", encoding="ascii") as handle:
                rss[int(entry)] = int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack += children.get(current, [])
    return total, rss.get(pid, 0)


def _disk(folder: Path) -> dict[str, int]:
    """Bytes on disk under ``folder`` per top-level entry (``.work`` left out: resume state)."""
    sizes: dict[str, int] = {}
    for entry in folder.iterdir():
        if entry.name == ".work":
            continue
        files = [entry] if entry.is_file() else (p for p in entry.rglob("*") if p.is_file())
        sizes[entry.name] = sum(p.stat().st_blocks * 512 for p in files)
    return sizes


def measure(src: Path, recipe: Path, out: Path, sample_s: float) -> dict[str, Any]:
    """One run of the recipe with the ``speechsift`` under ``src``, in a child process."""
    shutil.rmtree(out, ignore_errors=True)
    result = out.with_suffix(".json")
    env = {**os.environ, "PYTHONPATH": str(src)}
    phase_file = result.with_suffix(".phase")
    phase_file.unlink(missing_ok=True)
    process = subprocess.Popen([sys.executable, __file__, "--child", str(recipe), str(out), str(result)], env=env)
    peak = 0
    by_phase: dict[str, int] = {}  # the tree's peak RSS while each progress phase ran
    own_by_phase: dict[str, int] = {}  # the run's own process (workers left out)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            rss, own = _tree_rss(process.pid)
            peak = max(peak, rss)
            try:
                name = phase_file.read_text(encoding="utf-8") or "starting"
            except OSError:
                name = "starting"
            by_phase[name] = max(by_phase.get(name, 0), rss)
            own_by_phase[name] = max(own_by_phase.get(name, 0), own)
            stop.wait(sample_s)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    stop.set()
    sampler.join()
    if code != 0:
        raise SystemExit(f"the run with {src} failed (exit code {code}); see the output above")
    figures = json.loads(result.read_text(encoding="utf-8"))
    figures["peak_rss_bytes"] = peak
    figures["peak_rss_by_phase"] = by_phase
    figures["peak_own_rss_by_phase"] = own_by_phase
    figures["disk"] = _disk(out)
    figures["release_bytes"] = sum(n for name, n in figures["disk"].items() if name != "report")
    return figures


# --- the table -----------------------------------------------------------------------------------


def _mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB" if n < 2**30 else f"{n / 2**30:,.2f} GiB"


def _ratio(new: float, base: float | None) -> str:
    return f"{new / base:.2f}×" if base else ""


def print_table(rows: list[dict[str, Any]]) -> None:
    print("\n| clips | version | wall | CPU | shards CPU | release CPU | release CPU / clip | of which curation "
          "| of which writing / clip | report CPU | peak RSS (tree) | largest process | examples generated / released "
          "| release on disk | ÷ source audio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        f = row["figures"]
        base = row.get("base")
        phases = f["phases"]
        per_clip = phases["release"]["cpu_s"] / row["clips"] * 1000
        cells = [
            f"{row['clips']:,}", row["version"], f"{f['wall_s']:,.0f} s", f"{f['cpu_s']:,.0f} s",
            f"{phases['shards']['cpu_s']:,.0f} s", f"{phases['release']['cpu_s']:,.0f} s",
            f"{per_clip:.2f} ms", f"{phases.get('curation', {}).get('cpu_s', 0):,.0f} s",
            f"{phases.get('writing', {}).get('cpu_s', 0) / row['clips'] * 1000:.2f} ms",
            f"{phases.get('report', {}).get('cpu_s', 0):,.0f} s",
            _mib(f["peak_rss_bytes"]), _mib(f["max_process_rss_bytes"]),
            f"{f['examples_generated']:,} / {f['examples_released']:,}", _mib(f["release_bytes"]),
            f"{f['release_bytes'] / row['source_bytes']:.2f}×",
        ]
        if base is not None:
            b = base
            cells[2] += f" ({_ratio(f['wall_s'], b['wall_s'])})"
            cells[3] += f" ({_ratio(f['cpu_s'], b['cpu_s'])})"
            cells[6] += f" ({_ratio(phases['release']['cpu_s'], b['phases']['release']['cpu_s'])})"
            if "writing" in phases and "writing" in b["phases"]:
                cells[8] += f" ({_ratio(phases['writing']['cpu_s'], b['phases']['writing']['cpu_s'])})"
            cells[10] += f" ({_ratio(f['peak_rss_bytes'], b['peak_rss_bytes'])})"
            cells[13] += f" ({_ratio(f['release_bytes'], b['release_bytes'])})"
        print("| " + " | ".join(cells) + " |")
    for row in rows:
        phases = ", ".join(f"{name} {_mib(n)}" for name, n in row["figures"].get("peak_rss_by_phase", {}).items())
        own = ", ".join(f"{name} {_mib(n)}" for name, n in row["figures"].get("peak_own_rss_by_phase", {}).items())
        print(f"  {row['clips']:,} clips, {row['version']}: peak RSS by phase, tree: {phases}; the run's own "
              f"process: {own}")
    for row in rows:
        disk = ", ".join(f"{name} {_mib(n)}" for name, n in sorted(row["figures"]["disk"].items(), key=lambda kv: -kv[1]))
        print(f"  {row['clips']:,} clips, {row['version']}: source audio {_mib(row['source_bytes'])}; release: {disk}")


def print_targets(rows: list[dict[str, Any]]) -> None:
    ours = {r["clips"]: r for r in rows if r["version"] == "this version"}
    print("\n| target (issue 13 part 2) | measured | met |")
    print("|---|---|---|")
    big = ours.get(max(ours)) if ours else None
    if big is not None and big["clips"] >= 1_000_000:
        rss = big["figures"]["peak_rss_bytes"]
        print(f"| peak RSS of a {big['clips']:,}-clip run ≤ {_mib(TARGET_RSS_BYTES)} | {_mib(rss)} "
              f"| {'yes' if rss <= TARGET_RSS_BYTES else 'no'} |")
        if 100_000 in ours:
            growth = rss / ours[100_000]["figures"]["peak_rss_bytes"]
            print(f"| peak RSS growth 100k → {big['clips']:,} ≤ {TARGET_RSS_GROWTH}× | {growth:.2f}× "
                  f"| {'yes' if growth <= TARGET_RSS_GROWTH else 'no'} |")
    else:
        print("| peak RSS of a 1M-clip run ≤ 2 GiB; growth 100k → 1M ≤ 1.5× | not measured in this run "
              "(`--sizes 100000 1000000`) | |")
    for row in (r for r in rows if r.get("base") is not None and r["kind"] == "scale"):
        ours_, base_ = row["figures"]["phases"], row["base"]["phases"]
        if "release" in ours_ and "release" in base_:
            ratio = ours_["release"]["cpu_s"] / base_["release"]["cpu_s"]
            print(f"| release CPU per clip (curation, splits, mix, writing) ≤ 1/3 of the baseline's "
                  f"({row['clips']:,} clips) | {ratio:.2f}× | {'yes' if ratio <= TARGET_RELEASE_CPU else 'no'} |")
            parts = [f"{name} {ours_[name]['cpu_s'] / base_[name]['cpu_s']:.2f}×" for name in ("curation", "writing")
                     if name in ours_ and name in base_]
            print(f"|   of which (not targets of their own): {', '.join(parts)} | | |")
    for row in (r for r in rows if r["version"] == "this version" and r["kind"] == "disk"):
        ratio = row["figures"]["release_bytes"] / row["source_bytes"]
        print(f"| release on disk ≤ {TARGET_DISK}× the source audio ({row['clips']:,} clips of "
              f"{row['seconds']:g} s) | {ratio:.2f}× | {'yes' if ratio <= TARGET_DISK else 'no'} |")


def checkout(rev: str, folder: Path) -> Path:
    """``rev`` checked out with ``git worktree add`` (detached); returns its ``src`` folder."""
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(folder), rev], check=True)
    return folder / "src"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", nargs=3, metavar=("RECIPE", "OUT", "RESULT"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="clips per run")
    parser.add_argument("--baseline", default=BASELINE_COMMIT, help="the baseline's git revision")
    parser.add_argument("--no-baseline", action="store_true", help="measure this version only")
    parser.add_argument("--this", metavar="REV", help="measure this git revision as 'this version' (default: the "
                                                      "working tree's src/)")
    parser.add_argument("--no-this", action="store_true", help="measure the baseline only")
    parser.add_argument("--pool", type=int, default=2000, help="distinct audio files the clips share")
    # above engine.min_duration_s (0.3 s by default): a shorter clip is a too_short reject
    parser.add_argument("--clip-seconds", type=float, default=0.5, help="length of each pooled audio file")
    parser.add_argument("--disk-clips", type=int, default=1000,
                        help="clips of the disk measurement, each with its own audio (0: skip it)")
    parser.add_argument("--disk-seconds", type=float, default=4.0, help="audio length in the disk measurement")
    parser.add_argument("--sample-s", type=float, default=0.1, help="RSS sampling interval")
    parser.add_argument("--keep", type=Path, help="keep the corpora and outputs in this folder")
    args = parser.parse_args()
    if args.child:
        child(*map(Path, args.child))
        return

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_scale-"))
    root.mkdir(parents=True, exist_ok=True)
    versions = [] if args.no_this else [("this version", REPO / "src")]
    worktrees = []
    subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], check=True)
    if args.this and versions:
        worktrees.append(root / "this")
        versions = [("this version", checkout(args.this, worktrees[-1]))]
    if not args.no_baseline:
        worktrees.append(root / "baseline")
        versions.insert(0, ("baseline " + args.baseline, checkout(args.baseline, worktrees[-1])))
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"load average at start {os.getloadavg()[0]:.1f}; work folder {root}")
    rows: list[dict[str, Any]] = []
    runs = [("scale", n, args.pool, args.clip_seconds) for n in args.sizes]
    if args.disk_clips:
        runs.append(("disk", args.disk_clips, args.disk_clips, args.disk_seconds))
    try:
        for kind, clips, pool_size, seconds in runs:
            folder = root / f"{kind}-{clips}"
            pool = write_pool(root / f"pool-{pool_size}x{seconds:g}s", pool_size, seconds)
            manifest = folder / "manifest.csv"
            folder.mkdir(parents=True, exist_ok=True)
            source_bytes = write_manifest(manifest, clips, pool)
            recipe = write_recipe(folder / "recipe.yaml", manifest, clips)
            base = None
            for version, src in versions:
                load = os.getloadavg()[0]
                print(f"{kind} {clips:,} clips, {version}: running (load average {load:.1f}) ...", flush=True)
                figures = measure(src, recipe, folder / ("out-" + version.split()[0]), args.sample_s)
                print(f"  imported {figures['speechsift']}; {figures['wall_s']:.0f} s wall, {figures['cpu_s']:.0f} s CPU, "
                      f"peak RSS {_mib(figures['peak_rss_bytes'])} (by phase: "
                      + ", ".join(f"{name} {_mib(n)} (own {_mib(figures['peak_own_rss_by_phase'][name])})"
                                 for name, n in figures["peak_rss_by_phase"].items()) + ")",
                      flush=True)
                rows.append({"kind": kind, "clips": clips, "seconds": seconds, "version": version,
                             "source_bytes": source_bytes, "figures": figures, "base": base,
                             "load": [load, os.getloadavg()[0]]})
                if version != "this version":
                    base = figures
                if not args.keep:
                    shutil.rmtree(folder / ("out-" + version.split()[0]), ignore_errors=True)
    finally:
        for worktree in worktrees:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(worktree)], check=False)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print_table(rows)
    print_targets(rows)
    loads = [x for r in rows for x in r["load"]]
    print(f"\nload average during the runs: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs "
          "(figures of one run compare with each other; compare across runs with care)")


if __name__ == "__main__":
    main()
