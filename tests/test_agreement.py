"""Top-K agreement with retrain: Jaccard and rank-biased overlap, by hand."""

import numpy as np
import pytest

from core.evaluation.agreement import agreement_by_group, overlap_per_user


def _rbo_ext(a, b, p=0.9):
    """Webber et al. (2010) eq. 32, written out loop by loop."""
    k = len(a)
    x = [len(set(a[:d]) & set(b[:d])) for d in range(1, k + 1)]
    return x[-1] / k * p**k + (1 - p) / p * sum(x[d - 1] / d * p**d for d in range(1, k + 1))


def test_identical_disjoint_and_reversed_lists():
    a = np.array([[1, 2, 3], [1, 2, 3], [1, 2, 3]])
    b = np.array([[1, 2, 3], [4, 5, 6], [3, 2, 1]])
    jaccard, rbo = overlap_per_user(a, b)
    assert jaccard.tolist() == [1.0, 0.0, 1.0]
    # reversed: X = (0, 1, 3) → 0.9³ + (0.1/0.9)(0.81/2 + 0.729) = 0.729 + 0.126 = 0.855
    assert rbo == pytest.approx([1.0, 0.0, 0.855])


def test_half_overlap_by_hand():
    a = np.array([[1, 2, 3, 4]])
    b = np.array([[1, 9, 3, 8]])
    jaccard, rbo = overlap_per_user(a, b)
    assert jaccard[0] == pytest.approx(2 / 6)
    # X = (1, 1, 2, 2): 0.5·0.9⁴ + (0.1/0.9)(0.9 + 0.81/2 + 0.729·2/3 + 0.6561/2)
    hand = 0.5 * 0.9**4 + (0.1 / 0.9) * (0.9 + 0.81 / 2 + 0.729 * 2 / 3 + 0.6561 / 2)
    assert rbo[0] == pytest.approx(hand)


def test_top_of_the_list_weighs_more():
    a = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] * 2)
    b = np.array([[1, 2, 3, 4, 5, 6, 7, 8, 99, 98], [99, 98, 3, 4, 5, 6, 7, 8, 9, 10]])
    jaccard, rbo = overlap_per_user(a, b)
    assert jaccard[0] == jaccard[1]
    assert rbo[0] > rbo[1]


def test_vectorised_rbo_matches_the_loop_on_random_lists():
    rng = np.random.default_rng(0)
    a = np.stack([rng.choice(30, 10, replace=False) for _ in range(50)])
    b = np.stack([rng.choice(30, 10, replace=False) for _ in range(50)])
    jaccard, rbo = overlap_per_user(a, b)
    assert rbo == pytest.approx([_rbo_ext(list(x), list(y)) for x, y in zip(a, b)])
    assert jaccard == pytest.approx([len(set(x) & set(y)) / len(set(x) | set(y)) for x, y in zip(a, b)])


def test_per_group_means_with_intervals():
    a = np.array([[1, 2], [1, 2], [1, 2], [1, 2]])
    b = np.array([[1, 2], [1, 2], [3, 4], [3, 4]])
    out = agreement_by_group(a, b, {"retain": np.array([0, 1]), "forget": np.array([2, 3]), "mixed": np.array([0, 2])})
    assert out["retain"].jaccard.value == 1.0 and out["retain"].jaccard.low == out["retain"].jaccard.high == 1.0
    assert out["forget"].rbo.value == 0.0 and out["forget"].rbo.high == 0.0
    assert out["forget"].to_json() == {"jaccard@10": [0.0, 0.0, 0.0], "rbo@10": [0.0, 0.0, 0.0]}
    assert out["mixed"].jaccard.value == 0.5 and out["mixed"].jaccard.low == 0.0 and out["mixed"].jaccard.high == 1.0


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="one shape"):
        overlap_per_user(np.zeros((2, 3), int), np.zeros((2, 4), int))
