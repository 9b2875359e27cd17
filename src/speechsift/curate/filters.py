"""Filters: keep an example, or drop it with a short snake_case reason and a message for a person.

A ``Filter`` is a name, the reject reason it gives, and a ``check`` that returns None to keep the
example or a message to drop it. Filters read the scores in ``example.quality`` (a missing score
never drops anything, unless ``drop_on_error``) and a few fields of the example itself (audio,
response), so they are cheap, pure, and can run again over stored scores. ``apply_filters`` runs
them in order; the first filter that drops an example gives the reason.

Filters on the response text itself (empty, length, readability, speech suitability) are
``text_target_only``: they skip examples whose target is audio (controllable generation,
``Task.audio_target``), whose scores describe the instruction a backend wrote.

Reasons: no_audio, empty_response, scoring_failed, too_short, too_long, wrong_script,
wrong_language, too_repetitive, refusal, assistant_boilerplate, metadata_leak, contradicts_labels,
misquoted_transcript, missing_quote, toxic, unspeakable, hard_to_read, off_domain,
low_judge_score, duplicate, near_duplicate, semantic_duplicate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from speechsift.curate.config import CurateConfig, per_task
from speechsift.curate.dedup import KIND_EXACT, KIND_NEAR, KIND_SEMANTIC
from speechsift.curate.text import is_audio_target
from speechsift.records import Example

Check = Callable[[Example], "str | None"]
Dropped = tuple[Example, str, str]

REASONS = (
    "no_audio", "empty_response", "scoring_failed", "too_short", "too_long", "wrong_script", "wrong_language",
    "too_repetitive", "refusal", "assistant_boilerplate", "metadata_leak", "contradicts_labels",
    "misquoted_transcript", "missing_quote", "toxic", "unspeakable", "hard_to_read", "off_domain", "low_judge_score",
    KIND_EXACT, KIND_NEAR, KIND_SEMANTIC,
)


@dataclass(frozen=True, slots=True)
class Filter:
    """``check(example)`` returns None to keep the example, or a message saying why it is dropped."""

    name: str
    reason: str
    check: Check
    text_target_only: bool = False  # skipped for examples whose target is audio

    def __call__(self, example: Example) -> str | None:
        return self.check(example)


def apply_filters(examples: Iterable[Example], filters: Sequence[Filter]) -> tuple[list[Example], list[Dropped]]:
    """``(kept, dropped)``; each dropped entry is ``(example, reason, message)``, from the first
    filter that drops it. Input order is kept in both lists."""
    kept: list[Example] = []
    dropped: list[Dropped] = []
    for_audio = [f for f in filters if not f.text_target_only]
    for example in examples:
        for flt in (for_audio if is_audio_target(example) else filters):
            message = flt.check(example)
            if message is not None:
                dropped.append((example, flt.reason, message))
                break
        else:
            kept.append(example)
    return kept, dropped


def drop_counts(dropped: Iterable[Dropped]) -> Counter[str]:
    """``{"dropped_<reason>": n}`` for run statistics."""
    return Counter(f"dropped_{reason}" for _, reason, _ in dropped)


# --- building the filters from a config ---------------------------------------------------------


def _words(example: Example) -> int:
    value = example.quality.get("length_words")
    return int(value) if value is not None else len((example.response or "").split())


def _threshold_filter(name: str, reason: str, setting, column: str, *, above: bool, label: str,
                      text_target_only: bool = False) -> Filter | None:
    """Drop when ``quality[column]`` is above (or below) the per-task threshold ``setting``."""
    if setting is None:
        return None

    def check(example: Example) -> str | None:
        limit = per_task(setting, example.task)
        if limit is None:
            return None
        value = example.quality.get(column)
        if value is None:
            return None
        if (value > limit) if above else (value < limit):
            relation = ">" if above else "<"
            return f"{label} {value:.3g} {relation} {'max' if above else 'min'} {limit:g} ({example.task})"
        return None

    return Filter(name, reason, check, text_target_only)


def _flag_filter(name: str, reason: str, column: str, message: Callable[[Example], str]) -> Filter:
    def check(example: Example) -> str | None:
        return message(example) if example.quality.get(column) is True else None

    return Filter(name, reason, check)


def build_filters(config: CurateConfig | None = None) -> list[Filter]:
    """The filters ``config`` asks for, cheapest and most fundamental first, dedup last."""
    config = config or CurateConfig()
    filters: list[Filter | None] = []

    if config.require_audio:
        def no_audio(example: Example) -> str | None:
            audios = example.audios
            if audios and all(a is not None and (a.path or a.bytes) for a in audios):
                return None
            from speechsift.tasks.text import is_text_task  # tasks import curate: not at import time

            if not audios and is_text_task(example.task):  # text instruction data has no audio yet
                return None
            return "the example references no audio" if not audios else "an audio reference has neither path nor bytes"
        filters.append(Filter("require_audio", "no_audio", no_audio))

    if config.drop_empty:
        def empty(example: Example) -> str | None:
            response = example.response
            if response is None:
                return "the example has no response"
            return "the response is empty" if not response.strip() else None
        filters.append(Filter("drop_empty", "empty_response", empty, text_target_only=True))

    if config.drop_on_error:
        def failed(example: Example) -> str | None:
            errors = [f"{k}: {v}" for k, v in example.quality.items() if k.endswith("_error") and v]
            return "; ".join(errors) if errors else None
        filters.append(Filter("drop_on_error", "scoring_failed", failed))

    if config.min_words is not None:
        setting = config.min_words

        def too_short(example: Example) -> str | None:
            limit = per_task(setting, example.task)
            if limit is None or example.response is None:
                return None
            words = _words(example)
            return f"{words} words < min {limit} ({example.task})" if words < limit else None
        filters.append(Filter("min_words", "too_short", too_short, text_target_only=True))

    if config.max_words is not None:
        setting_max = config.max_words

        def too_long(example: Example) -> str | None:
            limit = per_task(setting_max, example.task)
            if limit is None:
                return None
            words = _words(example)
            return f"{words} words > max {limit} ({example.task})" if words > limit else None
        filters.append(Filter("max_words", "too_long", too_long, text_target_only=True))

    if config.min_script_ratio is not None:
        filters.append(_threshold_filter("min_script_ratio", "wrong_script", config.min_script_ratio,
                                         "language_script_ratio", above=False,
                                         label="share of letters in the language's script"))

    if config.language_check:
        min_confidence = config.min_language_confidence

        def wrong_language(example: Example) -> str | None:
            quality = example.quality
            if quality.get("language_match") is not False:
                return None
            confidence = quality.get("language_confidence") or 0.0
            if confidence < min_confidence:
                return None
            return (f"written in {quality.get('language_detected')} (confidence {confidence:.2f}), "
                    f"the clip is {example.language}")
        filters.append(Filter("language_check", "wrong_language", wrong_language))

    filters.append(_threshold_filter("max_repetition", "too_repetitive", config.max_repetition, "repetition_score",
                                     above=True, label="repetition score"))

    if config.drop_refusals:
        filters.append(_flag_filter("drop_refusals", "refusal", "boilerplate_refusal",
                                    lambda e: f"refuses: {e.quality.get('boilerplate_match')!r}"))
    if config.drop_boilerplate:
        filters.append(_flag_filter("drop_boilerplate", "assistant_boilerplate", "boilerplate_assistant",
                                    lambda e: f"assistant boilerplate: {e.quality.get('boilerplate_match')!r}"))
    if config.drop_leakage:
        filters.append(_flag_filter("drop_leakage", "metadata_leak", "leakage_flag",
                                    lambda e: f"{e.quality.get('leakage_kind')}: {e.quality.get('leakage_match')!r}"))
    if config.drop_contradictions:
        filters.append(_flag_filter("drop_contradictions", "contradicts_labels", "consistency_contradiction",
                                    lambda e: str(e.quality.get("consistency_evidence"))))
    if config.min_quote_overlap is not None:
        filters.append(_threshold_filter("min_quote_overlap", "misquoted_transcript", config.min_quote_overlap,
                                         "consistency_quote_overlap", above=False,
                                         label="quoted words match the transcript at F1"))
    if config.require_quote:
        def missing_quote(example: Example) -> str | None:
            if example.quality.get("consistency_has_quote") is False:
                return "the description quotes none of the speaker's words"
            return None
        filters.append(Filter("require_quote", "missing_quote", missing_quote))

    filters.append(_threshold_filter("toxicity_max", "toxic", config.toxicity_max, "toxicity_score", above=True,
                                     label="toxicity"))
    filters.append(_threshold_filter("max_unspeakable", "unspeakable", config.max_unspeakable, "speech_unspeakable",
                                     above=True, label="unspeakable characters and list markers",
                                     text_target_only=True))
    filters.append(_threshold_filter("min_flesch", "hard_to_read", config.min_flesch, "readability_flesch",
                                     above=False, label="Flesch reading ease", text_target_only=True))
    filters.append(_threshold_filter("max_grade", "hard_to_read", config.max_grade, "readability_grade",
                                     above=True, label="Flesch-Kincaid grade", text_target_only=True))

    if config.allowed_domains is not None:
        allowed = frozenset(config.allowed_domains)

        def off_domain(example: Example) -> str | None:
            domain = example.quality.get("domain_label")
            if domain is None or domain in allowed:
                return None
            return f"domain {domain} is not among {', '.join(sorted(allowed))}"
        filters.append(Filter("allowed_domains", "off_domain", off_domain))

    if config.judge is not None and config.judge.min_score is not None:
        filters.append(_threshold_filter("judge", "low_judge_score", config.judge.min_score, "judge_score",
                                         above=False, label="judge score"))

    if config.dedup != "none":
        for kind in (KIND_EXACT, KIND_NEAR, KIND_SEMANTIC):
            filters.append(_dedup_filter(kind))

    return [f for f in filters if f is not None]


def _dedup_filter(kind: str) -> Filter:
    def check(example: Example) -> str | None:
        quality = example.quality
        if quality.get("dedup_kind") != kind:
            return None
        similarity = quality.get("dedup_similarity")
        detail = f" (similarity {similarity:.3f})" if similarity is not None and kind != KIND_EXACT else ""
        return f"{kind.replace('_', ' ')} of {quality.get('dedup_of')}{detail}"

    return Filter("dedup", kind, check)
