"""The openai backend against a real HTTP server on 127.0.0.1 (tests/servers.py)."""

from __future__ import annotations

import pytest
from servers import RESET, ChatServer, completion_body

from speechsift.errors import ConfigError, ServerUnreachableError
from speechsift.llm import ChatRequest, SamplingParams, generate, make_backend
from speechsift.recipe import LLMConfig


def _requests(n: int) -> list[ChatRequest]:
    return [
        ChatRequest(
            messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": f"hello {i}"}],
            sampling=SamplingParams(temperature=0.7, top_p=0.9, max_tokens=32, seed=3),
            task="sift_s",
        )
        for i in range(n)
    ]


def _backend(url: str, **kw):
    return make_backend(LLMConfig(backend="openai", model="tiny", api_base=url, retry={"max_attempts": 1}, **kw))


def test_answers_every_request_in_order_with_usage(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    with ChatServer(reply=lambda body: body["messages"][-1]["content"].upper()) as server:
        completions = generate(_backend(server.url, concurrency=4), _requests(10))
    assert [c.text for c in completions] == [f"HELLO {i}" for i in range(10)]
    assert all(c.finish_reason == "stop" and c.prompt_tokens == 11 and c.completion_tokens == 7 for c in completions)
    sent = server.requests[0]
    assert sent["model"] == "tiny"
    assert sent["temperature"] == 0.7 and sent["top_p"] == 0.9 and sent["max_tokens"] == 32 and sent["seed"] == 3
    # thinking disabled through the chat template by default
    assert sent["chat_template_kwargs"] == {"enable_thinking": False}
    headers = {k.lower(): v for k, v in server.headers[0].items()}
    assert headers["authorization"] == "Bearer sk-test-secret"


def test_requests_run_concurrently():
    with ChatServer(reply=lambda body: "ok", delay_s=0.2) as server:
        import time

        backend = _backend(server.url, concurrency=8)
        started = time.perf_counter()
        completions = generate(backend, _requests(8))
        elapsed = time.perf_counter() - started
    assert all(c.ok for c in completions)
    assert elapsed < 0.2 * 8 / 2, f"8 requests of 0.2 s at concurrency 8 took {elapsed:.2f}s"


@pytest.mark.parametrize(
    ("status", "reason"),
    [(400, "bad_request"), (404, "http_404"), (422, "http_422"), (500, "server_error"), (429, "rate_limited")],
)
def test_http_errors_become_error_completions_with_the_servers_message(status, reason):
    error = {"error": {"message": f"boom {status}", "type": "test", "code": status}}
    with ChatServer(reply=lambda body: (status, error)) as server:
        [completion] = generate(_backend(server.url), _requests(1))
    assert not completion.ok
    assert completion.error_reason == reason
    assert f"boom {status}" in completion.error


def test_empty_choices_and_malformed_bodies_are_errors_not_crashes():
    replies = iter([{"id": "x", "object": "chat.completion", "created": 0, "model": "m", "choices": []}, b"{not json"])
    with ChatServer(reply=lambda body: (200, next(replies))) as server:
        completions = generate(_backend(server.url, concurrency=1), _requests(2))
    assert [c.ok for c in completions] == [False, False]
    assert completions[0].error_reason == "empty_choices"
    assert completions[1].error_reason is not None


def test_truncated_answer_keeps_its_finish_reason():
    with ChatServer(reply=lambda body: (200, completion_body(body, "cut sho", finish_reason="length"))) as server:
        [completion] = generate(_backend(server.url), _requests(1))
    assert completion.ok and completion.finish_reason == "length"


def test_unreachable_server_stops_with_one_paragraph():
    with pytest.raises(ServerUnreachableError, match=r"127\.0\.0\.1:9/v1 does not answer .*GET /models"):
        generate(_backend("http://127.0.0.1:9/v1", timeout_s=2), _requests(1))


def test_hosted_api_without_key_is_a_config_error(monkeypatch):
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(ConfigError, match="MY_KEY"):
        make_backend(LLMConfig(backend="openai", model="gpt", api_key_env="MY_KEY"))


def test_openai_backend_needs_a_model():
    with pytest.raises(ConfigError, match="llm.model"):
        make_backend(LLMConfig(backend="openai", api_base="http://127.0.0.1:1/v1"))


def test_with_a_proxy_configured_requests_go_through_aiohttp(monkeypatch):
    # HTTP_PROXY makes the backend use aiohttp (which knows proxies); NO_PROXY keeps 127.0.0.1 direct.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    from speechsift.llm.openai_backend import _AiohttpTransport

    with ChatServer(reply=lambda body: (503, {"error": {"message": "busy"}}, {"Retry-After": "0"})) as server:
        backend = make_backend(LLMConfig(backend="openai", model="tiny", api_base=server.url,
                                         retry={"max_attempts": 2, "backoff_base_s": 0.0}))
        [completion] = generate(backend, _requests(1))
    assert completion.error_reason == "server_error" and completion.retries == 1 and len(server.requests) == 2
    with ChatServer(reply=lambda body: "via aiohttp") as server:
        backend = _backend(server.url)

        async def answer():
            completions = await backend.agenerate(_requests(1))
            transport = backend._pool
            await backend.aclose()
            return completions, transport

        import asyncio

        [completion], transport = asyncio.run(answer())
    assert completion.text == "via aiohttp" and isinstance(transport, _AiohttpTransport)


def _ignores_n(body):
    """A llama.cpp-server / TGI-like reply: one choice whatever ``n`` asks, its text naming the seed."""
    return 200, {**completion_body(body, f"sample with seed {body.get('seed')}"),
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": f"sample with seed {body.get('seed')}"},
                              "finish_reason": "stop"}]}


def test_samples_a_server_leaves_out_are_asked_as_seeded_requests():
    """The server stands for one that ignores ``n`` (llama.cpp server, TGI): each missing sample is
    its own request with seed + sample index; once known, later prompts skip the ``n`` call."""
    from dataclasses import replace

    first, later = ([replace(prompt, sample_index=i) for i in range(3)] for prompt in _requests(2))
    with ChatServer(reply=_ignores_n) as server:
        backend = _backend(server.url)
        completions = generate(backend, first) + generate(backend, later)
    assert [c.text for c in completions] == [f"sample with seed {3 + i}" for _ in range(2) for i in range(3)]
    asked = [(body["messages"][-1]["content"], body.get("n", 1), body["seed"]) for body in server.requests]
    assert asked[0] == ("hello 0", 3, 3), "the first prompt tries n"
    assert sorted(asked[1:3]) == [("hello 0", 1, 4), ("hello 0", 1, 5)]
    assert sorted(asked[3:]) == [("hello 1", 1, 3 + i) for i in range(3)], "later prompts: one request per sample"


def test_a_server_that_goes_away_mid_run_stops_it_and_a_blip_does_not():
    import asyncio

    with ChatServer() as server:
        backend = make_backend(LLMConfig(backend="openai", model="tiny", api_base=server.url, concurrency=4,
                                         retry={"max_attempts": 3, "backoff_base_s": 0.01, "unreachable_after": 4}))

        async def scenario():
            first = await backend.agenerate(_requests(2))  # checked with GET /models once, then answered
            server.down = True
            try:
                with pytest.raises(ServerUnreachableError, match="does not answer"):
                    await backend.agenerate(_requests(20))
            finally:
                await backend.aclose()
            return first

        first = asyncio.run(scenario())
    assert all(c.ok for c in first) and server.model_checks == 1
    assert server.dropped < 20, "it stops before the 20 requests are even tried once each (3 attempts each without it)"

    # a blip: connections drop for a while, but the server answers GET /models: the run goes on
    drops = iter([True] * 6)
    with ChatServer(reply=lambda body: RESET if next(drops, False) else "back again") as server:
        backend = make_backend(LLMConfig(backend="openai", model="tiny", api_base=server.url, concurrency=1,
                                         retry={"max_attempts": 8, "backoff_base_s": 0.01, "unreachable_after": 2}))
        completions = generate(backend, _requests(3))
    assert [c.text for c in completions] == ["back again"] * 3 and server.model_checks >= 3
