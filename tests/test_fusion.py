import pytest

from qa.search.fusion import convex_fusion, reciprocal_rank_fusion


def test_single_list_keeps_its_order_with_rrf_scores():
    fused = reciprocal_rank_fusion([["a", "b", "c"]], k=60)
    assert [key for key, _ in fused] == ["a", "b", "c"]
    assert fused[0][1] == pytest.approx(1 / 61)
    assert fused[2][1] == pytest.approx(1 / 63)


def test_agreement_beats_a_single_first_place():
    # "b" is second in both lists; "a" and "c" are first in one list only.
    fused = reciprocal_rank_fusion([["a", "b"], ["c", "b"]], k=60)
    assert fused[0] == ("b", pytest.approx(2 / 62))
    assert {key for key, _ in fused[1:]} == {"a", "c"}


def test_ties_keep_first_seen_order():
    fused = reciprocal_rank_fusion([["x", "y"], ["y", "x"]])
    assert [key for key, _ in fused] == ["x", "y"]
    assert fused[0][1] == pytest.approx(fused[1][1])


def test_weights_shift_the_balance():
    plain = reciprocal_rank_fusion([["a"], ["b"]])
    weighted = reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0])
    assert plain[0][0] == "a"
    assert weighted[0] == ("b", pytest.approx(2 / 61))


def test_small_k_rewards_top_ranks_more():
    lists = [["a", "b", "c"], ["c", "b", "a"], ["b", "c", "a"]]
    assert reciprocal_rank_fusion(lists, k=1)[0][0] == "b"


def test_empty_inputs_and_bad_weights():
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], weights=[1.0, 2.0])


def test_convex_fusion_by_hand():
    dense = [("a", 0.9), ("b", 0.7), ("c", 0.5)]  # normalised: a 1.0, b 0.5, c 0.0
    lexical = [("c", 12.0), ("b", 8.0), ("d", 4.0)]  # normalised: c 1.0, b 0.5, d 0.0
    fused = dict(convex_fusion([dense, lexical], [0.5, 0.5]))
    assert fused == pytest.approx({"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.0})


def test_convex_fusion_keeps_score_gaps_that_rrf_loses():
    # "x" wins dense by a mile and is a close second lexically: convex ranks it first,
    # while RRF sees only ranks and ties it with "y".
    dense = [("x", 0.95), ("y", 0.30), ("z", 0.29)]
    lexical = [("y", 10.0), ("x", 9.9), ("z", 1.0)]
    assert convex_fusion([dense, lexical], [0.5, 0.5])[0][0] == "x"
    rrf = reciprocal_rank_fusion([[k for k, _ in dense], [k for k, _ in lexical]])
    assert rrf[0][1] == pytest.approx(rrf[1][1])


def test_convex_fusion_edge_cases():
    assert convex_fusion([[], []], [0.5, 0.5]) == []
    assert convex_fusion([[("a", 3.0)], []], [0.4, 0.6]) == [("a", pytest.approx(0.4))]
    with pytest.raises(ValueError):
        convex_fusion([[("a", 1.0)]], [0.5, 0.5])
