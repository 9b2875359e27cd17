#!/usr/bin/env python3
"""Synthesize speechsift's bundled demo corpus (examples/demo) with espeak-ng and sox.

    .venv/bin/python scripts/make_demo_corpus.py [--out examples/demo]

Offline and deterministic: every clip comes from fixed text and fixed espeak-ng / sox settings,
sox runs in repeatable mode without dither, and the FLAC files are written by soundfile from
16-bit samples we quantize ourselves, so the same tools produce byte-identical files.

The labels (gender, age, emotion, accent) are *declared* here, spelled the messy ways real
corpora spell them, so the demo exercises label normalization. espeak-ng cannot act an
emotion: each clip only gets text that suits its emotion, and a pitch, rate and level that
loosely fit it. ``speaking_rate`` and ``relative_db`` are measured from the audio written.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

REPO_ROOT = Path(__file__).resolve().parents[1]
try:
    from speechsift.features.loudness import FRAME_S, active_frames, relative_db, speech_span_s
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(REPO_ROOT / "src"))
    from speechsift.features.loudness import FRAME_S, active_frames, relative_db, speech_span_s

SR = 16_000

# espeak-ng words per minute (-s) and word gap (-g, in 10 ms units) per pace. espeak's slowest
# rate is 80 wpm, which still measures about 6 phonemes/s, so "slow" adds a gap between words
# to land under the 6.0 threshold. Normal and fast sit well inside their bands.
PACE_SETTINGS = {"slow": (80, 3), "normal": (105, 0), "fast": (180, 0)}

# espeak-ng pitch (-p, 0-99, default 50) per pitch level.
PITCH_SETTINGS = {"low": 25, "normal": 50, "high": 75}

# espeak-ng amplitude (-a, default 100) and the sox effects applied per volume level.
# espeak speech has a crest factor around 16 dB, so an active level above -10 dBFS is only
# reachable without clipping through a limiter: sox "gain -l" raises the level and limits peaks.
# Measured with espeak-ng 1.51: quiet lands near -24..-29 dB, normal near -11..-16 dB, loud near
# -7..-8 dB, each at least ~0.9 dB clear of the label thresholds (quiet < -16.4, loud > -10.0).
LEVEL_SETTINGS = {
    "quiet": (70, ["gain", "-3"]),
    "normal": (100, ["gain", "-l", "8"]),
    "loud": (140, ["gain", "-l", "18"]),
}

# Bands used only to check that each clip landed where it was designed to (labels.tables).
PACE_SLOW_BELOW, PACE_FAST_ABOVE = 6.0, 9.0
VOLUME_QUIET_BELOW_DB, VOLUME_LOUD_ABOVE_DB = -16.4, -10.0

PAD_S = 0.1  # silence kept before the first and after the last active frame


@dataclass(frozen=True)
class Speaker:
    voice: str  # espeak-ng voice+variant; en-us is American, en is British English
    gender: str  # declared, messy spelling on purpose
    age: str
    accent: str


SPEAKERS = {
    "spk_m1": Speaker("en-us+m3", "male", "23", "United States English"),
    "spk_m2": Speaker("en+m7", "M", "fourties", "England English"),
    "spk_m3": Speaker("en-us+m1", "male_masculine", "67", "United States English"),
    "spk_m4": Speaker("en+m4", "male", "teens", "England English"),
    "spk_f1": Speaker("en-us+f3", "female", "twenties", "United States English"),
    "spk_f2": Speaker("en+f4", "F", "45", "England English"),
    "spk_f3": Speaker("en-us+f2", "female_feminine", "sixties", "United States English"),
    "spk_f4": Speaker("en+f1", "F", "twenties", "England English"),
}


@dataclass(frozen=True)
class Clip:
    id: str
    speaker: str
    text: str
    emotion: str
    pace: str  # slow / normal / fast: the band the clip is designed to land in
    pitch: str  # low / normal / high
    level: str  # quiet / normal / loud: the band the clip is designed to land in
    age: str | None = None  # overrides the speaker's age cell (missing-value rows)
    accent: str | None = None  # overrides the speaker's accent cell


CLIPS = [
    Clip("demo_001", "spk_m1", "I got the job! I start on Monday!", "happy", "fast", "high", "loud"),
    Clip("demo_002", "spk_m1", "The meeting moved to Thursday.", "neutral", "normal", "normal", "normal"),
    Clip("demo_003", "spk_m1", "I miss the old house.", "Sad", "slow", "low", "quiet"),
    Clip("demo_004", "spk_m2", "Stop touching my things right now!", "anger", "fast", "normal", "loud"),
    Clip("demo_005", "spk_m2", "The train leaves at noon.", "neutral", "normal", "normal", "normal"),
    Clip("demo_006", "spk_m2", "This milk has gone sour.", "disgusted", "slow", "low", "normal"),
    Clip("demo_007", "spk_m3", "Something is moving in the dark.", "fearful", "fast", "high", "quiet"),
    Clip("demo_008", "spk_m3", "You came all this way to see me!", "ps", "normal", "high", "loud"),
    Clip("demo_009", "spk_m3", "Nobody came.", "Sad", "slow", "low", "quiet"),
    Clip("demo_010", "spk_m4", "We actually won the final match!", "HAP", "fast", "high", "loud"),
    Clip("demo_011", "spk_m4", "I never expected to see you!", "surprised", "normal", "high", "loud", accent=""),
    Clip("demo_012", "spk_m4", "How clever of you.", "contempt", "slow", "low", "normal"),
    Clip("demo_013", "spk_f1", "This is the best day of my whole life!", "happy", "fast", "high", "loud"),
    Clip("demo_014", "spk_f1", "Please don't leave me alone.", "fearful", "normal", "high", "quiet"),
    Clip("demo_015", "spk_f1", "The library opens at nine.", "neutral", "normal", "normal", "normal"),
    Clip("demo_016", "spk_f2", "I told you never to call me again!", "anger", "fast", "normal", "loud"),
    Clip("demo_017", "spk_f2", "My grandmother died.", "Sad", "slow", "low", "quiet"),
    Clip("demo_018", "spk_f2", "That smell is revolting.", "disgusted", "normal", "low", "normal"),
    Clip("demo_019", "spk_f3", "My grandson is coming home!", "HAP", "normal", "high", "normal"),
    Clip("demo_020", "spk_f3", "Please close the door.", "neutral", "slow", "normal", "normal"),
    Clip("demo_021", "spk_f3", "I can't believe you remembered my birthday!", "surprised", "fast", "high", "loud"),
    Clip("demo_022", "spk_f4", "The garden bloomed overnight!", "ps", "normal", "high", "normal", age="n/a"),
    Clip("demo_023", "spk_f4", "You broke your promise to me again!", "anger", "fast", "normal", "loud"),
    Clip("demo_024", "spk_f4", "It will rain today.", "neutral", "slow", "normal", "quiet"),
]

QUESTIONS = [
    # (id, speaker, text, answer); spoken at normal pace, pitch and level
    ("q_001", "spk_m1", "What is the capital of France?", "Paris"),
    ("q_002", "spk_f1", "How many legs do spiders have?", "eight"),
    ("q_003", "spk_m2", "What color is the sky?", "blue"),
    ("q_004", "spk_f2", "Which planet is called the red planet?", "Mars"),
    ("q_005", "spk_m3", "What is two plus three?", "five"),
    ("q_006", "spk_f3", "What do bees make?", "honey"),
]

MANIFEST_COLUMNS = ["id", "audio", "text", "speaker", "gender", "age", "emotion", "accent",
                    "speaking_rate", "relative_db"]
QUESTION_COLUMNS = ["id", "audio", "text", "speaker", "gender", "age", "answer"]

# Characters in espeak-ng's phoneme mnemonics (-x) that mark stress, not a phoneme.
_STRESS_MARKS = "',%="


def require_tools() -> None:
    """Stop with a clear message when espeak-ng or sox is not installed."""
    missing = [tool for tool in ("espeak-ng", "sox") if shutil.which(tool) is None]
    if missing:
        sys.exit(
            f"error: {' and '.join(missing)} not found on PATH; the demo corpus is synthesized "
            "with espeak-ng and sox (Debian/Ubuntu: sudo apt-get install espeak-ng sox)."
        )


def _run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def espeak_args(voice: str, pace: str, pitch: str, amplitude: int) -> list[str]:
    wpm, gap = PACE_SETTINGS[pace]
    return ["-v", voice, "-s", str(wpm), "-g", str(gap), "-p", str(PITCH_SETTINGS[pitch]),
            "-a", str(amplitude)]


def count_phonemes(text: str, args: list[str]) -> int:
    """Phonemes espeak-ng speaks for ``text``: its -x mnemonics, one per space-separated token.

    Stress marks are not phonemes and pause tokens (``_:``, ``_!``) are not speech.
    """
    out = _run(["espeak-ng", "-q", "-x", "--sep= ", *args, text])
    tokens = (tok.strip(_STRESS_MARKS) for tok in out.split())
    return sum(1 for tok in tokens if tok and not tok.startswith("_"))


def synthesize(text: str, args: list[str], sox_effects: list[str], tmp: Path) -> np.ndarray:
    """espeak-ng to a WAV, then sox to 16 kHz mono float with the level effects; trimmed."""
    raw, conv = tmp / "espeak.wav", tmp / "sox.wav"
    _run(["espeak-ng", *args, "-w", str(raw), text])
    # -R: repeatable mode; -D: no dither. Float output, so no quantization happens in sox.
    _run(["sox", "-R", "-D", "-V1", str(raw), "-r", str(SR), "-c", "1", "-e", "floating-point",
          "-b", "32", str(conv), *sox_effects])
    wave, sr = sf.read(conv, dtype="float64")
    assert sr == SR, sr
    return trim(wave, sr)


def trim(wave: np.ndarray, sr: int) -> np.ndarray:
    """Keep PAD_S of silence around the speech span, so clips are short and sizes small."""
    idx = np.flatnonzero(active_frames(wave, sr))
    if idx.size == 0:
        return wave
    frame = int(round(FRAME_S * sr))
    pad = int(round(PAD_S * sr))
    start = max(0, idx[0] * frame - pad)
    end = min(wave.size, (idx[-1] + 1) * frame + pad)
    return wave[start:end]


def write_flac(path: Path, wave: np.ndarray) -> np.ndarray:
    """Quantize to 16-bit ourselves (round, clip) and write FLAC; return what reads back."""
    pcm = np.clip(np.round(wave * 32767.0), -32768, 32767).astype(np.int16)
    sf.write(path, pcm, SR, format="FLAC", subtype="PCM_16", compression_level=1.0)
    back, sr = sf.read(path, dtype="float64")
    if sr != SR or back.ndim != 1 or back.size == 0:
        sys.exit(f"error: {path} did not read back as non-empty {SR} Hz mono")
    return back


def band(value: float, low: float, high: float, names: tuple[str, str, str]) -> str:
    return names[0] if value < low else names[2] if value > high else names[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "examples" / "demo",
                        help="output folder (default: examples/demo in this checkout)")
    opts = parser.parse_args(argv)
    require_tools()

    out: Path = opts.out
    clips_dir = out / "clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    rows, qrows, report = [], [], []
    mismatches = 0

    with tempfile.TemporaryDirectory(prefix="speechsift-demo-") as tmp_name:
        tmp = Path(tmp_name)
        for clip in CLIPS:
            spk = SPEAKERS[clip.speaker]
            amplitude, effects = LEVEL_SETTINGS[clip.level]
            args = espeak_args(spk.voice, clip.pace, clip.pitch, amplitude)
            wave = synthesize(clip.text, args, effects, tmp)
            audio = f"clips/{clip.id}.flac"
            back = write_flac(out / audio, wave)
            written.add(f"{clip.id}.flac")

            rate = count_phonemes(clip.text, args) / speech_span_s(back, SR)
            level = relative_db(back, SR)
            pace_got = band(rate, PACE_SLOW_BELOW, PACE_FAST_ABOVE, ("slow", "normal", "fast"))
            level_got = band(level, VOLUME_QUIET_BELOW_DB, VOLUME_LOUD_ABOVE_DB,
                             ("quiet", "normal", "loud"))
            duration = back.size / SR
            ok = pace_got == clip.pace and level_got == clip.level and 1.5 <= duration <= 4.0
            mismatches += not ok
            rows.append({
                "id": clip.id, "audio": audio, "text": clip.text, "speaker": clip.speaker,
                "gender": spk.gender, "age": spk.age if clip.age is None else clip.age,
                "emotion": clip.emotion, "accent": spk.accent if clip.accent is None else clip.accent,
                "speaking_rate": f"{rate:.2f}", "relative_db": f"{level:.2f}",
            })
            report.append((clip.id, clip.speaker, spk.voice, clip.emotion, f"{duration:.2f}",
                           f"{rate:.2f}", pace_got, f"{level:.2f}", level_got,
                           "" if ok else "  <-- off design"))

        for qid, speaker, text, answer in QUESTIONS:
            spk = SPEAKERS[speaker]
            amplitude, effects = LEVEL_SETTINGS["normal"]
            wave = synthesize(text, espeak_args(spk.voice, "normal", "normal", amplitude), effects, tmp)
            audio = f"clips/{qid}.flac"
            back = write_flac(out / audio, wave)
            written.add(f"{qid}.flac")
            qrows.append({"id": qid, "audio": audio, "text": text, "speaker": speaker,
                          "gender": spk.gender, "age": spk.age, "answer": answer})
            report.append((qid, speaker, spk.voice, "-", f"{back.size / SR:.2f}", "-", "-",
                           f"{relative_db(back, SR):.2f}", "-", ""))

    for stale in sorted(clips_dir.glob("*.flac")):
        if stale.name not in written:
            stale.unlink()
            print(f"removed stale {stale}")

    for name, columns, data in (("manifest.csv", MANIFEST_COLUMNS, rows),
                                ("questions.csv", QUESTION_COLUMNS, qrows)):
        with open(out / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(data)

    header = ("id", "speaker", "voice", "emotion", "dur_s", "rate", "pace", "rel_db", "volume", "")
    widths = [max(len(str(r[i])) for r in [header, *report]) for i in range(len(header))]
    for r in [header, *report]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"\n{len(rows)} statements + {len(qrows)} questions in {out} ({size / 1e6:.2f} MB)")
    if mismatches:
        print(f"warning: {mismatches} clip(s) landed outside their designed pace/volume band "
              "or 1.5-4 s duration", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
