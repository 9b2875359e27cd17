"""MELD: the Multimodal EmotionLines Dataset, dialogues from the TV series Friends (Poria et al., ACL 2019).

Source: https://affective-meld.github.io/ (MELD.Raw.tar.gz: CSV labels and MP4 clips per split).
Licence: GPL-3.0.
Speech: English, multi-party conversation; ~13k utterances in ~1.4k dialogues.
Labels: emotion per utterance (anger, disgust, fear, joy, neutral, sadness, surprise), sentiment
(positive, negative, neutral; to ``extra``), speaker name, dialogue and utterance ids, season,
episode and the clip's start and end time in the episode (to ``extra``).

Layout::

    MELD.Raw/
      train_sent_emo.csv dev_sent_emo.csv test_sent_emo.csv   # Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,...
      train_splits/dia0_utt0.mp4  dev_splits_complete/...  output_repeated_splits_test/...
      <anywhere below, optional>: pre-extracted audio dia0_utt0.wav in a folder whose path names the split
                                  (train_wav/, wav/dev/, audio/test/ ...)

Audio: a pre-extracted ``dia{D}_utt{U}.wav`` is used where one is found under ``root`` (or under
``audio_dir``) in a folder whose path names the split. Otherwise the MP4 is converted once with
ffmpeg (mono 16 kHz WAV under ``extract_dir``) when ffmpeg is installed; without ffmpeg the row is
a ``needs_ffmpeg`` reject that says what to do.

Quirks: the CSV text is damaged in two ways (UTF-8 decoded as Latin-1 and stored again: an
apostrophe shows as "â" and two control characters; lone Windows-1252 bytes read as Latin-1
control characters); both are repaired. Rows whose media is missing are `missing_audio` rejects.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from speechsift.errors import CorpusError
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import check_root, make_clip, read_text, reject, require_some, wrong_root

NAME = "meld"
TITLE = "MELD"
log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
EMOTIONS = ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise")
SENTIMENTS = ("positive", "negative", "neutral")
REQUIRED = ("Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID")
EXTRACT_DIR = "speechsift_wav"  # under root, unless extract_dir is given
FFMPEG_TIMEOUT_S = 120
_CLIP = re.compile(r"^dia(\d+)_utt(\d+)\.(wav|mp4)$", re.IGNORECASE)


def _csv_path(folder: Path, split: str) -> Path:
    return folder / f"{split}_sent_emo.csv"


def _is_meld_dir(folder: Path) -> bool:
    return any(_csv_path(folder, s).is_file() for s in SPLITS)


def _split_of(path: Path, root: Path) -> str | None:
    """The split a media file belongs to, from the first folder below ``root`` whose name names one."""
    for part in path.relative_to(root).parts[:-1]:
        lowered = part.lower()
        hits = [s for s in SPLITS if s in lowered]
        if len(hits) == 1:
            return hits[0]
    return None


def _index_media(walk: Path, base: Path) -> dict[tuple[str, str, str], str]:
    """(split, "dia{D}_utt{U}", "wav"|"mp4") -> path, for every media file under ``walk``; the split
    comes from the folders between ``base`` and the file."""
    found: dict[tuple[str, str, str], str] = {}
    for folder, dirs, files in os.walk(walk):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        here = Path(folder)
        for name in files:
            match = _CLIP.match(name)
            if match is None:
                continue
            split = _split_of(here / name, base)
            if split is not None:
                key = (split, f"dia{int(match.group(1))}_utt{int(match.group(2))}", match.group(3).lower())
                found.setdefault(key, str(here / name))
    return found


def repair_text(text: str) -> str:
    r"""MELD's CSV text as plain Unicode.

    Two kinds of damage occur: UTF-8 that was decoded as Latin-1 or Windows-1252 and stored again
    ("I\u00e2\x80\x99m", "Iâ€™m"), undone by re-encoding; and lone Windows-1252 bytes read as
    Latin-1 control characters ("I\x92m"), mapped to the characters Windows-1252 means.
    """
    if text.isascii():
        return text
    for wrong in ("latin-1", "cp1252"):
        try:
            fixed = text.encode(wrong).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text:
            text = fixed
            break
    return "".join(_c1(c) if "\x80" <= c <= "\x9f" else c for c in text)


def _c1(char: str) -> str:
    try:
        return bytes([ord(char)]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="GPL-3.0",
    layout="<split>_sent_emo.csv + dia{D}_utt{U}.wav (pre-extracted) or .mp4 (train_splits/, dev_splits_complete/, "
           "output_repeated_splits_test/; ffmpeg needed)",
    labels={"emotion": EMOTIONS, "sentiment (extra)": SENTIMENTS},
    homepage="https://affective-meld.github.io/",
    aliases=("multimodal emotionlines dataset",),
)
def read_meld(
    root: Path,
    *,
    source: str = NAME,
    splits: Sequence[str] | str | None = None,
    audio_dir: str | Path | None = None,
    extract: bool = True,
    extract_dir: str | Path | None = None,
) -> Iterator[Clip | RejectedRow]:
    """Clips of MELD unpacked at ``root``.

    Args:
        root: the ``MELD.Raw`` folder holding the ``*_sent_emo.csv`` files.
        source: the clips' source name and id prefix.
        splits: which of train, dev, test to read (default: every CSV present).
        audio_dir: where pre-extracted ``dia{D}_utt{U}.wav`` files are, when not under ``root``;
            its subfolders (or itself, if its name names a split) say the split.
        extract: convert an MP4 with ffmpeg when no WAV is found (needs ffmpeg on PATH).
        extract_dir: where converted WAVs go (default ``<root>/speechsift_wav/<split>/``); a WAV
            already there is reused.
    """
    root = check_root(root, TITLE)
    if not _is_meld_dir(root):
        raise wrong_root(TITLE, root, "train_sent_emo.csv, dev_sent_emo.csv or test_sent_emo.csv", _is_meld_dir)
    present = [s for s in SPLITS if _csv_path(root, s).is_file()]
    chosen = present if splits is None else ([splits] if isinstance(splits, str) else list(splits))
    missing = [s for s in chosen if s not in present]
    if missing:
        raise CorpusError(f"{TITLE}: no {', '.join(f'{s}_sent_emo.csv' for s in missing)} in {root}; "
                          f"the splits there are {', '.join(present)}.")
    target = Path(extract_dir) if extract_dir is not None else root / EXTRACT_DIR
    media = _index_media(root, root)
    if audio_dir is not None:
        audio_root = Path(audio_dir).expanduser()
        if not audio_root.is_dir():
            raise CorpusError(f"{TITLE}: audio_dir {audio_root} is not a folder.")
        media.update(_index_media(audio_root, audio_root.parent))
    return require_some(_clips(root, chosen, media, extract, target, source),
                        f"{TITLE}: the CSV files in {root} hold no rows.")


def _clips(root: Path, splits: list[str], media: dict[tuple[str, str, str], str], extract: bool, target: Path,
           source: str) -> Iterator[Clip | RejectedRow]:
    ffmpeg = shutil.which("ffmpeg") if extract else None
    for split in splits:
        path = _csv_path(root, split)
        rows = csv.reader(read_text(path, ("utf-8-sig", "cp1252", "latin-1")).splitlines())
        header = next(rows, [])
        absent = [c for c in REQUIRED if c not in header]
        if absent:
            raise CorpusError(f"{path}: no column(s) {', '.join(absent)}; the columns are {', '.join(header)}.")
        at = {c: header.index(c) for c in header}
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) != len(header):
                yield reject(source, f"{split}_line{number}", "bad_row",
                             f"{path} line {number}: {len(row)} cells where the header has {len(header)}")
                continue
            dialogue, utterance = row[at["Dialogue_ID"]].strip(), row[at["Utterance_ID"]].strip()
            if not (dialogue.isdigit() and utterance.isdigit()):
                yield reject(source, f"{split}_line{number}", "bad_row",
                             f"{path} line {number}: Dialogue_ID/Utterance_ID {dialogue!r}/{utterance!r} are not numbers")
                continue
            name = f"dia{int(dialogue)}_utt{int(utterance)}"
            native_id = f"{split}_{name}"
            audio = media.get((split, name, "wav"))
            if audio is None:
                video = media.get((split, name, "mp4"))
                if video is None:
                    yield reject(source, native_id, "missing_audio",
                                 f"{path} line {number}: neither {name}.wav nor {name}.mp4 found for the {split} split under {root}")
                    continue
                converted = target / split / f"{name}.wav"
                if converted.is_file():
                    audio = str(converted)
                elif ffmpeg is None:
                    yield reject(source, native_id, "needs_ffmpeg",
                                 f"{path} line {number}: only the video {video} is there; install ffmpeg to extract "
                                 f"its audio (or put a pre-extracted {name}.wav in a {split} folder under {root})"
                                 if extract else
                                 f"{path} line {number}: only the video {video} is there and extract=False")
                    continue
                else:
                    failure = _extract(ffmpeg, video, converted)
                    if failure is not None:
                        yield reject(source, native_id, "extract_failed", f"{video}: ffmpeg failed: {failure}")
                        continue
                    audio = str(converted)
            extra = {
                "split": split,
                "sentiment": row[at["Sentiment"]].strip(),
                "dialogue_id": int(dialogue),
                "utterance_id": int(utterance),
            }
            for column, key in (("Season", "season"), ("Episode", "episode"), ("StartTime", "start_time"),
                                ("EndTime", "end_time")):
                if column in at and row[at[column]].strip():
                    extra[key] = row[at[column]].strip()
            yield make_clip(
                source, native_id, audio, language="en", speaker=row[at["Speaker"]].strip() or None,
                text=repair_text(row[at["Utterance"]]).strip(), raw={"emotion": row[at["Emotion"]].strip()},
                extra=extra,
            )


def _extract(ffmpeg: str, video: str, out: Path) -> str | None:
    """Mono 16 kHz WAV from one MP4 (written to a temp name, then renamed); the error text, or None."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial.wav")
    command = [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", video, "-vn", "-ac", "1", "-ar", "16000", str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        partial.unlink(missing_ok=True)
        return str(exc)
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        lines = (done.stderr or "").strip().splitlines()
        return lines[-1] if lines else f"exit status {done.returncode}"
    os.replace(partial, out)
    return None
