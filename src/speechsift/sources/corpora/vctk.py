"""VCTK: the CSTR VCTK Corpus, English multi-speaker corpus for voice cloning (Yamagishi et al., Edinburgh).

Source: https://datashare.ed.ac.uk/handle/10283/3443 (0.92, 2019); 0.80 (2012) from the same archive.
Licence: CC BY 4.0 (0.92); Open Data Commons Attribution 1.0 (0.80).
Speech: English read by ~110 speakers with various accents, ~400 sentences each.
Labels: per speaker, from ``speaker-info.txt``: age (years), gender (F/M), accent (the ACCENTS
column, e.g. English, Scottish, NorthernIrish, as written) and region (to ``extra``).

Layouts (both read; the first audio folder found wins, or name one with ``audio_dir``)::

    VCTK-Corpus/ (0.80)       wav48/p225/p225_001.wav             txt/p225/p225_001.txt   speaker-info.txt
    VCTK-Corpus-0.92/         wav48_silence_trimmed/p225/p225_001_mic1.flac (and _mic2)   txt/...  speaker-info.txt

Quirks: ``speaker-info.txt`` is aligned with runs of spaces, not tabs, and REGION may be several
words or absent; 0.80 writes ids without the ``p`` (``225``); 0.92 adds a COMMENTS column. p315's
transcripts were lost (its clips have no text); p280 has no mic2 recordings in 0.92; a few
transcripts have no audio (``missing_audio`` rejects) and a few clips no transcript (no text).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

from speechsift.errors import ConfigError, CorpusError
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

NAME = "vctk"
TITLE = "VCTK"
log = logging.getLogger(__name__)

AUDIO_DIRS = ("wav48_silence_trimmed", "wav48", "wav16", "wav22", "wav24")
SPEAKER_INFO = "speaker-info.txt"
MICS = ("mic1", "mic2", "both")
_UTT = re.compile(r"^([ps]\d+)_(\d{3})(?:_(mic[12]))?$")
_SPEAKER = re.compile(r"^[ps]\d+$")


def _audio_dir(folder: Path) -> Path | None:
    return next((folder / d for d in AUDIO_DIRS if (folder / d).is_dir()), None)


def parse_speaker_info(text: str) -> dict[str, dict[str, str]]:
    """``speaker-info.txt`` as speaker id (``p225``) -> {age, gender, accent, region, comment}.

    Columns are separated by runs of spaces; REGION may hold spaces or be missing, and 0.92 adds
    a free-text COMMENTS column (written in parentheses); the header line starts with ``ID``.
    """
    speakers: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        cells = line.split(None, 4)
        if len(cells) < 3 or cells[0].upper() == "ID":
            continue
        speaker = cells[0] if cells[0][0] in "ps" else f"p{cells[0]}"
        rest = cells[4].strip() if len(cells) > 4 else ""
        region, _, comment = rest.partition("(")
        speakers[speaker] = {
            "age": cells[1],
            "gender": cells[2],
            "accent": cells[3] if len(cells) > 3 else "",
            "region": " ".join(region.split()),
            "comment": f"({comment}".strip() if comment else "",
        }
    return speakers


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="CC BY 4.0 (0.92); ODC-By 1.0 (0.80)",
    layout="wav48/pXXX/*.wav + txt/ (0.80) or wav48_silence_trimmed/pXXX/*_mic1.flac + txt/ (0.92); speaker-info.txt",
    labels={"age": ("years",), "gender": ("F", "M"), "accent": ("English", "Scottish", "NorthernIrish", "Irish",
                                                                  "Welsh", "American", "Canadian", "SouthAfrican",
                                                                  "Australian", "NewZealand", "Indian", "...")},
    homepage="https://datashare.ed.ac.uk/handle/10283/3443",
    aliases=("vctk corpus", "cstr vctk"),
)
def read_vctk(
    root: Path, *, source: str = NAME, mic: str = "mic1", audio_dir: str | None = None, require_metadata: bool = True
) -> Iterator[Clip | RejectedRow]:
    """Clips of VCTK (0.80 or 0.92) unpacked at ``root``.

    Args:
        root: the folder holding ``speaker-info.txt``, ``txt/`` and the audio folder.
        source: the clips' source name and id prefix.
        mic: 0.92 only: ``mic1`` (omni-directional DPA 4035, as in 0.80; the default), ``mic2``
            (Sennheiser MKH 800) or ``both``.
        audio_dir: the audio folder under ``root``; by default the first of
            wav48_silence_trimmed, wav48, wav16, wav22, wav24 that exists.
        require_metadata: without ``speaker-info.txt`` raise (True) or read on without speaker
            labels (False).
    """
    if mic not in MICS:
        raise ConfigError(f"{TITLE}: mic must be one of {', '.join(MICS)}, not {mic!r}.")
    root = check_root(root, TITLE)
    audio = root / audio_dir if audio_dir else _audio_dir(root)
    if audio is None or not audio.is_dir():
        expected = f"an audio folder {audio_dir}/" if audio_dir else f"one of {', '.join(AUDIO_DIRS)}/ beside txt/"
        raise wrong_root(TITLE, root, f"{expected} and {SPEAKER_INFO}",
                         lambda p: (p / audio_dir).is_dir() if audio_dir else _audio_dir(p) is not None)
    info_path = root / SPEAKER_INFO
    if info_path.is_file():
        speakers = parse_speaker_info(read_text(info_path, ("utf-8-sig", "latin-1")))
    elif require_metadata:
        raise CorpusError(f"{TITLE}: {SPEAKER_INFO} not found in {root}; it gives each speaker's age, gender and "
                          "accent. Put it there, or pass require_metadata=False to read without them.")
    else:
        log.warning("%s: %s not found in %s; clips have no speaker labels", TITLE, SPEAKER_INFO, root)
        speakers = {}
    return require_some(_clips(root, audio, speakers, mic, source), f"{TITLE}: {audio} holds no speaker folders.")


def _transcripts(txt_dir: Path) -> dict[str, Path]:
    if not txt_dir.is_dir():
        return {}
    return {e.name[:-4]: Path(e.path) for e in scan_files(txt_dir, (".txt",))}


def _clips(root: Path, audio: Path, speakers: dict[str, dict[str, str]], mic: str, source: str) -> Iterator[Clip | RejectedRow]:
    warn = WarnOnce(log)
    for folder in scan_dirs(audio):
        speaker = folder.name
        if not _SPEAKER.match(speaker):
            yield reject(source, speaker, "unexplained_file", f"{folder.path}: not a speaker folder (pNNN)")
            continue
        info = speakers.get(speaker)
        if info is None and speakers:
            warn("speaker_not_in_info", f"{TITLE}: speaker {speaker} is not in {SPEAKER_INFO}; no speaker labels")
        raw = {"age": info["age"], "gender": info["gender"], "accent": info["accent"]} if info else {}
        extra_speaker = {"region": info["region"]} if info and info["region"] else {}
        texts = _transcripts(root / "txt" / speaker)
        files = scan_files(Path(folder.path))
        if not files:
            yield reject(source, speaker, "empty_folder", f"{folder.path}: the speaker folder holds no files")
            continue
        utterances_with_audio: set[str] = set()
        read = 0
        for entry in files:
            stem, _, ext = entry.name.rpartition(".")
            match = _UTT.match(stem)
            if ext.lower() not in ("wav", "flac") or match is None or match.group(1) != speaker:
                if ext.lower() != "txt":  # 0.92 ships log files beside the audio of a few speakers
                    yield reject(source, f"{speaker}/{entry.name}", "unexplained_file",
                                 f"{entry.path}: not {speaker}_NNN[_micN].wav|flac")
                continue
            utterance = f"{speaker}_{match.group(2)}"
            utterances_with_audio.add(utterance)
            clip_mic = match.group(3)
            if clip_mic is not None and mic != "both" and clip_mic != mic:
                continue  # the other microphone, not asked for
            text_path = texts.get(utterance)
            text = read_text(text_path, ("utf-8-sig", "latin-1")).strip() if text_path else None
            if text_path is None:
                warn("no_transcript", f"{TITLE}: {entry.path} has no transcript (p315's were lost); no text")
            read += 1
            yield make_clip(
                source, stem, entry.path, language="en", speaker=speaker, text=text, raw=raw,
                extra={**extra_speaker, "mic": clip_mic} if clip_mic else dict(extra_speaker),
            )
        if read == 0:
            warn("no_clips_for_mic", f"{TITLE}: speaker {speaker} has no {mic} recordings (p280 has no mic2 in 0.92)")
        for utterance in sorted(set(texts) - utterances_with_audio):
            yield reject(source, utterance, "missing_audio",
                         f"{texts[utterance]}: a transcript with no audio in {folder.path}")
    warn.summary()
