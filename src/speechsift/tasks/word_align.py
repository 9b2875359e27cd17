"""SIFT-50M word-align questions (REFERENCE.md §2): notable pitch and loudness changes across phrases.

``word_align`` (LLM) reads ``clip.extra["words"]``: ``[{"word", "start_s", "end_s", "f0_median_hz"?,
"relative_db"?}]`` (timings from ``sources.alignments``; the per-word numbers from the enrich
stage). Each word is put in a category relative to the whole clip (``word_prosody``):

- pitch: ``higher`` / ``lower`` when the word's median F0 is at least ``PITCH_MARGIN_ST`` semitones
  above / below the clip's median F0, else ``similar`` (unvoiced words: no pitch);
- loudness: ``louder`` / ``softer`` when its level is at least ``LOUDNESS_MARGIN_DB`` above /
  below the clip's level, else ``similar``;
- position: ``beginning``, ``middle`` or ``end`` (thirds of the utterance, by word order).

The clip's reference is ``clip.features["f0_median_hz"]`` / ``["relative_db"]`` where measured,
else the median over the words. Words are grouped into phrases at pauses of at least
``PHRASE_PAUSE_S`` (long phrases are split into chunks of at most ``PHRASE_MAX_WORDS``), each with
its pitch and loudness category and its pitch movement (``rising``/``falling``/``level``: last
voiced word against the first, with the same semitone margin).

The LLM writes Q/A as JSON lines (``closed_ended.QATask``). Questions or answers that quote a time
("at 1.2 s", "0:03") go to a separate partition: their examples get the task name
``word_align_timestamps`` (``TIMESTAMP_TASK``), not ``word_align``; SIFT-50M found such questions
hurt and left them out of the main set. Timings are shown to the LLM (rounded to 0.1 s) unless the
option ``include_times`` is false, in which case no timestamp question can arise.

Margins (our choices): 2 semitones for pitch, as for pair comparisons (``render.pair``), and 3 dB
for loudness, a clearly audible step (the intensity JND is about 1 dB). A pause of 250 ms is a
common threshold for a phrase-level pause in read speech; phrases of more than 8 words are split
so that "which phrase" stays answerable.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from speechsift.errors import ConfigError, Reject
from speechsift.labels import i18n
from speechsift.records import Clip, Example, Generation
from speechsift.render.sift_json import MAX_LABEL_CHARS, clean_text
from speechsift.tasks import prompts_sift
from speechsift.tasks.base import Task, TaskSettings, register_task
from speechsift.tasks.closed_ended import MAX_PAIRS_LIMIT, QAOptions, QATask
from speechsift.tasks.screen import Screen, parse_pairs, quotes_timestamp, screen_pairs

PITCH_MARGIN_ST = 2.0
LOUDNESS_MARGIN_DB = 3.0
PHRASE_PAUSE_S = 0.25
PHRASE_MAX_WORDS = 8
MAX_WORDS = 120  # about 30 s of speech; longer clips are refused rather than given a huge prompt
TIMESTAMP_TASK = "word_align_timestamps"


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _semitones(f0: float, reference: float) -> float:
    return 12.0 * math.log2(f0 / reference)


def _category(diff: float | None, margin: float, up: str, down: str) -> str | None:
    if diff is None:
        return None
    if diff >= margin:
        return up
    if diff <= -margin:
        return down
    return "similar"


@dataclass(frozen=True)
class WordProsody:
    word: str
    start_s: float
    end_s: float
    position: str
    pitch_st: float | None  # semitones relative to the clip's median F0
    loudness_db: float | None  # dB relative to the clip's level
    pitch: str | None  # higher / lower / similar
    loudness: str | None  # louder / softer / similar


def usable_words(clip: Clip) -> list[dict[str, Any]]:
    """``extra["words"]`` entries with text and valid timings, in time order."""
    raw = clip.extra.get("words") if isinstance(clip.extra, dict) else None
    words = []
    for item in raw or []:
        if not isinstance(item, Mapping):
            continue
        text = str(item.get("word") or "").strip()
        start, end = _finite(item.get("start_s")), _finite(item.get("end_s"))
        if text and start is not None and end is not None and end >= start:
            words.append({**item, "word": text, "start_s": start, "end_s": end})
    return sorted(words, key=lambda w: (w["start_s"], w["end_s"]))


def word_prosody(words: Sequence[Mapping[str, Any]], clip_f0_hz: float | None = None,
                 clip_db: float | None = None) -> list[WordProsody]:
    """Each word's pitch and loudness category relative to the clip (see the module docstring)."""
    f0s = [f for w in words if (f := _finite(w.get("f0_median_hz"))) is not None and f > 0]
    dbs = [d for w in words if (d := _finite(w.get("relative_db"))) is not None]
    ref_f0 = clip_f0_hz if clip_f0_hz is not None and clip_f0_hz > 0 else (statistics.median(f0s) if f0s else None)
    ref_db = clip_db if clip_db is not None else (statistics.median(dbs) if dbs else None)
    n = len(words)
    out = []
    for i, w in enumerate(words):
        f0, db = _finite(w.get("f0_median_hz")), _finite(w.get("relative_db"))
        st = _semitones(f0, ref_f0) if f0 is not None and f0 > 0 and ref_f0 else None
        rel_db = db - ref_db if db is not None and ref_db is not None else None
        position = ("beginning", "middle", "end")[min(2, 3 * i // n)] if n else "middle"
        out.append(WordProsody(
            w["word"], w["start_s"], w["end_s"], position, st, rel_db,
            _category(st, PITCH_MARGIN_ST, "higher", "lower"),
            _category(rel_db, LOUDNESS_MARGIN_DB, "louder", "softer"),
        ))
    return out


def phrases(words: Sequence[WordProsody]) -> list[list[WordProsody]]:
    """Words grouped at pauses of at least ``PHRASE_PAUSE_S``; long groups split evenly."""
    groups: list[list[WordProsody]] = []
    for word in words:
        if groups and word.start_s - groups[-1][-1].end_s < PHRASE_PAUSE_S:
            groups[-1].append(word)
        else:
            groups.append([word])
    out = []
    for group in groups:
        chunks = math.ceil(len(group) / PHRASE_MAX_WORDS)
        size = math.ceil(len(group) / chunks)
        out += [group[i:i + size] for i in range(0, len(group), size)]
    return out


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def phrase_summary(group: Sequence[WordProsody]) -> dict[str, Any]:
    voiced = [w for w in group if w.pitch_st is not None]
    movement = None
    if len(voiced) >= 2:
        movement = _category(voiced[-1].pitch_st - voiced[0].pitch_st, PITCH_MARGIN_ST, "rising", "falling")
        movement = "level" if movement == "similar" else movement
    summary: dict[str, Any] = {
        "text": " ".join(clean_text(w.word, MAX_LABEL_CHARS) for w in group),
        "start": round(group[0].start_s, 1),
        "end": round(group[-1].end_s, 1),
        "pitch": _category(_mean([w.pitch_st for w in voiced]), PITCH_MARGIN_ST, "higher", "lower"),
        "loudness": _category(_mean([w.loudness_db for w in group if w.loudness_db is not None]),
                              LOUDNESS_MARGIN_DB, "louder", "softer"),
        "pitch_movement": movement,
    }
    return {k: v for k, v in summary.items() if v is not None}


def word_table(clip: Clip, *, include_times: bool = True) -> dict[str, Any]:
    """What the LLM reads: words with categories, phrases, and what stands out. ``Reject`` when
    the clip has no word timings or no per-word pitch or loudness."""
    words = usable_words(clip)
    if not words:
        raise Reject("no_word_alignment", f"clip {clip.clip_id} has no word timings (extra['words'])")
    if len(words) > MAX_WORDS:
        raise Reject("too_many_words", f"clip {clip.clip_id} has {len(words)} words; word-align takes at most {MAX_WORDS}")
    prosody = word_prosody(words, _finite(clip.features.get("f0_median_hz")), _finite(clip.features.get("relative_db")))
    if all(w.pitch is None and w.loudness is None for w in prosody):
        raise Reject("no_word_prosody", f"clip {clip.clip_id} has no per-word pitch or loudness")
    rows = []
    for w in prosody:
        row: dict[str, Any] = {"word": clean_text(w.word, MAX_LABEL_CHARS), "position": w.position}
        if include_times:
            row["start"], row["end"] = round(w.start_s, 1), round(w.end_s, 1)
        if w.pitch:
            row["pitch"] = w.pitch
        if w.loudness:
            row["loudness"] = w.loudness
        rows.append(row)
    groups = [phrase_summary(g) for g in phrases(prosody)]
    if not include_times:
        for group in groups:
            group.pop("start", None), group.pop("end", None)
    voiced = [w for w in prosody if w.pitch_st is not None]
    loud = [w for w in prosody if w.loudness_db is not None]
    notable: dict[str, Any] = {}
    if voiced:
        notable["highest_pitch_word"] = clean_text(max(voiced, key=lambda w: w.pitch_st).word, MAX_LABEL_CHARS)
        notable["lowest_pitch_word"] = clean_text(min(voiced, key=lambda w: w.pitch_st).word, MAX_LABEL_CHARS)
    if loud:
        notable["loudest_word"] = clean_text(max(loud, key=lambda w: w.loudness_db).word, MAX_LABEL_CHARS)
        notable["softest_word"] = clean_text(min(loud, key=lambda w: w.loudness_db).word, MAX_LABEL_CHARS)
    table: dict[str, Any] = {"words": rows, "phrases": groups, "notable": notable}
    if clip.text:
        table["transcript"] = clean_text(clip.text)
    return table


@dataclass(frozen=True)
class WordAlignOptions(QAOptions):
    """Options of ``word_align``: those of ``QAOptions`` (``max_pairs``, ``max_tokens``) and

    Attributes:
        include_times: show word and phrase times (0.1 s) to the LLM; questions quoting times go to
            ``word_align_timestamps``. False gives the LLM no times at all.
    """

    include_times: bool = True


@register_task
class WordAlign(QATask):
    """Questions about pitch and loudness changes across words and phrases (closed_ended/word_align)."""

    name = "word_align"
    category = "closed_ended"
    sub = "word_align"
    system_template = prompts_sift.WORD_ALIGN_SYSTEM
    Options = WordAlignOptions

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        opts = self.options(settings)
        language = i18n.output_language(clip.language)
        user = json.dumps(word_table(clip, include_times=opts.include_times), ensure_ascii=False)
        screen = Screen.of(clip.meta, None)
        request = self.request_for(clip, settings, user, language, screen)
        return self.example(clip, instruction="", response=None, request=request)

    def finish(self, example: Example, response: str, generation: Generation) -> list[Example]:
        context = example.request.context if example.request is not None else {}
        screened = screen_pairs(parse_pairs(response), self.screen_of(example),
                                int(context.get("max_pairs", MAX_PAIRS_LIMIT)))

        def task_of(pair: Mapping[str, str]) -> str:
            return TIMESTAMP_TASK if quotes_timestamp(pair["q"]) or quotes_timestamp(pair["a"]) else self.name

        examples = self.pair_examples(example, screened, generation, task_of=task_of)
        moved = sum(1 for e in examples if e.task == TIMESTAMP_TASK)
        if moved:
            examples[0].quality = {**examples[0].quality, "pairs.timestamps": float(moved)}
        return examples


@register_task
class WordAlignTimestamps(Task):
    """The partition ``word_align`` writes its timestamp questions to; not a task to list in a recipe.

    Registered so that the layout (``category``/``sub``) and ``get_task`` know the examples' task
    name; ``partition_of`` names the task that makes them.
    """

    name = TIMESTAMP_TASK
    category = "closed_ended"
    sub = TIMESTAMP_TASK
    partition_of = "word_align"
    checks_language = True

    def build(self, clip: Clip, settings: TaskSettings) -> Example:
        raise ConfigError(
            f"tasks: {TIMESTAMP_TASK!r} is the partition that 'word_align' writes its timestamp questions to; "
            "list 'word_align' instead"
        )


__all__ = ["LOUDNESS_MARGIN_DB", "PHRASE_PAUSE_S", "PITCH_MARGIN_ST", "TIMESTAMP_TASK", "WordAlign",
           "WordAlignTimestamps", "WordProsody", "phrases", "word_prosody", "word_table"]
