"""A minimal OpenAI-compatible chat server with a fixed latency, for throughput benchmarks.

It stands for a real LLM server whose every answer takes exactly ``--latency`` seconds: asyncio
streams, HTTP/1.1 keep-alive, one fixed chat.completion per POST, ``GET /v1/models`` (the client's
check that the server is there), and ``GET /stats`` for the number of completions served. Runs as
its own process so it does not share the client's core. With ``--speech`` it stands for a
``/v1/audio/speech`` server instead: every POST gets the same one-second WAV (a 16 kHz tone).
``--reply FILE.py:FUNCTION`` answers each request with ``FUNCTION(body)`` instead (chat or, for a
raw ``prompt``, text completions), for benchmarks whose tasks parse what the model writes.
"""

from __future__ import annotations

import argparse
import asyncio
import json

COMPLETION = {
    "id": "chatcmpl-bench",
    "object": "chat.completion",
    "created": 0,
    "model": "bench",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "A fixed benchmark reply."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25},
}


def tone_wav(seconds: float = 1.0, sr: int = 16_000) -> bytes:
    """A WAV file of a 220 Hz tone, 16-bit mono (the standard library's wave module)."""
    import io
    import math
    import struct
    import wave

    samples = b"".join(struct.pack("<h", int(9000 * math.sin(2 * math.pi * 220 * i / sr))) for i in range(int(seconds * sr)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sr)
        out.writeframes(samples)
    return buffer.getvalue()


class LatencyServer:
    def __init__(self, latency_s: float, speech: bool = False, reply=None) -> None:
        self.latency_s = latency_s
        self.served = 0
        self._body = tone_wav() if speech else json.dumps(COMPLETION).encode()
        self._type = b"audio/wav" if speech else b"application/json"
        self.reply = reply

    def body_for(self, request: bytes) -> bytes:
        if self.reply is None:
            return self._body
        data = json.loads(request)
        text = self.reply(data)
        if "prompt" in data:
            choice = {"index": 0, "text": text, "finish_reason": "stop"}
        else:
            choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        return json.dumps({**COMPLETION, "choices": [choice]}).encode()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:].strip())
                request = await reader.readexactly(length) if length else b""
                if head.startswith(b"GET /stats"):
                    body = json.dumps({"served": self.served}).encode()
                elif head.startswith(b"GET "):  # GET /v1/models: the client checks the server is there
                    body = json.dumps({"object": "list", "data": [{"id": "bench", "object": "model"}]}).encode()
                else:
                    await asyncio.sleep(self.latency_s)
                    self.served += 1
                    body = self.body_for(request)
                kind = b"application/json" if head.startswith(b"GET ") else self._type
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: " + kind + b"\r\nContent-Length: "
                    + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def load_reply(spec: str | None):
    """``FUNCTION`` of ``FILE.py:FUNCTION``, or None."""
    if not spec:
        return None
    import importlib.util

    path, _, name = spec.rpartition(":")
    module_spec = importlib.util.spec_from_file_location("bench_replies", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return getattr(module, name)


async def serve(port: int, latency_s: float, speech: bool = False, reply_spec: str | None = None) -> None:
    server = LatencyServer(latency_s, speech, load_reply(reply_spec))
    listener = await asyncio.start_server(server.handle, "127.0.0.1", port, backlog=4096)
    print(f"listening {listener.sockets[0].getsockname()[1]}", flush=True)
    async with listener:
        await listener.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--speech", action="store_true", help="answer every POST with a one-second WAV")
    parser.add_argument("--reply", default=None, help="FILE.py:FUNCTION answering each request body")
    args = parser.parse_args()
    try:
        import uvloop  # optional: a faster event loop when installed

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.port, args.latency, args.speech, args.reply))


if __name__ == "__main__":
    main()
