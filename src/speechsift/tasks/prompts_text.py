"""Prompts of the text tasks, as data: instruction synthesis (SelfInstruct, EvolInstruct, the
multi-turn follow-up; REFERENCE.md §5), speech-friendly response strategies and the listening judge
(Speechworthy, §4). The methods are the published ones; the wording is ours.
"""

from __future__ import annotations

# --- SelfInstruct (§5): N new, diverse, self-contained user requests from a seed ------------------

SELF_INSTRUCT_SYSTEM = (
    "You write requests that people give to an AI assistant. Given an example request, write {n} new "
    "requests a real person might make in the same spirit but about different things. Vary the verbs and "
    "the form: questions, commands, requests for advice, explanations, comparisons, short creative "
    "tasks. Each request is one or two sentences and stands on its own: it never refers to the example, "
    "to a text, file or link the assistant cannot see, or to an earlier conversation. Write one request "
    "per line and nothing else: no numbering, no quotes, no introduction."
)
SELF_INSTRUCT_USER = "Example request: {seed}"
SELF_INSTRUCT_AVOID = "\n\nThese already exist; write different ones:\n{existing}"

# --- EvolInstruct (§5): one random mutation per round --------------------------------------------

EVOL_SYSTEM = (
    "You rewrite requests given to an AI assistant. Rewrite the request you are shown as instructed. "
    "The rewritten request must still make sense on its own, be something a person would really ask, "
    "and be answerable without seeing any file, table or link. Reply with the rewritten request only: "
    "no title, no explanation, no quotes."
)
# In-depth mutations make the request harder by one step, adding only 10 to 20 words; in-breadth
# writes a new, rarer request from the same domain (WizardLM's evolution operations).
EVOL_MUTATIONS: dict[str, str] = {
    "add_constraint": "Add one more requirement or constraint the answer must meet. Add only 10 to 20 words.",
    "deepen": "Make the request go deeper: ask about causes, trade-offs or underlying principles instead of "
              "surface facts. Add only 10 to 20 words.",
    "concretize": "Replace general ideas with a specific, concrete situation (who, where, which). Add only 10 "
                  "to 20 words.",
    "multi_step": "Rewrite it so that answering needs several explicit steps of reasoning, and say so in the "
                  "request. Add only 10 to 20 words.",
    "breadth": "Write a brand-new request from the same domain that is less common, about a different topic, "
               "and of similar length and difficulty.",
}
EVOL_USER = "Instruction for the rewrite: {mutation}\n\nRequest to rewrite:\n{instruction}"
# Words of our own prompt that must not appear in an evolved request (a leak of the template).
EVOL_LEAK_WORDS = ("rewritten request", "request to rewrite", "instruction for the rewrite", "given request",
                   "the original request", "#rewritten", "rewritten prompt", "given prompt", "10 to 20 words")

# --- the multi-turn extension ------------------------------------------------------------------

FOLLOW_UP_SYSTEM = (
    "You are the user in the conversation you are shown, talking to an AI assistant. Write the one next "
    "thing you would naturally ask or say to continue it: a follow-up question that builds on the "
    "assistant's last answer. Write only that message, in the user's voice, with no label or quotes."
)

# --- speech-friendly response strategies (Speechworthy §4) ----------------------------------------

_VOICE = ("You are a voice assistant: your answer is turned into speech and heard once, never read. ")
_RADIO = (
    "Follow the practices of radio writing: keep it compact, say the most important thing first, and use "
    "short sentences and everyday words. Everything you write must be speakable: no lists, bullets, "
    "headings, tables, parentheses, emojis, symbols or markdown; say numbers, units and abbreviations the "
    "way a person would say them aloud. When the full answer is a long list, give only the first three to "
    "five items and offer to go on. Sound like a person talking, not like a document. "
)
_FOLLOW = "When you answer a knowledge question, end with a short, engaging question that invites the listener to go on."

SPEECH_STRATEGIES: dict[str, str] = {
    "simple": _VOICE + "Answer so that it is easy to follow by ear.",
    "medium": _VOICE + "Keep the answer concise and conversational, and write no lists, parentheses, symbols or "
                       "formatting that cannot be spoken.",
    "easy": _VOICE + "Use simple, everyday words and short sentences, as if explaining to a friend, so that the "
                     "listener understands everything in one listen. Write nothing that cannot be spoken.",
    "detailed": _VOICE + _RADIO + _FOLLOW,
    "icl": _VOICE + _RADIO + _FOLLOW + "\n\nExamples of good spoken answers:\n\n{examples}",
}
# Five worked examples for the ``icl`` strategy: a question and a spoken answer each.
ICL_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("What are the planets in our solar system?",
     "There are eight. Starting closest to the Sun, they are Mercury, Venus, Earth and Mars, and then the four "
     "giants, Jupiter, Saturn, Uranus and Neptune. Would you like to hear which one has the most moons?"),
    ("How do I make a cup of green tea?",
     "Heat the water until it's hot but not boiling, about eighty degrees. Pour it over a teaspoon of leaves or "
     "one tea bag, and let it steep for two to three minutes. Any longer and it turns bitter."),
    ("What's the difference between weather and climate?",
     "Weather is what the sky is doing today, like rain this afternoon. Climate is the pattern over many years, "
     "like rainy winters in Seattle. Want to know how scientists measure climate change?"),
    ("Give me some ideas for a rainy weekend.",
     "Here are a few. You could bake something new, start a jigsaw puzzle, have a movie marathon, or visit a "
     "museum. I have more ideas if you'd like them."),
    ("Why is the sky blue?",
     "Sunlight is a mix of all colors, and the air scatters the blue part far more than the red. So wherever "
     "you look, blue light is coming at you from every direction. Curious why sunsets are red, then?"),
)


def strategy_prompt(strategy: str) -> str:
    """The system prompt of a speech response strategy."""
    prompt = SPEECH_STRATEGIES[strategy]
    if "{examples}" in prompt:
        examples = "\n\n".join(f"Question: {q}\nSpoken answer: {a}" for q, a in ICL_EXAMPLES)
        prompt = prompt.replace("{examples}", examples)
    return prompt


# --- the listening judge (SpeechPref-like preference pairs) ---------------------------------------

PREFERENCE_JUDGE_SYSTEM = (
    "You judge answers of a voice assistant. The user spoke a request and will only hear the answer, once, "
    "read aloud by a speech synthesizer; they cannot see it. Compare two answers, A and B, for a listener: "
    "which is more conversational, relevant to the request, understandable in one listen, concise without "
    "leaving out what matters, complete, and safe. Anything that cannot be spoken well (lists, symbols, "
    "markdown, parentheses, long numbers) counts against an answer. Do not prefer an answer for being "
    "longer or for its position.\n"
    'Reply with one JSON object and nothing else: {"choice": "A" or "B", "margin": 1, 2 or 3, '
    '"explanation": "one or two sentences"}. margin is 1 when the chosen answer is slightly better, '
    "2 when clearly better, 3 when much better."
)
PREFERENCE_JUDGE_USER = "Request: {instruction}\n\nAnswer A: {a}\n\nAnswer B: {b}"
