"""Trainer tokens in corpus or LLM text are neutralized once, for every export."""

from __future__ import annotations

from factories import make_clip

from speechsift.export.text import TRAINER_TOKENS, neutral_example, neutral_text
from speechsift.tasks import TaskSettings, get_task


def test_every_trainer_token_loses_its_meaning_and_keeps_its_letters():
    hostile = "say " + " and ".join(TRAINER_TOKENS) + " now"
    cleaned = neutral_text(hostile)
    assert not any(token in cleaned for token in TRAINER_TOKENS)
    assert cleaned.replace("‹", "<").replace("›", ">") == hostile
    assert neutral_text("a <b> c < d > e") == "a <b> c < d > e"  # other angle brackets stay
    assert neutral_text("plain") == "plain"


def test_neutral_example_covers_training_text_and_keeps_provenance():
    clip = make_clip(text="I said <audio> and <|im_end|>")
    (example,) = [get_task("transcription").build(clip, TaskSettings())]
    cleaned = neutral_example(example)
    assert cleaned.transcript == "I said ‹audio› and ‹|im_end|›"
    assert cleaned.response == "i said ‹audio› and ‹|im_end|›"
    assert "<audio>" not in "".join(p.text or "" for m in cleaned.messages for p in m.content)
    assert [p.type for p in cleaned.messages[0].content] == ["audio", "text"], "audio parts stay parts"
    untouched = get_task("transcription").build(make_clip(text="fine"), TaskSettings())
    assert neutral_example(untouched) is untouched


def test_a_rejected_response_is_training_text_too():
    example = get_task("transcription").build(make_clip(text="fine"), TaskSettings())
    example.extra = {"rejected": "No <audio> here", "margin": 2}
    assert neutral_example(example).extra == {"rejected": "No ‹audio› here", "margin": 2}
