"""Writers of the release: one registered ``Exporter`` per value of ``output.formats``
(``export/base.py``): ``parquet``, the JSONL exports (``sift_jsonl``, ``messages``,
``desta_jsonl``), the preference exports (``dpo_llamafactory``, ``dpo_trl``) and ``annotation``;
and the dataset card (``card``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

# imported for their @register_exporter
from speechsift.export import annotation, desta_jsonl, dpo, messages, parquet, sift_jsonl  # noqa: F401
from speechsift.export.base import EXPORTERS, Exporter, register_exporter
from speechsift.export.jsonl import ExportCounts, JsonlExport

if TYPE_CHECKING:
    from speechsift.recipe import Recipe


def make_exporters(recipe: "Recipe") -> list[Exporter]:
    """The exporters of the recipe's ``output.formats``, in that order."""
    return [EXPORTERS[name](recipe) for name in recipe.output.formats]


def export_formats() -> tuple[str, ...]:
    """Every format ``output.formats`` accepts."""
    return tuple(EXPORTERS)


__all__ = ["EXPORTERS", "ExportCounts", "Exporter", "JsonlExport", "export_formats", "make_exporters",
           "register_exporter"]
