"""Reciprocal-rank fusion (Cormack et al., 2009): score = sum over rankings of 1 / (K + rank).

It needs no score calibration between the cosine side and the bm25 side, only ranks, which is why
it is the usual way to fuse a lexical and a vector ranking."""

from __future__ import annotations

K = 60


def rrf(rankings: list[list[int]], weights: list[float] | None = None, k: int = K) -> dict[int, float]:
    """file id -> fused score, from rankings given as lists of file ids, best first (weighted RRF)."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings)):
        for rank, key in enumerate(ranking, 1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
    return fused
