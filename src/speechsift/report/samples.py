"""The sample browser's data: which examples to show, read in full, and their audio as files.

Each task's examples are sampled at random with the report's seed; only the sampled rows are read
again with every column (the audio bytes included). Their audio is written to
``OUT/report/audio/<id>.<ext>`` (``<id>-<k>.<ext>`` for multi-clip examples) and referenced by a
relative URL, so the report folder is self-contained: it can be zipped, copied, or opened from disk.
Audio a browser cannot play (AIFF, NIST SPHERE, ...) is re-encoded as FLAC with soundfile.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile as sf

log = logging.getLogger(__name__)

# Containers Chromium, Firefox and Safari play natively (MDN, "Media container formats").
BROWSER_PLAYABLE = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".webm"})
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
SAMPLE_COLUMNS = (
    "id",
    "task",
    "source",
    "language",
    "split",
    "clip_ids",
    "audio",
    "audios",
    "instruction",
    "response",
    "meta",
    "speaker_id",
    "transcript",
    "duration_s",
    "generation",
    "quality",
)


@dataclass
class AudioFile:
    href: str | None  # URL relative to report/index.html; None when there is nothing to play
    note: str | None = None  # shown under the player: why it is missing, or what was converted


@dataclass
class Sample:
    record: dict[str, Any]
    audio: list[AudioFile]
    kept: bool = True
    reasons: list[str] = field(default_factory=list)


def sniff_extension(data: bytes) -> str | None:
    """The file type of encoded audio from its first bytes (None when unknown)."""
    head = data[:16]
    if head.startswith(b"fLaC"):
        return ".flac"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return ".wav"
    if head.startswith(b"OggS"):
        return ".ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ".mp3"
    if head[4:8] == b"ftyp":
        return ".m4a"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return ".webm"
    if head.startswith(b"FORM"):
        return ".aiff"
    if head.startswith(b"NIST_1A"):
        return ".sph"
    return None


def safe_stem(text: str) -> str:
    return _SAFE_NAME.sub("_", text).strip("._") or "example"


def _source_bytes(cell: dict[str, Any], out_dir: Path) -> tuple[bytes | None, str, str | None]:
    """(encoded bytes, file name, problem) of one audio cell: embedded bytes or the file it names."""
    name = cell.get("path") or ""
    if cell.get("bytes") is not None:
        return cell["bytes"], name, None
    if not name:
        return None, name, "no audio in this row"
    path = Path(name)
    if not path.is_absolute():
        path = out_dir / path
    try:
        return path.read_bytes(), name, None
    except OSError as error:
        return None, name, f"audio file not readable: {name} ({error.strerror or error})"


def write_audio(cell: dict[str, Any] | None, stem: str, audio_dir: Path, out_dir: Path) -> AudioFile:
    """Write one audio cell as ``audio_dir/<stem>.<ext>``; return its URL relative to the report."""
    if not cell:
        return AudioFile(None, "no audio in this row")
    data, name, problem = _source_bytes(cell, out_dir)
    if data is None:
        return AudioFile(None, problem)
    extension = sniff_extension(data) or Path(name).suffix.lower() or ".bin"
    note = None
    if extension not in BROWSER_PLAYABLE:
        try:
            wave, sr = sf.read(io.BytesIO(data), always_2d=True)
            buffer = io.BytesIO()
            sf.write(buffer, wave, sr, format="FLAC")
            data, note = buffer.getvalue(), f"converted from {extension} to FLAC for the browser"
            extension = ".flac"
        except (sf.SoundFileError, RuntimeError, ValueError) as error:
            log.warning("audio of %s (%s) cannot be converted for the browser: %s", stem, extension, error)
            note = f"{extension} may not play in a browser"
    target = audio_dir / f"{stem}{extension}"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return AudioFile(f"{audio_dir.name}/{target.name}", note)


def audio_cells(record: dict[str, Any]) -> list[dict[str, Any] | None]:
    """The row's audio cells: the ``audio`` struct, or each of the ``audios`` list."""
    if record.get("audios") is not None:
        return list(record["audios"]) or [None]
    return [record.get("audio")]


def materialize(records: list[dict[str, Any]], audio_dir: Path, out_dir: Path) -> list[list[AudioFile]]:
    """Write every sampled record's audio; return the files per record."""
    files = []
    for record in records:
        cells = audio_cells(record)
        stem = safe_stem(str(record.get("id") or "example"))
        if len(cells) == 1:
            files.append([write_audio(cells[0], stem, audio_dir, out_dir)])
        else:
            files.append([write_audio(cell, f"{stem}-{k}", audio_dir, out_dir) for k, cell in enumerate(cells)])
    return files
