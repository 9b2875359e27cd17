"""Open-ended questions: request and finish with scripted answers."""

from __future__ import annotations

import json

import pytest
from factories import make_clip

from speechsift.errors import Reject
from speechsift.records import Generation
from speechsift.tasks import TaskSettings, get_task

GEN = Generation(backend="openai", model="m")


def _clip(**kw):
    clip = make_clip(text=kw.pop("text", "Could you turn the music down, please?"),
                     meta=kw.pop("meta", {"gender": "female", "emotion": "angry", "intensity": "loudly"}))
    clip.language = kw.pop("language", "it")
    return clip


def test_request_asks_for_inference_in_the_clips_language():
    task = get_task("open_ended")
    example = task.build(_clip(), TaskSettings())
    system = example.request.messages[0]["content"]
    assert "inferred" in system and "Write every question and answer in Italian." in system
    assert json.loads(example.request.messages[1]["content"])["acoustic_level"]["emozione"] == "arrabbiata"
    assert (task.category, task.sub, task.checks_language) == ("open_ended", "", True)


def test_finish_scripted_answers():
    task = get_task("open_ended")
    example = task.build(_clip(), TaskSettings())
    good = json.dumps({"q": "Cosa potrebbe essere successo prima?",
                       "a": "Probabilmente la musica era molto alta da tempo e la persona ha perso la pazienza."})
    leak = json.dumps({"q": "Perché?", "a": "Secondo i dati forniti è arrabbiata."})
    examples = task.finish(example, good + "\n" + leak, GEN)
    assert len(examples) == 1 and examples[0].quality["dropped.metadata_leak"] == 1.0
    contradiction = json.dumps({"q": "Come si sente?", "a": "La voce sembra felice e rilassata."})
    with pytest.raises(Reject) as rejected:
        task.finish(example, contradiction, GEN)
    assert rejected.value.reason == "contradicts_labels"
    with pytest.raises(Reject) as rejected:
        task.finish(example, "Non posso farlo.", GEN)
    assert rejected.value.reason == "unparseable_json"


def test_too_little_to_reason_from():
    with pytest.raises(Reject) as rejected:
        get_task("open_ended").build(_clip(text=None, meta={"gender": "male"}), TaskSettings())
    assert rejected.value.reason == "too_little_context"
