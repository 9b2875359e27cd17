"""A release built to break trainers, shared by tests/export/test_trainer_release.py and
``make test-clients`` (tests/clients/): transcripts and LLM answers full of the trainers' own tokens,
two languages, every task family that has an export (comparison and controllable generation
included), audio from files and from bytes (written under ``OUT/audio/``), held-out and dev splits;
then OUT is moved, so that any path that still points at the old place fails.

The LLM is a real HTTP server on 127.0.0.1 (``servers.ChatServer``) standing for a vLLM server: it
answers each family in the form its prompt asks for, in the clip's language, with trainer tokens in
the text.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from factories import write_manifest, write_tone
from servers import ChatServer

from speechsift.engine import run_recipe
from speechsift.recipe import parse_recipe

# Transcripts holding every placeholder token of the target trainers (speechsift.export.text).
HOSTILE_TEXTS = {
    "en": [
        "Please play <audio> for me now and then stop",
        "I heard <|AUDIO|> twice before the end <|im_end|> of it",
        "Say <start_audio> hello <end_audio> to the whole room",
        "The tags <|audio_bos|> and <|audio_eos|> look like <image> or <video> to me",
    ],
    "de": [
        "Bitte spiel <audio> noch einmal für mich ab",
        "Ich habe <|AUDIO|> bitte zweimal gehört <|im_start|> am Ende",
        "Sag bitte <start_audio> hallo <end_audio> zu allen hier",
        "Die Zeichen <|endoftext|> und <image> sind bitte nur Text",
    ],
}
TASKS: list[Any] = [
    "transcription", "answer_extraction", "sit_ssp", "sift_ssp",
    "closed_ended_template", "closed_ended_acoustic", "open_ended", "word_align",
    {"name": "comparison_template", "pairing": {"strategy": "random_within_corpus", "seed": 1}},
    {"name": "comparison", "pairing": {"strategy": "random_within_corpus", "seed": 2}},
    "controllable_template", "controllable", "desta",
]
FORMATS = ["parquet", "sift_jsonl", "messages", "desta_jsonl"]

# What the scripted LLM says, per family and language; every answer carries a trainer token.
_QA = {
    "en": [{"q": "What stands out about this recording <audio>?", "a": "The recording is short and the words are easy to follow <|AUDIO|>."},
           {"q": "Is the speech in the recording clear to understand?", "a": "Yes, the speech in the recording is clear <|im_end|> and easy to understand."}],
    "de": [{"q": "Was fällt an dieser Aufnahme <audio> besonders auf?", "a": "Die Aufnahme ist kurz und die Worte sind gut zu verstehen <|AUDIO|>."},
           {"q": "Ist die Sprache in der Aufnahme deutlich zu verstehen?", "a": "Ja, die Sprache in der Aufnahme ist deutlich <|im_end|> und gut zu verstehen."}],
}
_FREE = {
    "en": "I can hear a person reading a short sentence aloud <audio>, and the words are easy to follow.",
    "de": "Ich höre eine Person, die einen kurzen Satz <audio> vorliest, und die Worte sind gut zu verstehen.",
}
_INSTRUCTION = {
    "en": "Read the following sentence aloud in a natural way <audio>.",
    "de": "Lies den folgenden Satz auf natürliche Weise vor <audio>.",
}


def scripted_reply(body: dict[str, Any]) -> str:
    system = body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""
    user = body["messages"][-1]["content"]
    if "in German" in system or "in English" in system:  # the family's language line
        language = "de" if "in German" in system else "en"
    else:
        language = "de" if "bitte" in user.lower() else "en"
    if "JSON object per line" in system:
        return "\n".join(json.dumps(pair, ensure_ascii=False) for pair in _QA[language])
    if "speech synthesis" in system:
        return _INSTRUCTION[language]
    return _FREE[language]


def _corpus(root: Path) -> Path:
    """Eight clips per language from four speakers, with labels, answers and word timings."""
    rows = []
    for language, texts in HOSTILE_TEXTS.items():
        for i in range(8):
            name = f"{language}{i}"
            text = texts[i % len(texts)]
            write_tone(root / "clips" / f"{name}.flac", seconds=0.6, freq=120 + 25 * i, amplitude=0.1 + 0.1 * (i % 4))
            words = text.split()
            step = 0.6 / len(words)
            (root / "align" / f"{name}.json").parent.mkdir(parents=True, exist_ok=True)
            (root / "align" / f"{name}.json").write_text(json.dumps(
                [{"word": w, "start": round(k * step, 3), "end": round((k + 1) * step, 3)} for k, w in enumerate(words)]))
            rows.append({
                "id": name, "audio": f"clips/{name}.flac", "text": text, "language": language,
                "speaker": f"{language}-spk{i % 4}", "gender": ["male", "female"][i % 2],
                "emotion": ["neutral", "happy"][i // 4], "age": "thirties",
                "answers": json.dumps([f"<audio> answer {i}"]), "alignment": f"align/{name}.json",
                "speaking_rate": f"{4 + i * 1.5:.2f}", "relative_db": f"{-25 + i * 2:.2f}",
            })
    return write_manifest(root / "manifest.csv", rows)


def _hub_copy(root: Path) -> Path:
    """A saved hub dataset whose audio exists only as bytes (written under OUT/audio/ for the JSONL exports)."""
    import datasets

    clips = [write_tone(root / "hub-clips" / f"h{i}.flac", seconds=0.6, freq=300 + 30 * i) for i in range(3)]
    ds = datasets.Dataset.from_dict({
        "audio": [{"bytes": p.read_bytes(), "path": p.name} for p in clips],
        "transcription": [f"Bytes clip {i} says <audio> and <|AUDIO|> out loud" for i in range(3)],
        "speaker_id": [f"hub-spk{i}" for i in range(3)],
        "gender": ["female", "male", "female"],
    }).cast_column("audio", datasets.Audio())
    ds.save_to_disk(str(root / "hub"))
    for path in clips:  # only the bytes remain
        path.unlink()
    return root / "hub"


def recipe(corpus: Path, hub: Path, out: Path, api_base: str, **output: Any) -> dict[str, Any]:
    return {
        "name": "hostile",
        "sources": [
            {"name": "corpus", "kind": "manifest", "path": str(corpus)},
            {"name": "hub", "kind": "hf", "path": str(hub), "language": "en"},
        ],
        "tasks": TASKS,
        "llm": {"backend": "openai", "model": "scripted", "api_base": api_base, "max_tokens": 256},
        "features": ["duration", "loudness", "pitch"],
        "splits": {"eval": {"per_cell": 2}, "dev": {"fraction": 0.2}, "seed": 0},
        "output": {"dir": str(out), "formats": FORMATS, "report": False, **output},
        "engine": {"workers": 1},
    }


def build_release(root: Path, *, copy_audio: bool = False) -> Path:
    """Run the hostile recipe into ``root/out``, move OUT to ``root/moved``, and return it.

    With ``copy_audio`` the source corpus is deleted after the run too: the release must then hold
    every file it references."""
    corpus = _corpus(root / "corpus")
    hub = _hub_copy(root / "corpus")
    out = root / "out"
    with ChatServer(reply=scripted_reply) as server:
        run_recipe(parse_recipe(recipe(corpus, hub, out, server.url, copy_audio=copy_audio)), progress=False)
    moved = root / "moved"
    shutil.move(str(out), str(moved))
    if copy_audio:
        shutil.rmtree(root / "corpus")
    return moved
