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


def convex_fusion(
    scored: Sequence[Sequence[tuple[K, float]]],
    weights: Sequence[float],
) -> list[tuple[K, float]]:
    """Fuse scored lists by a weighted sum of min-max normalised scores.

    Each list's scores are rescaled to [0, 1] over its own candidates (a list whose scores are
    all equal maps to 1.0); an id missing from a list gets 0 there. This keeps how much better
    one candidate is than the next, which rank fusion throws away (Bruch et al., 2023, "An
    Analysis of Fusion Functions for Hybrid Retrieval").

    Args:
        scored: (id, score) lists, higher score is better, any order.
        weights: one weight per list.

    Returns:
        (id, fused score) pairs, best first; ties keep the order in which ids were first seen.
    """
    if len(weights) != len(scored):
        raise ValueError("one weight per list")
    fused: dict[K, float] = {}
    for items, weight in zip(scored, weights):
        if not items:
            continue
        values = [score for _, score in items]
        low, high = min(values), max(values)
        for key, score in items:
            share = (score - low) / (high - low) if high > low else 1.0
            fused[key] = fused.get(key, 0.0) + weight * share
    order = {key: i for i, key in enumerate(fused)}
    return sorted(fused.items(), key=lambda item: (-item[1], order[item[0]]))
