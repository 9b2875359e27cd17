"""SAVEE: the Surrey Audio-Visual Expressed Emotion database (Haq & Jackson, University of Surrey, 2009).

Source: http://kahlan.eps.surrey.ac.uk/savee/ (registration; also mirrored on Kaggle as ``ALL/``).
Licence: free for research use on the terms of the SAVEE download page (no open licence).
Speech: British English; four male speakers (DC, JE, JK, KL, aged 27-31), 15 TIMIT sentences per
emotion (30 neutral): 120 clips per speaker.
Labels: emotion from the file-name code (a anger, d disgust, f fear, h happiness, n neutral,
sa sadness, su surprise), gender male for every speaker. The text is read only from a transcript
file of lines ``<code><number> <sentence>`` (``a01 ...``, or per speaker ``DC_a01 ...``) when one
is present; the audio download holds none, so clips otherwise have no text.

Layout::

    AudioData/DC/a01.wav ... su15.wav   JE/  JK/  KL/        # the original download
    ALL/DC_a01.wav ...                                        # the Kaggle copy (flat)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import (
    check_root,
    make_clip,
    read_text,
    reject,
    require_some,
    scan_dirs,
    scan_files,
    wrong_root,
)

NAME = "savee"
TITLE = "SAVEE"
log = logging.getLogger(__name__)

SPEAKERS = ("DC", "JE", "JK", "KL")
# Emotion codes (the database description) and how many sentences each has; labels/tables.py
# maps the codes (a -> angry, sa -> sad, su -> surprise, ...).
EMOTIONS = {"a": 15, "d": 15, "f": 15, "h": 15, "n": 30, "sa": 15, "su": 15}

_CODE = r"(a|d|f|h|n|sa|su)(\d\d)"
_FILE = re.compile(rf"^(?:(DC|JE|JK|KL)_)?{_CODE}$")
_LOOSE = re.compile(r"^(?:([A-Z]{2})_)?([a-z]+)(\d+)$")
_TRANSCRIPT = re.compile(rf"^\s*(?:(DC|JE|JK|KL)[_\s]?)?{_CODE}\b[\s:,.\t-]+(\S.*?)\s*$")


def _audio_folders(root: Path) -> list[tuple[str | None, Path]] | None:
    """``(speaker or None for a flat folder, folder)`` pairs, or None when ``root`` is not SAVEE."""
    base = root / "AudioData" if (root / "AudioData").is_dir() else root
    speakers = [(d.name, Path(d.path)) for d in scan_dirs(base) if d.name in SPEAKERS]
    if speakers:
        return speakers
    flat = base / "ALL" if (base / "ALL").is_dir() else base
    if any(_FILE.match(e.name[:-4]) and e.name[:2] in SPEAKERS for e in scan_files(flat, (".wav",))):
        return [(None, flat)]
    return None


def _transcripts(root: Path, folders: list[tuple[str | None, Path]]) -> dict[str, str]:
    """Sentence by ``a01`` (every speaker) or ``DC_a01`` (one speaker), from any text file that has such lines."""
    candidates = [root, root / "AudioData", *(folder for _, folder in folders)]
    texts: dict[str, str] = {}
    for folder in dict.fromkeys(candidates):
        if not folder.is_dir():
            continue
        for entry in scan_files(folder, (".txt",)):
            for line in read_text(Path(entry.path), ("utf-8-sig", "latin-1")).splitlines():
                match = _TRANSCRIPT.match(line)
                if match:
                    speaker, code, number, sentence = match.groups()
                    texts[f"{speaker}_{code}{number}" if speaker else f"{code}{number}"] = sentence
    return texts


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="research use, SAVEE terms (no open licence)",
    layout="AudioData/<DC|JE|JK|KL>/<code><nn>.wav (or the flat Kaggle ALL/<spk>_<code><nn>.wav); optional transcript .txt",
    labels={"emotion": tuple(EMOTIONS), "gender": ("male",)},
    homepage="http://kahlan.eps.surrey.ac.uk/savee/",
)
def read_savee(root: Path, *, source: str = NAME) -> Iterator[Clip | RejectedRow]:
    """Clips of SAVEE unpacked at ``root``.

    Args:
        root: the folder holding ``AudioData/`` (or the speaker folders, or the flat ``ALL/``).
        source: the clips' source name and id prefix.
    """
    root = check_root(root, TITLE)
    folders = _audio_folders(root)
    if folders is None:
        raise wrong_root(TITLE, root, "AudioData/DC, JE, JK, KL folders of files like a01.wav (or ALL/DC_a01.wav)",
                         lambda p: _audio_folders(p) is not None)
    texts = _transcripts(root, folders)
    if not texts:
        log.info("%s: no transcript file under %s; clips have no text", TITLE, root)
    return require_some(_clips(folders, texts, source), f"{TITLE}: no files in the speaker folders under {root}.")


def _clips(folders: list[tuple[str | None, Path]], texts: dict[str, str], source: str) -> Iterator[Clip | RejectedRow]:
    seen: set[str] = set()
    for folder_speaker, folder in folders:
        files = scan_files(folder)
        if not files:
            yield reject(source, folder.name, "empty_folder", f"{folder}: the speaker folder holds no files")
            continue
        for entry in files:
            stem, _, ext = entry.name.rpartition(".")
            if ext.lower() != "wav":
                if ext.lower() != "txt":
                    yield reject(source, entry.name, "unexplained_file", f"{entry.path}: not a SAVEE .wav file")
                continue
            match = _FILE.match(stem)
            if match is None:
                loose = _LOOSE.match(stem)
                if loose:
                    reason = "unknown_code"
                    detail = (f"the code {loose.group(2)!r} or number is outside SAVEE's {', '.join(EMOTIONS)} "
                              "with numbers 01-15 (n: 01-30)")
                else:
                    reason, detail = "unexplained_file", "the name is not <code><nn>.wav"
                yield reject(source, f"{folder_speaker or ''}_{stem}".lstrip("_"), reason, f"{entry.path}: {detail}")
                continue
            name_speaker, code, number = match.groups()
            speaker = folder_speaker or name_speaker
            native_id = f"{speaker}_{code}{number}"
            if speaker is None or (folder_speaker and name_speaker and name_speaker != folder_speaker):
                yield reject(source, native_id, "mismatched_speaker",
                             f"{entry.path}: the speaker is not one of {', '.join(SPEAKERS)} or disagrees with the folder")
                continue
            if not 1 <= int(number) <= EMOTIONS[code]:
                yield reject(source, native_id, "unknown_code",
                             f"{entry.path}: sentence {number} is outside {code}01-{code}{EMOTIONS[code]:02d}")
                continue
            seen.add(native_id)
            yield make_clip(
                source, native_id, entry.path, language="en", speaker=speaker,
                text=texts.get(native_id) or texts.get(f"{code}{number}"),
                raw={"emotion": code, "gender": "male"}, extra={"sentence_code": f"{code}{number}"},
            )
    for key in sorted(k for k in texts if "_" in k and k not in seen):
        yield reject(source, key, "missing_audio", f"a transcript line names {key}, but no such audio file was found")
