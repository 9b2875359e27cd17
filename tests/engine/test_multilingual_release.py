"""A five-language corpus run as a user would: nothing is lost to speechsift's own checks.

Twenty clips of real espeak-ng speech, four per language (en, de, fr, it, es), two sentences each
read by two speakers, with the language and emotion written the way corpora write them ("German",
"fr_FR", "Freude", "colère"). Both runs measure features, curate with the defaults and exact dedup:

- the template families (``sit_ssp`` with the template backend, ``closed_ended_template``,
  ``controllable_template``, ``comparison_template``, ``transcription``);
- the LLM families (``sift_s``, ``sift_ssp``, ``sit_ssp``, ``controllable``,
  ``closed_ended_acoustic``) against a real HTTP server on 127.0.0.1 that stands for an LLM
  following the prompt: it answers in the language the system prompt asks for, from what the
  prompt gives it (the transcript, the audio context, the metadata JSON).

Every reject in ``rejects.jsonl`` must have a reason that is not the tool's own doing, and every
language must keep its examples of every task.
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pyarrow.parquet as pq
import pytest
import soundfile as sf
from factories import write_manifest
from features.speech_fixtures import SKIP_REASON, SR, espeak, espeak_available
from servers import ChatServer

from speechsift.engine import run_recipe
from speechsift.labels import i18n
from speechsift.llm.template import describe_sit_ssp
from speechsift.recipe import parse_recipe
from speechsift.tasks import get_task, prompts_sift

pytestmark = pytest.mark.skipif(not espeak_available(), reason=SKIP_REASON)

LANGUAGES = {  # code: (espeak voice, how the manifest spells the language, two sentences, four emotions)
    "en": ("en-us", "English", ("the train leaves at noon", "i found my keys at last"),
           ("happy", "sad", "angry", "neutral")),
    "de": ("de", "German", ("der zug fährt um zwölf", "ich habe meine schlüssel gefunden"),
           ("Freude", "traurig", "Wut", "neutral")),
    "fr": ("fr", "fr_FR", ("le train part à midi", "j'ai enfin retrouvé mes clés"),
           ("joie", "triste", "colère", "neutre")),
    "it": ("it", "Italiano", ("il treno parte a mezzogiorno", "ho trovato finalmente le chiavi"),
           ("gioia", "tristezza", "arrabbiato", "neutrale")),
    "es": ("es", "es-ES", ("el tren sale a mediodía", "por fin encontré mis llaves"),
           ("alegría", "triste", "enojado", "neutral")),
}
FEATURES = ["duration", "loudness", "pitch", "rate", "snr"]
CURATE = {"dedup": "exact"}  # every other setting at its default


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    root = tmp_path_factory.mktemp("five_languages")
    rows = []
    for code, (voice, spelling, sentences, emotions) in LANGUAGES.items():
        for s, sentence in enumerate(sentences):
            for speaker in range(2):
                i = 2 * s + speaker
                female = speaker == 1
                wave = espeak(sentence, voice=f"{voice}+f3" if female else voice, speed=150 + 40 * i,
                              amplitude=60 + 40 * speaker)
                path = root / f"{code}_{i}.wav"
                sf.write(path, wave, SR)
                rows.append({"id": f"{code}{i}", "audio": path.name, "text": sentence, "speaker": f"{code}_spk{speaker}",
                             "language": spelling, "gender": "female" if female else "male", "emotion": emotions[i],
                             "age": ["twenties", "45", "sixties", "teens"][i], "accent": "Québécois" if code == "fr" else "",
                             # what a corpus may give: rates and levels (comparison pairs read them)
                             "speaking_rate": f"{6 + 2 * i}", "relative_db": f"{-22 + 5 * i}"})
    return write_manifest(root / "manifest.csv", rows)


def run(manifest, out, tasks, llm):
    recipe = {
        "name": "five_languages",
        "sources": [{"name": "corpus", "kind": "manifest", "path": str(manifest)}],
        "tasks": tasks,
        "llm": llm,
        "output": {"dir": str(out), "formats": ["parquet", "sift_jsonl"]},
        "engine": {"workers": 1},
        "features": FEATURES,
        "curate": CURATE,
    }
    run_recipe(parse_recipe(recipe), progress=False)
    released = [r for p in sorted((out / "data").glob("*.parquet"))
                for r in pq.read_table(p, columns=["task", "language", "clip_ids", "response"]).to_pylist()]
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines() if line.strip()]
    return released, rejects


def assert_every_language_keeps_every_task(released, tasks):
    kept = Counter((r["task"], r["language"]) for r in released)
    missing = [(task, code) for task in tasks for code in LANGUAGES if not kept[(task, code)]]
    assert missing == [], f"lost every example of: {missing}; kept {dict(kept)}"
    assert {r["language"] for r in released} == set(LANGUAGES)  # "German", "fr_FR", ... normalized


def test_template_families_lose_nothing_in_five_languages(manifest, tmp_path):
    tasks = ["transcription", "sit_ssp", "closed_ended_template", "controllable_template", "comparison_template"]
    released, rejects = run(manifest, tmp_path / "out", tasks, {"backend": "template"})
    # A pair whose recordings differ too little in every measure has nothing to ask: legitimate.
    illegitimate = [r for r in rejects if r["reason"] != "no_clear_difference"]
    assert illegitimate == [], illegitimate[:5]
    assert_every_language_keeps_every_task(released, tasks)
    counts = Counter(r["task"] for r in released)
    # two speakers reading one sentence keep both transcriptions; same-text template answers about
    # different clips are all kept (3 questions per clip)
    assert counts["transcription"] == counts["sit_ssp"] == counts["controllable_template"] == 20
    assert counts["closed_ended_template"] == 60
    assert counts["comparison_template"] > 0


# --- a server that follows the prompt's language ---------------------------------------------------------------

NAMES = {name: code for code, name in i18n.LANGUAGE_NAMES["en"].items()}
REPLIES = {
    "en": 'Oh, "{text}"? Tell me more, I would love to hear how it went.',
    "de": "Oh, „{text}“? Erzähl mir mehr, ich möchte gern hören, wie es weitergeht.",
    "fr": "Oh, « {text} » ? Raconte-moi la suite, j'aimerais bien savoir comment ça s'est passé.",
    "it": "Oh, «{text}»? Raccontami di più, mi piacerebbe sapere come è andata.",
    "es": "Oh, «{text}»? Cuéntame más, me encantaría saber cómo te fue.",
}
_CONTEXT = re.compile(r"<audio>(?:<meta>(.*?)</meta>)?(?:<text>(.*?)</text>)?</audio>")


def _language(system: str) -> str:
    return NAMES[re.search(r"\bin (English|German|French|Italian|Spanish)\b", system).group(1)]


def answer(body):
    """What an LLM following speechsift's prompts would write, in the language asked for."""
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    language = _language(system)
    if user.startswith("<audio>"):  # sift_ssp, sit_ssp: the audio context
        meta_line, text = _CONTEXT.match(user).groups()
        meta = dict(item.split(": ", 1) for item in (meta_line or "").split(", ") if item)
        if "Sounds like" in system:  # sit_ssp
            return describe_sit_ssp({"meta": meta, "text": text, "language": language})
        return REPLIES[language].format(text=text)
    if not user.startswith("{"):  # sift_s: the transcript only
        return REPLIES[language].format(text=user)
    acoustic = json.loads(user)["acoustic_level"]
    gender_word = acoustic.get(i18n.field_name("gender", language))
    gender = next(g for g, w in i18n.GENDER_WORDS[language].items() if w == gender_word)
    if "one concise instruction" in system:  # controllable
        template = prompts_sift.CONTROL_INSTRUCTIONS[language][0]
        return prompts_sift.fill(template, traits=prompts_sift.CONTROL_GENDER[language][gender])
    pool = prompts_sift.TEMPLATE_QUESTIONS[language]["gender"]  # closed_ended_acoustic: JSON lines
    pairs = [{"q": pool["open"][0], "a": prompts_sift.fill(pool["answer"], value=gender_word)}]
    emotion = acoustic.get(i18n.field_name("emotion", language))
    if emotion:
        pool = prompts_sift.TEMPLATE_QUESTIONS[language]["emotion"]
        pairs.append({"q": pool["open"][0], "a": prompts_sift.fill(pool["answer"], value=emotion)})
    return "\n".join(json.dumps(p, ensure_ascii=False) for p in pairs)


def test_llm_families_answered_in_each_language_lose_nothing(manifest, tmp_path):
    tasks = ["sift_s", "sift_ssp", "sit_ssp", "controllable", "closed_ended_acoustic"]
    with ChatServer(reply=answer) as server:
        released, rejects = run(manifest, tmp_path / "out", tasks,
                                {"backend": "openai", "model": "test-model", "api_base": server.url})
        asked = {_language(r["messages"][0]["content"]) for r in server.requests}
    assert asked == set(LANGUAGES)
    # The one legitimate drop: the model gave two clips the very same text (this one replies to the
    # words alone, and two speakers read each sentence), which text dedup is for.
    illegitimate = [r for r in rejects if not (r["reason"] == "duplicate" and not get_task(r["task"]).target_from_clip)]
    assert illegitimate == [], illegitimate[:5]
    assert {r["task"] for r in rejects} <= {"sift_s", "sift_ssp", "closed_ended_acoustic"}
    assert_every_language_keeps_every_task(released, tasks)
    counts = Counter(r["task"] for r in released)
    assert counts["sit_ssp"] == counts["controllable"] == 20  # descriptions and instructions differ per clip
    assert counts["sift_s"] == 10  # one per sentence and language
