"""The espeak backend for real, in the five languages: the measured speaking rate follows the rate
setting, the measured pitch follows the pitch setting and the voice's gender
(``speechsift.features`` measures the synthesized audio as it measures any clip)."""

from __future__ import annotations

from collections import Counter

import pytest

from speechsift import audio
from speechsift.errors import ConfigError
from speechsift.features import measure
from speechsift.recipe import TTSVoice
from speechsift.tts import SpeechRequest
from speechsift.tts.espeak import EspeakBackend

SENTENCES = {
    "en": ("en-us", "The weather was lovely, so we walked along the river until the evening."),
    "de": ("de", "Das Wetter war schön, also gingen wir bis zum Abend am Fluss entlang."),
    "fr": ("fr", "Il faisait beau, alors nous avons marché le long de la rivière jusqu'au soir."),
    "it": ("it", "Il tempo era bello, così abbiamo camminato lungo il fiume fino a sera."),
    "es": ("es", "Hacía buen tiempo, así que caminamos junto al río hasta la noche."),
}


def _measured(synthesizer, requests):
    made = synthesizer.synthesize(requests, Counter())
    out = []
    for request, utterance in zip(requests, made):
        assert utterance.audio is not None, utterance.message
        wave, sr = audio.load(utterance.audio)
        out.append(measure(wave, sr, ("rate", "pitch"), text=request.text, language=request.language))
    return out


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_rate_pitch_and_gender_follow_the_settings(synthesizer, language):
    voice, text = SENTENCES[language]
    slow, fast, low, high, male, female = _measured(synthesizer, [
        SpeechRequest(text, voice, (("rate", 120),), language),
        SpeechRequest(text, voice, (("rate", 260),), language),
        SpeechRequest(text, voice, (("pitch", 15),), language),
        SpeechRequest(text, voice, (("pitch", 85),), language),
        SpeechRequest(text, voice, (), language),
        SpeechRequest(text, f"{voice}+f3", (), language),
    ])
    # 260 words a minute is 2.2 times 120: the measured phonemes per second of speech follow
    assert fast["speaking_rate"] > 1.5 * slow["speaking_rate"], (slow, fast)
    assert 6 < slow["speaking_rate"] < fast["speaking_rate"] < 30
    # espeak-ng's pitch 15 -> 85 raises the base pitch by about half an octave
    assert high["f0_median_hz"] > 1.25 * low["f0_median_hz"], (low, high)
    # the female variant speaks well above the male voice, at the same settings
    assert female["f0_median_hz"] > 1.4 * male["f0_median_hz"], (male, female)
    assert 70 < male["f0_median_hz"] < 150 < female["f0_median_hz"] < 300


def test_voices_not_installed_are_configuration_errors(espeak_backend):
    def resolve(**voice):
        return espeak_backend.resolve(TTSVoice(language="en", **voice), "tts.voices[0]")

    assert resolve(voice="en-us+f3") == "en-us+f3"
    assert resolve(voice="de") == "de" and resolve(voice="fr-fr") == "fr-fr"
    with pytest.raises(ConfigError, match=r"tts.voices\[0\]: espeak-ng has no voice 'xx-nowhere'.*--voices"):
        resolve(voice="xx-nowhere")
    with pytest.raises(ConfigError, match="no variant 'nobody'"):
        resolve(voice="en-us+nobody")
    missing = EspeakBackend(program="espeak-ng-not-installed")
    with pytest.raises(ConfigError, match="apt-get install espeak-ng"):
        missing.resolve(TTSVoice(voice="en-us", language="en"), "tts.voices[0]")


def test_espeak_failure_is_a_speech_error(espeak_backend):
    """A voice espeak-ng cannot load fails that utterance, with a reason, not the batch."""
    import asyncio

    good, bad = asyncio.run(espeak_backend.asynthesize([
        SpeechRequest("Hello.", "en-us"), SpeechRequest("Hello.", "xx-nowhere")]))
    assert good.ok and good.audio[:4] == b"RIFF"
    assert not bad.ok and bad.error_reason == "tts_failed" and "espeak-ng failed" in bad.error
