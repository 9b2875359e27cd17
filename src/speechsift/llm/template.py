"""The ``template`` backend: deterministic, metadata-grounded text, no model.

It writes only what the labels support, says so in provenance (backend ``template``, no model), and
refuses tasks that need a real LLM (``sift_s`` must answer what was *said*, which no template can).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from string import Template
from typing import TYPE_CHECKING, Any

from speechsift.labels import i18n, tables
from speechsift.llm.base import register_backend
from speechsift.llm.types import ChatRequest, Completion

if TYPE_CHECKING:
    from speechsift.recipe import LLMConfig

@dataclass(frozen=True)
class Phrasing:
    """How the template writes a ``sit_ssp`` description in one language: "<opening> <speaker>
    <saying|speaking><emotion><manner><accent>." The speaker phrase ends the way the verb after it
    needs (German and the Romance languages: with the relative pronoun, "einer jungen Frau, die").

    Source: our own wording (the speechsift developers); the emotion, pace and volume words of the
    other languages are the phrase tables of ``labels.i18n`` (their forms agree with "voix", "voce",
    "voz", which the templates put before them).
    """

    opening: str
    speakers: Mapping[tuple[str | None, str | None], str]  # (age group, gender) -> speaker phrase
    saying: str  # with the quoted words: $text
    speaking: str  # without words
    emotion: str  # $word: the emotion phrase
    emotions: Mapping[str, str]  # emotion label -> $word
    manner: str  # $words: pace and volume words joined with "and"
    accent: str  # $accent (and $article in English)


def _speakers(table: dict[str, tuple[str, ...]]) -> dict[tuple[str | None, str | None], str]:
    """``{(age, gender): phrase}`` from rows of five phrases per gender key: no age, then the four
    age groups (``labels.tables.AGE_GROUPS`` order)."""
    ages = (None, "teenager", "young adult", "middle-age adult", "senior")
    genders = {"any": None, "male": "male", "female": "female"}
    return {(age, genders[g]): phrase for g, phrases in table.items() for age, phrase in zip(ages, phrases)}


PHRASINGS: dict[str, Phrasing] = {
    "en": Phrasing(
        opening="Sounds like",
        speakers=_speakers({
            "any": ("someone", "a teenage speaker", "a young speaker", "a middle-aged speaker", "an older speaker"),
            "male": ("a man", "a boy", "a young man", "a middle-aged man", "an older man"),
            "female": ("a woman", "a girl", "a young woman", "a middle-aged woman", "an older woman"),
        }),
        saying=' saying "$text"', speaking=" speaking", emotion=" $word",
        emotions={"angry": "sounding angry", "happy": "in a happy, upbeat tone", "sad": "sounding sad",
                  "surprise": "sounding surprised", "neutral": "in a calm, neutral tone", "fear": "sounding fearful",
                  "disgust": "sounding disgusted"},
        manner=", speaking $words", accent=", with $article $accent accent"),
    "de": Phrasing(
        opening="Klingt nach",
        speakers=_speakers({
            "any": ("jemandem, der", "einer jugendlichen Person, die", "einer jungen Person, die",
                    "einer Person mittleren Alters, die", "einer älteren Person, die"),
            "male": ("einem Mann, der", "einem Jungen, der", "einem jungen Mann, der", "einem Mann mittleren Alters, der",
                     "einem älteren Mann, der"),
            "female": ("einer Frau, die", "einem Mädchen, das", "einer jungen Frau, die",
                       "einer Frau mittleren Alters, die", "einer älteren Frau, die"),
        }),
        saying=" „$text“ sagt", speaking=" spricht", emotion=" und dabei $word klingt",
        emotions=i18n.EMOTION_WORDS["de"], manner=", $words", accent=", mit dem Akzent „$accent“"),
    "fr": Phrasing(
        opening="On dirait",
        speakers=_speakers({
            "any": ("quelqu'un qui", "une personne adolescente qui", "une jeune personne qui",
                    "une personne d'âge moyen qui", "une personne âgée qui"),
            "male": ("un homme qui", "un adolescent qui", "un jeune homme qui", "un homme d'âge moyen qui",
                     "un homme âgé qui"),
            "female": ("une femme qui", "une adolescente qui", "une jeune femme qui", "une femme d'âge moyen qui",
                       "une femme âgée qui"),
        }),
        saying=" dit « $text »", speaking=" parle", emotion=" d'une voix $word",
        emotions=i18n.EMOTION_WORDS["fr"], manner=", $words", accent=", avec l'accent « $accent »"),
    "it": Phrasing(
        opening="Sembra",
        speakers=_speakers({
            "any": ("qualcuno che", "una persona adolescente che", "una persona giovane che",
                    "una persona di mezza età che", "una persona anziana che"),
            "male": ("un uomo che", "un ragazzo che", "un giovane uomo che", "un uomo di mezza età che",
                     "un uomo anziano che"),
            "female": ("una donna che", "una ragazza che", "una giovane donna che", "una donna di mezza età che",
                       "una donna anziana che"),
        }),
        saying=" dice «$text»", speaking=" parla", emotion=" con voce $word",
        emotions=i18n.EMOTION_WORDS["it"], manner=", $words", accent=", con l'accento «$accent»"),
    "es": Phrasing(
        opening="Parece",
        speakers=_speakers({
            "any": ("alguien que", "una persona adolescente que", "una persona joven que",
                    "una persona de mediana edad que", "una persona mayor que"),
            "male": ("un hombre que", "un chico adolescente que", "un hombre joven que",
                     "un hombre de mediana edad que", "un hombre mayor que"),
            "female": ("una mujer que", "una chica adolescente que", "una mujer joven que",
                       "una mujer de mediana edad que", "una mujer mayor que"),
        }),
        saying=" dice «$text»", speaking=" habla", emotion=" con voz $word",
        emotions=i18n.EMOTION_WORDS["es"], manner=", $words", accent=", con acento «$accent»"),
}


# Words that start with a vowel letter but a consonant sound ("a United States English accent").
_CONSONANT_SOUND_STARTS = ("uni", "usa", "us ", "use", "uk", "ug", "uru", "eu", "one")


def _article(word: str) -> str:
    lowered = word.lower()
    if lowered.startswith(_CONSONANT_SOUND_STARTS):
        return "a"
    return "an" if lowered[:1] in "aeiou" else "a"


def describe_sit_ssp(context: dict[str, Any]) -> str:
    """One sentence in the request's language ("Sounds like", "Klingt nach", "On dirait", "Sembra",
    "Parece"): who, the quoted words, the emotion, the pace and volume, the accent."""
    meta: dict[str, str] = context.get("meta") or {}
    language = i18n.output_language(context.get("language"))
    phrasing = PHRASINGS[language]
    text = " ".join((context.get("text") or "").split()).lower()
    age = meta.get("age") if meta.get("age") in tables.AGE_GROUPS else None
    gender = meta.get("gender") if meta.get("gender") in tables.GENDERS else None
    sentence = f"{phrasing.opening} {phrasing.speakers[(age, gender)]}"
    sentence += Template(phrasing.saying).substitute(text=text) if text else phrasing.speaking
    emotion = phrasing.emotions.get(meta.get("emotion", ""))
    if emotion:
        sentence += Template(phrasing.emotion).substitute(word=emotion)
    volume = meta.get("volume") if meta.get("volume") in tables.VOLUMES else None  # normal volume: not said
    manner = [w for w in (i18n.label_word("pace", meta.get("pace"), language),
                          i18n.label_word("volume", volume, language)) if w]
    if manner:
        sentence += Template(phrasing.manner).substitute(words=i18n.join_words(manner, language, conjunction="and"))
    accent = " ".join((meta.get("accent") or "").split())
    if accent:
        sentence += Template(phrasing.accent).substitute(accent=accent, article=_article(accent))
    return sentence.rstrip(".") + "."


TemplateWriter = Callable[[dict[str, Any]], str]
WRITERS: dict[str, TemplateWriter] = {"sit_ssp": describe_sit_ssp}
TEMPLATE_VERSION = "2"  # 2: descriptions in the clip's language (en, de, fr, it, es)


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
def _make(config: "LLMConfig", section: str) -> TemplateBackend:
    return TemplateBackend()


def template_tasks() -> list[str]:
    return sorted(WRITERS)


__all__ = ["TemplateBackend", "describe_sit_ssp", "template_tasks"]
