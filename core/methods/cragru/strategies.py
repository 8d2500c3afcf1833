"""Which retained interactions go into a user's prompt (the retrieval stage).

A prompt can hold only a few history items (the *budget*), so CRAGRU picks an
informative subset of the user's retained training rows:

- ``recent`` — the latest ``budget`` interactions (the baseline);
- ``preference`` — per-cluster quotas proportional to the user's own cluster shares
  (largest-remainder apportionment), so the prompt mirrors the user's tastes;
- ``diversity`` — one ratio of the budget per cluster, chosen once for the whole
  dataset by a knapsack over validation hit@10 (:mod:`.knapsack`, :mod:`.tuning`);
- ``attention`` — history items weighted by the attention the candidate items pay them,
  with the *trained* base recommender's item embeddings (the published code used
  untrained random vectors, which makes the weights noise);
- ``none`` — no history at all (profile and candidates only): the ablation that shows
  what retrieval adds.

Every function works on one user's history (oldest first) and returns positions into
it in *priority* order (most important first): the prompt builder drops from the end
when the token budget is tight. Within a cluster, more recent interactions come first.
"""

from __future__ import annotations

import numpy as np

STRATEGIES = ("preference", "diversity", "attention", "recent", "none")


def select_recent(n: int, budget: int) -> np.ndarray:
    """The ``budget`` most recent positions, newest first."""
    return np.arange(n - 1, max(-1, n - 1 - budget), -1, dtype=np.int64)


def preference_quotas(counts: np.ndarray, budget: int) -> np.ndarray:
    """Seats per cluster proportional to ``counts`` (largest remainder), summing to
    ``min(budget, counts.sum())``; ties go to the larger cluster, then the lower id."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    seats = min(int(budget), total)
    if seats <= 0:
        return np.zeros_like(counts)
    exact = counts * seats / total
    quotas = np.minimum(np.floor(exact + 1e-9).astype(np.int64), counts)
    remainder = exact - quotas
    left = seats - int(quotas.sum())
    order = np.lexsort((np.arange(len(counts)), -counts, -remainder))
    for c in order:
        if left == 0:
            break
        if quotas[c] < counts[c]:
            quotas[c] += 1
            left -= 1
    return quotas


def ratio_quotas(counts: np.ndarray, ratios: np.ndarray, budget: int) -> np.ndarray:
    """Seats per cluster from fixed budget ratios (the diversity-aware strategy).

    ``floor(ratio·budget)`` seats each, at least one for a non-empty cluster with a
    positive ratio, capped by what the user has; seats over the budget (from those
    minimums) are taken back from the largest quotas; seats left over (a user short of some cluster) are
    handed out again in proportion to the ratios, as the paper's recursive fill does.
    """
    counts = np.asarray(counts, dtype=np.int64)
    ratios = np.asarray(ratios, dtype=np.float64)
    seats = min(int(budget), int(counts.sum()))
    quotas = np.minimum(np.floor(ratios * budget + 1e-9).astype(np.int64), counts)
    quotas = np.where((counts > 0) & (ratios > 0), np.maximum(quotas, 1), quotas)
    quotas = np.minimum(quotas, counts)
    over = int(quotas.sum()) - seats
    while over > 0:  # the one-seat minimums overflowed: take from the largest quota
        c = int(np.lexsort((-np.arange(len(counts)), ratios, -quotas))[0])
        quotas[c] -= 1
        over -= 1
    left = seats - int(quotas.sum())
    while left > 0:
        spare = counts - quotas
        eligible = spare > 0
        if not eligible.any():
            break
        weights = np.where(eligible, ratios, 0.0)
        if weights.sum() <= 0:
            weights = eligible.astype(np.float64)
        add = np.minimum(np.floor(left * weights / weights.sum()).astype(np.int64), spare)
        if add.sum() == 0:  # fewer seats than clusters: one to the highest ratio
            c = int(np.lexsort((np.arange(len(counts)), -weights))[0])
            add[c] = 1
        quotas += add
        left -= int(add.sum())
    return quotas


def take_by_quota(labels: np.ndarray, quotas: np.ndarray) -> np.ndarray:
    """The most recent ``quotas[c]`` positions of each cluster ``c``, newest first overall.

    ``labels`` are the clusters of the user's history items, oldest first.
    """
    n = len(labels)
    newest_first = np.arange(n - 1, -1, -1)
    lab = labels[newest_first]
    # rank of each position within its cluster, counted from the newest
    order = np.argsort(lab, kind="stable")
    sorted_lab = lab[order]
    starts = np.searchsorted(sorted_lab, sorted_lab, side="left")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - starts
    keep = rank < quotas[lab]
    return newest_first[keep]


def attention_importance(history_emb: np.ndarray, candidate_emb: np.ndarray) -> np.ndarray:
    """How much attention the candidates pay to each history item, ``[n_history]``.

    Scaled dot-product attention with the candidates as queries and the history items
    as keys; a history item's importance is its attention weight averaged over the
    candidates.
    """
    h = np.asarray(history_emb, dtype=np.float64)
    c = np.asarray(candidate_emb, dtype=np.float64)
    if len(h) == 0 or len(c) == 0:
        return np.zeros(len(h))
    logits = c @ h.T / np.sqrt(h.shape[1])
    logits -= logits.max(axis=1, keepdims=True)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights.mean(axis=0)


def select_attention(importance: np.ndarray, budget: int) -> np.ndarray:
    """Top-``budget`` positions by importance (ties: more recent first)."""
    n = len(importance)
    order = np.lexsort((-np.arange(n), -np.asarray(importance)))
    return order[: min(budget, n)].astype(np.int64)


def select_history(
    strategy: str,
    items: np.ndarray,
    budget: int,
    *,
    labels: np.ndarray | None = None,
    n_clusters: int = 0,
    ratios: np.ndarray | None = None,
    item_embeddings: np.ndarray | None = None,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """Positions into one user's history ``items`` (oldest first), priority order.

    ``labels`` is the item → cluster map (preference, diversity); ``ratios`` the
    per-cluster budget ratios (diversity); ``item_embeddings`` the base model's item
    embeddings and ``candidates`` the user's candidate items (attention).
    """
    items = np.asarray(items, dtype=np.int64)
    n = len(items)
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown retrieval strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if budget <= 0 or n == 0 or strategy == "none":
        return np.zeros(0, dtype=np.int64)
    if strategy == "recent" or (n <= budget and strategy != "attention"):
        return select_recent(n, budget)
    if strategy in ("preference", "diversity"):
        lab = labels[items]
        counts = np.bincount(lab, minlength=n_clusters)
        if strategy == "preference":
            quotas = preference_quotas(counts, budget)
        else:
            quotas = ratio_quotas(counts, ratios, budget)
        return take_by_quota(lab, quotas)
    if strategy == "attention":
        importance = attention_importance(item_embeddings[items], item_embeddings[np.asarray(candidates, np.int64)])
        return select_attention(importance, budget)
    raise AssertionError(strategy)
