"""HeySQuAD: the hub repository's Parquet files read without datasets, and the SQuAD JSON + audio form."""

from __future__ import annotations

import io

import pytest
import soundfile
from corpus_trees import make_heysquad_json, make_heysquad_parquet

from speechsift.errors import CorpusError


def test_parquet_download(tmp_path, read):
    corpus = make_heysquad_parquet(tmp_path)
    clips, rejects = read("heysquad", corpus)
    assert not rejects and len(clips) == 5
    clip = clips["5733be284776f41900661000"]
    assert clip.clip_id == "heysquad/5733be284776f41900661000" and clip.language == "en"
    assert clip.text == "what is question 0"
    assert clip.extra == {"answers": ["Answer 0", "answer 0"], "question": "What is question 0?",
                          "squad_id": "5733be284776f41900661000", "split": "train", "is_impossible": False}
    assert soundfile.info(io.BytesIO(clip.audio.bytes)).samplerate == 16_000, "the embedded audio is kept as bytes"
    unanswerable = clips["5733be284776f41900661002"]
    assert unanswerable.extra["answers"] == [] and unanswerable.extra["is_impossible"] is True
    assert clips["5733be284776f41900661000_2"].extra["split"] == "validation", "a repeated id gets a suffix"
    validation, _ = read("heysquad", corpus, splits="validation", context=True)
    assert len(validation) == 2 and validation["5733be284776f41900661001"].extra["context"] == "Paragraph 1."


def test_squad_json_with_audio(tmp_path, read):
    corpus = make_heysquad_json(tmp_path)
    clips, rejects = read("heysquad", corpus)
    assert sorted(clips) == ["56be85543aeaaa14008c9000", "56be85543aeaaa14008c9001"]
    clip = clips["56be85543aeaaa14008c9001"]
    assert clip.text == "When did thing 1 happen?" and clip.extra["answers"] == ["in 1991"]
    assert clip.extra["split"] == "validation" and clip.audio.path.endswith("audio/56be85543aeaaa14008c9001.wav")
    assert [r.id for r in rejects["missing_audio"]] == ["heysquad/56be85543aeaaa14008c9002"]
    assert [r.id for r in rejects["unexplained_file"]] == ["heysquad/stray"]


def test_wrong_folder(tmp_path, read):
    make_heysquad_parquet(tmp_path / "hub")
    with pytest.raises(CorpusError, match="data/train-\\*.parquet.*corpus is at .*hub/HeySQuAD_human"):
        read("heysquad", tmp_path)
    with pytest.raises(CorpusError, match="no Parquet files for split"):
        read("heysquad", tmp_path / "hub" / "HeySQuAD_human", splits=["test"])
