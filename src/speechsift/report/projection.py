"""A 2-D map of responses: PCA of response vectors, in numpy.

The vectors are the examples' own embeddings when the output has an embedding column; otherwise
TF-IDF weights of the response's words and word pairs, hashed into a fixed number of dimensions
(the "hashing trick", Weinberger et al. 2009, arXiv:0902.2206), so no vocabulary is kept. The top
two principal components come from a randomized SVD (Halko, Martinsson & Tropp 2011,
arXiv:0909.4061): a few passes over an (n x dim) matrix instead of a dim x dim eigenproblem.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

HASH_DIM = 2**12  # hashed features; collisions are rare enough at a few thousand distinct n-grams
MAP_POINTS = 4000  # points drawn: enough to see the structure, small enough for an inline SVG
_POWER_ITERATIONS = 4
_OVERSAMPLING = 8
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")


@dataclass
class Projection:
    xy: np.ndarray  # n x 2
    explained: tuple[float, float]  # share of the total variance along each axis


def quotas(sizes: dict[str, int], limit: int) -> dict[str, int]:
    """Rows to draw per group: every row when there are at most ``limit``, else a share proportional
    to the group's size but never fewer than ``limit / (4 * groups)`` rows (so a small task stays
    visible next to a big one)."""
    sizes = {g: n for g, n in sizes.items() if n}
    total = sum(sizes.values())
    if total <= limit:
        return dict(sizes)
    floor = max(1, limit // (4 * max(len(sizes), 1)))
    return {g: min(n, max(floor, int(limit * n / total))) for g, n in sizes.items()}


def _feature_hash(feature: str, cache: dict[str, int]) -> int:
    index = cache.get(feature)
    if index is None:
        # crc32, not hash(): Python salts str hashes per process, and the map must be reproducible.
        index = cache[feature] = zlib.crc32(feature.encode("utf-8")) % HASH_DIM
    return index


def hashed_tfidf(texts: Sequence[str]) -> np.ndarray:
    """Rows of L2-normalised TF-IDF weights (sublinear tf, smoothed idf) of word unigrams and bigrams."""
    cache: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, text in enumerate(texts):
        tokens = _TOKEN.findall((text or "").lower())
        features = tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]
        rows.extend([i] * len(features))
        cols.extend(_feature_hash(f, cache) for f in features)
    n = len(texts)
    # one float32 matrix, worked in place: at MAP_POINTS rows it is 64 MB, and every copy is as much
    weights = np.zeros((n, HASH_DIM), dtype=np.float32)
    np.add.at(weights, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)), 1.0)
    idf = np.log((1.0 + n) / (1.0 + np.count_nonzero(weights, axis=0))) + 1.0
    np.log1p(weights, out=weights)
    weights *= idf.astype(np.float32)
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    weights /= np.where(norms > 0, norms, 1.0)
    return weights


def pca_2d(vectors: np.ndarray, seed: int = 0) -> Projection | None:
    """The rows of ``vectors`` on their first two principal components (None when there is no spread)."""
    if vectors.ndim != 2 or vectors.shape[0] < 3 or vectors.shape[1] < 2:
        return None
    x = vectors.astype(np.float32)  # a copy, centred in place
    x -= vectors.mean(axis=0, dtype=np.float64).astype(np.float32)
    total = float(np.einsum("ij,ij->", x, x, dtype=np.float64))
    if total <= 1e-12:
        return None
    rng = np.random.default_rng(seed)
    k = min(2 + _OVERSAMPLING, *x.shape)
    q = x @ rng.standard_normal((x.shape[1], k)).astype(np.float32)
    for _ in range(_POWER_ITERATIONS):
        q, _ = np.linalg.qr(q)
        q = x @ (x.T @ q)
    q, _ = np.linalg.qr(q)
    _, singular, vt = np.linalg.svd(q.T @ x, full_matrices=False)
    components = vt[:2]
    # a component's sign is arbitrary; fix it so the same data always gives the same picture
    signs = np.sign(components[np.arange(components.shape[0]), np.abs(components).argmax(axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    xy = x @ components.T
    if xy.shape[1] < 2:
        xy = np.column_stack([xy, np.zeros(len(xy))])
    explained = singular[:2].astype(np.float64) ** 2 / total
    return Projection(xy, (float(explained[0]), float(explained[1]) if explained.size > 1 else 0.0))
