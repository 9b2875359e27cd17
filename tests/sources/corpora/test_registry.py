"""The corpus registry: every corpus registered with its facts, names resolved, options checked."""

from __future__ import annotations

import pytest
from corpus_trees import make_ravdess

from speechsift.errors import ConfigError
from speechsift.sources.corpora import CORPORA, get_corpus, list_corpora, read_corpus

EXPECTED = {"crema_d", "ravdess", "tess", "savee", "esd", "common_voice", "vctk", "mls", "librispeech", "meld",
            "msp_podcast", "heysquad"}


def test_every_corpus_is_registered_with_its_facts():
    corpora = list_corpora()
    assert {c.name for c in corpora} == EXPECTED and [c.name for c in corpora] == sorted(EXPECTED)
    for info in corpora:
        assert info.title and info.licence and info.layout and info.homepage.startswith("http")
        assert info.languages and info.labels
        assert info.reader.__name__ == f"read_{info.name}"
        assert info.options[0] == "source", "every reader takes source="
        module = __import__(info.reader.__module__, fromlist=["_"])
        doc = module.__doc__ or ""
        assert "Source:" in doc and "Licence:" in doc and "Labels:" in doc, f"{info.name}'s module docstring"


@pytest.mark.parametrize("alias, name", [("CREMA-D", "crema_d"), ("cremad", "crema_d"), ("Common Voice", "common_voice"),
                                         ("cv", "common_voice"), ("MSP-Podcast", "msp_podcast"), ("podcast", "msp_podcast"),
                                         ("Multilingual LibriSpeech", "mls"), ("LibriSpeech", "librispeech"),
                                         ("HeySQuAD", "heysquad"), (" RAVDESS ", "ravdess")])
def test_names_and_aliases(alias, name):
    assert get_corpus(alias).name == name


def test_unknown_corpus_and_option(tmp_path):
    with pytest.raises(ConfigError, match="unknown corpus 'iemocap'; the corpora are common_voice, crema_d"):
        get_corpus("iemocap")
    with pytest.raises(ConfigError, match="corpus ravdess: unknown option.*splits; it takes source"):
        read_corpus("ravdess", tmp_path, splits=["train"])


def test_read_corpus_and_corpus_info_read(tmp_path):
    corpus = make_ravdess(tmp_path)
    via_function = [c.clip_id for c in read_corpus("ravdess", str(corpus))]
    via_info = [c.clip_id for c in CORPORA["ravdess"].read(corpus)]
    assert via_function == via_info and len(via_function) == 61
