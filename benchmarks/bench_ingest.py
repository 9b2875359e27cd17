#!/usr/bin/env python
"""Benchmark: listing a Common Voice locale folder with the native corpus reader.

Builds, in a temp dir, a synthetic Common Voice 17 locale folder: a ``validated.tsv`` of
``--clips`` rows (release-17 columns, labels cycling through every age bucket, both gender
spellings, accents, variants, and sentences holding tabs-free quotes) and a ``clips/`` folder
where every row's MP3 exists as a hard link to a tiny file (listing never decodes audio, but
``check_audio`` stats every path, so each name must exist).

Then, each in a fresh subprocess (so each peak RSS is its own), reads the folder with
``read_corpus("common_voice", ...)`` to the end, streaming (clips are counted and dropped), and
reports clips/s and the child's peak RSS (``ru_maxrss``):

1. ``check_audio=True`` (the default: one ``stat`` per row),
2. ``check_audio=False`` (rows only),
3. ``check_audio=True`` and ``durations=True`` (also reads ``clip_durations.tsv``).

Every clip comes out normalized (``meta`` filled from the label tables), as the reader returns it.
The target from the issue is >= 20,000 clips/s. Best of ``--repeat`` passes per configuration.

Usage::

    .venv/bin/python benchmarks/bench_ingest.py [--clips 200000] [--repeat 3] [--no-pin]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_CLIPS_PER_S = 20_000
HEADER = ["client_id", "path", "sentence_id", "sentence", "sentence_domain", "up_votes", "down_votes", "age",
          "gender", "accents", "variant", "locale", "segment"]
AGES = ["teens", "twenties", "thirties", "fourties", "fifties", "sixties", "seventies", "eighties", "nineties", ""]
GENDERS = ["male_masculine", "female_feminine", "", "male", "female", "do_not_wish_to_say", "non-binary"]
ACCENTS = ["", "United States English", "England English|Southern", "", "India and South Asia (India, Pakistan, Sri Lanka)"]
LINKS_PER_FILE = 50_000
MP3 = bytes.fromhex("fffb9064") + bytes(413)  # one MPEG-1 layer III frame header and silence


def build(folder: Path, clips: int) -> Path:
    locale = folder / "cv-corpus-17.0-2024-03-15" / "en"
    audio = locale / "clips"
    audio.mkdir(parents=True)
    seed = audio / "seed.mp3"
    durations = []
    with (locale / "validated.tsv").open("w", encoding="utf-8") as tsv:
        tsv.write("\t".join(HEADER) + "\n")
        for i in range(clips):
            name = f"common_voice_en_{40_000_000 + i}.mp3"
            if i % LINKS_PER_FILE == 0:  # file systems cap the links to one inode (ext4: 65,000)
                seed = audio / f"seed{i // LINKS_PER_FILE}.mp3"
                seed.write_bytes(MP3)
            os.link(seed, audio / name)
            row = [
                f"{i % 9973:064x}", name, f"{i * 7919 % 10**9:064x}", f'Sentence number {i}, "quoted" and plain.',
                "general" if i % 3 else "", str(2 + i % 3), str(i % 2), AGES[i % len(AGES)],
                GENDERS[i % len(GENDERS)], ACCENTS[i % len(ACCENTS)], "en-US" if i % 11 == 0 else "", "en", "",
            ]
            tsv.write("\t".join(row) + "\n")
            durations.append(f"{name}\t{3000 + i % 4000}\n")
    for name in ("train", "dev", "test"):
        (locale / f"{name}.tsv").write_text("\t".join(HEADER) + "\n", encoding="utf-8")
    with (locale / "clip_durations.tsv").open("w", encoding="utf-8") as handle:
        handle.write("clip\tduration[ms]\n")
        handle.writelines(durations)
    return locale


def child(root: str, options: str, repeat: int) -> None:
    """One configuration, in this (fresh) process: best-of-repeat clips/s and the peak RSS."""
    from speechsift.records import Clip
    from speechsift.sources.corpora import read_corpus

    kwargs = json.loads(options)
    best = float("inf")
    count = rejected = 0
    for _ in range(repeat):
        count = rejected = 0
        start = time.perf_counter()
        for item in read_corpus("common_voice", root, **kwargs):
            if type(item) is Clip:
                count += 1
            else:
                rejected += 1
        best = min(best, time.perf_counter() - start)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"clips": count, "rejected": rejected, "seconds": best, "peak_rss_mib": peak_kib / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    parser.add_argument("--child", nargs=3, metavar=("ROOT", "OPTIONS", "REPEAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    configs = [
        ("check_audio=True (default)", {}),
        ("check_audio=False", {"check_audio": False}),
        ("check_audio=True, durations=True", {"durations": True}),
    ]
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        start = time.perf_counter()
        root = build(Path(tmp), args.clips)
        built = time.perf_counter() - start
        print(f"synthetic Common Voice locale: {args.clips:,} rows in validated.tsv, built in {built:.1f} s")
        print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
              f"{'pinned to one CPU' if not args.no_pin else 'not pinned'}; best of {args.repeat}; "
              f"load average {os.getloadavg()[0]:.2f} (a busy machine lowers clips/s)\n")
        print(f"{'configuration':36s} {'clips':>9s} {'rejects':>8s} {'seconds':>8s} {'clips/s':>10s} {'peak RSS':>10s}  target")
        for label, options in configs:
            done = subprocess.run(
                [sys.executable, __file__, "--child", str(root), json.dumps(options), str(args.repeat)],
                capture_output=True, text=True, check=True,
            )
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rate = result["clips"] / result["seconds"]
            verdict = "met" if rate >= TARGET_CLIPS_PER_S else "MISSED"
            print(f"{label:36s} {result['clips']:>9,} {result['rejected']:>8,} {result['seconds']:>8.3f} "
                  f"{rate:>10,.0f} {result['peak_rss_mib']:>7.1f} MiB  >= {TARGET_CLIPS_PER_S:,}/s {verdict}")


if __name__ == "__main__":
    main()
