"""MSP-Podcast: emotional speech from podcast recordings (Lotfian & Busso, IEEE TAC 2019), releases 1.x.

Source: https://www.lab-msp.com/MSP/MSP-Podcast.html (UT Dallas MSP lab; by licence agreement).
Licence: academic licence agreement with UT Dallas (commercial licence separate); not redistributable.
Speech: English podcast speaking turns (~200k in release 1.12).
Labels: from ``Labels/labels_consensus.csv``: EmoClass, the consensus category as a letter
(A angry, S sad, H happy, U surprise, F fear, D disgust, C contempt, N neutral, O other,
X no agreement), Gender (Male/Female/Unknown), SpkrID, Split_Set, and the dimensional scores
EmoAct/EmoVal/EmoDom (arousal, valence, dominance, 1-7; to ``extra``). C, O and X have no
counterpart in speechsift's seven emotions: they stay in ``raw`` (and are counted as unknown
labels by the pipeline), and the letter is always in ``extra["emotion_class"]``.

Layout::

    MSP-Podcast/
      Audios/MSP-PODCAST_0001_0008.wav
      Labels/labels_consensus.csv    # FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set
      Transcripts/MSP-PODCAST_0001_0008.txt    (optional; the text when present)

Quirks: releases before 1.9 misspell the label file ``labels_concensus.csv``; both names are read.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from speechsift.errors import CorpusError
from speechsift.labels.normalize import is_missing
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import check_root, make_clip, read_text, reject, require_some, wrong_root

NAME = "msp_podcast"
TITLE = "MSP-Podcast"

LABEL_FILES = ("labels_consensus.csv", "labels_concensus.csv")
AUDIO_DIRS = ("Audios", "Audio", "audios", "audio")
EMOTION_CLASSES = {
    "A": "angry", "S": "sad", "H": "happy", "U": "surprise", "F": "fear", "D": "disgust",
    "C": "contempt", "N": "neutral", "O": "other", "X": "no agreement",
}
SPLITS = ("Train", "Development", "Test1", "Test2", "Test3")
REQUIRED = ("FileName", "EmoClass")
DIMENSIONS = {"EmoAct": "arousal", "EmoVal": "valence", "EmoDom": "dominance"}


def _labels_file(folder: Path) -> Path | None:
    for base in (folder / "Labels", folder):
        for name in LABEL_FILES:
            if (base / name).is_file():
                return base / name
    return None


def _audio_dir(folder: Path) -> Path | None:
    return next((folder / d for d in AUDIO_DIRS if (folder / d).is_dir()), None)


def _is_msp_dir(folder: Path) -> bool:
    return _labels_file(folder) is not None and _audio_dir(folder) is not None


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="UT Dallas academic licence agreement (not redistributable)",
    layout="Audios/*.wav + Labels/labels_consensus.csv (+ Transcripts/*.txt)",
    labels={"emotion": tuple(EMOTION_CLASSES), "gender": ("Male", "Female", "Unknown"),
            "arousal/valence/dominance (extra)": ("1-7",), "split (extra)": SPLITS},
    homepage="https://www.lab-msp.com/MSP/MSP-Podcast.html",
    aliases=("msp podcast", "podcast", "msppodcast"),
)
def read_msp_podcast(
    root: Path, *, source: str = NAME, splits: Sequence[str] | str | None = None, check_audio: bool = True,
    transcripts: bool = True,
) -> Iterator[Clip | RejectedRow]:
    """Clips of MSP-Podcast unpacked at ``root``.

    Args:
        root: the release folder holding ``Audios/`` and ``Labels/``.
        source: the clips' source name and id prefix.
        splits: which Split_Set values to read (Train, Development, Test1, Test2, Test3; default all).
        check_audio: reject label rows whose audio file is missing (one ``stat`` per row).
        transcripts: read ``Transcripts/<name>.txt`` as the text where present.
    """
    root = check_root(root, TITLE)
    labels = _labels_file(root)
    audio = _audio_dir(root)
    if labels is None or audio is None:
        raise wrong_root(TITLE, root, "Audios/ and Labels/labels_consensus.csv", _is_msp_dir)
    wanted = None if splits is None else {splits} if isinstance(splits, str) else set(splits)
    if wanted is not None and wanted - set(SPLITS):
        raise CorpusError(f"{TITLE}: unknown split(s) {', '.join(sorted(wanted - set(SPLITS)))}; "
                          f"the splits are {', '.join(SPLITS)}.")
    text_dir = root / "Transcripts" if transcripts and (root / "Transcripts").is_dir() else None
    return require_some(_clips(labels, audio, text_dir, wanted, check_audio, source), f"{labels}: no rows.")


def _clips(labels: Path, audio: Path, text_dir: Path | None, wanted: set[str] | None, check_audio: bool,
           source: str) -> Iterator[Clip | RejectedRow]:
    exists = os.path.exists
    with labels.open("r", encoding="utf-8-sig", errors="replace", newline="") as handle:
        rows = csv.reader(handle)
        header = next(rows, [])
        absent = [c for c in REQUIRED if c not in header]
        if absent:
            raise CorpusError(f"{labels}: no column(s) {', '.join(absent)}; the columns are {', '.join(header)}.")
        at = {c: i for i, c in enumerate(header)}

        def cell(row: list[str], column: str) -> str:
            i = at.get(column)
            return row[i].strip() if i is not None and i < len(row) else ""

        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            name = cell(row, "FileName")
            stem = name[:-4] if name.lower().endswith(".wav") else name
            if not stem:
                yield reject(source, f"line{number}", "bad_row", f"{labels} line {number}: no FileName")
                continue
            split = cell(row, "Split_Set")
            if wanted is not None and split not in wanted:
                continue
            emotion_class = cell(row, "EmoClass")
            if emotion_class not in EMOTION_CLASSES:
                yield reject(source, stem, "unknown_code",
                             f"{labels} line {number}: EmoClass {emotion_class!r} is outside {', '.join(EMOTION_CLASSES)}")
                continue
            path = str(audio / f"{stem}.wav")
            if check_audio and not exists(path):
                yield reject(source, stem, "missing_audio", f"{labels} line {number}: {path} not found")
                continue
            raw = {"emotion": emotion_class}
            gender = cell(row, "Gender")
            if gender:
                raw["gender"] = gender
            speaker = cell(row, "SpkrID")
            extra: dict[str, object] = {"emotion_class": emotion_class}
            if split:
                extra["split"] = split
            for column, key in DIMENSIONS.items():
                try:
                    extra[key] = float(cell(row, column))
                except ValueError:
                    pass
            text = None
            if text_dir is not None:
                text_path = text_dir / f"{stem}.txt"
                if text_path.is_file():
                    text = read_text(text_path, ("utf-8-sig", "latin-1")).strip() or None
            yield make_clip(source, stem, path, language="en", speaker=None if is_missing(speaker) else speaker,
                            text=text, raw=raw, extra=extra)
