"""The ``openai`` speech backend: any ``/v1/audio/speech`` server (Kokoro-FastAPI, vLLM-Omni,
openedai-speech, OpenAI).

One POST per utterance with ``model``, ``input``, ``voice``, ``response_format: wav`` and, where the
voice sets them, ``speed`` and ``instructions``; the whole WAV comes back in the answer (no
streaming). Connections, the concurrency limit, retries and reject codes are the LLM layer's
(``llm.openai_backend.OpenAIEndpoint``, ``llm.retry``): timeouts, dropped connections, 408/409/429
and 5xx are retried, other statuses fail at once. The key is read from the environment variable
``tts.api_key_env`` and only ever sent in the Authorization header.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from speechsift.errors import ConfigError, RetryableGenerationError
from speechsift.llm.openai_backend import OpenAIEndpoint, read_api_key
from speechsift.tts.base import Speech, SpeechRequest, register_tts_backend

if TYPE_CHECKING:
    from speechsift.recipe import TTSConfig, TTSVoice


def wav_body(raw: bytes) -> bytes:
    """The answer's WAV bytes; a body that is not a RIFF/WAVE file is retried (a proxy's error page,
    a cut-off answer)."""
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise RetryableGenerationError("malformed_response", f"the server's body is not a WAV file ({len(raw)} bytes, "
                                                             f"starting {raw[:16]!r})")
    return raw


class OpenAISpeechBackend(OpenAIEndpoint):
    name = "openai"
    endpoint = "/audio/speech"
    section = "tts"

    def __init__(self, **endpoint: Any) -> None:
        super().__init__(**endpoint)
        self.headers["Accept"] = "audio/wav"

    def resolve(self, voice: "TTSVoice", field: str) -> str:
        if not voice.voice:
            raise ConfigError(f"{field}: an openai speech voice needs `voice`, the server's name for it (alloy, af_heart).")
        return voice.voice

    def payload(self, request: SpeechRequest) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "input": request.text, "voice": request.voice,
                                "response_format": "wav"}
        for setting in ("speed", "instructions"):
            value = request.setting(setting)
            if value is not None:
                body[setting] = value
        body.update(self.extra_body)
        return body

    async def asynthesize(self, requests: Sequence[SpeechRequest]) -> list[Speech]:
        return list(await asyncio.gather(*(self.speak(r) for r in requests)))

    async def speak(self, request: SpeechRequest) -> Speech:
        audio, failure, attempts = await self.post(
            lambda: json.dumps(self.payload(request), ensure_ascii=False).encode("utf-8"), wav_body)
        if failure is not None:
            return Speech(error=f"{failure.message} (after {attempts} attempt{'s' if attempts > 1 else ''})",
                          error_reason=failure.reason, retries=attempts - 1, transient=failure.transient)
        return Speech(audio=audio, retries=attempts - 1)


@register_tts_backend("openai")
def _make(config: "TTSConfig") -> OpenAISpeechBackend:
    if not config.model:
        raise ConfigError("tts.model: the openai speech backend needs the server's model name (kokoro, tts-1, "
                          "gpt-4o-mini-tts).")
    return OpenAISpeechBackend(
        model=config.model,
        api_base=config.api_base or "https://api.openai.com/v1",
        api_key=read_api_key(config.api_key_env, config.api_base, "tts"),
        concurrency=config.concurrency,
        timeout_s=config.timeout_s,
        retry=config.retry.policy(),
        extra_body=config.extra_body,
    )
