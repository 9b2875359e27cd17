"""Long clips are measured block by block (``features.base.frame_blocks``) in bounded memory, and the
blocks change no value: a clip walked in many small blocks measures exactly as the same clip
analysed whole, and a 20-minute file measures as the 2-minute stretch it repeats, in a working
memory that does not grow with its length."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from speechsift.features import FEATURE_NAMES, base, measure, reverb

SR = 16_000
TEXT = "the quick brown fox jumps over the lazy dog " * 20
# Every feature, DNSMOS P.808 included (the dev extra installs it); P.835 rates the same windows one
# at a time as P.808 does, at ~14x real time, too slow for 22 minutes of audio in a test.
FEATURES = tuple(name for name in FEATURE_NAMES if name != "quality_p835")


def talk(seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like float32 audio: voiced stretches (five harmonics of an F0 of 100-240 Hz with
    vibrato), noise bursts (fricatives) and pauses, over a faint noise floor."""
    rng = np.random.default_rng(seed)
    out = np.empty(round(seconds * SR), dtype=np.float32)
    pos = 0
    while pos < out.size:
        n = min(round(rng.uniform(0.08, 0.6) * SR), out.size - pos)
        t = np.arange(n) / SR
        kind = rng.choice(3, p=[0.55, 0.2, 0.25])
        if kind == 0:
            f0 = rng.uniform(100, 240) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(2, 6) * t))
            phase = 2 * np.pi * np.cumsum(f0) / SR
            segment = sum(np.sin(k * phase) / k for k in range(1, 6)) * 0.3 * np.hanning(n)
        elif kind == 1:
            segment = rng.standard_normal(n) * 0.05
        else:
            segment = np.zeros(n)
        out[pos : pos + n] = segment + rng.standard_normal(n) * 0.002
        pos += n
    return out


def test_blocks_measure_as_the_whole_clip(monkeypatch):
    """45 s in blocks of 4096 samples (about 180 blocks; voiced stretches, noise-floor quantiles and
    clipping runs cross their edges) against one block holding the whole clip: every value equal."""
    x = talk(45.0, seed=3)
    x[SR : SR + 4000] = np.clip(x[SR : SR + 4000] * 8, -0.9, 0.9)  # a clipped stretch
    monkeypatch.setattr(base, "BLOCK_SAMPLES", 1 << 22)
    monkeypatch.setattr(reverb, "BLOCK_SAMPLES", 1 << 22)
    whole = measure(x, SR, FEATURES, text=TEXT)
    monkeypatch.setattr(base, "BLOCK_SAMPLES", 4096)
    monkeypatch.setattr(reverb, "BLOCK_SAMPLES", 4096)
    blocks = measure(x, SR, FEATURES, text=TEXT)
    assert blocks.keys() == whole.keys()
    for column, value in whole.items():
        assert not math.isnan(value), column
        assert blocks[column] == pytest.approx(value, rel=1e-9, abs=1e-12), column


@pytest.mark.parametrize("cap", [base.SELECT_CAP, 16])
def test_order_statistic_over_blocks_is_partition(monkeypatch, cap):
    """``kth_smallest_per_column`` picks what ``np.partition`` picks, ties, zeros and tiny values
    included; a small ``SELECT_CAP`` forces the selection down to the values' last bits."""
    monkeypatch.setattr(base, "SELECT_CAP", cap)
    rng = np.random.default_rng(7)
    matrix = rng.exponential(1e-6, size=(5000, 33))
    matrix[rng.random(matrix.shape) < 0.2] = 0.0
    matrix[:, 3] = 0.25  # one value throughout
    matrix[::7, 5] = 5e-324  # the smallest subnormal
    for k in (0, 500, 4999):
        got = base.kth_smallest_per_column(lambda: (matrix[i : i + 777] for i in range(0, 5000, 777)), k)
        np.testing.assert_array_equal(got, np.partition(matrix, k, axis=0)[k])


def test_frames_past_the_end_read_zeros(monkeypatch):
    monkeypatch.setattr(base, "BLOCK_SAMPLES", 64)
    x = np.arange(1000, dtype=np.float32)
    got = np.concatenate([frames for _, frames in base.frame_blocks(x, 50, 20, 50, first=3)])
    padded = np.concatenate((x, np.zeros(100, dtype=np.float32))).astype(np.float64)
    expected = np.lib.stride_tricks.sliding_window_view(padded[3:], 50)[::20][:50]
    np.testing.assert_array_equal(got, expected)


# Measures a file in a fresh process: the rise of its peak RSS (ru_maxrss) from before the clip is
# decoded to after it is measured, once the one-off costs (imports, CMUdict, the DNSMOS session)
# are paid on a short clip.
MEASURE_FILE = """
import json, resource, sys
import numpy as np
from speechsift import audio
from speechsift.features import measure
from speechsift.records import AudioRef

path, features, text = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
rng = np.random.default_rng(0)
measure((rng.standard_normal(5 * 16000) * 0.1).astype(np.float32), 16000, features, text=text)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
wave, sr = audio.load(AudioRef(path=path))
values = measure(wave, sr, features, text=text)
rise = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"rise_mib": rise / 1024, "wave_mib": wave.nbytes / 2**20, "values": values}))
"""


def measure_in_process(path) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE_FILE, str(path), ",".join(FEATURES), TEXT],
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout)


def test_twenty_minutes_measure_in_the_memory_of_two(tmp_path):
    """A 20-minute file (a 2-minute stretch ten times over) against the 2-minute stretch: the peak
    memory beyond the decoded clip itself (float32, 64 KiB per second) grows by less than 40 MiB
    (before block-wise measuring it took about 2 MB per second of audio: 2.3 GB more at 20
    minutes), and the values of the whole-clip statistics agree."""
    stretch = talk(120.0, seed=1)
    short, long = tmp_path / "two_minutes.wav", tmp_path / "twenty_minutes.wav"
    sf.write(short, stretch, SR, subtype="PCM_16")
    sf.write(long, np.tile(stretch, 10), SR, subtype="PCM_16")
    two, twenty = measure_in_process(short), measure_in_process(long)
    working = {run: result["rise_mib"] - result["wave_mib"] for run, result in (("2 min", two), ("20 min", twenty))}
    assert working["20 min"] - working["2 min"] < 40, working
    a, b = two["values"], twenty["values"]
    assert b["duration_s"] == pytest.approx(1200.0, abs=1e-3)
    for column in ("speech_duration_s", "speaking_rate"):
        assert b[column] == pytest.approx(a[column] * (10 if column == "speech_duration_s" else 0.1), rel=0.01), column
    for column in ("rms_db", "relative_db", "snr_db", "c50_db", "distortion_sdr_db", "bandwidth_hz"):
        assert b[column] == pytest.approx(a[column], abs=0.1), column
    for column in ("f0_median_hz", "f0_mean_hz", "f0_std_hz"):
        assert b[column] == pytest.approx(a[column], rel=0.01), column
    for column in ("voiced_fraction", "clipping_ratio", "clipped_fraction"):
        assert b[column] == pytest.approx(a[column], abs=0.005), column
    assert b["dnsmos_p808"] == pytest.approx(a["dnsmos_p808"], abs=0.05)
