"""Fit the linear correction of the blind C50 estimate (``features.reverb.CAL_SLOPE``/``CAL_INTERCEPT``)
on simulated rooms, and report how well the corrected estimate tracks the truth on other rooms.

Rooms: pyroomacoustics shoebox rooms (tests/features/rooms.py) with espeak-ng speech, two voices;
the true C50 of each room is computed from its impulse response. Needs the dev extra
(pyroomacoustics) and espeak-ng.

    .venv/bin/python scripts/calibrate_reverb.py [--rooms 60] [--seed 100]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "features"))

from rooms import SR, reverberate, shoebox_rooms  # noqa: E402
from speech_fixtures import espeak  # noqa: E402

from speechsift.features import reverb  # noqa: E402

TEXTS = (
    "Please call Stella. Ask her to bring these things with her from the store.",
    "Six spoons of fresh snow peas, five thick slabs of blue cheese, and maybe a snack for her brother Bob.",
)
VOICES = ("en-us", "en-us+f3")


def raw_estimates(rooms, dry_clips) -> tuple[np.ndarray, np.ndarray]:
    """(true C50, uncorrected Polack C50) for every room x clip."""
    truth, raw = [], []
    for room in rooms:
        for dry in dry_clips:
            rates = reverb.decay_rates(reverberate(dry, room.rir), SR)
            truth.append(room.c50_db)
            raw.append(reverb.polack_c50_db(float(np.quantile(rates, reverb.DECAY_QUANTILE))))
    return np.array(truth), np.array(raw)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=60, help="rooms to fit on (and as many to test on)")
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    dry_clips = [espeak(text, voice=voice) for text in TEXTS for voice in VOICES]
    truth, raw = raw_estimates(shoebox_rooms(args.rooms, args.seed), dry_clips)
    slope, intercept = np.polyfit(raw, truth, 1)
    print(f"fit on {len(truth)} room x clip pairs: CAL_SLOPE = {slope:.2f}, CAL_INTERCEPT = {intercept:.1f}")
    test_truth, test_raw = raw_estimates(shoebox_rooms(args.rooms, args.seed + 1), dry_clips)
    corrections = {"fitted": (slope, intercept), "in the module": (reverb.CAL_SLOPE, reverb.CAL_INTERCEPT)}
    for name, (a, b) in corrections.items():
        estimate = np.clip(a * test_raw + b, reverb.C50_MIN_DB, reverb.C50_MAX_DB)
        error = estimate - test_truth
        print(f"other rooms, {name}: Spearman {spearmanr(estimate, test_truth)[0]:.3f}, "
              f"MAE {np.mean(np.abs(error)):.1f} dB, bias {np.mean(error):+.1f} dB")
    dry = [reverb.estimate_c50_db(clip, SR) for clip in dry_clips]
    print(f"dry speech: {', '.join(f'{v:.1f}' for v in dry)} dB; simulated rooms {test_truth.min():.1f} to "
          f"{test_truth.max():.1f} dB")


if __name__ == "__main__":
    main()
