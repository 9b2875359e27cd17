#!/usr/bin/env python
"""Benchmark: acoustic measurements (speechsift.features) per core, and pitch against librosa.pyin.

What it does, in one run:

1. Synthesizes, in a temp dir, a corpus of at least ``--minutes`` of English speech with espeak-ng
   (fixed sentences, six voices, speeds 120-260 words/min, pitches 25-75; half the clips mixed
   with white noise at 5-30 dB SNR), written as 16 kHz mono FLAC, like a prepared corpus.
2. **speechsift**: every clip decoded once (``audio.load``) and measured with the whole feature
   set (``features.measure``: duration, loudness, pitch, rate, snr, quality (DNSMOS P.808), reverb,
   distortion) with its transcript. Best of ``--repeat`` passes; then, on the decoded clips, the
   five features of the version before (duration ... snr: the baseline, measured in the same run),
   every feature but ``quality``, the whole set with the opt-in ``quality_p835`` (DNSMOS P.835) too,
   and each feature alone, to show where time goes. The one-off costs (loading the bundled CMUdict,
   the DNSMOS sessions) are reported apart, and so is the process's peak RSS. ``quality`` and
   ``quality_p835`` need the quality extra; without it the table leaves them out.
3. **Pitch side by side** on the same decoded clips: speechsift's tracker (Praat's
   autocorrelation method), ``librosa.pyin`` (fmin 75, fmax 600 Hz as Praat's defaults,
   frame 1024, hop 160 = 10 ms; its numba compilation is warmed up first and not timed) and,
   when ``praat-parselmouth`` is installed, Praat itself. Reported: time, real-time factor,
   speed ratio, and agreement on frames both call voiced (absolute difference in cents and Hz,
   share of gross errors over 50 cents, voicing agreement) and on clip medians.

Usage::

    .venv/bin/python benchmarks/bench_features.py [--minutes 12] [--repeat 3] [--pyin-minutes all]
        [--no-pin] [--keep DIR]

Needs espeak-ng (apt) and, for the comparison, librosa (``pip install -c constraints.txt -e '.[dev]'``).
The process pins itself to one CPU (``sched_setaffinity``) and caps BLAS/numba threads at one,
so "x real time" is per core. Real-time factor = seconds of audio / seconds of compute.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
try:
    from speechsift import audio
except ImportError:  # a checkout without the package installed
    sys.path.insert(0, str(REPO / "src"))
    from speechsift import audio
from speechsift.features import DEFAULT_FEATURES, FEATURE_NAMES, measure
from speechsift.features import phonemes as g2p
from speechsift.errors import ConfigError
from speechsift.features.pitch import PITCH_CEILING_HZ, PITCH_FLOOR_HZ, track_pitch
from speechsift.records import AudioRef

SR = 16_000
TARGET_RTF = 100.0  # the target: >= 100x real time per core for the whole feature set
BASELINE = ("duration", "loudness", "pitch", "rate", "snr")  # the feature set before quality, reverb, distortion
GROSS_CENTS = 50.0

SENTENCES = (
    "The morning train was late again, so we walked to the harbour and watched the boats.",
    "Please remember to bring a warm coat, because the evenings get cold in the mountains.",
    "She opened the letter slowly and read it twice before she said a single word.",
    "Our team finished the project two weeks early and celebrated with a long dinner.",
    "If the weather stays clear tomorrow, we could take the bicycles along the river path.",
    "He told me the museum closes at six, but the garden stays open until sunset.",
    "Turn left at the second traffic light and the library will be on your right.",
    "The children built a tall tower of blocks and laughed when it finally fell over.",
    "I have never seen so many stars as on that night in the desert.",
    "Could you tell me how long it takes to cook rice without a pan lid?",
    "The old bridge was repaired last summer, and now the trucks can cross it again.",
    "After the concert, the musicians packed their instruments and drove through the night.",
    "Write the numbers down carefully: four hundred and twelve, then ninety nine.",
    "A gentle rain fell on the city while the shops were closing for the day.",
    "We need fresh bread, two bottles of milk, some apples and a bag of coffee.",
    "Nobody expected the little dog to find its way home from the other side of town.",
    "The teacher asked everyone to read the first chapter before the next lesson.",
    "When the power went out, we lit candles and told stories until midnight.",
    "Her grandfather planted the oak tree in the garden more than sixty years ago.",
    "The results were surprising, and the scientists repeated the experiment three times.",
    "Do you know whether the bakery on the corner is open on Sundays?",
    "The wind picked up in the afternoon, and the sailors decided to stay in port.",
    "Thank you for waiting; your table will be ready in about ten minutes.",
    "My brother moved to a small village where everybody knows each other by name.",
    "It is easier to learn a new language when you listen to it every day.",
)
VOICES = ("en-us+m3", "en-us+f3", "en-us+m1", "en-us+f1", "en-gb+m2", "en-us+f4")


@dataclass
class Clip:
    path: Path
    text: str
    seconds: float


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def pin_to_one_cpu() -> str:
    try:
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    except (AttributeError, OSError) as exc:
        return f"not pinned ({exc})"


def synthesize_corpus(folder: Path, minutes: float, seed: int) -> list[Clip]:
    """espeak-ng clips until ``minutes`` of audio; half mixed with white noise (5-30 dB SNR)."""
    rng = random.Random(seed)
    noise_rng = np.random.default_rng(seed)
    clips: list[Clip] = []
    total = 0.0
    i = 0
    while total < minutes * 60:
        text = " ".join(rng.sample(SENTENCES, rng.choice((1, 1, 2))))
        voice, speed, pitch = rng.choice(VOICES), rng.randint(120, 260), rng.randint(25, 75)
        wav = subprocess.run(["espeak-ng", "--stdout", "-v", voice, "-s", str(speed), "-p", str(pitch), text],
                             capture_output=True, check=True).stdout
        wave, sr = audio.load(AudioRef(bytes=wav))
        wave = wave.astype(np.float64)
        if i % 2:
            power = float(np.mean(wave**2))
            wave = wave + noise_rng.standard_normal(wave.size) * np.sqrt(power / 10 ** (rng.uniform(5, 30) / 10))
            wave = np.clip(wave, -1, 1)
        path = folder / f"clip{i:04d}.flac"
        sf.write(path, wave.astype(np.float32), sr, subtype="PCM_16")
        clips.append(Clip(path, text, wave.size / sr))
        total += wave.size / sr
        i += 1
    return clips


@dataclass
class Timing:
    cpu_s: float  # CPU seconds of this (single-threaded, pinned) process: the per-core cost
    wall_s: float


def best_of(repeat: int, fn):
    """Best of ``repeat`` runs, by CPU time (stable on a shared machine); wall time of that run too."""
    best: Timing | None = None
    result = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        timing = Timing(time.process_time() - c0, time.perf_counter() - w0)
        if best is None or timing.cpu_s < best.cpu_s:
            best = timing
    return best, result


def align(times_a: np.ndarray, times_b: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i in a, j in b) of frames whose centres are within half a step."""
    if times_a.size == 0 or times_b.size == 0:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    j = np.clip(np.round((times_a - times_b[0]) / step).astype(int), 0, times_b.size - 1)
    ok = np.abs(times_b[j] - times_a) <= step / 2 + 1e-9
    return np.flatnonzero(ok), j[ok]


def agreement(ours: list[tuple[np.ndarray, np.ndarray]], other: list[tuple[np.ndarray, np.ndarray]],
              step: float) -> dict[str, float]:
    """Frame and clip-median agreement between two lists of (times, f0 with NaN = unvoiced)."""
    cents, hz, voicing, clip_hz, clip_cents = [], [], [], [], []
    for (t_a, f_a), (t_b, f_b) in zip(ours, other):
        i, j = align(t_a, t_b, step)
        a, b = f_a[i], f_b[j]
        both = ~np.isnan(a) & ~np.isnan(b)
        cents.append(1200 * np.abs(np.log2(a[both] / b[both])))
        hz.append(np.abs(a[both] - b[both]))
        voicing.append(np.isnan(a) == np.isnan(b))
        if np.any(~np.isnan(f_a)) and np.any(~np.isnan(f_b)):
            ma, mb = np.nanmedian(f_a), np.nanmedian(f_b)
            clip_hz.append(abs(ma - mb))
            clip_cents.append(1200 * abs(np.log2(ma / mb)))
    c, h, v = np.concatenate(cents), np.concatenate(hz), np.concatenate(voicing)
    return {
        "frames compared (voiced in both)": float(c.size),
        "frame |diff| median, cents": float(np.median(c)),
        "frame |diff| median, Hz": float(np.median(h)),
        "frame |diff| 90th pct, cents": float(np.percentile(c, 90)),
        f"frames off by > {GROSS_CENTS:.0f} cents, %": float(100 * np.mean(c > GROSS_CENTS)),
        "voicing decisions agree, %": float(100 * np.mean(v)),
        "clip medians |diff| median, Hz": float(np.median(clip_hz)),
        "clip medians |diff| median, cents": float(np.median(clip_cents)),
        "clip medians |diff| max, cents": float(np.max(clip_cents)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=12.0, help="minutes of speech to synthesize (>= 10)")
    parser.add_argument("--repeat", type=int, default=3, help="passes of speechsift's measurement; best kept")
    parser.add_argument("--pyin-minutes", default="all",
                        help="minutes of the corpus to run pyin on (it runs at a few x real time); 'all' or a number")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one CPU")
    parser.add_argument("--keep", type=Path, default=None, help="write the corpus here and keep it")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (apt-get install espeak-ng)", file=sys.stderr)
        return 2
    pinned = "not pinned (--no-pin)" if args.no_pin else pin_to_one_cpu()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench_features_"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        clips = synthesize_corpus(workdir, args.minutes, args.seed)
        synth_s = time.perf_counter() - t0
        audio_s = sum(c.seconds for c in clips)
        refs = [AudioRef(path=str(c.path)) for c in clips]

        t0 = time.process_time()
        g2p.cmudict()
        cmudict_s = time.process_time() - t0
        waves = [audio.load(r)[0] for r in refs]  # warm the page cache and every code path once
        try:
            t0 = time.process_time()
            measure(waves[0], SR, ["quality", "quality_p835"])
            session_s = time.process_time() - t0
            names = tuple(name for name in FEATURE_NAMES if name != "quality_p835")  # the default quality
            extra = ("quality_p835",)
        except ConfigError as exc:  # the quality extra is not installed
            print(f"quality left out: {exc}", file=sys.stderr)
            session_s, names, extra = None, DEFAULT_FEATURES, ()
        measure(waves[0], SR, names, text=clips[0].text, language="en")

        def decode_all():
            return [audio.load(r)[0] for r in refs]

        def decode_and_measure():
            out = []
            for ref, clip in zip(refs, clips):
                wave, sr = audio.load(ref)
                out.append(measure(wave, sr, names, text=clip.text, language="en"))
            return out

        def measure_set(features):
            return best_of(args.repeat, lambda: [measure(w, SR, features, text=c.text, language="en")
                                                 for w, c in zip(waves, clips)])[0]

        decode_s, waves = best_of(args.repeat, decode_all)
        total_s, rows = best_of(args.repeat, decode_and_measure)
        measure_s = measure_set(names)
        baseline_s = measure_set(BASELINE)
        cheap_s = measure_set(DEFAULT_FEATURES)
        with_p835_s = measure_set(names + extra) if extra else None
        per_feature = {name: measure_set([name]) for name in names + extra}

        # --- pitch side by side ---
        if args.pyin_minutes == "all":
            n_pyin = len(clips)
        else:
            limit, acc, n_pyin = float(args.pyin_minutes) * 60, 0.0, 0
            while n_pyin < len(clips) and acc < limit:
                acc += clips[n_pyin].seconds
                n_pyin += 1
        sub = waves[:n_pyin]
        sub_s = sum(c.seconds for c in clips[:n_pyin])
        ours_s, ours = best_of(args.repeat, lambda: [track_pitch(w, SR) for w in sub])
        ours_tracks = [(t.times_s, t.f0_hz) for t in ours]
        results = {"speechsift": (ours_s, None)}
        try:
            import librosa
        except ImportError:
            librosa = None
        if librosa is not None:
            def pyin(w):
                f0, _, _ = librosa.pyin(w.astype(np.float32), fmin=PITCH_FLOOR_HZ, fmax=PITCH_CEILING_HZ, sr=SR,
                                        frame_length=1024, hop_length=160)
                return librosa.times_like(f0, sr=SR, hop_length=160), f0

            pyin(sub[0][: SR])  # numba compilation, not timed
            pyin_s, pyin_tracks = best_of(1, lambda: [pyin(w) for w in sub])
            results["librosa.pyin"] = (pyin_s, agreement(ours_tracks, pyin_tracks, 0.01))
        try:
            import parselmouth
        except ImportError:
            parselmouth = None
        if parselmouth is not None:
            def praat(w):
                p = parselmouth.Sound(w, SR).to_pitch_ac()
                f0 = p.selected_array["frequency"]
                return p.xs(), np.where(f0 > 0, f0, np.nan)

            praat(sub[0])
            praat_s, praat_tracks = best_of(args.repeat, lambda: [praat(w) for w in sub])
            results["Praat (parselmouth)"] = (praat_s, agreement(ours_tracks, praat_tracks, 0.01))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)

    # --- report ---
    finite = {k: float(np.mean([np.isfinite(r[k]) for r in rows])) for k in rows[0]}
    print()
    print(f"speechsift features benchmark: {len(clips)} clips, {audio_s / 60:.1f} min of espeak-ng speech "
          f"(16 kHz FLAC, half with white noise), 1 process, {pinned}")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, numpy {np.__version__}; corpus synthesized in {synth_s:.1f} s")
    print()
    print(f"{'stage':<44}{'CPU s':>9}{'x real time':>13}{'wall s':>9}{'x (wall)':>10}")
    print("-" * 85)

    def line(label: str, t: Timing) -> None:
        print(f"{label:<44}{t.cpu_s:>9.2f}{audio_s / t.cpu_s:>13.0f}{t.wall_s:>9.2f}{audio_s / t.wall_s:>10.0f}")

    line("decode (audio.load, FLAC -> float32)", decode_s)
    line(f"measure: all {len(names)} features", measure_s)
    line("measure: the five before (baseline)", baseline_s)
    line("measure: all but quality (DNSMOS)", cheap_s)
    if with_p835_s is not None:
        line(f"measure: all {len(names)} + quality_p835 (opt-in)", with_p835_s)
    for name in per_feature:
        line(f"  {name} alone", per_feature[name])
    line("decode once + measure all (per clip)", total_s)
    print(f"{'one-off: load bundled CMUdict':<44}{cmudict_s:>9.2f}")
    if session_s is not None:
        print(f"{'one-off: DNSMOS sessions + first clip':<44}{session_s:>9.2f}")
    print(f"peak RSS of this process: {peak_rss_mib():.0f} MiB")
    new = [n for n in names if n not in BASELINE]
    print(f"the new features together ({', '.join(new)}) cost "
          f"{(measure_s.cpu_s - baseline_s.cpu_s) / baseline_s.cpu_s:.1f}x the five before; all {len(names)} run at "
          f"{baseline_s.cpu_s / measure_s.cpu_s:.2f}x the baseline's speed, all but quality at "
          f"{baseline_s.cpu_s / cheap_s.cpu_s:.2f}x")
    rest = measure_s.cpu_s - per_feature["quality"].cpu_s if "quality" in per_feature else None
    for name, model in (("quality", "DNSMOS P.808"), ("quality_p835", "DNSMOS P.835")):
        if rest is not None:
            dnsmos_s = per_feature[name].cpu_s
            print(f"{model} path ({name}): {dnsmos_s:.2f} CPU s ({audio_s / dnsmos_s:.0f}x real time) against "
                  f"{rest:.2f} s for every other feature together: {dnsmos_s / rest:.2f}x the rest")
    rtf = audio_s / total_s.cpu_s
    print()
    print(f"whole feature set incl. decoding: {rtf:.0f}x real time per core (CPU time; "
          f"{audio_s / total_s.wall_s:.0f}x by wall clock, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs); target >= {TARGET_RTF:.0f}x: {'met' if rtf >= TARGET_RTF else 'NOT met'}")
    cheap_rtf = audio_s / (decode_s.cpu_s + cheap_s.cpu_s)
    print(f"without quality (DNSMOS), decoding included: {cheap_rtf:.0f}x real time per core; target: "
          f"{'met' if cheap_rtf >= TARGET_RTF else 'NOT met'}")
    if with_p835_s is not None:
        p835_rtf = audio_s / (decode_s.cpu_s + with_p835_s.cpu_s)
        print(f"with the opt-in quality_p835 too, decoding included: {p835_rtf:.0f}x real time per core")
    print("share of clips with a finite value: " + ", ".join(f"{k} {v:.0%}" for k, v in finite.items()))

    print()
    print(f"pitch on the same {n_pyin} decoded clips ({sub_s / 60:.1f} min); "
          f"speechsift = Praat's autocorrelation method in numpy")
    names = list(results)
    print(f"{'':<40}" + "".join(f"{n:>22}" for n in names))
    print("-" * (40 + 22 * len(names)))
    print(f"{'CPU seconds':<40}" + "".join(f"{results[n][0].cpu_s:>22.2f}" for n in names))
    print(f"{'x real time (CPU)':<40}" + "".join(f"{sub_s / results[n][0].cpu_s:>22.1f}" for n in names))
    print(f"{'wall seconds':<40}" + "".join(f"{results[n][0].wall_s:>22.2f}" for n in names))
    print(f"{'speechsift is faster by (CPU)':<40}"
          + "".join(f"{results[n][0].cpu_s / ours_s.cpu_s:>21.1f}x" for n in names))
    keys = next((list(r[1]) for r in results.values() if r[1]), [])
    if keys:
        print("agreement with speechsift's track:")
    for key in keys:
        cells = "".join(f"{'-':>22}" if results[n][1] is None else f"{results[n][1][key]:>22.2f}" for n in names)
        print(f"  {key:<38}" + cells)
    if "librosa.pyin" not in results:
        print("(librosa not installed: pip install -c constraints.txt librosa)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
