"""Held-out splits, disjoint from train by speaker, decided over the whole dataset.

Speakers are taken in a seeded hash order. A speaker joins the evaluation split while any
(language, category) cell it has examples in still needs examples (EvalSIFT: a fixed number per
language and category); each cell then keeps exactly ``per_cell`` of its eval speakers' examples,
chosen at random with the seed, and the rest of those speakers' examples are dropped
(``held_out_speaker``): they may not go to train. Of the remaining speakers, a fraction forms the
dev split. A clip without a speaker id counts as its own speaker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from speechsift.records import stable_id

# Never hold out more than this share of the speakers for evaluation: a small corpus keeps a
# train split (and run.json says the eval cells could not be filled).
MAX_EVAL_SPEAKER_FRACTION = 0.5


@dataclass(frozen=True, slots=True)
class SplitKey:
    """What the split decision needs to know of one example."""

    id: str
    speaker: str
    language: str
    category: str


@dataclass
class SplitPlan:
    split: list[str | None]  # per example: "train", "dev", "eval", or None (dropped)
    eval_speakers: int
    dev_speakers: int
    unfilled_cells: dict[str, int]  # "lang/category" -> examples it got, where below per_cell


def plan_splits(keys: Sequence[SplitKey], *, eval_per_cell: int | None, dev_fraction: float, seed: int) -> SplitPlan:
    speakers = sorted({k.speaker for k in keys}, key=lambda s: stable_id(str(seed), "speaker", s))
    cells_of: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for key in keys:
        cells_of[key.speaker][(key.language, key.category)] += 1
    eval_speakers: set[str] = set()
    if eval_per_cell:
        filled: dict[tuple[str, str], int] = defaultdict(int)
        all_cells = {cell for cells in cells_of.values() for cell in cells}
        limit = int(len(speakers) * MAX_EVAL_SPEAKER_FRACTION)
        for speaker in speakers:
            if len(eval_speakers) >= limit or all(filled[c] >= eval_per_cell for c in all_cells):
                break
            if any(filled[c] < eval_per_cell for c in cells_of[speaker]):
                eval_speakers.add(speaker)
                for cell, count in cells_of[speaker].items():
                    filled[cell] += count
    rest = [s for s in speakers if s not in eval_speakers]
    dev_speakers = set(rest[: int(len(rest) * dev_fraction)])
    split: list[str | None] = []
    eval_candidates: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, key in enumerate(keys):
        if key.speaker in eval_speakers:
            split.append(None)
            eval_candidates[(key.language, key.category)].append(index)
        else:
            split.append("dev" if key.speaker in dev_speakers else "train")
    unfilled = {}
    for cell, indices in eval_candidates.items():
        chosen = sorted(indices, key=lambda i: stable_id(str(seed), "eval", keys[i].id))[: eval_per_cell]
        for i in chosen:
            split[i] = "eval"
        if len(chosen) < (eval_per_cell or 0):
            unfilled[f"{cell[0]}/{cell[1]}"] = len(chosen)
    return SplitPlan(split, len(eval_speakers), len(dev_speakers), unfilled)
