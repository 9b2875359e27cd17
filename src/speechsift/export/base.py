"""What an export is: one format of ``output.formats``, registered under its name.

The assemble pass makes the exporters the recipe names (``make_exporters``) and hands each one
every part of the release as it goes: ``write_part(examples, layout, shard, audio)`` writes that
shard's kept examples (their split decided) and returns the files it wrote; ``close(layout,
assembly)`` writes what comes after the last part (a trainer's registration of the folders,
annotation pages) and returns those files. Exports that report rows per split and task and the
rows they leave out (the JSONL exports, for the card and ``run.json``) keep them in ``counts``.
Every file goes through ``layout.storage``, so OUT may be an object store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from speechsift.engine.assemble import Assembly
    from speechsift.export.audio_files import AudioPaths
    from speechsift.layout import OutputLayout
    from speechsift.recipe import Recipe
    from speechsift.records import Example
    from speechsift.storage import OutPath


class Exporter:
    """One export format; subclasses implement ``write_part`` (and ``close`` where they need it)."""

    name: ClassVar[str]  # the format's name in ``output.formats``
    counts: Any = None  # ``jsonl.ExportCounts`` for exports that report what they wrote and left out

    def __init__(self, recipe: "Recipe | None" = None) -> None:
        self.recipe = recipe

    def write_part(self, examples: list["Example"], layout: "OutputLayout", shard: int,
                   audio: "AudioPaths") -> list["OutPath"]:
        """Write one shard's examples; returns the files written."""
        raise NotImplementedError

    def merge(self, other: "Exporter") -> None:
        """Take in what this export's twin counted over other parts (the release writes its parts
        in several processes, each with its own exporters)."""
        if self.counts is not None and other.counts is not None:
            self.counts.rows.update(other.counts.rows)
            self.counts.left_out.update(other.counts.left_out)

    def close(self, layout: "OutputLayout", assembly: "Assembly") -> list["OutPath"]:
        """The files written after the last part; returns them."""
        return []


EXPORTERS: dict[str, type[Exporter]] = {}


def register_exporter(cls: type[Exporter]) -> type[Exporter]:
    """Add an export format under its ``name`` (a value of ``output.formats``)."""
    EXPORTERS[cls.name] = cls
    return cls


__all__ = ["EXPORTERS", "Exporter", "register_exporter"]
