"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM serve, SGLang, llama.cpp server,
TGI, ``transformers serve``, hosted APIs).

It speaks the chat-completions protocol over aiohttp directly: the official SDK costs about ten
times more client CPU per request, which at hundreds of requests in flight is the bottleneck
(benchmarks/bench_generation.py). Requests share one connection pool and one semaphore, so up to
``concurrency`` are in flight at every moment whoever submits them. Failures are retried by
``RetryPolicy`` and otherwise returned as completions with a reject code, decided by status and
type, never by message text. The API key is read from the environment variable the recipe names
and only ever sent in the Authorization header.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from speechsift.errors import ConfigError, PermanentGenerationError, RetryableGenerationError
from speechsift.llm.base import register_backend
from speechsift.llm.retry import RetryPolicy, is_retryable_status, parse_retry_after
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    import aiohttp

    from speechsift.recipe import LLMConfig

# Placeholder key for local servers that accept any key; hosted APIs need a real one.
LOCAL_SERVER_KEY = "EMPTY"


def status_reason(status: int, error_code: str | None) -> str:
    """A short reject code for an HTTP error status (and the body's structured error code)."""
    if error_code == "context_length_exceeded":
        return "context_too_long"
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "server_error"
    if status == 400:
        return "bad_request"
    return f"http_{status}"


def _error_fields(body: bytes) -> tuple[str, str | None]:
    """The server's own error message and code from an error body, whatever its shape."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:300].decode("utf-8", "replace").strip() or "(empty body)", None
    error = data.get("error", data) if isinstance(data, dict) else data
    if isinstance(error, dict):
        code = error.get("code")
        return str(error.get("message") or error), code if isinstance(code, str) else None
    return str(error), None


def parse_choices(body: bytes, wanted: int) -> list[Completion]:
    """Completions from a chat.completion body; raises RetryableGenerationError when malformed."""
    try:
        data = json.loads(body)
        choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise RetryableGenerationError("malformed_response", f"the server's body is not a chat completion: {exc}") from None
    if not choices:
        raise RetryableGenerationError("empty_choices", "the server answered with no choices")
    usage = data.get("usage") or {}
    prompt_tokens = usage.get("prompt_tokens")
    total_out = usage.get("completion_tokens")
    completions = []
    for choice in choices[:wanted]:
        message = choice.get("message") or {}
        text = message.get("content")
        if not isinstance(text, str):
            completions.append(Completion(error="the choice has no message content", error_reason="empty_response"))
            continue
        completions.append(
            Completion(
                text=text,
                finish_reason=choice.get("finish_reason"),
                prompt_tokens=prompt_tokens,
                completion_tokens=total_out if len(choices) == 1 else None,
            )
        )
    while len(completions) < wanted:
        completions.append(Completion(error=f"the server returned {len(choices)} of {wanted} choices", error_reason="missing_choice"))
    return completions


class OpenAIBackend:
    name = "openai"
    streaming = True  # answers each request as soon as it is done
    cacheable = True

    def __init__(
        self,
        *,
        model: str,
        api_base: str,
        api_key: str,
        concurrency: int,
        timeout_s: float,
        retry: RetryPolicy,
        extra_body: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.url = api_base.rstrip("/") + "/chat/completions"
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.retry = retry
        self.extra_body = dict(extra_body or {})
        self._headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self._session: aiohttp.ClientSession | None = None
        self._limit: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def supports(self, task: str) -> bool:
        return True

    def payload(self, request: ChatRequest, n: int) -> dict[str, Any]:
        sampling = request.sampling
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
        }
        if n > 1:
            body["n"] = n
        if sampling.seed is not None:
            body["seed"] = sampling.seed + request.sample_index
        if request.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.task, "schema": request.json_schema, "strict": True},
            }
        body.update(self.extra_body)
        return body

    def _ensure_session(self) -> "aiohttp.ClientSession":
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            self._loop = loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.concurrency),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers=self._headers,
            )
            self._limit = asyncio.Semaphore(self.concurrency)
        return self._session

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Answer ``requests``; those differing only in sample index share one call with ``n``."""
        groups: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.prompt_key(self.name, self.model), []).append(index)
        results: list[Completion | None] = [None] * len(requests)

        async def run_group(indices: list[int]) -> None:
            completions = await self.complete(requests[indices[0]], n=len(indices))
            for index, completion in zip(indices, completions):
                results[index] = completion

        await asyncio.gather(*(run_group(indices) for indices in groups.values()))
        return results  # type: ignore[return-value]

    async def complete(self, request: ChatRequest, n: int = 1) -> list[Completion]:
        """One call (with retries) for ``n`` samples of ``request``."""
        import aiohttp

        session = self._ensure_session()
        assert self._limit is not None
        body = json.dumps(self.payload(request, n), ensure_ascii=False).encode("utf-8")
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                async with self._limit:
                    async with session.post(self.url, data=body) as response:
                        raw = await response.read()
                        if response.status == 200:
                            completions = parse_choices(raw, n)
                            for completion in completions:
                                completion.retries = attempt - 1
                            return completions
                        message, code = _error_fields(raw)
                        reason = status_reason(response.status, code)
                        text = f"HTTP {response.status}: {message}"
                        if not is_retryable_status(response.status):
                            raise PermanentGenerationError(reason, text)
                        retry_after = parse_retry_after(response.headers.get("Retry-After"))
                        raise RetryableGenerationError(reason, text)
            except PermanentGenerationError as exc:
                return self._failed(exc.reason, str(exc), n, attempt)
            except RetryableGenerationError as exc:
                failure = (exc.reason, str(exc))
            except asyncio.TimeoutError:
                failure = ("timeout", f"no answer within {self.timeout_s:g}s")
            except aiohttp.ClientError as exc:
                failure = ("connection_error", f"{type(exc).__name__}: {exc}")
            if attempt >= self.retry.max_attempts:
                return self._failed(*failure, n, attempt)
            await asyncio.sleep(self.retry.delay(attempt, retry_after))

    @staticmethod
    def _failed(reason: str, message: str, n: int, attempts: int) -> list[Completion]:
        note = f"{message} (after {attempts} attempt{'s' if attempts > 1 else ''})"
        return [Completion(error=note, error_reason=reason, retries=attempts - 1) for _ in range(n)]

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


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
        api_base=config.api_base or "https://api.openai.com/v1",
        api_key=api_key,
        concurrency=config.concurrency,
        timeout_s=config.timeout_s,
        retry=config.retry.policy(),
        extra_body=extra_body,
    )
