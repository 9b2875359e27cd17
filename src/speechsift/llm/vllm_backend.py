"""The ``vllm`` backend: vLLM's offline engine on the local GPU(s).

Prefix caching is on, and every task's system prompt comes first in its messages, so the shared
prefix of a task's prompts is computed once. vLLM is imported only when this backend is chosen;
without it the error names the extra to install. All samples of one prompt are one vLLM request
with ``n`` outputs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from speechsift.errors import ConfigError
from speechsift.llm.base import register_backend
from speechsift.llm.local_engine import require
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    from speechsift.recipe import LLMConfig


def structured_outputs(vllm_sampling: Any, schema: dict[str, Any]) -> dict[str, Any]:
    """SamplingParams arguments that constrain output to ``schema``, in this vLLM's spelling."""
    if hasattr(vllm_sampling, "StructuredOutputsParams"):
        return {"structured_outputs": vllm_sampling.StructuredOutputsParams(json=schema)}
    return {"guided_decoding": vllm_sampling.GuidedDecodingParams(json=schema)}  # vLLM < 0.11


class VLLMBackend:
    name = "vllm"
    streaming = False
    cacheable = True
    raw_completion = True  # raw prompts go in as token ids, special tokens not added twice

    def __init__(
        self,
        *,
        model: str,
        dtype: str | None = None,
        seed: int | None = None,
        chat_template_kwargs: dict[str, Any] | None = None,
        max_model_len: int | None = None,
        engine_args: dict[str, Any] | None = None,
    ) -> None:
        vllm = require("vllm", "vllm")
        self._vllm_sampling = require("vllm.sampling_params", "vllm")
        self.model = model
        self.template_kwargs = dict(chat_template_kwargs or {})
        options: dict[str, Any] = {"model": model, "enable_prefix_caching": True, **(engine_args or {})}
        if dtype:
            options["dtype"] = dtype
        if seed is not None:
            options["seed"] = seed
        if max_model_len:
            options["max_model_len"] = max_model_len
        self.engine = vllm.LLM(**options)
        self.SamplingParams = vllm.SamplingParams
        self._lock = threading.Lock()

    def supports(self, task: str) -> bool:
        return True

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return await asyncio.to_thread(self.generate_sync, list(requests))

    def sampling_params(self, request: ChatRequest, n: int) -> Any:
        sampling = request.sampling
        options: dict[str, Any] = {
            "n": n,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if sampling.seed is not None:
            options["seed"] = sampling.seed
        if request.stop:
            options["stop"] = list(request.stop)
        if request.json_schema is not None:
            options.update(structured_outputs(self._vllm_sampling, request.json_schema))
        return self.SamplingParams(**options)

    def generate_sync(self, requests: list[ChatRequest]) -> list[Completion]:
        groups: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.prompt_key(self.name, self.model), []).append(index)
        results: list[Completion | None] = [None] * len(requests)
        chat = [indices for indices in groups.values() if requests[indices[0]].prompt is None]
        raw = [indices for indices in groups.values() if requests[indices[0]].prompt is not None]
        params = {id(g): self.sampling_params(requests[g[0]], len(g)) for g in chat + raw}
        with self._lock:
            outputs = []
            if chat:
                outputs += self.engine.chat([requests[g[0]].messages for g in chat],
                                            sampling_params=[params[id(g)] for g in chat], use_tqdm=False,
                                            chat_template_kwargs=self.template_kwargs)
            if raw:
                # token ids, so that vLLM adds no begin-of-text token to a prompt that holds one
                tokenizer = self.engine.get_tokenizer()
                prompts = [{"prompt_token_ids": tokenizer(requests[g[0]].prompt, add_special_tokens=False)["input_ids"]}
                           for g in raw]
                outputs += self.engine.generate(prompts, sampling_params=[params[id(g)] for g in raw], use_tqdm=False)
        for indices, output in zip(chat + raw, outputs):
            prompt_tokens = len(output.prompt_token_ids or [])
            samples = sorted(output.outputs, key=lambda o: o.index)
            for index, sample in zip(indices, samples):
                results[index] = Completion(
                    text=sample.text,
                    finish_reason=sample.finish_reason,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=len(sample.token_ids),
                )
            for index in indices[len(samples):]:
                results[index] = Completion(error="vLLM returned fewer samples than asked",
                                            error_reason="missing_choice", transient=True)
        return results  # type: ignore[return-value]


@register_backend("vllm")
def _make(config: "LLMConfig", section: str) -> VLLMBackend:
    if not config.model:
        raise ConfigError(f"{section}.model: the vllm backend needs a model directory or hub id.")
    return VLLMBackend(
        model=config.model,
        dtype=config.dtype,
        seed=config.seed,
        chat_template_kwargs=config.chat_template_kwargs,
        max_model_len=config.max_model_len,
    )
