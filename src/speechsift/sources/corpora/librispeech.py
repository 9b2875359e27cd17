"""LibriSpeech: 1000 hours of read English from LibriVox audiobooks (Panayotov et al., ICASSP 2015).

Source: https://www.openslr.org/12/ (one archive per subset).
Licence: CC BY 4.0.
Speech: English; subsets train-clean-100, train-clean-360, train-other-500, dev-clean, dev-other,
test-clean, test-other.
Labels: sex per speaker from ``SPEAKERS.TXT`` (M/F).

Layout::

    LibriSpeech/
      SPEAKERS.TXT                               # ;ID |SEX| SUBSET |MINUTES| NAME   (';' starts a comment)
      dev-clean/84/121123/84-121123.trans.txt    # 84-121123-0000 GO DO YOU HEAR
      dev-clean/84/121123/84-121123-0000.flac

``root`` may also be one subset folder (``LibriSpeech/dev-clean``); ``SPEAKERS.TXT`` is then
looked for beside it. Quirk: a reader's NAME may itself hold ``|`` (speaker 60, ``|CBW|Simon``),
so a row is split at its first four bars only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from speechsift.errors import CorpusError
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

NAME = "librispeech"
TITLE = "LibriSpeech"
log = logging.getLogger(__name__)

SUBSETS = ("train-clean-100", "train-clean-360", "train-other-500", "dev-clean", "dev-other", "test-clean", "test-other")
SPEAKERS_FILE = "SPEAKERS.TXT"
_UTT = re.compile(r"^(\d+)-(\d+)-(\d+)$")


def _is_subset_dir(folder: Path) -> bool:
    """A subset folder: speaker folders of chapter folders holding <spk>-<chapter>.trans.txt."""
    try:
        for speaker in scan_dirs(folder)[:3]:
            for chapter in scan_dirs(Path(speaker.path))[:1]:
                if (Path(chapter.path) / f"{speaker.name}-{chapter.name}.trans.txt").is_file():
                    return True
    except OSError:
        return False
    return False


def _subsets(folder: Path) -> list[Path]:
    try:
        return [Path(d.path) for d in scan_dirs(folder) if _is_subset_dir(Path(d.path))]
    except OSError:
        return []


def parse_speakers(text: str) -> dict[str, dict[str, str]]:
    """``SPEAKERS.TXT`` as speaker -> {sex, subset, name}; comment lines start with ``;``."""
    speakers: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith(";"):
            continue
        cells = [c.strip() for c in line.split("|", 4)]
        if len(cells) < 2 or not cells[0].isdigit():
            continue
        speakers[cells[0]] = {"sex": cells[1], "subset": cells[2] if len(cells) > 2 else "",
                              "name": cells[4] if len(cells) > 4 else ""}
    return speakers


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="CC BY 4.0",
    layout="<subset>/<spk>/<chapter>/<spk>-<chapter>.trans.txt + <spk>-<chapter>-<utt>.flac; SPEAKERS.TXT",
    labels={"gender": ("M", "F")},
    homepage="https://www.openslr.org/12/",
    aliases=("libri", "libri speech"),
)
def read_librispeech(
    root: Path, *, source: str = NAME, splits: Sequence[str] | str | None = None, require_metadata: bool = True
) -> Iterator[Clip | RejectedRow]:
    """Clips of LibriSpeech unpacked at ``root``.

    Args:
        root: the ``LibriSpeech`` folder (holding the subsets and SPEAKERS.TXT), or one subset folder.
        source: the clips' source name and id prefix.
        splits: which subsets to read, by folder name (default: every subset present).
        require_metadata: without ``SPEAKERS.TXT`` raise (True) or read on without sex (False).
    """
    root = check_root(root, TITLE)
    if _is_subset_dir(root):
        subsets, meta_dir = [root], root.parent
    else:
        subsets, meta_dir = _subsets(root), root
        if not subsets:
            raise wrong_root(TITLE, root, "subset folders (dev-clean, train-clean-100, ...) of <spk>/<chapter>/*.trans.txt",
                             lambda p: bool(_subsets(p)) or _is_subset_dir(p))
    if splits is not None:
        wanted = [splits] if isinstance(splits, str) else list(splits)
        by_name = {p.name: p for p in subsets}
        missing = [s for s in wanted if s not in by_name]
        if missing:
            raise CorpusError(f"{TITLE}: no subset(s) {', '.join(missing)} in {root}; "
                              f"the subsets there are {', '.join(by_name)}.")
        subsets = [by_name[s] for s in wanted]
    speakers_path = meta_dir / SPEAKERS_FILE
    if speakers_path.is_file():
        speakers = parse_speakers(read_text(speakers_path, ("utf-8-sig", "latin-1")))
    elif require_metadata:
        raise CorpusError(f"{TITLE}: {SPEAKERS_FILE} not found in {meta_dir}; it gives each reader's sex. "
                          "Put it there, or pass require_metadata=False to read without it.")
    else:
        log.warning("%s: %s not found in %s; clips have no gender", TITLE, SPEAKERS_FILE, meta_dir)
        speakers = {}
    return require_some(_clips(subsets, speakers, source), f"{TITLE}: the subsets under {root} hold no transcripts.")


def _clips(subsets: list[Path], speakers: dict[str, dict[str, str]], source: str) -> Iterator[Clip | RejectedRow]:
    warn = WarnOnce(log)
    for subset in subsets:
        for speaker_dir in scan_dirs(subset):
            speaker = speaker_dir.name
            info = speakers.get(speaker)
            if info is None and speakers:
                warn("speaker_not_in_speakers_file", f"{TITLE}: speaker {speaker} is not in {SPEAKERS_FILE}; no gender")
            raw = {"gender": info["sex"]} if info else {}
            chapters = scan_dirs(Path(speaker_dir.path))
            if not chapters:
                yield reject(source, f"{subset.name}/{speaker}", "empty_folder", f"{speaker_dir.path}: no chapter folders")
            for chapter_dir in chapters:
                yield from _chapter(Path(chapter_dir.path), subset.name, speaker, raw, source)
    warn.summary()


def _chapter(folder: Path, subset: str, speaker: str, raw: dict[str, str], source: str) -> Iterator[Clip | RejectedRow]:
    chapter = folder.name
    trans = folder / f"{speaker}-{chapter}.trans.txt"
    audio = {e.name[:-5]: e.path for e in scan_files(folder, (".flac",))}
    if not trans.is_file():
        yield reject(source, f"{speaker}-{chapter}", "missing_metadata",
                     f"{folder}: no {trans.name}; the chapter's {len(audio)} clips are not read")
        return
    listed: set[str] = set()
    for number, line in enumerate(read_text(trans, ("utf-8-sig", "latin-1")).splitlines(), start=1):
        utt, _, text = line.strip().partition(" ")
        if not utt:
            continue
        match = _UTT.match(utt)
        if match is None or match.group(1) != speaker or match.group(2) != chapter:
            yield reject(source, f"{speaker}-{chapter}/line{number}", "bad_row",
                         f"{trans} line {number}: not {speaker}-{chapter}-NNNN TEXT")
            continue
        listed.add(utt)
        path = audio.get(utt)
        if path is None:
            yield reject(source, utt, "missing_audio", f"{trans} line {number}: {utt}.flac not found in {folder}")
            continue
        yield make_clip(source, utt, path, language="en", speaker=speaker, text=text.strip(), raw=raw,
                        extra={"split": subset, "chapter": chapter})
    for utt in sorted(set(audio) - listed):
        yield reject(source, utt, "missing_transcript", f"{audio[utt]}: no line in {trans.name}")
