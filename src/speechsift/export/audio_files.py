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
import posixpath
from pathlib import Path, PurePath

from speechsift import audio
from speechsift.layout import OutputLayout
from speechsift.records import AudioRef
from speechsift.storage import OutPath


def _windowed(ref: AudioRef) -> bool:
    return bool(ref.offset_s) or ref.duration_s is not None or ref.channel is not None


def needs_materializing(ref: AudioRef) -> bool:
    """True when no file holds exactly this clip: embedded bytes, or a window or channel of a file."""
    return _windowed(ref) or ref.bytes is not None or not ref.path


def _encoded_suffix(ref: AudioRef) -> str:
    """The file type ``audio.encoded`` gives the clip: FLAC for a window, else the source's."""
    return ".flac" if _windowed(ref) or not ref.path else (Path(ref.path).suffix or ".flac")


class AudioPaths:
    """Where the exports of one run find each clip's audio file; each file is made once, through
    the layout's storage (so OUT may be an object store)."""

    def __init__(self, layout: OutputLayout, *, copy: bool = False) -> None:
        self.layout = layout
        self.copy = copy
        self.root = layout.root
        self.storage = layout.storage
        # a local OUT as the OS resolves it, to tell the source files that lie inside it
        self._resolved = None if layout.remote else Path(layout.root).resolve()
        self._work = None if layout.remote else Path(layout.work).resolve()
        self._files: dict[tuple, OutPath] = {}
        self._made: set[str] = set()  # the files under OUT/audio/ this run references
        self._references: dict[tuple, str] = {}  # (clip key, export root) -> the path written
        self._folders: dict[str, Path] = {}  # a source folder -> the folder resolved
        self._ups: dict[str, str] = {}  # an export root -> the way up from it to OUT
        self._prefix = PurePath(self.root).as_posix().rstrip("/") + "/"  # a path of OUT starts so

    @property
    def written(self) -> list[OutPath]:
        """The files under ``OUT/audio/`` this run references (the others there are stale)."""
        return [path for path in self._files.values() if str(path) in self._made]

    @staticmethod
    def _key(ref: AudioRef) -> tuple:
        digest = hashlib.sha1(ref.bytes).hexdigest() if ref.bytes is not None else None
        return (ref.path, ref.offset_s, ref.duration_s, ref.channel, digest)

    def file(self, ref: AudioRef, key: tuple | None = None) -> OutPath:
        """A file holding exactly this clip's audio: a path of OUT, or an absolute local path."""
        key = key or self._key(ref)
        path = self._files.get(key)
        if path is None:
            path = self._files[key] = self._make(ref, "|".join(map(str, key)))
        return path

    def _inside(self, source: Path) -> OutPath | None:
        """The OUT path of a local source file inside a local OUT (not its resume state), or None."""
        if self._resolved is None or not source.is_relative_to(self._resolved) or source.is_relative_to(self._work):
            return None  # (synthesized speech under .work/, resume state, is copied too)
        return self.root / source.relative_to(self._resolved)

    def _make(self, ref: AudioRef, key: str) -> OutPath:
        if needs_materializing(ref):
            target = self._target(key, _encoded_suffix(ref))
            if not self.storage.is_file(target):
                data, _name = audio.encoded(ref)
                self.storage.write_bytes(target, data)
            self._made.add(str(target))
            return target
        source = self._resolve(ref.path)  # type: ignore[arg-type]
        inside = self._inside(source)
        if inside is not None or not self.copy:
            return inside if inside is not None else source
        stat = source.stat()
        target = self._target(f"{source}|{stat.st_size}|{stat.st_mtime_ns}", source.suffix)
        if not self.storage.is_file(target):
            self.storage.copy_in(source, target)
        self._made.add(str(target))
        return target

    def _resolve(self, path: str) -> Path:
        """``Path(path).resolve()``, each folder resolved once (a corpus has many files in few folders)."""
        if os.path.islink(path):
            return Path(path).resolve()
        folder, name = os.path.split(os.path.abspath(path))
        resolved = self._folders.get(folder)
        if resolved is None:
            resolved = self._folders[folder] = Path(folder).resolve()
        return resolved / name

    def _target(self, key: str, suffix: str) -> OutPath:
        return self.layout.audio / f"{hashlib.sha1(key.encode()).hexdigest()[:20]}{suffix}"

    def _up(self, root: OutPath) -> str:
        """The way from the folder ``root`` of OUT up to OUT (``../..``), worked out once per root."""
        up = self._ups.get(str(root))
        if up is None:
            up = self._ups[str(root)] = posixpath.relpath(PurePath(self.root).as_posix(), PurePath(root).as_posix())
        return up

    def reference(self, ref: AudioRef, root: OutPath) -> str:
        """The path an export rooted at ``root`` (a folder of OUT) writes: relative to ``root`` for a
        file inside OUT (POSIX separators), absolute otherwise. Worked out once per clip and root."""
        key = self._key(ref)
        found = self._references.get((key, str(root)))
        if found is None:
            path = str(self.file(ref, key))
            inside = path.startswith(self._prefix)
            found = posixpath.normpath(posixpath.join(self._up(root), path[len(self._prefix):])) if inside else path
            self._references[(key, str(root))] = found
        return found
