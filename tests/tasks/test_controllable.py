"""Controllable generation: template instructions, the LLM request, and finish (quoting, leaks, contradictions)."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest
from factories import make_clip

from speechsift.errors import Reject
from speechsift.llm.types import SamplingParams
from speechsift.records import Generation, Part
from speechsift.tasks import TaskSettings, get_task
from speechsift.tasks.controllable import clean_instruction, quotes_transcript

GEN = Generation(backend="openai", model="m")
META = {"gender": "female", "emotion": "sad", "speaking_speed": "quite slowly", "pitch": "slightly low",
        "accent": "Irish", "noise": "very noisy"}


def _clip(language="en", text="The train leaves at noon.", meta=META):
    clip = make_clip(text=text, meta=meta)
    clip.language = language
    return clip


def _check_target(example):
    assert example.messages[-1].role == "assistant"
    assert example.messages[-1].content == [Part.of_audio(0)]
    assert example.audios[0].path == "/nonexistent.flac" and example.response == ""


def test_template_instruction_and_audio_target():
    task = get_task("controllable_template")
    example = task.build(_clip(), TaskSettings())
    _check_target(example)
    user = example.messages[0]
    assert user.role == "user" and [p.type for p in user.content] == ["text"]
    assert user.content[0].text == f"{example.instruction}\nText: The train leaves at noon."
    assert "train" not in example.instruction and example.generation.backend == "template"
    assert example.id == task.build(_clip(), TaskSettings()).id
    assert (task.category, task.sub) == ("controllable_generation", "")


def test_template_traits_in_every_language():
    task = get_task("controllable_template")

    class Settings:
        sampling = SamplingParams()
        options: ClassVar = {"controllable_template": {"traits": 4}}

    seen = {}
    for language in ("en", "de", "fr", "it", "es"):
        example = task.build(_clip(language), Settings())
        assert "$" not in example.instruction
        seen[language] = example.instruction
    assert "Irish" in seen["en"] or "female voice" in seen["en"] or "sounding sad" in seen["en"]
    assert seen["de"].startswith(("Sprich", "Lies", "Bitte"))
    with pytest.raises(Reject) as rejected:
        task.build(_clip(meta={"noise": "very noisy"}), TaskSettings())
    assert rejected.value.reason == "no_voice_labels"
    with pytest.raises(Reject) as rejected:
        task.build(_clip(text=" "), TaskSettings())
    assert rejected.value.reason == "empty_transcript"



def test_template_emotion_comes_last_so_adverbs_never_follow_it():
    """"sounding sad and quickly" reads as if "quickly" described the sound: the emotion goes last."""
    task = get_task("controllable_template")

    class Settings:
        sampling = SamplingParams()
        options: ClassVar = {"controllable_template": {"traits": 3}}

    for n in range(40):
        example = task.build(_clip(text=f"Sentence number {n}.", meta={"emotion": "sad", "pace": "fast",
                                                                        "gender": "male"}), Settings())
        assert example.instruction.rstrip(".").endswith("sounding sad"), example.instruction

def test_llm_request_withholds_the_transcript_by_default():
    task = get_task("controllable")
    example = task.build(_clip("fr"), TaskSettings())
    system, user = example.request.messages
    assert "in French." in system["content"] and "2 of these characteristics" in system["content"]
    data = json.loads(user["content"])
    assert "content_level" not in data and "bruit" not in data["acoustic_level"]
    assert data["acoustic_level"]["émotion"] == "triste"
    assert task.checks_language is True

    class Settings:
        sampling = SamplingParams()
        options: ClassVar = {"controllable": {"show_transcript": True}}

    shown = json.loads(task.build(_clip(), Settings()).request.messages[1]["content"])
    assert shown["content_level"] == {"transcript": "The train leaves at noon."}


def test_llm_finish_well_formed():
    task = get_task("controllable")
    example = task.build(_clip(), TaskSettings())
    (final,) = task.finish(example, 'Instruction: "Read the text slowly, in a sad, low female voice."', GEN)
    assert final.instruction == "Read the text slowly, in a sad, low female voice."
    assert final.messages[0].content == [Part.of_text(f"{final.instruction}\nText: The train leaves at noon.")]
    _check_target(final)
    assert final.generation is GEN and final.request is None and final.id == example.id


@pytest.mark.parametrize("response, reason", [
    ("Say 'the train leaves at noon' slowly and sadly.", "quotes_transcript"),
    ("Speak the text as the metadata describes: slowly.", "metadata_leak"),
    ("Read the text in a deep male voice.", "contradicts_labels"),
    ("Read the text in a cheerful, happy voice.", "contradicts_labels"),
    ("   ", "empty_instruction"),
    ("Read " + "very " * 70 + "slowly.", "instruction_too_long"),
])
def test_llm_finish_rejects(response, reason):
    task = get_task("controllable")
    example = task.build(_clip(), TaskSettings())
    with pytest.raises(Reject) as rejected:
        task.finish(example, response, GEN)
    assert rejected.value.reason == reason


def test_quoting_rules():
    assert quotes_transcript("Please say «Ja» happily.", "ja")
    assert not quotes_transcript("Say it; yes, slowly.", "yes")
    assert quotes_transcript("Read: train leaves at noon, slowly", "The train leaves at noon.")
    assert not quotes_transcript("Read: leaves at noon, slowly", "The train leaves at noon.")  # 3 words: chance
    assert not quotes_transcript("Read the train schedule slowly", "The train leaves at noon.")
    assert clean_instruction("```\n“Speak softly.”\n```\nMore text") == "Speak softly."


VOICE = {"gender": "female", "emotion": "sad", "speaking_speed": "quite slowly", "intensity": "loudly",
         "pitch": "slightly low"}


@pytest.mark.parametrize("language, instruction, field", [
    ("en", "Read the text quickly, in a sad female voice.", "pace"),
    ("en", "Say the text softly and sadly.", "volume"),
    ("en", "Say the text with a high-pitched female voice.", "pitch"),
    ("de", "Sprich den Text schnell und traurig.", "pace"),
    ("de", "Lies den Text leise vor.", "volume"),
    ("de", "Sprich den Text mit einer hohen Frauenstimme.", "pitch"),
    ("fr", "Lis le texte rapidement, d'une voix triste.", "pace"),
    ("fr", "Dis le texte à voix basse.", "volume"),
    ("fr", "Dis le texte d'une voix aiguë.", "pitch"),
    ("it", "Leggi il testo velocemente.", "pace"),
    ("it", "Pronuncia il testo a bassa voce.", "volume"),
    ("it", "Pronuncia il testo con una voce acuta.", "pitch"),
    ("es", "Lee el texto deprisa.", "pace"),
    ("es", "Di el texto en voz baja.", "volume"),
    ("es", "Di el texto con una voz aguda.", "pitch"),
])
def test_llm_finish_screens_every_voice_label_in_every_language(language, instruction, field):
    task = get_task("controllable")
    example = task.build(_clip(language, meta=VOICE), TaskSettings())
    with pytest.raises(Reject) as rejected:
        task.finish(example, instruction, GEN)
    assert rejected.value.reason == "contradicts_labels" and field in rejected.value.message


@pytest.mark.parametrize("language, instruction", [
    ("en", "Read the text slowly and loudly, in a low-pitched voice that isn't a man's."),
    ("en", "Say the text loudly, not quickly."),
    ("de", "Sprich den Text langsam, laut und mit tiefer Stimme, nicht schnell."),
    ("fr", "Lis le texte lentement et fort, d'une voix grave et triste."),
    ("it", "Leggi il testo lentamente, ad alta voce e con una voce grave."),
    ("es", "Lee el texto despacio, en voz alta y con una voz grave, no deprisa."),
])
def test_llm_finish_keeps_instructions_that_match_the_voice(language, instruction):
    task = get_task("controllable")
    example = task.build(_clip(language, meta=VOICE), TaskSettings())
    (final,) = task.finish(example, instruction, GEN)
    assert final.instruction == instruction
