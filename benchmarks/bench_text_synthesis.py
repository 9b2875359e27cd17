#!/usr/bin/env python
"""Benchmark: text instruction synthesis and preference judging against a 100 ms server.

Each phase runs ``speechsift run`` (the engine, the generation service, the ledger) against
``latency_server.py`` in its own process, answering after exactly ``--latency`` seconds with the
replies of ``tests/text_server.py`` (plausible, sometimes bad, as for the tests):

1. baseline: ``speech_response`` over N instructions: one request per example, the plain path;
2. ``evol_instruct`` over the same N, ``--rounds`` rounds: every evolution is a step that waits on
   the one before it (plus each evolution's response);
3. ``preference_pairs`` over the same N: candidates over 2 LLMs × 2 strategies, then the judge;
4. the same preference recipe judged by another LLM, on the first one's ledger: the share of its
   requests answered from the ledger (every candidate; the new judge's requests are sent).

Throughput is requests/s counted at the server over the run's wall time, and its fraction of the
ideal (concurrency ÷ latency); phases 2 and 3 are also given as a ratio to phase 1, measured in the
same run. Peak RSS of this process is printed last.

Usage::

    .venv/bin/python benchmarks/bench_text_synthesis.py [--instructions 1000] [--concurrency 64] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOPICS = ["tides", "sourdough", "jet lag", "volcanoes", "chess", "interest rates", "bird migration", "solar panels",
          "marathons", "houseplants", "the moon", "coffee", "thunder", "recycling", "jazz", "honeybees"]


def start_server(latency: float) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "latency_server.py"), "--latency", str(latency),
         "--reply", f"{REPO / 'tests' / 'text_server.py'}:text_reply"],
        stdout=subprocess.PIPE, text=True,
    )
    port = int(process.stdout.readline().split()[1])
    return process, f"http://127.0.0.1:{port}"


def served(base: str) -> int:
    with urllib.request.urlopen(f"{base}/stats") as response:
        return json.loads(response.read())["served"]


def run(data: dict) -> tuple[float, dict]:
    from speechsift.engine import run_recipe
    from speechsift.recipe import parse_recipe

    parse_recipe(data)  # imports done and the recipe checked before the clock starts
    started = time.perf_counter()
    result = run_recipe(parse_recipe(data), progress=False)
    return time.perf_counter() - started, result.llm_this_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instructions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.1)
    args = parser.parse_args()
    instructions = [f"How do {TOPICS[i % len(TOPICS)]} work, in case {i}?" for i in range(args.instructions)]
    ideal = args.concurrency / args.latency
    process, base = start_server(args.latency)
    work = Path(tempfile.mkdtemp(prefix="bench-text-"))
    try:
        llm = {"backend": "openai", "model": "qwen2.5-7b-instruct", "api_base": f"{base}/v1",
               "concurrency": args.concurrency, "ledger": str(work / "shared-ledger.sqlite")}
        common = {"llms": {"other": {**llm, "model": "llama-3.1-8b-instruct"}},
                  "output": {"formats": ["parquet"], "report": False}}

        def phase(name: str, tasks: list, ledger: str | None = None) -> tuple[float, int, dict]:
            before = served(base)
            data = {"name": name, "llm": {**llm, **({"ledger": ledger} if ledger else {})}, "tasks": tasks, **common}
            data["output"] = {**common["output"], "dir": str(work / name)}
            seconds, counters = run(data)
            return seconds, served(base) - before, counters

        print(f"text synthesis benchmark: {args.instructions} instructions, concurrency {args.concurrency}, "
              f"latency {args.latency * 1000:.0f} ms, ideal {ideal:.0f} req/s")
        rows = []
        base_seconds, base_sent, _ = phase("baseline", [{"name": "speech_response", "options": {
            "instructions": instructions, "strategy": "detailed"}}], str(work / "baseline.sqlite"))
        base_rate = base_sent / base_seconds
        rows.append(("speech_response (baseline)", base_sent, base_seconds))
        seconds, sent, _ = phase("evol", [{"name": "evol_instruct", "options": {
            "instructions": instructions, "rounds": args.rounds}}], str(work / "evol.sqlite"))
        rows.append((f"evol_instruct, {args.rounds} rounds", sent, seconds))
        preference = {"instructions": instructions, "models": ["default", "other"],
                      "strategies": ["simple", "detailed"], "pairs_per_instruction": 2, "include_reference": False}
        seconds, sent, _ = phase("prefs", [{"name": "preference_pairs", "options": preference}])
        rows.append(("preference_pairs (candidates + judge)", sent, seconds))
        for label, count, spent in rows:
            rate = count / spent
            print(f"  {label:40s} {count:6d} requests in {spent:6.2f} s = {rate:7.1f} req/s "
                  f"({rate / ideal:6.1%} of ideal; {rate / base_rate:5.2f}x the baseline)")
        # the same candidates judged by another LLM: only the judge's requests are new
        seconds, sent, counters = phase("prefs-again", [{"name": "preference_pairs", "options": {
            **preference, "judge": "other"}}])
        hits, asked = counters.get("ledger_hits", 0), counters.get("requests", 0)
        print(f"  second preference recipe (another judge) on the shared ledger: {asked} requests, {hits} answered "
              f"from the ledger ({hits / max(1, asked):.1%}; {hits / max(1, hits + sent):.1%} of the distinct ones), "
              f"{sent} sent (the new judge's), {seconds:.2f} s")
    finally:
        process.terminate()
        process.wait()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
