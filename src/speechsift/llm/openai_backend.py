"""The ``openai`` backend: any OpenAI-compatible chat server (vLLM serve, SGLang, llama.cpp server,
TGI, ``transformers serve``, hosted APIs).

It speaks the chat-completions protocol itself, over ``llm/http.py`` (or aiohttp when a proxy is
configured): the official SDK costs about ten times more client CPU per request, which at hundreds
of requests in flight is the bottleneck (benchmarks/bench_generation.py). Requests share one
connection pool and one semaphore, so up to ``concurrency`` are in flight at every moment whoever
submits them. Failures are retried by ``RetryPolicy`` and otherwise returned as completions with a
reject code, decided by status and type, never by message text; those worth asking again on a rerun
are marked ``transient``. Before an endpoint's first request the server is checked with
``GET /models``; a server that does not answer at all stops the run (``ServerUnreachableError``)
instead of failing every request after its retries.

Samples of one prompt share a call with ``n``. Servers that ignore ``n`` (llama.cpp server, TGI)
answer one choice: the missing samples are asked as separate requests, each with its own seed
(``seed + sample_index``), and later prompts are asked that way from the start.

The API key is read from the environment variable the recipe names and only ever sent in the
Authorization header.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from speechsift.errors import ConfigError, PermanentGenerationError, RetryableGenerationError, ServerUnreachableError
from speechsift.llm.base import register_backend
from speechsift.llm.http import HTTPClient, HTTPConnectionError
from speechsift.llm.retry import RetryPolicy, is_retryable_status, parse_retry_after
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    from speechsift.recipe import LLMConfig

T = TypeVar("T")

# Placeholder key for local servers that accept any key; hosted APIs need a real one.
LOCAL_SERVER_KEY = "EMPTY"
# The reachability check (GET /models) waits at most this long for an answer: the route is cheap
# on every OpenAI-compatible server, even one busy generating.
PROBE_TIMEOUT_S = 10.0
logger = logging.getLogger("speechsift.llm")


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


# Raw completion (``/completions``, Magpie) is refused by these hosted chat-only APIs: their
# models' chat templates are not open to a raw prompt (REFERENCE.md §8).
CHAT_ONLY_HOSTS = ("api.openai.com", "api.anthropic.com", "generativelanguage.googleapis.com", "api.mistral.ai",
                   "api.groq.com", "api.deepseek.com")
RAW_PATH = "/completions"  # under api_base: raw completion (a prompt string, no chat template)


def chat_only_host(api_base: str) -> str | None:
    """The hosted chat-only API ``api_base`` points at, or None."""
    from urllib.parse import urlsplit

    host = (urlsplit(api_base).hostname or "").lower()
    return next((known for known in CHAT_ONLY_HOSTS if host == known or host.endswith("." + known)), None)


def raw_unsupported(api_base: str, detail: str) -> str:
    """The one-paragraph explanation for a server without raw completion."""
    return (f"the server at {api_base} does not do raw completion ({detail}), which Magpie needs: it sends the chat "
            "template's user-turn prefix to /v1/completions so the model writes the user turn itself. Serve an "
            "open-weights instruct model with vLLM, SGLang or llama.cpp (`vllm serve MODEL`), or use "
            "`llm.backend: transformers` or `vllm`; hosted chat-only APIs cannot do Magpie.")


def parse_choices(body: bytes, wanted: int) -> list[Completion]:
    """Completions from a chat.completion or text_completion body (``message.content`` or
    ``text``); raises RetryableGenerationError when malformed."""
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
        text = message.get("content") if "message" in choice else choice.get("text")
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
        completions.append(Completion(error=f"the server returned {len(choices)} of {wanted} choices",
                                      error_reason="missing_choice", transient=True))
    return completions


# The command-line flag that sets each section's api_base (``speechsift run`` and ``speechsift eval``).
API_BASE_FLAGS = {"llm": "--api-base", "eval.model": "--api-base", "eval.judge": "--judge-api-base",
                  "eval.text_model": "--text-api-base", "eval.controllable": "--speech-api-base"}


class Failure(NamedTuple):
    """Why a POST failed for good: a reject code, the server's message, and whether it is transient
    (the retries ran out on something that may well work later) or permanent."""

    reason: str
    message: str
    transient: bool


class OpenAIEndpoint:
    """One endpoint of an OpenAI-compatible server (``api_base`` + ``endpoint``): the connection pool
    of the running event loop, the concurrency limit, the check that the server is there, and
    ``post`` with the retry policy."""

    endpoint = "/chat/completions"  # under api_base
    section = "llm"  # the recipe section that configures it, for messages

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
        section: str | None = None,
    ) -> None:
        self.section = section or self.section
        self.model = model
        self.base_url = api_base
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.retry = retry
        self.extra_body = dict(extra_body or {})
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self._pool: _Transport | None = None
        self._limit: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._probe: asyncio.Future[None] | None = None  # the running (or last) reachability check
        self._reachable = False  # checked on this loop
        self._unreachable: ServerUnreachableError | None = None
        self._connection_failures = 0  # in a row, over every request

    def _transport(self) -> "_Transport":
        """The connection pool of the running event loop (made on first use in that loop)."""
        loop = asyncio.get_running_loop()
        if self._pool is None or self._loop is not loop:
            self._loop = loop
            self._pool = _AiohttpTransport(self) if proxy_configured() else _BuiltinTransport(self)
            self._limit = asyncio.Semaphore(self.concurrency)
            self._probe, self._reachable, self._connection_failures = None, False, 0
        return self._pool

    async def check_server(self) -> None:
        """Wait for the reachability check (one at a time, shared by every request): returns once
        the server answers ``GET /models`` with anything; raises ``ServerUnreachableError`` (from now
        on, for every request) when it does not within the retry policy."""
        if self._unreachable is not None:
            raise self._unreachable
        if self._probe is None or self._probe.done():
            self._probe = asyncio.ensure_future(self._probe_server())
        await asyncio.shield(self._probe)

    async def _probe_server(self) -> None:
        transport = self._transport()
        started = time.monotonic()
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                await transport.get("/models", min(self.timeout_s, PROBE_TIMEOUT_S))
            except (asyncio.TimeoutError, TimeoutError, *CONNECTION_ERRORS) as exc:
                failure = f"{type(exc).__name__}: {exc}"
                if attempt < self.retry.max_attempts:
                    await asyncio.sleep(self.retry.delay(attempt))
                continue
            self._reachable, self._connection_failures = True, 0
            return
        flag = API_BASE_FLAGS.get(self.section)
        self._unreachable = ServerUnreachableError(
            f"{self.section}.api_base: the server at {self.base_url} does not answer ({failure}; "
            f"{self.retry.max_attempts} tries of GET /models over {time.monotonic() - started:.1f} s). Start the "
            f"server or correct {self.section}.api_base" + (f" (or {flag})" if flag else "") + ", then run the "
            f"same command again: finished work and every answer so far are kept, and only what is missing is asked."
        )
        raise self._unreachable

    async def post(self, encode: Callable[[], bytes], accept: Callable[[bytes], T],
                   path: str | None = None) -> tuple[T | None, Failure | None, int]:
        """POST the body ``encode`` makes (once, when a slot of the limit is free) to ``endpoint``
        (or ``path``, under api_base) until ``accept`` takes a 200 answer's body, by the retry policy.

        Returns ``(result, None, attempts)``, or ``(None, Failure, attempts)`` for a permanent failure
        or the last of the retryable ones. ``accept`` raises ``RetryableGenerationError`` for a body
        it cannot use. Raises ``ServerUnreachableError`` when the server does not answer at all: before
        the first request, and after ``retry.unreachable_after`` connection failures in a row, the
        server is checked (``check_server``), and nothing is sent while it is being checked.
        """
        transport = self._transport()
        assert self._limit is not None
        retry = self.retry
        if not self._reachable:
            await self.check_server()
        body = b""
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                async with self._limit:
                    if self._probe is not None and not self._probe.done():
                        await self.check_server()  # the server is being checked: nothing is sent meanwhile
                    body = body or encode()
                    status, headers, raw = await transport.post(body, self.timeout_s, path)
                self._connection_failures = 0  # the server answered something
                if status == 200:
                    return accept(raw), None, attempt
                message, code = _error_fields(raw)
                reason = status_reason(status, code)
                text = f"HTTP {status}: {message}"
                if not is_retryable_status(status):
                    raise PermanentGenerationError(reason, text)
                retry_after = parse_retry_after(headers.get("retry-after"))
                raise RetryableGenerationError(reason, text)
            except PermanentGenerationError as exc:
                return None, Failure(exc.reason, str(exc), transient=False), attempt
            except RetryableGenerationError as exc:
                failure = Failure(exc.reason, str(exc), transient=True)
            except (asyncio.TimeoutError, TimeoutError):  # distinct classes before Python 3.11
                failure = Failure("timeout", f"no answer within {self.timeout_s:g}s", transient=True)
            except CONNECTION_ERRORS as exc:
                failure = Failure("connection_error", f"{type(exc).__name__}: {exc}", transient=True)
                self._connection_failures += 1
                if self._connection_failures >= retry.unreachable_after:
                    await self.check_server()  # raises when the server is gone; a blip passes
            if attempt >= retry.max_attempts:
                return None, failure, attempt
            await asyncio.sleep(retry.delay(attempt, retry_after))

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
        self._pool = None


class OpenAIBackend(OpenAIEndpoint):
    name = "openai"
    streaming = True  # answers each request as soon as it is done
    cacheable = True
    # How a 200 body becomes completions: a subclass answering through another endpoint of the same
    # server (eval's speech output) changes this and ``endpoint``, not the retry loop.
    parse = staticmethod(parse_choices)

    def __init__(self, **endpoint: Any) -> None:
        super().__init__(**endpoint)
        self._n_supported: bool | None = None  # whether the server honours n; None: not known yet

    def supports(self, task: str) -> bool:
        return True

    @property
    def raw_completion(self) -> bool:
        """Whether raw-prompt requests can be answered (not by a known hosted chat-only API)."""
        return chat_only_host(self.base_url) is None

    def payload(self, request: ChatRequest, n: int) -> dict[str, Any]:
        sampling = request.sampling
        body: dict[str, Any] = {"model": self.model}
        if request.prompt is not None:
            # the prompt already holds every special token: the server must not add a second BOS
            body.update(prompt=request.prompt, add_special_tokens=False)
        else:
            body["messages"] = request.messages
        body.update(temperature=sampling.temperature, top_p=sampling.top_p, max_tokens=sampling.max_tokens)
        if request.stop:
            body["stop"] = list(request.stop)
        if n > 1:
            body["n"] = n
        if sampling.seed is not None:
            body["seed"] = sampling.seed + request.sample_index
        if request.json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.task, "schema": request.json_schema, "strict": True},
            }
        extra = self.extra_body
        if request.prompt is not None and "chat_template_kwargs" in extra:  # a chat-only field
            extra = {k: v for k, v in extra.items() if k != "chat_template_kwargs"}
        body.update(extra)
        return body

    def encode(self, request: ChatRequest, n: int) -> bytes:
        """The request body as sent (the JSON of ``payload``)."""
        return json.dumps(self.payload(request, n), ensure_ascii=False).encode("utf-8")

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Answer ``requests``; those differing only in sample index share one call with ``n``."""
        if len(requests) == 1:
            return await self.complete(requests[0])
        groups: dict[str, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(request.prompt_key(self.name, self.model), []).append(index)
        results: list[Completion | None] = [None] * len(requests)

        async def run_group(indices: list[int]) -> None:
            for index, completion in zip(indices, await self.samples([requests[i] for i in indices])):
                results[index] = completion

        await asyncio.gather(*(run_group(indices) for indices in groups.values()))
        return results  # type: ignore[return-value]

    async def samples(self, requests: list[ChatRequest]) -> list[Completion]:
        """Completions for samples of one prompt: one call with ``n``, then a separate request for
        each sample the server left out (servers that ignore ``n`` answer one choice)."""
        if len(requests) == 1 or self._n_supported is False:
            completions: list[Completion | None] = [None] * len(requests)
        else:
            completions = list(await self.complete(requests[0], n=len(requests)))
            answered = sum(1 for c in completions if c.error_reason != "missing_choice")
            if answered == 1 and self._n_supported is None:
                logger.warning("the server at %s ignores `n` (one choice for %d samples): each sample is "
                               "asked as its own request, seeded with seed + sample index", self.base_url, len(requests))
                self._n_supported = False
            elif answered == len(requests):
                self._n_supported = True
        missing = [i for i, c in enumerate(completions) if c is None or c.error_reason == "missing_choice"]
        singles = await asyncio.gather(*(self.complete(requests[i]) for i in missing))
        for i, [completion] in zip(missing, singles):
            completions[i] = completion
        return completions  # type: ignore[return-value]

    async def complete(self, request: ChatRequest, n: int = 1) -> list[Completion]:
        """One call (with retries) for ``n`` samples of ``request``."""
        raw_prompt = request.prompt is not None
        if raw_prompt and (host := chat_only_host(self.base_url)):
            unsupported = Failure("raw_completion_unsupported", raw_unsupported(self.base_url, f"{host} is chat-only"),
                                  transient=False)
            return self._failed(unsupported, n, 1)
        completions, failure, attempts = await self.post(
            # encoded once a slot is free: thousands of queued requests cost nothing up front
            lambda: self.encode(request, n),
            lambda raw: self.parse(raw, n),
            RAW_PATH if raw_prompt else None,
        )
        if failure is not None:
            if raw_prompt and failure.reason in ("http_404", "http_405"):  # no /completions route on this server
                failure = Failure("raw_completion_unsupported", raw_unsupported(self.base_url, failure.message),
                                  transient=False)
            return self._failed(failure, n, attempts)
        for completion in completions:
            completion.retries = attempts - 1
        return completions

    @staticmethod
    def _failed(failure: Failure, n: int, attempts: int) -> list[Completion]:
        note = f"{failure.message} (after {attempts} attempt{'s' if attempts > 1 else ''})"
        return [Completion(error=note, error_reason=failure.reason, retries=attempts - 1, transient=failure.transient)
                for _ in range(n)]


PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")


def proxy_configured() -> bool:
    return any(os.environ.get(name) for name in PROXY_VARIABLES)


class _BuiltinTransport:
    """POSTs through llm/http.py: the lean path."""

    def __init__(self, backend: OpenAIEndpoint) -> None:
        self.client = HTTPClient(backend.base_url, backend.headers, max_idle=backend.concurrency)
        self.endpoint = backend.endpoint

    async def post(self, body: bytes, timeout_s: float, path: str | None = None) -> tuple[int, dict[str, str], bytes]:
        response = await self.client.post_json(path or self.endpoint, body, timeout_s)
        return response.status, response.headers, response.body

    async def get(self, path: str, timeout_s: float) -> int:
        return (await self.client.get(path, timeout_s)).status

    async def close(self) -> None:
        await self.client.close()


class _AiohttpTransport:
    """POSTs through aiohttp, which honours HTTP(S)_PROXY (trust_env)."""

    def __init__(self, backend: OpenAIEndpoint) -> None:
        import aiohttp

        self.base = backend.base_url.rstrip("/")
        self.url = self.base + backend.endpoint
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=backend.concurrency),
            headers={**backend.headers, "Content-Type": "application/json"},
            trust_env=True,
        )

    async def post(self, body: bytes, timeout_s: float, path: str | None = None) -> tuple[int, dict[str, str], bytes]:
        import aiohttp

        async with self.session.post(self.base + path if path else self.url, data=body, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            raw = await response.read()
            return response.status, {k.lower(): v for k, v in response.headers.items()}, raw

    async def get(self, path: str, timeout_s: float) -> int:
        import aiohttp

        async with self.session.get(self.base + path, timeout=aiohttp.ClientTimeout(total=timeout_s)) as response:
            await response.read()
            return response.status

    async def close(self) -> None:
        await self.session.close()


_Transport = _BuiltinTransport | _AiohttpTransport


def _connection_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (HTTPConnectionError, ConnectionError, OSError)
    try:
        import aiohttp
    except ImportError:
        return errors
    return (*errors, aiohttp.ClientError)


CONNECTION_ERRORS = _connection_errors()


def read_api_key(env: str, api_base: str | None, section: str) -> str:
    """The API key from the environment variable ``env``; a placeholder for a local server
    (``api_base`` given) that needs none. The key is only ever sent in the Authorization header."""
    api_key = os.environ.get(env or "")
    if api_key:
        return api_key
    if api_base is None:
        raise ConfigError(
            f"{section}.api_key_env: the environment variable {env!r} is not set. "
            f"Export your API key under that name, or set {section}.api_base to a local server."
        )
    return LOCAL_SERVER_KEY


def backend_options(config: "LLMConfig", section: str = "llm") -> dict[str, Any]:
    """The constructor arguments of an OpenAI-compatible backend for ``config`` (also used by the
    evaluator's audio-input and speech-output backends, which talk to the same kind of server)."""
    if not config.model:
        raise ConfigError(f"{section}.model: the openai backend needs a model name; set {section}.model or pass --model.")
    api_key = read_api_key(config.api_key_env, config.api_base, section)
    extra_body: dict[str, Any] = dict(config.extra_body)
    if config.chat_template_kwargs:
        extra_body["chat_template_kwargs"] = dict(config.chat_template_kwargs)
    return {
        "model": config.model,
        "api_base": config.api_base or "https://api.openai.com/v1",
        "api_key": api_key,
        "concurrency": config.concurrency,
        "timeout_s": config.timeout_s,
        "retry": config.retry.policy(),
        "extra_body": extra_body,
        "section": section,
    }


@register_backend("openai")
def _make(config: "LLMConfig", section: str) -> OpenAIBackend:
    return OpenAIBackend(**backend_options(config, section))
