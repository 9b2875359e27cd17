"""The small HTTP/1.1 client against raw servers on 127.0.0.1 that answer with scripted bytes:
Content-Length and chunked bodies, keep-alive reuse, Connection: close, a server that hangs up
mid-body, and timeouts."""

from __future__ import annotations

import asyncio

import pytest

from speechsift.llm.http import HTTPClient, HTTPConnectionError, HTTPProtocolError


async def _serve(replies: list[bytes], seen: list[bytes], connections: list[int], close_after: bool = False):
    """A raw TCP server: for each request it reads head + body and writes the next scripted reply."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while replies:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
                seen.append(head + await reader.readexactly(length))
                reply = replies.pop(0)
                if reply == b"HANG":
                    await asyncio.sleep(5)
                    return
                writer.write(reply)
                await writer.drain()
                if close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _run(replies, requests=1, close_after=False, timeout=None):
    seen: list[bytes] = []
    connections: list[int] = []

    async def main():
        server, port = await _serve(list(replies), seen, connections, close_after)
        client = HTTPClient(f"http://127.0.0.1:{port}/v1", {"Authorization": "Bearer k"})
        try:
            return [await client.post_json("/chat/completions", b'{"a": 1}', timeout) for _ in range(requests)]
        finally:
            await client.close()
            server.close()

    return asyncio.run(main()), seen, connections


def test_content_length_and_keep_alive():
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"x\":1}"
    responses, seen, connections = _run([reply, reply, reply], requests=3)
    assert [r.body for r in responses] == [b'{"x":1}'] * 3 and responses[0].status == 200
    assert len(connections) == 1, "one connection reused"
    assert seen[0].startswith(b"POST /v1/chat/completions HTTP/1.1\r\n")
    assert b"Authorization: Bearer k\r\n" in seen[0] and seen[0].endswith(b'\r\n\r\n{"a": 1}')


def test_chunked_body_and_interim_response():
    reply = (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nTransfer-Encoding: chunked\r\n"
             b"Retry-After: 2\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\n\r\n")
    [response], _, _ = _run([reply])
    assert response.status == 429 and response.body == b'{"a":1}' and response.headers["retry-after"] == "2"


def test_connection_close_and_body_until_close():
    reply = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody without a length"
    responses, _, connections = _run([reply, reply], requests=2, close_after=True)
    assert [r.body for r in responses] == [b"body without a length"] * 2
    assert len(connections) == 2, "a closed connection is not reused"


def test_server_hanging_up_mid_body_is_a_connection_error():
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part"
    with pytest.raises(HTTPConnectionError):
        _run([reply], close_after=True)


def test_garbage_is_a_protocol_error():
    with pytest.raises(HTTPProtocolError):
        _run([b"SSH-2.0-OpenSSH\r\n\r\n"])


def test_timeout():
    with pytest.raises(TimeoutError):
        _run([b"HANG"], timeout=0.2)


def test_unreachable_server():
    async def main():
        client = HTTPClient("http://127.0.0.1:9/v1", {})
        await client.post_json("/x", b"{}")

    with pytest.raises(HTTPConnectionError, match="cannot connect"):
        asyncio.run(main())
