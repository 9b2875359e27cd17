"""Native corpus layouts: one module per corpus, each registered here by ``@register_corpus``.

A corpus module holds one reader, ``read_<name>(root, **options) -> Iterator[Clip | RejectedRow]``,
that walks the corpus as its distribution unpacks, maps its labels onto speechsift's fields and
never decodes audio. The registry keeps, per corpus, what a user (``speechsift corpora``) and the
recipe (``kind: corpus``) need: the reader, languages, licence, expected layout, label set and
homepage.

Entry points::

    read_corpus("ravdess", "/data/RAVDESS")                 # Iterator[Clip | RejectedRow]
    read_corpus("common_voice", root, splits=["train"])     # options go to the reader
    get_corpus("crema-d")                                    # CorpusInfo (aliases accepted)
    list_corpora()                                           # every CorpusInfo, by name
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsift.errors import ConfigError
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow

Reader = Callable[..., Iterator[Clip | RejectedRow]]


@dataclass(frozen=True, slots=True)
class CorpusInfo:
    """What the registry knows of one corpus.

    Attributes:
        name: the registry key and the default ``Clip.source`` (``crema_d``, ``ravdess``, ...).
        title: the corpus's own name, for people.
        reader: ``read_<name>(root, **options)``.
        languages: ISO 639-1 codes of the speech it holds.
        licence: the licence the distribution states (or the terms it is given under).
        layout: the folder layout the reader expects, in a line or two.
        labels: our field -> the values the corpus uses for it, as the corpus writes them.
        homepage: where to get it.
        aliases: other spellings ``get_corpus`` accepts.
    """

    name: str
    title: str
    reader: Reader
    languages: tuple[str, ...]
    licence: str
    layout: str
    labels: Mapping[str, tuple[str, ...]]
    homepage: str
    aliases: tuple[str, ...] = ()
    options: tuple[str, ...] = field(default=())

    def read(self, root: str | Path, **options: Any) -> Iterator[Clip | RejectedRow]:
        return read_corpus(self.name, root, **options)


CORPORA: dict[str, CorpusInfo] = {}
_ALIASES: dict[str, str] = {}


def _key(name: str) -> str:
    """Names compare without case, spaces, hyphens or underscores: CREMA-D == crema_d == cremad."""
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


def register_corpus(
    name: str,
    *,
    title: str,
    languages: tuple[str, ...],
    licence: str,
    layout: str,
    labels: Mapping[str, tuple[str, ...]],
    homepage: str,
    aliases: tuple[str, ...] = (),
) -> Callable[[Reader], Reader]:
    """Class-free registration: decorate a corpus module's reader with its facts."""

    def register(reader: Reader) -> Reader:
        if name in CORPORA:
            raise ValueError(f"corpus {name!r} is registered twice")
        params = inspect.signature(reader).parameters
        options = tuple(p for p, spec in params.items() if spec.kind is inspect.Parameter.KEYWORD_ONLY)
        CORPORA[name] = CorpusInfo(name, title, reader, languages, licence, layout, dict(labels), homepage,
                                   aliases, options)
        for alias in (name, title, *aliases):
            _ALIASES[_key(alias)] = name
        return reader

    return register


def get_corpus(name: str) -> CorpusInfo:
    """The corpus registered under ``name`` or one of its aliases; ConfigError listing the names otherwise."""
    _load_modules()
    found = _ALIASES.get(_key(name))
    if found is None:
        raise ConfigError(f"unknown corpus {name!r}; the corpora are {', '.join(sorted(CORPORA))}.")
    return CORPORA[found]


def list_corpora() -> list[CorpusInfo]:
    """Every registered corpus, sorted by name."""
    _load_modules()
    return [CORPORA[name] for name in sorted(CORPORA)]


def read_corpus(name: str, root: str | Path, **options: Any) -> Iterator[Clip | RejectedRow]:
    """Clips (and rejects) of corpus ``name`` unpacked at ``root``.

    ``options`` go to the corpus reader (``source=`` renames the clips' source and id prefix;
    each reader documents the rest). An option the reader does not take is a ConfigError that
    lists the ones it does; a layout that is not the corpus's is a CorpusError from the reader.
    """
    info = get_corpus(name)
    unknown = sorted(set(options) - set(info.options))
    if unknown:
        raise ConfigError(
            f"corpus {info.name}: unknown option(s) {', '.join(unknown)}; "
            f"it takes {', '.join(info.options) or 'none'}."
        )
    return info.reader(Path(root).expanduser(), **options)


_MODULES = (
    "crema_d", "ravdess", "tess", "savee", "esd", "common_voice", "vctk", "mls", "librispeech", "meld",
    "msp_podcast", "heysquad",
)
_loaded = False


def _load_modules() -> None:
    global _loaded
    if not _loaded:
        for module in _MODULES:
            importlib.import_module(f"{__name__}.{module}")
        _loaded = True


__all__ = ["CORPORA", "CorpusInfo", "get_corpus", "list_corpora", "read_corpus", "register_corpus"]
