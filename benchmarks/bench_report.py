#!/usr/bin/env python
"""Benchmark: the HTML report (``speechsift.report.build_report``) of a 100k-example output folder.

Writes, in a temp dir, a synthetic run output in the real layout and schema:
``data/<task>/train-part-*.parquet`` (the schema of ``speechsift.export.parquet.parquet_schema``,
audio embedded as FLAC bytes, ``generation.llm_messages`` holding a realistic prompt), ``run.json``
and ``rejects.jsonl``; with ``--quality`` also a ``quality`` struct column and ``complete/`` (every
scored example, ``data/`` then holding the kept ones), with ``--embedding-dim`` an ``embedding`` column.
Then builds the report in a fresh subprocess and prints its wall time, peak RSS and the bytes it
read (``rchar``: page-cache hits included).

Usage::

    .venv/bin/python benchmarks/bench_report.py [--examples 100000] [--part-rows 1000]
        [--row-group-rows N] [--audio-seconds 2.0] [--samples 50] [--quality] [--embedding-dim 0]
        [--keep DIR | --existing DIR] [--profile]

Most of the bytes read are the audio of the sampled rows: pyarrow reads a column chunk of a row
group whole, so every row group holding a sampled row costs its whole audio. ``--row-group-rows``
shows what smaller row groups in the writer would save.

The responses are LLM-like: task-specific openings drawn from small pools (so the openings table
has something to find), metadata words and a random transcript from a 600-word vocabulary.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

import speechsift.engine  # noqa: F401  (imported first: export.parquet and engine import each other)
from speechsift.export.parquet import parquet_schema
from speechsift.records import META_FIELDS

TARGET_SECONDS = 60.0  # from the issue: a 100k-example report builds in under a minute
TASKS = ("transcription", "sit_ssp", "emotion_qa", "speaker_description")
SOURCES = ("cremad", "esd", "librispeech", "commonvoice")
LABELS = {
    "emotion": ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise", None),
    "gender": ("female", "male", None),
    "age": ("teenager", "young adult", "middle-age adult", "senior", None),
    "pace": ("slow", "normal", "fast", None),
    "volume": ("quiet", "normal", "loud", None),
    "accent": ("United States English", "England English", "Indian English", "Australian English", None),
    "pitch": ("low", "medium", "high", None),
}
OPENINGS = {
    "sit_ssp": ["Sounds like a", "The speaker is a", "This is a", "A"],
    "emotion_qa": [
        "The speaker sounds",
        "Based on the tone, the speaker is",
        "It sounds like the speaker is",
        "Their voice suggests they are",
        "Judging by the voice, they feel",
        "The emotion conveyed is",
    ],
    "speaker_description": [
        "This recording features",
        "In this clip,",
        "The audio contains",
        "We hear",
        "Here,",
        "The clip presents",
        "Listening to this,",
        "The voice belongs to",
    ],
}
INSTRUCTIONS = {
    "transcription": ["Transcribe:", "Write down what is said.", "What does the speaker say?"],
    "sit_ssp": ["Describe all information you can hear:"],
    "emotion_qa": ["How does the speaker feel?", "What emotion do you hear?", "Describe the speaker's mood."],
    "speaker_description": ["Describe the speaker.", "Who is talking, and how?", "Characterize the voice."],
}


def quality_type() -> pa.StructType:
    """The curate stage's quality struct (about 60 fields; the synthetic rows fill the common ones)."""
    from speechsift.curate import quality_arrow_type

    return quality_arrow_type()


DOMAINS = ("daily life", "work", "travel", "family", "health", "news", "sports", "science")


def _clips(count: int, seconds: float, rng: np.random.Generator) -> list[bytes]:
    """``count`` distinct FLAC clips of speech-like noise (bursts under a syllable-rate envelope)."""
    sr = 16_000
    t = np.arange(int(seconds * sr)) / sr
    out = []
    for _ in range(count):
        envelope = np.clip(np.sin(2 * np.pi * rng.uniform(3, 6) * t + rng.uniform(0, 6)), 0, None) ** 2
        carrier = np.convolve(rng.normal(size=t.size), np.ones(6) / 6, mode="same")
        wave = (0.3 * envelope * carrier + 0.003 * rng.normal(size=t.size)).astype(np.float32)
        buffer = io.BytesIO()
        sf.write(buffer, wave, sr, format="FLAC")
        out.append(buffer.getvalue())
    return out


def _unique_flac(base: bytes, index: int) -> bytes:
    """``base`` with an APPLICATION metadata block holding ``index``: a distinct, still valid FLAC file per row
    (real audio never repeats, so neither Parquet's dictionary encoding nor zstd may shrink it)."""
    pos = 4
    while True:
        header = base[pos]
        length = int.from_bytes(base[pos + 1 : pos + 4], "big")
        if header & 0x80:
            block = bytes([0x80 | 2]) + (12).to_bytes(3, "big") + b"sbnc" + index.to_bytes(8, "big")
            return (
                base[:pos]
                + bytes([header & 0x7F])
                + base[pos + 1 : pos + 4 + length]
                + block
                + base[pos + 4 + length :]
            )
        pos += 4 + length


def _response(task: str, meta: dict[str, str | None], transcript: str, rng: np.random.Generator) -> str:
    if task == "transcription":
        return transcript.lower()
    opening = OPENINGS[task][int(rng.integers(len(OPENINGS[task])))]
    words = [w for w in (meta["age"], meta["gender"]) if w]
    mood = meta["emotion"] or "calm"
    if task == "sit_ssp":
        return f'{opening} {" ".join(words) or "person"} saying "{transcript}" in a {mood} tone.'
    if task == "emotion_qa":
        return (
            f"{opening} {mood}; the {meta['pace'] or 'steady'} delivery and {meta['volume'] or 'even'} voice show it."
        )
    return (
        f"{opening} a {' '.join(words) or 'speaker'} with a {meta['accent'] or 'neutral'} accent, "
        f"speaking at a {meta['pace'] or 'moderate'} pace. They say: {transcript}"
    )


def write_output(
    root: Path,
    examples: int,
    part_rows: int,
    audio_seconds: float,
    quality: bool,
    embedding_dim: int,
    row_group_rows: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    vocabulary = [f"w{i}" for i in range(600)]
    clips = _clips(64, audio_seconds, rng)
    per_task = examples // len(TASKS)
    n_clips = per_task
    schema = parquet_schema("audio")
    if quality:
        schema = schema.append(pa.field("quality", quality_type()))
    if embedding_dim:
        schema = schema.append(pa.field("embedding", pa.list_(pa.float32())))
    clip_meta = []
    for c in range(n_clips):
        meta = {
            name: LABELS[name][int(rng.integers(len(LABELS[name])))] if name in LABELS else None for name in META_FIELDS
        }
        transcript = " ".join(vocabulary[int(i)] for i in rng.integers(0, len(vocabulary), int(rng.integers(4, 20))))
        clip_meta.append(
            (meta, transcript.capitalize() + ".", SOURCES[c % len(SOURCES)], float(rng.uniform(1.0, 12.0)))
        )
    written = rejects = 0
    bytes_on_disk = 0
    counts = {}
    with (root / "rejects.jsonl").open("w", encoding="utf-8") as rejects_file:
        for task in TASKS:
            for start in range(0, per_task, part_rows):
                rows = []
                kept_mask = []
                for c in range(start, min(start + part_rows, per_task)):
                    meta, transcript, source, duration = clip_meta[c]
                    instruction = INSTRUCTIONS[task][int(rng.integers(len(INSTRUCTIONS[task])))]
                    response = _response(task, meta, transcript, rng)
                    example_id = f"{task[:3]}{c:09d}"
                    backend = "direct" if task == "transcription" else "openai"
                    prompt = (
                        f"You write training data for a speech model. Metadata: {json.dumps(meta)}. "
                        f"Transcript: {transcript}. Write one {task} answer."
                    ) * 3
                    row = {
                        "id": example_id,
                        "task": task,
                        "source": source,
                        "language": "en",
                        "split": "train",
                        "clip_ids": [f"{source}/{c:08d}"],
                        "audio": {"bytes": _unique_flac(clips[c % len(clips)], c), "path": f"{c:08d}.flac"},
                        "instruction": instruction,
                        "response": response,
                        "messages": [
                            {
                                "role": "user",
                                "content": [
                                    {"type": "audio", "text": None, "audio": 0},
                                    {"type": "text", "text": instruction, "audio": None},
                                ],
                            },
                            {"role": "assistant", "content": [{"type": "text", "text": response, "audio": None}]},
                        ],
                        "meta": meta,
                        "speaker_id": f"spk{c % 500}",
                        "transcript": transcript,
                        "duration_s": duration,
                        "generation": {
                            "backend": backend,
                            "model": None if backend == "direct" else "Qwen/Qwen3-8B",
                            "temperature": 0.8,
                            "top_p": 0.92,
                            "max_tokens": 256,
                            "seed": None,
                            "sample_index": 0,
                            "llm_messages": [] if backend == "direct" else [{"role": "user", "content": prompt}],
                            "finish_reason": "stop",
                            "prompt_tokens": 180,
                            "completion_tokens": 40,
                            "truncated": False,
                        },
                    }
                    if quality:
                        leaked = bool(rng.random() < 0.04)
                        repetition = float(rng.beta(2, 8))
                        row["quality"] = {
                            "audio_present": True,
                            "length_words": float(len(response.split())),
                            "length_chars": float(len(response)),
                            "length_empty": False,
                            "repetition_score": repetition,
                            "boilerplate_refusal": bool(rng.random() < 0.005),
                            "leakage_flag": leaked,
                            "leakage_kind": "label_echo" if leaked else None,
                            "leakage_match": (meta["emotion"] or "calm") if leaked else None,
                            "consistency_gender_conflict": bool(rng.random() < 0.01),
                            "language_detected": "en",
                            "language_confidence": float(rng.uniform(0.8, 1.0)),
                            "language_match": True,
                            "readability_flesch": float(rng.normal(70, 15)),
                            "readability_grade": float(rng.normal(6, 2)),
                            "domain_label": DOMAINS[int(rng.integers(len(DOMAINS)))],
                            "domain_similarity": float(rng.uniform(0.2, 0.7)),
                            "dedup_kind": "near" if rng.random() < 0.02 else None,
                        }
                        kept_mask.append(not leaked and repetition < 0.5)
                    if embedding_dim:
                        row["embedding"] = rng.normal(size=embedding_dim).astype(np.float32).tolist()
                    rows.append(row)
                table = pa.Table.from_pylist(rows, schema=schema)
                name = f"train-part-{start // part_rows:05d}.parquet"
                if quality:
                    target = root / "complete" / task / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    pq.write_table(table, target, compression="zstd", row_group_size=row_group_rows)
                    bytes_on_disk += target.stat().st_size
                    keep = pa.array(kept_mask)
                    for row, k in zip(rows, kept_mask):
                        if not k:
                            rejects += 1
                            rejects_file.write(
                                json.dumps(
                                    {
                                        "id": row["id"],
                                        "stage": "curate",
                                        "reason": "leakage",
                                        "message": "the response repeats the metadata",
                                        "source": row["source"],
                                        "task": task,
                                    }
                                )
                                + "\n"
                            )
                    table = table.filter(keep)
                target = root / "data" / task / name
                target.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, target, compression="zstd", row_group_size=row_group_rows)
                bytes_on_disk += target.stat().st_size
                written += table.num_rows
                counts[task] = counts.get(task, 0) + table.num_rows
        for i in range(n_clips // 50):  # a few clip-level rejects
            rejects_file.write(
                json.dumps(
                    {
                        "id": f"{SOURCES[i % 4]}/x{i}",
                        "stage": "probe_audio",
                        "reason": "unreadable_audio",
                        "message": "bad header",
                    }
                )
                + "\n"
            )
            rejects += 1
    clip_rejects = n_clips // 50
    run = {
        "recipe": {
            "name": "bench",
            "description": "Synthetic output for the report benchmark.",
            "tasks": [{"name": t} for t in TASKS],
            "llm": {"backend": "openai", "model": "Qwen/Qwen3-8B"},
        },
        "versions": {"speechsift": "bench"},
        "started_at": "2026-01-01T00:00:00+00:00",
        "seconds": 0.0,
        "counts": {
            "read": {
                "inputs": n_clips + clip_rejects,
                "outputs": n_clips + clip_rejects,
                "rejected": 0,
                "rejected_by_reason": {},
            },
            "probe_audio": {
                "inputs": n_clips + clip_rejects,
                "outputs": n_clips,
                "rejected": clip_rejects,
                "rejected_by_reason": {"unreadable_audio": clip_rejects},
            },
            **{
                f"task.{t}": {"inputs": n_clips, "outputs": per_task, "rejected": 0, "rejected_by_reason": {}}
                for t in TASKS
            },
            "generate": {
                "inputs": per_task * len(TASKS),
                "outputs": per_task * len(TASKS),
                "rejected": 0,
                "rejected_by_reason": {},
            },
        },
        "examples": counts,
        "rejects": rejects,
        "unknown_labels": {},
        "llm": {"requests": per_task * 3},
    }
    if quality:
        run["counts"]["curate"] = {
            "inputs": per_task * len(TASKS),
            "outputs": written,
            "rejected": per_task * len(TASKS) - written,
            "rejected_by_reason": {"leakage": per_task * len(TASKS) - written},
        }
    (root / "run.json").write_text(json.dumps(run, indent=2))
    return {
        "examples": written,
        "scored": per_task * len(TASKS),
        "bytes": bytes_on_disk,
        "audio_bytes_per_row": float(np.mean([len(c) for c in clips])),
    }


def describe_output(root: Path) -> dict[str, float]:
    """The figures :func:`write_output` returns, read back from an existing output folder."""
    data = list((root / "data").rglob("*.parquet"))
    complete = list((root / "complete").rglob("*.parquet"))
    examples = sum(pq.read_metadata(p).num_rows for p in data)
    scored = sum(pq.read_metadata(p).num_rows for p in complete) or examples
    sizes = pq.read_table(data[0], columns=["audio"]).column("audio").combine_chunks().field("bytes")
    return {
        "examples": examples,
        "scored": scored,
        "bytes": sum(p.stat().st_size for p in data + complete),
        "audio_bytes_per_row": float(np.mean([len(b or b"") for b in sizes.to_pylist()])),
    }


CHILD = """
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from speechsift.report import build_report
imported = time.perf_counter()
profile = sys.argv[3] == "1"
if profile:
    import cProfile, pstats
    profiler = cProfile.Profile(); profiler.enable()
path = build_report(Path(sys.argv[1]), max_samples_per_task=int(sys.argv[2]))
done = time.perf_counter()
if profile:
    profiler.disable(); pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
rchar = int(next(l for l in open("/proc/self/io") if l.startswith("rchar")).split()[1])
print(json.dumps({"build_s": done - imported, "read_gib": rchar / 2**30, "import_s": imported - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "html_bytes": path.stat().st_size,
                  "audio_files": len(list((path.parent / "audio").iterdir()))}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--part-rows", type=int, default=1000, help="rows per Parquet part (the engine's shard size)")
    parser.add_argument("--audio-seconds", type=float, default=2.0)
    parser.add_argument(
        "--row-group-rows",
        type=int,
        help="rows per Parquet row group (default: one row group per part, as speechsift writes today); the "
        "sample browser reads the audio of every row group holding a sampled row",
    )
    parser.add_argument("--samples", type=int, default=50, help="max_samples_per_task")
    parser.add_argument("--quality", action="store_true", help="add a quality column and complete/")
    parser.add_argument("--embedding-dim", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the output here and keep it")
    parser.add_argument(
        "--existing",
        type=Path,
        help="build the report of this output folder (written earlier with --keep) instead of writing a new one",
    )
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    root = args.existing or args.keep or Path(tempfile.mkdtemp(prefix="bench-report-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        if args.existing:
            info = describe_output(root)
        else:
            info = write_output(
                root,
                args.examples,
                args.part_rows,
                args.audio_seconds,
                args.quality,
                args.embedding_dim,
                args.row_group_rows,
            )
        write_s = time.perf_counter() - started
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(root), str(args.samples), "1" if args.profile else "0"],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            sys.exit(f"report build failed:\n{child.stderr}")
        if args.profile:
            print(child.stderr)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"synthetic output: {info['examples']:,} examples in data/"
            + (f" ({info['scored']:,} scored in complete/)" if info["scored"] != info["examples"] else "")
            + f", {len(TASKS)} tasks, {args.part_rows} rows per part, "
            f"{info['audio_bytes_per_row'] / 1024:.0f} KiB of FLAC per row, {info['bytes'] / 2**30:.2f} GiB on disk "
            f"(written in {write_s:.0f} s)"
        )
        print(
            f"report: {result['build_s']:.2f} s to build (+{result['import_s']:.2f} s imports), "
            f"peak RSS {result['peak_rss_mb']:.0f} MiB, {result['read_gib']:.2f} GiB read, "
            f"index.html {result['html_bytes'] / 2**20:.1f} MiB, "
            f"{result['audio_files']} audio files"
        )
        verdict = "met" if result["build_s"] < TARGET_SECONDS else "NOT met"
        print(f"target: < {TARGET_SECONDS:.0f} s for 100,000 examples ({info['scored']:,} here): {verdict}")
        machine = platform.processor() or platform.machine()
        print(f"machine: {machine}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
        if args.keep:
            print(f"output kept in {root}; report at {root / 'report' / 'index.html'}")
    finally:
        if not (args.keep or args.existing):
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
