"""CREMA-D: Crowd-sourced Emotional Multimodal Actors Dataset (Cao et al., IEEE TAC 2014).

Source: https://github.com/CheyneyComputerScience/CREMA-D (audio in git-lfs).
Licence: Open Database License v1.0; contents under the Database Contents License v1.0.
Speech: English; 91 actors (48 male, 43 female, aged 20-74) saying 12 fixed sentences.
Labels: emotion as acted (ANG, DIS, FEA, HAP, NEU, SAD), intensity (LO, MD, HI, XX = unspecified),
age and sex per actor from ``VideoDemographics.csv``.

Layout::

    CREMA-D/
      AudioWAV/1001_DFA_ANG_XX.wav     # <actor>_<sentence>_<emotion>_<intensity>.wav
      VideoDemographics.csv            # ActorID,Age,Sex,Race,Ethnicity
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
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
    scan_files,
    wrong_root,
)

NAME = "crema_d"
TITLE = "CREMA-D"
log = logging.getLogger(__name__)

# The 12 sentences, by the code in the file names (the corpus README).
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
# Emotion codes as the file names write them; labels/tables.py maps them (ang -> angry, ...).
EMOTIONS = ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD")
# Intensity codes (the corpus README): low, medium, high, unspecified.
INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
DEMOGRAPHICS = "VideoDemographics.csv"
AUDIO_DIR = "AudioWAV"


def _parse_name(stem: str) -> tuple[str, str, str, str] | str:
    """``(actor, sentence, emotion, intensity)``, or the reason the name is not one."""
    parts = stem.split("_")
    if len(parts) != 4 or not (parts[0].isdigit() and len(parts[0]) == 4):
        return "unexplained_file"
    actor, sentence, emotion, intensity = parts
    if sentence not in SENTENCES or emotion not in EMOTIONS or intensity not in INTENSITIES:
        return "unknown_code"
    return actor, sentence, emotion, intensity


def _looks_like_audio_dir(folder: Path) -> bool:
    try:
        return any(not isinstance(_parse_name(e.name[:-4]), str) for e in scan_files(folder, (".wav",))[:50])
    except OSError:
        return False


def _demographics(path: Path) -> dict[str, dict[str, str]]:
    rows = csv.DictReader(read_text(path).splitlines())
    missing = {"ActorID", "Age", "Sex"} - set(rows.fieldnames or [])
    if missing:
        raise CorpusError(f"{path}: no column(s) {', '.join(sorted(missing))}; expected ActorID,Age,Sex,Race,Ethnicity.")
    return {row["ActorID"].strip(): row for row in rows if row.get("ActorID")}


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="ODbL-1.0 (contents: DbCL-1.0)",
    layout="AudioWAV/<actor>_<sentence>_<emotion>_<intensity>.wav + VideoDemographics.csv",
    labels={
        "emotion": EMOTIONS,
        "gender": ("Male", "Female"),
        "age": ("years: 20-74",),
        "intensity (extra)": tuple(INTENSITIES),
    },
    homepage="https://github.com/CheyneyComputerScience/CREMA-D",
    aliases=("cremad", "crema"),
)
def read_crema_d(
    root: Path, *, source: str = NAME, audio_dir: str = AUDIO_DIR, require_metadata: bool = True
) -> Iterator[Clip | RejectedRow]:
    """Clips of CREMA-D unpacked (or cloned with git-lfs) at ``root``.

    Args:
        root: the folder holding ``AudioWAV/`` and ``VideoDemographics.csv`` (or ``AudioWAV`` itself).
        source: the clips' source name and id prefix.
        audio_dir: the audio folder under ``root`` (``AudioMP3`` for the MP3 copy).
        require_metadata: without ``VideoDemographics.csv`` raise (True) or read on without age
            and sex (False).
    """
    root = check_root(root, TITLE)
    audio = root / audio_dir
    if not audio.is_dir():
        if _looks_like_audio_dir(root):
            audio, root = root, root.parent
        else:
            raise wrong_root(TITLE, root, f"a {audio_dir}/ folder of files like 1001_DFA_ANG_XX.wav",
                             lambda p: (p / audio_dir).is_dir())
    demographics_path = next((p / DEMOGRAPHICS for p in (root, audio) if (p / DEMOGRAPHICS).is_file()), None)
    if demographics_path is None:
        if require_metadata:
            raise CorpusError(
                f"{TITLE}: {DEMOGRAPHICS} not found in {root}; it gives each actor's age and sex. "
                "Put it there, or pass require_metadata=False to read without age and sex."
            )
        log.warning("%s: %s not found in %s; clips have no age or sex", TITLE, DEMOGRAPHICS, root)
        actors: dict[str, dict[str, str]] = {}
    else:
        actors = _demographics(demographics_path)
    return require_some(_clips(audio, actors, source, demographics_path is not None),
                        f"{TITLE}: {audio} holds no files; expected files like 1001_DFA_ANG_XX.wav.")


def _clips(audio: Path, actors: dict[str, dict[str, str]], source: str, have_demographics: bool) -> Iterator[Clip | RejectedRow]:
    warn = WarnOnce(log)
    files = scan_files(audio)
    suffix = ".mp3" if audio.name.lower().endswith("mp3") else ".wav"
    for entry in files:
        stem, dot, ext = entry.name.rpartition(".")
        if not dot or f".{ext.lower()}" != suffix:
            yield reject(source, entry.name, "unexplained_file",
                         f"{entry.path}: not a {suffix} file; {TITLE} audio is named <actor>_<sentence>_<emotion>_<intensity>{suffix}")
            continue
        parsed = _parse_name(stem)
        if isinstance(parsed, str):
            detail = ("is not <actor>_<sentence>_<emotion>_<intensity>" if parsed == "unexplained_file" else
                      f"has a code outside the scheme (sentences {', '.join(SENTENCES)}; emotions "
                      f"{', '.join(EMOTIONS)}; intensities {', '.join(INTENSITIES)})")
            yield reject(source, stem, parsed, f"{entry.path}: the name {detail}")
            continue
        actor, sentence, emotion, intensity = parsed
        raw = {"emotion": emotion}
        person = actors.get(actor)
        if person is not None:
            raw["gender"] = (person.get("Sex") or "").strip()
            raw["age"] = (person.get("Age") or "").strip()
        elif have_demographics:
            warn("actor_not_in_demographics", f"{TITLE}: actor {actor} is not in {DEMOGRAPHICS}; no age or sex")
        yield make_clip(
            source, stem, entry.path, language="en", speaker=actor, text=SENTENCES[sentence], raw=raw,
            extra={"intensity": INTENSITIES[intensity], "sentence_code": sentence},
        )
    warn.summary()
