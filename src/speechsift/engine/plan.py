"""The plan of a run, as data any executor can run: the shards and the stage chain of each kind.

A recipe compiles to shard specs (``ShardSpec``: its number, its kind, its input items and a digest
of them) in a fixed order, and to the stages that run on each kind of shard (``Stages``):

- ``clips``: the next ``engine.shard_size`` rows of the recipe's sources (``Clip``s, and the rows a
  source could not read), through the clip chain (read, normalize, tts, probe_audio, enrich,
  acoustic_filter), expanded into examples (``tasks``). With pair tasks, a clip shard also writes
  its clips to the pairing index (``layout.clips_part``).
- ``pairs``: after every clip shard, the pairs each pair task forms over that index
  (``engine/pairs.py``), built into examples (``pairs``).
- ``text``: the text tasks' items, planned over the whole recipe (``engine/text_items.py``),
  built into examples (``text``).

Every kind then goes through generation (``generate``, and ``generate.step`` for the later steps of
multi-step tasks) and the stages on finished examples (speech: ``tts_instruction``,
``tts_response``). Numbering runs on across kinds (clip shards first), so a shard never mixes them.

The shard fingerprint (``shard_fingerprint``: the recipe sections the shard stages use) and a
shard's digest decide whether a finished shard can be reused (``executor.Executor``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, Literal

from speechsift.engine.enrich import AcousticFilter, Enrich, MapFn
from speechsift.engine.pairs import PairItem, pair_specs, plan_pairs
from speechsift.engine.stage import Stage
from speechsift.engine.stages import BuildPairs, BuildText, ExpandTasks, Generate, NormalizeLabels, ProbeAudio, Read
from speechsift.engine.text_items import plan_text_items
from speechsift.errors import ConfigError
from speechsift.labels.bins import load_bins
from speechsift.llm.types import SamplingParams
from speechsift.records import Clip
from speechsift.sources import RejectedRow, read_sources
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.text import TextItem

if TYPE_CHECKING:
    from speechsift.layout import OutputLayout
    from speechsift.llm.base import Backend
    from speechsift.recipe import Recipe

MARKER_VERSION = 2
ShardKind = Literal["clips", "pairs", "text"]

# Recipe sections only the release uses (the assemble pass, exports, card, report), and `eval`, which
# only `speechsift eval` reads: changing them redoes the release and never a shard. (Of `curate`, the
# clip filter on measurements is a shard stage: shard_fingerprint keeps its settings.)
RELEASE_SECTIONS = ("name", "description", "license", "output", "curate", "splits", "mix", "eval")
# Settings of how the shard stages run and how requests travel, not of what they make or ask (the
# ledger key ignores them too): changing them redoes nothing.
RUNTIME_SETTINGS = {
    "llm": ("api_base", "api_key_env", "concurrency", "timeout_s", "retry", "ledger", "cache", "batch_size"),
    "engine": ("workers", "executor", "ray_address", "cache_dir"),
}


def _hash(data: Any) -> str:
    blob = json.dumps([MARKER_VERSION, data], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def shard_fingerprint(recipe: "Recipe") -> str:
    """A hash of what the shard stages use (sources, tasks, what is asked of the LLM, features,
    labels, the clip filter on measurements, shard size): not the release sections, not how
    requests travel."""
    exclude: dict[str, Any] = {name: True for name in RELEASE_SECTIONS}
    exclude.update({section: set(names) for section, names in RUNTIME_SETTINGS.items()})
    data = recipe.model_dump(mode="json", exclude=exclude)
    data["acoustic_filter"] = {setting: getattr(recipe.curate, setting, None) for setting, *_ in AcousticFilter.THRESHOLDS}
    return _hash(data)


def release_fingerprint(recipe: "Recipe", digests: list[str]) -> str:
    """A hash of everything the release depends on: the whole recipe and every shard's inputs."""
    return _hash([recipe.model_dump(mode="json"), digests])


def batch_digest(batch: Iterable[Clip | RejectedRow | PairItem | TextItem]) -> str:
    """A hash of a shard's input rows: ids, audio locations, text and raw labels."""
    h = hashlib.sha256()
    for item in batch:
        if isinstance(item, PairItem):
            h.update(f"P\x1f{item.task}\x1f".encode())
            h.update(batch_digest([item.a, item.b]).encode())
        elif isinstance(item, TextItem):
            h.update(json.dumps(["T", item.task, item.item_id, item.source, item.instruction, item.language,
                                 item.fields], sort_keys=True, default=str).encode("utf-8", "surrogateescape"))
        elif isinstance(item, RejectedRow):
            h.update(f"R\x1f{item.id}\x1f{item.reason}\x1e".encode("utf-8", "surrogateescape"))
        else:
            a = item.audio
            h.update(
                f"C\x1f{item.clip_id}\x1f{a.path}\x1f{a.offset_s}\x1f{a.duration_s}\x1f{len(a.bytes or b'')}"
                f"\x1f{item.language}\x1f{item.speaker_id}\x1f{item.text}\x1f{sorted(item.raw.items())}"
                f"\x1f{sorted(item.extra.items())}\x1e".encode("utf-8", "surrogateescape")
            )
    return h.hexdigest()[:24]


@dataclass(frozen=True)
class ShardSpec:
    """One shard: its number, its kind, its input items (source rows, pairs or text items) and
    their digest. ``clip_index`` is the pairing-index part a clip shard writes (None: it writes
    none, the recipe having no pair task)."""

    index: int
    kind: ShardKind
    items: tuple[Any, ...]
    digest: str
    clip_index: PurePath | None = None

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Stages:
    """The stage chain of each shard kind: the clip stages and the expansion into examples
    (``clips``), the builders of planned items (``pairs``, ``text``), generation (``generate``, and
    ``generate_step`` for the later steps of multi-step tasks) and the stages on finished examples."""

    clips: list[Stage]
    expand: ExpandTasks
    pairs: BuildPairs
    texts: BuildText
    generate: Generate
    after_generate: list[Stage] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.generate_step = self.generate.later()

    def builder(self, kind: ShardKind) -> Stage | None:
        """What makes a shard's examples from its items, for the planned kinds (None for clips)."""
        return {"clips": None, "pairs": self.pairs, "text": self.texts}[kind]

    @property
    def clip_stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.clips)


def task_settings(recipe: "Recipe") -> TaskSettings:
    return TaskSettings(
        sampling=SamplingParams(
            temperature=recipe.llm.temperature,
            top_p=recipe.llm.top_p,
            max_tokens=recipe.llm.max_tokens,
            seed=recipe.llm.seed,
        ),
        options={spec.name: spec.options for spec in recipe.task_specs},
        voice=recipe.curate.voice_suitability if recipe.curate is not None else None,
        models={"default": recipe.llm.model, **{name: config.model for name, config in recipe.llms.items()}},
    )


def build_stages(recipe: "Recipe", backend: "Backend", layout: "OutputLayout", map: MapFn = map) -> Stages:
    """The recipe's stage chains; ``map`` is where the executor runs spread-out work (measuring)."""
    from speechsift.engine.speech import speech_stages  # speechsift.tts imports the layout

    settings = task_settings(recipe)
    engine = recipe.engine
    synthesize, speaking = speech_stages(recipe, layout)
    clips: list[Stage] = [Read(), NormalizeLabels(), *([synthesize] if synthesize else []),
                          ProbeAudio(engine.verify_audio == "decode", engine.min_duration_s, engine.max_duration_s)]
    if recipe.features:
        bins = load_bins(recipe.labels.bins) if recipe.labels.bins else None
        clips.append(Enrich(recipe.features, bins, recipe.labels.prefer, map,
                            gender_from_pitch=recipe.labels.gender_from_pitch, max_measure_s=engine.max_measure_s))
        acoustic = AcousticFilter.from_curate(recipe.curate)
        if acoustic is not None:
            clips.append(acoustic)
    return Stages(
        clips,
        ExpandTasks(recipe.task_specs, settings, samples=recipe.llm.n),
        BuildPairs(recipe.task_specs, settings, samples=recipe.llm.n),
        BuildText(recipe.task_specs, settings, samples=recipe.llm.n),
        Generate(backend, check_language=language_check_ready(recipe)),
        list(speaking),
    )


def check_backend(recipe: "Recipe", backend: "Backend") -> None:
    """Every LLM task of the recipe must be one the backend can write."""
    for spec in recipe.task_specs:
        task = get_task(spec.name)
        if task.needs_llm and not backend.supports(task.name):
            raise ConfigError(
                f"llm.backend: task {task.name!r} needs an LLM, and the {backend.name!r} backend cannot "
                f"write it. Use `llm.backend: openai` with `llm.model` and `llm.api_base` (any "
                f"OpenAI-compatible server), or drop {task.name!r} from tasks."
            )


def language_check_ready(recipe: "Recipe") -> bool:
    """Whether answers are checked for the clip's language: when a task asks for it. The check
    needs Lingua (the curate extra); without it the run stops before it starts, not mid-way."""
    checking = [s.name for s in recipe.task_specs if getattr(get_task(s.name), "checks_language", False)]
    if not checking:
        return False
    try:
        import lingua  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"tasks: {', '.join(checking)} check that the LLM answers in the clip's language, which needs "
            "Lingua: pip install -c constraints.txt 'speechsift[curate]'."
        ) from None
    return True


@dataclass
class PlannedShards:
    """Shards cut one at a time as they are iterated; ``items``: how many items they hold in all."""

    items: int
    specs: Iterator[ShardSpec]

    def __bool__(self) -> bool:
        return self.items > 0

    def __iter__(self) -> Iterator[ShardSpec]:
        return self.specs


class Plan:
    """The shards of ``recipe`` (up to ``limit`` source rows), kind by kind, numbered in order.

    ``clip_shards()`` streams the sources in shards; ``pair_shards(parts)`` forms the pairs over the
    clip index parts the clip shards wrote (so it runs after them); ``text_shards()`` plans the text
    tasks' items. ``pairing`` is what pairing and the text plans report, for run.json."""

    def __init__(self, recipe: "Recipe", layout: "OutputLayout", limit: int | None = None) -> None:
        self.recipe = recipe
        self.layout = layout
        self.limit = limit
        self.fingerprint = shard_fingerprint(recipe)
        self.size = recipe.engine.shard_size
        self.has_pairs = bool(pair_specs(recipe))
        self.pairing: dict[str, Any] = {}
        self.shards = 0  # shards planned so far (the next one's number)

    def _cut(self, kind: ShardKind, items: Iterable[Any]) -> Iterator[ShardSpec]:
        iterator = iter(items)
        while batch := tuple(itertools.islice(iterator, self.size)):
            index = self.shards
            self.shards += 1
            clip_index = self.layout.clips_part(index) if kind == "clips" and self.has_pairs else None
            yield ShardSpec(index, kind, batch, batch_digest(batch), clip_index)

    def clip_shards(self) -> Iterator[ShardSpec]:
        rows: Iterable[Any] = read_sources(self.recipe)
        if self.limit is not None:
            rows = itertools.islice(rows, self.limit)
        return self._cut("clips", rows)

    def pair_shards(self, clip_index: list[PurePath]) -> "PlannedShards":
        """The pair shards over the clip index parts (the clip shards' ``clip_index``), each with
        its clips read when it comes up."""
        if not self.has_pairs:
            return PlannedShards(0, iter(()))
        pairs, self.pairing = plan_pairs(self.recipe, clip_index, self.layout.storage, self.layout.pair_work)

        def specs() -> Iterator[ShardSpec]:
            try:
                yield from self._cut("pairs", itertools.chain.from_iterable(pairs.shards()))
            finally:
                pairs.remove()

        return PlannedShards(len(pairs), specs())

    def text_shards(self) -> list[ShardSpec]:
        items, report = plan_text_items(self.recipe, self.limit)
        self.pairing.update(report)
        return list(self._cut("text", items))


__all__ = ["MARKER_VERSION", "Plan", "PlannedShards", "ShardSpec", "Stages", "batch_digest", "build_stages", "check_backend",
           "release_fingerprint", "shard_fingerprint"]
