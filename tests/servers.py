"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions API.

It stands for an OpenAI-compatible LLM server (vLLM serve, SGLang, llama.cpp): it answers every
request deterministically from the request's content, counts what it receives, and can be told
to fail, to delay, or to answer in malformed ways, to inject faults. ``GET /v1/models`` lists the
one model, as those servers do (clients check the server is there with it). With ``down`` set it
stands for a server that has gone away: every request, GET or POST, has its connection dropped.
With ``espeak_speech`` as its reply it stands for a ``/v1/audio/speech`` server (Kokoro-FastAPI,
openedai-speech): it speaks the request's ``input`` with espeak-ng, the ``voice`` being an espeak-ng
voice name.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RESET = object()  # a reply that drops the connection


class Hang:
    """A reply that waits ``seconds`` before answering ``then`` (longer than a client's timeout)."""

    def __init__(self, seconds: float, then: Any = "late") -> None:
        self.seconds = seconds
        self.then = then


def scripted_reply(body: dict[str, Any]) -> str:
    """The default answer: a deterministic sentence naming a hash of the request's messages."""
    digest = hashlib.sha1(json.dumps(body.get("messages", body.get("prompt")), sort_keys=True).encode()).hexdigest()[:8]
    return f"<think>private reasoning</think>Sounds like a reply {digest}."


class ChatServer:
    def __init__(self, reply: Callable[[dict[str, Any]], Any] = scripted_reply, delay_s: float = 0.0,
                 port: int = 0) -> None:
        self.reply = reply
        self.delay_s = delay_s
        self.requests: list[dict[str, Any]] = []
        self.model_checks = 0  # GET /models answered
        self.down = False
        self.dropped = 0  # requests dropped while down
        self.headers: list[dict[str, str]] = []
        self.paths: list[str] = []  # each request's path: /v1/chat/completions, /v1/completions, ...
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def gone(self) -> bool:
                if server.down:
                    with server._lock:
                        server.dropped += 1
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                return server.down

            def do_GET(self) -> None:  # noqa: N802
                if self.gone():
                    return
                with server._lock:
                    server.model_checks += 1
                found = self.path.rstrip("/").endswith("/models")
                data = json.dumps({"object": "list", "data": [{"id": "tiny", "object": "model"}]} if found
                                  else {"error": {"message": "not found"}}).encode()
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                if self.gone():
                    return
                with server._lock:
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    server.paths.append(self.path)
                if server.delay_s:
                    time.sleep(server.delay_s)
                outcome = server.reply(body)
                if outcome is RESET:  # drop the connection without a word
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(outcome, Hang):
                    time.sleep(outcome.seconds)
                    outcome = outcome.then
                headers: dict[str, str] = {}
                if isinstance(outcome, tuple) and len(outcome) == 3:
                    status, payload, headers = outcome
                else:
                    status, payload = (outcome if isinstance(outcome, tuple) else (200, outcome))
                if isinstance(payload, str):
                    payload = completion_body(body, payload)
                data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
                headers = dict(headers)
                self.send_response(status)
                self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # the default 5 drops connection bursts (1 s SYN retries)

        self._httpd = Server(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> "ChatServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def completion_body(request: dict[str, Any], text: str, finish_reason: str = "stop") -> dict[str, Any]:
    if "prompt" in request:  # /v1/completions (raw completion): choices carry text
        return {
            "id": "cmpl-test", "object": "text_completion", "created": 0, "model": request.get("model", "test-model"),
            "choices": [{"index": i, "text": text, "finish_reason": finish_reason} for i in range(request.get("n", 1))],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "test-model"),
        "choices": [  # as many as the request's n asks for
            {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": finish_reason}
            for i in range(request.get("n", 1))
        ],
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }


def espeak_speech(body: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    """A ``/v1/audio/speech`` answer: the request's input spoken by espeak-ng (voice = an espeak-ng
    voice, ``speed`` a factor on its 175 words a minute), as a WAV file."""
    import subprocess

    rate = str(round(175 * float(body.get("speed", 1.0))))
    wav = subprocess.run(["espeak-ng", "--stdout", "--stdin", "-v", body["voice"], "-s", rate],
                         input=body["input"].encode(), capture_output=True, check=True, timeout=60).stdout
    return 200, wav, {"Content-Type": "audio/wav"}
