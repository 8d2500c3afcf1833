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
        for ours, theirs in ((unique(a), np.unique(a)), (union(a, b), np.union1d(a, b)),
                             (difference(a, b), np.setdiff1d(a, b)), (intersection(a, b), np.intersect1d(a, b))):
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
