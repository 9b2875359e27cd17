#!/usr/bin/env python
"""Benchmark: the Ray executor against the local executor on this machine (overhead, peak RSS).

What it does, in one run:

1. Writes, in a temp dir, a manifest of ``--clips`` clips (16 kHz mono FLAC, 1-3 s of harmonic
   tones with a gliding pitch, so the pitch tracker has work), two speakers per emotion label.
2. Runs one recipe on it with each executor, each in a fresh subprocess, ``--repeat`` times in
   turn (local, ray, local, ray, ...) so both see the same stretches of a shared machine: tasks
   ``transcription``, ``sit_ssp``, ``closed_ended_template`` and ``comparison_template`` (pairs over
   the clip index), the template backend (no LLM), features ``duration``, ``loudness``, ``pitch``,
   shards of ``--shard-size`` clips, Parquet and SIFT JSONL out.
   - local: ``engine.executor: local`` with ``engine.workers`` = every core (the default).
   - ray: ``engine.executor: ray`` on a Ray instance the run starts on this machine
     (``ray.init(num_cpus=max(cores, 4))``); Ray's start-up is timed apart from the run.
3. Prints, per executor, the best wall time of the run, clips/s, the ratio Ray ÷ local (the
   overhead of the Ray executor where there is no cluster to gain), Ray's start-up, and the peak
   RSS of the whole process tree (the run, its pool or Ray's processes and workers: sampled every
   50 ms with psutil), and checks that both executors released the same example ids.

Usage::

    .venv/bin/python benchmarks/bench_ray.py [--clips 400] [--shard-size 50] [--repeat 2]

Needs the ray extra (in dev) and psutil. On a 2-core machine Ray cannot gain anything: the
figure is the price of running through Ray where a single machine would do.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf

CHILD = r"""
import json, os, sys, time
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe
recipe = json.loads(sys.argv[1])
startup = 0.0
if recipe["engine"]["executor"] == "ray":
    import ray
    started = time.perf_counter()
    ray.init(num_cpus=max(os.cpu_count() or 1, 4), include_dashboard=False, log_to_driver=False)
    startup = time.perf_counter() - started
started = time.perf_counter()
result = run_recipe(parse_recipe(recipe), progress=False)
print(json.dumps({"seconds": time.perf_counter() - started, "startup": startup,
                  "examples": sum(result.examples.values())}))
"""

EMOTIONS = ["neutral", "happy", "sad", "angry"]


def make_corpus(folder: Path, clips: int, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    (folder / "clips").mkdir(parents=True)
    rows = ["id,audio,text,speaker,emotion,gender"]
    sr = 16_000
    for i in range(clips):
        seconds = float(rng.uniform(1.0, 3.0))
        t = np.arange(int(seconds * sr)) / sr
        f0 = rng.uniform(100, 250) * (1 + 0.2 * np.sin(2 * np.pi * 0.5 * t))
        phase = 2 * np.pi * np.cumsum(f0) / sr
        wave = sum(np.sin(k * phase) / k for k in (1, 2, 3)) * 0.2 + rng.normal(0, 0.005, t.size)
        sf.write(folder / "clips" / f"c{i:05d}.flac", wave.astype(np.float32), sr, subtype="PCM_16")
        emotion = EMOTIONS[i % len(EMOTIONS)]
        rows.append(f"c{i:05d},clips/c{i:05d}.flac,clip number {i} says something,s{i % 8},{emotion},"
                    f"{'female' if i % 2 else 'male'}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest


def recipe(manifest: Path, out: Path, executor: str, shard_size: int) -> dict:
    return {
        "name": "bench_ray",
        "sources": [{"name": "bench", "kind": "manifest", "path": str(manifest), "language": "en"}],
        "tasks": ["transcription", "sit_ssp", "closed_ended_template",
                  {"name": "comparison_template", "pairing": {"strategy": "random_within_corpus", "seed": 1}}],
        "llm": {"backend": "template"},
        "features": ["duration", "loudness", "pitch"],
        "output": {"dir": str(out), "formats": ["parquet", "sift_jsonl"], "report": False},
        "engine": {"executor": executor, "shard_size": shard_size},
    }


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and every descendant."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_once(manifest: Path, out: Path, executor: str, shard_size: int) -> dict:
    data = json.dumps(recipe(manifest, out, executor, shard_size))
    process = subprocess.Popen([sys.executable, "-c", CHILD, data], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{executor} run failed:\n{stderr[-3000:]}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    figures["peak_rss_mib"] = peak / 2**20
    return figures


def released_ids(out: Path) -> list[str]:
    import pyarrow.parquet as pq

    return sorted(i for p in sorted((out / "data").rglob("*.parquet")) for i in pq.read_table(p, columns=["id"])["id"].to_pylist())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--shard-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        root = Path(tmp)
        manifest = make_corpus(root / "corpus", args.clips)
        best: dict[str, dict] = {}
        for turn in range(args.repeat):
            for executor in ("local", "ray"):
                out = root / f"{executor}-{turn}"
                figures = run_once(manifest, out, executor, args.shard_size)
                figures["ids"] = released_ids(out)
                if executor not in best or figures["seconds"] < best[executor]["seconds"]:
                    best[executor] = figures
                print(f"  pass {turn + 1} {executor}: {figures['seconds']:.1f} s run "
                      f"(+{figures['startup']:.1f} s Ray start), peak RSS {figures['peak_rss_mib']:.0f} MiB", flush=True)
        local, on_ray = best["local"], best["ray"]
        same = local["ids"] == on_ray["ids"]
        load = os.getloadavg()
        print(f"\n{args.clips} clips, shards of {args.shard_size}, {local['examples']} examples released; "
              f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), load average "
              f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        print("| executor | run, best of %d (s) | clips/s | ÷ local | Ray start (s) | peak RSS, process tree (MiB) |"
              % args.repeat)
        print("|---|---|---|---|---|---|")
        for name, figures in (("local", local), ("ray", on_ray)):
            print(f"| {name} | {figures['seconds']:.1f} | {args.clips / figures['seconds']:.0f} | "
                  f"{figures['seconds'] / local['seconds']:.2f}× | {figures['startup']:.1f} | "
                  f"{figures['peak_rss_mib']:.0f} |")
        print(f"\nsame released example ids: {'yes' if same else 'NO'}")
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
