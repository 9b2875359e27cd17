"""The model under test: audio-input chat requests and the backends that answer them.

An item becomes a ``ChatRequest`` whose user content parts are OpenAI's: ``{"type": "text"}`` and
``{"type": "input_audio", "input_audio": {"digest": ..., "format": "wav"}}``. The digest (a hash of
the audio's bytes and window) stands for the audio in the request-ledger key, so the key is cheap to
compute and an answer is reused whenever the same audio is asked the same thing; the audio itself
(``request.context["audio"]``) is encoded only when the request is sent.

- ``openai`` (``AudioChatBackend``): any OpenAI-compatible server that takes ``input_audio`` (vLLM
  serving Qwen2-Audio, Qwen2.5-Omni, Ultravox; REFERENCE.md §7), through the same client, retry
  policy and connection pool as generation (``llm/openai_backend.py``).
- ``transformers`` (``TransformersAudioBackend``): a local audio LM (processor + model, e.g.
  ``Qwen2AudioForConditionalGeneration``), batched where the model can batch and one item at a time
  where it cannot (``batch_size: 1``, or found out at the first failing batch).
- ``vllm`` (``VLLMAudioBackend``): vLLM's offline engine, given the same OpenAI-style messages.

Audio is sent as WAV: a whole WAV file as it is, anything else (FLAC, MP3, a window of a file, one
channel) decoded and re-encoded as 16 kHz mono 16-bit WAV.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import soundfile as sf

from speechsift import audio as audio_io
from speechsift.errors import AudioLoadError, ConfigError
from speechsift.llm.local_engine import pick_device, pick_dtype, require
from speechsift.llm.openai_backend import OpenAIBackend, backend_options
from speechsift.llm.types import ChatRequest, Completion, SamplingParams
from speechsift.records import AudioRef

if TYPE_CHECKING:
    from speechsift.eval.items import EvalItem
    from speechsift.recipe import LLMConfig

log = logging.getLogger(__name__)

MODEL_BACKENDS = ("openai", "transformers", "vllm")
AUDIO_CACHE_ITEMS = 256
AUDIO_MARKER = "@speechsift-audio:"  # stands for a clip's base64 in the JSON body until it is spliced in  # encoded clips kept in memory: comparison items share their audio


def _file_bytes(ref: AudioRef) -> bytes:
    if ref.bytes is not None:
        return ref.bytes
    try:
        with open(ref.path or "", "rb") as handle:
            return handle.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise AudioLoadError("missing_audio", f"audio file not found: {ref.describe()}") from None
    except OSError as exc:
        raise AudioLoadError("unreadable_audio", f"cannot read audio {ref.describe()}: {exc}") from None


def audio_digest(ref: AudioRef) -> str:
    """A hash of the audio's encoded bytes and its window: equal digests, equal audio."""
    digest = hashlib.blake2b(_file_bytes(ref), digest_size=16)
    digest.update(f"|{ref.offset_s}|{ref.duration_s}|{ref.channel}".encode())
    return digest.hexdigest()


def wav_bytes(ref: AudioRef) -> bytes:
    """The clip as WAV bytes: a whole WAV file unchanged, anything else as 16 kHz mono PCM WAV."""
    windowed = bool(ref.offset_s) or ref.duration_s is not None or ref.channel is not None
    if not windowed:
        data = _file_bytes(ref)
        if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
            return data
    wave, sr = audio_io.load(ref)
    buffer = io.BytesIO()
    sf.write(buffer, wave, sr, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def chat_request(item: "EvalItem", sampling: SamplingParams, digests: list[str]) -> ChatRequest:
    """The request for ``item``: its turns with OpenAI content parts, audio by digest."""
    messages: list[dict[str, Any]] = []
    for turn in item.messages:
        if turn["role"] == "system":
            messages.append({"role": "system", "content": "".join(p.get("text", "") for p in turn["content"])})
            continue
        parts = []
        for part in turn["content"]:
            if part["type"] == "audio":
                parts.append({"type": "input_audio", "input_audio": {"digest": digests[part["audio"]], "format": "wav"}})
            elif part["type"] == "text" and part.get("text"):
                parts.append({"type": "text", "text": part["text"]})
        messages.append({"role": turn["role"], "content": parts})
    audio = {digest: ref for digest, ref in zip(digests, item.audios)}
    return ChatRequest(messages, sampling, item.task, {"audio": audio})


class AudioCache:
    """Base64 WAV of recently sent clips, by digest (thread-safe: local engines encode in threads)."""

    def __init__(self, size: int = AUDIO_CACHE_ITEMS) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[bytes, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def wav(self, digest: str, ref: AudioRef) -> tuple[bytes, bytes]:
        """``(wav bytes, their base64)`` of the clip."""
        with self._lock:
            found = self._items.get(digest)
            if found is not None:
                self._items.move_to_end(digest)
                return found
        data = wav_bytes(ref)
        found = (data, base64.b64encode(data))
        with self._lock:
            self._items[digest] = found
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return found


def with_audio_data(request: ChatRequest, cache: AudioCache, marker: str | None = None) -> list[dict[str, Any]]:
    """The request's messages with each audio digest replaced by the base64 WAV itself, or by
    ``marker`` + the digest (``AudioChatBackend.encode`` splices the base64 into the JSON bytes)."""
    refs = request.context.get("audio", {})
    out = []
    for message in request.messages:
        content = message["content"]
        if isinstance(content, list):
            parts = []
            for part in content:
                if part.get("type") == "input_audio":
                    digest = part["input_audio"]["digest"]
                    data = marker + digest if marker else cache.wav(digest, refs[digest])[1].decode("ascii")
                    part = {"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}
                parts.append(part)
            content = parts
        out.append({**message, "content": content})
    return out


def _audio_failure(exc: AudioLoadError) -> Completion:
    return Completion(error=str(exc), error_reason=exc.reason)


class AudioChatBackend(OpenAIBackend):
    """An OpenAI-compatible server that takes ``input_audio`` parts."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.audio = AudioCache()

    def payload(self, request: ChatRequest, n: int) -> dict[str, Any]:
        body = super().payload(request, n)
        body["messages"] = with_audio_data(request, self.audio)
        return body

    def encode(self, request: ChatRequest, n: int) -> bytes:
        """The JSON body with the audio spliced in as bytes: base64 needs no JSON escaping, and
        encoding a long string through ``json.dumps`` costs more than the rest of the request."""
        body = OpenAIBackend.payload(self, request, n)
        body["messages"] = with_audio_data(request, self.audio, marker=AUDIO_MARKER)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        refs = request.context.get("audio", {})
        for digest, ref in refs.items():
            data = data.replace(f"{AUDIO_MARKER}{digest}".encode(), self.audio.wav(digest, ref)[1])
        return data

    async def complete(self, request: ChatRequest, n: int = 1) -> list[Completion]:
        try:
            return await super().complete(request, n)
        except AudioLoadError as exc:  # the clip cannot be read: that item fails, nothing else
            return [_audio_failure(exc) for _ in range(n)]


class TransformersAudioBackend:
    """A local audio LM with its processor (``AutoProcessor`` + the class its config names).

    ``batch_size`` items go through one ``generate`` call, left-padded; a model that fails on a
    batch (some audio LMs have no batched path) is asked one item at a time from then on. Audio
    longer than the feature extractor's window (30 s for Whisper's) fails as ``audio_too_long``
    instead of being cut silently.
    """

    name = "transformers"
    streaming = False
    cacheable = True

    def __init__(self, *, model: str, device: str | None = None, dtype: str | None = None, batch_size: int = 8) -> None:
        self.torch = require("torch", "transformers")
        transformers = require("transformers", "transformers")
        self.model = model
        self.batch_size = batch_size
        self.device = pick_device(self.torch, device)
        try:
            config = transformers.AutoConfig.from_pretrained(model)
            architecture = (getattr(config, "architectures", None) or [None])[0]
            model_class = getattr(transformers, architecture or "", None)
            if model_class is None:
                raise ConfigError(f"eval model {model!r}: its config names no model class transformers has "
                                  f"(architectures: {getattr(config, 'architectures', None)}).")
            self.processor = transformers.AutoProcessor.from_pretrained(model)
            self.lm = model_class.from_pretrained(model, dtype=pick_dtype(self.torch, dtype, self.device)).to(self.device)
        except OSError as exc:
            raise ConfigError(f"eval model: cannot load {model!r} with transformers: {exc}") from None
        self.lm.eval()
        extractor = getattr(self.processor, "feature_extractor", None)
        if extractor is None:
            raise ConfigError(f"eval model {model!r}: its processor has no audio feature extractor; "
                              "the transformers backend evaluates audio LMs (e.g. Qwen2-Audio).")
        self.sampling_rate = int(extractor.sampling_rate)
        self.max_audio_s = float(getattr(extractor, "chunk_length", 30) or 30)
        tokenizer = self.processor.tokenizer
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._lock = threading.Lock()

    def supports(self, task: str) -> bool:
        return True

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return await asyncio.to_thread(self.generate_sync, list(requests))

    def _prepare(self, request: ChatRequest) -> tuple[str, list[Any]]:
        refs = request.context.get("audio", {})
        conversation, waves = [], []
        for message in request.messages:
            content = message["content"]
            if isinstance(content, str):
                conversation.append({"role": message["role"], "content": [{"type": "text", "text": content}]})
                continue
            parts = []
            for part in content:
                if part.get("type") == "input_audio":
                    wave, _sr = audio_io.load(refs[part["input_audio"]["digest"]], sampling_rate=self.sampling_rate)
                    if len(wave) > self.max_audio_s * self.sampling_rate:
                        raise AudioLoadError("audio_too_long", f"the audio lasts {len(wave) / self.sampling_rate:.1f} s; "
                                             f"the model's feature extractor takes {self.max_audio_s:g} s at most")
                    waves.append(wave)
                    parts.append({"type": "audio"})
                else:
                    parts.append(part)
            conversation.append({"role": message["role"], "content": parts})
        prompt = self.processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        return prompt, waves

    def generate_sync(self, requests: list[ChatRequest]) -> list[Completion]:
        results: list[Completion | None] = [None] * len(requests)
        prepared: dict[int, tuple[str, list[Any]]] = {}
        for i, request in enumerate(requests):
            try:
                prepared[i] = self._prepare(request)
            except AudioLoadError as exc:
                results[i] = _audio_failure(exc)
        order = list(prepared)
        with self._lock:
            start = 0
            while start < len(order):
                batch = order[start:start + self.batch_size]
                try:
                    completions = self._generate([prepared[i] for i in batch], requests[batch[0]].sampling)
                except Exception as exc:  # noqa: BLE001 - a model without a batched path: go one by one
                    if len(batch) == 1:
                        completions = [Completion(error=f"{type(exc).__name__}: {exc}", error_reason="model_error")]
                    else:
                        log.warning("%s cannot generate a batch of %d (%s: %s); asking one item at a time",
                                    self.model, len(batch), type(exc).__name__, exc)
                        self.batch_size = 1
                        continue
                for i, completion in zip(batch, completions):
                    results[i] = completion
                start += len(batch)
        return results  # type: ignore[return-value]

    def _generate(self, batch: list[tuple[str, list[Any]]], sampling: SamplingParams) -> list[Completion]:
        torch = self.torch
        prompts = [prompt for prompt, _ in batch]
        waves = [wave for _, item_waves in batch for wave in item_waves]
        inputs = self.processor(text=prompts, audio=waves or None, sampling_rate=self.sampling_rate,
                                return_tensors="pt", padding=True).to(self.device)
        do_sample = sampling.temperature > 0
        options: dict[str, Any] = {"max_new_tokens": sampling.max_tokens, "do_sample": do_sample,
                                   "pad_token_id": self.processor.tokenizer.pad_token_id}
        if do_sample:
            options.update(temperature=sampling.temperature, top_p=sampling.top_p)
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        with torch.inference_mode():
            output = self.lm.generate(**inputs, **options)
        width = inputs["input_ids"].shape[1]
        completions = []
        for row, attention in zip(output, inputs["attention_mask"]):
            new_tokens = row[width:]
            text = self.processor.tokenizer.decode(new_tokens, skip_special_tokens=True)
            finish = "length" if len(new_tokens) >= sampling.max_tokens else "stop"
            completions.append(Completion(text=text, finish_reason=finish, prompt_tokens=int(attention.sum()),
                                          completion_tokens=int(len(new_tokens))))
        return completions


def _vllm_backend_class() -> type:
    from speechsift.llm.vllm_backend import VLLMBackend

    class VLLMAudioBackend(VLLMBackend):
        """vLLM's offline engine given OpenAI-style messages with ``input_audio`` parts."""

        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self.audio = AudioCache()

        def generate_sync(self, requests: list[ChatRequest]) -> list[Completion]:
            ready: list[ChatRequest] = []
            results: list[Completion | None] = [None] * len(requests)
            index = []
            for i, request in enumerate(requests):
                try:
                    ready.append(replace(request, messages=with_audio_data(request, self.audio)))
                    index.append(i)
                except AudioLoadError as exc:
                    results[i] = _audio_failure(exc)
            for i, completion in zip(index, super().generate_sync(ready) if ready else []):
                results[i] = completion
            return results  # type: ignore[return-value]

    return VLLMAudioBackend


def make_model_backend(config: "LLMConfig") -> Any:
    """The backend that answers the model-under-test requests."""
    if config.backend == "openai":
        return AudioChatBackend(**backend_options(config, "eval.model"))
    if config.backend == "transformers":
        if not config.model:
            raise ConfigError("eval model: the transformers backend needs a model directory or hub id (--model).")
        return TransformersAudioBackend(model=config.model, device=config.device, dtype=config.dtype,
                                        batch_size=config.batch_size)
    if config.backend == "vllm":
        require("vllm", "vllm")
        if not config.model:
            raise ConfigError("eval model: the vllm backend needs a model directory or hub id (--model).")
        return _vllm_backend_class()(model=config.model, dtype=config.dtype, seed=config.seed,
                                     chat_template_kwargs=config.chat_template_kwargs,
                                     max_model_len=config.max_model_len)
    raise ConfigError(f"eval model: unknown backend {config.backend!r}; choose one of {', '.join(MODEL_BACKENDS)}.")
