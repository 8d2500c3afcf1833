"""Sort-based set operations give numpy's very arrays."""

from __future__ import annotations

import numpy as np
import pytest

from core.arrays import difference, intersection, union, unique


@pytest.mark.parametrize("seed", [0, 1])
def test_same_arrays_as_numpy(seed):
    rng = np.random.default_rng(seed)
    for size, high in ((0, 5), (1, 5), (50, 10), (5000, 10**12)):
        a, b = rng.integers(0, high, size), rng.integers(0, high, size // 2 + 1)
        for ours, theirs in (
            (unique(a), np.unique(a)),
            (union(a, b), np.union1d(a, b)),
            (difference(a, b), np.setdiff1d(a, b)),
            (intersection(a, b), np.intersect1d(a, b)),
        ):
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)


def test_consecutive_ranges_cover_everything_within_the_budget():
    from core.arrays import consecutive_ranges

    weights = np.array([3, 1, 1, 5, 1, 1, 1, 0, 2])
    ranges = consecutive_ranges(weights, 3)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(weights)
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))  # consecutive, nothing skipped
    assert all(weights[s:e].sum() <= 3 or e - s == 1 for s, e in ranges)  # within budget, or one heavy position
    assert consecutive_ranges(np.zeros(0), 5) == []
