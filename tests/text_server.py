"""Replies for the text tasks' prompts: it stands for an instruct model behind an OpenAI-compatible
server (vLLM serve) answering SelfInstruct, EvolInstruct, Magpie (raw completion), responses under
the speech strategies, follow-up questions, the voice-suitability judge and the preference judge,
plausibly and sometimes badly, as real models do: preambles, numbering and quotes around listed
instructions, an instruction repeated, an evolution left unchanged or leaking the prompt's words,
a judge that answers "maybe" or picks "C" (the retry then gets a usable answer).

Which prompt a request is comes from its system message (our own prompt texts). Every answer is a
deterministic function of the request, so reruns and the ledger behave as with a seeded model.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from speechsift.curate.voice import VOICE_JUDGE_SYSTEM
from speechsift.tasks.prompts_text import EVOL_SYSTEM, FOLLOW_UP_SYSTEM, PREFERENCE_JUDGE_SYSTEM, SELF_INSTRUCT_SYSTEM

TOPICS = ["tides", "sourdough", "jet lag", "volcanoes", "chess openings", "compound interest", "bird migration",
          "solar panels", "marathon training", "houseplants", "the moon landing", "coffee roasting", "thunder",
          "recycling", "jazz", "honeybees", "rainbows", "glaciers", "bicycle gears", "sleep"]
VERBS = ["Explain", "How do", "What is the best way to", "Tell me about", "Why does", "Give me advice on",
         "Can you describe", "What should I know about"]


def digest(*parts: Any) -> int:
    return int(hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:8], 16)


def text_reply(body: dict[str, Any]) -> str:
    if "prompt" in body:
        return magpie_turn(body)
    messages = body["messages"]
    system = messages[0]["content"] if messages[0]["role"] == "system" else ""
    user = messages[-1]["content"]
    if system.startswith(SELF_INSTRUCT_SYSTEM[:40]):
        return self_instruct(system, user)
    if system == EVOL_SYSTEM:
        return evolve(user)
    if system == FOLLOW_UP_SYSTEM:
        return f"And how does that compare with {TOPICS[digest(user) % len(TOPICS)]}?"
    if system == VOICE_JUDGE_SYSTEM:
        return voice_verdict(body, user)
    if system == PREFERENCE_JUDGE_SYSTEM:
        return preference(body, user)
    if system.startswith("You are a voice assistant"):
        return spoken_answer(system, user, body.get("temperature", 0), body["model"])
    return f"Here is a plain answer about {user[:40].lower()}."


def self_instruct(system: str, user: str) -> str:
    n = int(re.search(r"write (\d+) new", system).group(1))
    seed = user.splitlines()[0].removeprefix("Example request: ")
    h = digest(user)
    lines = [f"{VERBS[(h + k) % len(VERBS)]} {TOPICS[(h // 7 + 3 * k) % len(TOPICS)]} in simple terms?" for k in range(n)]
    if h % 3 == 0:
        lines[-1] = seed  # repeats its seed: a duplicate
    if h % 2:
        return f"Here are {n} new requests:\n" + "\n".join(f'{k + 1}. "{line}"' for k, line in enumerate(lines))
    return "\n".join(f"- {line}" for line in lines) + "\n- One more request beyond the number asked for?"


def evolve(user: str) -> str:
    parent = user.split("Request to rewrite:\n", 1)[1]
    h = digest(user)
    if h % 9 == 0:
        return parent  # unchanged
    if h % 9 == 1:
        return f"Rewritten request: {parent} Keep it within 10 to 20 words of the request to rewrite."  # leaks
    if h % 9 == 2:
        return "Explain."  # too short
    return f"#Rewritten Prompt#: {parent.rstrip('?.')}, and explain it step by step for someone living in Oslo?"


def magpie_turn(body: dict[str, Any]) -> str:
    h = digest(body["prompt"], body.get("seed"))
    if h % 11 == 0:
        return "  "  # nothing usable
    question = f"{VERBS[h % len(VERBS)]} {TOPICS[(h // 5) % len(TOPICS)]}?"
    if h % 4 == 0:  # runs on into the assistant's turn: cut at the template's marker
        return question + "<|im_end|>\n<|im_start|>assistant\nSure"
    return question


def voice_verdict(body: dict[str, Any], instruction: str) -> str:
    if body.get("temperature", 0) == 0 and digest(instruction) % 5 == 0:
        return "Maybe, it depends."  # neither yes nor no: asked again
    if re.search(r"\b(table|spreadsheet|essay|code)\b", instruction, re.IGNORECASE):
        return json.dumps({"suitable": "no", "reason": "It needs a screen."})
    return json.dumps({"suitable": "yes", "reason": "It can be asked and answered aloud."})


def preference(body: dict[str, Any], user: str) -> str:
    a = user.split("\n\nAnswer A: ", 1)[1].split("\n\nAnswer B: ", 1)[0]
    b = user.split("\n\nAnswer B: ", 1)[1]
    if body.get("temperature", 0) == 0 and digest(user) % 6 == 0:
        return json.dumps({"choice": "C", "margin": 2, "explanation": "Neither."})
    unspeakable = [len(re.findall(r"[\d]\.|[()*#/-]", text)) for text in (a, b)]
    choice = "A" if (unspeakable[0], len(a)) <= (unspeakable[1], len(b)) else "B"
    margin = 3 if abs(unspeakable[0] - unspeakable[1]) > 2 else 1 + digest(a, b) % 2
    return json.dumps({"choice": choice, "margin": margin, "explanation": f"{choice} is easier to follow by ear."})


def spoken_answer(system: str, user: str, temperature: float, model: str) -> str:
    topic = user.split("?")[0][-40:].strip().lower()
    if "Answer so that it is easy to follow by ear." in system:  # simple: reads like a document
        return f"About {topic}: 1. first (the basics) 2. second - details 3. third * notes, says {model}"
    return f"Sure. In short, {topic} comes down to one idea, said plainly by {model}. Want to hear more?"
