"""Set operations on integer index arrays, by sorting.

numpy ≥ 2.3 answers ``np.unique`` (and ``union1d``, ``setdiff1d``, ``intersect1d``, which
call it) from a hash table when no index, inverse or count is asked for; on millions of
distinct integers that is 40-130× slower than a sort (numpy 2.4.6 here: 8.5M keys over
a 2·10¹⁰ range, 7.5 s against 0.06 s; numpy/numpy#28375, #31970) and it cannot be
interrupted. These give the same arrays through one sort.
"""

from __future__ import annotations

import numpy as np


def unique(values) -> np.ndarray:
    """``np.unique(values)``: the sorted distinct values."""
    ordered = np.sort(np.asarray(values).ravel())
    if len(ordered) < 2:
        return ordered
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))]


def union(a, b) -> np.ndarray:
    """``np.union1d(a, b)``."""
    return unique(np.concatenate([np.asarray(a).ravel(), np.asarray(b).ravel()]))


def difference(a, b) -> np.ndarray:
    """``np.setdiff1d(a, b)``: sorted distinct values of ``a`` not in ``b``."""
    a = unique(a)
    return a[~np.isin(a, np.asarray(b))]


def intersection(a, b) -> np.ndarray:
    """``np.intersect1d(a, b)``: sorted distinct values in both."""
    a = unique(a)
    return a[np.isin(a, np.asarray(b))]


def consecutive_ranges(weights: np.ndarray, budget: float) -> list[tuple[int, int]]:
    """``(start, stop)`` ranges of consecutive positions whose ``weights`` add up to about
    ``budget`` each (a position weighing more gets a range of its own): work cut into
    bounded blocks with a cancel point between them."""
    ends = np.cumsum(weights)
    out, start = [], 0
    while start < len(ends):
        done = ends[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(ends, done + budget, side="right")))
        out.append((start, stop))
        start = stop
    return out
