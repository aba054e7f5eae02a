"""Reciprocal rank fusion: one small pure function."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[K]],
    weights: Sequence[float] | None = None,
    k: int = RRF_K,
) -> list[tuple[K, float]]:
    """Fuse ranked lists of ids into one ranking (Cormack et al., 2009).

    Each id scores ``sum(weight / (k + rank))`` over the lists it appears in (rank from 1).
    Ties keep the order in which ids were first seen (first list first).

    Args:
        rankings: ranked id lists, best first.
        weights: one weight per list (default 1.0 each).
        k: the RRF constant; larger flattens the advantage of top ranks.

    Returns:
        (id, score) pairs, best first.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, key in enumerate(ranking, start=1):
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    order = {key: i for i, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))
