"""Audio as files on disk, for the formats that reference audio by path (JSONL exports).

A clip read from a file is referenced where it is. A clip that exists only as bytes (a hub
dataset), or as a window of a longer file, is written once under ``OUT/audio/``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from speechsift import audio
from speechsift.engine.layout import OutputLayout, atomic_write_bytes
from speechsift.records import AudioRef


def needs_materializing(ref: AudioRef) -> bool:
    windowed = bool(ref.offset_s) or ref.duration_s is not None or ref.channel is not None
    return windowed or ref.bytes is not None or not ref.path


def audio_file(ref: AudioRef, layout: OutputLayout) -> str:
    """An absolute path to a file holding exactly this clip's audio."""
    if not needs_materializing(ref):
        return str(Path(ref.path).resolve())  # type: ignore[arg-type]
    key = f"{ref.path}|{ref.offset_s}|{ref.duration_s}|{ref.channel}"
    if ref.bytes is not None:
        key += "|" + hashlib.sha1(ref.bytes).hexdigest()
    data, name = audio.encoded(ref)
    suffix = Path(name).suffix or ".flac"
    target = layout.audio / f"{hashlib.sha1(key.encode()).hexdigest()[:20]}{suffix}"
    if not target.exists():
        atomic_write_bytes(target, data)
    return str(target.resolve())
