"""Verifiable constraints for the ``constrained`` task family: the phrases that ask for them, in five
languages, how a known target is rewritten to satisfy each one, and how ``speechsift eval`` reads
them back from an instruction (``parse_constraints``), so that every export format carries them in
the instruction text alone.

Each constraint is one of Speech-IFEval's / IFEval's verifiable instructions (``eval.ifeval`` checks
it) plus ``startend:start_checker`` (an "Answer:" prefix). A phrase template names its arguments in
braces; the same template is rendered for the instruction and turned into a regular expression for
reading it back. Rewritten targets are verified by the checker the evaluator uses before they are
kept (``tasks/constrained.py``).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

from speechsift.eval.ifeval import count_words, split_sentences
from speechsift.labels import i18n

RELATIONS: dict[str, dict[str, str]] = {  # IFEval's relation -> its words in each language
    "en": {"less than": "less than", "at least": "at least"},
    "de": {"less than": "weniger als", "at least": "mindestens"},
    "fr": {"less than": "moins de", "at least": "au moins"},
    "it": {"less than": "meno di", "at least": "almeno"},
    "es": {"less than": "menos de", "at least": "al menos"},
}
TITLES = {"en": "Answer", "de": "Antwort", "fr": "Réponse", "it": "Risposta", "es": "Respuesta"}
START_PHRASES = {"en": "Answer:", "de": "Antwort:", "fr": "Réponse :", "it": "Risposta:", "es": "Respuesta:"}
END_PHRASES = {"en": "Is there anything else I can help with?", "de": "Kann ich sonst noch helfen?",
               "fr": "Puis-je vous aider avec autre chose ?", "it": "Posso aiutarti in qualcos'altro?",
               "es": "¿Puedo ayudarte en algo más?"}
# Words no answer about a voice recording needs: the forbidden words of keywords:forbidden_words.
FORBIDDEN_POOL = {"en": ("banana", "volcano", "umbrella", "galaxy", "pyramid"),
                  "de": ("Banane", "Vulkan", "Regenschirm", "Galaxie", "Pyramide"),
                  "fr": ("banane", "volcan", "parapluie", "galaxie", "pyramide"),
                  "it": ("banana", "vulcano", "ombrello", "galassia", "piramide"),
                  "es": ("plátano", "volcán", "paraguas", "galaxia", "pirámide")}

PHRASES: dict[str, dict[str, str]] = {
    "detectable_format:json_format": {
        "en": 'Wrap your entire answer in JSON format, as an object with the key "answer".',
        "de": 'Gib deine gesamte Antwort im JSON-Format aus, als Objekt mit dem Schlüssel "answer".',
        "fr": 'Donne toute ta réponse au format JSON, sous forme d\'objet avec la clé "answer".',
        "it": 'Scrivi tutta la risposta in formato JSON, come oggetto con la chiave "answer".',
        "es": 'Escribe toda tu respuesta en formato JSON, como un objeto con la clave "answer".'},
    "change_case:english_capital": {
        "en": "Your entire response should be in capital letters.",
        "de": "Deine gesamte Antwort soll in Großbuchstaben geschrieben sein.",
        "fr": "Toute ta réponse doit être écrite en majuscules.",
        "it": "Tutta la tua risposta deve essere scritta in lettere maiuscole.",
        "es": "Toda tu respuesta debe estar escrita en mayúsculas."},
    "change_case:english_lowercase": {
        "en": "Your entire response should be in lowercase letters, with no capital letters.",
        "de": "Deine gesamte Antwort soll in Kleinbuchstaben geschrieben sein, ohne Großbuchstaben.",
        "fr": "Toute ta réponse doit être écrite en minuscules, sans aucune majuscule.",
        "it": "Tutta la tua risposta deve essere scritta in lettere minuscole, senza maiuscole.",
        "es": "Toda tu respuesta debe estar escrita en minúsculas, sin ninguna mayúscula."},
    "startend:quotation": {
        "en": "Wrap your entire response in double quotation marks.",
        "de": "Setze deine gesamte Antwort in doppelte Anführungszeichen (\").",
        "fr": "Mets toute ta réponse entre guillemets droits doubles (\").",
        "it": "Racchiudi tutta la tua risposta tra virgolette doppie (\").",
        "es": "Pon toda tu respuesta entre comillas dobles (\")."},
    "detectable_format:title": {
        "en": "Give your answer a title wrapped in double angular brackets, such as <<{title}>>.",
        "de": "Gib deiner Antwort einen Titel in doppelten spitzen Klammern, etwa <<{title}>>.",
        "fr": "Donne un titre à ta réponse entre doubles chevrons, par exemple <<{title}>>.",
        "it": "Dai alla tua risposta un titolo tra doppie parentesi angolari, per esempio <<{title}>>.",
        "es": "Pon a tu respuesta un título entre dobles corchetes angulares, por ejemplo <<{title}>>."},
    "startend:end_checker": {
        "en": 'Finish your response with this exact phrase: "{end_phrase}" No other words should follow.',
        "de": 'Beende deine Antwort genau mit diesem Satz: "{end_phrase}" Danach soll nichts mehr folgen.',
        "fr": 'Termine ta réponse exactement par cette phrase : "{end_phrase}" Rien ne doit suivre.',
        "it": 'Termina la tua risposta esattamente con questa frase: "{end_phrase}" Non deve seguire altro.',
        "es": 'Termina tu respuesta exactamente con esta frase: "{end_phrase}" No debe seguir nada más.'},
    "startend:start_checker": {
        "en": 'Start your response with "{start_phrase}".',
        "de": 'Beginne deine Antwort mit "{start_phrase}".',
        "fr": 'Commence ta réponse par "{start_phrase}".',
        "it": 'Inizia la tua risposta con "{start_phrase}".',
        "es": 'Empieza tu respuesta con "{start_phrase}".'},
    "detectable_format:number_bullet_lists": {
        "en": 'Your answer must contain exactly {num_bullets} bullet points, each on its own line starting with "* ".',
        "de": 'Deine Antwort muss genau {num_bullets} Aufzählungspunkte enthalten, jeder in einer eigenen Zeile, '
              'die mit "* " beginnt.',
        "fr": 'Ta réponse doit contenir exactement {num_bullets} puces, chacune sur sa propre ligne commençant par "* ".',
        "it": 'La tua risposta deve contenere esattamente {num_bullets} punti elenco, ognuno su una riga che inizia '
              'con "* ".',
        "es": 'Tu respuesta debe contener exactamente {num_bullets} viñetas, cada una en su propia línea que empiece '
              'por "* ".'},
    "length_constraints:number_words": {
        "en": "Answer with {relation} {num_words} words.",
        "de": "Antworte mit {relation} {num_words} Wörtern.",
        "fr": "Réponds en {relation} {num_words} mots.",
        "it": "Rispondi con {relation} {num_words} parole.",
        "es": "Responde con {relation} {num_words} palabras."},
    "length_constraints:number_sentences": {
        "en": "Your response should contain {relation} {num_sentences} sentences.",
        "de": "Deine Antwort soll {relation} {num_sentences} Sätze enthalten.",
        "fr": "Ta réponse doit contenir {relation} {num_sentences} phrases.",
        "it": "La tua risposta deve contenere {relation} {num_sentences} frasi.",
        "es": "Tu respuesta debe contener {relation} {num_sentences} oraciones."},
    "length_constraints:number_paragraphs": {
        "en": "There should be exactly {num_paragraphs} paragraphs, separated by the markdown divider ***.",
        "de": "Es soll genau {num_paragraphs} Absätze geben, getrennt durch den Markdown-Trenner ***.",
        "fr": "Il doit y avoir exactement {num_paragraphs} paragraphes, séparés par le séparateur markdown ***.",
        "it": "Devono esserci esattamente {num_paragraphs} paragrafi, separati dal divisore markdown ***.",
        "es": "Debe haber exactamente {num_paragraphs} párrafos, separados por el divisor markdown ***."},
    "keywords:existence": {
        "en": "Include the keywords {keywords} in your response.",
        "de": "Verwende die Schlüsselwörter {keywords} in deiner Antwort.",
        "fr": "Inclus les mots-clés {keywords} dans ta réponse.",
        "it": "Includi le parole chiave {keywords} nella tua risposta.",
        "es": "Incluye las palabras clave {keywords} en tu respuesta."},
    "keywords:forbidden_words": {
        "en": "Do not include the words {forbidden_words} in your response.",
        "de": "Verwende die Wörter {forbidden_words} nicht in deiner Antwort.",
        "fr": "N'utilise pas les mots {forbidden_words} dans ta réponse.",
        "it": "Non usare le parole {forbidden_words} nella tua risposta.",
        "es": "No uses las palabras {forbidden_words} en tu respuesta."},
}
CONSTRAINT_IDS: tuple[str, ...] = tuple(PHRASES)
_WORDS = re.compile(r"\w{4,}")
_FIELD_PATTERNS = {
    "num_bullets": r"(?P<num_bullets>\d+)", "num_words": r"(?P<num_words>\d+)",
    "num_sentences": r"(?P<num_sentences>\d+)", "num_paragraphs": r"(?P<num_paragraphs>\d+)",
    "title": r"(?P<title>[^<>\n]+)", "end_phrase": r"(?P<end_phrase>[^\"\n]+)",
    "start_phrase": r"(?P<start_phrase>[^\"\n]+)", "keywords": r"(?P<keywords>(?:\"[^\"\n]+\"(?:, )?)+)",
    "forbidden_words": r"(?P<forbidden_words>(?:\"[^\"\n]+\"(?:, )?)+)",
}


def _quoted_list(words: list[str]) -> str:
    return ", ".join(f'"{w}"' for w in words)


def _language(language: str | None) -> str:
    return i18n.output_language(language)


def render(constraint_id: str, kwargs: dict[str, Any], language: str | None) -> str:
    lang = _language(language)
    values = dict(kwargs)
    if "relation" in values:
        values["relation"] = RELATIONS[lang][values["relation"]]
    for key in ("keywords", "forbidden_words"):
        if key in values:
            values[key] = _quoted_list(values[key])
    values.setdefault("title", TITLES[lang])
    return PHRASES[constraint_id][lang].format(**values)


@dataclass(frozen=True)
class Rewrite:
    """A constraint's arguments for one target, and the target rewritten to satisfy it."""

    kwargs: dict[str, Any]
    target: str


def _split_even(words: list[str], parts: int) -> list[str]:
    size, extra = divmod(len(words), parts)
    out, start = [], 0
    for k in range(parts):
        end = start + size + (1 if k < extra else 0)
        out.append(" ".join(words[start:end]))
        start = end
    return out


def rewrite(constraint_id: str, target: str, language: str | None, rng: random.Random) -> Rewrite | None:
    """The target satisfying ``constraint_id`` (None when the constraint does not fit this target)."""
    lang = _language(language)
    words = target.split()
    if constraint_id == "detectable_format:json_format":
        return Rewrite({}, json.dumps({"answer": target}, ensure_ascii=False))
    if constraint_id == "change_case:english_capital":
        return Rewrite({}, target.upper()) if any(c.isalpha() for c in target) else None
    if constraint_id == "change_case:english_lowercase":
        return Rewrite({}, target.lower()) if any(c.isalpha() for c in target) else None
    if constraint_id == "startend:quotation":
        return Rewrite({}, f'"{target}"')
    if constraint_id == "detectable_format:title":
        return Rewrite({}, f"<<{TITLES[lang]}>>\n{target}")
    if constraint_id == "startend:end_checker":
        return Rewrite({"end_phrase": END_PHRASES[lang]}, f"{target}\n{END_PHRASES[lang]}")
    if constraint_id == "startend:start_checker":
        return Rewrite({"start_phrase": START_PHRASES[lang]}, f"{START_PHRASES[lang]} {target}")
    if constraint_id == "detectable_format:number_bullet_lists":
        if len(words) < 2 or target.lstrip().startswith(("*", "-")):
            return None
        count = rng.randint(2, min(3, len(words)))
        return Rewrite({"num_bullets": count}, "\n".join(f"* {part}" for part in _split_even(words, count)))
    if constraint_id == "length_constraints:number_words":
        n = count_words(target)
        if rng.random() < 0.5 or n <= 1:
            return Rewrite({"relation": "less than", "num_words": n + rng.randint(1, 10)}, target)
        return Rewrite({"relation": "at least", "num_words": rng.randint(1, n)}, target)
    if constraint_id == "length_constraints:number_sentences":
        n = len(split_sentences(target))
        return Rewrite({"relation": "less than", "num_sentences": n + rng.randint(1, 3)}, target)
    if constraint_id == "length_constraints:number_paragraphs":
        if len(words) < 2 or "*" in target:
            return None
        return Rewrite({"num_paragraphs": 2}, "\n\n***\n\n".join(_split_even(words, 2)))
    if constraint_id == "keywords:existence":
        candidates = sorted(set(_WORDS.findall(target.lower())))
        if not candidates:
            return None
        return Rewrite({"keywords": rng.sample(candidates, min(2, len(candidates)))}, target)
    if constraint_id == "keywords:forbidden_words":
        lowered = target.lower()
        pool = [w for w in FORBIDDEN_POOL[lang] if w.lower() not in lowered]
        return Rewrite({"forbidden_words": rng.sample(pool, min(2, len(pool)))}, target) if pool else None
    raise KeyError(constraint_id)


def _pattern(template: str, lang: str) -> re.Pattern[str]:
    pieces = re.split(r"(\{\w+\})", template)
    regex = []
    for piece in pieces:
        name = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else None
        if name == "relation":
            regex.append("(?P<relation>" + "|".join(re.escape(w) for w in RELATIONS[lang].values()) + ")")
        elif name is not None:
            regex.append(_FIELD_PATTERNS[name])
        else:
            regex.append(re.escape(piece))
    return re.compile("".join(regex))


_PATTERNS = {(cid, lang): _pattern(template, lang) for cid, table in PHRASES.items() for lang, template in table.items()}


def parse_constraints(instruction: str, language: str | None) -> list[tuple[str, dict[str, Any]]]:
    """``(instruction id, kwargs)`` for every constraint phrase in ``instruction`` (its language, then English)."""
    lang = _language(language)
    found = []
    for constraint_id in CONSTRAINT_IDS:
        for candidate in dict.fromkeys((lang, "en")):
            match = _PATTERNS[(constraint_id, candidate)].search(instruction)
            if match is None:
                continue
            kwargs: dict[str, Any] = {}
            for key, value in match.groupdict().items():
                if key == "relation":
                    kwargs[key] = {v: k for k, v in RELATIONS[candidate].items()}[value]
                elif key in ("keywords", "forbidden_words"):
                    kwargs[key] = re.findall(r'"([^"\n]+)"', value)
                elif key.startswith("num_"):
                    kwargs[key] = int(value)
                elif key != "title":
                    kwargs[key] = value
            found.append((constraint_id, kwargs))
            break
    return found


__all__ = ["CONSTRAINT_IDS", "PHRASES", "Rewrite", "parse_constraints", "render", "rewrite"]
