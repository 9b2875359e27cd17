"""Curation: scores for every generated example and the filters that drop the bad ones.

Entry points (see ``pipeline.py`` for the two-pass flow the engine runs):

- ``Curator(config)``: scorers, filters and dedup index built once; ``.score(batch)``,
  ``.filter(batch)``, ``.index`` (a ``DedupIndex``), ``.dedup_index(folder, expected)`` (a new one
  spilling under ``folder``, as a release makes).
- ``score_examples(examples, config)``: fill ``example.quality`` in place (nothing dropped).
- ``DedupIndex``: global exact / near / semantic duplicates (``add``, ``duplicates``, ``annotate``,
  ``duplicates_in(part)``), worked out from keys spilled to disk.
- ``build_filters(config)`` and ``apply_filters(examples, filters) -> (kept, dropped)``.
- ``QUALITY_COLUMNS``: every quality column and its type (float, bool, str);
  ``quality_arrow_type()`` the matching Arrow struct.
- ``CurateConfig``: the recipe's ``curate:`` section.
"""

from speechsift.curate.config import CurateConfig, DomainSpec, JudgeConfig, per_task
from speechsift.curate.dedup import DedupIndex, Duplicate
from speechsift.curate.filters import REASONS, Filter, apply_filters, build_filters, drop_counts
from speechsift.curate.pipeline import (
    QUALITY_COLUMNS,
    SCORER_TYPES,
    Curator,
    build_scorers,
    quality_array,
    quality_arrow_type,
    quality_row,
    score_examples,
)

__all__ = [
    "QUALITY_COLUMNS",
    "REASONS",
    "SCORER_TYPES",
    "CurateConfig",
    "Curator",
    "DedupIndex",
    "DomainSpec",
    "Duplicate",
    "Filter",
    "JudgeConfig",
    "apply_filters",
    "build_filters",
    "build_scorers",
    "drop_counts",
    "per_task",
    "quality_array",
    "quality_arrow_type",
    "quality_row",
    "score_examples",
]
