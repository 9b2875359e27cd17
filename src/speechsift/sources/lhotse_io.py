"""Lhotse manifests read as their JSON(L) formats: ``lhotse`` is not needed.

Reading (``read_lhotse``): a CutSet manifest, or a RecordingSet with its SupervisionSet, as
``.jsonl``, ``.jsonl.gz`` or ``.json`` (a JSON list). A cut becomes one clip over the cut's window
of its recording (``AudioRef.offset_s``/``duration_s``); with ``split_supervisions=True``, or when
reading recordings and supervisions, each supervision segment becomes one clip over its own window.
Labels come from the supervisions: ``text``, ``speaker``, ``language``, ``gender``, and from their
``custom`` fields ``age``, ``accent``/``accents``, ``emotion`` (and our other label fields by name);
every other ``custom`` entry goes to ``Clip.extra``.

Writing is ``export.lhotse.write_lhotse``.

The formats follow lhotse's ``to_dict``/``from_dict`` (lhotse 1.x): Recording ``{id, sources:
[{type, channels, source}], sampling_rate, num_samples, duration, channel_ids}``,
SupervisionSegment ``{id, recording_id, start, duration, channel, text, language, speaker, gender,
custom, alignment}``, MonoCut ``{id, start, duration, channel, supervisions, recording, custom,
type: "MonoCut"}`` with supervision times relative to the cut.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from speechsift.errors import CorpusError
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import LABEL_FIELDS, RejectedRow

DEFAULT_SOURCE = "lhotse"
# custom keys that carry our labels, by field (lhotse recipes write "accent" or "accents").
CUSTOM_LABELS = {"age": ("age",), "accent": ("accent", "accents"), "emotion": ("emotion",)}
# custom keys written by export.lhotse.write_lhotse for what is not a label.
RESERVED = frozenset({"source", "meta", "features", "extra", *LABEL_FIELDS, "accents"})
# Audio transforms that change nothing we read (we resample on load anyway).
HARMLESS_TRANSFORMS = frozenset({"Resample"})
# A cut that spans its whole recording within this is read as the whole file (no window).
WHOLE_FILE_TOLERANCE_S = 1e-3
_SUFFIXES = (".jsonl.gz", ".jsonl", ".json")


# --- reading --------------------------------------------------------------------------------


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return path.open("r", encoding="utf-8")


def iter_manifest(path: str | Path) -> Iterator[dict[str, Any]]:
    """The items of a lhotse manifest: JSONL (optionally gzipped) or a JSON list."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: lhotse manifest not found.")
    if not path.name.endswith(_SUFFIXES):
        raise CorpusError(f"{path}: a lhotse manifest is .jsonl, .jsonl.gz or .json (YAML is not read).")
    with _open_text(path) as handle:
        if path.name.endswith(".json"):
            try:
                items = json.load(handle)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path}: not valid JSON ({exc}).") from None
            if not isinstance(items, list):
                raise CorpusError(f"{path}: a .json manifest is a JSON list of items.")
            yield from items
            return
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise CorpusError(f"{path} line {number}: not valid JSON ({exc}).") from None
            yield item


def _kind(path: Path) -> str:
    """``cuts``, ``recordings`` or ``supervisions``, from the first item of the manifest."""
    for item in iter_manifest(path):
        if not isinstance(item, dict):
            break
        if "type" in item or "recording" in item or ("supervisions" in item and "start" in item):
            return "cuts"
        if "sources" in item:
            return "recordings"
        if "recording_id" in item:
            return "supervisions"
        break
    raise CorpusError(f"{path}: not a lhotse CutSet, RecordingSet or SupervisionSet manifest.")


def _manifests(folder: Path, word: str) -> list[Path]:
    return sorted(p for p in folder.iterdir() if word in p.name and p.name.endswith(_SUFFIXES))


def _paired_supervisions(recordings: Path) -> Path | None:
    guess = recordings.with_name(recordings.name.replace("recordings", "supervisions"))
    return guess if guess != recordings and guess.is_file() else None


def read_lhotse(
    path: str | Path,
    *,
    supervisions: str | Path | None = None,
    source: str | None = None,
    language: str | None = None,
    split_supervisions: bool = False,
    path_prefix: str | Path | None = None,
) -> Iterator[Clip | RejectedRow]:
    """Clips from lhotse manifests.

    Args:
        path: a CutSet manifest; or a RecordingSet manifest (its SupervisionSet is ``supervisions``,
            or the file beside it named with ``supervisions`` for ``recordings``); or a folder: every
            ``*cuts*`` manifest in it, else every ``*recordings*`` manifest with its supervisions.
        supervisions: the SupervisionSet for a RecordingSet ``path``.
        source: the clips' source name and id prefix; by default the ``source`` that
            ``write_lhotse`` stored in ``custom``, else ``lhotse``. An id that already starts
            with ``<source>/`` is kept as it is.
        language: the clips' language where a supervision gives none.
        split_supervisions: a cut with several supervisions becomes one clip per supervision
            (default: one clip per cut, the texts joined in time order).
        path_prefix: prepended to relative audio paths (lhotse's ``with_path_prefix``).
    """
    path = Path(path).expanduser()
    reader = _Reader(source, language, path_prefix)
    if path.is_dir():
        cuts = _manifests(path, "cuts")
        if cuts:
            for manifest in cuts:
                _kind(manifest)  # each is checked before any is read
            return itertools.chain.from_iterable(reader.cuts(m, split_supervisions) for m in cuts)
        recordings = _manifests(path, "recordings")
        if not recordings:
            raise CorpusError(f"{path}: no *cuts*.jsonl(.gz) or *recordings*.jsonl(.gz) manifest in the folder.")
        if supervisions is not None and len(recordings) > 1:
            raise CorpusError(f"{path}: {len(recordings)} recordings manifests; name one as path with its supervisions.")
        pairs = [(r, Path(supervisions) if supervisions is not None else _paired_supervisions(r)) for r in recordings]
        return itertools.chain.from_iterable(reader.recordings(r, s) for r, s in pairs)
    kind = _kind(path)
    if kind == "cuts":
        return reader.cuts(path, split_supervisions)
    if kind == "supervisions":
        raise CorpusError(f"{path}: a SupervisionSet alone has no audio; give its RecordingSet as path and this as supervisions=.")
    return reader.recordings(path, Path(supervisions) if supervisions is not None else _paired_supervisions(path))


class _Reader:
    def __init__(self, source: str | None, language: str | None, path_prefix: str | Path | None) -> None:
        self.source = source
        self.language = language
        self.path_prefix = str(path_prefix) if path_prefix is not None else None

    # -- manifests

    def cuts(self, path: Path, split_supervisions: bool) -> Iterator[Clip | RejectedRow]:
        for number, cut in enumerate(iter_manifest(path), start=1):
            cut_id = str(cut.get("id") or f"line{number}")
            kind = cut.get("type", "MonoCut")
            if kind not in ("MonoCut", "MultiCut"):
                yield self._reject(cut_id, cut, "unsupported_cut",
                                   f"{path} line {number}: a {kind} (a mix or padding) has no single audio file to point at")
                continue
            recording = cut.get("recording")
            if not isinstance(recording, dict):
                yield self._reject(cut_id, cut, "missing_recording", f"{path} line {number}: the cut has no recording")
                continue
            start, duration = float(cut.get("start", 0.0)), float(cut.get("duration", 0.0))
            sups = sorted(cut.get("supervisions") or [], key=lambda s: float(s.get("start", 0.0)))
            if split_supervisions and len(sups) > 1:
                for sup in sups:
                    # supervision times are relative to the cut; clip the segment to the cut
                    sup_start, sup_duration = float(sup.get("start", 0.0)), float(sup.get("duration", 0.0))
                    if sup_start < 0:
                        sup_start, sup_duration = 0.0, sup_duration + sup_start
                    sup_duration = min(sup_duration, duration - sup_start)
                    yield self._clip(str(sup.get("id")), recording, round(start + sup_start, 9), round(sup_duration, 9),
                                     sup.get("channel", cut.get("channel")), [sup], cut.get("custom"), path, number)
                continue
            yield self._clip(cut_id, recording, start, duration, cut.get("channel"), sups, cut.get("custom"), path, number)

    def recordings(self, path: Path, supervisions: Path | None) -> Iterator[Clip | RejectedRow]:
        recordings: dict[str, dict[str, Any]] = {}
        for item in iter_manifest(path):
            recordings[str(item.get("id"))] = item
        if supervisions is None:
            for number, (rec_id, recording) in enumerate(recordings.items(), start=1):
                yield self._clip(rec_id, recording, 0.0, float(recording.get("duration", 0.0)), None, [], None, path, number)
            return
        used: set[str] = set()
        for number, sup in enumerate(iter_manifest(supervisions), start=1):
            sup_id = str(sup.get("id") or f"line{number}")
            recording = recordings.get(str(sup.get("recording_id")))
            if recording is None:
                yield self._reject(sup_id, sup, "missing_recording",
                                   f"{supervisions} line {number}: recording {sup.get('recording_id')!r} is not in {path}")
                continue
            used.add(str(sup.get("recording_id")))
            yield self._clip(sup_id, recording, float(sup.get("start", 0.0)), float(sup.get("duration", 0.0)),
                             sup.get("channel"), [{**sup, "start": 0.0}], None, supervisions, number)
        for rec_id in recordings.keys() - used:
            yield self._reject(rec_id, recordings[rec_id], "no_supervision",
                               f"{path}: recording {rec_id} has no supervision in {supervisions}")

    # -- one clip

    def _source_of(self, *customs: Any) -> str:
        if self.source:
            return self.source
        for custom in customs:
            if isinstance(custom, dict) and isinstance(custom.get("source"), str):
                return custom["source"]
        return DEFAULT_SOURCE

    def _id(self, source: str, native_id: str) -> str:
        return native_id if native_id.startswith(f"{source}/") else f"{source}/{native_id}"

    def _reject(self, native_id: str, item: dict[str, Any], reason: str, message: str) -> RejectedRow:
        source = self._source_of(item.get("custom"), *(s.get("custom") for s in item.get("supervisions") or []))
        return RejectedRow(self._id(source, native_id), source, reason, message)

    def _audio(self, recording: dict[str, Any], offset: float, duration: float, channel: Any) -> AudioRef | str:
        """The AudioRef for a window of a recording, or the reason it cannot be pointed at."""
        transforms = [t for t in recording.get("transforms") or []
                      if (t.get("name") if isinstance(t, dict) else None) not in HARMLESS_TRANSFORMS]
        if transforms:
            names = ", ".join(str(t.get("name", t)) if isinstance(t, dict) else str(t) for t in transforms)
            return f"unsupported_transform:the recording is transformed ({names}); speechsift reads files as they are"
        sources = recording.get("sources") or []
        wanted = channel if isinstance(channel, int) else None
        chosen = next((s for s in sources if wanted is None or wanted in (s.get("channels") or [])), None)
        if chosen is None:
            return f"missing_audio:no audio source holds channel {wanted}"
        if chosen.get("type") != "file":
            return f"unsupported_audio_source:audio source type {chosen.get('type')!r}; only 'file' sources are read"
        file_path = str(chosen.get("source"))
        if self.path_prefix is not None and not os.path.isabs(file_path):
            file_path = os.path.join(self.path_prefix, file_path)
        file_channels = chosen.get("channels") or [0]
        audio_channel = file_channels.index(wanted) if wanted is not None and len(file_channels) > 1 else None
        rate = recording.get("sampling_rate")
        whole = float(recording.get("duration") or 0.0)
        is_whole = offset <= WHOLE_FILE_TOLERANCE_S and abs(offset + duration - whole) <= WHOLE_FILE_TOLERANCE_S
        return AudioRef(path=file_path, sampling_rate=int(rate) if rate else None,
                        offset_s=0.0 if is_whole else offset, duration_s=None if is_whole else duration,
                        channel=audio_channel)

    def _clip(self, native_id: str, recording: dict[str, Any], offset: float, duration: float, channel: Any,
              sups: list[dict[str, Any]], cut_custom: Any, origin: Path, number: int) -> Clip | RejectedRow:
        customs = [s.get("custom") for s in sups] + [cut_custom]
        source = self._source_of(*customs)
        clip_id = self._id(source, native_id)
        if sups and isinstance(sups[0].get("channel"), int) and channel is None:
            channel = sups[0]["channel"]
        audio = self._audio(recording, offset, duration, channel)
        if isinstance(audio, str):
            reason, _, message = audio.partition(":")
            return RejectedRow(clip_id, source, reason, f"{origin} line {number}: {message}")
        raw: dict[str, str] = {}
        extra: dict[str, Any] = {}
        meta: dict[str, str] = {}
        features: dict[str, float] = {}
        if isinstance(cut_custom, dict):
            _custom_into(cut_custom, raw, extra, meta, features)
        labels_per_sup = []
        for sup in sups:
            sup_raw: dict[str, str] = {}
            if sup.get("gender"):
                sup_raw["gender"] = str(sup["gender"])
            if isinstance(sup.get("custom"), dict):
                _custom_into(sup["custom"], sup_raw, extra, meta, features)
            if sup.get("alignment"):
                extra.setdefault("alignment", sup["alignment"])
            labels_per_sup.append(sup_raw)
        for label in {k for labels in labels_per_sup for k in labels}:
            values = {labels.get(label) for labels in labels_per_sup}
            if len(values) == 1:  # a label every supervision agrees on (a cut of one speaker)
                raw[label] = values.pop()
        texts = [str(s["text"]).strip() for s in sups if s.get("text")]
        speakers = list(dict.fromkeys(str(s["speaker"]) for s in sups if s.get("speaker")))
        languages = list(dict.fromkeys(str(s["language"]) for s in sups if s.get("language")))
        if len(speakers) > 1:
            extra["speakers"] = speakers
        return Clip(
            clip_id,
            source,
            audio,
            languages[0] if len(languages) == 1 else self.language,
            speakers[0] if len(speakers) == 1 else None,
            " ".join(texts) if texts else None,
            raw,
            meta,
            features,
            extra,
        )


def _custom_into(custom: dict[str, Any], raw: dict[str, str], extra: dict[str, Any], meta: dict[str, str],
                 features: dict[str, float]) -> None:
    """Split a lhotse ``custom`` dict into our raw labels, meta, features and extra."""
    taken: set[str] = set()
    for label, keys in CUSTOM_LABELS.items():
        for key in keys:
            value = custom.get(key)
            if value not in (None, ""):
                raw.setdefault(label, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
                taken.add(key)
                break
    for label in LABEL_FIELDS:
        if label not in taken and custom.get(label) not in (None, ""):
            raw.setdefault(label, str(custom[label]))
            taken.add(label)
    for key, value in custom.items():
        if key in taken or key == "source":
            continue
        if key == "meta" and isinstance(value, dict):
            meta.update({k: str(v) for k, v in value.items() if v is not None})
        elif key == "features" and isinstance(value, dict):
            features.update({k: float(v) for k, v in value.items() if isinstance(v, (int, float))})
        elif key == "extra" and isinstance(value, dict):
            extra.update(value)
        elif key not in RESERVED:
            extra.setdefault(key, value)


__all__ = ["CUSTOM_LABELS", "DEFAULT_SOURCE", "RESERVED", "iter_manifest", "read_lhotse"]
