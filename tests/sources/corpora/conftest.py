import contextlib

import pytest
import soundfile

from speechsift.records import Clip
from speechsift.sources.base import RejectedRow


@pytest.fixture
def no_audio_reads(monkeypatch):
    """``with no_audio_reads(): ...``: every soundfile entry point (and speechsift.audio's) raises inside.

    Listing a corpus must never open audio.
    """
    import speechsift.audio

    @contextlib.contextmanager
    def active():
        with monkeypatch.context() as patch:
            for name in ("read", "info", "SoundFile", "blocks"):
                patch.setattr(soundfile, name, _refuse)
            patch.setattr(speechsift.audio, "probe", _refuse)
            patch.setattr(speechsift.audio, "load", _refuse)
            yield

    return active


def _refuse(*args, **kwargs):
    raise AssertionError("a corpus reader opened audio while listing")


def split(items) -> tuple[list[Clip], list[RejectedRow]]:
    """Clips and rejects of a reader's output, each in order."""
    items = list(items)
    clips = [i for i in items if isinstance(i, Clip)]
    rejects = [i for i in items if isinstance(i, RejectedRow)]
    assert len(clips) + len(rejects) == len(items)
    return clips, rejects


@pytest.fixture
def read():
    """``read(name, root, **options) -> (clips by native id, rejects by reason)``, the clips' labels
    normalized as a run's ``normalize`` stage does (readers give them raw)."""
    from speechsift.labels import normalized_clips
    from speechsift.sources.corpora import read_corpus

    def run(name, root, **options):
        clips, rejects = split(read_corpus(name, root, **options))
        clips = list(normalized_clips(clips))
        by_id = {c.clip_id.split("/", 1)[1]: c for c in clips}
        assert len(by_id) == len(clips), "clip ids are unique"
        by_reason: dict[str, list[RejectedRow]] = {}
        for r in rejects:
            by_reason.setdefault(r.reason, []).append(r)
        return by_id, by_reason

    return run
