"""RecEraser's user partition: balanced k-means on base embeddings (the paper's UBP), or random.

The paper's UBP assigns (user, anchor) pairs greedily in order of distance; here each
round lets every unassigned user propose to its nearest non-full shard and each shard
accept its closest proposers up to capacity — a vectorised variant of that rule (at most
K rounds; assignments can differ from the pair-by-pair greedy where capacities bind).
Shards are balanced in users, not in interactions: k-means puts heavy users together
(2.4k to 12.6k training rows per shard on ML-100K).

The base model's embeddings were trained with the rows that will later be forgotten, so
a k-means partition still depends on them after unlearning (which users share a shard):
the run says so, and ``partition=random`` deals users by a seed alone.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from core.methods.common.shards import random_user_shards
from core.methods.registry import UnlearnContext
from core.models.base import EmbeddingModel

DEPENDENCE_NOTE = (
    "partition fitted on the base model's user embeddings, which were trained with the "
    "forgotten rows: which users share a shard still depends on them (partition=random "
    "does not)"
)


def capacity_assign(dist: np.ndarray, capacity: int) -> np.ndarray:
    """Shard per row of ``dist`` ``[n, K]``, nearest first, no shard above ``capacity``."""
    n, k = dist.shape
    if capacity * k < n:
        raise ValueError(f"{k} shards of {capacity} cannot hold {n} users")
    labels = np.full(n, -1, dtype=np.int64)
    remaining = np.full(k, capacity, dtype=np.int64)
    while (labels < 0).any():
        free = np.flatnonzero(labels < 0)
        d = np.where(remaining[None, :] > 0, dist[free], np.inf)
        choice = d.argmin(1)
        closeness = d[np.arange(len(free)), choice]
        order = np.lexsort((closeness, choice))
        sorted_choice = choice[order]
        starts = np.searchsorted(sorted_choice, np.arange(k))
        rank = np.arange(len(order)) - starts[sorted_choice]
        accepted = order[rank < remaining[sorted_choice]]
        labels[free[accepted]] = choice[accepted]
        remaining -= np.bincount(choice[accepted], minlength=k)
    return labels


def balanced_partition(embeddings: np.ndarray, n_shards: int, iterations: int, seed: int) -> np.ndarray:
    """Balanced k-means labels for the rows of ``embeddings`` (shard sizes ≤ ⌈n/K⌉)."""
    emb = np.asarray(embeddings, dtype=np.float64)
    n = len(emb)
    capacity = math.ceil(n / n_shards)
    rng = np.random.default_rng([int(seed), 0x52455241])
    anchors = emb[rng.choice(n, size=n_shards, replace=False)]
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(max(1, iterations)):
        dist = (emb**2).sum(1, keepdims=True) - 2 * emb @ anchors.T + (anchors**2).sum(1)[None, :]
        labels = capacity_assign(dist, capacity)
        sums = np.zeros_like(anchors)
        np.add.at(sums, labels, emb)
        sizes = np.bincount(labels, minlength=n_shards)
        anchors = np.where(sizes[:, None] > 0, sums / np.maximum(sizes, 1)[:, None], anchors)
    return labels


def user_partition(ctx: UnlearnContext, params: dict) -> tuple[np.ndarray, str]:
    """(shard of each user, how it was made): balanced k-means on the base model's user
    embeddings, or a seeded random deal (asked for, or the base model has no embeddings)."""
    ds = ctx.dataset
    train_users = np.unique(ds.users[ctx.split.train])
    k = params["n_shards"]
    base = ctx.base_model
    if params["partition"] == "random" or not isinstance(base, EmbeddingModel):
        why = (
            "random (data-independent)" if params["partition"] == "random" else "random (base model has no embeddings)"
        )
        return random_user_shards(train_users, ds.n_users, k, ctx.seed), why
    with torch.no_grad():
        user_emb = base.embeddings()[0][torch.as_tensor(train_users, device=base.device)].float().cpu().numpy()
    labels = balanced_partition(user_emb, k, params["partition_iters"], ctx.seed)
    out = np.full(ds.n_users, -1, dtype=np.int64)
    out[train_users] = labels
    return out, "balanced k-means on base user embeddings; " + DEPENDENCE_NOTE
