"""Speech quality of a clip, offline on CPU: DNSMOS P.808 (``quality``: ``dnsmos_p808``) and, opt-in,
DNSMOS P.835 (``quality_p835``: ``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl``).

**DNSMOS P.808** (Reddy, Gopal & Cutler, "DNSMOS: A non-intrusive perceptual objective speech quality
metric to evaluate noise suppressors", ICASSP 2021) is a convolutional network that predicts, from
the audio alone, the mean opinion score of an ITU-T P.808 absolute-category-rating listening test
(1 bad ... 5 excellent) from a log-mel spectrogram. It is the default because it is cheap: about
0.015 s of one core per 9 s window (the network 0.010 s, the spectrogram 0.005 s), against 0.36 s
for P.835 (below), which keeps the whole feature set above 100x real time per core (README
"Performance"). SIFT-50M bins a PESQ-like score into its
six ``speech_quality`` words; speechsift bins ``dnsmos_p808`` (``labels.bins``).

**DNSMOS P.835** (Reddy, Gopal & Cutler, "DNSMOS P.835: A non-intrusive perceptual objective speech
quality metric to evaluate noise suppressors", ICASSP 2022) predicts the three ratings of an ITU-T
P.835 test on a 1-5 scale: **SIG** the speech signal itself (5: not distorted ... 1: very
distorted), **BAK** the background (5: not noticeable ... 1: very intrusive) and **OVRL** the overall
quality. It reads the raw waveform and runs at about 14x real time per core: opt in with the
``quality_p835`` feature where the three ratings are wanted (e.g. SIG for codec artefacts).

**Models and licences.** Both ONNX models are the ones shipped inside the ``speechmos`` package
(PyPI, 0.0.1.1; MIT licence, copyright Microsoft Corporation), ``speechmos/dnsmos_models/``:
``model_v8.onnx`` (P.808; input ``(N, 900, 120)`` log-mel frames, one output) and
``sig_bak_ovr.onnx`` (P.835), byte-identical (git blobs ``15f1da4d`` and ``814b8dc6``) to
``DNSMOS/DNSMOS/model_v8.onnx`` and ``DNSMOS/DNSMOS/sig_bak_ovr.onnx`` in Microsoft's DNS-Challenge
repository, whose non-code content is licensed CC BY 4.0 (its ``LICENSE``; code MIT,
``LICENSE-CODE``). Attribution: the two DNSMOS papers above. speechsift reads the model files from
the installed package and runs them with onnxruntime (MIT); it does not import speechmos' own code,
which needs librosa. Nothing is downloaded. Install: ``pip install 'speechsift[quality]'``.

**Procedure**, as the reference script (DNS-Challenge ``DNSMOS/dnsmos_local.py``): 16 kHz audio;
``WINDOW_S`` (9.01 s) windows; a clip shorter than a window is repeated until it fills one; the
scores are averaged over the windows. P.808 reads the first ``P808_SAMPLES`` of each window (the
reference drops its last 160 samples) as a log-mel spectrogram computed as the reference's
``audio_melspec`` does with librosa, here in numpy/scipy (``log_mel``): frames of ``N_FFT`` = 321
samples (its ``frame_size`` 320 + 1) with a periodic Hann window, every ``HOP`` = 160 samples,
centred (the signal padded with ``N_FFT // 2`` zeros at each end: librosa's padding since 0.9, the
release current when P.808 joined the script in December 2022), power spectrum, ``N_MELS`` = 120
Slaney-style mel filters over 0-8 kHz (linear to 1 kHz, then logarithmic; each triangle normalized
to unit area), power in dB relative to the window's maximum, floored at -80 dB (librosa's
``power_to_db`` with ``ref=np.max``, ``amin`` 1e-10, ``top_db`` 80), then ``(dB + 40) / 40``: 900
frames of 120 values in [-1, 1]. ``tests/features/test_quality_distortion.py`` checks the
spectrogram against librosa and both scores against speechmos' own (librosa-based) code. P.835's raw
outputs go through the published polynomial calibration (``CALIBRATION``, non-personalized model).
One deviation, for speed: the reference slides its windows by 1 s (a 20 s clip is scored 12 times)
and also scores every 1 s shift of the repeated short clip; speechsift lays windows end to end (the
last one ends at the clip's end) and scores a short clip once (the reference's first window). A clip
exactly one window long gets the reference's score; the 4.0 s test sentence below gets 3.64 from
P.808 where the reference averages 3.61 over its 7 shifted windows.

**What it sees** (tests/features/test_quality_distortion.py, one 4.0 s espeak-ng sentence). P.808:
3.64 clean; white noise at 30, 20, 10, 0 dB SNR 3.19, 3.05, 2.74, 2.14; hard clipping at 50, 25, 10,
5 % of the peak 3.28, 2.93, 3.01, 2.68; low-passes at 6, 4, 2, 1 kHz 3.55, 3.26, 2.90, 2.46; MP3 at
64, 32, 16, 8 kbit/s 3.41, 3.36, 3.19, 3.03: every degradation rates lower than the clean clip, and
noise, low-passes and bitrates in their order. P.835 OVRL: 2.35 clean; noise 2.23, 2.14, 1.90, 1.57
(BAK 3.55 clean, then 2.69, 2.38, 1.74, 1.48); hard clipping at 5 % 2.05, but milder clipping
(50-10 %) 2.48-2.80, and low-passed (2 kHz: 2.69, 1 kHz: 2.53) and MP3 (16 kbit/s: 2.76, 8 kbit/s:
2.73) versions rate *higher* than the original: P.835 hears espeak-ng's buzzy highs as a fault,
which a low-pass removes. Clipping and band-limiting are therefore also measured from the signal by
``features.distortion``; how DNSMOS rates them on recorded speech cannot be checked here (no
recorded speech is available offline).

NaN when the clip is shorter than ``MIN_DURATION_S`` (the network needs speech to rate, not a
repeated click) or holds no sound above the silence level of ``features.vad``.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np

from speechsift.errors import ConfigError
from speechsift.features.base import NAN, peak_power, prepare_wave
from speechsift.features.vad import SILENCE_DBFS

MODEL_SR = 16_000
WINDOW_S = 9.01  # the networks' fixed input: 144,160 samples
MIN_DURATION_S = 0.5

# P.808's log-mel input (DNS-Challenge DNSMOS/dnsmos_local.py, audio_melspec; see the docstring).
P808_SAMPLES = 144_000  # a window less its last HOP samples: 900 frames
N_FFT = 321
HOP = 160
N_MELS = 120
POWER_FLOOR = 1e-10  # librosa.power_to_db's amin
DB_RANGE = 80.0  # its top_db: the floor below the window's maximum
P808_COLUMNS = ("dnsmos_p808",)

# Polynomials mapping P.835's raw SIG, BAK, OVRL onto the P.835 scale (DNS-Challenge
# DNSMOS/dnsmos_local.py, get_polyfit_val, non-personalized), highest power first.
CALIBRATION = {
    "dnsmos_sig": (-0.08397278, 1.22083953, 0.0052439),
    "dnsmos_bak": (-0.13166888, 1.60915514, -0.39604546),
    "dnsmos_ovrl": (-0.06766283, 1.11546468, 0.04602535),
}
P835_COLUMNS = tuple(CALIBRATION)

MODEL_FILES = {"quality": "model_v8.onnx", "quality_p835": "sig_bak_ovr.onnx"}  # speechmos/dnsmos_models/
INSTALL_HINT = ("pip install -c constraints.txt 'speechsift[quality]' (onnxruntime and speechmos, which ships the "
                "models)")

_sessions: dict[str, object] = {}
_sessions_lock = threading.Lock()


def model_path(feature: str = "quality") -> Path:
    """The DNSMOS ONNX file of ``feature`` inside the installed speechmos package; ConfigError when missing."""
    spec = importlib.util.find_spec("speechmos")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"features: {feature} needs the DNSMOS model of the speechmos package: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations)), "dnsmos_models", MODEL_FILES[feature])
    if not path.is_file():
        raise ConfigError(f"features: {feature}: {path} is missing from the speechmos package; reinstall it: "
                          f"{INSTALL_HINT}")
    return path


@cache
def check_available(feature: str = "quality") -> None:
    """ConfigError (with the install command) unless onnxruntime and ``feature``'s model are installed."""
    if importlib.util.find_spec("onnxruntime") is None:
        raise ConfigError(f"features: {feature} runs DNSMOS with onnxruntime, which is not installed: {INSTALL_HINT}")
    model_path(feature)


def _model(feature: str):
    """``feature``'s ONNX session, created once per process, on one thread (the measuring pool uses
    the cores)."""
    with _sessions_lock:
        if feature not in _sessions:
            import onnxruntime as ort

            check_available(feature)
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            _sessions[feature] = ort.InferenceSession(str(model_path(feature)), options,
                                                      providers=["CPUExecutionProvider"])
        return _sessions[feature]


def windows(wave: np.ndarray) -> Iterator[np.ndarray]:
    """The clip cut into ``WINDOW_S`` windows of float32 samples, one at a time (see the module
    docstring)."""
    length = round(WINDOW_S * MODEL_SR)
    if wave.size < length:
        yield np.tile(wave.astype(np.float32), -(-length // wave.size))[:length]
        return
    starts = list(range(0, wave.size - length + 1, length))
    if starts[-1] + length < wave.size:
        starts.append(wave.size - length)
    for start in starts:
        yield wave[start : start + length].astype(np.float32)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (Auditory Toolbox, 1998): 200/3 Hz per mel to 1 kHz (15 mel), then a
    factor 6.4 every 27 mel."""
    hz = np.asarray(hz, dtype=np.float64)
    log_part = 15.0 + 27.0 * np.log(np.maximum(hz, 1000.0) / 1000.0) / np.log(6.4)
    return np.where(hz < 1000.0, hz * 3.0 / 200.0, log_part)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel < 15.0, mel * 200.0 / 3.0, 1000.0 * 6.4 ** ((np.maximum(mel, 15.0) - 15.0) / 27.0))


@cache
def mel_filterbank() -> np.ndarray:
    """``(N_MELS, N_FFT // 2 + 1)`` triangular filters, centres equally spaced on Slaney's mel scale
    from 0 Hz to Nyquist, each scaled to unit area (2 / its width in Hz)."""
    bins_hz = np.fft.rfftfreq(N_FFT, 1.0 / MODEL_SR)
    corners = _mel_to_hz(np.linspace(0.0, _hz_to_mel(MODEL_SR / 2), N_MELS + 2))
    low, centre, high = corners[:-2, None], corners[1:-1, None], corners[2:, None]
    rising = (bins_hz - low) / (centre - low)
    falling = (high - bins_hz) / (high - centre)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return (triangles * (2.0 / (corners[2:] - corners[:-2]))[:, None]).astype(np.float32)


@cache
def _hann() -> np.ndarray:
    from scipy.signal import get_window

    return get_window("hann", N_FFT).astype(np.float32)  # periodic, as librosa's STFT


def log_mel(segment: np.ndarray) -> np.ndarray:
    """P.808's input for one ``P808_SAMPLES`` segment: ``(900, N_MELS)`` float32 (module docstring)."""
    from scipy.fft import rfft

    padded = np.pad(np.asarray(segment, dtype=np.float32), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    spectrum = rfft(frames * _hann(), axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    db = 10.0 * np.log10(np.maximum(power @ mel_filterbank().T, POWER_FLOOR))
    db = np.maximum(db - db.max(), -DB_RANGE)
    return ((db + 40.0) / 40.0).astype(np.float32)


def _rateable(wave: np.ndarray, sr: int) -> np.ndarray | None:
    """``wave`` at ``MODEL_SR``, or None when it is too short or too quiet to rate. A wave at another
    rate is resampled whole, as float32 (speechsift decodes at ``MODEL_SR``, so only a caller of
    ``features.measure`` with another rate pays for that copy)."""
    x = prepare_wave(wave, sr)
    if x.size < MIN_DURATION_S * sr or peak_power(x) <= 10 ** (SILENCE_DBFS / 10):
        return None
    if sr != MODEL_SR:
        from scipy.signal import resample_poly

        x = resample_poly(x, MODEL_SR, sr).astype(np.float32)
    return x


def measure_quality(wave: np.ndarray, sr: int) -> dict[str, float]:
    """``dnsmos_p808``: DNSMOS P.808 MOS (1-5); NaN for a clip too short or silent to rate.

    The network rates one window per run, as P.835's does: its activations for a batch of every
    window of a 30-minute clip took gigabytes, and a window's score does not depend on the batch.
    """
    x = _rateable(wave, sr)
    if x is None:
        return dict.fromkeys(P808_COLUMNS, NAN)
    session = _model("quality")
    scores = [session.run(None, {"input_1": log_mel(window[:P808_SAMPLES])[None]})[0][0, 0] for window in windows(x)]
    return {"dnsmos_p808": float(np.mean(scores))}


def measure_quality_p835(wave: np.ndarray, sr: int) -> dict[str, float]:
    """``dnsmos_sig``, ``dnsmos_bak``, ``dnsmos_ovrl`` on the P.835 scale (1-5); NaN for a clip too
    short or silent to rate."""
    x = _rateable(wave, sr)
    if x is None:
        return dict.fromkeys(P835_COLUMNS, NAN)
    session = _model("quality_p835")
    raw = np.mean([session.run(None, {"input_1": window[None]})[0][0] for window in windows(x)], axis=0)
    return {column: float(np.polyval(CALIBRATION[column], value)) for column, value in zip(P835_COLUMNS, raw)}
