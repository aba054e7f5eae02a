"""Metrics against cases computed by hand."""

import math

import pytest

from qa.evaluation.metrics import dcg, evaluate, mrr_at, ndcg_at, recall_at


def test_dcg_by_hand():
    # 3/log2(2) + 2/log2(3) + 0 + 1/log2(5)
    assert dcg([3, 2, 0, 1]) == pytest.approx(3 + 2 / math.log2(3) + 1 / math.log2(5))


def test_ndcg_perfect_and_reversed():
    qrels = {"a": 2, "b": 1}
    assert ndcg_at(["a", "b", "x"], qrels, 10) == pytest.approx(1.0)
    # reversed: (1 + 2/log2 3) / (2 + 1/log2 3)
    expected = (1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3))
    assert ndcg_at(["b", "a"], qrels, 10) == pytest.approx(expected)


def test_ndcg_single_relevant_at_rank_three():
    assert ndcg_at(["x", "y", "a"], {"a": 1}, 10) == pytest.approx(0.5)
    assert ndcg_at(["x", "y", "a"], {"a": 1}, 2) == 0.0


def test_ndcg_ignores_non_positive_judgements():
    assert ndcg_at(["n", "a"], {"a": 1, "n": 0}, 10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at(["a"], {"n": 0}, 10) == 0.0


def test_recall_counts_relevant_found():
    qrels = {"a": 1, "b": 1, "c": 1, "d": 1}
    assert recall_at(["a", "x", "c"], qrels, 10) == pytest.approx(0.5)
    assert recall_at(["x", "a"], qrels, 1) == 0.0


def test_mrr_first_relevant():
    assert mrr_at(["x", "a", "b"], {"a": 1, "b": 1}, 10) == pytest.approx(0.5)
    assert mrr_at(["x"] * 10 + ["a"], {"a": 1}, 10) == 0.0


def test_evaluate_averages_over_judged_queries():
    runs = {"q1": ["a", "x"], "q2": ["x", "b"], "q3": ["z"]}
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    result = evaluate(runs, qrels)
    assert result["mrr@10"] == pytest.approx((1 + 0.5) / 2)
    assert result["ndcg@10"] == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert result["recall@10"] == pytest.approx(1.0)
    assert result["recall@100"] == pytest.approx(1.0)
