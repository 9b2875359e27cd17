"""The ``eval:`` section: what ``speechsift eval`` scores, with which models, and how.

The command line and this section hold the same settings; flags override the file. The model under
test, the judge and the text model (Speech-IFEval's forgetting) are ``llm:``-style sections
(``recipe.LLMConfig``), so every backend, retry and concurrency setting works as in generation. The
model under test decodes greedily by default (temperature 0), as evaluations do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from speechsift.llm.types import SamplingParams
from speechsift.recipe import LLMConfig, _Section


class EvalModelConfig(LLMConfig):
    """An ``llm:`` section with evaluation defaults: an OpenAI-compatible server, greedy decoding,
    no chat-template switches (hosted APIs reject unknown fields)."""

    backend: str = "openai"
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    max_tokens: int = Field(512, gt=0)
    chat_template_kwargs: dict[str, Any] = Field(default_factory=dict)


class AudioOutputConfig(EvalModelConfig):
    """How controllable-generation items are asked of a model that returns audio (``eval.controllable``)."""

    mode: Literal["speech", "chat"] = "speech"  # /v1/audio/speech, or chat completions with audio output
    voice: str = "alloy"


class EvalConfig(_Section):
    data: Path | None = None  # default (in a full recipe): the recipe's output folder
    out: Path | None = None  # default: <data>-eval
    split: str = "eval"
    tasks: list[str] | None = None
    limit: int | None = Field(None, gt=0)
    audio_root: Path | None = None  # Speech-IFEval: the folder audio_filepath is relative to
    model: EvalModelConfig = Field(default_factory=EvalModelConfig)
    judge: EvalModelConfig | None = None
    text_model: EvalModelConfig | None = None  # the text backbone given textual_audio (forgetting)
    controllable: AudioOutputConfig | None = None  # default: the speech endpoint of the model's server
    bins: Path | None = None  # default: the bins the dataset was labelled with
    bootstrap_samples: int = Field(1000, ge=0)
    seed: int = 0
    report: bool = True
    worst_items: int = Field(20, ge=0)  # items shown per task in the report
    cache: bool = True  # the request ledger (EVAL_OUT/.work/ledger.sqlite, or model.ledger)

    def model_sampling(self, model: LLMConfig | None = None) -> SamplingParams:
        """Decoding settings of the model under test (or of ``model``)."""
        chosen = model or self.model
        return SamplingParams(temperature=chosen.temperature, top_p=chosen.top_p, max_tokens=chosen.max_tokens,
                              seed=chosen.seed)

    def output_dir(self) -> Path:
        if self.out is not None:
            return self.out
        assert self.data is not None
        return self.data.with_name(self.data.stem + "-eval")


def resolve_paths(section: dict[str, Any], base: Path) -> None:
    """Input paths of an ``eval:`` section relative to the YAML file that holds it."""
    for key in ("data", "bins", "audio_root"):
        if isinstance(section.get(key), str):
            path = Path(section[key]).expanduser()
            section[key] = str(path if path.is_absolute() else base / path)
