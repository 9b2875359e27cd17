"""The DeSTA2 seed description (render.desta) against fixed expectations."""

from __future__ import annotations

from factories import make_clip

from speechsift.render.desta import render_seed_description, timestamp


def test_one_line_in_destas_form():
    clip = make_clip(text="the belts needed cleaning", meta={"gender": "male", "age": "young adult",
                                                             "accent": "English", "emotion": "neutral"})
    clip.features = {"duration_s": 4.2}
    assert render_seed_description(clip) == (
        '[00:00:00 - 00:00:04] "the belts needed cleaning" '
        "(Gender: Male, Age: young adult, Accent: English, Emotion: neutral, Duration: 4s)"
    )


def test_binned_words_snr_language_and_intent():
    clip = make_clip(text='Il a dit "oui"', meta={"pitch": "very high", "intensity": "loudly",
                                                  "speaking_speed": "quite fast", "noise": "quite noisy",
                                                  "intent": "inform"})
    clip.language = "fr"
    clip.features = {"duration_s": 0.4, "snr_db": 9.6}
    assert render_seed_description(clip) == (
        "[00:00:00 - 00:00:01] \"Il a dit 'oui'\" (Pitch: very high, Volume: loudly, Speaking speed: quite fast, "
        "Noise: quite noisy, Language: French, SNR: 10 dB, Duration: 1s, Intent: inform)"
    )


def test_no_duration_no_timestamps():
    assert render_seed_description(make_clip(text="hi", meta={})) == '"hi"'


def test_multi_speaker_segments_one_line_each_in_time_order():
    segments = [
        {"start_s": 3.6, "end_s": 7.2, "text": "fine, thanks", "speaker": "B", "gender": "male", "emotion": "happy"},
        {"start_s": 0.0, "end_s": 3.4, "text": "how are you?", "speaker": "A", "gender": "female"},
        {"start_s": "bad", "end_s": 1.0, "text": "dropped"},
    ]
    clip = make_clip(text="how are you? fine, thanks", meta={"noise": "very clean"}, segments=segments)
    clip.features = {"duration_s": 7.5}
    assert render_seed_description(clip).splitlines() == [
        '[00:00:00 - 00:00:03] A: "how are you?" (Gender: Female, Duration: 3s)',
        '[00:00:04 - 00:00:07] B: "fine, thanks" (Gender: Male, Emotion: happy, Duration: 4s)',
        "(Speakers: 2, Noise: very clean, Duration: 8s)",
    ]


def test_untrusted_text_is_one_line_without_tags():
    clip = make_clip(text="a\nb <audio> c", meta={"accent": "x)\n(Gender: Female"})
    line = render_seed_description(clip)
    assert "\n" not in line and "<audio" not in line


def test_timestamp_format():
    assert timestamp(0) == "00:00:00" and timestamp(3725.4) == "01:02:05"
