"""Sources: readers that yield Clips (and RejectedRows) from the recipe's ``sources`` entries."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.hf import read_hf
from speechsift.sources.ids import unique_clips
from speechsift.sources.manifest import read_manifest

if TYPE_CHECKING:
    from speechsift.recipe import Recipe, Source


def read_source(source: "Source") -> Iterator[Clip | RejectedRow]:
    """The reader for one recipe source entry."""
    if source.kind == "manifest":
        return read_manifest(source.path, source=source.name, language=source.language, fields=source.fields,
                             encoding=source.encoding, delimiter=source.delimiter)
    if source.kind == "corpus":
        from speechsift.sources.corpora import read_corpus

        return read_corpus(source.corpus or source.name, source.root, source=source.name, **source.options)
    if source.kind == "lhotse":
        from speechsift.sources.lhotse_io import read_lhotse

        return read_lhotse(source.path, supervisions=source.supervisions, source=source.name, language=source.language)
    if source.kind == "hf" and source.preset is not None:
        from speechsift.sources.presets import read_preset

        return read_preset(
            source.preset, split=source.split, source=source.name, dataset=source.dataset, path=source.path,
            config=source.config, language=source.language, fields=source.fields,
        )
    if source.kind == "hf":
        return read_hf(
            source=source.name,
            path=source.path,
            dataset=source.dataset,
            config=source.config,
            split=source.split,
            language=source.language,
            audio_column=source.audio_column,
            fields=source.fields,
        )
    if source.kind == "text":
        from speechsift.sources.text import read_text

        return read_text(source=source.name, path=source.path, dataset=source.dataset, config=source.config,
                         split=source.split, language=source.language, fields=source.fields,
                         encoding=source.encoding, delimiter=source.delimiter)
    raise AssertionError(f"unhandled source kind {source.kind}")  # the recipe model admits no other


def read_sources(recipe: "Recipe") -> Iterator[Clip | RejectedRow]:
    """Every source of the recipe, in order, with each clip id once (``ids.unique_clips``).

    Every source is opened first, so that a missing or empty manifest, or one without an audio
    column, stops the run before any work, not after the sources before it.
    """
    readers = [read_source(source) for source in recipe.sources]
    return unique_clips(itertools.chain.from_iterable(readers))


__all__ = ["RejectedRow", "read_hf", "read_manifest", "read_source", "read_sources", "unique_clips"]
