"""The ``transformers`` backend: a local model directory or hub id, generating on CPU or GPU.

Requests are sorted by prompt length and generated in batches with left padding, so a batch
wastes little on padding; thinking is switched off through the chat template where the template
supports it. Sampling is seeded: with ``llm.seed`` set, a batch's samples depend only on the seed
and the batch's contents. The model loads when the backend is made, so a wrong path fails before
any clip is read.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from speechsift.errors import ConfigError
from speechsift.llm.base import register_backend
from speechsift.llm.local_engine import pick_device, pick_dtype, render_chat, require
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    from speechsift.recipe import LLMConfig


class TransformersBackend:
    name = "transformers"
    streaming = False
    cacheable = True
    raw_completion = True  # a raw prompt is tokenized as is, no special tokens added

    def __init__(
        self,
        *,
        model: str,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 16,
        chat_template_kwargs: dict[str, Any] | None = None,
        max_model_len: int | None = None,
    ) -> None:
        self.torch = require("torch", "transformers")
        transformers = require("transformers", "transformers")
        self.model = model
        self.batch_size = batch_size
        self.template_kwargs = dict(chat_template_kwargs or {})
        self.device = pick_device(self.torch, device)
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
            self.lm = transformers.AutoModelForCausalLM.from_pretrained(
                model, dtype=pick_dtype(self.torch, dtype, self.device)
            ).to(self.device)
        except OSError as exc:
            raise ConfigError(f"llm.model: cannot load {model!r} with transformers: {exc}") from None
        self.lm.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.max_model_len = max_model_len or getattr(self.lm.config, "max_position_embeddings", None)
        self._lock = threading.Lock()  # one generate at a time on the model

    def supports(self, task: str) -> bool:
        return True

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return await asyncio.to_thread(self.generate_sync, list(requests))

    def generate_sync(self, requests: list[ChatRequest]) -> list[Completion]:
        prompts = [r.prompt if r.prompt is not None else render_chat(self.tokenizer, r.messages, self.template_kwargs)
                   for r in requests]
        lengths = [len(self.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        results: list[Completion | None] = [None] * len(requests)
        order = sorted(range(len(requests)), key=lambda i: lengths[i])
        runnable = []
        for i in order:
            limit = self.max_model_len
            if limit is not None and lengths[i] + requests[i].sampling.max_tokens > limit:
                results[i] = Completion(
                    error=f"the prompt ({lengths[i]} tokens) plus max_tokens exceeds the model's {limit} tokens",
                    error_reason="context_too_long",
                )
            else:
                runnable.append(i)
        # one batch holds requests with the same sampling parameters and stop strings
        by_sampling: dict[Any, list[int]] = {}
        for i in runnable:
            by_sampling.setdefault((requests[i].sampling, requests[i].stop), []).append(i)
        with self._lock:
            for sampling, indices in by_sampling.items():
                for start in range(0, len(indices), self.batch_size):
                    batch = indices[start : start + self.batch_size]
                    for i, completion in zip(batch, self._generate_batch([prompts[i] for i in batch], requests[batch[0]])):
                        results[i] = completion
        return results  # type: ignore[return-value]

    def _generate_batch(self, prompts: list[str], request: ChatRequest) -> list[Completion]:
        torch = self.torch
        sampling = request.sampling
        inputs = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        do_sample = sampling.temperature > 0
        options: dict[str, Any] = {"max_new_tokens": sampling.max_tokens, "do_sample": do_sample,
                                   "pad_token_id": self.tokenizer.pad_token_id}
        if do_sample:
            options.update(temperature=sampling.temperature, top_p=sampling.top_p)
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed + request.sample_index)
        with torch.inference_mode():
            output = self.lm.generate(**inputs, **options)
        prompt_width = inputs["input_ids"].shape[1]
        eos_ids = self._eos_ids()
        completions = []
        for row, attention in zip(output, inputs["attention_mask"]):
            new_tokens = row[prompt_width:].tolist()
            stop = next((k for k, token in enumerate(new_tokens) if token in eos_ids), None)
            generated = new_tokens if stop is None else new_tokens[:stop]
            finish = "stop" if stop is not None else ("length" if len(new_tokens) >= sampling.max_tokens else "stop")
            text = self.tokenizer.decode(generated, skip_special_tokens=True)
            text, stopped = cut_at_stop(text, request.stop)
            completions.append(
                Completion(
                    text=text,
                    finish_reason="stop" if stopped else finish,
                    prompt_tokens=int(attention.sum()),
                    completion_tokens=len(generated),
                )
            )
        return completions

    def _eos_ids(self) -> set[int]:
        ids = self.lm.generation_config.eos_token_id
        if ids is None:
            ids = self.tokenizer.eos_token_id
        ids = ids if isinstance(ids, list) else [ids]
        return {i for i in ids if i is not None} | {self.tokenizer.pad_token_id}


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` up to the first stop string (excluded), and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


@register_backend("transformers")
def _make(config: "LLMConfig", section: str) -> TransformersBackend:
    if not config.model:
        raise ConfigError(f"{section}.model: the transformers backend needs a model directory or hub id.")
    return TransformersBackend(
        model=config.model,
        device=config.device,
        dtype=config.dtype,
        batch_size=config.batch_size,
        chat_template_kwargs=config.chat_template_kwargs,
        max_model_len=config.max_model_len,
    )
