"""Pairs of clips for the comparison tasks, formed over the whole corpus before generation.

Pairing needs every clip's speaker, text and emotion, so the sources are listed twice: once into
a light index (``speechsift.tasks.pairing`` entries) from which each pair task's strategy forms its
pairs, and once more to fetch just the clips that ended up in a pair. Pairs that cannot be formed
(a corpus with one speaker) are reported, never invented.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from speechsift.labels import normalized_clips
from speechsift.records import Clip
from speechsift.sources import read_sources
from speechsift.sources.text import record_kind
from speechsift.tasks import get_task
from speechsift.tasks.pairing import entry_of, form_pairs

if TYPE_CHECKING:
    from speechsift.recipe import Recipe, TaskSpec


@dataclass(frozen=True, slots=True)
class PairItem:
    """One pair a pair task will compare: ``a`` is audio 0, ``b`` audio 1."""

    task: str
    a: Clip
    b: Clip

    @property
    def pair_id(self) -> str:
        return f"{self.a.clip_id}|{self.b.clip_id}"


def pair_specs(recipe: "Recipe") -> list["TaskSpec"]:
    from speechsift.tasks.comparison import PairTask

    return [s for s in recipe.task_specs if isinstance(get_task(s.name), PairTask)]


def plan_pairs(recipe: "Recipe", limit: int | None = None) -> tuple[list[PairItem], dict[str, Any]]:
    """Every pair of every pair task, in a deterministic order, and a report per task."""
    import itertools

    specs = pair_specs(recipe)
    if not specs:
        return [], {}

    def clips() -> Iterator[Clip]:
        items: Iterable[Any] = read_sources(recipe)
        if limit is not None:
            items = itertools.islice(items, limit)
        return normalized_clips(items)

    entries = [(entry_of(clip), clip.source) for clip in clips() if record_kind(clip) == "audio"]
    chosen: dict[str, list[tuple[str, str]]] = {}
    report: dict[str, Any] = {}
    for spec in specs:
        pairing = spec.pairing
        strategy = pairing.strategy if pairing else "random_within_corpus"
        allowed = set(spec.sources) if spec.sources else None
        pool = [entry for entry, source in entries if allowed is None or source in allowed]
        result = form_pairs(pool, strategy, seed=pairing.seed if pairing else 0,
                            max_pairs_per_group=pairing.max_pairs_per_group if pairing else None)
        chosen[spec.name] = list(result.pairs)
        report[spec.name] = {"strategy": strategy, **result.report.to_dict()}
    wanted = {clip_id for pairs in chosen.values() for pair in pairs for clip_id in pair}
    by_id = {clip.clip_id: clip for clip in clips() if clip.clip_id in wanted}
    items = [PairItem(task, by_id[a], by_id[b]) for task, pairs in chosen.items() for a, b in pairs]
    return items, report
