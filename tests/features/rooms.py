"""Simulated rooms with known clarity: pyroomacoustics shoebox rooms (image-source method) and the
true C50 of each room's impulse response, for the reverberation tests and
``scripts/calibrate_reverb.py``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR = 16_000
EARLY_S = 0.050  # C50's boundary between early and late energy (ISO 3382-1)


@dataclass(frozen=True)
class Room:
    rt60_s: float
    distance_m: float
    rir: np.ndarray

    @property
    def c50_db(self) -> float:
        return true_c50_db(self.rir)


def true_c50_db(rir: np.ndarray, sr: int = SR) -> float:
    """C50 of an impulse response: energy within 50 ms of the direct sound (its largest peak) over
    the energy after it."""
    start = int(np.argmax(np.abs(rir)))
    split = start + round(EARLY_S * sr)
    return float(10 * np.log10(np.sum(rir[:split] ** 2) / np.sum(rir[split:] ** 2)))


def shoebox_rooms(count: int, seed: int) -> list[Room]:
    """``count`` random rooms: 3-10 x 3-8 x 2.4-4 m, RT60 0.15-1.2 s (Sabine), the talker 0.3-4 m
    from the microphone, both at least 0.3 m from every wall."""
    import pyroomacoustics as pra

    rng = np.random.default_rng(seed)
    rooms: list[Room] = []
    while len(rooms) < count:
        dims = rng.uniform([3.0, 3.0, 2.4], [10.0, 8.0, 4.0])
        rt60 = float(rng.uniform(0.15, 1.2))
        try:
            absorption, max_order = pra.inverse_sabine(rt60, dims)
        except ValueError:  # a room this size cannot be that dry
            continue
        mic = rng.uniform([0.5, 0.5, 1.0], dims - [0.5, 0.5, 1.0])
        distance = float(rng.uniform(0.3, 4.0))
        direction = rng.normal(size=3) * [1.0, 1.0, 0.2]
        source = mic + distance * direction / np.linalg.norm(direction)
        if np.any(source < 0.3) or np.any(source > dims - 0.3):
            continue
        room = pra.ShoeBox(dims, fs=SR, materials=pra.Material(absorption), max_order=min(max_order, 40))
        room.add_source(source)
        room.add_microphone(mic)
        room.compute_rir()
        rooms.append(Room(rt60, distance, np.asarray(room.rir[0][0], dtype=np.float64)))
    return rooms


def reverberate(dry: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """``dry`` convolved with ``rir``, tail included, peak-normalized to 0.9."""
    from scipy.signal import fftconvolve

    wet = fftconvolve(dry, rir)
    return wet * (0.9 / np.max(np.abs(wet)))
