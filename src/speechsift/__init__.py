"""speechsift: instruction fine-tuning data for speech-text LLMs, from speech corpora."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("speechsift")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from speechsift.errors import ConfigError, CorpusError, SpeechsiftError  # noqa: E402
from speechsift.recipe import Recipe, load_recipe  # noqa: E402
from speechsift.records import AudioRef, Clip, Example, Message, Part  # noqa: E402

__all__ = [
    "AudioRef",
    "Clip",
    "ConfigError",
    "CorpusError",
    "Example",
    "Message",
    "Part",
    "Recipe",
    "SpeechsiftError",
    "__version__",
    "load_recipe",
]
