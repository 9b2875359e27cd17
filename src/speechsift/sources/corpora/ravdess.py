"""RAVDESS: the Ryerson Audio-Visual Database of Emotional Speech and Song (Livingstone & Russo, PLoS ONE 2018).

Source: https://zenodo.org/records/1188976 (Audio_Speech_Actors_01-24.zip, Audio_Song_Actors_01-24.zip).
Licence: CC BY-NC-SA 4.0.
Speech: North American English; 24 actors (odd numbers male, even female), two statements.
Labels: every label is in the file name, a 7-part code
``modality-channel-emotion-intensity-statement-repetition-actor``:

- modality 01 full-AV, 02 video-only, 03 audio-only (the audio zips hold 03 only)
- vocal channel 01 speech, 02 song
- emotion 01 neutral, 02 calm, 03 happy, 04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised
  (song has no disgust or surprised)
- intensity 01 normal, 02 strong (neutral has no strong intensity)
- statement 01 "Kids are talking by the door", 02 "Dogs are sitting by the door"
- repetition 01, 02; actor 01-24

``raw["emotion"]`` holds the code's name as the corpus documents it (``calm`` is merged into
neutral by labels/tables.py); the code itself is in ``extra["emotion_code"]``.

Layout::

    RAVDESS/Actor_01/03-01-05-01-02-01-01.wav ... Actor_24/...
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import (
    check_root,
    make_clip,
    reject,
    require_some,
    scan_dirs,
    scan_files,
    wrong_root,
)

NAME = "ravdess"
TITLE = "RAVDESS"

# The code tables of the corpus's README (zenodo record 1188976).
MODALITIES = {"01": "full-AV", "02": "video-only", "03": "audio-only"}
CHANNELS = {"01": "speech", "02": "song"}
EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
}
SONG_EMOTIONS = frozenset({"01", "02", "03", "04", "05", "06"})
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
REPETITIONS = ("01", "02")
ACTORS = 24

_ACTOR_DIR = re.compile(r"^Actor_(\d\d)$")
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")


def _has_actor_dirs(folder: Path) -> bool:
    try:
        return any(_ACTOR_DIR.match(e.name) for e in scan_dirs(folder))
    except OSError:
        return False


def _check_codes(modality: str, channel: str, emotion: str, intensity: str, statement: str,
                 repetition: str, actor: str) -> str | None:
    """What is outside the scheme, or None."""
    if modality not in MODALITIES:
        return f"modality {modality} (01-03)"
    if channel not in CHANNELS:
        return f"vocal channel {channel} (01 speech, 02 song)"
    if emotion not in EMOTIONS:
        return f"emotion {emotion} (01-08)"
    if channel == "02" and emotion not in SONG_EMOTIONS:
        return f"emotion {emotion} in song (song has 01-06 only)"
    if intensity not in INTENSITIES:
        return f"intensity {intensity} (01 normal, 02 strong)"
    if emotion == "01" and intensity == "02":
        return "strong intensity for neutral (neutral has normal intensity only)"
    if statement not in STATEMENTS:
        return f"statement {statement} (01, 02)"
    if repetition not in REPETITIONS:
        return f"repetition {repetition} (01, 02)"
    if not 1 <= int(actor) <= ACTORS:
        return f"actor {actor} (01-24)"
    return None


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="CC BY-NC-SA 4.0",
    layout="Actor_01..Actor_24/<modality>-<channel>-<emotion>-<intensity>-<statement>-<repetition>-<actor>.wav",
    labels={
        "emotion": tuple(EMOTIONS.values()),
        "gender": ("odd actor: male", "even actor: female"),
        "intensity (extra)": tuple(INTENSITIES.values()),
        "vocal_channel (extra)": tuple(CHANNELS.values()),
    },
    homepage="https://zenodo.org/records/1188976",
)
def read_ravdess(root: Path, *, source: str = NAME) -> Iterator[Clip | RejectedRow]:
    """Clips of RAVDESS (speech, song, or both) unpacked at ``root``.

    Args:
        root: the folder holding ``Actor_01`` ... ``Actor_24``.
        source: the clips' source name and id prefix.
    """
    root = check_root(root, TITLE)
    if not _has_actor_dirs(root):
        raise wrong_root(TITLE, root, "folders Actor_01 ... Actor_24 of files like 03-01-05-01-02-01-01.wav",
                         _has_actor_dirs)
    return require_some(_clips(root, source), f"{TITLE}: the Actor folders under {root} hold no files.")


def _clips(root: Path, source: str) -> Iterator[Clip | RejectedRow]:
    for folder in scan_dirs(root):
        folder_match = _ACTOR_DIR.match(folder.name)
        if folder_match is None:
            yield reject(source, folder.name, "unexplained_file",
                         f"{folder.path}: not an Actor_NN folder; {TITLE} holds Actor_01 ... Actor_24")
            continue
        files = scan_files(Path(folder.path))
        if not files:
            yield reject(source, folder.name, "empty_folder", f"{folder.path}: the actor folder holds no files")
            continue
        for entry in files:
            stem, _, ext = entry.name.rpartition(".")
            match = _NAME.match(stem)
            if ext.lower() != "wav" or match is None:
                yield reject(source, f"{folder.name}/{entry.name}", "unexplained_file",
                             f"{entry.path}: not a RAVDESS audio file (NN-NN-NN-NN-NN-NN-NN.wav)")
                continue
            modality, channel, emotion, intensity, statement, repetition, actor = match.groups()
            outside = _check_codes(modality, channel, emotion, intensity, statement, repetition, actor)
            if outside is not None:
                yield reject(source, stem, "unknown_code", f"{entry.path}: {outside} is outside the RAVDESS scheme")
                continue
            if actor != folder_match.group(1):
                yield reject(source, stem, "mismatched_speaker",
                             f"{entry.path}: actor {actor} in the name, but the folder is {folder.name}")
                continue
            yield make_clip(
                source, stem, entry.path, language="en", speaker=actor, text=STATEMENTS[statement],
                raw={"emotion": EMOTIONS[emotion], "gender": "male" if int(actor) % 2 else "female"},
                extra={
                    "emotion_code": emotion,
                    "intensity": INTENSITIES[intensity],
                    "vocal_channel": CHANNELS[channel],
                    "modality": MODALITIES[modality],
                    "statement": statement,
                    "repetition": repetition,
                },
            )
