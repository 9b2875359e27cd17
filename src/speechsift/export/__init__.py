"""Writers of the release: Parquet (``parquet``), the JSONL exports (``JSONL_EXPORTS``, by their
name in ``output.formats``), the dataset card (``card``)."""

from __future__ import annotations

from speechsift.export.desta_jsonl import DestaExport
from speechsift.export.jsonl import ExportCounts, JsonlExport
from speechsift.export.messages import MessagesExport
from speechsift.export.sift_jsonl import SiftJsonlExport

JSONL_EXPORTS: dict[str, JsonlExport] = {e.name: e for e in (SiftJsonlExport(), MessagesExport(), DestaExport())}

__all__ = ["JSONL_EXPORTS", "ExportCounts", "JsonlExport"]
