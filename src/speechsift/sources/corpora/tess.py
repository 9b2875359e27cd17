"""TESS: the Toronto Emotional Speech Set (Dupuis & Pichora-Fuller, University of Toronto, 2010).

Source: https://doi.org/10.5683/SP2/E8H2MF (Borealis / U of T Dataverse; also mirrored on Kaggle).
Licence: CC BY-NC-ND 4.0.
Speech: English (Canadian); two female speakers, OAF (older, aged 64) and YAF (younger, aged 26),
each saying "Say the word ___" with 200 target words in 7 emotions.
Labels: emotion from the file name (angry, disgust, fear, happy, neutral, ps = pleasant surprise,
sad), gender female, age from the speaker (64 and 26 years).

Layout (folder names vary in case between releases)::

    TESS Toronto emotional speech set data/
      OAF_angry/OAF_back_angry.wav   OAF_Pleasant_surprise/OAF_back_ps.wav   YAF_fear/YAF_back_fear.wav ...

The Kaggle copy nests a second full copy of the corpus inside the first; the second sighting of a
file name is a ``duplicate_clip`` reject.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from speechsift.labels.normalize import UnknownLabel, normalize_emotion
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import check_root, make_clip, reject, require_some, walk_files, wrong_root

NAME = "tess"
TITLE = "TESS"

# The two speakers and their ages (the corpus description).
SPEAKERS = {"OAF": "64", "YAF": "26"}
# Emotion words in the file names; "ps" is pleasant surprise.
EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "ps", "sad")

_FILE = re.compile(r"^(OAF|YAF)_(.+)_([A-Za-z]+)$", re.IGNORECASE)
_FOLDER = re.compile(r"^(OAF|YAF)_(.+)$", re.IGNORECASE)


def _is_tess_dir(folder: Path) -> bool:
    try:
        return any(_FOLDER.match(p.name) and p.is_dir() for p in folder.iterdir())
    except OSError:
        return False


def _folder_emotion(name: str) -> str | None:
    match = _FOLDER.match(name)
    if match is None:
        return None
    try:
        return normalize_emotion(match.group(2))
    except UnknownLabel:
        return None


@register_corpus(
    NAME,
    title=TITLE,
    languages=("en",),
    licence="CC BY-NC-ND 4.0",
    layout="<OAF|YAF>_<emotion>/<OAF|YAF>_<word>_<emotion>.wav",
    labels={"emotion": EMOTIONS, "gender": ("female",), "age": ("OAF: 64", "YAF: 26")},
    homepage="https://doi.org/10.5683/SP2/E8H2MF",
    aliases=("toronto emotional speech set",),
)
def read_tess(root: Path, *, source: str = NAME) -> Iterator[Clip | RejectedRow]:
    """Clips of TESS unpacked at ``root``.

    Args:
        root: the folder holding ``OAF_angry``, ``YAF_sad``, ... (the Kaggle copy's
            ``TESS Toronto emotional speech set data``).
        source: the clips' source name and id prefix.
    """
    root = check_root(root, TITLE)
    if not _is_tess_dir(root):
        raise wrong_root(TITLE, root, "folders like OAF_angry/ and YAF_pleasant_surprised/ of files like OAF_back_angry.wav",
                         _is_tess_dir)
    return require_some(_clips(root, source), f"{TITLE}: no .wav files under {root}.")


def _clips(root: Path, source: str) -> Iterator[Clip | RejectedRow]:
    seen: dict[str, Path] = {}
    for path in walk_files(root, (".wav",)):
        match = _FILE.match(path.stem)
        if match is None:
            yield reject(source, path.name, "unexplained_file",
                         f"{path}: not <OAF|YAF>_<word>_<emotion>.wav")
            continue
        speaker, word, emotion = match.group(1).upper(), match.group(2), match.group(3).lower()
        native_id = f"{speaker}_{word.lower()}_{emotion}"
        if emotion not in EMOTIONS:
            yield reject(source, native_id, "unknown_code",
                         f"{path}: emotion {emotion!r} is outside TESS's {', '.join(EMOTIONS)}")
            continue
        folder_emotion = _folder_emotion(path.parent.name)
        if folder_emotion is not None and folder_emotion != normalize_emotion(emotion):
            yield reject(source, native_id, "mismatched_label",
                         f"{path}: the file says {emotion} but its folder {path.parent.name} says {folder_emotion}")
            continue
        if native_id in seen:
            yield reject(source, native_id, "duplicate_clip", f"{path}: the same clip as {seen[native_id]}")
            continue
        seen[native_id] = path
        yield make_clip(
            source, native_id, str(path), language="en", speaker=speaker, text=f"Say the word {word.lower()}",
            raw={"emotion": emotion, "gender": "female", "age": SPEAKERS[speaker]},
            extra={"word": word.lower()},
        )
