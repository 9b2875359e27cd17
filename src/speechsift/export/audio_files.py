"""Audio as files on disk, for the exports that reference audio by path (the JSONL exports, and
Parquet with ``output.audio: path``).

A clip read from a whole file is referenced where it is. A clip that exists only as bytes (a hub
dataset), or as a window of a longer file (Lhotse cuts, a channel), is written once under
``OUT/audio/``; with ``output.copy_audio`` every other clip's file is put there too (hard-linked
where OUT is on the same filesystem, copied otherwise), synthesized speech under ``OUT/.work/``
included, which makes OUT without ``.work/`` a self-contained release.

A file inside OUT is referenced by a path relative to the export's root (the folder a trainer is
pointed at: LLaMA-Factory's ``media_dir``, DeSTA2.5's ``data_root``), so OUT can be moved or
copied to another machine; a file outside OUT keeps its absolute path.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from speechsift import audio
from speechsift.engine.layout import OutputLayout, atomic_write_bytes
from speechsift.records import AudioRef


def _windowed(ref: AudioRef) -> bool:
    return bool(ref.offset_s) or ref.duration_s is not None or ref.channel is not None


def needs_materializing(ref: AudioRef) -> bool:
    """True when no file holds exactly this clip: embedded bytes, or a window or channel of a file."""
    return _windowed(ref) or ref.bytes is not None or not ref.path


def _encoded_suffix(ref: AudioRef) -> str:
    """The file type ``audio.encoded`` gives the clip: FLAC for a window, else the source's."""
    return ".flac" if _windowed(ref) or not ref.path else (Path(ref.path).suffix or ".flac")


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` holding ``source``'s bytes, appearing whole (a hard link where possible)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:  # another filesystem, or links not allowed
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


class AudioPaths:
    """Where the exports of one run find each clip's audio file; each file is made once."""

    def __init__(self, layout: OutputLayout, *, copy: bool = False) -> None:
        self.layout = layout
        self.copy = copy
        self.root = layout.root.resolve()
        self._audio_dir = layout.audio.resolve()
        self._work = layout.work.resolve()
        self._files: dict[tuple, Path] = {}
        self._roots: dict[Path, Path] = {}

    @property
    def written(self) -> list[Path]:
        """The files under ``OUT/audio/`` this run references (the others there are stale)."""
        return [path for path in self._files.values() if path.parent == self._audio_dir]

    def file(self, ref: AudioRef) -> Path:
        """An absolute path to a file holding exactly this clip's audio."""
        digest = hashlib.sha1(ref.bytes).hexdigest() if ref.bytes is not None else None
        key = (ref.path, ref.offset_s, ref.duration_s, ref.channel, digest)
        path = self._files.get(key)
        if path is None:
            path = self._files[key] = self._make(ref, "|".join(map(str, key)))
        return path

    def _make(self, ref: AudioRef, key: str) -> Path:
        if needs_materializing(ref):
            target = self._target(key, _encoded_suffix(ref))
            if not target.exists():
                data, _name = audio.encoded(ref)
                atomic_write_bytes(target, data)
            return target
        source = Path(ref.path).resolve()  # type: ignore[arg-type]
        if not self.copy or (source.is_relative_to(self.root) and not source.is_relative_to(self._work)):
            return source  # (synthesized speech under .work/, resume state, is copied too)
        stat = source.stat()
        target = self._target(f"{source}|{stat.st_size}|{stat.st_mtime_ns}", source.suffix)
        if not target.exists():
            _link_or_copy(source, target)
        return target

    def _target(self, key: str, suffix: str) -> Path:
        return self._audio_dir / f"{hashlib.sha1(key.encode()).hexdigest()[:20]}{suffix}"

    def reference(self, ref: AudioRef, root: Path) -> str:
        """The path an export rooted at ``root`` writes: relative to ``root`` for a file inside OUT
        (POSIX separators), absolute otherwise."""
        path = self.file(ref)
        if not path.is_relative_to(self.root):
            return str(path)
        resolved = self._roots.get(root)
        if resolved is None:
            resolved = self._roots[root] = root.resolve()
        return Path(os.path.relpath(path, resolved)).as_posix()
