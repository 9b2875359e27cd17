"""Pairing strategies for comparison tasks: pure, seeded functions over a light clip index.

The index is one ``PairingEntry`` per clip (``entry_of(clip)``; a plain tuple in the same field
order works too). A strategy returns ``PairingResult``: the pairs, as ``(clip_id_a, clip_id_b)``,
and a ``PairingReport`` that says, per source, why clips could not be paired. A pair is never
invented: a corpus with one speaker gives zero "same text, different speakers" pairs and the
reason ``single_speaker``.

Strategies (``STRATEGIES``):

- ``same_speaker_different_emotion``: two clips of one speaker (within one source) with different
  emotion labels.
- ``same_text_different_speakers``: two clips of one source with the same transcript (compared
  case- and punctuation-insensitively) spoken by different speakers.
- ``random_within_corpus``: two distinct clips of one source, at random.

Each clip is used in at most one pair. Inside a group, clips are matched greedily across buckets
(emotions, or speakers), always taking from the two largest buckets, which pairs as many clips as
any matching can. The result depends only on the entries and the seed, not on their order: the
entries are sorted by clip id and every group gets its own RNG seeded from (seed, strategy, group).
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from speechsift.errors import ConfigError
from speechsift.records import Clip


def seeded_rng(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from ``parts`` (stable across machines and Python versions)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


class PairingEntry(NamedTuple):
    """What pairing needs to know of a clip."""

    clip_id: str
    source: str
    speaker_id: str | None = None
    text: str | None = None
    emotion: str | None = None
    gender: str | None = None
    language: str | None = None


def entry_of(clip: Clip) -> PairingEntry:
    return PairingEntry(clip.clip_id, clip.source, clip.speaker_id, clip.text, clip.meta.get("emotion"),
                        clip.meta.get("gender"), clip.language)


@dataclass
class PairingReport:
    """Why the pairs are what they are.

    ``unpaired`` counts the clips left out, by reason; ``sources`` gives, per source, the reason
    (and a sentence for a person) where the source made no pair at all.
    """

    strategy: str
    seed: int
    inputs: int = 0
    pairs: int = 0
    unpaired: Counter = field(default_factory=Counter)
    sources: dict[str, dict[str, str]] = field(default_factory=dict)

    def note(self, source: str, reason: str, message: str) -> None:
        self.sources[source] = {"reason": reason, "message": message}

    def to_dict(self) -> dict[str, object]:
        return {"strategy": self.strategy, "seed": self.seed, "inputs": self.inputs, "pairs": self.pairs,
                "unpaired": dict(sorted(self.unpaired.items())), "sources": dict(sorted(self.sources.items()))}


@dataclass
class PairingResult:
    pairs: list[tuple[str, str]]
    report: PairingReport


def _normalized_text(text: str | None) -> str:
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())


def _match_buckets(buckets: dict[str, list[str]], rng: random.Random, limit: int | None) -> tuple[list[tuple[str, str]], int]:
    """Pairs across buckets (never two of one bucket), greedily from the two largest; and the count
    of clips left unpaired."""
    order = sorted(buckets)
    rng.shuffle(order)
    stacks = []
    for key in order:
        items = sorted(buckets[key])
        rng.shuffle(items)
        stacks.append(items)
    pairs: list[tuple[str, str]] = []
    while limit is None or len(pairs) < limit:
        stacks.sort(key=len, reverse=True)  # stable: equal sizes keep their seeded order
        if len(stacks) < 2 or not stacks[1]:
            break
        a, b = stacks[0].pop(), stacks[1].pop()
        pairs.append((a, b) if rng.random() < 0.5 else (b, a))
    return pairs, sum(len(s) for s in stacks)


def _pair_groups(groups: dict[str, dict[str, list[str]]], report: PairingReport, lonely: str,
                 seed_parts: tuple[object, ...], limit: int | None) -> list[tuple[str, str]]:
    """Pairs within each group (a speaker, a text) across its buckets (emotions, speakers).

    A group with one bucket pairs nothing (its clips are counted under ``lonely``); clips a group
    has no partner left for are counted as ``no_partner_left``. Each group draws from its own rng.
    """
    pairs: list[tuple[str, str]] = []
    for key in sorted(groups):
        buckets = groups[key]
        if len(buckets) < 2:
            report.unpaired[lonely] += sum(map(len, buckets.values()))
            continue
        found, left = _match_buckets(buckets, seeded_rng(*seed_parts, key), limit)
        pairs += found
        if left:
            report.unpaired["no_partner_left"] += left
    return pairs


def _by_source(entries: Iterable[Sequence]) -> dict[str, list[PairingEntry]]:
    groups: dict[str, list[PairingEntry]] = defaultdict(list)
    for raw in entries:
        entry = raw if isinstance(raw, PairingEntry) else PairingEntry(*raw)
        groups[entry.source].append(entry)
    for group in groups.values():
        group.sort(key=lambda e: e.clip_id)
    return dict(sorted(groups.items()))


def same_speaker_different_emotion(entries: Iterable[Sequence], *, seed: int = 0,
                                   max_pairs_per_group: int | None = None) -> PairingResult:
    """Pairs of one speaker's clips with different emotions (see the module docstring)."""
    name = "same_speaker_different_emotion"
    report = PairingReport(name, seed)
    pairs: list[tuple[str, str]] = []
    for source, group in _by_source(entries).items():
        report.inputs += len(group)
        speakers: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for entry in group:
            if not entry.speaker_id:
                report.unpaired["no_speaker_id"] += 1
            elif not entry.emotion:
                report.unpaired["no_emotion"] += 1
            else:
                speakers[entry.speaker_id][entry.emotion].append(entry.clip_id)
        found = _pair_groups(speakers, report, "speaker_has_one_emotion", (seed, name, source), max_pairs_per_group)
        pairs += found
        if found:
            continue
        labelled = sum(map(len, (c for s in speakers.values() for c in s.values())))
        if not labelled and all(not e.speaker_id for e in group):
            report.note(source, "no_speaker_ids", f"source {source!r} has no speaker ids")
        elif not labelled:
            report.note(source, "no_emotion_labels", f"source {source!r} has no emotion labels")
        else:
            report.note(source, "no_speaker_with_two_emotions",
                        f"no speaker of source {source!r} has clips with two different emotions")
    report.pairs = len(pairs)
    return PairingResult(pairs, report)


def same_text_different_speakers(entries: Iterable[Sequence], *, seed: int = 0,
                                 max_pairs_per_group: int | None = None) -> PairingResult:
    """Pairs of clips with the same transcript spoken by different speakers."""
    name = "same_text_different_speakers"
    report = PairingReport(name, seed)
    pairs: list[tuple[str, str]] = []
    for source, group in _by_source(entries).items():
        report.inputs += len(group)
        texts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for entry in group:
            text = _normalized_text(entry.text)
            if not entry.speaker_id:
                report.unpaired["no_speaker_id"] += 1
            elif not text:
                report.unpaired["no_text"] += 1
            else:
                texts[text][entry.speaker_id].append(entry.clip_id)
        found = _pair_groups(texts, report, "text_has_one_speaker", (seed, name, source), max_pairs_per_group)
        pairs += found
        if found:
            continue
        all_speakers = {e.speaker_id for e in group if e.speaker_id}
        if not all_speakers:
            report.note(source, "no_speaker_ids", f"source {source!r} has no speaker ids")
        elif len(all_speakers) == 1:
            report.note(source, "single_speaker", f"source {source!r} has one speaker, so no text is spoken by two")
        elif not texts:
            report.note(source, "no_text", f"source {source!r} has no transcripts")
        else:
            report.note(source, "no_shared_text", f"no transcript of source {source!r} is spoken by two speakers")
    report.pairs = len(pairs)
    return PairingResult(pairs, report)


def random_within_corpus(entries: Iterable[Sequence], *, seed: int = 0,
                         max_pairs_per_group: int | None = None) -> PairingResult:
    """Random pairs of distinct clips of one source (each clip in at most one pair)."""
    name = "random_within_corpus"
    report = PairingReport(name, seed)
    pairs: list[tuple[str, str]] = []
    for source, group in _by_source(entries).items():
        report.inputs += len(group)
        ids = [e.clip_id for e in group]
        if len(ids) < 2:
            report.unpaired["too_few_clips"] += len(ids)
            report.note(source, "too_few_clips", f"source {source!r} has {len(ids)} clip(s); a pair needs two")
            continue
        seeded_rng(seed, name, source).shuffle(ids)
        count = len(ids) // 2 if max_pairs_per_group is None else min(len(ids) // 2, max_pairs_per_group)
        pairs += [(ids[2 * i], ids[2 * i + 1]) for i in range(count)]
        if len(ids) > 2 * count:
            report.unpaired["no_partner_left"] += len(ids) - 2 * count
    report.pairs = len(pairs)
    return PairingResult(pairs, report)


Strategy = Callable[..., PairingResult]
STRATEGIES: dict[str, Strategy] = {
    "same_speaker_different_emotion": same_speaker_different_emotion,
    "same_text_different_speakers": same_text_different_speakers,
    "random_within_corpus": random_within_corpus,
}


# The strategies that read a clip's text (the others leave ``PairingEntry.text`` alone).
TEXT_STRATEGIES = frozenset({"same_text_different_speakers"})


def form_pairs(entries: Iterable[Sequence], strategy: str, *, seed: int = 0,
               max_pairs_per_group: int | None = None) -> PairingResult:
    """Pairs by the strategy named ``strategy`` (a key of ``STRATEGIES``)."""
    try:
        function = STRATEGIES[strategy]
    except KeyError:
        raise ConfigError(f"unknown pairing strategy {strategy!r}; choose from {', '.join(STRATEGIES)}") from None
    return function(entries, seed=seed, max_pairs_per_group=max_pairs_per_group)


__all__ = [
    "STRATEGIES",
    "TEXT_STRATEGIES",
    "PairingEntry",
    "PairingReport",
    "PairingResult",
    "entry_of",
    "form_pairs",
    "random_within_corpus",
    "same_speaker_different_emotion",
    "same_text_different_speakers",
    "seeded_rng",
]
