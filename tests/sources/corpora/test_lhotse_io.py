"""Lhotse manifests: our clips written and read back, loaded by the real lhotse, and lhotse's own manifests read."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest
from corpus_trees import make_msp_podcast, make_ravdess, make_vctk
from factories import write_tone

from speechsift.export.lhotse import write_lhotse
from speechsift.labels import normalized_clips, with_labels
from speechsift.records import AudioRef, Clip
from speechsift.sources.base import RejectedRow
from speechsift.sources.corpora import read_corpus
from speechsift.sources.lhotse_io import iter_manifest, read_lhotse

lhotse = pytest.importorskip("lhotse")


def corpus_clips(tmp_path) -> list[Clip]:
    """Clips of three corpora with their labels normalized (as a run holds them)."""
    clips = list(normalized_clips(read_corpus("vctk", make_vctk(tmp_path / "vctk"))))
    clips += list(normalized_clips(read_corpus("msp_podcast", make_msp_podcast(tmp_path / "msp"))))
    clips += list(normalized_clips(read_corpus("ravdess", make_ravdess(tmp_path / "rav"))))[:5]
    return clips


def test_round_trip_through_our_reader(tmp_path):
    clips = corpus_clips(tmp_path)
    written = write_lhotse(clips, tmp_path / "out", prefix="mix_")
    assert not written.rejected and written.num_supervisions == len(clips) == written.num_recordings
    assert written.cuts.name == "mix_cuts.jsonl.gz"
    for path in (written.cuts, tmp_path / "out"):
        back = list(read_lhotse(path))
        assert [c.clip_id for c in back] == [c.clip_id for c in clips]
        for before, after in zip(clips, back):
            assert after.audio.sampling_rate == 16_000, "the rate comes from the recording"
            assert dataclasses.replace(after, audio=dataclasses.replace(after.audio, sampling_rate=None)) == before
    pairs = list(read_lhotse(written.recordings, supervisions=written.supervisions))
    assert [c.clip_id for c in pairs] == [c.clip_id for c in clips]
    assert pairs[3].text == clips[3].text and pairs[3].raw == clips[3].raw and pairs[3].extra == clips[3].extra


def test_our_manifests_load_in_lhotse(tmp_path):
    clips = corpus_clips(tmp_path)
    written = write_lhotse(clips, tmp_path / "out")
    cuts = lhotse.load_manifest(written.cuts)
    recordings = lhotse.load_manifest(written.recordings)
    supervisions = lhotse.load_manifest(written.supervisions)
    assert len(cuts) == len(recordings) == len(supervisions) == len(clips)
    cut = cuts[clips[0].clip_id]
    sup = cut.supervisions[0]
    assert sup.text == clips[0].text and sup.speaker == "p225" and sup.gender == "F" and sup.language == "en"
    assert sup.custom["age"] == "23" and sup.custom["accent"] == "English" and sup.custom["source"] == "vctk"
    assert sup.custom["meta"] == {"age": "young adult", "gender": "female", "accent": "English"}
    assert sup.custom["region"] == "Southern England"
    audio = cut.load_audio()
    assert audio.shape == (1, recordings[cut.recording_id].num_samples) and cut.sampling_rate == 16_000
    msp = supervisions[clips[10].clip_id]
    assert msp.custom["emotion"] == "A" and msp.custom["arousal"] == 3.0
    # lhotse's own validation of the whole set
    lhotse.validate(cuts)
    lhotse.validate_recordings_and_supervisions(recordings, supervisions)


def test_windows_and_channels(tmp_path):
    stereo = tmp_path / "stereo.wav"
    import numpy as np
    import soundfile as sf

    sf.write(stereo, np.zeros((32_000, 2), dtype="float32"), 16_000)
    mono = write_tone(tmp_path / "long.flac", seconds=2.0)
    clips = [
        Clip("src/a", "src", AudioRef(str(mono), offset_s=0.5, duration_s=1.0), "en", "s1", "first half"),
        Clip("src/b", "src", AudioRef(str(mono), offset_s=1.5, duration_s=0.5), "en", "s2", "second"),
        Clip("src/c", "src", AudioRef(str(stereo), channel=1), "en", "s3", "right channel"),
        Clip("src/d", "src", AudioRef(str(stereo)), "en", "s3", "both channels"),
    ]
    written = write_lhotse(clips, tmp_path / "out")
    assert written.num_recordings == 2, "one recording per file"
    cuts = lhotse.load_manifest(written.cuts)
    assert cuts["src/a"].load_audio().shape == (1, 16_000) and cuts["src/b"].start == 1.5
    assert cuts["src/c"].load_audio().shape == (1, 32_000) and cuts["src/c"].channel == 1
    assert isinstance(cuts["src/d"], lhotse.MultiCut) and cuts["src/d"].load_audio().shape == (2, 32_000)
    back = {c.clip_id: c for c in read_lhotse(written.cuts)}
    assert back["src/a"].audio == AudioRef(str(mono), sampling_rate=16_000, offset_s=0.5, duration_s=1.0)
    assert back["src/c"].audio.channel == 1 and back["src/d"].audio.channel is None
    assert back["src/b"] == dataclasses.replace(clips[1], audio=dataclasses.replace(clips[1].audio, sampling_rate=16_000))


def test_embedded_audio_and_unreadable_audio(tmp_path):
    data = write_tone(tmp_path / "x.wav").read_bytes()
    clips = [Clip("hub/x", "hub", AudioRef(path="x.wav", bytes=data), "en"),
             Clip("hub/gone", "hub", AudioRef(str(tmp_path / "gone.wav")), "en")]
    written = write_lhotse(clips, tmp_path / "out")
    assert [(r.id, r.reason) for r in written.rejected] == [("hub/x", "embedded_audio"), ("hub/gone", "missing_audio")]
    written = write_lhotse(clips[:1], tmp_path / "out2", audio_dir=tmp_path / "audio")
    assert not written.rejected
    cut = lhotse.load_manifest(written.cuts)["hub/x"]
    assert cut.recording.sources[0].source == str(tmp_path / "audio" / "hub_x.wav") and cut.load_audio().shape[1] == 8000


def lhotse_made_manifests(tmp_path):
    """Manifests written by lhotse itself: one 3 s recording, two supervisions with labels in custom."""
    path = write_tone(tmp_path / "rec1.wav", seconds=3.0)
    recording = lhotse.Recording.from_file(path)
    sups = [
        lhotse.SupervisionSegment("rec1-0", "rec1", start=0.2, duration=1.0, channel=0, text="hello there",
                                  language="English", speaker="spk1", gender="F",
                                  custom={"age": 34, "accents": ["Scottish"], "emotion": "happy", "topic": "greeting"}),
        lhotse.SupervisionSegment("rec1-1", "rec1", start=1.5, duration=1.2, channel=0, text="general kenobi",
                                  language="English", speaker="spk2", gender="M", custom={"emotion": "surprised"}),
    ]
    recordings, supervisions = lhotse.RecordingSet.from_recordings([recording]), lhotse.SupervisionSet.from_segments(sups)
    recordings.to_file(tmp_path / "recs_recordings.jsonl.gz")
    supervisions.to_file(tmp_path / "recs_supervisions.jsonl.gz")
    cuts = lhotse.CutSet.from_manifests(recordings=recordings, supervisions=supervisions)
    cuts.to_file(tmp_path / "full_cuts.jsonl")
    cuts.trim_to_supervisions(keep_overlapping=False).to_file(tmp_path / "trimmed_cuts.jsonl.gz")
    return path


def test_reading_manifests_lhotse_wrote(tmp_path):
    audio = lhotse_made_manifests(tmp_path)
    pairs = {c.clip_id: c for c in read_lhotse(tmp_path / "recs_recordings.jsonl.gz")}
    assert sorted(pairs) == ["lhotse/rec1-0", "lhotse/rec1-1"]
    first = pairs["lhotse/rec1-0"]
    assert first.audio == AudioRef(str(audio), sampling_rate=16_000, offset_s=0.2, duration_s=1.0, channel=None)
    assert first.text == "hello there" and first.speaker_id == "spk1" and first.language == "English"
    assert first.raw == {"gender": "F", "age": "34", "accent": "Scottish", "emotion": "happy"} and not first.meta
    assert with_labels(first)[0].meta == {"gender": "female", "age": "young adult", "accent": "Scottish",
                                          "emotion": "happy"}
    assert first.extra == {"topic": "greeting"}
    assert with_labels(pairs["lhotse/rec1-1"])[0].meta == {"gender": "male", "emotion": "surprise"}

    [cut_id] = [c.id for c in lhotse.load_manifest(tmp_path / "full_cuts.jsonl")]
    [whole] = list(read_lhotse(tmp_path / "full_cuts.jsonl", source="mine"))
    assert whole.clip_id == f"mine/{cut_id}" and whole.text == "hello there general kenobi"
    assert whole.speaker_id is None and whole.extra["speakers"] == ["spk1", "spk2"]
    assert whole.audio.offset_s == 0.0 and whole.audio.duration_s is None, "a cut over the whole file"
    assert whole.raw == {}, "labels the supervisions disagree on are left out"
    split = list(read_lhotse(tmp_path / "full_cuts.jsonl", split_supervisions=True))
    assert [(c.clip_id, c.audio.offset_s, c.audio.duration_s) for c in split] == [
        ("lhotse/rec1-0", 0.2, 1.0), ("lhotse/rec1-1", 1.5, 1.2)]
    trimmed = list(read_lhotse(tmp_path / "trimmed_cuts.jsonl.gz"))
    assert len(trimmed) == 2 and trimmed[0].raw == first.raw and trimmed[0].audio.offset_s == pytest.approx(0.2)


def test_cuts_we_cannot_point_at(tmp_path):
    lhotse_made_manifests(tmp_path)
    cuts = lhotse.load_manifest(tmp_path / "trimmed_cuts.jsonl.gz")
    [a, b] = list(cuts)
    special = lhotse.CutSet.from_cuts([a.mix(b), a.perturb_speed(1.1), b.resample(8000), a.pad(duration=5.0)])
    special.to_file(tmp_path / "special_cuts.jsonl.gz")
    items = list(read_lhotse(tmp_path / "special_cuts.jsonl.gz"))
    reasons = [i.reason if isinstance(i, RejectedRow) else "clip" for i in items]
    assert reasons == ["unsupported_cut", "unsupported_transform", "clip", "unsupported_cut"]


def test_json_list_and_bad_manifests(tmp_path):
    lhotse_made_manifests(tmp_path)
    items = list(iter_manifest(tmp_path / "full_cuts.jsonl"))
    (tmp_path / "cuts_list.json").write_text(json.dumps(items))
    assert [c.clip_id for c in read_lhotse(tmp_path / "cuts_list.json")] == [f"lhotse/{items[0]['id']}"]
    from speechsift.errors import CorpusError

    with pytest.raises(CorpusError, match="SupervisionSet alone"):
        read_lhotse(tmp_path / "recs_supervisions.jsonl.gz")
    with gzip.open(tmp_path / "broken_cuts.jsonl.gz", "wt") as handle:
        handle.write("{not json\n")
    with pytest.raises(CorpusError, match="line 1: not valid JSON"):
        read_lhotse(tmp_path / "broken_cuts.jsonl.gz")
    with pytest.raises(CorpusError, match="not found"):
        read_lhotse(tmp_path / "none.jsonl")
    items = list(read_lhotse(tmp_path / "recs_recordings.jsonl.gz", supervisions=tmp_path / "recs_supervisions.jsonl.gz"))
    assert len(items) == 2


def test_a_folder_of_several_manifests(tmp_path):
    clips = corpus_clips(tmp_path)
    write_lhotse(clips[:10], tmp_path / "out", prefix="vctk_")
    write_lhotse(clips[10:], tmp_path / "out", prefix="rest_", cuts=False)
    from_cuts = [c.clip_id for c in read_lhotse(tmp_path / "out")]
    assert from_cuts == [c.clip_id for c in clips[:10]], "only the cuts manifests when there are any"
    (tmp_path / "out" / "vctk_cuts.jsonl.gz").unlink()
    from_pairs = sorted(c.clip_id for c in read_lhotse(tmp_path / "out"))
    assert from_pairs == sorted(c.clip_id for c in clips)
