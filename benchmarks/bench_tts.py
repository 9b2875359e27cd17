#!/usr/bin/env python
"""Benchmark: speech synthesis (speechsift.tts).

1. espeak-ng throughput: ``--instructions`` distinct instructions (five languages, the default
   voice pool, settings drawn per record) through the ``Synthesizer`` (checks, decoding, FLAC
   cache writes) with every core, as ``speechsift run`` does. Reported as utterances/s and as
   audio seconds per wall second (× real time) in all and per core. Baselines measured in the
   same run on a sample: the same synthesizer with one worker, and a plain loop calling the
   espeak-ng program (no checks, no cache), so the ratios show what the cores buy and what
   speechsift's handling costs.
2. Rerun: the same instructions again: the cache hit rate (must be 100 %) and the time.
3. The openai speech backend against ``latency_server.py --speech`` (every answer after exactly
   ``--latency`` seconds) at concurrency ``--concurrency``: utterances/s as a fraction of the
   ideal (concurrency ÷ latency), through the synthesizer (cache writes included) and through the
   backend alone.

Usage::

    .venv/bin/python benchmarks/bench_tts.py [--instructions 1000] [--sample 100] [--latency 0.2]
                                             [--concurrency 32] [--requests-per-slot 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_generation import start_server  # noqa: E402  (the latency server, started the same way)

TEMPLATES = {
    "en": "Please explain step {i} of the recipe, and tell me how long it takes to finish.",
    "de": "Bitte erkläre Schritt {i} des Rezepts und sag mir, wie lange er dauert.",
    "fr": "Explique-moi l'étape {i} de la recette et dis-moi combien de temps elle prend.",
    "it": "Spiegami il passo {i} della ricetta e dimmi quanto tempo richiede.",
    "es": "Explícame el paso {i} de la receta y dime cuánto tiempo lleva.",
}


def instructions(n: int) -> list[tuple[str, str, str]]:
    """(record id, language, text): ``n`` distinct instructions, the languages in turn."""
    languages = sorted(TEMPLATES)
    return [(f"r{i}", languages[i % 5], TEMPLATES[languages[i % 5]].format(i=i)) for i in range(n)]


def espeak_requests(items):
    from speechsift.recipe import TTSConfig
    from speechsift.tts import SpeechRequest, VoicePool, make_tts_backend, make_voices

    config = TTSConfig()
    pool = VoicePool(make_voices(config, make_tts_backend(config)), seed=0)
    voices = pool.assign([(rid, language) for rid, language, _ in items])
    return [SpeechRequest(text, v.id, v.settings(rid, 0), language) for (rid, language, text), v in zip(items, voices)]


def synthesize(requests, workers: int, cache: Path) -> tuple[float, Counter]:
    from speechsift.tts import Synthesizer, UtteranceCache
    from speechsift.tts.espeak import EspeakBackend

    synthesizer = Synthesizer(EspeakBackend(workers=workers), UtteranceCache(cache), max_chars=1000, split=True)
    counters: Counter = Counter()
    started = time.perf_counter()
    made = synthesizer.synthesize(requests, counters)
    seconds = time.perf_counter() - started
    failed = [u for u in made if u.audio is None]
    assert not failed, failed[0]
    return seconds, counters


def plain_espeak_loop(requests) -> tuple[float, float]:
    """The naive way: one espeak-ng call after another, the WAV kept in memory; (seconds, audio s)."""
    import io

    import soundfile as sf

    started, audio_s = time.perf_counter(), 0.0
    for request in requests:
        settings = dict(request.settings)
        wav = subprocess.run(["espeak-ng", "--stdout", "-v", request.voice, "-s", str(settings.get("rate", 175)),
                              "-p", str(settings.get("pitch", 50)), request.text], capture_output=True, check=True).stdout
        data, sr = sf.read(io.BytesIO(wav))
        audio_s += len(data) / sr
    return time.perf_counter() - started, audio_s


def speech_server_rate(base: str, concurrency: int, n: int, cache: Path) -> dict[str, float]:
    from speechsift.recipe import TTSConfig
    from speechsift.tts import SpeechRequest, Synthesizer, UtteranceCache, make_tts_backend

    config = TTSConfig(backend="openai", model="bench", api_base=f"{base}/v1", concurrency=concurrency)
    backend = make_tts_backend(config)
    requests = [SpeechRequest(f"Utterance number {i}.", "alloy", (), "en") for i in range(n)]
    # the backend alone (no decoding, no cache), after a warm-up that opens the connections
    from speechsift.llm.base import aclose

    async def raw() -> float:
        await backend.asynthesize(requests[:concurrency])
        started = time.perf_counter()
        speeches = await backend.asynthesize(requests)
        seconds = time.perf_counter() - started
        await aclose(backend)
        assert all(s.ok for s in speeches)
        return seconds

    raw_s = asyncio.run(raw())
    synthesizer = Synthesizer(backend, UtteranceCache(cache), max_chars=1000, split=True)
    counters: Counter = Counter()
    started = time.perf_counter()
    synthesizer.synthesize(requests, counters)
    full_s = time.perf_counter() - started
    assert counters["synthesized"] == n, counters
    return {"raw_rate": n / raw_s, "rate": n / full_s}


def peak_rss_mb() -> tuple[float, float]:
    """Peak resident set of this process and of its largest finished child, in MB (Linux: KiB)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instructions", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=100, help="utterances for the one-worker and plain-loop baselines")
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests-per-slot", type=int, default=20)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    items = instructions(args.instructions)
    requests = espeak_requests(items)
    sample = requests[: args.sample]
    with tempfile.TemporaryDirectory(prefix="bench-tts-") as folder:
        root = Path(folder)
        one_s, one = synthesize(sample, 1, root / "one")
        plain_s, plain_audio = plain_espeak_loop(sample)
        all_s, counters = synthesize(requests, cores, root / "all")
        rerun_s, rerun = synthesize(requests, cores, root / "all")
        process, base = start_server(args.latency, "--speech")
        try:
            remote = speech_server_rate(base, args.concurrency, args.concurrency * args.requests_per_slot, root / "remote")
        finally:
            process.terminate()
    audio_s = counters["audio_ms"] / 1000
    sample_audio = one["audio_ms"] / 1000
    ideal = args.concurrency / args.latency
    rss_self, rss_child = peak_rss_mb()
    rows = [
        ("espeak-ng, all cores", f"{args.instructions} utterances in {all_s:.1f} s: {args.instructions / all_s:.1f} utt/s, "
                                 f"{audio_s / all_s:.1f}x real time ({audio_s / all_s / cores:.1f}x per core, {cores} cores)"),
        ("  baseline: one worker", f"{args.sample} utterances: {args.sample / one_s:.1f} utt/s, {sample_audio / one_s:.1f}x real time"
                                   f" -> all cores {args.instructions / all_s / (args.sample / one_s):.2f}x one worker"),
        ("  baseline: plain espeak-ng loop", f"{args.sample} utterances: {args.sample / plain_s:.1f} utt/s, "
                                             f"{plain_audio / plain_s:.1f}x real time -> speechsift's one worker at "
                                             f"{(args.sample / one_s) / (args.sample / plain_s):.2f}x the plain loop"),
        ("rerun (cache)", f"hit rate {rerun['cache_hits'] / rerun['requests']:.1%}, synthesized {rerun['synthesized']}, "
                          f"{rerun_s:.2f} s ({rerun_s / all_s:.1%} of the first run)"),
        (f"openai speech, {args.latency * 1000:.0f} ms, concurrency {args.concurrency}",
         f"{remote['rate']:.1f} utt/s = {remote['rate'] / ideal:.1%} of ideal ({ideal:.0f}/s) through the synthesizer; "
         f"{remote['raw_rate']:.1f} utt/s = {remote['raw_rate'] / ideal:.1%} for the backend alone"),
        ("peak RSS", f"{rss_self:.0f} MB (this process), {rss_child:.0f} MB (largest child: espeak-ng / the server)"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"machine: {platform.machine()}, {cores} cores, Python {platform.python_version()}; "
          f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
