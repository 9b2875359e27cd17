"""The model-under-test backends' edges: what audio goes over the wire, the vLLM import guard."""

from __future__ import annotations

import base64
import importlib.util
import io

import numpy as np
import pytest
import soundfile as sf
from factories import write_tone

from speechsift.errors import ConfigError
from speechsift.eval.config import EvalModelConfig
from speechsift.eval.model import AudioCache, audio_digest, make_model_backend, wav_bytes
from speechsift.records import AudioRef


def test_a_wav_file_is_sent_as_is_and_anything_else_as_16k_mono_wav(tmp_path):
    wav = write_tone(tmp_path / "a.wav", seconds=0.2, sr=16_000)
    assert wav_bytes(AudioRef(path=str(wav))) == wav.read_bytes()
    stereo = tmp_path / "b.flac"
    sf.write(stereo, np.zeros((4410, 2), dtype=np.float32) + 0.1, 44_100)
    data = wav_bytes(AudioRef(path=str(stereo)))
    info = sf.info(io.BytesIO(data))
    assert (info.format, info.samplerate, info.channels, info.subtype) == ("WAV", 16_000, 1, "PCM_16")
    window = wav_bytes(AudioRef(path=str(wav), offset_s=0.1, duration_s=0.05))
    assert sf.info(io.BytesIO(window)).frames == 800
    cache = AudioCache(size=1)
    digest = audio_digest(AudioRef(path=str(wav)))
    assert base64.b64decode(cache.wav(digest, AudioRef(path=str(wav)))[1]) == wav.read_bytes()
    assert audio_digest(AudioRef(path=str(wav), offset_s=0.1)) != digest


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed: the guard is not reached")
def test_vllm_backend_without_vllm_names_the_extra():
    with pytest.raises(ConfigError, match=r"speechsift\[vllm\]"):
        make_model_backend(EvalModelConfig(backend="vllm", model="Qwen/Qwen2-Audio-7B-Instruct"))


def test_unknown_backend_is_a_config_error():
    with pytest.raises(ConfigError, match="openai, transformers, vllm"):
        make_model_backend(EvalModelConfig(backend="template", model="x"))
