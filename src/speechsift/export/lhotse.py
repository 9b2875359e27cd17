"""Clips as lhotse manifests, written as their JSON(L) formats: ``lhotse`` is not needed.

Writing (``write_lhotse``): clips -> ``recordings``, ``supervisions`` and ``cuts`` manifests
(``.jsonl.gz``), one recording per audio file (its header probed for rate, length and channels),
one supervision and one MonoCut per clip. Raw labels other than gender, the normalized ``meta``,
``features``, ``extra`` and the clip's ``source`` go to ``custom``, so ``read_lhotse`` gives the
same clips back. Lhotse's own ``CutSet.from_file`` / ``RecordingSet.from_file`` load the output.

The formats follow lhotse's ``to_dict``/``from_dict`` (lhotse 1.x): Recording ``{id, sources:
[{type, channels, source}], sampling_rate, num_samples, duration, channel_ids}``,
SupervisionSegment ``{id, recording_id, start, duration, channel, text, language, speaker, gender,
custom, alignment}``, MonoCut ``{id, start, duration, channel, supervisions, recording, custom,
type: "MonoCut"}`` with supervision times relative to the cut.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsift.audio import probe
from speechsift.errors import AudioLoadError
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.lhotse_io import RESERVED

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class LhotseManifests:
    """What ``write_lhotse`` wrote: the manifest paths, counts, and the clips it could not write."""

    recordings: Path
    supervisions: Path
    cuts: Path | None
    num_recordings: int = 0
    num_supervisions: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


class _GzipJsonl:
    """A deterministic .jsonl.gz writer (no timestamp in the gzip header), written to a temp name first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        self._raw = self.partial.open("wb")
        self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)

    def write(self, item: dict[str, Any]) -> None:
        self._gzip.write(json.dumps(item, ensure_ascii=False).encode("utf-8") + b"\n")

    def close(self) -> None:
        self._gzip.close()
        self._raw.close()
        os.replace(self.partial, self.path)


def _suffix_of(data: bytes) -> str:
    if data[:4] == b"RIFF":
        return ".wav"
    if data[:4] == b"fLaC":
        return ".flac"
    if data[:4] == b"OggS":
        return ".ogg"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return ".mp3"
    return ".bin"


def _jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it (NaN and infinities as None; other objects as text)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def _custom(clip: Clip) -> dict[str, Any]:
    custom: dict[str, Any] = {"source": clip.source}
    for label, value in clip.raw.items():
        if label != "gender":
            custom[label] = value
    if clip.meta:
        custom["meta"] = dict(clip.meta)
    if clip.features:
        custom["features"] = dict(clip.features)
    clashing = {k: v for k, v in clip.extra.items() if k in RESERVED}
    custom.update({k: v for k, v in clip.extra.items() if k not in RESERVED})
    if clashing:
        custom["extra"] = clashing
    return _jsonable(custom)


def write_lhotse(
    clips: Iterable[Clip],
    out_dir: str | Path,
    *,
    prefix: str = "",
    cuts: bool = True,
    audio_dir: str | Path | None = None,
) -> LhotseManifests:
    """Write clips as lhotse manifests: ``<prefix>recordings.jsonl.gz``, ``<prefix>supervisions.jsonl.gz``
    and (``cuts=True``) ``<prefix>cuts.jsonl.gz`` in ``out_dir``.

    Each distinct audio file is one recording (its header is probed); each clip one supervision and
    one cut over its window. Clips whose audio is embedded bytes are written out as files under
    ``audio_dir`` (required for them); clips whose audio cannot be probed are not written and come
    back in ``rejected``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = LhotseManifests(out / f"{prefix}recordings.jsonl.gz", out / f"{prefix}supervisions.jsonl.gz",
                             out / f"{prefix}cuts.jsonl.gz" if cuts else None)
    recordings_out = _GzipJsonl(result.recordings)
    supervisions_out = _GzipJsonl(result.supervisions)
    cuts_out = _GzipJsonl(result.cuts) if result.cuts is not None else None
    by_path: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    try:
        for clip in clips:
            file_path = clip.audio.path
            if clip.audio.bytes is not None:
                if audio_dir is None:
                    result.rejected.append(RejectedRow(clip.clip_id, clip.source, "embedded_audio",
                                                       f"{clip.clip_id}: the audio is embedded bytes; pass audio_dir= to write it out"))
                    continue
                target_dir = Path(audio_dir)
                target_dir.mkdir(parents=True, exist_ok=True)
                target = target_dir / f"{_UNSAFE.sub('_', clip.clip_id)}{_suffix_of(clip.audio.bytes)}"
                if not target.is_file():
                    target.write_bytes(clip.audio.bytes)
                file_path = str(target)
            if not file_path:
                result.rejected.append(RejectedRow(clip.clip_id, clip.source, "missing_audio", f"{clip.clip_id}: no audio path"))
                continue
            recording = by_path.get(file_path)
            if recording is None:
                try:
                    info = probe(AudioRef(file_path))
                except AudioLoadError as exc:
                    result.rejected.append(RejectedRow(clip.clip_id, clip.source, exc.reason, str(exc)))
                    continue
                rec_id = _UNSAFE.sub("_", Path(file_path).name.split(".")[0]) or "recording"
                if rec_id in used_ids:
                    n = 2
                    while f"{rec_id}-{n}" in used_ids:
                        n += 1
                    rec_id = f"{rec_id}-{n}"
                used_ids.add(rec_id)
                recording = {
                    "id": rec_id,
                    "sources": [{"type": "file", "channels": list(range(info.channels)), "source": file_path}],
                    "sampling_rate": info.sampling_rate,
                    "num_samples": info.frames,
                    "duration": info.frames / info.sampling_rate,
                    "channel_ids": list(range(info.channels)),
                }
                by_path[file_path] = recording
                recordings_out.write(recording)
                result.num_recordings += 1
            whole = recording["duration"]
            start = float(clip.audio.offset_s or 0.0)
            duration = float(clip.audio.duration_s) if clip.audio.duration_s is not None else max(0.0, whole - start)
            channels = recording["channel_ids"]
            channel: int | list[int] = clip.audio.channel if clip.audio.channel is not None else (
                0 if len(channels) == 1 else list(channels))
            gender = clip.raw.get("gender") or clip.meta.get("gender")
            supervision = {
                "id": clip.clip_id,
                "recording_id": recording["id"],
                "start": start,
                "duration": duration,
                "channel": channel,
                "text": clip.text,
                "language": clip.language,
                "speaker": clip.speaker_id,
                "gender": gender,
                "custom": _custom(clip),
            }
            supervision = {k: v for k, v in supervision.items() if v is not None}
            supervisions_out.write(supervision)
            result.num_supervisions += 1
            if cuts_out is not None:
                cuts_out.write({
                    "id": clip.clip_id,
                    "start": start,
                    "duration": duration,
                    "channel": channel,
                    "supervisions": [{**supervision, "start": 0.0}],
                    "recording": recording,
                    "type": "MonoCut" if isinstance(channel, int) else "MultiCut",
                })
    finally:
        for writer in (recordings_out, supervisions_out, cuts_out):
            if writer is not None:
                writer.close()
    return result


__all__ = ["LhotseManifests", "write_lhotse"]
