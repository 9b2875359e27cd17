"""What text a voice can speak, and long text cut into utterances at sentence boundaries.

Reject codes: ``empty_text`` (nothing but white space), ``no_speakable_text`` (no letter or digit:
only symbols), ``unsupported_script`` (most letters in a script the voice's language is not
written in), ``text_too_long`` (longer than ``max_chars``, and splitting is off or a single
sentence is that long).
"""

from __future__ import annotations

import re
import unicodedata

from speechsift.errors import Reject

# The script each language is written in, as Unicode names its letters ("LATIN SMALL LETTER E").
# Languages not listed are not checked (the voice decides).
SCRIPTS: dict[str, str] = {
    **{code: "LATIN" for code in ("en", "de", "fr", "it", "es", "pt", "nl", "pl", "cs", "sv", "da", "nb", "fi",
                                  "ro", "hu", "tr", "id", "vi", "ca")},
    **{code: "CYRILLIC" for code in ("ru", "uk", "bg", "sr", "be")},
    "el": "GREEK", "ar": "ARABIC", "he": "HEBREW", "hi": "DEVANAGARI", "th": "THAI", "ko": "HANGUL",
}
FOREIGN_SHARE = 0.5  # more than this share of the letters in another script: the voice cannot read it

# A sentence ends at . ! ? … (or their CJK forms) followed by white space; kept with its sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+")


def check_speakable(text: str, language: str | None) -> str:
    """``text`` with its white space collapsed, or ``Reject`` when no voice of ``language`` can say it."""
    spoken = " ".join(text.split())
    if not spoken:
        raise Reject("empty_text", "the text to speak is empty")
    letters = [c for c in spoken if c.isalpha()]
    if not letters and not any(c.isdigit() for c in spoken):
        raise Reject("no_speakable_text", f"the text holds no letter or digit to speak: {spoken[:60]!r}")
    script = SCRIPTS.get(language or "")
    if script and letters:
        foreign = sum(1 for c in letters if not unicodedata.name(c, "").startswith(script))
        if foreign > FOREIGN_SHARE * len(letters):
            raise Reject("unsupported_script", f"most letters of the text are not in the {script.title()} script "
                                               f"a {language!r} voice reads: {spoken[:60]!r}")
    return spoken


def utterances(text: str, max_chars: int, split: bool) -> list[str]:
    """``text`` as one utterance, or as consecutive runs of whole sentences of at most
    ``max_chars`` each; ``Reject("text_too_long")`` when that cannot be done."""
    if len(text) <= max_chars:
        return [text]
    if not split:
        raise Reject("text_too_long", f"the text has {len(text)} characters, more than tts.max_chars "
                                      f"({max_chars}); set tts.long_text: split to speak it sentence by sentence")
    chunks: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        if len(sentence) > max_chars:
            raise Reject("text_too_long", f"a sentence of the text has {len(sentence)} characters, more than "
                                          f"tts.max_chars ({max_chars}): {sentence[:60]!r}...")
        if chunks and len(chunks[-1]) + 1 + len(sentence) <= max_chars:
            chunks[-1] += " " + sentence
        else:
            chunks.append(sentence)
    return chunks


__all__ = ["check_speakable", "utterances"]
