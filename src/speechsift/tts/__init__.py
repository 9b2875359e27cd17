"""Speech synthesis: backends (``espeak``, ``piper``, ``openai``) behind one protocol, the voice
pool, and the utterance cache (``Synthesizer``)."""

from speechsift.tts.base import Speech, SpeechBackend, SpeechRequest, make_tts_backend, make_voices
from speechsift.tts.service import Synthesizer, Utterance, UtteranceCache
from speechsift.tts.voices import Voice, VoicePool

__all__ = ["Speech", "SpeechBackend", "SpeechRequest", "Synthesizer", "Utterance", "UtteranceCache", "Voice",
           "VoicePool", "make_tts_backend", "make_voices"]
