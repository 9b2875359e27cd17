"""Common Voice (Mozilla): crowd-sourced read speech in 100+ languages, any release (1 to 2x).

Source: https://commonvoice.mozilla.org/datasets (now also https://datacollective.mozillafoundation.org).
Licence: CC0 1.0 (speakers' voices and sentences in the public domain; do not try to identify speakers).
Speech: one locale per folder; clips are MP3, ``clips/<path>``.
Labels: age bucket (teens, twenties, ... nineties), gender, accent(s) per row, as the contributor
gave them. Both spellings are read: releases before 8 have ``accent`` and gender
``male``/``female``/``other``; later ones ``accents`` (free text), and from release 17 gender
``male_masculine``/``female_feminine``/``intersex``/``transgender``/``non-binary``/
``do_not_wish_to_say`` (the last three without a mapping onto our two genders: kept in raw only).
``variant``, ``sentence_id``, ``sentence_domain`` and ``segment`` (where present and not empty) go
to ``extra``, with the split file each clip came from.

Layout::

    cv-corpus-17.0-2024-03-15/en/
      validated.tsv train.tsv dev.tsv test.tsv other.tsv invalidated.tsv ...
      clip_durations.tsv                 # releases 15+: clip<TAB>duration[ms]
      clips/common_voice_en_123.mp3

The TSV files are not quoted: a sentence may hold a double quote, so they are read with
quoting off, positionally, one row -> one clip, without touching the audio.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from speechsift.errors import ConfigError, CorpusError
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import register_corpus
from speechsift.sources.corpora._common import check_root, reject, require_some, wrong_root

NAME = "common_voice"
TITLE = "Common Voice"

# TSV files beside the clip lists that do not list clips.
NOT_CLIP_LISTS = frozenset({"clip_durations", "validated_sentences", "unvalidated_sentences", "reported"})
# Columns read as labels: our field -> the spellings across releases, newest first.
LABEL_COLUMNS = {"age": ("age",), "gender": ("gender",), "accent": ("accents", "accent")}
EXTRA_COLUMNS = ("variant", "sentence_id", "sentence_domain", "segment")
REQUIRED = ("path", "sentence")


def _is_locale_dir(folder: Path) -> bool:
    return (folder / "clips").is_dir() and any(
        (folder / f"{name}.tsv").is_file() for name in ("validated", "train", "dev", "test", "other")
    )


def available_splits(folder: Path) -> list[str]:
    """The clip-list TSV files of a locale folder, by name without ``.tsv``."""
    return sorted(p.stem for p in folder.glob("*.tsv") if p.stem not in NOT_CLIP_LISTS)


@register_corpus(
    NAME,
    title=TITLE,
    languages=("multilingual",),
    licence="CC0 1.0",
    layout="<locale>/{validated,train,dev,test,other,...}.tsv + <locale>/clips/*.mp3",
    labels={
        "age": ("teens", "twenties", "thirties", "fourties", "fifties", "sixties", "seventies", "eighties", "nineties"),
        "gender": ("male", "female", "other", "male_masculine", "female_feminine", "intersex", "transgender",
                   "non-binary", "do_not_wish_to_say"),
        "accent": ("free text (accents), or codes such as us, england (accent, before release 8)",),
    },
    homepage="https://commonvoice.mozilla.org/datasets",
    aliases=("cv", "commonvoice", "mozilla common voice"),
)
def read_common_voice(
    root: Path,
    *,
    source: str = NAME,
    splits: Sequence[str] | str = ("validated",),
    language: str | None = None,
    check_audio: bool = True,
    durations: bool = False,
) -> Iterator[Clip | RejectedRow]:
    """Clips of one Common Voice locale folder.

    Args:
        root: the locale folder (``cv-corpus-17.0-2024-03-15/en``), holding the TSV files and ``clips/``.
        source: the clips' source name and id prefix.
        splits: the clip lists to read, by file name without ``.tsv``: ``validated`` (the default;
            it holds train, dev and test), ``train``/``dev``/``test``, ``other``, ``invalidated``.
            A clip listed in two of them is read once.
        language: the clips' language; by default each row's ``locale`` or the folder's name.
        check_audio: reject rows whose MP3 is not in ``clips/`` (one ``stat`` per row).
        durations: read ``clip_durations.tsv`` (releases 15+) into ``features["duration_s"]``.
    """
    if isinstance(splits, str):
        splits = (splits,)
    splits = tuple(splits)
    if not splits:
        raise ConfigError(f"{TITLE}: splits is empty; name at least one clip list (validated, train, ...).")
    root = check_root(root, TITLE)
    if not _is_locale_dir(root):
        raise wrong_root(TITLE, root, "a locale folder holding validated.tsv (or train/dev/test.tsv) and clips/",
                         _is_locale_dir)
    present = available_splits(root)
    missing = [s for s in splits if s not in present]
    if missing:
        raise CorpusError(
            f"{TITLE}: {', '.join(f'{s}.tsv' for s in missing)} not found in {root}; "
            f"the clip lists there are {', '.join(present)}."
        )
    lengths = _durations(root / "clip_durations.tsv") if durations else None
    return require_some(_clips(root, splits, source, language, check_audio, lengths),
                        f"{TITLE}: {', '.join(f'{s}.tsv' for s in splits)} in {root} list no clips.")


def _durations(path: Path) -> dict[str, float]:
    if not path.is_file():
        raise CorpusError(f"{path}: not found (it comes with releases 15 and later); read with durations=False.")
    with path.open("r", encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(rows, None)
        out: dict[str, float] = {}
        for row in rows:
            if len(row) >= 2:
                try:
                    out[row[0]] = float(row[1]) / 1000.0
                except ValueError:
                    continue
    return out


def _clips(root: Path, splits: tuple[str, ...], source: str, language: str | None, check_audio: bool,
           lengths: dict[str, float] | None) -> Iterator[Clip | RejectedRow]:
    clips_dir = str(root / "clips") + os.sep
    seen: set[str] | None = set() if len(splits) > 1 else None
    default_language = language or root.name
    exists = os.path.exists
    prefix = f"{source}/"
    for split in splits:
        tsv = root / f"{split}.tsv"
        with tsv.open("r", encoding="utf-8", errors="surrogateescape", newline="") as handle:
            rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(rows, None)
            if not header:
                continue  # an empty clip list (invalidated.tsv of a young locale)
            absent = [c for c in REQUIRED if c not in header]
            if absent:
                raise CorpusError(f"{tsv}: no column(s) {', '.join(absent)}; the columns are {', '.join(header)}.")
            width = len(header)
            at_path, at_text = header.index("path"), header.index("sentence")
            at_speaker = header.index("client_id") if "client_id" in header else None
            at_locale = header.index("locale") if "locale" in header and language is None else None
            labels = _label_positions(header)
            extras = [(c, header.index(c)) for c in EXTRA_COLUMNS if c in header]
            for number, row in enumerate(rows, start=2):
                if len(row) != width:
                    if not row:
                        continue
                    yield reject(source, f"{split}/line{number}", "bad_row",
                                 f"{tsv} line {number}: {len(row)} cells where the header has {width}")
                    continue
                name = row[at_path]
                if not name.endswith(".mp3"):
                    name = f"{name}.mp3" if "." not in name else name  # releases 1-3 wrote paths without .mp3
                native_id = name.removesuffix(".mp3")
                if seen is not None:
                    if native_id in seen:
                        continue
                    seen.add(native_id)
                text = row[at_text]
                if not text.isascii():
                    try:
                        text.encode("utf-8")
                    except UnicodeEncodeError:
                        yield reject(source, native_id, "undecodable_text", f"{tsv} line {number}: bytes that are not UTF-8")
                        continue
                path = clips_dir + name
                if check_audio and not exists(path):
                    yield reject(source, native_id, "missing_audio", f"{tsv} line {number}: {path} not found")
                    continue
                # every clip owns its dicts (records never share mutable state)
                raw, meta, features = {field: row[at] for field, at in labels if row[at]}, {}, {}
                extra = {"split": split}
                for column, at in extras:
                    if row[at]:
                        extra[column] = row[at]
                if lengths is not None:
                    length = lengths.get(name)
                    if length is not None:
                        features["duration_s"] = length
                yield Clip(
                    prefix + native_id,
                    source,
                    AudioRef(path),
                    (row[at_locale] or default_language) if at_locale is not None else default_language,
                    row[at_speaker] if at_speaker is not None else None,
                    text,
                    raw,
                    meta,
                    features,
                    extra,
                )


def _label_positions(header: list[str]) -> list[tuple[str, int]]:
    """Our field -> column position, taking the newest spelling present (``accents`` over ``accent``)."""
    positions = []
    for field, names in LABEL_COLUMNS.items():
        for column in names:
            if column in header:
                positions.append((field, header.index(column)))
                break
    return positions
