"""Synthesis with a cache: every utterance is made once, checked, and stored under its key.

``Synthesizer.synthesize`` takes a batch of requests and returns one ``Utterance`` each: the cached
audio file, or a reject code. Per request: the text is checked (``tts.text``); its key (backend,
model, voice, settings, text) is looked up in the cache (``UtteranceCache``: one FLAC file per key,
written atomically, so a killed run keeps every utterance finished before the kill); identical
requests of the batch are synthesized once; the rest go to the backend in one call, long texts
sentence by sentence. What comes back is decoded and checked before it is stored: silence, or audio
far too short for its text, is ``tts_failed``. Failures are never stored, so a rerun tries again.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from speechsift import audio
from speechsift.engine.layout import atomic_write_bytes
from speechsift.errors import AudioLoadError, Reject
from speechsift.records import AudioRef
from speechsift.tts.base import Speech, SpeechBackend, SpeechRequest
from speechsift.tts.text import check_speakable, utterances
from speechsift.tts.voices import language_code

# Audio is "far too short for its text" below this many letters per second. Read speech runs at
# about 12-15 letters a second (150-180 words a minute of ~5 letters, Yuan et al. 2006, "Towards
# an integrated understanding of speaking rate in conversation"); espeak-ng's fastest rate, 450
# words a minute, is about 38. Three times normal leaves room for every voice.
MAX_LETTERS_PER_S = 45.0
SILENCE_PEAK = 10 ** (-50 / 20)  # a peak below -50 dBFS: nothing was said
PAUSE_S = 0.3  # between the sentences of a long text spoken in pieces


@dataclass(frozen=True, slots=True)
class Utterance:
    """The outcome of one request: ``audio`` (the cached file) or a reject ``reason``/``message``.
    ``origin`` is ``cache``, ``synthesized``, ``dedup`` (an identical request of the batch) or
    ``failed``."""

    audio: AudioRef | None
    origin: str
    reason: str | None = None
    message: str | None = None


class UtteranceCache:
    """One audio file per key under ``root`` (``<key[:2]>/<key>.flac``)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.flac"

    def get(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    def put(self, key: str, wave: np.ndarray, sr: int) -> Path:
        buffer = io.BytesIO()
        sf.write(buffer, wave, sr, format="FLAC", subtype="PCM_16")
        path = self.path(key)
        atomic_write_bytes(path, buffer.getvalue())
        return path


class Synthesizer:
    def __init__(self, backend: SpeechBackend, cache: UtteranceCache, *, max_chars: int, split: bool) -> None:
        self.backend = backend
        self.cache = cache
        self.max_chars = max_chars
        self.split = split

    def synthesize(self, requests: Sequence[SpeechRequest], counters: Counter) -> list[Utterance]:
        """One ``Utterance`` per request, in order; ``counters`` gets requests, cache_hits,
        synthesized, deduplicated, retries, audio_ms and failed.<reason>."""
        results: list[Utterance | None] = [None] * len(requests)
        waiting: dict[str, list[int]] = {}  # key -> the requests it answers
        jobs: dict[str, tuple[SpeechRequest, list[str]]] = {}  # key -> (request, its pieces)
        for index, request in enumerate(requests):
            counters["requests"] += 1
            try:
                text = check_speakable(request.text, language_code(request.language))
                pieces = utterances(text, self.max_chars, self.split)
            except Reject as refused:
                results[index] = self._failed(refused.reason, refused.message, counters)
                continue
            request = replace(request, text=text)
            key = request.key(self.backend.name, self.backend.model)
            if key in waiting:
                waiting[key].append(index)
                continue
            cached = self.cache.get(key)
            if cached is not None:
                counters["cache_hits"] += 1
                results[index] = Utterance(AudioRef(str(cached)), "cache")
                continue
            waiting[key] = [index]
            jobs[key] = (request, pieces)
        speeches = iter(self._run([replace(request, text=piece) for request, pieces in jobs.values() for piece in pieces]))
        for key, (request, pieces) in jobs.items():
            made = self._store(key, request, [next(speeches) for _ in pieces], counters)
            first, *others = waiting[key]
            results[first] = made
            for index in others:
                counters["deduplicated"] += 1
                results[index] = replace(made, origin="dedup") if made.audio is not None else made
        return results  # type: ignore[return-value]

    def _run(self, requests: list[SpeechRequest]) -> list[Speech]:
        if not requests:
            return []
        from speechsift.llm.base import aclose

        async def speak() -> list[Speech]:
            try:
                return await self.backend.asynthesize(requests)
            finally:
                await aclose(self.backend)  # type: ignore[arg-type]

        return asyncio.run(speak())

    def _store(self, key: str, request: SpeechRequest, speeches: list[Speech], counters: Counter) -> Utterance:
        """Decode, check and join the pieces of one request; store the result under ``key``."""
        waves: list[np.ndarray] = []
        rate = 0
        for speech in speeches:
            counters["retries"] += speech.retries
            if speech.audio is None:
                return self._failed(speech.error_reason or "tts_failed", speech.error or "no audio", counters)
            try:  # the pieces of one text at the first one's rate
                wave, rate = audio.load(AudioRef(bytes=speech.audio), sampling_rate=rate or None)
            except AudioLoadError as exc:
                return self._failed("tts_failed", f"the {self.backend.name} backend's audio is not readable: {exc}", counters)
            waves.append(wave)
        pause = np.zeros(int(PAUSE_S * rate), dtype=np.float32)
        wave = np.concatenate([piece for w in waves for piece in (pause, w)][1:])
        letters = sum(c.isalpha() for c in request.text)
        seconds = len(wave) / rate
        if float(np.max(np.abs(wave))) < SILENCE_PEAK:
            return self._failed("tts_failed", f"the synthesized audio is silent: {request.text[:60]!r}", counters)
        if seconds < letters / MAX_LETTERS_PER_S:
            return self._failed("tts_failed", f"{seconds:.2f} s of audio is far too short for {letters} letters: "
                                              f"{request.text[:60]!r}", counters)
        path = self.cache.put(key, wave, rate)
        counters["synthesized"] += 1
        counters["audio_ms"] += round(seconds * 1000)
        return Utterance(AudioRef(str(path)), "synthesized")

    @staticmethod
    def _failed(reason: str, message: str, counters: Counter) -> Utterance:
        counters[f"failed.{reason}"] += 1
        return Utterance(None, "failed", reason, message)


__all__ = ["Synthesizer", "Utterance", "UtteranceCache"]
