#!/usr/bin/env python
"""Benchmark: the generation engine against a local OpenAI-compatible server with a fixed latency.

1. Throughput: N requests through the generation service (the path ``speechsift run`` uses) at
   concurrency 64 and 256, against ``latency_server.py`` answering every request after exactly
   ``--latency`` seconds. Reported as requests/s and as a fraction of the ideal (concurrency ÷
   latency), with the client's CPU time per request (the server runs in its own process).
2. Rerun: a 10k-request recipe (``sift_ssp`` over 10k clips) run once, then again unchanged: the
   rerun must send nothing (counted at the server) and take a small fraction of the first run's time.

Usage::

    .venv/bin/python benchmarks/bench_generation.py [--latency 0.1] [--requests-per-slot 50] [--recipe-clips 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_FRACTION = 0.90
TARGET_RERUN_FRACTION = 0.05


def start_server(latency: float, *flags: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "latency_server.py"), "--latency", str(latency), *flags],
        stdout=subprocess.PIPE, text=True,
    )
    port = int(process.stdout.readline().split()[1])
    return process, f"http://127.0.0.1:{port}"


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served(base: str) -> int:
    with urllib.request.urlopen(f"{base}/stats") as response:
        return json.loads(response.read())["served"]


def throughput(base: str, concurrency: int, n: int, server_pid: int) -> dict[str, float]:
    from speechsift.engine.generation import GenerationService
    from speechsift.llm import ChatRequest, SamplingParams, make_backend
    from speechsift.recipe import LLMConfig

    backend = make_backend(LLMConfig(backend="openai", model="bench", api_base=f"{base}/v1", concurrency=concurrency))
    requests = [
        ChatRequest([{"role": "system", "content": "Reply briefly."}, {"role": "user", "content": f"utterance {i}"}],
                    SamplingParams(), "sift_s")
        for i in range(n)
    ]
    with GenerationService(backend, ledger=None) as service:
        service.submit(requests[: concurrency * 2]).result()  # warm up: connections, first calls
        before, server_cpu = served(base), process_cpu_s(server_pid)
        started, cpu = time.perf_counter(), time.process_time()
        answers = service.submit(requests).result()
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        server_cpu = process_cpu_s(server_pid) - server_cpu
        sent = served(base) - before
    assert all(a.completion.ok for a in answers) and sent == n
    return {"requests": n, "seconds": wall, "rate": n / wall, "cpu_ms": 1e3 * cpu / n, "server_cpu_ms": 1e3 * server_cpu / n}


def recipe_runs(base: str, clips: int, concurrency: int, folder: Path) -> dict[str, float]:
    import numpy as np
    import soundfile as sf

    from speechsift.engine import run_recipe
    from speechsift.recipe import parse_recipe

    sf.write(folder / "clip.flac", np.zeros(1600, dtype=np.float32), 16_000)
    manifest = folder / "manifest.csv"
    with manifest.open("w") as handle:
        handle.write("id,audio,text,gender,emotion\n")
        for i in range(clips):
            handle.write(f"c{i},clip.flac,utterance number {i},{'male' if i % 2 else 'female'},happy\n")
    data = {
        "name": "bench",
        "sources": [{"name": "bench", "kind": "manifest", "path": str(manifest), "language": "en"}],
        "tasks": ["sift_ssp"],
        "llm": {"backend": "openai", "model": "bench", "api_base": f"{base}/v1", "concurrency": concurrency},
        "output": {"dir": str(folder / "out"), "audio": "path", "formats": ["parquet"]},
    }
    results = {}
    for name in ("first", "rerun"):
        before = served(base)
        started = time.perf_counter()
        run_recipe(parse_recipe(json.loads(json.dumps(data))), progress=False)
        results[f"{name}_seconds"] = time.perf_counter() - started
        results[f"{name}_sent"] = served(base) - before
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--requests-per-slot", type=int, default=50, help="requests per unit of concurrency")
    parser.add_argument("--recipe-clips", type=int, default=10_000)
    parser.add_argument("--recipe-concurrency", type=int, default=256)
    args = parser.parse_args()
    try:
        import uvloop  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    server, base = start_server(args.latency)
    try:
        rows = []
        for concurrency in (64, 256):
            result = throughput(base, concurrency, concurrency * args.requests_per_slot, server.pid)
            ideal = concurrency / args.latency
            rows.append((concurrency, result, ideal))
            print(f"concurrency {concurrency}: {result['rate']:,.0f} req/s of ideal {ideal:,.0f}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="speechsift-bench-gen-") as tmp:
            rerun = recipe_runs(base, args.recipe_clips, args.recipe_concurrency, Path(tmp))
    finally:
        server.kill()

    print()
    print(f"speechsift generation benchmark: server latency {args.latency * 1e3:.0f} ms, event loop {loop}")
    print(f"machine: {platform.processor() or '?'}; os.cpu_count()={os.cpu_count()}; Python {platform.python_version()}")
    print("(the server runs in its own process; client CPU is the speechsift process's CPU time per request)")
    print()
    print(f"{'concurrency':>11}  {'requests':>8}  {'req/s':>7}  {'ideal':>6}  {'of ideal':>8}  {'client CPU/request':>18}  "
          f"{'server CPU/request':>18}  met (>= 90%)")
    for concurrency, result, ideal in rows:
        fraction = result["rate"] / ideal
        print(f"{concurrency:>11}  {result['requests']:>8,}  {result['rate']:>7,.0f}  {ideal:>6,.0f}  {fraction:>8.1%}  "
              f"{result['cpu_ms']:>15.3f} ms  {result['server_cpu_ms']:>15.3f} ms  "
              f"{'yes' if fraction >= TARGET_FRACTION else 'NO'}")
    fraction = rerun["rerun_seconds"] / rerun["first_seconds"]
    print()
    print(f"recipe of {args.recipe_clips:,} requests (sift_ssp, concurrency {args.recipe_concurrency}):")
    print(f"  first run: {rerun['first_seconds']:.2f} s, {rerun['first_sent']:,} requests sent")
    print(f"  rerun:     {rerun['rerun_seconds']:.2f} s, {rerun['rerun_sent']:,} requests sent "
          f"({fraction:.1%} of the first run's time; target < {TARGET_RERUN_FRACTION:.0%} and 0 sent: "
          f"{'yes' if fraction < TARGET_RERUN_FRACTION and rerun['rerun_sent'] == 0 else 'NO'})")


if __name__ == "__main__":
    main()
