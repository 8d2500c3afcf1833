"""Blending the LLM's order with the base recommender's (optional, weight λ).

A small LLM's ranking is noisy; the base model's is strong but is exactly what
unlearning leaves untouched. Both are turned into rank scores in [0, 1] over a user's
candidates (scale-free: log-likelihoods and dot products are not comparable) and mixed
``λ·llm + (1−λ)·base``; λ = 1 is the pure LLM order, λ = 0 the base order. The default
λ is chosen on validation interactions (hit@10, then NDCG@10, then the larger λ).
"""

from __future__ import annotations

import numpy as np

LAMBDA_GRID = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


def rank_scores(values: np.ndarray) -> np.ndarray:
    """Per row, 1 for the best value down to 0 for the worst (ties: earlier first)."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[-1]
    ranks = np.argsort(np.argsort(-values, axis=-1, kind="stable"), axis=-1, kind="stable")
    return 1.0 - ranks / max(1, n - 1)


def fuse(llm: np.ndarray, base: np.ndarray, weight: float) -> np.ndarray:
    """Fused scores (higher is better); base rank breaks exact ties."""
    llm_r, base_r = rank_scores(llm), rank_scores(base)
    return weight * llm_r + (1.0 - weight) * base_r + 1e-6 * base_r


def hit_ndcg_at(order_items: np.ndarray, truth: list[set[int]], k: int = 10) -> tuple[float, float]:
    """Mean hit@k and NDCG@k of ranked item lists against per-user truth sets (users with
    no truth are skipped)."""
    hits, ndcgs = [], []
    for items, true in zip(order_items, truth):
        if not true:
            continue
        top = items[:k]
        gains = np.asarray([1.0 if int(i) in true else 0.0 for i in top])
        hits.append(float(gains.any()))
        discounts = 1.0 / np.log2(np.arange(2, len(top) + 2))
        ideal = discounts[: min(len(true), k)].sum()
        ndcgs.append(float((gains * discounts).sum() / ideal))
    if not hits:
        return float("nan"), float("nan")
    return float(np.mean(hits)), float(np.mean(ndcgs))


def choose_weight(
    llm: np.ndarray,
    base: np.ndarray,
    candidates: np.ndarray,
    truth: list[set[int]],
    k: int = 10,
    grid: tuple[float, ...] = LAMBDA_GRID,
) -> tuple[float, dict[float, tuple[float, float]]]:
    """The λ of ``grid`` with the best validation (hit@k, NDCG@k); ties → larger λ.

    ``llm``/``base`` ``[U, N]`` scores of each user's ``candidates`` ``[U, N]``.
    Returns ``(λ, {λ: (hit, ndcg)})``; with no validation truth at all, λ = 1.
    """
    table: dict[float, tuple[float, float]] = {}
    for w in grid:
        fused = fuse(llm, base, w)
        order = np.take_along_axis(candidates, np.argsort(-fused, axis=1, kind="stable"), 1)
        table[float(w)] = hit_ndcg_at(order, truth, k)
    usable = {w: v for w, v in table.items() if v[0] == v[0]}
    if not usable:
        return 1.0, table
    best = max(usable, key=lambda w: (round(usable[w][0], 12), round(usable[w][1], 12), w))
    return best, table
