"""One exception tree for the whole package.

Callers decide by type, never by message text: a ``ConfigError`` stops a run before it starts, a
``RetryableGenerationError`` is retried, a ``PermanentGenerationError`` becomes a reject.
"""

from __future__ import annotations


class SpeechsiftError(Exception):
    """Base of every error speechsift raises on purpose."""


class ConfigError(SpeechsiftError):
    """A recipe or command line that cannot run; the message names the file, the field and the fix."""


class StorageError(SpeechsiftError):
    """OUT cannot be written or read (a bucket that is not there, credentials that may not write, a
    full disk); the message names the file, the store's own words and what to check."""


class CorpusError(SpeechsiftError):
    """Input data that cannot be read as a whole (a missing manifest, a required column absent)."""


class AudioLoadError(SpeechsiftError):
    """One clip's audio cannot be read; ``reason`` is the reject code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class GenerationError(SpeechsiftError):
    """An LLM request failed."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RetryableGenerationError(GenerationError):
    """Worth trying again: timeouts, dropped connections, 408/409/429, 5xx."""


class PermanentGenerationError(GenerationError):
    """Will fail the same way again: other 4xx, a context too long, an unusable reply."""


class ServerUnreachableError(GenerationError):
    """The LLM server does not answer at all (refused, reset or silent connections, checked again
    with ``GET /models``): the run stops instead of spending every request's retries on it."""

    def __init__(self, message: str) -> None:
        super().__init__("server_unreachable", message)


class OutputLockedError(SpeechsiftError):
    """Another run holds the output folder's lock; the message names it (pid, host, start)."""


class StrictModeError(SpeechsiftError):
    """Raised under ``--strict`` at the first reject."""


class Reject(SpeechsiftError):
    """Raised by a stage for one record it refuses; the engine writes it to ``rejects.jsonl``.

    ``reason`` is a short snake_case code that run.json counts; ``message`` is for a person.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
