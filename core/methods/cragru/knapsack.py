"""The diversity-aware strategy's ratios: a grouped 0/1 knapsack by dynamic programming.

Each cluster must take exactly one ratio level (one item of its group); a level's
*weight* is its share of the history budget (in integer units, e.g. 5 % steps) and its
*value* the validation hit@10 measured with that much of the cluster in the prompt
(:mod:`.tuning`). The programme maximises the summed value with the summed weight
within the capacity (the whole budget) — the paper's knapsack, fed with our own
validation figures instead of numbers typed into the source.
"""

from __future__ import annotations

import numpy as np


def grouped_knapsack(values: np.ndarray, weights: np.ndarray, capacity: int) -> tuple[np.ndarray, float]:
    """Pick one level per group maximising total value with total weight <= capacity.

    ``values`` ``[groups, levels]``, ``weights`` ``[levels]`` (non-negative ints, shared
    by every group) or ``[groups, levels]``. Returns ``(level index per group, best
    value)``. Ties go to the lighter total, then to lower levels of earlier groups, so
    the answer is deterministic. Raises ``ValueError`` when even the lightest levels do
    not fit.
    """
    values = np.asarray(values, dtype=np.float64)
    groups, levels = values.shape
    w = np.asarray(weights, dtype=np.int64)
    if w.ndim == 1:
        w = np.broadcast_to(w, (groups, levels))
    if (w < 0).any():
        raise ValueError("knapsack weights must be non-negative")
    capacity = int(capacity)
    if w.min(axis=1).sum() > capacity:
        raise ValueError(f"the lightest levels weigh {int(w.min(axis=1).sum())}, more than the capacity {capacity}")
    neg = -np.inf
    # best[g][c]: best value of the first g groups with total weight exactly c
    best = np.full((groups + 1, capacity + 1), neg)
    best[0, 0] = 0.0
    choice = np.full((groups + 1, capacity + 1), -1, dtype=np.int64)
    for g in range(1, groups + 1):
        for level in range(levels):
            wt = int(w[g - 1, level])
            if wt > capacity:
                continue
            cand = np.full(capacity + 1, neg)
            cand[wt:] = best[g - 1, : capacity + 1 - wt] + values[g - 1, level]
            better = cand > best[g] + 1e-12
            best[g] = np.where(better, cand, best[g])
            choice[g] = np.where(better, level, choice[g])
    final = best[groups]
    top = final.max()
    cap = int(np.flatnonzero(final >= top - 1e-12)[0])  # lightest total achieving the best
    picks = np.zeros(groups, dtype=np.int64)
    for g in range(groups, 0, -1):
        level = int(choice[g, cap])
        picks[g - 1] = level
        cap -= int(w[g - 1, level])
    return picks, float(top)
