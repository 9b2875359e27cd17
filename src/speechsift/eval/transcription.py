"""Transcription: word and character error rates with jiwer 4 (``process_words`` /
``process_characters``), after normalizing both sides.

Normalizers (REFERENCE.md §7: SIFT-50M scores WER after Whisper's English normalizer):

- ``en``: Whisper's ``EnglishTextNormalizer`` (the ``whisper-normalizer`` package, offline):
  lower case, spelled-out numbers and British spellings standardized, contractions expanded,
  punctuation and bracketed asides removed.
- every other language (de, fr, it, es, ...): Whisper's ``BasicTextNormalizer``: lower case, text in
  brackets or parentheses removed, punctuation and symbols replaced by spaces, whitespace collapsed;
  letters with diacritics are kept (``é`` and ``e`` stay different words).

The corpus-level rate is errors / reference words over all items (``wer_errors`` / ``wer_words``),
not a mean of per-item rates; the per-item ``wer`` is kept for the report.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from speechsift.eval.scoring import Failure


@cache
def _normalizers() -> tuple[Any, Any]:
    try:
        from whisper_normalizer.basic import BasicTextNormalizer
        from whisper_normalizer.english import EnglishTextNormalizer
    except ImportError as exc:
        from speechsift.errors import ConfigError

        raise ConfigError(f"transcription scoring needs whisper-normalizer ({exc}); install the eval extra: "
                          "pip install -c constraints.txt 'speechsift[eval]'") from None
    return EnglishTextNormalizer(), BasicTextNormalizer()


@lru_cache(maxsize=65_536)
def normalize(text: str, language: str | None) -> str:
    """``text`` normalized for ``language`` (cached: references and stock answers repeat across items,
    and Whisper's English normalizer costs about a third of a millisecond a call)."""
    english, basic = _normalizers()
    normalizer = english if (language or "en").split("-")[0].lower() == "en" else basic
    return " ".join(normalizer(text or "").split())


def transcription_scores(reference: str, hypothesis: str, language: str | None) -> dict[str, float]:
    import jiwer

    ref = normalize(reference, language)
    if not ref:
        raise Failure("empty_reference", "the reference transcript is empty after normalization")
    hyp = normalize(hypothesis, language)
    words = jiwer.process_words(ref, hyp)
    chars = jiwer.process_characters(ref, hyp)
    word_errors = words.substitutions + words.deletions + words.insertions
    ref_words = words.substitutions + words.deletions + words.hits
    char_errors = chars.substitutions + chars.deletions + chars.insertions
    ref_chars = chars.substitutions + chars.deletions + chars.hits
    return {"wer": word_errors / ref_words, "wer_errors": word_errors, "wer_words": ref_words,
            "cer": char_errors / ref_chars, "cer_errors": char_errors, "cer_chars": ref_chars}
