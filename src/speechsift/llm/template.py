"""The ``template`` backend: deterministic, metadata-grounded text, no model.

It writes only what the labels support, says so in provenance (backend ``template``, no model), and
refuses tasks that need a real LLM (``sift_s`` must answer what was *said*, which no template can).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from speechsift.llm.base import register_backend
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    from speechsift.recipe import LLMConfig

# Words for each label, for descriptions a listener would say.
AGE_WORDS = {
    "teenager": "teenage",
    "young adult": "young",
    "middle-age adult": "middle-aged",
    "senior": "older",
}
PERSON_WORDS = {
    ("teenager", "male"): "boy",
    ("teenager", "female"): "girl",
    (None, "male"): "man",
    (None, "female"): "woman",
}
EMOTION_PHRASES = {
    "angry": "sounding angry",
    "happy": "in a happy, upbeat tone",
    "sad": "sounding sad",
    "surprise": "sounding surprised",
    "neutral": "in a calm, neutral tone",
    "fear": "sounding fearful",
    "disgust": "sounding disgusted",
}
PACE_WORDS = {"slow": "slowly", "normal": "at an even pace", "fast": "quickly"}
VOLUME_WORDS = {"quiet": "quietly", "loud": "loudly"}


# Words that start with a vowel letter but a consonant sound ("a United States English accent").
_CONSONANT_SOUND_STARTS = ("uni", "usa", "us ", "use", "uk", "ug", "uru", "eu", "one")


def _article(word: str) -> str:
    lowered = word.lower()
    if lowered.startswith(_CONSONANT_SOUND_STARTS):
        return "a"
    return "an" if lowered[:1] in "aeiou" else "a"


def describe_speaker(meta: dict[str, str]) -> str:
    """``a young woman``, ``an older man``, ``a teenage girl``, ``someone``."""
    age, gender = meta.get("age"), meta.get("gender")
    if gender:
        noun = PERSON_WORDS.get((age, gender)) or PERSON_WORDS[(None, gender)]
        adjective = AGE_WORDS.get(age, "") if age != "teenager" else ""
    else:
        noun = "speaker" if age else "someone"
        adjective = AGE_WORDS.get(age, "") if age else ""
    phrase = f"{adjective} {noun}".strip()
    return phrase if noun == "someone" else f"{_article(phrase)} {phrase}"


def describe_manner(meta: dict[str, str]) -> str:
    """``speaking quickly and loudly``; empty when neither pace nor volume is known."""
    words = [w for w in (PACE_WORDS.get(meta.get("pace", "")), VOLUME_WORDS.get(meta.get("volume", ""))) if w]
    return f"speaking {' and '.join(words)}" if words else ""


def describe_sit_ssp(context: dict[str, Any]) -> str:
    """One sentence starting "Sounds like": who, the quoted words, the emotion, the manner, the accent."""
    meta: dict[str, str] = context.get("meta", {})
    text = " ".join((context.get("text") or "").split()).lower()
    sentence = f"Sounds like {describe_speaker(meta)}"
    sentence += f' saying "{text}"' if text else " speaking"
    tail = [p for p in (EMOTION_PHRASES.get(meta.get("emotion", "")), describe_manner(meta)) if p]
    if tail:
        sentence += " " + ", ".join(tail)
    accent = meta.get("accent")
    if accent:
        sentence += f", with {_article(accent)} {accent} accent"
    return sentence.rstrip(".") + "."


TemplateWriter = Callable[[dict[str, Any]], str]
WRITERS: dict[str, TemplateWriter] = {"sit_ssp": describe_sit_ssp}
TEMPLATE_VERSION = "1"


class TemplateBackend:
    """Answers from ``request.context`` with the writer registered for the request's task."""

    name = "template"
    streaming = False
    cacheable = False
    raw_completion = False

    def __init__(self, model: str | None = None) -> None:
        self.model = None  # never pretends to be a model

    def supports(self, task: str) -> bool:
        return task in WRITERS

    async def agenerate(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        return [self._answer(r) for r in requests]

    def _answer(self, request: ChatRequest) -> Completion:
        writer = WRITERS.get(request.task)
        if writer is None:
            return Completion(
                error=f"the template backend cannot write {request.task!r}",
                error_reason="unsupported_task",
            )
        return Completion(text=writer(request.context), finish_reason="template")


@register_backend("template")
def _make(config: "LLMConfig") -> TemplateBackend:
    return TemplateBackend()


def template_tasks() -> list[str]:
    return sorted(WRITERS)


__all__ = ["TemplateBackend", "describe_sit_ssp", "template_tasks"]
