"""A small HTTP/1.1 client for JSON POSTs to LLM servers (and the GET that checks one is there):
keep-alive connections, Content-Length and chunked bodies, TLS, nothing else.

Why not aiohttp or the OpenAI SDK: at hundreds of requests in flight the client's own CPU is the
bottleneck (0.5 ms a request through aiohttp, 4 ms through the SDK, about 0.1 ms here;
benchmarks/bench_generation.py). What LLM servers need is small: POST a JSON body, read one JSON
answer. When a proxy is configured in the environment, the backend uses aiohttp instead, which
knows proxies.
"""

from __future__ import annotations

import asyncio
import ssl as ssl_module
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit


class HTTPConnectionError(ConnectionError):
    """The connection failed or closed before a whole response arrived."""


class HTTPProtocolError(HTTPConnectionError):
    """The server's bytes are not an HTTP/1.1 response we can read."""


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False
        self._head: tuple[int, dict[str, str], int] | None = None  # status, headers, body offset

    # asyncio.Protocol -------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is not None and not self.waiter.done():
            try:
                self._parse()
            except HTTPProtocolError as exc:
                self.waiter.set_exception(exc)
                self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self._head is not None and self._until_close():
            status, headers, offset = self._head
            waiter.set_result(Response(status, headers, bytes(self.buffer[offset:])))
        else:
            waiter.set_exception(HTTPConnectionError(f"the server closed the connection ({exc or 'no reason given'})"))

    # requests ---------------------------------------------------------------------------------
    def send(self, data: bytes, timeout_s: float | None) -> asyncio.Future[Response]:
        loop = asyncio.get_running_loop()
        self.waiter = waiter = loop.create_future()
        self._head = None
        assert self.transport is not None
        self.transport.write(data)
        if timeout_s is not None:
            # a timer on the loop, not asyncio.wait_for: that wraps every request in a task
            timer = loop.call_later(timeout_s, self._time_out, waiter, timeout_s)
            waiter.add_done_callback(lambda _: timer.cancel())
        return waiter

    def _time_out(self, waiter: asyncio.Future[Response], timeout_s: float) -> None:
        if not waiter.done():
            waiter.set_exception(TimeoutError(f"no answer within {timeout_s:g}s"))
            self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # parsing ----------------------------------------------------------------------------------
    def _until_close(self) -> bool:
        assert self._head is not None
        headers = self._head[1]
        return "content-length" not in headers and "chunked" not in headers.get("transfer-encoding", "")

    def _parse(self) -> None:
        if self._head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    raise HTTPProtocolError("response headers larger than 64 KiB")
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
                raise HTTPProtocolError(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            self._head = (int(parts[1]), headers, end + 4)
            if 100 <= int(parts[1]) < 200:  # an interim response (100 Continue): skip it
                del self.buffer[: end + 4]
                self._head = None
                return self._parse()
        status, headers, offset = self._head
        if "chunked" in headers.get("transfer-encoding", ""):
            body = self._dechunk(offset)
            if body is None:
                return
        elif "content-length" in headers:
            try:
                length = int(headers["content-length"])
            except ValueError:
                raise HTTPProtocolError(f"bad Content-Length {headers['content-length']!r}") from None
            if len(self.buffer) - offset < length:
                return
            body = bytes(self.buffer[offset : offset + length])
            del self.buffer[: offset + length]
        else:
            return  # the body runs until the server closes the connection
        if headers.get("connection", "").lower() == "close":
            self.closed = True
        assert self.waiter is not None
        self.waiter.set_result(Response(status, headers, body))

    def _dechunk(self, offset: int) -> bytes | None:
        """The whole body once every chunk has arrived (and trims the buffer), else None."""
        chunks, position = [], offset
        while True:
            line_end = self.buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size_text = bytes(self.buffer[position:line_end]).split(b";")[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise HTTPProtocolError(f"bad chunk size {size_text[:20]!r}") from None
            start = line_end + 2
            if size == 0:
                trailer_end = self.buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    if self.buffer[start : start + 2] == b"\r\n":
                        trailer_end = line_end
                    else:
                        return None
                del self.buffer[: trailer_end + 4]
                return b"".join(chunks)
            if len(self.buffer) < start + size + 2:
                return None
            chunks.append(bytes(self.buffer[start : start + size]))
            position = start + size + 2


class HTTPClient:
    """Keep-alive connections to one server (scheme, host and port of ``base_url``)."""

    def __init__(self, base_url: str, headers: dict[str, str], max_idle: int = 1024) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl_module.create_default_context() if parts.scheme == "https" else None
        self.base_path = parts.path.rstrip("/")
        host_header = self.host if parts.port is None else f"{self.host}:{parts.port}"
        fixed = {"Host": host_header, "Accept": "application/json", "User-Agent": "speechsift", **headers}
        self._fixed_headers = "".join(f"{k}: {v}\r\n" for k, v in fixed.items()).encode("latin-1")
        self._idle: deque[_Connection] = deque()
        self._max_idle = max_idle
        self._open: set[_Connection] = set()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                _Connection, self.host, self.port, ssl=self.ssl, server_hostname=self.host if self.ssl else None
            )
        except OSError as exc:
            raise HTTPConnectionError(f"cannot connect to {self.host}:{self.port}: {exc}") from exc
        self._open.add(connection)
        return connection

    async def post_json(self, path: str, body: bytes, timeout_s: float | None = None) -> Response:
        """POST ``body`` (JSON) to ``base path + path``; the response whatever its status.

        Raises ``TimeoutError`` when no whole response arrives within ``timeout_s`` of sending.
        """
        head = f"POST {self.base_path}{path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        return await self._exchange(head.encode("latin-1") + self._fixed_headers + b"\r\n" + body, timeout_s)

    async def get(self, path: str, timeout_s: float | None = None) -> Response:
        """GET ``base path + path``; the response whatever its status."""
        head = f"GET {self.base_path}{path} HTTP/1.1\r\n".encode("latin-1")
        return await self._exchange(head + self._fixed_headers + b"\r\n", timeout_s)

    async def _exchange(self, request: bytes, timeout_s: float | None) -> Response:
        """Send one request on an idle connection (or a new one) and read its response."""
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed:
                break
            self._open.discard(connection)
        else:
            connection = await self._connect()
        try:
            response = await connection.send(request, timeout_s)
        except BaseException:
            connection.close()
            self._open.discard(connection)
            raise
        if connection.closed or len(self._idle) >= self._max_idle:
            connection.close()
            self._open.discard(connection)
        else:
            self._idle.append(connection)
        return response

    async def close(self) -> None:
        for connection in list(self._open):
            connection.close()
        self._open.clear()
        self._idle.clear()
