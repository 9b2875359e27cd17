"""Multilingual LibriSpeech (MLS): LibriVox audiobooks in 8 languages (Pratap et al., Interspeech 2020).

Source: https://www.openslr.org/94/ (one archive per language, FLAC or Opus).
Licence: CC BY 4.0.
Speech: read audiobooks in English, German, Dutch, French, Spanish, Italian, Portuguese, Polish.
Labels: gender per speaker from ``metainfo.txt`` (M/F).

Layout::

    mls_german/                       # or mls_german_opus; the language comes from this name
      metainfo.txt                    # SPEAKER | GENDER | PARTITION | MINUTES | BOOK ID | TITLE | CHAPTER
      train/transcripts.txt           # 1844_1931_000000<TAB>text
      train/audio/1844/1931/1844_1931_000000.flac    (.opus in the Opus archives)
      dev/ ... test/ ...

Clips are listed from ``transcripts.txt``; the audio folders are never listed (English train has
10.8M files), so each line's file is checked with one ``stat`` (``check_audio``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from speechsift.errors import ConfigError, CorpusError
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import WarnOnce, check_root, make_clip, reject, require_some, wrong_root

NAME = "mls"
TITLE = "Multilingual LibriSpeech"
log = logging.getLogger(__name__)

# Archive names (mls_<language>) -> ISO 639-1 (openslr.org/94).
LANGUAGES = {
    "english": "en", "german": "de", "dutch": "nl", "french": "fr",
    "spanish": "es", "italian": "it", "portuguese": "pt", "polish": "pl",
}
SPLITS = ("train", "dev", "test")
METAINFO = "metainfo.txt"
_UTT = re.compile(r"^(\d+)_(\d+)_(\d+)$")
_ARCHIVE = re.compile(r"^mls_([a-z]+?)(?:_opus)?$")


def _is_mls_dir(folder: Path) -> bool:
    return any((folder / split / "transcripts.txt").is_file() for split in SPLITS)


def parse_metainfo(text: str) -> dict[str, str]:
    """``metainfo.txt`` as speaker -> gender (one row per speaker and book; the first row wins)."""
    genders: dict[str, str] = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("|", 2)]
        if len(cells) < 2 or not cells[0].isdigit():
            continue  # the header and blank lines
        genders.setdefault(cells[0], cells[1])
    return genders


@register_corpus(
    NAME,
    title=TITLE,
    languages=tuple(LANGUAGES.values()),
    licence="CC BY 4.0",
    layout="mls_<language>/<split>/transcripts.txt + <split>/audio/<spk>/<book>/<spk>_<book>_<utt>.flac|opus + metainfo.txt",
    labels={"gender": ("M", "F")},
    homepage="https://www.openslr.org/94/",
    aliases=("multilingual librispeech", "mls"),
)
def read_mls(
    root: Path,
    *,
    source: str = NAME,
    splits: Sequence[str] | str | None = None,
    language: str | None = None,
    check_audio: bool = True,
    require_metadata: bool = True,
) -> Iterator[Clip | RejectedRow]:
    """Clips of one MLS language archive unpacked at ``root``.

    Args:
        root: the ``mls_<language>`` folder.
        source: the clips' source name and id prefix.
        splits: which of train, dev, test to read (default: those present).
        language: the clips' language; by default from the folder name (``mls_german`` -> ``de``).
        check_audio: reject transcript lines whose audio file is missing (one ``stat`` per line).
        require_metadata: without ``metainfo.txt`` raise (True) or read on without gender (False).
    """
    root = check_root(root, TITLE)
    if not _is_mls_dir(root):
        raise wrong_root(TITLE, root, "train/, dev/ or test/ folders each with transcripts.txt and audio/", _is_mls_dir)
    present = [s for s in SPLITS if (root / s / "transcripts.txt").is_file()]
    if splits is None:
        chosen = present
    else:
        chosen = [splits] if isinstance(splits, str) else list(splits)
        missing = [s for s in chosen if s not in present]
        if missing:
            raise CorpusError(f"{TITLE}: no {', '.join(f'{s}/transcripts.txt' for s in missing)} in {root}; "
                              f"the splits there are {', '.join(present)}.")
    if language is None:
        match = _ARCHIVE.match(root.name.lower())
        language = LANGUAGES.get(match.group(1)) if match else None
        if language is None:
            raise ConfigError(f"{TITLE}: cannot tell the language from the folder name {root.name!r} "
                              f"(expected mls_<language>); pass language=.")
    metainfo = root / METAINFO
    if metainfo.is_file():
        genders = parse_metainfo(metainfo.read_text(encoding="utf-8", errors="replace"))
    elif require_metadata:
        raise CorpusError(f"{TITLE}: {METAINFO} not found in {root}; it gives each speaker's gender. "
                          "Put it there, or pass require_metadata=False to read without gender.")
    else:
        log.warning("%s: %s not found in %s; clips have no gender", TITLE, METAINFO, root)
        genders = {}
    return require_some(_clips(root, chosen, language, genders, check_audio, source),
                        f"{TITLE}: the transcripts under {root} are empty.")


def _audio_suffix(audio: Path, first: tuple[str, str, str] | None) -> str:
    """``.flac`` or ``.opus``, from the first utterance's file (the archives hold one kind each)."""
    if first is not None:
        spk, book, _ = first
        for suffix in (".flac", ".opus"):
            if (audio / spk / book / f"{'_'.join(first)}{suffix}").is_file():
                return suffix
    return ".opus" if "opus" in audio.parent.parent.name.lower() else ".flac"


def _clips(root: Path, splits: list[str], language: str, genders: dict[str, str], check_audio: bool,
           source: str) -> Iterator[Clip | RejectedRow]:
    warn = WarnOnce(log)
    exists = os.path.exists
    for split in splits:
        transcripts = root / split / "transcripts.txt"
        audio = root / split / "audio"
        suffix = None
        with transcripts.open("r", encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                utt, tab, text = line.rstrip("\n").partition("\t")
                match = _UTT.match(utt)
                if not tab or match is None:
                    if line.strip():
                        yield reject(source, f"{split}/line{number}", "bad_row",
                                     f"{transcripts} line {number}: not <spk>_<book>_<utt><TAB>text")
                    continue
                spk, book, _ = match.groups()
                if suffix is None:
                    suffix = _audio_suffix(audio, match.groups())
                path = f"{audio}{os.sep}{spk}{os.sep}{book}{os.sep}{utt}{suffix}"
                if check_audio and not exists(path):
                    yield reject(source, utt, "missing_audio", f"{transcripts} line {number}: {path} not found")
                    continue
                gender = genders.get(spk)
                if gender is None and genders:
                    warn("speaker_not_in_metainfo", f"{TITLE}: speaker {spk} is not in {METAINFO}; no gender")
                yield make_clip(source, utt, path, language=language, speaker=spk, text=text.strip(),
                                raw={"gender": gender} if gender else {}, extra={"split": split, "book": book})
    warn.summary()
