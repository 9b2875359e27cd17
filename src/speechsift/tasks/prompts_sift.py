"""Prompts and instruction pools of the SIFT-50M and DeSTA task families, as data, in our own words.

Two kinds of text live here:

- **LLM prompts** (system messages), in English: they state each family's intent as REFERENCE.md
  §2-3 describes it and end with a language line (``LANGUAGE_LINE``) that asks for the clip's
  language. SIFT-50M does the same: metadata translated with a phrase table (``labels.i18n``), the
  LLM asked to write in the target language. ``$name`` fields are filled with ``fill``.
- **What the speech model sees** (questions, instructions, template answers), in each of en, de,
  fr, it, es. Source: our own wording and our own translation. The value slots (``$value``,
  ``$options``, ``$traits``) take the forms of ``labels.i18n``, whose tables say which sentence
  shapes they fit.
"""

from __future__ import annotations

from string import Template

PROMPT_VERSION = "1"  # bump when a prompt changes meaning; recorded in each request's context


def fill(template: str, **values: object) -> str:
    """``template`` with its ``$name`` fields set (literal braces, as in JSON examples, are safe)."""
    return Template(template).substitute({k: str(v) for k, v in values.items()})


LANGUAGE_LINE = "Write every question and answer in $language."
ANSWER_LANGUAGE_LINE = "Write your answer in $language."
INSTRUCTION_LANGUAGE_LINE = "Write the instruction in $language."

_JSON_LINES_FORMAT = (
    'Output one JSON object per line, exactly like {"q": "the question", "a": "the answer"}, and nothing '
    "else: no numbering, no list, no comments."
)
_AS_A_LISTENER = (
    'Write as someone who has just listened to the clip: say "the speaker", "the voice", "the recording". '
    "Never mention JSON, metadata, fields, keys, labels, tags, annotations, a description, or where the "
    "facts come from, and never use a key name such as speaking_speed. Ask only about what is given; "
    "skip anything that is missing."
)

# --- closed-ended ---------------------------------------------------------------------------------

CLOSED_ACOUSTIC_SYSTEM = (
    "You write training data for a voice assistant that can hear audio. A user has uploaded a short "
    "audio clip; instead of the audio you get its facts as JSON: \"acoustic_level\" (who speaks and "
    "how it sounds) and \"content_level\" (what is said, in which language).\n\n"
    "Write up to $n different questions the user could ask about how the clip sounds: the speaker's "
    "gender, age, accent and emotion, the pitch, how much it varies, the speaking speed, the loudness, "
    "the background noise, the length. Each question has one short, correct answer that follows from "
    "the facts. Ask about each fact at most once, mix question forms (what, how, is, does, which of), "
    "and keep answers to one sentence.\n\n"
    f"{_AS_A_LISTENER}\n\n{LANGUAGE_LINE}\n{_JSON_LINES_FORMAT}"
)

CLOSED_CONTENT_SYSTEM = (
    "You write training data for a voice assistant that can hear audio. A user has uploaded a short "
    "audio clip; instead of the audio you get its facts as JSON: \"acoustic_level\" (who speaks and "
    "how it sounds) and \"content_level\" (what is said, in which language).\n\n"
    "Write up to $n different questions the user could ask about what is said in the clip: the words, "
    "the topic, the people, places, things, numbers or times mentioned, whether it is a question, a "
    "request or a statement, the language, the first or last word. Each question has one short, "
    "correct answer that follows from the transcript. Ask about each point at most once and mix "
    "question forms.\n\n"
    f"{_AS_A_LISTENER}\n\n{LANGUAGE_LINE}\n{_JSON_LINES_FORMAT}"
)

# --- open-ended -----------------------------------------------------------------------------------

OPEN_ENDED_SYSTEM = (
    "You write training data for a voice assistant that can hear audio. A user has uploaded a short "
    "audio clip; instead of the audio you get its facts as JSON: \"acoustic_level\" (who speaks and "
    "how it sounds) and \"content_level\" (what is said, in which language).\n\n"
    "Write up to $n open-ended questions whose answers cannot be read off a single fact but must be "
    "inferred from several of them together with what is said: what situation the clip may come "
    "from, what the speaker's tone suggests about their attitude to what they say, how a listener "
    "might respond, what the speaker may want, how the delivery could be improved for a purpose. "
    "Answer each in two to four sentences, reasoning from the facts, saying \"probably\" or "
    "\"seems\" where you infer, and never contradicting a fact. Do not ask questions whose answer "
    "is just one fact (\"What is the speaker's gender?\").\n\n"
    f"{_AS_A_LISTENER}\n\n{LANGUAGE_LINE}\n{_JSON_LINES_FORMAT}"
)

# --- word-align -----------------------------------------------------------------------------------

WORD_ALIGN_SYSTEM = (
    "You write training data for a voice assistant that can hear audio. A user has uploaded a short "
    "audio clip; instead of the audio you get, as JSON, its words in order with how each one sounds "
    "compared with the rest of the clip (\"pitch\": higher, lower or similar; \"loudness\": louder, "
    "softer or similar; where in the utterance it is), the phrases separated by pauses, and a "
    "summary of what stands out.\n\n"
    "Write up to $n different questions about notable changes in pitch or loudness across the words "
    "and phrases: which word is stressed or said more loudly, where the pitch rises or falls, how the "
    "beginning compares with the end, which phrase stands out. Refer to words and phrases by "
    "quoting them, not by times. Each answer is short, correct and follows from the JSON.\n\n"
    f"{_AS_A_LISTENER}\n\n{LANGUAGE_LINE}\n{_JSON_LINES_FORMAT}"
)

# --- comparison -----------------------------------------------------------------------------------

COMPARISON_SYSTEM = (
    "You write training data for a voice assistant that can hear audio. A user has uploaded two "
    "short audio clips; instead of the audio you get their facts as JSON: \"audio_1\" and "
    "\"audio_2\" (each with \"acoustic_level\" and \"content_level\"), and \"measured\", which says "
    "which recording has the higher-pitched voice, the faster speech and the louder speech, or "
    "whether they are similar.\n\n"
    "Write up to $n different questions that compare the two recordings: the speakers, their "
    "emotions, pitch, speed, loudness, noise, what each one says. Call them \"the first recording\" "
    "and \"the second recording\". Answers are free-form, one or two sentences, and follow from the "
    "facts; for which voice is higher, which speech is faster or louder, use only \"measured\" (the "
    "pitch words of each clip are relative to the speaker's gender and cannot be compared across "
    "clips).\n\n"
    f"{_AS_A_LISTENER}\n\n{LANGUAGE_LINE}\n{_JSON_LINES_FORMAT}"
)

# --- controllable generation ----------------------------------------------------------------------

CONTROLLABLE_SYSTEM = (
    "You write training data for a speech synthesis model that follows instructions. You get, as "
    "JSON, how a recording of someone reading a text sounds (\"acoustic_level\").\n\n"
    "Write one concise instruction (one sentence, at most 30 words) that asks the model to speak a "
    "text with $count of these characteristics, chosen from: $fields. The text itself will be given "
    "to the model separately after your instruction, so never quote it, never paraphrase it and "
    "never guess it; refer to it as \"the text\" or \"the following sentence\". Describe the voice "
    "in plain words a person would use; never mention JSON, keys, labels or metadata.\n\n"
    f"{INSTRUCTION_LANGUAGE_LINE}\nOutput only the instruction, with no quotes and no preamble."
)

# --- DeSTA ----------------------------------------------------------------------------------------

DESTA_SYSTEM = (
    "You are a helpful assistant that can hear audio. Instead of the audio itself you get a text "
    "description of it: timestamped lines with what is said in quotes and, in parentheses, how it "
    "sounds. Answer the user's question about the audio as if you had listened to it yourself. Use "
    "the facts given and do not invent others. Never mention the description, the timestamps' "
    "format, brackets, attribute names or metadata.\n\n"
    f"{ANSWER_LANGUAGE_LINE}"
)

# --- what the speech model sees: closed-ended templates --------------------------------------------
# Per language and attribute: open questions, multiple-choice questions ($options: the choices
# joined with "or"), and the answer sentence ($value: the label form of labels.i18n).

TEMPLATE_QUESTIONS: dict[str, dict[str, dict[str, tuple[str, ...] | str]]] = {
    "en": {
        "gender": {"open": ("What is the speaker's gender?", "How would you describe the gender of this voice?"),
                   "choice": ("Is the voice $options?", "Which describes the voice better: $options?"),
                   "answer": "The voice is $value."},
        "emotion": {"open": ("What emotion does the speaker express?", "How does the speaker seem to feel?",
                             "What is the emotional tone of the voice?"),
                    "choice": ("Does the speaker sound $options?", "Which emotion fits the voice best: $options?"),
                    "answer": "The speaker sounds $value."},
        "age": {"open": ("Roughly how old does the speaker sound?",
                         "Which age group does the speaker seem to belong to?"),
                "choice": ("Which age group fits the speaker best: $options?",),
                "answer": "The speaker sounds like a $value."},
        "accent": {"open": ("What accent does the speaker have?", "How would you describe the speaker's accent?"),
                   "choice": (),
                   "answer": "The speaker's accent is $value."},
        "pace": {"open": ("How fast does the speaker talk?", "How would you describe the speaking rate?"),
                 "choice": ("Does the speaker talk $options?",),
                 "answer": "The speaker talks $value."},
        "volume": {"open": ("How loudly does the speaker talk?", "How would you describe the speaker's volume?"),
                   "choice": ("Does the speaker talk $options?",),
                   "answer": "The speaker talks $value."},
        "pitch": {"open": ("How high or low is the speaker's voice?", "How would you describe the pitch of the voice?"),
                  "choice": ("Is the pitch of the voice $options?",),
                  "answer": "The pitch of the voice is $value."},
        "language": {"open": ("What language is spoken in this recording?", "Which language does the speaker use?"),
                     "choice": ("Is the speaker talking in $options?",),
                     "answer": "The speaker is talking in $value."},
    },
    "de": {
        "gender": {"open": ("Welches Geschlecht hat die sprechende Person?",
                            "Wie würdest du das Geschlecht dieser Stimme beschreiben?"),
                   "choice": ("Ist die Stimme $options?", "Was beschreibt die Stimme besser: $options?"),
                   "answer": "Die Stimme ist $value."},
        "emotion": {"open": ("Welche Emotion drückt die Person aus?", "Wie scheint sich die Person zu fühlen?",
                             "Welche Stimmung liegt in der Stimme?"),
                    "choice": ("Klingt die Person $options?", "Welche Emotion passt am besten zur Stimme: $options?"),
                    "answer": "Die Person klingt $value."},
        "age": {"open": ("Wie alt klingt die sprechende Person ungefähr?",
                         "Zu welcher Altersgruppe gehört die Person vermutlich?"),
                "choice": ("Welche Altersgruppe passt am besten: $options?",),
                "answer": "Die Stimme passt am ehesten zur Altersgruppe „$value“."},
        "accent": {"open": ("Welchen Akzent hat die Person?", "Wie würdest du den Akzent der Person beschreiben?"),
                   "choice": (),
                   "answer": "Die Person spricht mit diesem Akzent: $value."},
        "pace": {"open": ("Wie schnell spricht die Person?", "Wie würdest du das Sprechtempo beschreiben?"),
                 "choice": ("Spricht die Person $options?",),
                 "answer": "Die Person spricht $value."},
        "volume": {"open": ("Wie laut spricht die Person?", "Wie würdest du die Lautstärke der Stimme beschreiben?"),
                   "choice": ("Spricht die Person $options?",),
                   "answer": "Die Person spricht $value."},
        "pitch": {"open": ("Wie hoch oder tief ist die Stimme?", "Wie würdest du die Tonhöhe der Stimme beschreiben?"),
                  "choice": ("Ist die Stimmlage $options?",),
                  "answer": "Die Stimmlage ist $value."},
        "language": {"open": ("Welche Sprache wird in dieser Aufnahme gesprochen?", "In welcher Sprache spricht die Person?"),
                     "choice": ("Spricht die Person $options?",),
                     "answer": "Die Person spricht $value."},
    },
    "fr": {
        "gender": {"open": ("Quel est le genre de la personne qui parle ?",
                            "Comment décririez-vous le genre de cette voix ?"),
                   "choice": ("La voix est-elle $options ?", "Qu'est-ce qui décrit le mieux la voix : $options ?"),
                   "answer": "La voix est $value."},
        "emotion": {"open": ("Quelle émotion la personne exprime-t-elle ?", "Comment la personne semble-t-elle se sentir ?",
                             "Quel est le ton émotionnel de la voix ?"),
                    "choice": ("La voix semble-t-elle $options ?",
                               "Quelle émotion correspond le mieux à la voix : $options ?"),
                    "answer": "La voix semble $value."},
        "age": {"open": ("Quel âge la personne semble-t-elle avoir ?",
                         "À quelle tranche d'âge la personne semble-t-elle appartenir ?"),
                "choice": ("Quelle tranche d'âge correspond le mieux : $options ?",),
                "answer": "La voix correspond plutôt à la tranche d'âge « $value »."},
        "accent": {"open": ("Quel accent la personne a-t-elle ?", "Comment décririez-vous l'accent de la personne ?"),
                   "choice": (),
                   "answer": "La personne parle avec cet accent : $value."},
        "pace": {"open": ("À quelle vitesse la personne parle-t-elle ?", "Comment décririez-vous le débit de parole ?"),
                 "choice": ("La personne parle-t-elle $options ?",),
                 "answer": "La personne parle $value."},
        "volume": {"open": ("À quel volume la personne parle-t-elle ?", "Comment décririez-vous le volume de la voix ?"),
                   "choice": ("La personne parle-t-elle $options ?",),
                   "answer": "La personne parle $value."},
        "pitch": {"open": ("La voix est-elle aiguë ou grave ?", "Comment décririez-vous la hauteur de la voix ?"),
                  "choice": ("La voix est-elle $options ?",),
                  "answer": "La voix est $value."},
        "language": {"open": ("Quelle langue est parlée dans cet enregistrement ?",
                              "Dans quelle langue la personne parle-t-elle ?"),
                     "choice": ("La personne parle-t-elle $options ?",),
                     "answer": "La personne parle $value."},
    },
    "it": {
        "gender": {"open": ("Qual è il genere della persona che parla?", "Come descriveresti il genere di questa voce?"),
                   "choice": ("La voce è $options?", "Cosa descrive meglio la voce: $options?"),
                   "answer": "La voce è $value."},
        "emotion": {"open": ("Quale emozione esprime la persona?", "Come sembra sentirsi la persona?",
                             "Qual è il tono emotivo della voce?"),
                    "choice": ("La voce sembra $options?", "Quale emozione si adatta meglio alla voce: $options?"),
                    "answer": "La voce sembra $value."},
        "age": {"open": ("Quanti anni sembra avere la persona?", "A quale fascia d'età sembra appartenere la persona?"),
                "choice": ("Quale fascia d'età è la più adatta: $options?",),
                "answer": "La voce corrisponde alla fascia d'età «$value»."},
        "accent": {"open": ("Che accento ha la persona?", "Come descriveresti l'accento della persona?"),
                   "choice": (),
                   "answer": "La persona parla con questo accento: $value."},
        "pace": {"open": ("Quanto velocemente parla la persona?", "Come descriveresti la velocità di eloquio?"),
                 "choice": ("La persona parla $options?",),
                 "answer": "La persona parla $value."},
        "volume": {"open": ("A che volume parla la persona?", "Come descriveresti il volume della voce?"),
                   "choice": ("La persona parla $options?",),
                   "answer": "La persona parla $value."},
        "pitch": {"open": ("La voce è acuta o grave?", "Come descriveresti l'altezza della voce?"),
                  "choice": ("La voce è $options?",),
                  "answer": "La voce è $value."},
        "language": {"open": ("Quale lingua si parla in questa registrazione?", "In che lingua parla la persona?"),
                     "choice": ("La persona parla in $options?",),
                     "answer": "La persona parla in $value."},
    },
    "es": {
        "gender": {"open": ("¿Cuál es el género de la persona que habla?", "¿Cómo describirías el género de esta voz?"),
                   "choice": ("¿La voz es $options?", "¿Qué describe mejor la voz: $options?"),
                   "answer": "La voz es $value."},
        "emotion": {"open": ("¿Qué emoción expresa la persona?", "¿Cómo parece sentirse la persona?",
                             "¿Cuál es el tono emocional de la voz?"),
                    "choice": ("¿La voz suena $options?", "¿Qué emoción encaja mejor con la voz: $options?"),
                    "answer": "La voz suena $value."},
        "age": {"open": ("¿Qué edad aproximada parece tener la persona?",
                         "¿A qué grupo de edad parece pertenecer la persona?"),
                "choice": ("¿Qué grupo de edad encaja mejor: $options?",),
                "answer": "La voz corresponde al grupo de edad «$value»."},
        "accent": {"open": ("¿Qué acento tiene la persona?", "¿Cómo describirías el acento de la persona?"),
                   "choice": (),
                   "answer": "La persona habla con este acento: $value."},
        "pace": {"open": ("¿Qué tan rápido habla la persona?", "¿Cómo describirías la velocidad del habla?"),
                 "choice": ("¿La persona habla $options?",),
                 "answer": "La persona habla $value."},
        "volume": {"open": ("¿Con qué volumen habla la persona?", "¿Cómo describirías el volumen de la voz?"),
                   "choice": ("¿La persona habla $options?",),
                   "answer": "La persona habla $value."},
        "pitch": {"open": ("¿La voz es aguda o grave?", "¿Cómo describirías el tono de la voz?"),
                  "choice": ("¿La voz es $options?",),
                  "answer": "La voz es $value."},
        "language": {"open": ("¿Qué idioma se habla en esta grabación?", "¿En qué idioma habla la persona?"),
                     "choice": ("¿La persona habla en $options?",),
                     "answer": "La persona habla en $value."},
    },
}

# How the recording sounds (measured: speech quality, reverberation, distortion), in their own table so
# that the speaker questions above stay one block per language; merged into TEMPLATE_QUESTIONS below.
# $value: the forms of labels.i18n (SPEECH_QUALITY_WORDS, REVERBERATION_WORDS, DISTORTION_WORDS).
RECORDING_QUESTIONS: dict[str, dict[str, dict[str, tuple[str, ...] | str]]] = {
    "en": {
        "speech_quality": {"open": ("How good is the speech quality of this recording?",
                                    "How would you rate the sound quality of the voice in this recording?"),
                           "choice": ("Does the recording have $options?",),
                           "answer": "The recording has $value."},
        "reverberation": {"open": ("How close to the microphone does the voice sound?",
                                   "Does the voice sound close or distant?"),
                          "choice": ("Does the voice sound $options?",),
                          "answer": "The voice sounds $value."},
        "distortion": {"open": ("Is the recording distorted?", "How much distortion do you hear in this recording?"),
                       "choice": ("Is the recording $options?",),
                       "answer": "The recording is $value."},
    },
    "de": {
        "speech_quality": {"open": ("Wie gut ist die Sprachqualität dieser Aufnahme?",
                                    "Wie würdest du die Klangqualität der Stimme in dieser Aufnahme bewerten?"),
                           "choice": ("Hat die Aufnahme $options?",),
                           "answer": "Die Aufnahme hat $value."},
        "reverberation": {"open": ("Wie nah am Mikrofon klingt die Stimme?", "Klingt die Stimme nah oder entfernt?"),
                          "choice": ("Klingt die Stimme $options?",),
                          "answer": "Die Stimme klingt $value."},
        "distortion": {"open": ("Ist die Aufnahme verzerrt?", "Wie stark ist die Verzerrung in dieser Aufnahme?"),
                       "choice": ("Ist die Aufnahme $options?",),
                       "answer": "Die Aufnahme ist $value."},
    },
    "fr": {
        "speech_quality": {"open": ("Quelle est la qualité vocale de cet enregistrement ?",
                                    "Comment évalueriez-vous la qualité sonore de la voix dans cet enregistrement ?"),
                           "choice": ("L'enregistrement a-t-il $options ?",),
                           "answer": "L'enregistrement a $value."},
        "reverberation": {"open": ("La voix semble-t-elle proche du micro ?",
                                   "La voix semble-t-elle proche ou lointaine ?"),
                          "choice": ("La voix semble-t-elle $options ?",),
                          "answer": "La voix semble $value."},
        "distortion": {"open": ("L'enregistrement est-il distordu ?",
                                "Quelle distorsion entendez-vous dans cet enregistrement ?"),
                       "choice": ("L'enregistrement est-il $options ?",),
                       "answer": "L'enregistrement est $value."},
    },
    "it": {
        "speech_quality": {"open": ("Com'è la qualità vocale di questa registrazione?",
                                    "Come valuteresti la qualità sonora della voce in questa registrazione?"),
                           "choice": ("La registrazione ha $options?",),
                           "answer": "La registrazione ha $value."},
        "reverberation": {"open": ("Quanto vicina al microfono sembra la voce?", "La voce sembra vicina o lontana?"),
                          "choice": ("La voce sembra $options?",),
                          "answer": "La voce sembra $value."},
        "distortion": {"open": ("La registrazione è distorta?", "Quanta distorsione senti in questa registrazione?"),
                       "choice": ("La registrazione è $options?",),
                       "answer": "La registrazione è $value."},
    },
    "es": {
        "speech_quality": {"open": ("¿Qué tal es la calidad de voz de esta grabación?",
                                    "¿Cómo valorarías la calidad del sonido de la voz en esta grabación?"),
                           "choice": ("¿La grabación tiene $options?",),
                           "answer": "La grabación tiene $value."},
        "reverberation": {"open": ("¿Qué tan cerca del micrófono suena la voz?", "¿La voz suena cercana o lejana?"),
                          "choice": ("¿La voz suena $options?",),
                          "answer": "La voz suena $value."},
        "distortion": {"open": ("¿La grabación está distorsionada?", "¿Cuánta distorsión oyes en esta grabación?"),
                       "choice": ("¿La grabación está $options?",),
                       "answer": "La grabación está $value."},
    },
}
for _language, _questions in RECORDING_QUESTIONS.items():
    TEMPLATE_QUESTIONS[_language].update(_questions)

# --- DeSTA instruction pool -----------------------------------------------------------------------
# The first question of each pool is DeSTA2's single question; DeSTA2.5 samples from a pool.

DESTA_QUESTIONS: dict[str, tuple[str, ...]] = {
    "en": ("What can you hear from the audio?", "Describe what you hear in this recording.",
           "What do you notice about the speaker and what they say?",
           "Tell me about the voice and the words in this audio.", "Summarize what this audio clip contains.",
           "How would you describe this recording to someone who cannot hear it?"),
    "de": ("Was kannst du in der Aufnahme hören?", "Beschreibe, was du in dieser Aufnahme hörst.",
           "Was fällt dir an der sprechenden Person und an dem Gesagten auf?",
           "Erzähl mir etwas über die Stimme und die Worte in dieser Aufnahme.",
           "Fasse zusammen, was dieser Audioclip enthält.",
           "Wie würdest du diese Aufnahme jemandem beschreiben, der sie nicht hören kann?"),
    "fr": ("Qu'entends-tu dans cet audio ?", "Décris ce que tu entends dans cet enregistrement.",
           "Que remarques-tu chez la personne qui parle et dans ce qu'elle dit ?",
           "Parle-moi de la voix et des mots de cet audio.", "Résume le contenu de cet extrait audio.",
           "Comment décrirais-tu cet enregistrement à quelqu'un qui ne peut pas l'entendre ?"),
    "it": ("Cosa senti in questo audio?", "Descrivi ciò che senti in questa registrazione.",
           "Cosa noti della persona che parla e di ciò che dice?",
           "Parlami della voce e delle parole in questo audio.", "Riassumi il contenuto di questa clip audio.",
           "Come descriveresti questa registrazione a qualcuno che non può ascoltarla?"),
    "es": ("¿Qué puedes oír en el audio?", "Describe lo que oyes en esta grabación.",
           "¿Qué notas en la persona que habla y en lo que dice?",
           "Háblame de la voz y de las palabras de este audio.", "Resume lo que contiene este clip de audio.",
           "¿Cómo describirías esta grabación a alguien que no puede oírla?"),
}

# --- controllable generation: template instructions -------------------------------------------------
# $traits: the chosen characteristics joined with "and" (CONTROL_TRAITS phrases).

CONTROL_INSTRUCTIONS: dict[str, tuple[str, ...]] = {
    "en": ("Say the following text $traits.", "Read the text below $traits.", "Please speak this text $traits.",
           "Generate speech for the given text $traits."),
    "de": ("Sprich den folgenden Text $traits.", "Lies den Text unten $traits vor.", "Bitte sprich diesen Text $traits.",
           "Sprich den Text bitte $traits."),
    "fr": ("Dis le texte suivant $traits.", "Lis le texte ci-dessous $traits.",
           "Prononce ce texte $traits, s'il te plaît.", "Génère la parole du texte donné $traits."),
    "it": ("Pronuncia il testo seguente $traits.", "Leggi il testo qui sotto $traits.",
           "Per favore, pronuncia questo testo $traits.", "Genera il parlato del testo dato $traits."),
    "es": ("Di el siguiente texto $traits.", "Lee el texto de abajo $traits.", "Por favor, pronuncia este texto $traits.",
           "Genera la voz del texto dado $traits."),
}
# One phrase per characteristic; $value takes the labels.i18n form of the field (gender has whole
# phrases because "a male voice" inflects in every language but English).
CONTROL_TRAITS: dict[str, dict[str, str]] = {
    "en": {"emotion": "sounding $value", "speaking_speed": "$value", "pace": "$value", "intensity": "$value",
           "volume": "$value", "pitch": "with a $value pitch", "pitch_variation": "in a $value way",
           "accent": "with this accent: $value"},
    "de": {"emotion": "mit $value klingender Stimme", "speaking_speed": "$value", "pace": "$value",
           "intensity": "$value", "volume": "$value", "pitch": "in einer Stimmlage, die $value ist",
           "pitch_variation": "$value", "accent": "mit diesem Akzent: $value"},
    "fr": {"emotion": "d'une voix $value", "speaking_speed": "$value", "pace": "$value", "intensity": "$value",
           "volume": "$value", "pitch": "d'une voix $value", "pitch_variation": "de manière $value",
           "accent": "avec cet accent : $value"},
    "it": {"emotion": "con voce $value", "speaking_speed": "$value", "pace": "$value", "intensity": "$value",
           "volume": "$value", "pitch": "con una voce $value", "pitch_variation": "in maniera $value",
           "accent": "con questo accento: $value"},
    "es": {"emotion": "con voz $value", "speaking_speed": "$value", "pace": "$value", "intensity": "$value",
           "volume": "$value", "pitch": "con una voz $value", "pitch_variation": "de manera $value",
           "accent": "con este acento: $value"},
}
CONTROL_GENDER: dict[str, dict[str, str]] = {
    "en": {"male": "in a male voice", "female": "in a female voice"},
    "de": {"male": "mit einer Männerstimme", "female": "mit einer Frauenstimme"},
    "fr": {"male": "avec une voix masculine", "female": "avec une voix féminine"},
    "it": {"male": "con una voce maschile", "female": "con una voce femminile"},
    "es": {"male": "con una voz masculina", "female": "con una voz femenina"},
}
# The label in front of the text to speak, in the user turn ("Text: ...").
TEXT_LABEL = {"en": "Text", "de": "Text", "fr": "Texte", "it": "Testo", "es": "Texto"}

# --- comparison templates --------------------------------------------------------------------------
# Per measure (render.pair.MEASURES) and direction ("more": higher/faster/louder, "less"), one
# question; the answer names the recording.

COMPARISON_QUESTIONS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "higher_pitch": {"more": "In which recording is the voice higher-pitched, the first or the second?",
                         "less": "In which recording is the voice lower-pitched, the first or the second?"},
        "faster_speech": {"more": "In which recording does the speaker talk faster, the first or the second?",
                          "less": "In which recording does the speaker talk more slowly, the first or the second?"},
        "louder": {"more": "In which recording is the speech louder, the first or the second?",
                   "less": "In which recording is the speech quieter, the first or the second?"},
    },
    "de": {
        "higher_pitch": {"more": "In welcher Aufnahme ist die Stimme höher, in der ersten oder in der zweiten?",
                         "less": "In welcher Aufnahme ist die Stimme tiefer, in der ersten oder in der zweiten?"},
        "faster_speech": {"more": "In welcher Aufnahme wird schneller gesprochen, in der ersten oder in der zweiten?",
                          "less": "In welcher Aufnahme wird langsamer gesprochen, in der ersten oder in der zweiten?"},
        "louder": {"more": "In welcher Aufnahme wird lauter gesprochen, in der ersten oder in der zweiten?",
                   "less": "In welcher Aufnahme wird leiser gesprochen, in der ersten oder in der zweiten?"},
    },
    "fr": {
        "higher_pitch": {"more": "Dans quel enregistrement la voix est-elle plus aiguë, le premier ou le second ?",
                         "less": "Dans quel enregistrement la voix est-elle plus grave, le premier ou le second ?"},
        "faster_speech": {"more": "Dans quel enregistrement la personne parle-t-elle plus vite, le premier ou le second ?",
                          "less": "Dans quel enregistrement la personne parle-t-elle plus lentement, le premier ou le second ?"},
        "louder": {"more": "Dans quel enregistrement la personne parle-t-elle plus fort, le premier ou le second ?",
                   "less": "Dans quel enregistrement la personne parle-t-elle plus doucement, le premier ou le second ?"},
    },
    "it": {
        "higher_pitch": {"more": "In quale registrazione la voce è più acuta, nella prima o nella seconda?",
                         "less": "In quale registrazione la voce è più grave, nella prima o nella seconda?"},
        "faster_speech": {"more": "In quale registrazione si parla più velocemente, nella prima o nella seconda?",
                          "less": "In quale registrazione si parla più lentamente, nella prima o nella seconda?"},
        "louder": {"more": "In quale registrazione si parla a voce più alta, nella prima o nella seconda?",
                   "less": "In quale registrazione si parla a voce più bassa, nella prima o nella seconda?"},
    },
    "es": {
        "higher_pitch": {"more": "¿En qué grabación la voz es más aguda, en la primera o en la segunda?",
                         "less": "¿En qué grabación la voz es más grave, en la primera o en la segunda?"},
        "faster_speech": {"more": "¿En qué grabación se habla más deprisa, en la primera o en la segunda?",
                          "less": "¿En qué grabación se habla más despacio, en la primera o en la segunda?"},
        "louder": {"more": "¿En qué grabación se habla más alto, en la primera o en la segunda?",
                   "less": "¿En qué grabación se habla más bajo, en la primera o en la segunda?"},
    },
}
COMPARISON_ANSWERS: dict[str, dict[str, str]] = {
    "en": {"first": "In the first recording.", "second": "In the second recording."},
    "de": {"first": "In der ersten Aufnahme.", "second": "In der zweiten Aufnahme."},
    "fr": {"first": "Dans le premier enregistrement.", "second": "Dans le second enregistrement."},
    "it": {"first": "Nella prima registrazione.", "second": "Nella seconda registrazione."},
    "es": {"first": "En la primera grabación.", "second": "En la segunda grabación."},
}
