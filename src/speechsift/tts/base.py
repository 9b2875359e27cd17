"""The one protocol every speech-synthesis backend implements, and the registry that builds them.

Like ``llm/``: a backend answers a batch of ``SpeechRequest``s with one ``Speech`` each (WAV bytes,
or an error with a reject code), in order; ``asynthesize`` is the one implementation. Backends
that run a program (espeak-ng, Piper) run it as a separate process per utterance or per batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from speechsift.errors import ConfigError
from speechsift.records import stable_id

if TYPE_CHECKING:
    from speechsift.recipe import TTSConfig, TTSVoice
    from speechsift.tts.voices import Voice

CACHE_VERSION = 1  # bumped when the audio stored for a key changes (its format, its post-processing)


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """One utterance to synthesize: the text, the backend's voice, the voice's settings."""

    text: str
    voice: str
    settings: tuple[tuple[str, Any], ...] = ()
    language: str | None = None  # the text's language (checks only: the voice decides how it sounds)

    def key(self, backend: str, model: str | None) -> str:
        """The cache key: a hash of backend, model, voice, settings and text."""
        blob = json.dumps([CACHE_VERSION, backend, model, self.voice, list(self.settings), self.text],
                          ensure_ascii=False, sort_keys=True)
        return stable_id(blob, length=32)

    def setting(self, name: str, default: Any = None) -> Any:
        return dict(self.settings).get(name, default)


@dataclass(slots=True)
class Speech:
    """A backend's answer to one request: ``audio`` (a WAV file's bytes) or an error; ``transient``
    marks an error that may well not happen again (a server's timeout, 5xx, dropped connection)."""

    audio: bytes | None = None
    error: str | None = None
    error_reason: str | None = None
    retries: int = 0
    transient: bool = False

    @property
    def ok(self) -> bool:
        return self.audio is not None


@runtime_checkable
class SpeechBackend(Protocol):
    """``asynthesize`` is called per utterance, concurrently, so each is stored as soon as it is
    made; the backend bounds its own concurrency (processes, requests in flight) across calls. A
    backend that gains from whole batches (Piper groups texts per model) sets ``batched = True``
    and gets one call per batch instead."""

    name: str
    model: str | None

    def resolve(self, voice: "TTSVoice", field: str) -> str:
        """The backend's id for a recipe voice; ``ConfigError`` (naming ``field`` and how to install
        it) when the voice is not there."""
        ...

    async def asynthesize(self, requests: Sequence[SpeechRequest]) -> list[Speech]:
        """One ``Speech`` per request, in order; failures are ``Speech``es with an error."""
        ...


BackendFactory = Callable[["TTSConfig"], SpeechBackend]
_BACKENDS: dict[str, BackendFactory] = {}


def register_tts_backend(name: str) -> Callable[[BackendFactory], BackendFactory]:
    def add(factory: BackendFactory) -> BackendFactory:
        _BACKENDS[name] = factory
        return factory

    return add


def make_tts_backend(config: "TTSConfig") -> SpeechBackend:
    from speechsift.tts import espeak, openai_speech, piper  # noqa: F401  (registration)

    try:
        factory = _BACKENDS[config.backend]
    except KeyError:
        raise ConfigError(f"tts.backend: unknown backend {config.backend!r}; choose one of "
                          f"{', '.join(sorted(_BACKENDS))}.") from None
    return factory(config)


def make_voices(config: "TTSConfig", backend: SpeechBackend) -> list["Voice"]:
    """The recipe's pool (or the backend's default one), every voice checked to be installed."""
    from speechsift.recipe import TTSVoice
    from speechsift.tts.voices import ESPEAK_DEFAULT_VOICES, PIPER_DEFAULT_VOICES, resolve_voice

    if config.voices:
        entries = [(voice, f"tts.voices[{i}]") for i, voice in enumerate(config.voices)]
    else:
        defaults = {"espeak": ESPEAK_DEFAULT_VOICES, "piper": PIPER_DEFAULT_VOICES}.get(config.backend)
        if not defaults:
            raise ConfigError(f"tts.voices: the {config.backend} backend has no default voices; list the "
                              "server's voices, e.g. `voices: [{voice: alloy, language: en, gender: female}]`.")
        entries = [(TTSVoice(**voice), f"tts.voices (the {config.backend} default {voice['name']})")
                   for voice in defaults]
    return [resolve_voice(voice, config.backend, backend.resolve(voice, field)) for voice, field in entries]


__all__ = ["CACHE_VERSION", "Speech", "SpeechBackend", "SpeechRequest", "make_tts_backend", "make_voices",
           "register_tts_backend"]
