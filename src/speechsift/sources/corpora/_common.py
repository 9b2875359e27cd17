"""What the corpus readers share: building a Clip from labels, rejects, finding the corpus root.

Readers give raw labels keyed by our field names, with the values the normalization tables
(``labels/tables.py``) understand; they stay raw here: the pipeline normalizes every source's labels
once, in its ``normalize`` stage (``labels.with_labels``).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from speechsift.errors import CorpusError
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import RejectedRow

# How deep below a wrong root we look for the folder the user meant (an archive's parent holds the
# corpus one or two levels down: cv-corpus-17.0-2024-03-15/en, LibriSpeech/train-clean-100).
SEARCH_DEPTH = 3
# Folders never worth descending into while looking for a corpus root.
_SKIP_DIRS = frozenset({"__MACOSX", ".git", ".cache", "__pycache__"})


def make_clip(
    source: str,
    native_id: str,
    path: str,
    *,
    language: str | None,
    speaker: str | None = None,
    text: str | None = None,
    raw: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
    audio: AudioRef | None = None,
) -> Clip:
    """A Clip with its raw labels (empty values left out); ``meta`` is filled by normalization."""
    raw = {k: v for k, v in (raw or {}).items() if v is not None and v != ""}
    return Clip(
        f"{source}/{native_id}",
        source,
        audio if audio is not None else AudioRef(path),
        language,
        speaker,
        text,
        raw,
        {},
        {},
        extra or {},
    )


def reject(source: str, native_id: str, reason: str, message: str) -> RejectedRow:
    return RejectedRow(f"{source}/{native_id}", source, reason, message)


def check_root(root: Path, title: str) -> Path:
    """``root`` as an existing folder, or a CorpusError saying what was given."""
    if not root.exists():
        raise CorpusError(f"{title}: {root} does not exist; give the folder the corpus was unpacked into.")
    if not root.is_dir():
        raise CorpusError(f"{title}: {root} is a file; give the folder the corpus was unpacked into.")
    return root


def find_below(root: Path, match: Callable[[Path], bool], depth: int = SEARCH_DEPTH) -> Path | None:
    """The shallowest folder under ``root`` (``root`` excluded) for which ``match`` holds, or None."""
    level = [root]
    for _ in range(depth):
        following: list[Path] = []
        for folder in level:
            try:
                children = sorted(
                    (Path(e.path) for e in os.scandir(folder) if e.is_dir() and e.name not in _SKIP_DIRS),
                    key=lambda p: p.name,
                )
            except OSError:
                continue
            for child in children:
                if match(child):
                    return child
            following.extend(children)
        level = following
    return None


def wrong_root(title: str, root: Path, expected: str, match: Callable[[Path], bool]) -> CorpusError:
    """The error for a root that is not the corpus's: what was expected there, and where it is if we see it."""
    found = find_below(root, match)
    hint = f" It looks like the corpus is at {found}: use that folder." if found is not None else ""
    return CorpusError(f"{title}: {root} is not the corpus folder: expected {expected}.{hint}")


def scan_files(folder: Path, suffixes: Iterable[str] | None = None) -> list[os.DirEntry]:
    """The plain files in ``folder`` (sorted by name), optionally only those with one of ``suffixes``."""
    wanted = tuple(s.lower() for s in suffixes) if suffixes else None
    with os.scandir(folder) as entries:
        files = [e for e in entries if e.is_file() and not e.name.startswith(".")]
    if wanted is not None:
        files = [e for e in files if e.name.lower().endswith(wanted)]
    files.sort(key=lambda e: e.name)
    return files


def scan_dirs(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        dirs = [e for e in entries if e.is_dir() and not e.name.startswith(".") and e.name not in _SKIP_DIRS]
    dirs.sort(key=lambda e: e.name)
    return dirs


def walk_files(root: Path, suffixes: Iterable[str]) -> Iterator[Path]:
    """Every file under ``root`` with one of ``suffixes`` (case-insensitive), in a stable order."""
    wanted = tuple(s.lower() for s in suffixes)
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.lower().endswith(wanted) and not name.startswith("."):
                yield Path(folder) / name


def read_text(path: Path, encodings: tuple[str, ...] = ("utf-8-sig",)) -> str:
    """A small text file, trying ``encodings`` in order; UTF-16 is recognized by its byte-order mark.

    The last encoding given should accept any bytes (latin-1) when a corpus is known to mix them.
    """
    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{path}: starts with a UTF-16 byte-order mark but is not UTF-16 ({exc}).") from None
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CorpusError(f"{path}: not readable as {' or '.join(encodings)}.")


class WarnOnce:
    """Warn once per cause on a named logger; count the rest and report the totals at the end."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.counts: Counter[str] = Counter()

    def __call__(self, cause: str, message: str) -> None:
        self.counts[cause] += 1
        if self.counts[cause] == 1:
            self.logger.warning("%s (further cases of %s are counted, not logged)", message, cause)

    def summary(self) -> None:
        for cause, count in self.counts.items():
            if count > 1:
                self.logger.warning("%s: %d cases in all", cause, count)


def require_some(items: Iterator[Clip | RejectedRow], error: str) -> Iterator[Clip | RejectedRow]:
    """``items`` unchanged; a CorpusError with ``error`` when there are none at all (an empty corpus).

    A corpus whose every file was rejected is not empty: its rejects say why.
    """
    empty = True
    for item in items:
        empty = False
        yield item
    if empty:
        raise CorpusError(error)
