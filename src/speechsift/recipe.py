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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from speechsift.curate.config import CurateConfig
from speechsift.errors import ConfigError

if TYPE_CHECKING:
    from speechsift.llm.retry import RetryPolicy

EXPORT_FORMATS = ("parquet", "sift_jsonl", "messages", "desta_jsonl")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManifestSource(_Section):
    """A CSV or JSONL manifest, one row per clip."""

    kind: Literal["manifest"]
    name: str = Field(min_length=1)
    path: Path
    language: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
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


Source = Annotated[Union[ManifestSource, HFSource, CorpusSource, LhotseSource], Field(discriminator="kind")]


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


class RetryConfig(_Section):
    """How remote calls are retried (see llm/retry.py for what counts as retryable)."""

    max_attempts: int = Field(6, ge=1)
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(30.0, ge=0)
    retry_after_max_s: float = Field(60.0, ge=0)

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


class OutputConfig(_Section):
    dir: Path | None = None  # default: out/<recipe name>
    audio: Literal["embed", "path"] = "embed"
    formats: list[Literal["parquet", "sift_jsonl", "messages", "desta_jsonl"]] = Field(
        default_factory=lambda: ["parquet", "sift_jsonl", "messages"]
    )
    report: bool = True  # OUT/report/index.html at the end of every run


class LabelsConfig(_Section):
    """Labels measured from the audio (``features``): how numbers become words, and who wins."""

    # Bin edges as written by `speechsift features --fit-bins` (fitted on a dataset); default:
    # the seed's fixed pace/volume thresholds and gender-relative pitch bins.
    bins: Path | None = None
    # Per meta field: corpus | measured | corpus_then_measured (the default for every field).
    prefer: dict[str, Literal["corpus", "measured", "corpus_then_measured"]] = Field(default_factory=dict)


class EngineConfig(_Section):
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
    # The longest clip the enrich stage (`features:`) measures: measuring holds about 2 MB of
    # working memory per second of audio in each worker, so this bounds it (about 0.6 GB at 300 s);
    # a longer clip is a `too_long_to_measure` reject. null: no bound.
    max_measure_s: float | None = Field(300.0, gt=0)

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
    sources: list[Source] = Field(min_length=1)
    tasks: list[Union[str, TaskSpec]] = Field(min_length=1)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    # Measured from the audio by the enrich stage: duration, loudness, pitch, rate, snr.
    features: list[Literal["duration", "loudness", "pitch", "rate", "snr"]] = Field(default_factory=list)
    labels: LabelsConfig = Field(default_factory=LabelsConfig)
    splits: SplitsConfig = Field(default_factory=SplitsConfig)
    mix: MixConfig | None = None
    # Quality scores and filters (speechsift.curate.config.CurateConfig); with it, `complete/`
    # holds every example with its scores and `data/` the filtered set.
    curate: CurateConfig | None = None

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
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique, got {names}")
        for spec in self.task_specs:
            for name in spec.sources or []:
                if name not in names:
                    raise ValueError(f"task {spec.name!r} names source {name!r}, which the recipe does not define")
        return self

    @property
    def task_specs(self) -> list[TaskSpec]:
        return [t if isinstance(t, TaskSpec) else TaskSpec(name=t) for t in self.tasks]

    @property
    def output_dir(self) -> Path:
        return self.output.dir or Path("out") / self.name


# Hints appended to pydantic's messages for the errors users meet most.
_FIX_HINTS = {
    "extra_forbidden": "remove it or check its spelling",
    "missing": "add it",
    "union_tag_invalid": "use kind: manifest, hf, corpus or lhotse",
    "union_tag_not_found": "add `kind: manifest` (or hf, corpus, lhotse) to the source",
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
    if isinstance(data.get("labels"), dict):
        places.append((data["labels"], "bins"))
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
