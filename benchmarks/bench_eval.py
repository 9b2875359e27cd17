#!/usr/bin/env python
"""Benchmark: ``speechsift eval``.

1. Throughput: an EvalSIFT tree of N transcription items (distinct 0.25 s WAV clips) evaluated
   against ``latency_server.py`` (every answer after exactly ``--latency`` seconds, in its own
   process), at concurrency 64 and 256, through ``run_eval`` (items read, audio hashed, requests
   through the generation service and the ledger, base64 audio encoded per request). Reported as
   model-phase requests/s and as a fraction of the ideal (concurrency ÷ latency); target ≥ 90%.
2. Scoring: 100k predictions (half transcriptions scored with WER/CER after Whisper's normalizer,
   half Speech-IFEval items with two strict checkers each) scored by the evaluator, then the
   summary with bootstrap intervals. The baseline, measured in the same run, is jiwer's own
   corpus call (``process_words`` over the raw lists, no normalization).

Prints peak RSS. The machine is shared: read the ratios, not the absolute times.

Usage::

    .venv/bin/python benchmarks/bench_eval.py [--latency 0.1] [--items-per-slot 20] [--predictions 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from bench_generation import start_server  # noqa: E402

TARGET_FRACTION = 0.90


def write_tree(root: Path, n: int) -> Path:
    rng = np.random.default_rng(0)
    lines = []
    folder = root / "EvalSIFT" / "omni" / "transcription" / "en"
    folder.mkdir(parents=True)
    (root / "audio").mkdir()
    for i in range(n):
        path = root / "audio" / f"{i}.wav"
        sf.write(path, (0.1 * rng.standard_normal(4000)).astype(np.float32), 16_000)
        lines.append(json.dumps({"id": f"t{i}", "task": "transcription", "data_source": "bench_en", "messages": [
            {"role": "user", "content": [{"audio_path": f"audio/{i}.wav"}, {"text": "Transcribe:"}]},
            {"role": "assistant", "content": [{"text": "a fixed benchmark reply"}]}]}))
    (folder / "part-00000.jsonl").write_text("\n".join(lines) + "\n")
    return root


def throughput(data: Path, out: Path, url: str, concurrency: int, latency: float) -> dict[str, float]:
    from speechsift.eval import run_eval
    from speechsift.eval.cli_config import eval_config

    config = eval_config(data, out, None, {"model.api_base": f"{url}/v1", "model.model": "bench",
                                           "model.concurrency": concurrency, "bootstrap_samples": 0, "report": False})
    started = time.perf_counter()
    result = run_eval(config, progress=False)
    total = time.perf_counter() - started
    seconds = result.summary["phase_seconds"]["model"]
    sent = result.counters["model.sent"]
    rate = sent / seconds
    return {"concurrency": concurrency, "requests": sent, "model_phase_s": seconds, "total_s": total,
            "req_per_s": rate, "ideal": concurrency / latency, "fraction": rate / (concurrency / latency),
            "failed": result.failed}


def generation_baseline(url: str, concurrency: int, n: int, latency: float) -> dict[str, float]:
    """The same number of text-only requests through the generation service alone, submitted the
    same way (no warm-up: connection set-up counts for both): what the eval path is compared with."""
    from speechsift.engine.generation import GenerationService
    from speechsift.eval.config import EvalModelConfig
    from speechsift.llm.openai_backend import OpenAIBackend, backend_options
    from speechsift.llm.types import ChatRequest, SamplingParams

    backend = OpenAIBackend(**backend_options(EvalModelConfig(model="bench", api_base=f"{url}/v1",
                                                              concurrency=concurrency)))
    requests = [ChatRequest([{"role": "user", "content": f"utterance {i}"}], SamplingParams(), "bench")
                for i in range(n)]
    with GenerationService(backend) as service:
        started = time.perf_counter()
        for future in [service.submit(requests[i:i + 512]) for i in range(0, n, 512)]:
            future.result()
        seconds = time.perf_counter() - started
    return {"req_per_s": n / seconds, "fraction": n / seconds / (concurrency / latency)}


def scoring(n: int) -> dict[str, float]:
    import jiwer

    from speechsift.eval.items import EvalItem
    from speechsift.eval.runner import Outcome, score_text
    from speechsift.eval.summary import summarize

    words = "the quick brown fox jumps over the lazy dog while seven bakers sing about it".split()
    rng = np.random.default_rng(1)
    outcomes, refs, hyps = [], [], []
    for i in range(n):
        ref = " ".join(rng.choice(words, 12))
        hyp = " ".join(w if rng.random() > 0.1 else "x" for w in ref.split())
        if i % 2 == 0:
            item = EvalItem(f"t{i}", "transcription", "transcription", "en", [], [], "Transcribe:", ref)
            refs.append(ref)
            hyps.append(hyp)
        else:
            item = EvalItem(f"s{i}", "speech_ifeval/creative_writing", "speech_ifeval", "en", [], [], "Write.", None,
                            extra={"subset": "creative_writing", "metric": "",
                                   "instruction_id_list": ["change_case:english_lowercase",
                                                           "length_constraints:number_words"],
                                   "kwargs": [{}, {"relation": "less than", "num_words": 13}]})
        outcome = Outcome(item, hypothesis=hyp.capitalize() if i % 4 == 1 else hyp)
        outcome.expected = ["wer", "cer"] if i % 2 == 0 else ["if_strict_prompt", "if_strict_instruction"]
        outcomes.append(outcome)
    started = time.perf_counter()
    jiwer.process_words(refs, hyps)
    baseline = time.perf_counter() - started
    started = time.perf_counter()
    for outcome in outcomes:
        score_text(outcome)
    scored = time.perf_counter() - started

    class Settings:
        bootstrap_samples, seed, split, data, judge, text_model = 1000, 0, "eval", "bench", None, None

        class model:  # noqa: N801 - a stand-in for the config's section
            backend, model, api_base = "openai", "bench", None

    started = time.perf_counter()
    summary = summarize(outcomes, Settings, {}, {}, 0.0)
    aggregated = time.perf_counter() - started
    return {"predictions": n, "score_s": scored, "per_prediction_us": 1e6 * scored / n,
            "jiwer_baseline_s": baseline, "ratio_to_jiwer": scored / baseline, "summary_s": aggregated,
            "wer": summary["overall"]["metrics"]["wer"]["value"],
            "if_strict_prompt": summary["overall"]["metrics"]["if_strict_prompt"]["value"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--items-per-slot", type=int, default=20, help="items = this x concurrency")
    parser.add_argument("--predictions", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[64, 256])
    args = parser.parse_args()
    process, url = start_server(args.latency)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for concurrency in args.concurrency:
                n = concurrency * args.items_per_slot
                data = write_tree(Path(tmp) / f"data-{concurrency}", n)
                result = throughput(data, Path(tmp) / f"eval-{concurrency}", url, concurrency, args.latency)
                baseline = generation_baseline(url, concurrency, n, args.latency)
                verdict = "met" if result["fraction"] >= TARGET_FRACTION else "NOT met"
                print(f"throughput c={concurrency}: {result['requests']:,} requests in {result['model_phase_s']:.2f} s "
                      f"(whole eval {result['total_s']:.2f} s): {result['req_per_s']:,.0f} req/s of ideal "
                      f"{result['ideal']:,.0f} = {100 * result['fraction']:.1f}% (target >= 90%: {verdict}); "
                      f"failed {result['failed']}; text-only generation service, same run: "
                      f"{baseline['req_per_s']:,.0f} req/s = {100 * baseline['fraction']:.1f}% "
                      f"(eval / baseline {result['req_per_s'] / baseline['req_per_s']:.2f})")
    finally:
        process.terminate()
    result = scoring(args.predictions)
    print(f"scoring {result['predictions']:,} predictions (WER/CER + strict checkers): {result['score_s']:.2f} s "
          f"({result['per_prediction_us']:.0f} us each); jiwer's corpus call on the same transcriptions "
          f"{result['jiwer_baseline_s']:.2f} s (ratio {result['ratio_to_jiwer']:.1f}x); summary with 1000 bootstrap "
          f"resamples {result['summary_s']:.2f} s")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
