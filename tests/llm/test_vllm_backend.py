"""The vllm backend. It needs a CUDA GPU and the `vllm` extra; on machines without them the GPU
test says why it skipped, and the parts that need no GPU are still checked."""

from __future__ import annotations

import importlib.util
import json
from types import SimpleNamespace

import pytest

from speechsift.errors import ConfigError
from speechsift.llm import ChatRequest, SamplingParams, generate, make_backend
from speechsift.llm.vllm_backend import structured_outputs
from speechsift.recipe import LLMConfig

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here; this checks the error shown without it")
def test_without_vllm_the_error_names_the_extra():
    with pytest.raises(ConfigError, match=r"speechsift\[vllm\]"):
        make_backend(LLMConfig(backend="vllm", model="any"))


def test_structured_output_arguments_in_both_vllm_spellings():
    # Stand-ins for vllm.sampling_params: >= 0.11 has StructuredOutputsParams, older GuidedDecodingParams.
    schema = {"type": "object"}
    new = SimpleNamespace(StructuredOutputsParams=lambda json: ("structured", json))
    old = SimpleNamespace(GuidedDecodingParams=lambda json: ("guided", json))
    assert structured_outputs(new, schema) == {"structured_outputs": ("structured", schema)}
    assert structured_outputs(old, schema) == {"guided_decoding": ("guided", schema)}


@pytest.mark.gpu
@pytest.mark.skipif(not HAS_VLLM, reason="vllm is not installed (pip install 'speechsift[vllm]' on a GPU machine)")
@pytest.mark.skipif(not _has_cuda(), reason="no CUDA GPU on this machine: vLLM's engine needs one")
def test_vllm_generates_samples_and_structured_output(tiny_model):
    backend = make_backend(LLMConfig(backend="vllm", model=str(tiny_model), seed=1, max_model_len=1024))
    sampling = SamplingParams(temperature=0.8, top_p=0.9, max_tokens=16, seed=3)
    prompt = [{"role": "system", "content": "Answer in JSON."}, {"role": "user", "content": "Who speaks?"}]
    requests = [ChatRequest(prompt, sampling, "x", sample_index=i) for i in range(3)]
    completions = generate(backend, requests)
    assert all(c.ok and c.finish_reason in ("stop", "length") for c in completions)
    assert all(c.completion_tokens and c.prompt_tokens for c in completions)
    again = generate(backend, requests)
    assert [c.text for c in again] == [c.text for c in completions], "seeded sampling repeats"
    schema = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
    [structured] = generate(backend, [ChatRequest(prompt, SamplingParams(max_tokens=64), "x", json_schema=schema)])
    if structured.finish_reason == "stop":
        assert "q" in json.loads(structured.text)
