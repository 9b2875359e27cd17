"""Task prompts and instruction strings of the omni tasks, in one place, in our own words.

The intents follow the tiny-audio omni generator (REFERENCE.md §1). The instruction strings the
speech model sees ("Transcribe:", "Describe all information you can hear:") are the seed's own in
English, because trainers and evaluations match on them.

Language policy (every task family follows it): an example is written in the clip's language when
it is one of en, de, fr, it, es, else in English (``labels.i18n.output_language``). That holds
for the instruction the speech model sees (these tables; ``prompts_sift`` for the SIFT families),
for what the LLM is asked to write (the system prompts end with a language line), and for what
the template backend writes; curation checks written text against that language
(``tasks.base.written_language``). Source of the translations: our own (the speechsift
developers), in the informal second person that the other instruction pools use.
"""

from __future__ import annotations

TRANSCRIBE_INSTRUCTIONS: dict[str, str] = {
    "en": "Transcribe:", "de": "Transkribiere:", "fr": "Transcris :", "it": "Trascrivi:", "es": "Transcribe:",
}
DESCRIBE_INSTRUCTIONS: dict[str, str] = {
    "en": "Describe all information you can hear:",
    "de": "Beschreibe alle Informationen, die du hören kannst:",
    "fr": "Décris toutes les informations que tu peux entendre :",
    "it": "Descrivi tutte le informazioni che riesci a sentire:",
    "es": "Describe toda la información que puedes oír:",
}
TRANSCRIBE_INSTRUCTION = TRANSCRIBE_INSTRUCTIONS["en"]  # the seed's strings
DESCRIBE_INSTRUCTION = DESCRIBE_INSTRUCTIONS["en"]

# The last line of the omni system prompts: $language is the English name of the language the
# example is written in; $opening the sit_ssp sentence's first words in it (llm.template).
REPLY_LANGUAGE_LINE = "Reply in $language."
SIT_SSP_LANGUAGE_LINE = 'Write the sentence in $language, beginning with "$opening".'

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
    'that begins with "Sounds like" (in another language, with the words given at the end). Say '
    "who seems to be speaking (gender, and age when given), "
    "quote their words exactly, and name the emotion and the qualities of the voice that are "
    "given (pace, volume, accent). Write as someone who listened; never mention tags, metadata "
    "or labels.\n\n"
    "Example.\n"
    "Input: <audio><meta>age: senior, gender: male, pace: slow, emotion: sad</meta>"
    "<text>i miss the old house</text></audio>\n"
    'Output: Sounds like an older man saying "i miss the old house" slowly, in a sad, heavy voice.'
)
