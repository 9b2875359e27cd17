"""Named presets of the ``hf`` source: Hugging Face Hub copies of the corpora, their columns mapped.

A preset is a hub dataset id, our field -> its column (``fields``, as the ``hf`` source's recipe
``fields`` takes them) and, per field, a map of the dataset's values onto the spellings the label
tables understand (``value_maps``; e.g. a ClassLabel's integers onto its names). Nothing is
downloaded until a preset is read, and only then from the hub id the user chose.

Column names come from each dataset's card (``dataset_info.features``) where it could be read;
each preset's comment says where its names come from and which are assumed. A wrong column is a
clear CorpusError from the ``hf`` source naming the columns that are there; fix it with
``fields=`` (merged over the preset's).

Entry points::

    read_preset("abstracttts_crema_d", split="train")        # Iterator[Clip | RejectedRow]
    read_preset("common_voice_17", config="fr", split="test")
    get_preset("heysquad_human").hf_options()               # kwargs for sources.hf.read_hf
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsift.errors import ConfigError
from speechsift.records import Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.hf import read_hf


@dataclass(frozen=True, slots=True)
class HubPreset:
    """A hub dataset's columns mapped onto our fields.

    Attributes:
        name: the preset's name.
        dataset: the hub id (``owner/name``).
        fields: our field -> the dataset's column (the ``hf`` source's ``fields``; ``audio`` too).
        value_maps: our field -> {the dataset's value (as text) -> the value we read instead}.
        config: the dataset config to load, where the dataset has several (a locale, a mic setup).
        language: the clips' language when no column gives it.
    """

    name: str
    dataset: str
    fields: Mapping[str, str]
    value_maps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    config: str | None = None
    language: str | None = None

    def hf_options(self) -> dict[str, Any]:
        """Keyword arguments for ``sources.hf.read_hf`` (add ``source`` and ``split``)."""
        fields = dict(self.fields)
        audio = fields.pop("audio", "audio")
        return {"dataset": self.dataset, "config": self.config, "language": self.language,
                "audio_column": audio, "fields": fields}


# The AbstractTTS emotion sets (huggingface.co/AbstractTTS): tiny-audio's omni sources, one
# "train" split each, with measured speaking_rate and relative_db beside the labels.
_ABSTRACTTTS_COMMON = {"id": "file", "text": "transcription", "gender": "gender",
                       "speaking_rate": "speaking_rate", "relative_db": "relative_db"}

# MELD's seven emotions in ajyy/MELD_audio's ClassLabel order (its card, dataset_info.features).
_MELD_CLASSES = {"0": "neutral", "1": "joy", "2": "sadness", "3": "anger", "4": "fear", "5": "disgust", "6": "surprise"}

PRESETS: dict[str, HubPreset] = {
    preset.name: preset
    for preset in (
        # Columns from the card of AbstractTTS/CREMA-D: file, audio, per-emotion scores, gender,
        # transcription, major_emotion, speaking_rate, pitch_mean, pitch_std, rms, relative_db.
        HubPreset("abstracttts_crema_d", "AbstractTTS/CREMA-D",
                  {**_ABSTRACTTTS_COMMON, "emotion": "major_emotion"}, language="en"),
        # Columns from the card of AbstractTTS/RAVDESS: file, audio, gender, transcription, emotion,
        # intensity, speaking_rate, pitch_mean, pitch_std, rms, relative_db.
        HubPreset("abstracttts_ravdess", "AbstractTTS/RAVDESS",
                  {**_ABSTRACTTTS_COMMON, "emotion": "emotion"}, language="en"),
        # Columns from windcrossroad/TESS, a copy with AbstractTTS's schema (file, audio, gender,
        # transcription, emotion, speaking_rate, ..., relative_db); not read off AbstractTTS/TESS itself.
        HubPreset("abstracttts_tess", "AbstractTTS/TESS",
                  {**_ABSTRACTTTS_COMMON, "emotion": "emotion"}, language="en"),
        # UNVERIFIED: AbstractTTS/SAVEE's card lists no features we could read; the single-label
        # sets of the group (RAVDESS, TESS) name the label "emotion", assumed here.
        HubPreset("abstracttts_savee", "AbstractTTS/SAVEE",
                  {**_ABSTRACTTTS_COMMON, "emotion": "emotion"}, language="en"),
        # UNVERIFIED: the id (AbstractTTS/ESD) and its columns are assumed from the group's naming;
        # tiny-audio reads "ESD English", so the language is set to en.
        HubPreset("abstracttts_esd", "AbstractTTS/ESD",
                  {**_ABSTRACTTTS_COMMON, "emotion": "emotion"}, language="en"),
        # Columns from windcrossroad/PODCAST_map, a copy with AbstractTTS's schema (file, audio,
        # per-emotion scores, EmoAct/EmoVal/EmoDom, major_emotion, gender, transcription, ...).
        HubPreset("abstracttts_podcast", "AbstractTTS/PODCAST",
                  {**_ABSTRACTTTS_COMMON, "emotion": "major_emotion"}, language="en"),
        # Common Voice 17 as Parquet, one config per locale; columns as in Mozilla's release
        # (client_id, path, sentence, up_votes, down_votes, age, gender, accent, locale, segment,
        # variant, audio). UNVERIFIED mirror id and column set; Mozilla's own repository (below)
        # needs a loading script, which datasets >= 4 no longer runs, and has left the hub.
        HubPreset("common_voice_17", "fixie-ai/common_voice_17_0",
                  {"id": "path", "text": "sentence", "speaker": "client_id", "age": "age", "gender": "gender",
                   "accent": "accent", "language": "locale"}, config="en"),
        HubPreset("common_voice_17_mozilla", "mozilla-foundation/common_voice_17_0",
                  {"id": "path", "text": "sentence", "speaker": "client_id", "age": "age", "gender": "gender",
                   "accent": "accent", "language": "locale"}, config="en"),
        # Columns from the card of ajyy/MELD_audio (text, path, audio, emotion and sentiment as
        # ClassLabels); it is a loading-script dataset, which datasets >= 4 no longer runs.
        HubPreset("meld_audio", "ajyy/MELD_audio", {"text": "text", "emotion": "emotion"},
                  value_maps={"emotion": _MELD_CLASSES}, language="en"),
        # Columns from the card of TwinkStart/MELD (MELD's CSV columns plus audio; test split only).
        HubPreset("meld_test", "TwinkStart/MELD",
                  {"text": "Utterance", "speaker": "Speaker", "emotion": "Emotion"}, language="en"),
        # Columns from the card of yijingwu/HeySQuAD_human (audio, transcription, question, context,
        # answers [{answer_start, text}], is_impossible, id, plausible_answers); train and validation.
        HubPreset("heysquad_human", "yijingwu/HeySQuAD_human",
                  {"id": "id", "text": "transcription", "answers": "answers"}, language="en"),
        # The same schema in fewer, larger shards.
        HubPreset("heysquad_human_fixie", "fixie-ai/HeySQuAD_human",
                  {"id": "id", "text": "transcription", "answers": "answers"}, language="en"),
        # UNVERIFIED: assumed to share HeySQuAD_human's schema.
        HubPreset("heysquad_machine", "yijingwu/HeySQuAD_machine",
                  {"id": "id", "text": "transcription", "answers": "answers"}, language="en"),
        # UNVERIFIED columns: the repository's CSVs (largescaleasr_*.csv) suggest ID, duration, wav,
        # spk_id, text; configs small, medium, large, clean (train) with dev and test splits.
        HubPreset("loquacious", "speechbrain/LoquaciousSet",
                  {"id": "ID", "audio": "wav", "speaker": "spk_id", "text": "text"}, config="small", language="en"),
        # AMI individual headset mics, as the edinburghcstr/ami card describes it (meeting_id,
        # audio_id, text, audio, begin_time, end_time, microphone_id, speaker_id); UNVERIFIED that the
        # repository still loads without its script. Use config="sdm" for the single distant mic.
        HubPreset("ami_ihm", "edinburghcstr/ami",
                  {"id": "audio_id", "text": "text", "speaker": "speaker_id"}, config="ihm", language="en"),
    )
}


def get_preset(name: str) -> HubPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown hub preset {name!r}; the presets are {', '.join(sorted(PRESETS))}.") from None


def list_presets() -> list[HubPreset]:
    return [PRESETS[name] for name in sorted(PRESETS)]


def read_preset(
    name: str,
    *,
    split: str = "train",
    source: str | None = None,
    dataset: str | None = None,
    path: Path | None = None,
    config: str | None = None,
    language: str | None = None,
    fields: Mapping[str, str] | None = None,
) -> Iterator[Clip | RejectedRow]:
    """Clips of a hub preset: the ``hf`` source with the preset's mapping, value maps applied.

    Args:
        name: the preset.
        split: the split to read.
        source: the clips' source name and id prefix (default: the preset's name).
        dataset: another hub id with the same columns (a mirror), instead of the preset's.
        path: a local copy (save_to_disk folder or Parquet files) instead of the hub.
        config: the dataset config (a Common Voice locale, ``sdm`` for AMI) instead of the preset's.
        language: the clips' language instead of the preset's.
        fields: column names merged over the preset's (for a copy that renamed a column).
    """
    preset = get_preset(name)
    options = preset.hf_options()
    options["fields"] = {**options["fields"], **dict(fields or {})}
    if "audio" in options["fields"]:
        options["audio_column"] = options["fields"].pop("audio")
    if path is not None:
        options["dataset"] = None
    elif dataset is not None:
        options["dataset"] = dataset
    if config is not None:
        options["config"] = config
    if language is not None:
        options["language"] = language
    clips = read_hf(source=source or preset.name, path=path, split=split, **options)
    return _mapped(clips, preset.value_maps)


def _answer_text(answer: str) -> str:
    """One answer as text: the hf source writes a SQuAD answer struct as its repr; take its text."""
    if answer.startswith("{") and "'text'" in answer:
        try:
            value = ast.literal_eval(answer)
        except (ValueError, SyntaxError):
            return answer
        if isinstance(value, dict) and "text" in value:
            return str(value["text"])
    return answer


def _mapped(clips: Iterator[Clip | RejectedRow], value_maps: Mapping[str, Mapping[str, str]]) -> Iterator[Clip | RejectedRow]:
    for clip in clips:
        if isinstance(clip, RejectedRow):
            yield clip
            continue
        raw = clip.raw
        if value_maps:
            raw = {f: value_maps.get(f, {}).get(v, v) for f, v in raw.items()}
        extra = clip.extra
        if "answers" in extra:
            extra = {**extra, "answers": [_answer_text(a) for a in extra["answers"]]}
        yield Clip(clip.clip_id, clip.source, clip.audio, clip.language, clip.speaker_id, clip.text, raw,
                   clip.meta, clip.features, extra)


__all__ = ["PRESETS", "HubPreset", "get_preset", "list_presets", "read_preset"]
