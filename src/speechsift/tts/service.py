"""Synthesis with a cache: every utterance is made once, checked, and stored under its key.

``Synthesizer.synthesize`` takes a batch of requests and returns one ``Utterance`` each: the cached
audio file, or a reject code. Per request: the text is checked (``tts.text``); its key (backend,
model, voice, settings, text) is looked up in the cache (``UtteranceCache``: one FLAC file per key,
written atomically, so a killed run keeps every utterance finished before the kill); identical
requests of the batch are synthesized once; the rest go to the backend in one call, long texts
sentence by sentence. What comes back is decoded and checked before it is stored: silence, or audio
far too short for its text, is ``tts_failed``. Failures are never stored, so a rerun tries again;
those a rerun may well heal (a server's timeout, 5xx or dropped connection, after the retries) are
marked ``transient``, so the engine leaves their shard unfinished for the rerun.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from speechsift import audio
from speechsift.storage import atomic_write_bytes
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
COUNTING = threading.Lock()  # utterances are stored in worker threads


@dataclass(frozen=True, slots=True)
class Utterance:
    """The outcome of one request: ``audio`` (the cached file) or a reject ``reason``/``message``.
    ``origin`` is ``cache``, ``synthesized``, ``dedup`` (an identical request of the batch) or
    ``failed``."""

    audio: AudioRef | None
    origin: str
    reason: str | None = None
    message: str | None = None
    transient: bool = False  # a failure that may well not happen again (a server's timeout, 5xx)


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
        made = self._run(jobs, counters)
        for key, indices in waiting.items():
            first, *others = indices
            results[first] = made[key]
            for index in others:
                counters["deduplicated"] += 1
                results[index] = replace(made[key], origin="dedup") if made[key].audio is not None else made[key]
        return results  # type: ignore[return-value]

    def _run(self, jobs: dict[str, tuple[SpeechRequest, list[str]]], counters: Counter) -> dict[str, Utterance]:
        """Each job synthesized (its pieces in one backend call) and stored as soon as it is made,
        while the others are still being made; a ``batched`` backend gets one call for all."""
        if not jobs:
            return {}
        from speechsift.llm.base import aclose

        def pieces(request: SpeechRequest, texts: list[str]) -> list[SpeechRequest]:
            return [replace(request, text=text) for text in texts]

        async def one(key: str, request: SpeechRequest, texts: list[str]) -> tuple[str, Utterance]:
            speeches = await self.backend.asynthesize(pieces(request, texts))
            # decoding and FLAC encoding in a thread (libsndfile lets go of the GIL): the loop goes on
            return key, await asyncio.get_running_loop().run_in_executor(
                None, self._store, key, request, speeches, counters)

        async def batch() -> list[tuple[str, Utterance]]:
            speeches = iter(await self.backend.asynthesize([p for r, texts in jobs.values() for p in pieces(r, texts)]))
            return [(key, self._store(key, request, [next(speeches) for _ in texts], counters))
                    for key, (request, texts) in jobs.items()]

        async def run() -> list[tuple[str, Utterance]]:
            try:
                if getattr(self.backend, "batched", False):
                    return await batch()
                return list(await asyncio.gather(*(one(key, *job) for key, job in jobs.items())))
            finally:
                await aclose(self.backend)  # type: ignore[arg-type]

        return dict(asyncio.run(run()))

    def _store(self, key: str, request: SpeechRequest, speeches: list[Speech], counters: Counter) -> Utterance:
        """Decode, check and join the pieces of one request; store the result under ``key``.
        Runs in worker threads: ``counters`` is changed under ``COUNTING``."""
        waves: list[np.ndarray] = []
        rate = 0
        with COUNTING:
            counters["retries"] += sum(speech.retries for speech in speeches)
        for speech in speeches:
            if speech.audio is None:
                return self._failed(speech.error_reason or "tts_failed", speech.error or "no audio", counters,
                                    speech.transient)
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
        with COUNTING:
            counters["synthesized"] += 1
            counters["audio_ms"] += round(seconds * 1000)
        return Utterance(AudioRef(str(path)), "synthesized")

    @staticmethod
    def _failed(reason: str, message: str, counters: Counter, transient: bool = False) -> Utterance:
        with COUNTING:
            counters[f"failed.{reason}"] += 1
            if transient:
                counters["transient_failures"] += 1
        return Utterance(None, "failed", reason, message, transient)


__all__ = ["Synthesizer", "Utterance", "UtteranceCache"]
