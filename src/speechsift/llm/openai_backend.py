"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM serve, SGLang, llama.cpp server,
TGI, ``transformers serve``, hosted APIs).

Requests run concurrently under a semaphore, so up to ``concurrency`` are in flight at every moment.
SDK errors are mapped to reject codes here, at the boundary, by type. The API key is read from the
environment variable the recipe names and is never stored anywhere else.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from speechsift.errors import ConfigError
from speechsift.llm.base import register_backend
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    from speechsift.recipe import LLMConfig

# Placeholder key for local servers that accept any key; hosted APIs need a real one.
LOCAL_SERVER_KEY = "EMPTY"


def error_reason(exc: BaseException) -> str:
    """A short reject code for an SDK exception, decided by type."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error"
    if isinstance(exc, openai.RateLimitError):
        return "rate_limited"
    if isinstance(exc, openai.InternalServerError):
        return "server_error"
    if isinstance(exc, openai.BadRequestError):
        return "bad_request"
    if isinstance(exc, openai.APIStatusError):
        return f"http_{exc.status_code}"
    if isinstance(exc, openai.APIResponseValidationError):
        return "malformed_response"
    return "llm_error"


class OpenAIBackend:
    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        api_base: str | None,
        api_key: str,
        concurrency: int,
        timeout_s: float,
        max_retries: int,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        import openai

        self.model = model
        self.concurrency = concurrency
        self.extra_body = extra_body or None
        self._client_args = dict(
            base_url=api_base, api_key=api_key, timeout=timeout_s, max_retries=max_retries
        )
        self._openai = openai

    def supports(self, task: str) -> bool:
        return True

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        client = self._openai.AsyncOpenAI(**self._client_args)
        limit = asyncio.Semaphore(self.concurrency)
        try:
            return await asyncio.gather(*(self._one(client, limit, r) for r in requests))
        finally:
            await client.close()

    async def _one(self, client: Any, limit: asyncio.Semaphore, request: ChatRequest) -> Completion:
        sampling = request.sampling
        async with limit:
            try:
                response = await client.chat.completions.create(
                    model=self.model,
                    messages=request.messages,
                    temperature=sampling.temperature,
                    top_p=sampling.top_p,
                    max_tokens=sampling.max_tokens,
                    seed=sampling.seed,
                    extra_body=self.extra_body,
                )
            except self._openai.OpenAIError as exc:
                return Completion(error=_describe(exc), error_reason=error_reason(exc))
            except (ValueError, KeyError, TypeError) as exc:  # a body the SDK could not parse
                return Completion(error=f"malformed response body: {exc}", error_reason="malformed_response")
        if not getattr(response, "choices", None):
            return Completion(error="the server answered with no choices", error_reason="empty_choices")
        choice = response.choices[0]
        usage = getattr(response, "usage", None)
        text = choice.message.content if choice.message else None
        if text is None:
            return Completion(error="the server answered with no message content", error_reason="empty_response")
        return Completion(
            text=text,
            finish_reason=choice.finish_reason,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
        )


def _describe(exc: BaseException) -> str:
    """The server's own message where there is one (never the request headers, which hold the key)."""
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}: {message}" if status else message


@register_backend("openai")
def _make(config: "LLMConfig") -> OpenAIBackend:
    if not config.model:
        raise ConfigError("llm.model: the openai backend needs a model name; set llm.model or pass --model.")
    api_key = os.environ.get(config.api_key_env or "")
    if not api_key:
        if config.api_base is None:
            raise ConfigError(
                f"llm.api_key_env: the environment variable {config.api_key_env!r} is not set. "
                "Export your API key under that name, or set llm.api_base to a local server."
            )
        api_key = LOCAL_SERVER_KEY
    extra_body: dict[str, Any] = dict(config.extra_body)
    if config.chat_template_kwargs:
        extra_body["chat_template_kwargs"] = dict(config.chat_template_kwargs)
    return OpenAIBackend(
        model=config.model,
        api_base=config.api_base,
        api_key=api_key,
        concurrency=config.concurrency,
        timeout_s=config.timeout_s,
        max_retries=config.max_retries,
        extra_body=extra_body,
    )
