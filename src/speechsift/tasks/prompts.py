"""Task prompts and instruction strings, in one place, in our own words.

The intents follow the tiny-audio omni generator (REFERENCE.md §1); the instruction strings the
speech model sees ("Transcribe:", "Describe all information you can hear:") are the seed's own,
because trainers and evaluations match on them.
"""

from __future__ import annotations

TRANSCRIBE_INSTRUCTION = "Transcribe:"
DESCRIBE_INSTRUCTION = "Describe all information you can hear:"

# sift_s: the LLM only sees what was said and answers as a friend would.
SIFT_S_SYSTEM = (
    "You are chatting with a close friend. Answer what they just said the way a good friend "
    "would: warm, natural and brief, in one to three short sentences."
)

# sift_ssp: the LLM sees the audio context (how it was said, and what) and answers with empathy.
SIFT_SSP_SYSTEM = (
    "You can hear the person talking to you. The message describes their voice (who they seem "
    "to be, how they sound) and their words. Reply to them directly and with empathy, in tune "
    "with their tone and emotion, in one to three short sentences. Never describe the audio, "
    "the voice or the description; just talk to them."
)

# sit_ssp: one "Sounds like" sentence describing the clip, with one worked example.
SIT_SSP_SYSTEM = (
    "You describe what a listener hears in a short voice recording. Write exactly one sentence "
    'that begins with "Sounds like". Say who seems to be speaking (gender, and age when given), '
    "quote their words exactly, and name the emotion and the qualities of the voice that are "
    "given (pace, volume, accent). Write as someone who listened; never mention tags, metadata "
    "or labels.\n\n"
    "Example.\n"
    "Input: <audio><meta>age: senior, gender: male, pace: slow, emotion: sad</meta>"
    "<text>i miss the old house</text></audio>\n"
    'Output: Sounds like an older man saying "i miss the old house" slowly, in a sad, heavy voice.'
)
