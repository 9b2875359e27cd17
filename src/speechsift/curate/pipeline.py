"""Curation entry points: build the scorers, filters and dedup index a ``CurateConfig`` asks for,
and run them over batches of examples.

Typical global pass (what the engine does after generation)::

    curator = Curator(config)                       # loads models and word lists once
    index = curator.dedup_index(folder, expected)   # spills its keys under folder
    for part, batch in enumerate(shards):           # pass 1
        curator.score(batch)                        # quality columns, in place
        kept, dropped = apply_filters(batch, curator.filters)
        index.add(kept, part)                       # dedup sees only examples that survive
    for part, batch in enumerate(shards):           # pass 2 (re-read)
        found = index.duplicates_in(part)           # worked out once, partition by partition
        for example in batch:
            example.quality = annotated(example.quality, found.get(example.id))
        kept, dropped = apply_filters(batch, curator.filters)   # now with the dedup filters
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from speechsift.curate.base import ColumnType, Scorer, declared_columns
from speechsift.curate.boilerplate import BoilerplateScorer
from speechsift.curate.config import CurateConfig
from speechsift.curate.consistency import ConsistencyScorer
from speechsift.curate.dedup import DEDUP_COLUMNS, DedupIndex
from speechsift.curate.embeddings import DomainScorer, Embedder
from speechsift.curate.filters import Dropped, Filter, apply_filters, build_filters
from speechsift.curate.judge import LLMJudge
from speechsift.curate.language import LanguageScorer
from speechsift.curate.leakage import LeakageScorer
from speechsift.curate.length import AudioScorer, LengthScorer
from speechsift.curate.readability import ReadabilityScorer
from speechsift.curate.repetition import RepetitionScorer
from speechsift.curate.speechworthy import SpeechworthyScorer
from speechsift.curate.text import ResponseText
from speechsift.curate.toxicity import ToxicityClassifier, ToxicityScorer
from speechsift.records import Example

if TYPE_CHECKING:
    from speechsift.llm.base import Backend

log = logging.getLogger("speechsift.curate")

# Every scorer, in the order they run (cheap first; the model-based ones last).
SCORER_TYPES: tuple[type[Scorer], ...] = (
    AudioScorer, LengthScorer, RepetitionScorer, BoilerplateScorer, LeakageScorer, ConsistencyScorer,
    LanguageScorer, ReadabilityScorer, SpeechworthyScorer, ToxicityScorer, DomainScorer, LLMJudge,
)

# Every column score_examples and DedupIndex.annotate can write, with its type: the Parquet
# writer's schema for ``quality``. A column an example lacks is null. "float" columns that count
# things (length_words, speech_unspeakable, ...) hold whole numbers.
QUALITY_COLUMNS: dict[str, ColumnType] = {**declared_columns(SCORER_TYPES), **DEDUP_COLUMNS}

_ARROW_TYPES = {"float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}


def quality_arrow_type() -> pa.StructType:
    """The ``quality`` column's Arrow type: a struct with one nullable field per quality column."""
    return pa.struct([pa.field(name, _ARROW_TYPES[kind]) for name, kind in QUALITY_COLUMNS.items()])


def quality_array(qualities: Sequence[dict]) -> pa.StructArray:
    """The ``quality`` column of examples with these quality dicts (``quality_arrow_type()``):
    Arrow reads each column from the dicts itself (null when missing, unknown keys left out,
    counts as floats); a value it will not take for its column goes through ``quality_row``."""
    try:
        return pa.array(qualities, quality_arrow_type())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pa.array([quality_row(quality) for quality in qualities], quality_arrow_type())


def quality_row(quality: dict) -> dict:
    """``quality`` as a row of ``quality_arrow_type()``: every column present (null when missing),
    unknown keys left out, counts as floats."""
    row = {}
    for name, kind in QUALITY_COLUMNS.items():
        value = quality.get(name)
        if value is not None and kind == "float":
            value = float(value)
        row[name] = value
    return row


def build_scorers(config: CurateConfig, *, judge_backend: Backend | None = None,
                  embedder: Embedder | None = None) -> list[Scorer]:
    """The scorers ``config`` asks for, in running order."""
    scorers: list[Scorer] = [
        AudioScorer(),
        LengthScorer(),
        RepetitionScorer(),
        BoilerplateScorer(),
        LeakageScorer(),
        ConsistencyScorer(config.description_tasks),
        LanguageScorer(config.languages, accuracy=config.language_accuracy, min_words=config.language_min_words,
                       detect=config.language_check, fast_path=config.language_fast_path),
        ReadabilityScorer(),
        SpeechworthyScorer(),
    ]
    classifier = None
    if config.toxicity_model is not None:
        classifier = ToxicityClassifier(config.toxicity_model, labels=config.toxicity_labels,
                                        device=config.toxicity_device)
    scorers.append(ToxicityScorer(wordlists=config.toxicity_wordlists, classifier=classifier))
    if config.embeddings:
        if embedder is None:
            raise ValueError("build_scorers: embeddings are on but no embedder was given")
        scorers.append(DomainScorer(embedder, [d.model_dump() for d in config.domains] if config.domains else None,
                                    [d.model_dump() for d in config.instruction_domains]
                                    if config.instruction_domains else None))
    if config.judge is not None:
        judge = config.judge
        if judge_backend is None:
            from speechsift.llm import make_backend

            judge_backend = make_backend(judge.llm, "curate.judge.llm")
        from speechsift.llm.types import SamplingParams

        scorers.append(LLMJudge(judge_backend, scale=judge.scale, tasks=judge.tasks, system_prompt=judge.system_prompt,
                                structured=judge.structured,
                                sampling=SamplingParams(temperature=0.0, top_p=1.0, max_tokens=judge.max_tokens,
                                                        seed=judge.llm.seed)))
    return scorers


class Curator:
    """Scorers, filters and the dedup index for one ``CurateConfig``, built once.

    Args:
        config: the recipe's ``curate`` section (defaults when None).
        judge_backend: the judge's backend, when the caller built it already (default: built
            from ``config.judge.llm``).
        embedder: an ``Embedder`` to share (default: built when embeddings or semantic dedup
            need one).
    """

    def __init__(self, config: CurateConfig | None = None, *, judge_backend: Backend | None = None,
                 embedder: Embedder | None = None) -> None:
        self.config = config or CurateConfig()
        cfg = self.config
        if embedder is None and (cfg.embeddings or cfg.dedup == "semantic"):
            embedder = Embedder(cfg.embedding_model, device=cfg.embedding_device,
                                batch_size=cfg.embedding_batch_size, max_chars=min(cfg.max_chars, 2000))
        self.embedder = embedder
        self.scorers = build_scorers(cfg, judge_backend=judge_backend, embedder=embedder)
        self.filters: list[Filter] = build_filters(cfg)
        self.index = self.dedup_index()
        self.errors: Counter[str] = Counter()  # examples each scorer failed on, over the curator's life

    def dedup_index(self, folder: Path | None = None, expected: int = 0) -> DedupIndex:
        """A new, empty dedup index of this config, spilling under ``folder`` (default: a temporary
        folder), sized for about ``expected`` examples."""
        cfg = self.config
        return DedupIndex(cfg.dedup, scope=cfg.dedup_scope, threshold=cfg.near_threshold,
                          semantic_threshold=cfg.semantic_threshold, num_perm=cfg.num_perm,
                          min_words=cfg.dedup_min_words, across_clips=cfg.dedup_direct,
                          embedder=self.embedder, max_chars=cfg.max_chars, folder=folder, expected=expected)

    def score(self, examples: Sequence[Example]) -> None:
        """Fill ``quality`` of each example in place. Each example gets a fresh quality dict (old
        keys kept): copies made with ``dataclasses.replace`` share one dict, which must not leak
        scores between them."""
        examples = list(examples)
        if not examples:
            return
        max_chars = self.config.max_chars
        texts = []
        for example in examples:
            example.quality = dict(example.quality)
            texts.append(ResponseText(example, max_chars))
        for scorer in self.scorers:
            failed = scorer.run(examples, texts)
            if failed:
                if not self.errors[scorer.name]:
                    first = next((e.quality.get(scorer.error_column) for e in examples
                                  if e.quality.get(scorer.error_column)), "")
                    log.warning("curate: scorer %s failed on %d example(s), first: %s (later failures are counted, "
                                "see quality.%s)", scorer.name, failed, first, scorer.error_column)
                self.errors[scorer.name] += failed

    def filter(self, examples: Sequence[Example]) -> tuple[list[Example], list[Dropped]]:
        """``apply_filters(examples, self.filters)``."""
        return apply_filters(examples, self.filters)


_CURATORS: dict[str, Curator] = {}


def score_examples(examples: Sequence[Example], config: CurateConfig | None = None) -> None:
    """Score ``examples`` in place (``quality`` columns, see ``QUALITY_COLUMNS``); nothing is dropped.

    The scorers for a given config are built on the first call and reused (Lingua's models, word
    lists, embedding model). Dedup columns come from ``DedupIndex.annotate``, not from here.
    """
    config = config or CurateConfig()
    key = config.model_dump_json()
    curator = _CURATORS.get(key)
    if curator is None:
        curator = _CURATORS[key] = Curator(config)
    curator.score(examples)
