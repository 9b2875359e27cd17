"""A stand-in for a speech LLM served over OpenAI-compatible chat (vLLM serving Qwen2-Audio): a real
HTTP server on 127.0.0.1 (tests/servers.py's ChatServer) that decodes every ``input_audio`` part,
hashes the samples, and answers from a table keyed by the audio's hash (and the question asked
beside it), with failures on demand: permanent (HTTP 500 every time) or transient (a 503 first).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf


def samples_hash(samples: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(samples, dtype=np.int16).tobytes()).hexdigest()[:16]


def file_hash(path: Path) -> str:
    """The hash the server computes for a WAV file's audio (its 16-bit samples)."""
    samples, _sr = sf.read(path, dtype="int16")
    return samples_hash(samples)


def request_parts(body: dict[str, Any]) -> tuple[list[str], str]:
    """(hashes of the audio parts in order, the user text) of a chat request."""
    hashes, texts = [], []
    for message in body["messages"]:
        content = message["content"]
        if message["role"] != "user" or isinstance(content, str):
            continue
        for part in content:
            if part["type"] == "input_audio":
                assert part["input_audio"]["format"] == "wav"
                samples, _sr = sf.read(io.BytesIO(base64.b64decode(part["input_audio"]["data"])), dtype="int16")
                hashes.append(samples_hash(samples))
            elif part["type"] == "text":
                texts.append(part["text"])
    return hashes, "\n".join(texts)


class SpeechLLM:
    """``answers[(audio hashes joined by '+', user text)]`` is the reply; ``fail`` keys always get a 500,
    ``flaky`` keys a 503 on their first request."""

    def __init__(self, answers: dict[tuple[str, str], str], fail: set[tuple[str, str]] = frozenset(),
                 flaky: set[tuple[str, str]] = frozenset()) -> None:
        self.answers = answers
        self.fail = set(fail)
        self.flaky = set(flaky)
        self.seen: Counter = Counter()
        self._lock = threading.Lock()

    def __call__(self, body: dict[str, Any]) -> Any:
        hashes, text = request_parts(body)
        key = ("+".join(hashes), text)
        with self._lock:
            self.seen[key] += 1
            first = self.seen[key] == 1
        if key in self.fail:
            return 500, {"error": {"message": "the model crashed on this audio"}}
        if key in self.flaky and first:
            return 503, {"error": {"message": "busy, try again"}}
        if key not in self.answers:
            return 400, {"error": {"message": f"no answer for {key}"}}
        return self.answers[key]


class Judge:
    """A judge server's reply: a verdict chosen by the assistant's answer it is shown."""

    def __init__(self, verdicts: dict[str, str]) -> None:
        self.verdicts = verdicts
        self.asked: Counter = Counter()

    def __call__(self, body: dict[str, Any]) -> Any:
        user = body["messages"][-1]["content"]
        answer = user.rsplit("Answer: ", 1)[-1] if "Assistant's answer: " not in user else user.rsplit(
            "Assistant's answer: ", 1)[-1]
        self.asked[answer] += 1
        return self.verdicts[answer]


def verdict(score: int, reason: str = "graded") -> str:
    return json.dumps({"reason": reason, "score": score})
