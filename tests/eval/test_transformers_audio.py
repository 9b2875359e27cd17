"""The transformers backend end to end: a tiny random Qwen2-Audio (built in the test) answers every
item of an EvalSIFT tree, batched and one item at a time; the counts add up, audio longer than the
feature extractor's window fails as ``audio_too_long``, and a rerun answers from the ledger."""

from __future__ import annotations

import pytest
from factories import write_tone
from sift_tree import write_tree

from speechsift.eval import run_eval
from speechsift.eval.cli_config import eval_config

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_qwen2_audio(tmp_path_factory):
    from tiny_audio_lm import build_tiny_qwen2_audio

    return build_tiny_qwen2_audio(tmp_path_factory.mktemp("tiny-qwen2-audio"))


def _config(data, out, model, **extra):
    return eval_config(data, out, None, {"model.backend": "transformers", "model.model": str(model),
                                         "model.max_tokens": 6, "model.batch_size": 4, "model.device": "cpu",
                                         "tasks": ["transcription", "closed_ended_template"], "bootstrap_samples": 20,
                                         "report": False, **extra})


def test_tiny_qwen2_audio_answers_every_item(tmp_path, tiny_qwen2_audio):
    data, audio = write_tree(tmp_path / "sift")
    write_tone(audio["a4"], seconds=31.0, freq=350)  # t4 and c3: longer than Whisper's 30 s window
    result = run_eval(_config(data, tmp_path / "eval", tiny_qwen2_audio), progress=False)
    summary = result.summary
    assert summary["items"] == 7
    assert summary["failures"].get("audio_too_long") == 2
    assert summary["items"] == summary["answered"] + summary["failed"]
    transcription = summary["tasks"]["transcription"]["metrics"]["wer"]
    answered_t = 4 - summary["tasks"]["transcription"]["failed"]
    assert transcription["n"] + transcription["failed"] == 4 and transcription["n"] == answered_t
    assert result.counters["model.sent"] == 7
    # a rerun answers from the ledger and asks only the failed items again
    again = run_eval(_config(data, tmp_path / "eval", tiny_qwen2_audio), progress=False)
    assert again.counters["model.ledger_hits"] == summary["answered"]
    assert again.counters["model.sent"] == summary["failed"]


def test_a_model_that_cannot_batch_is_asked_one_item_at_a_time(tmp_path, tiny_qwen2_audio, monkeypatch):
    from speechsift.eval.model import TransformersAudioBackend

    original = TransformersAudioBackend._generate
    sizes = []

    def single_only(self, batch, sampling):
        sizes.append(len(batch))
        if len(batch) > 1:
            raise RuntimeError("this model has no batched path")
        return original(self, batch, sampling)

    monkeypatch.setattr(TransformersAudioBackend, "_generate", single_only)
    data, _audio = write_tree(tmp_path / "sift")
    summary = run_eval(_config(data, tmp_path / "eval", tiny_qwen2_audio, **{"model.batch_size": 8}),
                       progress=False).summary
    assert sizes[0] > 1 and set(sizes[1:]) == {1}
    assert summary["items"] == 7 and summary["failures"].get("model_error") is None
