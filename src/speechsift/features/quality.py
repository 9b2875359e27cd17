"""Speech quality of a clip: ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl`` (DNSMOS P.835), offline on CPU.

DNSMOS P.835 (Reddy, Gopal & Cutler, "DNSMOS P.835: A non-intrusive perceptual objective speech
quality metric to evaluate noise suppressors", ICASSP 2022) is a convolutional network that predicts,
from the audio alone, the three ratings of an ITU-T P.835 listening test on a 1-5 scale: **SIG** the
speech signal itself (5: not distorted ... 1: very distorted), **BAK** the background (5: not
noticeable ... 1: very intrusive) and **OVRL** the overall quality. SIFT-50M bins a PESQ-like score
into its six ``speech_quality`` words; speechsift bins ``dnsmos_ovrl`` (``labels.bins``).

**Models and licences.** The ONNX model is the one shipped inside the ``speechmos`` package
(PyPI, 0.0.1.1; MIT licence, copyright Microsoft Corporation): ``speechmos/dnsmos_models/
sig_bak_ovr.onnx``, byte-identical (git blob ``814b8dc6``) to ``DNSMOS/DNSMOS/sig_bak_ovr.onnx`` in
Microsoft's DNS-Challenge repository, whose non-code content is licensed CC BY 4.0 (its ``LICENSE``;
code MIT, ``LICENSE-CODE``). Attribution: the DNSMOS P.835 paper above. speechsift reads the model
file from the installed package and runs it with onnxruntime (MIT); it does not import speechmos'
own code, which needs librosa. Nothing is downloaded. Install: ``pip install 'speechsift[quality]'``.

**Procedure**, as the reference script (DNS-Challenge ``DNSMOS/dnsmos_local.py``): 16 kHz audio;
``WINDOW_S`` (9.01 s) windows; a clip shorter than a window is repeated until it fills one; the
network's raw outputs go through the published polynomial calibration (``CALIBRATION``,
non-personalized model) and are averaged over the windows. One deviation, for speed: the reference
slides its windows by 1 s (a 20 s clip is scored 12 times) and also scores every 1 s shift of the
repeated short clip; speechsift lays windows end to end (the last one ends at the clip's end) and
scores a short clip once. Each window costs the same (about 0.36 s of one core here), so this is
what keeps the cost near one network pass per 9 s of audio.

**What it sees** (tests/features/test_quality_distortion.py, one 4.0 s espeak-ng sentence): OVRL
2.35 clean; white noise at 30, 20, 10, 0 dB SNR 2.23, 2.14, 1.90, 1.57 (BAK 3.55 clean, then 2.69,
2.38, 1.74, 1.48); hard clipping at 5 % of the peak 2.05, but milder clipping (50-10 %) 2.48-2.80.
Low-passed (2 kHz: 2.69, 1 kHz: 2.53) and MP3 (16 kbit/s: 2.76, 8 kbit/s: 2.73) versions rate
*higher* than the original: DNSMOS hears espeak-ng's buzzy highs as a fault, which a low-pass
removes. Clipping and band-limiting are therefore measured from the signal by ``features.distortion``;
how DNSMOS rates them on recorded speech cannot be checked here (no recorded speech is available
offline).

NaN when the clip is shorter than ``MIN_DURATION_S`` (the network needs speech to rate, not a
repeated click) or holds no sound above the silence level of ``features.vad``.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path

import numpy as np

from speechsift.errors import ConfigError
from speechsift.features.base import NAN
from speechsift.features.vad import SILENCE_DBFS

MODEL_SR = 16_000
WINDOW_S = 9.01  # the network's fixed input: 144,160 samples
MIN_DURATION_S = 0.5
# Polynomials mapping the network's raw SIG, BAK, OVRL onto the P.835 scale (DNS-Challenge
# DNSMOS/dnsmos_local.py, get_polyfit_val, non-personalized), highest power first.
CALIBRATION = {
    "dnsmos_sig": (-0.08397278, 1.22083953, 0.0052439),
    "dnsmos_bak": (-0.13166888, 1.60915514, -0.39604546),
    "dnsmos_ovrl": (-0.06766283, 1.11546468, 0.04602535),
}
COLUMNS = tuple(CALIBRATION)
MODEL_FILE = ("dnsmos_models", "sig_bak_ovr.onnx")  # inside the speechmos package
INSTALL_HINT = "pip install -c constraints.txt 'speechsift[quality]' (onnxruntime and speechmos, which ships the model)"

_session = None
_session_lock = threading.Lock()


def model_path() -> Path:
    """The DNSMOS P.835 ONNX file inside the installed speechmos package; ConfigError when missing."""
    spec = importlib.util.find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"features: quality needs the DNSMOS model of the speechmos package: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations)), *MODEL_FILE)
    if not path.is_file():
        raise ConfigError(f"features: quality: {path} is missing from the speechmos package; reinstall it: "
                          f"{INSTALL_HINT}")
    return path


@cache
def check_available() -> None:
    """ConfigError (with the install command) unless onnxruntime and the model are installed."""
    if importlib.util.find_spec("onnxruntime") is None:
        raise ConfigError(f"features: quality runs DNSMOS with onnxruntime, which is not installed: {INSTALL_HINT}")
    model_path()


def _model():
    """The ONNX session, created once per process, on one thread (the measuring pool uses the cores)."""
    global _session
    with _session_lock:
        if _session is None:
            import onnxruntime as ort

            check_available()
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            _session = ort.InferenceSession(str(model_path()), options, providers=["CPUExecutionProvider"])
        return _session


def windows(wave: np.ndarray) -> np.ndarray:
    """The clip cut into ``WINDOW_S`` windows, ``(n, samples)`` float32 (see the module docstring)."""
    length = round(WINDOW_S * MODEL_SR)
    x = wave.astype(np.float32)
    if x.size < length:
        x = np.tile(x, -(-length // x.size))[:length]
    starts = list(range(0, x.size - length + 1, length))
    if starts[-1] + length < x.size:
        starts.append(x.size - length)
    return np.stack([x[s : s + length] for s in starts])


def measure_quality(wave: np.ndarray, sr: int) -> dict[str, float]:
    """``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl`` on the P.835 scale (1-5); NaN for a clip too
    short or silent to rate."""
    if wave.size < MIN_DURATION_S * sr or float(np.max(wave**2)) <= 10 ** (SILENCE_DBFS / 10):
        return dict.fromkeys(COLUMNS, NAN)
    if sr != MODEL_SR:
        from scipy.signal import resample_poly

        wave = resample_poly(wave, MODEL_SR, sr)
    session = _model()
    raw = np.mean([session.run(None, {"input_1": window[None]})[0][0] for window in windows(wave)], axis=0)
    return {column: float(np.polyval(CALIBRATION[column], value)) for column, value in zip(COLUMNS, raw)}
