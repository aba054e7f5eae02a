"""Ranking metrics (binary or graded relevance), as trec_eval / BEIR compute them.

Written here rather than taken from pytrec_eval or ranx: four short formulas, no compiled
dependency, and each is checked against hand-computed cases in tests/test_metrics.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain: sum(gain_i / log2(i + 1)), i from 1."""
    return sum(g / math.log2(i + 1) for i, g in enumerate(gains, start=1))


def ndcg_at(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """nDCG@k with the judged relevance as gain (trec_eval's ndcg_cut)."""
    ideal = dcg(sorted((r for r in qrels.values() if r > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([max(qrels.get(doc, 0), 0) for doc in ranking[:k]]) / ideal


def recall_at(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents found in the top k."""
    relevant = {doc for doc, r in qrels.items() if r > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranking[:k])) / len(relevant)


def mrr_at(ranking: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    """1 / rank of the first relevant document in the top k (0 if none)."""
    for rank, doc in enumerate(ranking[:k], start=1):
        if qrels.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def evaluate(
    runs: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]]
) -> dict[str, float]:
    """Mean nDCG@10, Recall@10, Recall@100 and MRR@10 over the judged queries in ``runs``."""
    judged = [q for q in runs if q in qrels]
    if not judged:
        return {"ndcg@10": 0.0, "recall@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0}
    n = len(judged)
    return {
        "ndcg@10": sum(ndcg_at(runs[q], qrels[q], 10) for q in judged) / n,
        "recall@10": sum(recall_at(runs[q], qrels[q], 10) for q in judged) / n,
        "recall@100": sum(recall_at(runs[q], qrels[q], 100) for q in judged) / n,
        "mrr@10": sum(mrr_at(runs[q], qrels[q], 10) for q in judged) / n,
    }
